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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from fabcity.measure.io import MeasureError

Kind = Literal["capacity", "self_supply"]
PLEDGE = 50.0  # per cent self-sufficiency by 2054 (the Fab City pledge)


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
    names: list[str] = field(default_factory=list)
    raw_ratios: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    statuses: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    @property
    def gap_to_pledge(self) -> float | None:
        return None if self.value is None else PLEDGE - self.value

    @property
    def sectors(self) -> list[SectorScore]:
        scores = []
        for name, ratio, weight, status in zip(self.names, self.raw_ratios, self.weights, self.statuses, strict=True):
            included = status == "included"
            raw = float(ratio) if included else None
            scores.append(SectorScore(name, raw, min(1.0, raw) if included else None, float(weight), str(status)))
        return scores

    def public(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "value": None if self.value is None else round(self.value, 4),
            "coverage": round(self.coverage, 4),
            # The pledge is about self-supply: a capacity index has no distance to it.
            "gap_to_50": None
            if self.gap_to_pledge is None or self.kind == "capacity"
            else round(self.gap_to_pledge, 4),
            "sectors": [
                {"sector": s.sector, "raw_ratio": s.raw_ratio, "score": s.score, "weight": s.weight, "status": s.status}
                for s in self.sectors
            ],
        }


def fab_city_index(
    sectors: Sequence[str],
    production: Sequence[float | None],
    demand: Sequence[float | None],
    weights: Sequence[float],
    kind: Kind = "capacity",
) -> FabCityIndex:
    """The index over sectors given as parallel sequences (None for a missing value); vectorised, so
    a 381-sector table for every gu and dong of Seoul takes a fraction of a second."""
    names = list(sectors)
    p, d, w = (np.array(values, dtype=float) for values in (production, demand, weights))
    for label, values in (("production", p), ("demand", d), ("weight", w)):
        if len(values) != len(names):
            raise MeasureError(f"{label}: {len(values)} values for {len(names)} sectors")
        bad = np.flatnonzero(np.isinf(values) | (values < 0) | (np.isnan(values) if label == "weight" else False))
        if len(bad):
            raise MeasureError(
                f"sector {names[bad[0]]!r}: {label} is {float(values[bad[0]]):g}; it must be a number ≥ 0"
            )
    missing = np.isnan(p) | np.isnan(d)
    no_demand = ~missing & (d == 0)
    included = ~missing & ~no_demand
    statuses = np.where(
        missing, "missing", np.where(no_demand, np.where(p > 0, "export_only", "no_activity"), "included")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(included, p / np.where(included, d, 1.0), np.nan)
    total, defined = float(w.sum()), float(w[included].sum())
    value = 100 * float((w[included] * np.minimum(1.0, ratios[included])).sum()) / defined if defined > 0 else None
    return FabCityIndex(kind, value, defined / total if total > 0 else 0.0, names, ratios, w, statuses.astype(object))
