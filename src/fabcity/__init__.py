"""fabcity — the Fab City Seoul platform: a city of production, mapped, matched and measured."""

__version__ = "0.1.0"
