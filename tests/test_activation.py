"""Activation per gu per month: counts in time, per residents, year on year, small counts suppressed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from builders import add_nodes, node_record
from fabcity.accounts import service as accounts
from fabcity.clock import seoul_month
from fabcity.directory import editing
from fabcity.measure.activation import activation, activation_trend
from fabcity.startup import open_platform
from fabcity.storage.schema import node

EUNPYEONG = "11380"


def _gu(answer, code=EUNPYEONG) -> dict:
    return next(row for row in answer["results"] if row["code"] == code)


@pytest.fixture
def eunpyeong(empty_platform):
    """Eight makerspaces in Eunpyeong: six made in March 2025 (one verified then), two in March 2026."""
    records = [node_record(f"m{i}", 37.6189 + i * 1e-4, 126.9210, equipment=[{"type": "laser_cutter", "quantity": 2}])
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
