"""The `fabcity` command: search, export and help, against both backends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fabcity.cli.main import main


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, [*args, "--db", db_url], catch_exceptions=False)

    return invoke


def test_search_json_finds_fab_lab_seoul_by_korean_text(run):
    result = run("search", "레이저", "--json")
    assert result.exit_code == 0
    assert "fab-lab-seoul" in [r["slug"] for r in json.loads(result.output)["results"]]


def test_search_table_with_filters(run):
    result = run("search", "--gu", "은평구", "--type", "fab_lab")
    assert result.exit_code == 0
    assert "서울이노베이션팹랩" in result.output and "팹랩 서울" not in result.output


def test_search_bad_parameter_names_it(run):
    result = run("search", "--process", "teleportation")
    assert result.exit_code == 2
    assert "process" in result.output and "teleportation" in result.output


def test_export_csv_has_bom_and_korean(run, tmp_path):
    out = tmp_path / "nodes.csv"
    result = run("export", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "팹랩 서울" in data.decode("utf-8-sig")


@pytest.mark.parametrize("command", ["serve", "import", "export", "search"])
def test_help_shows_korean_examples(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "예:" in result.output and "--db" in result.output


def test_the_first_admin_is_created_from_the_command_line(db_url):
    runner = CliRunner()
    created = runner.invoke(
        main, ["user", "create", "Admin@Example.kr", "--name", "관리자", "--role", "admin", "--db", db_url],
        input="long enough pw\nlong enough pw\n",
    )  # fmt: skip
    assert created.exit_code == 0 and "admin@example.kr: admin" in created.output
    listed = runner.invoke(main, ["user", "list", "--db", db_url])
    assert "admin\tadmin@example.kr\t관리자" in listed.output
    short = runner.invoke(
        main, ["user", "create", "b@example.kr", "--name", "B", "--db", db_url], input="short\nshort\n"
    )
    assert short.exit_code == 2 and "at least 10 characters" in short.output
