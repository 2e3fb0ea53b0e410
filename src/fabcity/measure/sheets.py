"""Statistics tables as they are published: TSV, CSV (UTF-8, BOM optional) or an XLSX sheet.

Seoul's open data portal and the Bank of Korea's ECOS/KOSIS export the same tables in all three,
so the importers read cells from any of them and keep where each row sits (line N, or sheet S
row N), so a problem names the file, the row and the column the way the node importer does.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from fabcity.directory.formats.common import FileProblem, ImportRejected, read_text

SPREADSHEETS = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Row:
    where: str  # "line 4" or "sheet 'Data' row 4"
    cells: list[Any]  # str for text files; str, int, float or None from a sheet

    def cell(self, index: int) -> Any:
        return self.cells[index] if index < len(self.cells) else None

    def text(self, index: int) -> str:
        value = self.cell(index)
        return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Table:
    path: Path
    rows: list[Row]  # blank rows left out
    spreadsheet: bool

    def column(self, index: int, label: str = "") -> str:
        """A column as a person finds it: its letter in a sheet, its number in a text file."""
        if self.spreadsheet:
            from openpyxl.utils import get_column_letter  # loaded already: the sheet was read with it

            name = get_column_letter(index + 1)
        else:
            name = str(index + 1)
        return f"column {name}" + (f" ({label})" if label else "")

    def reject(self, problems: list[FileProblem]) -> NoReturn:
        raise ImportRejected(self.path, problems)


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Every non-blank row of the file (of `sheet`, or the first sheet, of a workbook)."""
    path = Path(path)
    if path.suffix.casefold() in SPREADSHEETS:
        return _read_sheet(path, sheet)
    if sheet:
        raise ImportRejected(path, [FileProblem("file", "", "--sheet applies to XLSX workbooks only")])
    raw = path.read_bytes()[:4096]
    delimiter = "\t" if path.suffix.casefold() == ".tsv" or b"\t" in raw.split(b"\n", 1)[0] else ","
    text = read_text(path, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    while True:
        start = reader.line_num + 1  # a quoted cell may span lines: name the line the row starts on
        cells = next(reader, None)
        if cells is None:
            break
        if any(cell.strip() for cell in cells):
            rows.append(Row(f"line {start}", [cell.strip() for cell in cells]))
    if not rows:
        raise ImportRejected(path, [FileProblem("file", "", "the file is empty")])
    return Table(path, rows, spreadsheet=False)


def _read_sheet(path: Path, sheet: str | None) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise ImportRejected(path, [FileProblem("file", "", f"not a readable XLSX workbook ({error})")]) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            names = ", ".join(workbook.sheetnames)
            raise ImportRejected(path, [FileProblem("file", "", f"no sheet {sheet!r}; the workbook has {names}")])
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        worksheet.reset_dimensions()  # some exporters record a wrong used range; read every row there is
        rows = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [value.strip() if isinstance(value, str) else value for value in values]
            if any(cell not in (None, "") for cell in cells):
                rows.append(Row(f"sheet {worksheet.title!r} row {number}", cells))
    finally:
        workbook.close()
    if not rows:
        raise ImportRejected(path, [FileProblem(f"sheet {worksheet.title!r}", "", "the sheet is empty")])
    return Table(path, rows, spreadsheet=True)


def number(cell: Any, blank: float | None = None) -> float:
    """A published figure: thousands separators allowed, '-' is 0; a blank is `blank` or an error.

    Raises ValueError with the reason, for the caller to place in its file.
    """
    if isinstance(cell, bool):
        raise ValueError(f"{cell!r} is not a number")
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = "" if cell is None else str(cell).strip()
        if text == "":
            if blank is None:
                raise ValueError("the cell is empty (write 0 or -)")
            return blank
        if text in ("-", "–"):
            return 0.0
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not a finite number")
    return value
