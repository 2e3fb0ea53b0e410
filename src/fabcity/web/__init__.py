"""The web layer: the HTTP API and the pages, over the same services."""
