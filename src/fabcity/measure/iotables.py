"""Input–output tables the city imports (Bank of Korea 산업연관표, national or regional, exported from
ECOS or KOSIS as CSV or XLSX) and their output multipliers: national, and regionalised for a gu or
dong with location quotients from the business census (measure.io does the arithmetic).

The layout: the first row is a header, the first column names the sectors; the square block of
intermediate transactions has the same sectors as its columns, in the same order; then columns
for final demand (최종수요계) and total output (총산출액 or 총투입계), optionally imports (수입계,
positive or written as a deduction) and the KSIC sections of each sector (or a separate mapping
file). Other columns (중간수요계, the parts of final demand) and the rows below the block (value
added, 총투입계) are read past. Final demand may be negative (inventories drawn down); flows and
output may not. Each sector must satisfy output = row sum + final demand − imports within the
rounding of a published table, and A = Z·diag(x)⁻¹ must be invertible (every column sum below 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import Engine, insert, select, update

from fabcity.directory.formats.common import FileProblem, ImportRejected
from fabcity.geo.districts import District
from fabcity.measure import io
from fabcity.measure.census_import import normalised
from fabcity.measure.districts import KSIC_SECTIONS, CensusTable
from fabcity.measure.fci import fab_city_index
from fabcity.measure.sheets import Row, Table, number, read_table
from fabcity.storage.schema import io_table

Quotient = Literal["slq", "cilq", "flq", "aflq"]
QUOTIENTS: tuple[Quotient, ...] = ("slq", "cilq", "flq", "aflq")
BOK_SOURCE = "Bank of Korea input–output tables (한국은행 산업연관표), ECOS/KOSIS"
BOK_TERMS = "Bank of Korea terms (한국은행 저작권 및 이용 약관)"
DEFAULT_UNIT = "백만원 (million KRW)"
TOLERANCE = 1e-3  # relative; at least half a unit per cell summed, as each published cell is rounded
FINAL_DEMAND = {"최종수요계", "최종수요", "최종수요합계", "finaldemand", "totalfinaldemand"}
OUTPUT = {
    "총산출액",
    "총산출",
    "총투입계",
    "산출액",
    "output",
    "totaloutput",
    "grossoutput",
    "totalinput",
    "totalinputs",
}
IMPORTS = {"수입계", "수입", "수입합계", "imports", "totalimports"}
KSIC = {"ksic", "ksic대분류", "ksicsection", "ksicsections", "산업대분류", "표준산업분류"}
AFTER_BLOCK = FINAL_DEMAND | OUTPUT | IMPORTS | KSIC | {
    "중간수요계", "intermediatedemand", "totalintermediatedemand", "intermediateuse", "총수요계", "totaldemand",
    "소비지출", "민간소비지출", "정부소비지출", "총고정자본형성", "재고증감", "수출", "consumption",
    "householdconsumption", "governmentconsumption", "investment", "grossfixedcapitalformation",
    "changesininventories", "exports",
}  # fmt: skip
BELOW_BLOCK = ("투입계", "부가가치", "피용자보수", "영업잉여", "고정자본소모", "생산세", "생산물세", "보조금",
               "input", "valueadded", "compensation", "surplus", "fixedcapital", "tax", "subsid")  # fmt: skip


METHOD = {
    "multipliers": "output multipliers m_j = Σ_i L_ij, L = (I − A)⁻¹, A = Z·diag(x)⁻¹ (Miller & Blair)",
    "regionalisation": "a^r_ij = a_ij · min(1, LQ_ij), LQ from workers by KSIC section of the place and of the "
    "reference; each section's workers shared among the table's sectors mapped to it in proportion to their output",
    "rpc": "Σ_j a^r_ij / Σ_j a_ij: the share of the table's purchases of sector i the place supplies itself; "
    "location quotients assume no cross-hauling, so they overstate it",
    "self_supply_index": "Fab City Index (self-supply) = 100 · Σ w_i · RPC_i / Σ w_i, w = the table's final demand "
    "by sector (a negative one counts 0): an upper bound, as the RPCs are",
}


@dataclass(frozen=True)
class IOReport:
    id: int
    created: bool
    sectors: int


@dataclass(frozen=True)
class _Columns:
    sectors: list[str]
    final_demand: int
    output: int
    imports: int | None
    ksic: int | None


def _header(table: Table) -> _Columns:
    header = table.rows[0]
    labels = [header.text(i) for i in range(len(header.cells))]
    keys = [normalised(label) for label in labels]
    end = next((i for i in range(1, len(keys)) if keys[i] in AFTER_BLOCK or not keys[i]), len(keys))

    def find(names: set[str]) -> int | None:
        return next((i for i in range(end, len(keys)) if keys[i] in names), None)

    problems = []
    if end == 1:
        problems.append(FileProblem(header.where, "", "no sector columns after the first column"))
    final_demand, output = find(FINAL_DEMAND), find(OUTPUT)
    if final_demand is None:
        problems.append(FileProblem(header.where, "", "no final demand column (최종수요계 / final demand)"))
    if output is None:
        problems.append(FileProblem(header.where, "", "no total output column (총산출액, 총투입계 / total output)"))
    if problems:
        table.reject(problems)
    return _Columns(labels[1:end], final_demand, output, find(IMPORTS), find(KSIC))  # type: ignore[arg-type]


def _sections(text: str) -> list[str] | None:
    """'C', 'C;D', 'G, H' → letters; None when a part is not a KSIC section."""
    parts = [part.upper() for part in re.split(r"[;,/\s]+", text.strip()) if part]
    return parts if parts and all(part in KSIC_SECTIONS for part in parts) else None


def _mapping_cell(table: Table, row: Row, column: int, problems: list[FileProblem]) -> list[str]:
    found = _sections(row.text(column))
    if found is None:
        problems.append(
            FileProblem(row.where, table.column(column, "KSIC"), f"{row.text(column)!r} is not a KSIC section (A–S)")
        )
    return found or []


def _mapping_file(path: Path, sectors: list[str]) -> list[list[str]]:
    """A separate mapping: the sector in the first column, its KSIC sections in a KSIC column (or the second)."""
    table = read_table(path)
    keys = [normalised(table.rows[0].text(i)) for i in range(len(table.rows[0].cells))]
    column = next((i for i, key in enumerate(keys) if key in KSIC), 1)
    position = {normalised(sector): k for k, sector in enumerate(sectors)}
    found: dict[int, list[str]] = {}
    problems: list[FileProblem] = []
    for row in table.rows[1:]:
        k = position.get(normalised(row.text(0)))
        if k is None:
            problems.append(FileProblem(row.where, table.column(0), f"{row.text(0)!r} is not a sector of the table"))
            continue
        found[k] = _mapping_cell(table, row, column, problems)
    problems += [
        FileProblem("file", "", f"no KSIC section for {sectors[k]!r}") for k in range(len(sectors)) if k not in found
    ]
    if problems:
        table.reject(problems)
    return [found[k] for k in range(len(sectors))]


def _has_figures(row: Row, n: int) -> bool:
    """Whether a row below the block has numbers in its columns (a footnote has none)."""
    for column in (column for column in range(1, n + 1) if row.text(column)):
        try:
            number(row.cell(column))
        except ValueError:
            continue
        return True
    return False


@dataclass(frozen=True)
class ParsedTable:
    sectors: list[str]
    ksic: list[list[str]] | None
    flows: np.ndarray
    final_demand: np.ndarray
    output: np.ndarray
    imports: np.ndarray | None


def read_io_table(path: Path, sheet: str | None = None, mapping: Path | None = None) -> ParsedTable:
    """The whole table checked, or rejected with every problem named by row and column.

    Checked in stages, each only once the one before found nothing (a sum over cells that are not
    numbers, or over rows in the wrong order, would name false problems): the shape of the block,
    every cell, each sector's balance, and last whether the table can be inverted.
    """
    table = read_table(path, sheet)
    columns = _header(table)
    rows = table.rows[1 : 1 + len(columns.sectors)]
    problems = _shape_problems(table, columns.sectors, rows)
    if problems:
        table.reject(problems)
    parsed, problems = _read_block(table, columns, rows, with_ksic=mapping is None)
    if not problems:
        problems = _balance_problems(table, columns, rows, parsed)
    if not problems:
        problems = _singular_problems(table, parsed)
    if problems:
        table.reject(problems)
    if mapping is None:
        return parsed
    return replace(parsed, ksic=_mapping_file(mapping, parsed.sectors))


def _shape_problems(table: Table, sectors: list[str], rows: list[Row]) -> list[FileProblem]:
    """What keeps the block from being square: a row for each sector column, in the same order, and
    below it no row of figures that is not a known total (value added, total input)."""
    n = len(sectors)
    problems: list[FileProblem] = []
    if len(rows) < n:
        problems.append(FileProblem("file", "", f"not square: {n} sector columns but {len(rows)} rows below them"))
    for k, row in enumerate(rows):
        if normalised(row.text(0)) != normalised(sectors[k]):
            problems.append(
                FileProblem(
                    row.where, table.column(0),
                    f"{row.text(0)!r} is not {sectors[k]!r}, the header's sector {k + 1}: "
                    "the block must list the same sectors in the same order down and across",
                )
            )  # fmt: skip
    for row in table.rows[1 + n :]:
        label = normalised(row.text(0))
        if _has_figures(row, n) and not any(stem in label for stem in BELOW_BLOCK):
            problems.append(
                FileProblem(row.where, table.column(0), f"{row.text(0)!r} is a row without a column: not square")
            )
    return problems


def _read_block(
    table: Table, columns: _Columns, rows: list[Row], with_ksic: bool
) -> tuple[ParsedTable, list[FileProblem]]:
    """Every sector's figures (and KSIC sections, unless a mapping file gives them), with each cell
    that is not a number, or is negative where it may not be, named."""
    sectors, n = columns.sectors, len(columns.sectors)
    problems: list[FileProblem] = []
    flows = np.zeros((n, n))
    final_demand, output, imports = np.zeros(n), np.zeros(n), np.zeros(n)
    ksic: list[list[str]] = []

    def cell(row: Row, column: int, label: str, negative: bool = False) -> float:
        try:
            value = number(row.cell(column), blank=0.0)
        except ValueError as error:
            problems.append(FileProblem(row.where, table.column(column, label), str(error)))
            return 0.0
        if value < 0 and not negative:
            problems.append(FileProblem(row.where, table.column(column, label), f"{value:g} is negative"))
        return value

    for i, row in enumerate(rows):
        flows[i] = [cell(row, j + 1, sectors[j]) for j in range(n)]
        final_demand[i] = cell(row, columns.final_demand, "final demand", negative=True)
        output[i] = cell(row, columns.output, "total output")
        if columns.imports is not None:
            imports[i] = abs(cell(row, columns.imports, "imports", negative=True))
        if columns.ksic is not None and with_ksic:
            ksic.append(_mapping_cell(table, row, columns.ksic, problems))
    parsed = ParsedTable(
        sectors, ksic or None, flows, final_demand, output, imports if columns.imports is not None else None
    )
    return parsed, problems


def _balance_problems(table: Table, columns: _Columns, rows: list[Row], parsed: ParsedTable) -> list[FileProblem]:
    """The sectors whose output is not their row sum plus final demand (minus imports), beyond the
    rounding of a published table."""
    imports = 0.0 if parsed.imports is None else parsed.imports
    expected = parsed.flows.sum(axis=1) + parsed.final_demand - imports
    slack = np.maximum(TOLERANCE * np.abs(parsed.output), (len(parsed.sectors) + 2) / 2)
    return [
        FileProblem(
            rows[i].where, table.column(columns.output, "total output"),
            f"{parsed.output[i]:g} is not the row sum plus final demand{' minus imports' if columns.imports else ''} "
            f"({expected[i]:g})",
        )
        for i in np.flatnonzero(np.abs(parsed.output - expected) > slack)
    ]  # fmt: skip


def _singular_problems(table: Table, parsed: ParsedTable) -> list[FileProblem]:
    """The first sector buying at least as much as it makes (its column of A sums to 1 or more): no inverse."""
    try:
        io.leontief_inverse(io.technical_coefficients(parsed.flows, parsed.output))
    except io.MeasureError as error:
        sums = io.technical_coefficients(parsed.flows, parsed.output).sum(axis=0)
        worst = int(np.argmax(sums >= 1))
        return [FileProblem("file", table.column(worst + 1, parsed.sectors[worst]), str(error))]
    return []


def import_io_table(
    engine: Engine,
    path: Path,
    year: int,
    title: str,
    unit: str = DEFAULT_UNIT,
    source: str = BOK_SOURCE,
    license_: str = BOK_TERMS,
    sheet: str | None = None,
    mapping: Path | None = None,
) -> IOReport:
    """Store the checked table; importing the same title and year again replaces it in place."""
    path = Path(path)
    if not title.strip() or len(title) > io_table.c.title.type.length:
        raise ImportRejected(path, [FileProblem("--title", "", f"give 1 to {io_table.c.title.type.length} characters")])
    parsed = read_io_table(path, sheet, mapping)
    values = {
        "title": title.strip(), "year": year, "unit": unit, "sectors": parsed.sectors, "ksic": parsed.ksic,
        "flows": parsed.flows.tolist(), "final_demand": parsed.final_demand.tolist(),
        "output": parsed.output.tolist(),
        "imports": None if parsed.imports is None else parsed.imports.tolist(),
        "source": source, "license": license_, "file_name": path.name, "imported_at": datetime.now(UTC),
    }  # fmt: skip
    with engine.begin() as conn:
        same = (io_table.c.title == values["title"]) & (io_table.c.year == year)
        known = conn.execute(select(io_table.c.id).where(same)).scalar()
        if known is not None:
            conn.execute(update(io_table).where(io_table.c.id == known).values(**values))
            return IOReport(known, False, len(parsed.sectors))
        created = conn.execute(insert(io_table).values(**values)).inserted_primary_key[0]
    return IOReport(created, True, len(parsed.sectors))


@dataclass(frozen=True)
class StoredTable:
    row: dict[str, Any]

    @property
    def sectors(self) -> list[str]:
        return self.row["sectors"]

    @property
    def output(self) -> np.ndarray:
        return np.asarray(self.row["output"], dtype=float)

    def summary(self) -> dict[str, Any]:
        keys = ("id", "title", "year", "unit", "source", "license", "file_name")
        imported = self.row["imported_at"]
        imported = imported if imported.tzinfo else imported.replace(tzinfo=UTC)  # SQLite drops the zone (UTC)
        return {**{key: self.row[key] for key in keys}, "sectors": len(self.sectors),
                "mapped_to_ksic": self.row["ksic"] is not None, "has_imports": self.row["imports"] is not None,
                "imported_at": imported.isoformat()}  # fmt: skip

    def coefficients(self) -> np.ndarray:
        return io.technical_coefficients(self.row["flows"], self.output)

    def multipliers(self) -> np.ndarray:
        return io.output_multipliers(io.leontief_inverse(self.coefficients()))

    def sector_workers(self, workers: dict[str, float]) -> np.ndarray:
        """Workers by the table's sectors: each KSIC section's workers shared among the sectors it
        maps to in proportion to their output, so no worker is counted twice."""
        mapping, output = self.row["ksic"], self.output
        found = np.zeros(len(self.sectors))
        for section, count in workers.items():
            members = [i for i, sections in enumerate(mapping) if section in sections]
            total = output[members].sum()
            for i in members:
                found[i] += count * (output[i] / total if total > 0 else 1 / len(members))
        return found

    def answer(
        self,
        census: CensusTable | None = None,
        place: District | None = None,
        quotient: Quotient = "flq",
        delta: float = 0.3,
    ) -> dict[str, Any]:
        """The table's national output multipliers; with a place, regionalised for it from the census."""
        national = self.multipliers()
        mapping = self.row["ksic"] or [None] * len(self.sectors)
        results = [
            {"sector": sector, "ksic": mapping[k], "output": float(self.output[k]),
             "national_multiplier": round(float(national[k]), 6)}
            for k, sector in enumerate(self.sectors)
        ]  # fmt: skip
        answer: dict[str, Any] = {"table": self.summary(), "method": {"multipliers": METHOD["multipliers"]}}
        if census is None or place is None:
            return {**answer, "results": results}
        own = census.values.get(place.code, {})
        regional = {s: own.get(f"workers_ksic_{s}") for s in KSIC_SECTIONS}
        if any(value is None for value in regional.values()):
            raise io.MeasureError(f"{place.name_ko} has no figures in the {census.workers_period} business census")
        reference = {s: census.seoul[f"workers_ksic_{s}"] for s in KSIC_SECTIONS}
        found = self.regional(regional, reference, quotient, delta)  # type: ignore[arg-type]
        for k, row in enumerate(results):
            rpc = found["rpc"][k]
            row["regional_multiplier"] = round(float(found["multipliers"][k]), 6)
            row["rpc"] = None if np.isnan(rpc) else round(float(rpc), 6)
            row["workers"] = round(float(found["workers"][k]), 2)
        method = {**METHOD, "workers": census.method["workers"], "reference": census.method["reference"],
                  "sources": census.sources["workers"]}  # fmt: skip
        rpc = [None if np.isnan(value) else float(value) for value in found["rpc"]]
        weights = np.clip(np.asarray(self.row["final_demand"], dtype=float), 0.0, None)
        index = fab_city_index(self.sectors, rpc, [None if r is None else 1.0 for r in rpc], weights, "self_supply")
        return {**answer, "method": method, "place": place.public(), "quotient": quotient, "delta": delta,
                "lambda": found["lambda"], "self_supply_index": index.public(), "results": results}  # fmt: skip

    def regional(
        self, regional: dict[str, float], reference: dict[str, float], quotient: Quotient, delta: float
    ) -> dict[str, Any]:
        """Multipliers of the table regionalised with a^r = a · min(1, LQ), and the regional purchase
        coefficients Σ_j a^r_ij / Σ_j a_ij: the share of the table's purchases of i made locally."""
        if self.row["ksic"] is None:
            raise io.MeasureError("the table has no KSIC mapping: import it again with one to regionalise it")
        e_r, e_n = self.sector_workers(regional), self.sector_workers(reference)
        quotients = {
            "slq": lambda: io.slq(e_r, e_n),
            "cilq": lambda: io.cilq(e_r, e_n),
            "flq": lambda: io.flq(e_r, e_n, delta),
            "aflq": lambda: io.aflq(e_r, e_n, delta),
        }[quotient]()
        national = self.coefficients()
        local = io.regionalise(national, quotients)
        bought = national.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rpc = np.where(bought > 0, local.sum(axis=1) / np.where(bought > 0, bought, 1.0), np.nan)
        scale = io.flq_scale(e_r, e_n, delta) if quotient in ("flq", "aflq") else None
        return {
            "multipliers": io.output_multipliers(io.leontief_inverse(local)),
            "rpc": rpc,
            "workers": e_r,
            "lambda": scale,
        }


def list_tables(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(io_table).order_by(io_table.c.year.desc(), io_table.c.id)).mappings().all()
    return [StoredTable(dict(row)).summary() for row in rows]


def load_table(engine: Engine, table_id: int) -> StoredTable | None:
    with engine.connect() as conn:
        row = conn.execute(select(io_table).where(io_table.c.id == table_id)).mappings().first()
    return None if row is None else StoredTable(dict(row))
