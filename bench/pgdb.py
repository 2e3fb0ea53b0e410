"""Create or drop a PostgreSQL benchmark database: `pgdb.py create|drop NAME [--admin URL]`."""

from __future__ import annotations

import argparse
import re
import sys

from sqlalchemy import create_engine, text

from fabcity.storage.db import database_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=("create", "drop", "exists"))
    parser.add_argument("name", help="database name, e.g. fabcity_bench_100000")
    parser.add_argument("--admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"fabcity_bench_[0-9a-z_]+", args.name):
        parser.error("only databases named fabcity_bench_* are managed here")
    engine = create_engine(database_url(args.admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": args.name}).first()
        if args.action == "exists":
            return 0 if exists else 1
        if exists:
            conn.execute(text(f'DROP DATABASE "{args.name}" WITH (FORCE)'))
        if args.action == "create":
            conn.execute(text(f'CREATE DATABASE "{args.name}"'))
    print(f"{dict(create='created', drop='dropped')[args.action]} {args.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
