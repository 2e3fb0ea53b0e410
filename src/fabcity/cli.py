"""The `fabcity` command. Thin: each command parses its options and calls the services."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fabcity.accounts.service import ROLES, AccountError, create_user, list_users
from fabcity.directory.exporter import EXPORT_FORMATS, export
from fabcity.directory.formats.common import ImportRejected
from fabcity.directory.importer import FORMATS, import_file
from fabcity.directory.search import QueryError, SearchQuery, parse_bbox, parse_point, search
from fabcity.matching.parse import read_need
from fabcity.matching.rank import rank
from fabcity.measure.census_import import KINDS, import_stats
from fabcity.measure.districts import KSIC_SECTIONS, CensusTable
from fabcity.measure.iotables import BOK_SOURCE, BOK_TERMS, DEFAULT_UNIT, import_io_table, list_tables
from fabcity.startup import open_platform

DB_OPTION = click.option(
    "--db",
    envvar="FABCITY_DB",
    help="SQLite file path or database URL (postgresql://…). Default: the embedded SQLite file.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """fabcity — 팹시티 서울 플랫폼: 서울의 생산 노드를 찾고, 연결하고, 측정합니다.

    The Fab City Seoul platform: find Seoul's production nodes, match needs, measure progress.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="서버 프로세스 수, 코어마다 하나. Server processes: one per core serves best.",
)
@DB_OPTION
def serve(host: str, port: int, workers: int, db: str | None) -> None:
    """웹 서버를 실행합니다. Run the web server (API at /api/v1, docs at /docs).

    \b
    예: fabcity serve --port 8000
        fabcity serve --db postgresql://postgres@127.0.0.1/fabcity
    """
    from fabcity.storage.db import database_url
    from fabcity.web.server import serve as serve_web

    open_platform(db).engine.dispose()  # migrate and load the dataset once, before any worker starts
    os.environ["FABCITY_DB"] = database_url(db)
    click.echo(f"fabcity: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)", err=True)
    serve_web(host, port, workers)


@main.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help="Guessed from the file when not given.")
@click.option("--source", help="Provenance for records that do not name their source (CSV).")
@click.option("--license", "license_", help="Licence for records that do not name one (CSV), e.g. CC-BY-4.0.")
@DB_OPTION
def import_command(
    file: Path, file_format: str | None, source: str | None, license_: str | None, db: str | None
) -> None:
    """노드 파일을 가져옵니다. Import nodes: OKW JSON, fablabs.io JSON, CSV or GeoJSON.

    A file with any bad record is rejected whole and nothing is written.
    같은 출처를 다시 가져오면 외부 ID로 갱신합니다 (중복 없음).

    \b
    예: fabcity import 서울_메이커스페이스.csv --license CC-BY-4.0
        fabcity import labs.json --format fablabs
    """
    platform = open_platform(db)
    console = Console(stderr=True)
    try:
        if console.is_terminal:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=console) as progress:
                task = progress.add_task(f"importing {file.name}", total=None)
                report = import_file(
                    platform,
                    file,
                    file_format,
                    source,
                    license_,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
        else:
            report = import_file(platform, file, file_format, source, license_)
    except ImportRejected as rejected:
        click.echo(str(rejected), err=True)
        sys.exit(1)
    click.echo(f"{report.path}: {report.created} created, {report.updated} updated ({report.file_format})")


@main.command(name="export")
@click.option("--format", "file_format", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: standard output.")
@DB_OPTION
def export_command(file_format: str, output: Path | None, db: str | None) -> None:
    """모든 노드를 내보냅니다. Export every node (CSV is UTF-8 with BOM for Excel).

    \b
    예: fabcity export --format csv -o 노드.csv
        fabcity export --format geojson > nodes.geojson
    """
    platform = open_platform(db)
    if output:
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = export(platform, file_format, handle)
        click.echo(f"{output}: {count} nodes", err=True)
    else:
        export(platform, file_format, sys.stdout)


@main.command(name="search")
@click.argument("query", required=False)
@click.option("--near", help="lat,lon — e.g. 37.6189,126.9210 (연신내역)")
@click.option("--radius", type=float, help="metres around --near")
@click.option("--bbox", help="south,west,north,east")
@click.option("--gu", multiple=True, help="자치구: code or name, e.g. 은평구 or Eunpyeong-gu")
@click.option("--dong", multiple=True, help="행정동: code or name")
@click.option("--type", "types", multiple=True, help="node type, e.g. fab_lab")
@click.option("--process", multiple=True, help="process id or alias, e.g. laser_cutting or 레이저커팅")
@click.option("--material", multiple=True, help="material id or alias, e.g. 아크릴")
@click.option("--access", multiple=True)
@click.option("--status", multiple=True, default=["active"], show_default=True)
@click.option("--sort", type=click.Choice(["distance", "relevance", "name"]))
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@DB_OPTION
def search_command(
    query, near, radius, bbox, gu, dong, types, process, material, access, status, sort, limit, as_json, db
):
    """생산 노드를 검색합니다. Search production nodes.

    \b
    예: fabcity search 레이저
        fabcity search --gu 은평구 --process 레이저커팅
        fabcity search 목공 --near 37.6189,126.9210 --radius 2000
    """
    platform = open_platform(db)
    try:
        page = search(
            platform,
            SearchQuery(
                q=query,
                near=parse_point(near, "--near") if near else None,
                radius_m=radius,
                bbox=parse_bbox(bbox) if bbox else None,
                gu=list(gu),
                dong=list(dong),
                types=list(types),
                processes=list(process),
                materials=list(material),
                access=list(access),
                status=list(status),
                sort=sort,
                limit=limit,
            ),
        )
    except QueryError as error:
        raise click.BadParameter(error.message, param_hint=f"'{error.param}'") from None
    if as_json:
        click.echo(json.dumps({"results": page.results, "next_cursor": page.next_cursor}, ensure_ascii=False, indent=1))
        return
    table = Table(show_lines=False)
    for heading in ("이름 / name", "유형 type", "자치구 gu", "거리 m", "가까운 역 station"):
        table.add_column(heading)
    for result in page.results:
        gu_info = result["location"]["gu"]
        station = result["nearest_station"]
        table.add_row(
            result["name"]["ko"] or result["name"]["en"],
            result["node_type"],
            gu_info["name"]["ko"] if gu_info else "-",
            f"{result['distance_m']:.0f}" if "distance_m" in result else "",
            f"{station['name']['ko']} ({station['distance_m']} m)" if station else "",
        )
    Console().print(table)


@main.group(name="user")
def user_group() -> None:
    """계정을 관리합니다. Manage accounts (the first admin is created here)."""


@user_group.command(name="create")
@click.argument("email")
@click.option("--name", "display_name", required=True, help="표시 이름 / display name")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.password_option(help="Asked for when not given (at least 10 characters).")
@DB_OPTION
def user_create(email: str, display_name: str, role: str, password: str, db: str | None) -> None:
    """계정을 만듭니다. Create an account.

    \b
    예: fabcity user create admin@fabcity.seoul.kr --name 관리자 --role admin
    """
    try:
        user = create_user(open_platform(db), email, password, display_name, role)
    except AccountError as error:
        raise click.BadParameter(error.message, param_hint=f"'{error.field}'") from None
    click.echo(f"{user.email}: {user.role} (id {user.id})")


@user_group.command(name="list")
@DB_OPTION
def user_list(db: str | None) -> None:
    """계정 목록. List accounts with their roles."""
    with open_platform(db).engine.connect() as conn:
        for user in list_users(conn):
            click.echo(f"{user.id}\t{user.role}\t{user.email}\t{user.display_name}")


@main.command(name="match")
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the reading and the ranking as JSON.")
@DB_OPTION
def match_command(text: str, limit: int, as_json: bool, db: str | None) -> None:
    """필요한 제작을 적으면 만들 수 있는 곳을 찾습니다. Find the nodes that can make a need.

    \b
    예: fabcity match "아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지"
        fabcity match "50 PCBs and sewing near Changsin-dong" --json
    """
    platform = open_platform(db)
    reading = read_need(text, platform.districts, platform.stations)
    ranking = rank(platform, reading.need, limit)
    if as_json:
        click.echo(json.dumps({**reading.public(), **ranking.public()}, ensure_ascii=False, indent=1))
        return
    console = Console()
    for item in reading.understood:
        console.print(f"[green]✓[/] {item.text} → {item.field}: {item.value}")
    for word in reading.unread:
        console.print(f"[yellow]?[/] {word} — 이해하지 못함 / not understood")
    table = Table()
    for heading in ("이름 / name", "점수 score", "거리 m", "확인 checks"):
        table.add_column(heading)
    for found in ranking.matches:
        node = found.node
        checks = ", ".join(f"{c.requirement} {c.status}" for c in found.checks)
        distance = "" if found.distance_m is None else f"{found.distance_m:,.0f}"
        table.add_row(node["name"]["ko"] or node["name"]["en"], f"{found.score:.2f}", distance, checks)
    console.print(table)
    for first, second in ranking.combinations:
        console.print(f"함께 / together: {first.node['slug']} + {second.node['slug']}")


@main.command(name="index")
@click.argument("place")
@click.option("--json", "as_json", is_flag=True, help="Print the index as JSON.")
@DB_OPTION
def index_command(place: str, as_json: bool, db: str | None) -> None:
    """자치구·행정동의 팹시티 지수를 보여 줍니다. The Fab City Index of a gu or dong, by KSIC section.

    \b
    예: fabcity index 은평구
        fabcity index 문래동 --json
    """
    platform = open_platform(db)
    found = platform.districts.resolve(place)
    if len(found) != 1:
        raise click.BadParameter(
            f"{place!r} names {'no' if not found else 'more than one'} gu or dong", param_hint="PLACE"
        )
    district = found[0]
    census = CensusTable(platform)
    index, method = census.index(district.code), census.method
    if as_json:
        click.echo(
            json.dumps({"place": district.public(), "method": method, **index.public()}, ensure_ascii=False, indent=1)
        )
        return
    console = Console()
    value = "—" if index.value is None else f"{index.value:.1f}"
    console.print(
        f"[bold]{district.name_ko} ({district.name_en})[/]: 팹시티 지수 / Fab City Index ({index.kind}) = {value}"
    )
    if index.gap_to_pledge is not None:
        console.print(f"50% 목표까지 / gap to the 50 pledge: {index.gap_to_pledge:.1f} · coverage {index.coverage:.0%}")
    table = Table()
    for heading in ("KSIC", "산업 / section", "비율 ratio", "점수 score", "가중치 weight"):
        table.add_column(heading)
    for sector in index.sectors:
        ko, en = KSIC_SECTIONS[sector.sector]
        ratio = "—" if sector.raw_ratio is None else f"{sector.raw_ratio:.2f}"
        score = "—" if sector.score is None else f"{sector.score:.2f}"
        table.add_row(sector.sector, f"{ko} / {en}", ratio, score, f"{sector.weight:.3f}")
    console.print(table)
    console.print(f"출처 / sources: {method['workers']}; {method['residents']}. {method['note']}.")


@main.group(name="stats")
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
@DB_OPTION
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
    try:
        report = import_stats(open_platform(db), file, kind, period, source_id, license_, title, sheet)  # type: ignore[arg-type]
    except ImportRejected as rejected:
        click.echo(str(rejected), err=True)
        sys.exit(1)
    click.echo(
        f"{report.path}: {report.kind} {report.period}, {report.districts} districts, {report.values} values "
        f"({report.replaced} replaced), source {report.source_id}"
    )
    for name in report.left_out:
        click.echo(f"  left out (no such dong any more): {name}", err=True)


@main.group(name="io")
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
@DB_OPTION
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
    try:
        report = import_io_table(open_platform(db).engine, file, year, title, unit, source, license_, sheet, mapping)
    except ImportRejected as rejected:
        click.echo(str(rejected), err=True)
        sys.exit(1)
    click.echo(f"{file}: table {report.id} {'created' if report.created else 'replaced'}, {report.sectors} sectors")


@io_group.command(name="list")
@DB_OPTION
def io_list(db: str | None) -> None:
    """가져온 산업연관표 목록. The imported input–output tables."""
    for table in list_tables(open_platform(db).engine):
        mapped = "KSIC mapped" if table["mapped_to_ksic"] else "no KSIC mapping"
        click.echo(
            f"{table['id']}\t{table['year']}\t{table['title']}\t{table['sectors']} sectors\t{table['unit']}\t"
            f"{mapped}\t{table['license']}"
        )
