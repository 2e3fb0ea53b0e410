"""Resilience topics: the 11 OECD Regional Well-Being topics, scored 0–10 against fixed goalposts.

A score is 10·(x − low)/(high − low), clipped to [0, 10], reversed where less is better; a topic
with two indicators is their mean. The goalposts are the OECD 2016 release's 4th and 96th
percentiles over its 395 regions (docs/research/index.md §5), fixed, so a place's score does not
move when other places change, and never rescaled by GDP or population. Safety follows its own
bounds (0.50 → 10, 6.29 → 0 homicides per 100k), which is what the published scores show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from fabcity import dataset
from fabcity.measure.io import MeasureError

CAPITAL_REGION = "KR01"  # the OECD's TL2 region holding Seoul, with Incheon and Gyeonggi
METHOD = {
    "source": "OECD Regional Well-Being, release of June 2016 (oecd-rwb-2016)",
    "score": "10·(x − low)/(high − low), clipped to 0–10 and reversed where less is better; a topic is the mean "
    "of its indicators",
    "goalposts": "fixed: the 4th and 96th percentiles over the OECD's 395 regions (safety: 0.50 and 6.29 per 100,000)",
    "scale": "never rescaled by GDP or population; KR01 is the Capital Region (Seoul, Incheon, Gyeonggi)",
}


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str
    higher_is_better: bool
    low: float  # goalposts: the value scoring 0 (or 10 when lower is better) …
    high: float  # … and the value scoring 10 (or 0)

    def score(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        if not self.higher_is_better:
            share = 1 - share
        return min(10.0, max(0.0, 10 * share))


@dataclass(frozen=True)
class Topic:
    id: str
    label_ko: str
    label_en: str
    indicators: tuple[Indicator, ...]


TOPICS: tuple[Topic, ...] = (
    Topic("income", "소득", "Income", (Indicator("income_capita", "USD PPP per person", True, 3021, 39526),)),
    Topic("jobs", "일자리", "Jobs", (
        Indicator("employment", "%", True, 47.43, 82.35), Indicator("unemployment", "%", False, 3.08, 24.12),
    )),
    Topic("housing", "주거", "Housing", (Indicator("rooms", "rooms per person", True, 0.9, 2.7),)),
    Topic("health", "건강", "Health", (
        Indicator("life_expectancy", "years", True, 75.0, 83.4),
        Indicator("mortality", "per 1,000", False, 6.30, 10.92),
    )),
    Topic("education", "교육", "Education", (Indicator("labour_secondary", "%", True, 32.66, 94.14),)),
    Topic("environment", "환경", "Environment", (Indicator("pm25", "µg/m³", False, 1.88, 20.55),)),
    Topic("safety", "안전", "Safety", (Indicator("homicide", "per 100,000", False, 0.50, 6.29),)),
    Topic("civic_engagement", "시민 참여", "Civic engagement", (Indicator("voter_turnout", "%", True, 46.88, 88.97),)),
    Topic("access_to_services", "서비스 접근성", "Access to services", (
        Indicator("broadband", "% of households", True, 25.0, 94.0),
    )),
    Topic("community", "공동체", "Community", (Indicator("social_support", "%", True, 71.76, 96.84),)),
    Topic("life_satisfaction", "삶의 만족도", "Life satisfaction", (
        Indicator("life_satisfaction", "0–10", True, 5.1, 7.8),
    )),
)  # fmt: skip


@dataclass(frozen=True)
class TopicScore:
    topic: Topic
    score: float | None  # None when none of its indicators is known: missing stays missing
    indicators_used: int


def topic_scores(values: dict[str, float | None]) -> list[TopicScore]:
    """Each topic's score from raw indicator values (by Indicator.name); unknown names are an error."""
    known = {indicator.name for topic in TOPICS for indicator in topic.indicators}
    unknown = sorted(set(values) - known)
    if unknown:
        raise MeasureError(f"unknown indicator(s): {', '.join(unknown)}; use {', '.join(sorted(known))}")
    scores = []
    for topic in TOPICS:
        parts = []
        for indicator in topic.indicators:
            value = values.get(indicator.name)
            if value is not None:
                if not math.isfinite(value):
                    raise MeasureError(f"{indicator.name}: {value!r} is not a number")
                parts.append(indicator.score(value))
        scores.append(TopicScore(topic, sum(parts) / len(parts) if parts else None, len(parts)))
    return scores


@cache
def korea_regions() -> list[dict[str, Any]]:
    """Korea's regions and Korea as a whole: each topic scored here beside the score the OECD published.

    Read once: the figures ship with the package and never change while it runs."""
    regions: dict[str, dict[str, Any]] = {}
    for row in dataset.wellbeing_korea():
        region = regions.setdefault(row["region"], {"code": row["region"], "name": row["region_name"],
                                                    "indicators": {}, "published": {}})  # fmt: skip
        region["indicators" if row["kind"] == "indicator" else "published"][row["key"]] = float(row["value"])
    found = []
    for region in regions.values():
        topics = [
            {"id": item.topic.id, "label": {"ko": item.topic.label_ko, "en": item.topic.label_en},
             "score": None if item.score is None else round(item.score, 2),
             "published_score": region["published"].get(item.topic.id), "indicators_used": item.indicators_used}
            for item in topic_scores(region["indicators"])
        ]  # fmt: skip
        found.append({"code": region["code"], "name": region["name"], "indicators": region["indicators"],
                      "topics": topics})  # fmt: skip
    return found
