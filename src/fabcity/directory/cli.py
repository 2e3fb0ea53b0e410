"""The directory's commands: import and export node files, and search."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fabcity.cli.options import db_option, told_plainly
from fabcity.directory.exporter import EXPORT_FORMATS, export
from fabcity.directory.importer import FORMATS, ImportReport, import_file
from fabcity.directory.precedence import Precedence
from fabcity.directory.search import SearchQuery, parse_bbox, parse_point, search
from fabcity.startup import open_platform


@click.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help="Guessed from the file when not given.")
@click.option("--source", help="Provenance for records that do not name their source (CSV).")
@click.option("--license", "license_", help="Licence for records that do not name one (CSV), e.g. CC-BY-4.0.")
@click.option("--encoding", help="The file's text encoding when it is not UTF-8, e.g. cp949 or latin-1.")
@click.option(
    "--precedence",
    type=click.Choice([Precedence.BULK.value, Precedence.CURATED.value]),
    default=Precedence.BULK.value,
    show_default=True,
    help="How far the file is trusted: curated files overwrite bulk data; neither overwrites people's edits.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be created, changed and kept; write nothing.")
@db_option
def import_command(
    file: Path,
    file_format: str | None,
    source: str | None,
    license_: str | None,
    encoding: str | None,
    precedence: str,
    dry_run: bool,
    db: str | None,
) -> None:
    """노드 파일을 가져옵니다. Import nodes: OKW JSON, fablabs.io JSON, CSV or GeoJSON.

    A file with any bad record is rejected whole and nothing is written. Each record is merged into
    the node it is (same id or external id; without ids, same name and place), field by field:
    what people edited and what a stronger source set is kept, nothing is erased, and unchanged
    nodes are left as they are.
    같은 출처를 다시 가져오면 갱신합니다 (중복 없음). 사람이 고친 값은 덮어쓰지 않습니다.

    \b
    예: fabcity import 서울_메이커스페이스.csv --license CC-BY-4.0
        fabcity import labs.json --format fablabs --dry-run
        fabcity import 조사.csv --encoding cp949 --precedence curated
    """
    platform = open_platform(db)
    console = Console(stderr=True)
    options = {"encoding": encoding, "precedence": Precedence(precedence), "dry_run": dry_run}
    with told_plainly():
        if console.is_terminal and not dry_run:
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
                    **options,
                )
        else:
            report = import_file(platform, file, file_format, source, license_, **options)
    _tell(report)


def _tell(report: ImportReport) -> None:
    """The counts; in a dry run also each node's changes and the fields a stronger source keeps."""
    kept = f"{report.skipped} field(s) kept from a stronger source"
    if not report.dry_run:
        click.echo(f"{report.path}: {report.created} created, {report.updated} updated ({report.file_format})")
        click.echo(f"  {report.unchanged} unchanged, {kept}")
        return
    click.echo(
        f"{report.path}: dry run, nothing written: {report.created} to create, {report.updated} to update,"
        f" {report.unchanged} unchanged, {kept} ({report.file_format})"
    )
    for outcome in report.outcomes:
        click.echo(f"  {outcome.action} {outcome.name}" + (f" ({outcome.node_id})" if outcome.node_id else ""))
        for field, (before, after) in outcome.changes.items():
            click.echo(f"      {field}: {_short(before)} → {_short(after)}")
        for field, held in outcome.kept.items():
            click.echo(f"      kept {field}: {_short(held.stored)} ({held.held_by}), not {_short(held.offered)}")


def _short(value: object, width: int = 60) -> str:
    """A value as JSON, cut to `width` characters: a report never echoes a large input back."""
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


@click.command(name="export")
@click.option("--format", "file_format", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: standard output.")
@db_option
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


@click.command(name="search")
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
@db_option
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
    with told_plainly():
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


commands = (import_command, export_command, search_command)
