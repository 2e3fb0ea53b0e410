"""What every format shares: where a record sits in its file, and the whole-file rejection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Located:
    """A raw record and where it sits in its file, for error messages."""

    where: str
    record: dict[str, Any]


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


def read_text(path: Path, delimiter: str | None = None) -> str:
    """UTF-8 with or without BOM; anything else is named as the encoding problem it is (with the
    cell's column when the file is a table with that delimiter)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, error.start) + 1
        column = f", column {data[start : error.start].count(delimiter.encode()) + 1}" if delimiter else ""
        hint = ""
        try:
            data.decode("cp949")
            hint = " (it looks like CP949/EUC-KR: save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        raise ImportRejected(
            path, [FileProblem(f"line {line}{column}", "", f"not valid UTF-8 at byte {error.start}{hint}")]
        ) from None
    if not text.strip():
        raise ImportRejected(path, [FileProblem("file", "", "the file is empty")])
    return text


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
