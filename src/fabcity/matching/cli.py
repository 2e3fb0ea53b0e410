"""`fabcity match`: who can make a need, and why."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from fabcity.cli.options import db_option, told_plainly
from fabcity.clock import in_seoul
from fabcity.matching.parse import read_need
from fabcity.matching.rank import MET, MISSED, Match, WayForward, rank, requirements_with
from fabcity.startup import open_platform


@click.command(name="match")
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the reading and the ranking as JSON.")
@db_option
def match_command(text: str, limit: int, as_json: bool, db: str | None) -> None:
    """필요한 제작을 적으면 만들 수 있는 곳을 찾습니다. Find the nodes that can make a need.

    \b
    예: fabcity match "아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지"
        fabcity match "50 PCBs and sewing near Changsin-dong" --json
    """
    platform = open_platform(db)
    with told_plainly():
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
    for heading in ("이름 / name", "점수 score", "거리 m", "가장 빠른 예약 earliest free (KST)", "확인 checks"):
        table.add_column(heading)
    for found in ranking.matches:
        node = found.node
        checks = ", ".join(f"{c.requirement} {c.status}" for c in found.checks)
        distance = "" if found.distance_m is None else f"{found.distance_m:,.0f}"
        name = node["name"]["ko"] or node["name"]["en"]
        table.add_row(name, f"{found.score:.2f}", distance, _earliest_text(found), checks)
    console.print(table)
    for first, second in ranking.combinations:
        console.print(f"함께 / together: {first.node['slug']} + {second.node['slug']}")
    if ranking.way_forward is not None:
        _print_way_forward(console, ranking.way_forward)


def _earliest_text(found: Match) -> str:
    """The match's earliest free hour in Seoul time, or why there is none (as the match page says it)."""
    if found.earliest_slot is not None:
        starts, ends = (in_seoul(moment) for moment in found.earliest_slot)
        return f"{starts:%Y-%m-%d %H:%M}–{ends:%H:%M}"
    if found.bookable:
        return "14일 안에 없음 / none in 14 days"
    return "예약 가능한 장비 없음 / no bookable machine"


def _print_way_forward(console: Console, way: WayForward) -> None:
    """Nothing fits: why, then who does all of it farther away and who does part of it."""
    console.print("[bold]조건에 모두 맞는 곳이 없습니다 / No maker fits every requirement.[/] 이유 / why:")
    for sentence in way.explanation():
        console.print(f"  · {sentence}")
    for found in way.beyond:
        name = found.node["name"]["ko"] or found.node["name"]["en"]
        ranged = next((check.detail for check in found.checks if check.requirement == "distance"), "")
        distance = ranged if found.distance_m is None else f"{found.distance_m:,.0f} m"  # a district: its range
        console.print(f"더 멀리 / farther: {name} ({found.node['slug']}), {distance}")
    for found in way.partial:
        name = found.node["name"]["ko"] or found.node["name"]["en"]
        can = ", ".join(requirements_with(found, MET)) or "—"
        cannot = ", ".join(requirements_with(found, MISSED)) or "—"
        console.print(f"일부 / part: {name} ({found.node['slug']}) — 가능 / can: {can}; 불가 / cannot: {cannot}")


commands = (match_command,)
