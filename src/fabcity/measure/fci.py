"""The Fab City Index of a place: how much of what it consumes it could make (capacity) or does make
for itself (self-supply), sector by sector, weighted.

    index = 100 · Σ w_s · min(1, P_s / D_s) / Σ_defined w_s

Which of the two it is depends on the ratio given (P/D for capacity; a regional purchase
coefficient for self-supply) and is always labelled. Raw ratios are kept, each sector is capped
before the sum, and the edge cases follow docs/research/index.md §7: no demand drops a sector and
renormalises (an exporter never scores 100 by default), missing stays missing, negative input is
an error naming the sector, and without any defined sector there is no index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from fabcity.measure.io import MeasureError

Kind = Literal["capacity", "self_supply"]
PLEDGE = 50.0  # per cent self-sufficiency by 2054 (the Fab City pledge)


@dataclass(frozen=True)
class SectorInput:
    sector: str
    production: float | None  # P: local production (or, for self-supply, locally supplied use)
    demand: float | None  # D: local use
    weight: float


@dataclass(frozen=True)
class SectorScore:
    sector: str
    raw_ratio: float | None
    score: float | None  # min(1, raw ratio), None when the sector is left out
    weight: float
    status: str  # included | export_only | no_activity | missing


@dataclass
class FabCityIndex:
    kind: Kind
    value: float | None
    coverage: float  # weight of the sectors included / all weight
    sectors: list[SectorScore] = field(default_factory=list)

    @property
    def gap_to_pledge(self) -> float | None:
        return None if self.value is None else PLEDGE - self.value

    def public(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "value": None if self.value is None else round(self.value, 4),
            "coverage": round(self.coverage, 4),
            "gap_to_50": None if self.gap_to_pledge is None else round(self.gap_to_pledge, 4),
            "sectors": [
                {"sector": s.sector, "raw_ratio": s.raw_ratio, "score": s.score, "weight": s.weight, "status": s.status}
                for s in self.sectors
            ],
        }


def _check(item: SectorInput) -> None:
    for name in ("production", "demand", "weight"):
        value = getattr(item, name)
        if value is not None and (not math.isfinite(value) or value < 0):
            raise MeasureError(f"sector {item.sector!r}: {name} is {value!r}; it must be a number ≥ 0")


def fab_city_index(sectors: list[SectorInput], kind: Kind = "capacity") -> FabCityIndex:
    scores: list[SectorScore] = []
    for item in sectors:
        _check(item)
        if item.production is None or item.demand is None:
            scores.append(SectorScore(item.sector, None, None, item.weight, "missing"))
        elif item.demand == 0:
            status = "export_only" if item.production > 0 else "no_activity"
            scores.append(SectorScore(item.sector, None, None, item.weight, status))
        else:
            ratio = item.production / item.demand
            scores.append(SectorScore(item.sector, ratio, min(1.0, ratio), item.weight, "included"))
    total = sum(item.weight for item in sectors)
    included = [s for s in scores if s.status == "included"]
    defined = sum(s.weight for s in included)
    value = 100 * sum(s.weight * s.score for s in included) / defined if defined > 0 else None
    return FabCityIndex(kind, value, defined / total if total > 0 else 0.0, scores)
