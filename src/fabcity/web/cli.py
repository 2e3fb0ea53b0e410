"""`fabcity serve`: the web server."""

from __future__ import annotations

import os

import click

from fabcity.cli.options import db_option
from fabcity.settings import DATABASE
from fabcity.startup import open_platform
from fabcity.storage.db import database_url
from fabcity.web.server import serve as serve_web


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="서버 프로세스 수, 코어마다 하나. Server processes: one per core serves best.",
)
@db_option
def serve(host: str, port: int, workers: int, db: str | None) -> None:
    """웹 서버를 실행합니다. Run the web server (API at /api/v1, docs at /docs).

    \b
    예: fabcity serve --port 8000
        fabcity serve --db postgresql://postgres@127.0.0.1/fabcity
    """
    open_platform(db).engine.dispose()  # migrate and load the dataset once, before any worker starts
    os.environ[DATABASE.name] = database_url(db)  # the workers' settings name the same database
    click.echo(f"fabcity: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)", err=True)
    serve_web(host, port, workers)


commands = (serve,)
