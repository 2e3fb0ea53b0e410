"""The labelled needs (tests/data/match_eval.json) read and ranked as POST /api/v1/match does.

The floors sit a little below what the embedded dataset gives today (bench/match_eval.py prints
the figures and the needs that miss), so that a regression in reading or ranking fails here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fabcity.directory.search import SearchQuery, search
from fabcity.matching.evaluate import judge, load, summary
from fabcity.matching.parse import read_need

LABELLED = load(Path(__file__).with_name("data") / "match_eval.json")
FLOORS = {"recall_at_10": 0.87, "precision_at_5_capped": 0.87, "r_precision": 0.87, "mrr": 0.87}


def test_the_set_is_large_and_bilingual():
    languages = Counter(need.language for need in LABELLED.needs)
    assert len(LABELLED.needs) >= 40 and set(languages) == {"ko", "en"}
    assert abs(languages["ko"] - languages["en"]) <= len(LABELLED.needs) // 10
    assert len({need.id for need in LABELLED.needs}) == len(LABELLED.needs)


def test_every_labelled_node_is_an_active_node_of_the_embedded_dataset(platform):
    active = {node["slug"] for node in search(platform, SearchQuery(limit=1000)).results}
    assert {slug for need in LABELLED.needs for slug in need.relevant} <= active


def test_every_need_is_read_with_something_to_make(platform):
    for need in LABELLED.needs:
        read = read_need(need.text, platform.districts, platform.stations, today=LABELLED.today).need
        assert read.processes or read.materials, need.id


@pytest.fixture
def figures(platform) -> dict:
    return summary(judge(platform, LABELLED))


def test_matching_quality_stays_above_its_floors(figures):
    for metric, floor in FLOORS.items():
        assert figures[metric] >= floor, (metric, figures[metric])
    assert figures["unanswerable_empty"] == figures["unanswerable"]  # nothing offered for what no node makes
