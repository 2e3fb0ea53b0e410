"""What every capability's commands share: the database option and how a refusal is told."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from fabcity.directory.formats.common import ImportRejected
from fabcity.errors import FieldError, RecordInvalid

db_option = click.option(
    "--db",
    help="SQLite file path or database URL (postgresql://…). Default: FABCITY_DB, else the embedded SQLite file.",
)


@contextmanager
def told_plainly() -> Iterator[None]:
    """A rejected file is listed on stderr with exit code 1; a bad value is click's usage error naming it (them)."""
    try:
        yield
    except ImportRejected as rejected:
        click.echo(str(rejected), err=True)
        sys.exit(1)
    except FieldError as error:
        raise click.BadParameter(error.message, param_hint=f"'{error.field}'") from None
    except RecordInvalid as invalid:
        fields = dict.fromkeys(problem.field for problem in invalid.problems)
        message = "; ".join(problem.message for problem in invalid.problems)
        raise click.BadParameter(message, param_hint=", ".join(f"'{field}'" for field in fields)) from None
