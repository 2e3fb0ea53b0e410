"""Measurement from the command line: the index of a place; updating the statistics and input–output tables."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from fabcity.cli.options import db_option, told_plainly
from fabcity.measure.census_import import KINDS, import_stats
from fabcity.measure.districts import KSIC_SECTIONS, CensusTable
from fabcity.measure.iotables import BOK_SOURCE, BOK_TERMS, DEFAULT_UNIT, import_io_table, list_tables
from fabcity.startup import open_platform


@click.command(name="index")
@click.argument("place", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the index as JSON.")
@db_option
def index_command(place: str | None, as_json: bool, db: str | None) -> None:
    """자치구·행정동·서울의 팹시티 역량 지수를 보여 줍니다. The Fab City capacity index of a gu, a dong or Seoul.

    \b
    역량 지수는 자급률이 아닙니다: 2054년 50% 목표는 산업연관표의 자급 지수로 잽니다.
    A capacity index is not self-sufficiency: the 50 % by 2054 pledge is measured by the self-supply
    index of an input–output table (fabcity io import; GET /api/v1/indicators/io/{id}?place=…).
    \b
    예: fabcity index 은평구
        fabcity index 문래동 --json
        fabcity index            (서울 전체 / Seoul as a whole)
    """
    platform = open_platform(db)
    with told_plainly():
        answer = CensusTable(platform).place_index(place)
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=1))
        return
    console = Console()
    name, method = answer["place"]["name"], answer["method"]
    value = "—" if answer["value"] is None else f"{answer['value']:.1f}"
    seoul = " — 25개 구의 평균 / the mean of the 25 gu" if answer["place"]["level"] == "city" else ""
    console.print(f"[bold]{name['ko']} ({name['en']})[/]: 팹시티 역량 지수 / Fab City capacity index = {value}{seoul}")
    console.print(
        "역량 지수(인구·사업체 통계로 본 생산 역량)이며 자급률이 아닙니다. 2054년까지 50% 자급 목표의 달성 여부는 "
        "이 값으로 알 수 없습니다.\nA capacity index (census proxy), not self-sufficiency: it cannot say whether "
        "the pledge of 50 % self-supply by 2054 is met."
    )
    table = Table()
    if answer["sectors"]:
        for heading in ("KSIC", "산업 / section", "비율 ratio", "점수 score", "가중치 weight"):
            table.add_column(heading)
        for sector in answer["sectors"]:
            ko, en = KSIC_SECTIONS[sector["sector"]]
            ratio = "—" if sector["raw_ratio"] is None else f"{sector['raw_ratio']:.2f}"
            score = "—" if sector["score"] is None else f"{sector['score']:.2f}"
            table.add_row(sector["sector"], f"{ko} / {en}", ratio, score, f"{sector['weight']:.3f}")
    else:
        for heading in ("자치구 / gu", "역량 지수 / capacity index"):
            table.add_column(heading)
        for gu in answer["gus"]:
            table.add_row(
                f"{gu['name']['ko']} / {gu['name']['en']}", "—" if gu["value"] is None else f"{gu['value']:.1f}"
            )
    console.print(table)
    console.print(f"출처 / sources: {method['workers']}; {method['residents']}. {method['note']}.")


@click.group(name="stats")
def stats_group() -> None:
    """통계를 갱신합니다. Update the district statistics (business census, population)."""


@stats_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), help="Told from the headers when not given.")
@click.option("--period", help="YYYY for a census, YYYY or YYYYQn for population; default: the file's 기간/시점.")
@click.option("--source-id", help="Default: seoul-business-census-YYYY or seoul-population-YYYYqn.")
@click.option("--license", "license_", help="Default for a new source: KOGL-Type-1.")
@click.option("--title", help="The source's title; default in the style of Seoul's tables.")
@click.option("--sheet", help="XLSX: the sheet to read (default: the first).")
@db_option
def stats_import(
    file: Path,
    kind: str | None,
    period: str | None,
    source_id: str | None,
    license_: str | None,
    title: str | None,
    sheet: str | None,
    db: str | None,
) -> None:
    """사업체조사·주민등록인구 파일을 가져옵니다. Import a business census or population file by gu and dong.

    TSV, CSV (UTF-8, BOM optional) or XLSX in the layout Seoul publishes. The file is checked whole
    and lands in one transaction; importing a period again replaces it. The indicators then use
    the latest period (or the one asked for).

    \b
    예: fabcity stats import 서울시_사업체현황_2021.xlsx
        fabcity stats import 서울시_등록인구_2025_2분기.csv --kind population
    """
    with told_plainly():
        report = import_stats(open_platform(db), file, kind, period, source_id, license_, title, sheet)  # type: ignore[arg-type]
    click.echo(
        f"{report.path}: {report.kind} {report.period}, {report.districts} districts, {report.values} values "
        f"({report.replaced} replaced), source {report.source_id}"
    )
    for name in report.left_out:
        click.echo(f"  left out (no such dong any more): {name}", err=True)


@click.group(name="io")
def io_group() -> None:
    """산업연관표를 관리합니다. Input–output tables (Bank of Korea 산업연관표)."""


@io_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(1900, 2200), required=True)
@click.option("--title", required=True, help="e.g. '2020 산업연관표 (기본부문 33, 국산거래표)'")
@click.option("--unit", default=DEFAULT_UNIT, show_default=True)
@click.option("--source", default=BOK_SOURCE, show_default=True)
@click.option("--license", "license_", default=BOK_TERMS, show_default=True)
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of sector → KSIC sections, when the table has no KSIC column.")  # fmt: skip
@click.option("--sheet", help="XLSX: the sheet to read (default: the first).")
@db_option
def io_import(
    file: Path,
    year: int,
    title: str,
    unit: str,
    source: str,
    license_: str,
    mapping: Path | None,
    sheet: str | None,
    db: str | None,
) -> None:
    """산업연관표를 가져옵니다. Import an input–output table exported from ECOS or KOSIS (CSV or XLSX).

    Sectors down the first column and across the header, then final demand (최종수요계) and total
    output (총산출액 / 총투입계); optionally imports (수입계) and a KSIC column (C, or C;D) for
    regionalising it by gu. Importing the same title and year again replaces the table.

    \b
    예: fabcity io import 산업연관표_2020_33부문.xlsx --year 2020 --title "2020 국산거래표 33부문"
    """
    with told_plainly():
        report = import_io_table(open_platform(db).engine, file, year, title, unit, source, license_, sheet, mapping)
    click.echo(f"{file}: table {report.id} {'created' if report.created else 'replaced'}, {report.sectors} sectors")


@io_group.command(name="list")
@db_option
def io_list(db: str | None) -> None:
    """가져온 산업연관표 목록. The imported input–output tables."""
    for table in list_tables(open_platform(db).engine):
        mapped = "KSIC mapped" if table["mapped_to_ksic"] else "no KSIC mapping"
        click.echo(
            f"{table['id']}\t{table['year']}\t{table['title']}\t{table['sectors']} sectors\t{table['unit']}\t"
            f"{mapped}\t{table['license']}"
        )


commands = (index_command, stats_group, io_group)
