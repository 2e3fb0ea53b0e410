"""The `fabcity` command: `main.py` gathers every capability's commands; `options.py` holds what they share."""
