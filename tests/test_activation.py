"""Activation per gu per month: counts in time, per residents, year on year, small counts suppressed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from builders import add_nodes, fablabs_labs, node_record, records, write_json
from fabcity.accounts import service as accounts
from fabcity.clock import seoul_month
from fabcity.directory import editing
from fabcity.directory.importer import import_file
from fabcity.measure.activation import activation, activation_trend
from fabcity.startup import open_platform
from fabcity.storage.schema import node

EUNPYEONG = "11380"


def _gu(answer, code=EUNPYEONG) -> dict:
    return next(row for row in answer["results"] if row["code"] == code)


@pytest.fixture
def eunpyeong(empty_platform):
    """Eight makerspaces in Eunpyeong, each registered the day it opened: six in March 2025 (one
    verified then), two in March 2026."""
    records = [node_record(f"m{i}", 37.6189 + i * 1e-4, 126.9210, equipment=[{"type": "laser_cutter", "quantity": 2}],
                           founded="2025-03-10" if i < 6 else "2026-03-10")
               for i in range(8)]  # fmt: skip
    add_nodes(empty_platform, records)
    with empty_platform.engine.begin() as conn:
        for i in range(8):
            made = datetime(2025, 3, 10, tzinfo=UTC) if i < 6 else datetime(2026, 3, 10, tzinfo=UTC)
            verified = datetime(2025, 3, 20, tzinfo=UTC) if i == 0 else None
            conn.execute(update(node).where(node.c.slug == f"m{i}").values(created_at=made, verified_at=verified))
    return empty_platform


def test_counts_follow_time(eunpyeong):
    before = _gu(activation(eunpyeong, "2025-02"))
    assert before["active_nodes"] == 0 and before["new_nodes"] == 0
    march = _gu(activation(eunpyeong, "2025-03"))
    assert march["active_nodes"] == 6 and march["new_nodes"] == 6 and march["machines"] == 12
    assert march["active_makerspace"] == 6
    assert march["active_per_10k_residents"] > 0
    later = _gu(activation(eunpyeong, "2026-03"))
    assert later["active_nodes"] == 8 and later["active_yoy_change"] == pytest.approx(2 / 6, abs=1e-4)


def test_small_counts_are_suppressed_not_zeroed(eunpyeong):
    march = _gu(activation(eunpyeong, "2025-03"))
    assert march["verified_nodes"] is None and "verified_nodes" in march["suppressed"]  # 1 verified node
    assert march["verified_last_90_days"] is None
    assert _gu(activation(eunpyeong, "2025-07"))["verified_last_90_days"] == 0  # 0 stays 0
    assert _gu(activation(eunpyeong, "2026-03"))["new_nodes"] is None  # 2 new nodes


def test_a_closed_node_counts_until_it_was_closed(eunpyeong):
    curator = accounts.create_user(eunpyeong, "c@example.kr", "correct horse battery", "c", role="curator")
    editing.close_node(eunpyeong, curator, "m1")
    this_month = seoul_month()
    assert _gu(activation(eunpyeong, "2026-03"))["active_nodes"] == 8
    assert _gu(activation(eunpyeong, this_month))["active_nodes"] == 7


def test_seoul_as_a_whole_and_each_gus_share(eunpyeong):
    march = activation(eunpyeong, "2025-03")
    assert march["seoul"]["code"] == "11" and march["seoul"]["active_nodes"] == 6
    assert _gu(march)["share_of_seoul_active"] == 1.0
    assert march["seoul"]["active_per_10k_residents"] < _gu(march)["active_per_10k_residents"]  # more residents


def test_cumulative_counts_keep_closed_nodes_and_recent_activity_needs_a_write(eunpyeong):
    curator = accounts.create_user(eunpyeong, "c@example.kr", "correct horse battery", "c", role="curator")
    editing.close_node(eunpyeong, curator, "m1")
    this_month = seoul_month()
    now = _gu(activation(eunpyeong, this_month))
    assert now["nodes_to_date"] == 8 and now["active_nodes"] == 7
    assert _gu(activation(eunpyeong, "2025-05"))["active_last_90_days"] == 6  # made in March
    assert _gu(activation(eunpyeong, "2025-09"))["active_last_90_days"] == 0  # nothing written since
    assert now["active_last_90_days"] == 0  # closing m1 was a write, but a closed node is not active
    editing.update_node(eunpyeong, curator, "m2", {"description": {"ko": "새 장비"}})
    assert _gu(activation(eunpyeong, this_month))["active_last_90_days"] is None  # one node: suppressed
    for slug in ("m3", "m4", "m5", "m6"):
        editing.update_node(eunpyeong, curator, slug, {"description": {"ko": "새 장비"}})
    assert _gu(activation(eunpyeong, this_month))["active_last_90_days"] == 5


def test_a_write_from_another_process_shows_at_once(eunpyeong):
    """The figures are kept between requests, until any node is written, by whichever process."""
    month = seoul_month()
    assert _gu(activation(eunpyeong, month))["active_nodes"] == 8
    assert activation_trend(eunpyeong, month, months=1)["series"][0]["active_nodes"] == [8]
    other = open_platform(eunpyeong.engine.url.render_as_string(hide_password=False), nodes=False)  # the CLI, say
    curator = accounts.create_user(other, "c@example.kr", "correct horse battery", "c", role="curator")
    editing.close_node(other, curator, "m1")
    other.engine.dispose()
    assert _gu(activation(eunpyeong, month))["active_nodes"] == 7
    assert activation_trend(eunpyeong, month, months=1)["series"][0]["active_nodes"] == [7]


def test_the_trend_follows_each_month_and_suppresses_small_counts(eunpyeong):
    trend = activation_trend(eunpyeong, "2026-03", months=13)
    assert trend["months"][0] == "2025-03" and trend["months"][-1] == "2026-03" and len(trend["months"]) == 13
    seoul = next(series for series in trend["series"] if series["code"] == "11")
    assert seoul["active_nodes"] == [6] * 12 + [8]
    dobong = next(series for series in trend["series"] if series["code"] == "11320")
    assert set(dobong["active_nodes"]) == {0}
    assert activation_trend(eunpyeong, "2025-03", months=2)["series"][0]["active_nodes"] == [0, 6]
    with pytest.raises(ValueError, match="months"):
        activation_trend(eunpyeong, "2025-03", months=0)


def test_a_place_counts_from_when_it_opened_or_was_listed_not_from_when_it_was_loaded(empty_platform):
    """Loaded today: one opened in 2024, one its source listed in 2025-06, one with neither date."""
    listed = {"source": "a list", "license": "CC0-1.0", "retrieved_at": "2025-06-15T00:00:00Z"}
    add_nodes(empty_platform, [
        *(node_record(f"old{i}", 37.6189 + i * 1e-4, 126.9210, founded="2024-05-01") for i in range(5)),
        *(node_record(f"listed{i}", 37.6189 + i * 1e-4, 126.9220, provenance=listed) for i in range(5)),
        *(node_record(f"undated{i}", 37.6189 + i * 1e-4, 126.9230) for i in range(5)),
    ])  # fmt: skip
    trend = activation_trend(empty_platform, "2025-08", months=4)
    seoul = next(series for series in trend["series"] if series["code"] == "11")
    assert trend["months"] == ["2025-05", "2025-06", "2025-07", "2025-08"]
    assert seoul["active_nodes"] == [5, 10, 10, 10] and seoul["no_known_start"] == [5, 5, 5, 5]
    this_month = seoul_month()
    now = activation_trend(empty_platform, this_month, months=12)["series"][0]["active_nodes"]
    assert now == [10] * 12  # no jump in the month the places were loaded
    assert activation(empty_platform, this_month)["seoul"]["new_nodes"] == 0
    assert activation(empty_platform, this_month)["seoul"]["no_known_start"] == 5


def test_an_imported_lab_counts_from_the_day_fablabs_io_says_it_opened(empty_platform, tmp_path):
    labs = fablabs_labs()
    for lab in labs:
        lab["activity_start_at"] = "2014-09-01"
    labs[0]["activity_start_at"] = None  # a lab without the date keeps none
    import_file(empty_platform, write_json(tmp_path / "labs.json", labs), "fablabs")
    founded = [row["founded"] for row in records(empty_platform)]
    assert founded.count(None) == 1 and founded.count("2014-09-01") == len(labs) - 1


def test_the_dashboard_says_how_the_trend_counts_and_how_many_have_no_known_start(client):
    trend = client.get("/api/v1/indicators/activation/trend", params={"months": 12}).json()
    seoul = next(series for series in trend["series"] if series["code"] == "11")
    assert len(set(seoul["active_nodes"])) == 1  # the embedded places, loaded today, are no jump this month
    undated = client.get("/api/v1/indicators/activation").json()["seoul"]["no_known_start"]
    assert undated >= 5  # the curated places that name no opening day
    for language, said in (("ko", f"운영 중인 장소 {undated}곳은 시작 날짜를 알 수 없어"),
                           ("en", f"{undated} open places have no known start")):  # fmt: skip
        note = client.get("/dashboard", params={"lang": language}).text.split('id="trend-note"')[1].split("</p>")[0]
        assert said in note


def test_activation_api(client):
    answer = client.get("/api/v1/indicators/activation", params={"month": "2026-11"}).json()
    assert len(answer["results"]) == 25 and answer["method"]["suppressed"] == "counts from 1 to 4"
    download = client.get("/api/v1/indicators/activation", params={"month": "2026-11", "format": "csv"})
    assert download.content.startswith("\ufeff".encode())
    assert download.content.decode("utf-8-sig").splitlines()[1].startswith("11,서울특별시,Seoul,")
    bad = client.get("/api/v1/indicators/activation", params={"month": "November"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "month"]
    trend = client.get("/api/v1/indicators/activation/trend", params={"until": "2026-11", "months": 3}).json()
    assert trend["months"] == ["2026-09", "2026-10", "2026-11"] and len(trend["series"]) == 26
    rows = client.get("/api/v1/indicators/activation/trend", params={"until": "2026-11", "format": "csv"})
    assert rows.content.decode("utf-8-sig").splitlines()[0].endswith(",2026-10,2026-11")
    bad = client.get("/api/v1/indicators/activation/trend", params={"until": "2026-13"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "until"]
    assert client.get("/api/v1/indicators/activation/trend", params={"months": 0}).status_code == 422
