"""Seoul's 25 gu and 426 administrative dongs: lookup by code or name, and point-in-polygon."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.strtree import STRtree

from fabcity.errors import ParameterError
from fabcity.geo.cells import METRES_PER_DEGREE_LAT, distance_m, metres_per_degree_lon

# The Fab City Seoul plan's prototype zones (seed 002): marked on district pages, beside Seoul on the dashboard.
PROTOTYPE_ZONES = {"11380": "Eunpyeong-gu", "11320": "Dobong-gu"}
_NAME_NOISE = re.compile(r"[\s·.\-‧ㆍ]")


def name_key(name: str) -> str:
    """Compare district names the way Seoul's tables differ: '·' vs '.', '제', spaces, '-gu' suffixes."""
    key = _NAME_NOISE.sub("", name.casefold())
    key = key.replace("제", "")
    return key


@dataclass(frozen=True)
class District:
    code: str
    level: str
    kostat_code: str
    kostat_code8: str | None
    parent_code: str | None
    name_ko: str
    name_en: str | None
    area_km2: float | None
    center_lat: float
    center_lon: float

    def public(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "kostat_code": self.kostat_code,
            "kostat_code8": self.kostat_code8,
            "parent_code": self.parent_code,
            "name": {"ko": self.name_ko, "en": self.name_en},
            "area_km2": self.area_km2,
            "center": {"lat": self.center_lat, "lon": self.center_lon},
        }


@dataclass(frozen=True)
class Reach:
    """How far a district lies from a point, in metres: its nearest edge (0 inside), farthest corner, centre."""

    nearest_m: float
    farthest_m: float
    centre_m: float


class DistrictIndex:
    """Everything needed to turn a point, a code or a name into a gu and dong."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.all: list[District] = []
        self.by_code: dict[str, District] = {}
        self._by_name: dict[str, list[District]] = {}
        dong_shapes = []
        self._dongs: list[District] = []
        for row in rows:
            district = District(
                code=row["code"],
                level=row["level"],
                kostat_code=row["kostat_code"],
                kostat_code8=row.get("kostat_code8"),
                parent_code=row.get("parent_code"),
                name_ko=row["name_ko"],
                name_en=row.get("name_en"),
                area_km2=row.get("area_km2"),
                center_lat=row["center_lat"],
                center_lon=row["center_lon"],
            )
            self.all.append(district)
            self.by_code[district.code] = district
            self.by_code.setdefault(district.kostat_code, district)
            if district.kostat_code8:
                self.by_code.setdefault(district.kostat_code8, district)
            for name in self._names(district):
                self._by_name.setdefault(name_key(name), []).append(district)
            if district.level == "dong":
                geometry = row["geometry"]
                dong_shapes.append(shape(json.loads(geometry) if isinstance(geometry, str) else geometry))
                self._dongs.append(district)
        self._tree = STRtree(dong_shapes)
        self._shapes = dong_shapes
        self._gu_names = sorted(
            ((name_key(name), district) for district in self.gus() for name in self._names(district)),
            key=lambda item: -len(item[0]),
        )

    @staticmethod
    def _names(district: District) -> list[str]:
        names = [district.name_ko]
        if district.name_en:
            names.append(district.name_en)
            if district.level == "gu" and district.name_en.endswith("-gu"):
                names.append(district.name_en[: -len("-gu")])
        if district.level == "gu" and district.name_ko.endswith("구") and len(district.name_ko) > 2:
            names.append(district.name_ko[:-1])
        return names

    def gus(self) -> list[District]:
        return [d for d in self.all if d.level == "gu"]

    def dongs(self) -> list[District]:
        return list(self._dongs)

    def at_level(self, level: str, parent: str | None = None) -> list[District]:
        """The gu, or the dongs (of one gu when `parent` is given), in code order: what tables list."""
        found = self.gus() if level == "gu" else self.dongs()
        return sorted((d for d in found if not parent or d.parent_code == parent), key=lambda d: d.code)

    def locate(self, lat: float, lon: float) -> tuple[District, District] | None:
        """The gu and dong holding a point, or None outside Seoul."""
        point = shapely.Point(lon, lat)
        for index in self._tree.query(point, predicate="intersects"):
            dong = self._dongs[int(index)]
            return self.by_code[dong.parent_code], dong
        return None

    def reach(self, code: str, lat: float, lon: float) -> Reach:
        """Where a node known only by its gu or dong can be from a point: anywhere between the two bounds."""
        district = self.by_code[code]
        shapes = [s for s, d in zip(self._shapes, self._dongs, strict=True) if code in (d.code, d.parent_code)]
        scale = np.array([metres_per_degree_lon(lat), METRES_PER_DEGREE_LAT])
        local = shapely.transform(shapes, lambda xy: (xy - [lon, lat]) * scale)  # metres around the point
        corners = shapely.get_coordinates(local)
        return Reach(
            nearest_m=float(shapely.distance(local, shapely.Point(0, 0)).min()),
            farthest_m=float(np.hypot(corners[:, 0], corners[:, 1]).max()),
            centre_m=distance_m(lat, lon, district.center_lat, district.center_lon),
        )

    def resolve(self, value: str, level: str | None = None) -> list[District]:
        """Districts matching a MOIS or KOSTAT code or a Korean or English name (all namesakes)."""
        value = value.strip()
        found = self.by_code.get(value)
        candidates = [found] if found else self._by_name.get(name_key(value), [])
        return [d for d in candidates if level is None or d.level == level]

    def one(self, value: str) -> District:
        """The one gu or dong a code or name means; a name that means none or several is an error of `place`."""
        found = self.resolve(value)
        if len(found) != 1:
            raise ParameterError("place", f"{value!r} names {'no' if not found else 'more than one'} gu or dong")
        return found[0]

    def gu_in_text(self, text: str) -> District | None:
        """The gu an address names, if it names exactly one (e.g. 'Songpa-gu', '은평구')."""
        key = name_key(text)
        found = {district.code: district for name, district in self._gu_names if len(name) >= 2 and name in key}
        # "Jung" is inside "Jungnang"; keep only names not contained in a longer match.
        names = {district.code: name_key(district.name_en or district.name_ko) for district in found.values()}
        kept = [
            district
            for code, district in found.items()
            if not any(code != other and names[code] in names[other] for other in found)
        ]
        return kept[0] if len(kept) == 1 else None
