"""Every setting fabcity reads from the environment, declared once and read in one place.

A process builds one `Settings` at start-up (the web app keeps it on `app.state.settings`); no
other module reads a `FABCITY_*` variable. The README lists each variable; a test keeps it so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name and what it does (shown in the README)."""

    name: str
    help: str


DATABASE = Variable(
    "FABCITY_DB", "SQLite file path or database URL (postgresql://…); default: the embedded SQLite file"
)
TILE_URL = Variable(
    "FABCITY_TILE_URL", "map tile URL template, e.g. https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png; default: none"
)
VARIABLES = (DATABASE, TILE_URL)


def default_database_path() -> Path:
    """The embedded database lives in the user's data directory (XDG_DATA_HOME) unless FABCITY_DB says otherwise."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "fabcity" / "fabcity.sqlite3"


@dataclass(frozen=True)
class Settings:
    database: str
    """A SQLite path or a database URL, as given."""
    tile_url: str = ""
    """Map tiles from outside (OpenStreetMap); off when empty, so the map works offline."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            database=environ.get(DATABASE.name) or str(default_database_path()),
            tile_url=environ.get(TILE_URL.name, ""),
        )
