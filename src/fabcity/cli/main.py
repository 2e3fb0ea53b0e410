"""The `fabcity` command. Thin: each capability's commands parse their options and call its services."""

from __future__ import annotations

import click

from fabcity.accounts import cli as accounts_cli
from fabcity.booking import cli as booking_cli
from fabcity.directory import cli as directory_cli
from fabcity.matching import cli as matching_cli
from fabcity.measure import cli as measure_cli
from fabcity.web import cli as web_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """fabcity — 팹시티 서울 플랫폼: 서울의 생산 노드를 찾고, 연결하고, 측정합니다.

    The Fab City Seoul platform: find Seoul's production nodes, match needs, measure progress.
    """


for capability in (web_cli, directory_cli, matching_cli, measure_cli, accounts_cli, booking_cli):
    for command in capability.commands:
        main.add_command(command)
