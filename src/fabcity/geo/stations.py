"""Subway stations: the nearest one to a point, and the ones around it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fabcity.geo.cells import METRES_PER_DEGREE_LAT, metres_per_degree_lon
from fabcity.text import normalize

_NOT_NAME = re.compile(r"\([^)]*\)|[^0-9a-z\uac00-\ud7a3]")
# Beyond this a station is nobody's way to a place, so a place has no nearest station (null): the
# capital region's network reaches from Asan to Soyosan, its stations within a few km of every
# place in Seoul and within 20 km of nearly every place in the region it serves, while a node in
# Barcelona had Incheon Airport at 10,384 km as its "nearest station".
STATION_REACH_M = 20_000.0


def station_key(name: str) -> str:
    """A station name without spaces, punctuation or romanisation hints, so that 'Jongno 3-ga' is
    'Jongno 3(sam)-ga', 'Hongik University' is 'Hongik Univ.' and '을지로 3가' is '을지로3가'."""
    return _NOT_NAME.sub("", normalize(name).replace("university", "univ"))


@dataclass(frozen=True)
class Station:
    id: str
    name_ko: str
    name_en: str | None
    lines: tuple[str, ...]
    lat: float
    lon: float
    gu_code: str | None
    dong_code: str | None

    def public(self, distance_m: float | None = None) -> dict[str, Any]:
        value: dict[str, Any] = {
            "id": self.id,
            "name": {"ko": self.name_ko, "en": self.name_en},
            "lines": list(self.lines),
            "lat": self.lat,
            "lon": self.lon,
            "gu_code": self.gu_code,
            "dong_code": self.dong_code,
        }
        if distance_m is not None:
            value["distance_m"] = round(distance_m)
        return value


class StationIndex:
    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.stations = [
            Station(
                id=row["id"],
                name_ko=row["name_ko"],
                name_en=row.get("name_en"),
                lines=tuple(row["lines"]),
                lat=row["lat"],
                lon=row["lon"],
                gu_code=row.get("gu_code"),
                dong_code=row.get("dong_code"),
            )
            for row in rows
        ]
        self.by_id = {station.id: station for station in self.stations}
        self._by_key: dict[str, list[Station]] = {}
        for station in self.stations:
            for name in {station_key(n) for n in (station.name_ko, station.name_en) if n}:
                self._by_key.setdefault(name, []).append(station)
        self._lat = np.array([s.lat for s in self.stations], dtype=float)
        self._lon = np.array([s.lon for s in self.stations], dtype=float)

    def _distances(self, lat: float, lon: float) -> np.ndarray:
        dx = (self._lon - lon) * metres_per_degree_lon(lat)
        dy = (self._lat - lat) * METRES_PER_DEGREE_LAT
        return np.hypot(dx, dy)

    def nearest(self, lat: float, lon: float, limit: int = 1) -> list[tuple[Station, float]]:
        """Up to `limit` stations within STATION_REACH_M of the point, nearest first, with their distances."""
        if not self.stations:
            return []
        distances = self._distances(lat, lon)
        order = np.argsort(distances, kind="stable")[:limit]
        return [(self.stations[i], float(distances[i])) for i in order if distances[i] <= STATION_REACH_M]

    def exact(self, name: str) -> list[Station]:
        """The stations called this, in Korean or English, however spaced and punctuated (see station_key)."""
        return self._by_key.get(station_key(name), [])

    def named(self, text: str, limit: int = 10) -> list[Station]:
        """Stations whose Korean or English name holds the text (연신내, yeonsinnae), names starting with it first."""
        key = normalize(text).replace(" ", "")
        if not key:
            return []
        found = []
        for station in self.stations:
            names = [normalize(n).replace(" ", "") for n in (station.name_ko, station.name_en) if n]
            if any(key in name for name in names):
                found.append((not any(name.startswith(key) for name in names), station.name_ko, station))
        return [station for *_, station in sorted(found, key=lambda f: (f[0], f[1]))[:limit]]
