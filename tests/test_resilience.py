"""The OECD topic scores reproduced from raw values with fixed goalposts (the 2016 release)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fabcity.measure.io import MeasureError
from fabcity.measure.resilience import TOPICS, topic_scores

COLUMNS = {
    "income_capita": "income_capita", "employment": "Employment", "unemployment": "Unemployment", "rooms": "Rooms",
    "life_expectancy": "Life_expectancy", "mortality": "Mortality", "labour_secondary": "Labour", "pm25": "PM25)",
    "homicide": "Homicide", "voter_turnout": "Voter", "broadband": "Broadband", "social_support": "Support",
    "life_satisfaction": "Satisfaction",
}  # fmt: skip
PUBLISHED = {
    "income": "Income", "jobs": "Jobs", "housing": "Housing", "health": "Health", "education": "Education",
    "environment": "Environment", "safety": "Safety", "civic_engagement": "Civic_engagement",
    "access_to_services": "Accessiblity_to_services", "community": "Community",
    "life_satisfaction": "Life_satisfaction",
}  # fmt: skip
WELLBEING_2016 = (
    Path(__file__).with_name("data") / "oecd-regional-wellbeing-2016" / "rwb_2016_scores_and_indicators.csv"
)
TOLERANCE = {"housing": 0.28, "safety": 0.07}  # rooms are published rounded to 0.1; see tests/data/README.md


def _number(text: str) -> float | None:
    return None if text.strip() in ("..", "") else float(text)


@pytest.fixture(scope="module")
def regions() -> list[dict[str, str]]:
    """The 395 regions of the release (the file's other rows are whole countries)."""
    with WELLBEING_2016.open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["region_type"] == "country_part"]


def test_every_published_regional_score_is_reproduced(regions):
    assert len(regions) == 395
    checked = 0
    for row in regions:
        scores = topic_scores({name: _number(row[column]) for name, column in COLUMNS.items()})
        for result in scores:
            published = _number(row[PUBLISHED[result.topic.id]])
            if published is None or result.score is None:
                continue
            assert result.score == pytest.approx(published, abs=TOLERANCE.get(result.topic.id, 0.052)), (
                row["Code"], result.topic.id,
            )  # fmt: skip
            checked += 1
    assert checked > 4000


def test_seouls_capital_region(regions):
    row = next(r for r in regions if r["Code"] == "KR01")
    scores = {s.topic.id: s.score for s in topic_scores({n: _number(row[c]) for n, c in COLUMNS.items()})}
    published = {"education": 8.9, "jobs": 7.8, "income": 3.9, "safety": 8.6, "health": 9.3, "environment": 0.0,
                 "civic_engagement": 6.7, "access_to_services": 10.0, "housing": 2.2, "community": 3.0,
                 "life_satisfaction": 3.3}  # fmt: skip
    for topic, value in published.items():
        assert scores[topic] == pytest.approx(value, abs=TOLERANCE.get(topic, 0.052)), topic


def test_goalposts_are_fixed_and_missing_stays_missing():
    alone = {s.topic.id: s for s in topic_scores({"pm25": 27.0, "rooms": 1.3})}
    assert alone["environment"].score == 0.0  # worse than the goalpost: clipped, not rescaled
    assert alone["housing"].score == pytest.approx(10 * (1.3 - 0.9) / 1.8)
    assert alone["income"].score is None and alone["income"].indicators_used == 0
    assert len(TOPICS) == 11
    with pytest.raises(MeasureError, match="unknown indicator"):
        topic_scores({"happiness": 1.0})


def test_the_capital_region_is_served_with_its_published_scores(client):
    answer = client.get("/api/v1/indicators/resilience").json()
    assert answer["capital_region"] == "KR01" and "never rescaled" in answer["method"]["scale"]
    regions = {region["code"]: region for region in answer["results"]}
    assert set(regions) == {"KR01", "KR02", "KR03", "KR04", "KR05", "KR06", "KR07", "KOR"}
    for topic in regions["KR01"]["topics"]:
        assert topic["score"] == pytest.approx(topic["published_score"], abs=0.052 + TOLERANCE.get(topic["id"], 0))
    download = client.get("/api/v1/indicators/resilience", params={"format": "csv"}).content
    assert download.startswith("\ufeff".encode()) and len(download.decode("utf-8-sig").splitlines()) == 1 + 8 * 11
