"""Text normalisation and the bigram tokens that let Korean queries match inside compound words."""

from __future__ import annotations

import re
import unicodedata

# whitespace and control characters (C0 and C1): a NUL is not text, and PostgreSQL refuses it
_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
# what no one writes in a name or a description: control characters other than tab and line
# breaks (C0, DEL, C1) and lone surrogates (not Unicode text, so not storable as UTF-8)
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_NOT_TEXT = re.compile(f"[{_CONTROL}\ud800-\udfff]")
TEXT_PATTERN = f"^[^{_CONTROL}]*$"
"""What text is, as a JSON schema (ECMA-262) pattern says it: no control characters (a lone
surrogate cannot be written in a JSON document's text at all)."""


def normalize(value: str | None) -> str:
    """NFKC, lower case, single spaces: the form both stored text and queries are compared in."""
    if not value:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def not_text(value: str) -> str | None:
    """The first character of value that is not text, said as U+XXXX, or None.

    Stored text refuses them: PostgreSQL rejects a NUL outright, SQLite would keep it, and an
    export or a page would carry it on.
    """
    found = _NOT_TEXT.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def query_terms(query: str | None) -> list[str]:
    """Whitespace-separated terms of a free-text query, each to be found somewhere in a node's text."""
    seen: dict[str, None] = {}
    for term in normalize(query).split(" "):
        if term:
            seen.setdefault(term, None)
    return list(seen)


def gram_tokens(value: str) -> list[str]:
    """Distinct bigram tokens of normalised text (sorted), skipping pairs that span a space."""
    pairs = {value[i : i + 2] for i in range(len(value) - 1)}
    return sorted("g%x" % ((ord(pair[0]) << 21) | ord(pair[1])) for pair in pairs if " " not in pair)
