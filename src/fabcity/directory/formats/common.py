"""What every format shares: where a record sits in its file, and the whole-file rejection."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Stated:
    """A place a record names in a field of its own format (a country, a city), to check its point against."""

    field: str
    value: str


@dataclass(frozen=True)
class Located:
    """A raw record and where it sits in its file, for error messages."""

    where: str
    record: dict[str, Any]
    country: Stated | None = None
    city: Stated | None = None


def stated(field: str, value: Any) -> Stated | None:
    return Stated(field, value.strip()) if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class FileProblem:
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}" if self.field else f"{self.where}: {self.message}"


class ImportRejected(Exception):
    """The file is refused whole; nothing was written."""

    def __init__(self, path: Path | str, problems: list[FileProblem]) -> None:
        self.path = str(path)
        self.problems = problems
        shown = "\n".join(f"  {self.path}: {problem}" for problem in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{self.path}: rejected, nothing imported ({len(problems)} problem(s)):\n{shown}{more}")


def read_text(path: Path, delimiter: str | None = None, encoding: str | None = None) -> str:
    """UTF-8 with or without BOM, or the encoding given; a byte it cannot read is named with its line
    (and its column, in a table with that delimiter) and what to do about it."""
    data = path.read_bytes()
    codec = _codec(path, encoding)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, error.start) + 1
        column = f", column {data[start : error.start].count(delimiter.encode()) + 1}" if delimiter else ""
        named = "UTF-8" if codec == "utf-8-sig" else encoding
        message = f"not valid {named} at byte {error.start} ({_encoding_hint(data, encoding)})"
        raise ImportRejected(path, [FileProblem(f"line {line}{column}", "", message)]) from None
    if not text.strip():
        raise ImportRejected(path, [FileProblem("file", "", "the file is empty")])
    return text


def _codec(path: Path, encoding: str | None) -> str:
    """The codec to decode with: UTF-8 (a BOM skipped) unless the caller names a known encoding."""
    if encoding is None:
        return "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportRejected(path, [FileProblem("file", "encoding", f"unknown encoding {encoding[:40]!r}")]) from None
    return "utf-8-sig" if name == "utf-8" else name


def _encoding_hint(data: bytes, encoding: str | None) -> str:
    if encoding is not None:
        return "is it in another encoding? pass that one with --encoding"
    try:
        data.decode("cp949")
    except UnicodeDecodeError:
        return "if the file is in another encoding, pass it with --encoding, e.g. --encoding latin-1"
    return "it looks like CP949/EUC-KR: pass --encoding cp949, or save it as UTF-8"


def parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRejected(
            path, [FileProblem(f"line {error.lineno}, column {error.colno}", "", f"malformed JSON: {error.msg}")]
        ) from None


def array_lines(text: str) -> list[int]:
    """Line numbers where each element of a top-level JSON array starts."""
    decoder = json.JSONDecoder()
    lines = []
    position = text.index("[") + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return lines
        lines.append(text.count("\n", 0, position) + 1)
        _, position = decoder.raw_decode(text, position)


def fablabs_slug(url: str | None) -> str | None:
    """The lab slug in a https://www.fablabs.io/labs/<slug> address."""
    if url and "fablabs.io/labs/" in url:
        return url.rstrip("/").rsplit("/", 1)[-1] or None
    return None
