"""Imports merge into what the directory holds: by the precedence of their source, never erasing, never
touching a node they do not change, always audited (docs/decisions/0004-import-precedence.md).

Every test runs on SQLite and PostgreSQL through the conftest fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from builders import (
    IOPA_FILE,
    IOPA_SEOUL_LABS,
    KOREAN_HEADER,
    KOREAN_ROWS,
    count_rows,
    fablabs_labs,
    record_named,
    records,
    write_csv,
    write_json,
)
from fabcity.accounts import service as accounts
from fabcity.cli.main import main
from fabcity.directory import editing
from fabcity.directory.exporter import export
from fabcity.directory.formats.common import ImportRejected
from fabcity.directory.importer import import_file
from fabcity.directory.precedence import Precedence, leaves
from fabcity.platform import Platform
from fabcity.storage.schema import audit_log, node


def audit_entries(platform: Platform, *where) -> list[dict[str, Any]]:
    with platform.engine.connect() as conn:
        query = select(audit_log).where(*where).order_by(audit_log.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


def by_id(platform: Platform) -> dict[str, dict[str, Any]]:
    """Every stored public record, updated_at included: "untouched" means exactly equal."""
    return {record["id"]: record for record in records(platform)}


def curator(platform: Platform) -> accounts.User:
    return accounts.create_user(platform, "curator@example.kr", "long enough pw", "큐레이터", role="curator")


# --------------------------------------------------------------------------------------------
# the curated dataset against a bulk source


def test_the_iopa_world_file_never_erases_the_curated_seoul_nodes(platform):
    """The IoPA file knows the Seoul labs by name and point only: it may fill a gap, never overwrite."""
    before = by_id(platform)
    curated = {node_id for node_id, record in before.items() if record["name"]["en"] in IOPA_SEOUL_LABS}
    assert len(curated) == len(IOPA_SEOUL_LABS)

    report = import_file(platform, IOPA_FILE)

    after = by_id(platform)
    assert report.created == 46 - len(IOPA_SEOUL_LABS)
    assert report.created + report.updated + report.unchanged == 46
    fab_lab_seoul = next(record for record in before.values() if record["slug"] == "fab-lab-seoul")
    assert after[fab_lab_seoul["id"]] == fab_lab_seoul  # Korean name, descriptions, 7 processes, 6 machines …
    for node_id in curated:
        held = {path: value for path, value in leaves(before[node_id]).items() if value not in (None, "", [], {})}
        held.pop("updated_at")
        assert {path: leaves(after[node_id]).get(path) for path in held} == held, before[node_id]["slug"]
    kept = {outcome.name: outcome.kept for outcome in report.outcomes if outcome.kept}
    assert kept["팹랩 서울"]["provenance"].held_by is Precedence.CURATED
    assert report.skipped == sum(len(fields) for fields in kept.values()) > 0


def test_a_fablabs_import_fills_the_gaps_of_a_curated_node_and_keeps_the_rest(platform, tmp_path):
    report = import_file(platform, write_json(tmp_path / "labs.json", fablabs_labs()))

    seoul = record_named(platform, "팹랩 서울")
    assert seoul["contact"] == {"email": "hello@fablabseoul.org", "phone": "+82 2 2278 0000"}  # was empty
    assert seoul["description"]["en"].startswith("Korea's first official Fab Lab")  # curated, kept
    assert len(seoul["processes"]) == 7 and len(seoul["equipment"]) == 6
    ogeum = record_named(platform, "Fablab Ogeum")
    assert ogeum["processes"] == ["laser_cutting"]  # was empty
    assert ogeum["status"] == "active"  # curated; fablabs.io says "corona"
    outcome = next(o for o in report.outcomes if o.name == "Fablab Ogeum")
    assert outcome.changes == {"processes": [[], ["laser_cutting"]]}
    assert (outcome.kept["status"].stored, outcome.kept["status"].offered) == ("active", "temporary_closure")


# --------------------------------------------------------------------------------------------
# nothing changed: nothing written


def test_reimporting_an_unchanged_file_touches_no_node(empty_platform):
    import_file(empty_platform, IOPA_FILE)
    before = by_id(empty_platform)
    entries = len(audit_entries(empty_platform))

    report = import_file(empty_platform, IOPA_FILE)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 46)
    assert by_id(empty_platform) == before  # updated_at included
    [entry] = audit_entries(empty_platform)[entries:]
    assert (entry["action"], entry["changes"]["unchanged"]) == ("import", [None, 46])


def test_importing_the_directorys_own_export_changes_nothing(platform, tmp_path):
    before = by_id(platform)
    path = tmp_path / "nodes.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        export(platform, "csv", handle)

    report = import_file(platform, path)

    assert (report.created, report.updated, report.unchanged) == (0, 0, len(before))
    assert by_id(platform) == before


# --------------------------------------------------------------------------------------------
# people's edits


def test_a_curators_edits_survive_a_bulk_reimport_and_the_rest_is_updated(empty_platform, tmp_path):
    labs = fablabs_labs()
    path = write_json(tmp_path / "labs.json", labs)
    import_file(empty_platform, path)
    seoul_id = record_named(empty_platform, "Fab Lab Seoul")["id"]
    patch = {"name": {"ko": "팹랩 서울", "en": "Fab Lab Seoul (Sewoon)"}, "contact": {"phone": None}}
    editing.update_node(empty_platform, curator(empty_platform), seoul_id, patch)

    labs[0]["capabilities"] = ["vinyl_cutting"]
    labs[0]["email"] = "info@fablabseoul.org"
    report = import_file(empty_platform, write_json(path, labs))

    seoul = record_named(empty_platform, "Fab Lab Seoul (Sewoon)")
    assert seoul["name"] == {"ko": "팹랩 서울", "en": "Fab Lab Seoul (Sewoon)"}
    assert seoul["contact"] == {"email": "info@fablabseoul.org"}  # the blanked phone stays blank
    assert seoul["processes"] == ["vinyl_cutting"]
    outcome = next(o for o in report.outcomes if o.node_id == seoul_id)
    assert {name: held.held_by for name, held in outcome.kept.items()} == {
        "name.en": Precedence.PERSON,
        "contact.phone": Precedence.PERSON,
    }
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)


def test_a_curated_file_overrides_bulk_data_and_bulk_data_does_not_override_it(empty_platform, tmp_path):
    labs = fablabs_labs()[:1]
    path = write_json(tmp_path / "labs.json", labs)
    import_file(empty_platform, path)
    survey = write_csv(
        tmp_path / "survey.csv",
        ["fablabs_io", "name_ko", "name_en", "node_type", "phone", "source", "license"],
        [["fablabseoul", "팹랩 서울", "Fab Lab Seoul", "fab_lab", "02-2278-0001", "서울시 조사", "KOGL-Type-1"]],
    )

    import_file(empty_platform, survey, precedence=Precedence.CURATED)
    labs[0]["phone"] = "+82 2 9999 9999"
    labs[0]["name"] = "FabLab Seoul"
    report = import_file(empty_platform, write_json(path, labs))

    seoul = record_named(empty_platform, "팹랩 서울")
    assert (seoul["name"]["en"], seoul["contact"]["phone"]) == ("Fab Lab Seoul", "02-2278-0001")
    assert seoul["provenance"]["source"] == "서울시 조사"
    assert set(report.outcomes[0].kept) == {"name.en", "contact.phone", "provenance"}


def test_a_field_the_file_does_not_carry_is_not_erased(empty_platform, tmp_path):
    header = ["id", "name", "node_type", "phone", "email", "license"]
    path = write_csv(tmp_path / "nodes.csv", header, [["lab-1", "작업실", "studio", "02-1", "a@example.kr", "CC0-1.0"]])
    import_file(empty_platform, path)

    write_csv(path, ["id", "name", "node_type", "email", "license"], [["lab-1", "작업실", "studio", "", "CC0-1.0"]])
    report = import_file(empty_platform, path)

    assert record_named(empty_platform, "작업실")["contact"] == {"phone": "02-1", "email": "a@example.kr"}
    assert report.unchanged == 1


def test_a_row_placed_by_its_district_only_keeps_the_point_and_still_updates_the_other_fields(empty_platform, tmp_path):
    header = ["id", "name", "node_type", "lat", "lon", "phone", "license"]
    path = write_csv(
        tmp_path / "nodes.csv", header, [["lab-1", "작업실", "studio", "37.6189", "126.921", "02-1", "CC0-1.0"]]
    )
    import_file(empty_platform, path)

    header = ["id", "name", "node_type", "gu", "phone", "license"]
    write_csv(path, header, [["lab-1", "작업실", "studio", "11380", "02-2", "CC0-1.0"]])
    report = import_file(empty_platform, path)

    lab = record_named(empty_platform, "작업실")
    assert (lab["location"]["lat"], lab["location"]["lon"]) == (37.6189, 126.921)
    assert lab["contact"] == {"phone": "02-2"}
    assert report.updated == 1


# --------------------------------------------------------------------------------------------
# the audit trail and the command


def test_a_cli_import_is_audited_with_its_counts_and_each_change(db_url, platform, tmp_path):
    path = write_json(tmp_path / "labs.json", fablabs_labs())
    entries = len(audit_entries(platform))

    result = CliRunner().invoke(main, ["import", str(path), "--db", db_url])

    assert result.exit_code == 0, result.output
    assert "1 created, 2 updated (fablabs)" in result.output
    new = audit_entries(platform)[entries:]
    assert [entry["action"] for entry in new] == ["node.import", "node.import", "import"]
    assert all(entry["user_id"] is None and entry["at"] == new[0]["at"] for entry in new)
    seoul = record_named(platform, "팹랩 서울")
    assert new[0]["entity_id"] == seoul["id"]
    assert new[0]["changes"]["contact.email"] == [None, "hello@fablabseoul.org"]
    summary = {key: value[1] for key, value in new[-1]["changes"].items()}
    assert summary == {
        "file": "labs.json",
        "format": "fablabs",
        "precedence": "bulk",
        "created": 1,
        "updated": 2,
        "unchanged": 0,
        "skipped_fields": summary["skipped_fields"],
    }
    assert summary["skipped_fields"] > 0
    assert f"0 unchanged, {summary['skipped_fields']} field(s) kept from a stronger source" in result.output


def test_a_dry_run_tells_what_would_change_and_writes_nothing(db_url, platform, tmp_path):
    path = write_json(tmp_path / "labs.json", fablabs_labs())
    before = by_id(platform)
    entries = len(audit_entries(platform))

    result = CliRunner().invoke(main, ["import", str(path), "--dry-run", "--db", db_url])

    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: 1 to create, 2 to update, 0 unchanged" in result.output
    assert "  create BERIC" in result.output
    assert '      contact.email: null → "hello@fablabseoul.org"' in result.output
    assert '      kept status: "active" (curated), not "temporary_closure"' in result.output
    assert by_id(platform) == before
    assert len(audit_entries(platform)) == entries


def test_a_dry_run_never_echoes_a_long_value_back(db_url, platform, tmp_path):
    labs = fablabs_labs()[:1]
    labs[0]["email"] = "x" * 1900 + "@example.kr"  # long, and within the model's 2,000 characters
    result = CliRunner().invoke(
        main, ["import", str(write_json(tmp_path / "l.json", labs)), "--dry-run", "--db", db_url]
    )

    assert result.exit_code == 0, result.output
    assert "x" * 100 not in result.output and "contact.email: null → " in result.output


# --------------------------------------------------------------------------------------------
# records without ids


def test_a_csv_without_ids_updates_its_nodes_on_reimport_instead_of_duplicating(empty_platform, tmp_path):
    path = write_csv(tmp_path / "은평.csv", KOREAN_HEADER, KOREAN_ROWS)
    import_file(empty_platform, path)
    ids = {record["name"]["ko"]: record["id"] for record in records(empty_platform)}

    again = import_file(empty_platform, path)
    rows = [list(row) for row in KOREAN_ROWS]
    rows[1][9] = "02-385-0000"  # 은평 수리공방's phone
    changed = import_file(empty_platform, write_csv(path, KOREAN_HEADER, rows))

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert count_rows(empty_platform) == 3
    assert {record["name"]["ko"]: record["id"] for record in records(empty_platform)} == ids
    assert record_named(empty_platform, "은평 수리공방")["contact"] == {"phone": "02-385-0000"}


def test_rows_without_ids_outside_seoul_are_told_apart_and_found_again_by_their_point(empty_platform, tmp_path):
    """Outside Seoul there is no gu: the point (to about 100 m) is the place, latitude and longitude both."""
    header = ["name", "node_type", "lat", "lon", "phone", "license"]
    rows = [["바다공방", "studio", "35.100", "129.040", "051-1", "CC0-1.0"]]
    rows.append(["바다공방", "studio", "35.200", "129.040", "051-2", "CC0-1.0"])
    path = write_csv(tmp_path / "부산.csv", header, rows)
    first = import_file(empty_platform, path)

    again = import_file(empty_platform, path)

    assert first.created == 2
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count_rows(empty_platform) == 2


def test_rows_without_ids_that_share_name_and_place_are_refused(platform, tmp_path):
    header = ["name", "node_type", "gu", "license"]
    path = write_csv(
        tmp_path / "nodes.csv",
        header,
        [["공방", "studio", "은평구", "CC0-1.0"], ["공방", "studio", "은평구", "CC0-1.0"]],
    )

    with pytest.raises(ImportRejected) as caught:
        import_file(platform, path)

    assert "line 3: name: the same name and place as line 2" in str(caught.value)


def test_a_row_without_ids_that_matches_two_stored_nodes_is_refused(platform, tmp_path):
    header = ["id", "name", "node_type", "gu", "license"]
    rows = [["a", "공방", "studio", "은평구", "CC0-1.0"], ["b", "공방", "studio", "은평구", "CC0-1.0"]]
    import_file(platform, write_csv(tmp_path / "two.csv", header, rows))
    before = count_rows(platform)

    path = write_csv(tmp_path / "one.csv", header[1:], [rows[0][1:]])
    with pytest.raises(ImportRejected) as caught:
        import_file(platform, path)

    assert "line 2: name: 2 stored nodes have this name and place; give the record an id" in str(caught.value)
    assert count_rows(platform) == before


# --------------------------------------------------------------------------------------------
# databases stored before field precedence


def test_the_migration_gives_stored_nodes_the_precedence_their_history_shows(db_url, platform):
    from alembic import command
    from alembic.config import Config

    from fabcity.storage.db import MIGRATIONS

    fab_lab_seoul = record_named(platform, "팹랩 서울")["id"]
    editing.update_node(platform, curator(platform), fab_lab_seoul, {"operator": "TIDE"})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with platform.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    with platform.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

    with platform.engine.connect() as conn:
        ranks = dict(conn.execute(select(node.c.id, node.c.field_ranks)).all())
    assert ranks[fab_lab_seoul] == {"*": "curated", "operator": "person"}
    assert all(value == {"*": "curated"} for key, value in ranks.items() if key != fab_lab_seoul)


def test_a_stronger_source_vouching_for_unchanged_values_raises_that_nodes_precedence_only(empty_platform, tmp_path):
    header = ["id", "name", "node_type", "phone", "source", "license"]
    rows = [
        ["lab-1", "작업실", "studio", "02-1", "조사", "CC0-1.0"],
        ["lab-2", "공방", "studio", "02-2", "조사", "CC0-1.0"],
    ]
    import_file(empty_platform, write_csv(tmp_path / "bulk.csv", header, rows))
    with empty_platform.engine.connect() as conn:
        before = dict(conn.execute(select(node.c.id, node.c.field_ranks)).all())

    report = import_file(
        empty_platform, write_csv(tmp_path / "survey.csv", header, rows[:1]), precedence=Precedence.CURATED
    )

    with empty_platform.engine.connect() as conn:
        after = dict(conn.execute(select(node.c.id, node.c.field_ranks)).all())
    lab_1, lab_2 = record_named(empty_platform, "작업실")["id"], record_named(empty_platform, "공방")["id"]
    assert report.unchanged == 1
    assert after[lab_2] == before[lab_2]
    assert after[lab_1] != before[lab_1] and "curated" in after[lab_1].values()


def test_a_person_edit_that_changes_nothing_writes_nothing(platform):
    seoul = record_named(platform, "팹랩 서울")

    editing.update_node(platform, curator(platform), seoul["id"], {"operator": seoul["operator"]})

    assert record_named(platform, "팹랩 서울") == seoul


def test_the_report_lists_the_kept_fields_of_unchanged_nodes(empty_platform, tmp_path):
    path = write_json(tmp_path / "labs.json", fablabs_labs()[:1])
    import_file(empty_platform, path)
    seoul_id = record_named(empty_platform, "Fab Lab Seoul")["id"]
    editing.update_node(empty_platform, curator(empty_platform), seoul_id, {"operator": "TIDE", "status": "closed"})

    report = import_file(empty_platform, path)

    assert (report.updated, report.unchanged) == (0, 1)
    [outcome] = report.outcomes
    assert (outcome.action, set(outcome.kept)) == ("unchanged", {"status"})
    assert json.dumps(outcome.changes) == "{}"
    assert Path(report.path).name == "labs.json"
