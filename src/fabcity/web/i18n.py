"""Languages of the web pages: Korean by default, English on every page, from gettext catalogs.

Page text is written in English in the templates and translated through web/locale/<lang>/
LC_MESSAGES/messages.po (Babel's format; see below for new strings).
The .po files are compiled in memory at start-up, so no binary catalog is kept in the repository.
New strings: `pybabel extract -F babel.cfg -k say:2 -k mark -o /tmp/messages.pot .` then
`pybabel update -i /tmp/messages.pot -d src/fabcity/web/locale`, and translate; a test fails
while any page string lacks a Korean translation.
Names from the data (node types, processes, districts) carry their own ko/en labels.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

from fabcity.clock import KST

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
LANGUAGE_COOKIE = "lang"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of a language (English is the source text itself)."""
    if language == "en":
        return NullTranslations()
    po = Path(__file__).with_name("locale") / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def mark(message: str) -> str:
    """Mark text for the catalog where it is defined; it is translated where it is shown."""
    return message


def language_of(request: Request) -> str:
    """?lang= (the switch on every page) first, then the cookie it sets, then Korean."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def label(value: Any, language: str) -> str:
    """A {ko, en} pair, a (ko, en) tuple or an object with label_ko/label_en, in the page's language."""
    if value is None:
        return ""
    if isinstance(value, dict):
        ko, en = value.get("ko"), value.get("en")
    elif isinstance(value, tuple):
        ko, en = value
    else:
        ko, en = value.label_ko, value.label_en
    return (ko or en or "") if language == "ko" else (en or ko or "")


def kst(value: datetime | str | None, with_time: bool = True) -> str:
    """A stored UTC instant shown in Seoul time (KST)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    local = value.astimezone(KST)
    return local.strftime("%Y-%m-%d %H:%M KST") if with_time else local.strftime("%Y-%m-%d")
