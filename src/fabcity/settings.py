"""Every setting fabcity reads from the environment, declared once and read in one place.

A process builds one `Settings` at start-up (the web app keeps it on `app.state.settings`); no
other module reads a `FABCITY_*` variable. The README lists each variable; a test keeps it so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
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
TRUSTED_PROXIES = Variable(
    "FABCITY_TRUSTED_PROXIES",
    "addresses or networks of the reverse proxies whose X-Forwarded-For is believed, comma-separated, "
    "e.g. 10.0.0.5,192.168.1.0/24; default: none (the peer's address is the client's)",
)
MAX_BODY = Variable(
    "FABCITY_MAX_BODY_BYTES",
    "the largest request body accepted, in bytes; a larger one is answered 413 before it is read; default: 1048576",
)
PUBLIC_URL = Variable(
    "FABCITY_PUBLIC_URL",
    "the address people reach the site at, used in links sent by e-mail (password resets); "
    "default: http://127.0.0.1:8000",
)
SMTP_HOST = Variable(
    "FABCITY_SMTP_HOST", "the mail server that sends notifications; default: none (messages wait in the outbox)"
)
SMTP_PORT = Variable("FABCITY_SMTP_PORT", "the mail server's port; default: 587")
SMTP_FROM = Variable("FABCITY_SMTP_FROM", "the sender of notifications; default: noreply@localhost")
SMTP_USER = Variable("FABCITY_SMTP_USER", "the user to sign in to the mail server as; default: none (no sign-in)")
SMTP_PASSWORD = Variable("FABCITY_SMTP_PASSWORD", "the password of FABCITY_SMTP_USER")
SMTP_STARTTLS = Variable(
    "FABCITY_SMTP_STARTTLS", "1 to encrypt the connection to the mail server with STARTTLS; default: 0"
)
PRIVACY_CONTACT = Variable(
    "FABCITY_PRIVACY_CONTACT",
    "the e-mail of the person responsible for personal data, shown on /privacy; default: none",
)
VARIABLES = (
    DATABASE,
    TILE_URL,
    TRUSTED_PROXIES,
    MAX_BODY,
    PUBLIC_URL,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_FROM,
    SMTP_USER,
    SMTP_PASSWORD,
    SMTP_STARTTLS,
    PRIVACY_CONTACT,
)
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # a node record or a need is a few KB; an open call of 20,000 needs fits too


DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Smtp:
    """Where notifications are sent from; without a host they stay readable in the outbox."""

    host: str = ""
    port: int = 587
    sender: str = "noreply@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False


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
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    """Only a request from one of these may say, in X-Forwarded-For, whom it forwards: anyone else could
    claim a new address on every try and escape the sign-in limits."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """No request body is read past this: an anonymous client cannot make a worker hold 200 MB."""
    public_url: str = DEFAULT_PUBLIC_URL
    """Links in e-mails name this address, never the Host a request claims (a reset link could point elsewhere)."""
    smtp: Smtp = Smtp()
    privacy_contact: str = ""
    """Named on the privacy notice, as the Personal Information Protection Act asks."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            database=environ.get(DATABASE.name) or str(default_database_path()),
            tile_url=environ.get(TILE_URL.name, ""),
            trusted_proxies=networks(environ.get(TRUSTED_PROXIES.name, "")),
            max_body_bytes=_byte_count(MAX_BODY, environ.get(MAX_BODY.name) or str(DEFAULT_MAX_BODY_BYTES)),
            public_url=(environ.get(PUBLIC_URL.name) or DEFAULT_PUBLIC_URL).rstrip("/"),
            privacy_contact=environ.get(PRIVACY_CONTACT.name, "").strip(),
            smtp=Smtp(
                host=environ.get(SMTP_HOST.name, ""),
                port=_whole_number(SMTP_PORT, environ.get(SMTP_PORT.name) or "587", "a port"),
                sender=environ.get(SMTP_FROM.name) or Smtp.sender,
                user=environ.get(SMTP_USER.name, ""),
                password=environ.get(SMTP_PASSWORD.name, ""),
                starttls=environ.get(SMTP_STARTTLS.name, "0").strip() in ("1", "true", "yes"),
            ),
        )


def networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or networks (CIDR); a wrong one stops the start with its name."""
    found = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            found.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{TRUSTED_PROXIES.name}: {item!r} is not an address or a network") from None
    return tuple(found)


def _byte_count(variable: Variable, value: str) -> int:
    """A whole number of bytes, at least 1; anything else stops the start, naming the variable."""
    return _whole_number(variable, value, "a number of bytes")


def _whole_number(variable: Variable, value: str, what: str) -> int:
    """A whole number, at least 1; anything else stops the start, naming the variable and what it counts."""
    try:
        count = int(value.strip())
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{variable.name}: {value[:50]!r} is not {what} (a whole number, at least 1)")
    return count
