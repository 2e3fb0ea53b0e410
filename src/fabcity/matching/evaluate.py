"""Matching quality against labelled needs: precision@5, recall@10, MRR, and the needs that miss.

A labelled set (tests/data/match_eval.json) holds needs as people type them, each with the nodes a
knowledgeable host would name. Every need goes the way of POST /api/v1/match (read_need, then
rank), so a regression in reading or in ranking lowers the figures. Only complete matches count,
as the API's `results`; a need no node can make is labelled with no nodes, and is right when
nothing is offered.

Most needs have fewer than five relevant nodes, so plain precision@5 cannot reach 1: the capped
form divides by min(5, |relevant|) instead, and R-precision looks at the first |relevant| places.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fabcity.matching.parse import Reading, read_need
from fabcity.matching.rank import rank
from fabcity.platform import Platform

METRICS = ("precision_at_5", "precision_at_5_capped", "r_precision", "recall_at_10", "mrr")


@dataclass(frozen=True)
class LabelledNeed:
    id: str
    language: str
    category: str
    text: str
    relevant: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class LabelledSet:
    needs: list[LabelledNeed]
    today: date  # the day the needs are read on, so "3월까지" reads the same every year


def load(path: Path) -> LabelledSet:
    data = json.loads(path.read_text(encoding="utf-8"))
    needs = [
        LabelledNeed(
            id=item["id"],
            language=item["language"],
            category=item["category"],
            text=item["text"],
            relevant=tuple(item["relevant"]),
            note=item.get("note", ""),
        )
        for item in data["needs"]
    ]
    return LabelledSet(needs, date.fromisoformat(data["about"]["today"]))


@dataclass
class Judged:
    """One need, how it was read and the slugs ranked for it, best first."""

    need: LabelledNeed
    reading: Reading
    ranked: list[str]

    def hits(self, k: int) -> int:
        return len(set(self.ranked[:k]) & set(self.need.relevant))

    def scores(self) -> dict[str, float]:
        relevant = len(self.need.relevant)
        first = next((i for i, slug in enumerate(self.ranked, 1) if slug in self.need.relevant), None)
        return {
            "precision_at_5": self.hits(5) / 5,
            "precision_at_5_capped": self.hits(5) / min(5, relevant),
            "r_precision": self.hits(relevant) / relevant,
            "recall_at_10": self.hits(10) / relevant,
            "mrr": 1 / first if first else 0.0,
        }

    @property
    def missed(self) -> list[str]:
        """Relevant nodes not in the first ten; for a need no node can make, whatever was offered."""
        if not self.need.relevant:
            return self.ranked
        return sorted(set(self.need.relevant) - set(self.ranked[:10]))


def judge(platform: Platform, labelled: LabelledSet, limit: int = 20) -> list[Judged]:
    judged = []
    for need in labelled.needs:
        reading = read_need(need.text, platform.districts, platform.stations, today=labelled.today)
        ranking = rank(platform, reading.need, limit)
        judged.append(Judged(need, reading, [match.node["slug"] for match in ranking.matches]))
    return judged


def summary(judged: list[Judged]) -> dict[str, Any]:
    """Macro averages over the needs some node can make; the others counted as right when nothing is offered."""
    answerable = [j for j in judged if j.need.relevant]
    unanswerable = [j for j in judged if not j.need.relevant]
    result: dict[str, Any] = {"needs": len(judged), "answerable": len(answerable)}
    for metric in METRICS:
        values = [j.scores()[metric] for j in answerable]
        result[metric] = sum(values) / len(values) if values else None
    result["unanswerable"] = len(unanswerable)
    result["unanswerable_empty"] = sum(1 for j in unanswerable if not j.ranked)
    return result
