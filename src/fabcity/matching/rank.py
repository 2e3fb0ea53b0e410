"""Ranking the nodes that can make a need, each with the reasons it was or was not a fit.

Candidates come from the one search engine (active nodes doing any of the needed processes, near
the place when there is one), joined by the nodes known only by their gu or dong whose district
comes within reach: such a node is somewhere in it, so its distance is a range, "unknown" when the
range straddles the limit. A need that names no process is matched on its materials; one that
names neither gets no nodes, since none can be shown to fit. Hard requirements then decide who
stays: every needed process, the material (when the node lists materials), the batch band (when
it states one) and the part size (when its machines state their bed or build volume). What a node
does not state is "unknown": it stays, scored lower, and says so. The score weighs coverage,
distance, access, the machines' stated specs and how recently a curator verified the listing.
When no node covers every process, pairs of nearby nodes that cover them together are offered.

Bookable machines are a soft factor, never a filter: for each maker that fits, the earliest free
hour (from now, within two weeks) of its bookable machines that do the needed work is looked up
(booking.finding); a maker with one gains up to BOOKABLE_WEIGHT, more the sooner it is, and each
result says when ("earliest free slot") or that it has no bookable machine. A maker that takes
no bookings therefore ranks a little below an otherwise equal one that does, and is never dropped.

When no node fits at all, the ranking still offers a way forward, looked for in all of Seoul: the
nearest makers that do everything but lie beyond the distance (with their distance), makers that do
part of the need (their checks say which part and which not), and how many capable makers each
requirement left out, so that a person sees which constraint to loosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from fabcity.booking.finding import EARLIEST_WITHIN, earliest_for_equipment
from fabcity.directory import vocabulary
from fabcity.directory.read import public_nodes
from fabcity.directory.search import DEFAULT_RADIUS_M, SearchQuery, search
from fabcity.directory.taxonomy import taxonomy
from fabcity.geo.cells import distance_m
from fabcity.geo.districts import Reach
from fabcity.matching.need import Need, size_text
from fabcity.platform import Platform
from fabcity.storage import schema

# Candidates examined, nearest first: nearness is a quarter of the score, so a node beyond the
# 200 nearest capable ones would need far better coverage to rank in the first page.
CANDIDATES = 200
DISTANCE_SCALE_M = 5_000.0
_SIZE_SPECS = ("bed_size_mm", "working_area_mm", "build_volume_mm")
MET, MISSED, UNKNOWN = "met", "missed", "unknown"
# A maker whose machine for the work is free now gains this much; one free in two weeks, nearly nothing.
BOOKABLE_WEIGHT = 0.04
BOOKED_LENGTH = timedelta(hours=1)  # the earliest free slot asked for: an hour on the machine


# What a check says beyond met or missed, by kind: English here and in the API; the web page shows
# them from its Korean catalog (a test keeps every one translated).
DETAILS = {
    "other_materials": "its machines for this work list other materials",
    "not_listed": "not listed by the node",
    "batch": "%(quantity)s units; the node's typical batch is %(batch)s",
    "batch_unstated": "%(quantity)s units; the node states no typical batch",
    "part_size": "%(size)s mm",
    "distance": "%(distance)s m",
    "district": "%(nearest)s–%(farthest)s m: somewhere in %(district)s",
    "access": "the node's access: %(access)s",
    "access_unstated": "the node states no access",
}


@dataclass
class Check:
    requirement: str  # process:laser_cutting, material:acrylic, batch, part_size, distance, access
    status: str  # met | missed | unknown
    kind: str | None = None  # a key of DETAILS
    values: dict[str, Any] = field(default_factory=dict)  # numbers, ids and {ko, en} names

    def detail_in(self, template: str, language: str) -> str:
        """The detail, from DETAILS[kind] or its translation, with names and access in the language."""
        shown = {}
        for key, value in self.values.items():
            if isinstance(value, dict):  # a district's {ko, en} name
                first, second = ("ko", "en") if language == "ko" else ("en", "ko")
                value = value.get(first) or value.get(second)
            elif key == "access":
                value = vocabulary.ACCESS_TYPES[value][0 if language == "ko" else 1]
            elif isinstance(value, float | int):
                value = f"{value:,.0f}"
            shown[key] = value
        return template % shown

    @property
    def detail(self) -> str:
        return self.detail_in(DETAILS[self.kind], "en") if self.kind else ""

    def public(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "status": self.status, "detail": self.detail}


@dataclass
class Match:
    node: dict[str, Any]
    score: float
    checks: list[Check] = field(default_factory=list)
    distance_m: float | None = None
    bookable: bool = False  # it has a bookable machine that does the work
    earliest_slot: tuple[datetime, datetime] | None = None  # that machine's earliest free hour

    def public(self) -> dict[str, Any]:
        summary = {key: self.node[key] for key in ("id", "slug", "name", "node_type", "location", "nearest_station")}
        slot = self.earliest_slot
        return {
            "node": summary,
            "score": round(self.score, 3),
            "distance_m": None if self.distance_m is None else round(self.distance_m),
            "checks": [check.public() for check in self.checks],
            "bookable_machine": self.bookable,
            "earliest_free_slot": None
            if slot is None
            else {"starts_at": _utc_text(slot[0]), "ends_at": _utc_text(slot[1])},
        }


def _utc_text(moment: datetime) -> str:
    """An instant as the API writes it (ISO 8601, Z): the ranking's public form is plain JSON (the CLI dumps it)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _machine_processes(machine: dict[str, Any]) -> list[str]:
    return machine["processes"] or list(taxonomy().get("equipment_types", machine["type"]).processes)


def _fits(part: list[float], machine: dict[str, Any]) -> bool | None:
    """Whether the part fits the machine's stated bed or volume (sides compared largest to largest)."""
    sizes = [machine["specs"][spec] for spec in _SIZE_SPECS if machine["specs"].get(spec)]
    if not sizes:
        return None
    wanted = sorted(part, reverse=True)
    for size in sizes:
        available = sorted(size, reverse=True)
        if len(available) < len(wanted):  # a flat bed holds a part of any thickness it can cut
            available += [math.inf] * (len(wanted) - len(available))
        if all(w <= a for w, a in zip(wanted, available, strict=False)):
            return True
    return False


def _batch_fits(quantity: int, band: str | None) -> bool | None:
    """Over the band's top is too many for the node; under its bottom is unusual but may be agreed."""
    if band is None:
        return None
    low, high = vocabulary.BATCH_SIZES[band]
    if high is not None and quantity > high:
        return False
    return True if quantity >= low else None


def assess(
    need: Need,
    node: dict[str, Any],
    origin: tuple[float, float] | None,
    reach: Reach | None = None,
    keep_misses: bool = False,
) -> Match | None:
    """The checks and score of one node for a need; None when a hard requirement is missed, unless
    `keep_misses` (a partial match says what it cannot do).

    `reach` places a node known only by its district: how far that district is from the origin.
    """
    capabilities = node["capabilities"]
    checks: list[Check] = []
    processes = set(taxonomy().with_ancestors(capabilities["processes"]))
    for process in need.processes:
        checks.append(Check(f"process:{process}", MET if process in processes else MISSED))
    # A node's material list is rarely complete; the machines doing the process are more telling:
    # a material is missed only when those machines state their materials and it is not one of them.
    wanted = set(need.processes)
    doers = [m for m in node["equipment"] if not wanted or set(_machine_processes(m)) & wanted]
    stated = {material for machine in doers for material in machine["materials"]}
    for material in need.materials:
        if material in capabilities["materials"] or material in stated:
            checks.append(Check(f"material:{material}", MET))
        elif doers and all(machine["materials"] for machine in doers):
            checks.append(Check(f"material:{material}", MISSED, "other_materials"))
        else:
            checks.append(Check(f"material:{material}", UNKNOWN, "not_listed"))
    if need.quantity is not None:
        fits = _batch_fits(need.quantity, node["batch_size"])
        status = UNKNOWN if fits is None else MET if fits else MISSED
        kind, values = ("batch", {"quantity": need.quantity, "batch": node["batch_size"]}) if node["batch_size"] else (
            "batch_unstated", {"quantity": need.quantity})  # fmt: skip
        checks.append(Check("batch", status, kind, values))
    if need.part_size_mm:
        machines = [
            m for m in node["equipment"] if not need.processes or set(_machine_processes(m)) & set(need.processes)
        ]
        verdicts = [fit for m in machines if (fit := _fits(need.part_size_mm, m)) is not None]
        status = UNKNOWN if not verdicts else MET if any(verdicts) else MISSED
        checks.append(Check("part_size", status, "part_size", {"size": size_text(need.part_size_mm)}))
    if not keep_misses and any(c.status == MISSED for c in checks if not c.requirement.startswith("process:")):
        return None
    distance = estimate = None
    if origin is not None and node["location"]["lat"] is not None:
        distance = estimate = distance_m(*origin, node["location"]["lat"], node["location"]["lon"])
        near_enough = need.max_distance_m is None or distance <= need.max_distance_m
        checks.append(Check("distance", MET if near_enough else MISSED, "distance", {"distance": distance}))
    elif reach is not None:
        estimate, limit = reach.centre_m, need.max_distance_m
        status = MET if limit is None or reach.farthest_m <= limit else MISSED if reach.nearest_m > limit else UNKNOWN
        district = node["location"]["dong"] or node["location"]["gu"]
        values = {"nearest": reach.nearest_m, "farthest": reach.farthest_m, "district": district["name"]}
        checks.append(Check("distance", status, "district", values))
    if need.access:
        status = UNKNOWN if node["access_type"] is None else MET if node["access_type"] in need.access else MISSED
        kind, values = ("access", {"access": node["access_type"]}) if node["access_type"] else ("access_unstated", {})
        checks.append(Check("access", status, kind, values))
    return Match(node, _score(need, node, checks, estimate), checks, distance)


def _score(need: Need, node: dict[str, Any], checks: list[Check], distance: float | None) -> float:
    """0..1: coverage first, then nearness, stated machine specs, access and a recent verification."""
    weights = {MET: 1.0, UNKNOWN: 0.5, MISSED: 0.0}
    required = [c for c in checks if c.requirement not in ("distance", "access")]
    coverage = sum(weights[c.status] for c in required) / len(required) if required else 1.0
    nearness = math.exp(-distance / DISTANCE_SCALE_M) if distance is not None else 0.3
    specified = 1.0 if any(m["specs"] for m in node["equipment"]) else 0.0
    access = next((weights[c.status] for c in checks if c.requirement == "access"), 1.0)
    verified_at = node["provenance"]["verified_at"]
    fresh = 0.0
    if verified_at:
        age_days = (datetime.now(UTC) - datetime.fromisoformat(verified_at.replace("Z", "+00:00"))).days
        fresh = max(0.0, 1.0 - age_days / 365)
    return 0.55 * coverage + 0.25 * nearness + 0.08 * specified + 0.06 * access + 0.06 * fresh


# How many makers a way forward offers of each kind.
WAY_FORWARD_SHOWN = 5
# Why nothing matched, by kind: English here and in the API; the page shows them from its catalog.
WHY = {
    "no_doer": "No listed maker does %(process)s.",
    "no_single_doer": "No single maker does all of: %(processes)s.",
    "farther": "Makers that fit otherwise but are farther than %(within)s m: %(count)s.",
    "farther_nearest": "Makers that fit otherwise but are farther than %(within)s m: %(count)s; "
    "the nearest is %(distance)s m away.",
    "left_out": "Makers left out by %(requirement)s: %(count)s.",
}


def tell(template: str, values: dict[str, Any], name: Callable[[str], str]) -> str:
    """A reason in words: numbers with thousands separators, ids (a process, a requirement) by `name`."""
    shown: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list):
            shown[key] = ", ".join(name(f"process:{item}") if key == "processes" else name(item) for item in value)
        elif isinstance(value, float | int):
            shown[key] = f"{value:,.0f}"
        else:
            shown[key] = name(f"process:{value}") if key == "process" else name(value)
    return template % shown


@dataclass
class WayForward:
    """What is offered when no maker fits the need: looked for in all of Seoul."""

    beyond: list[Match]  # every requirement met but the distance, nearest first
    partial: list[Match]  # part of the need: their checks say which part and which not
    doers: dict[str, int]  # process → capable makers in Seoul
    excluded: dict[str, int]  # requirement → capable makers it left out
    within_m: float | None  # the distance asked for
    beyond_total: int = 0  # makers that fit but for the distance, of which `beyond` shows the nearest
    doers_of_all: int = 0  # makers doing every needed process, whatever else they miss

    @property
    def farther_only(self) -> bool:
        """Whether some makers fit everything but the distance: the distance is then told on its own."""
        return bool(self.beyond_total) and self.within_m is not None

    def reasons(self) -> list[tuple[str, dict[str, Any]]]:
        """Why nothing matched, one (key of WHY, values) a constraint; requirements and processes as ids."""
        said: list[tuple[str, dict[str, Any]]] = [
            ("no_doer", {"process": process}) for process, count in self.doers.items() if not count
        ]
        if len(self.doers) > 1 and all(self.doers.values()) and not self.doers_of_all:
            said.append(("no_single_doer", {"processes": list(self.doers)}))
        if self.farther_only:
            values = {"count": self.beyond_total, "within": self.within_m}
            nearest = self.beyond[0].distance_m
            said.append(
                ("farther", values) if nearest is None else ("farther_nearest", {**values, "distance": nearest})
            )
        for requirement, count in self.excluded.items():
            if requirement != "distance" or not self.farther_only:  # else told above
                said.append(("left_out", {"requirement": requirement, "count": count}))
        return said

    def explanation(self) -> list[str]:
        """The reasons in English, for the API and the CLI (the page says them from its catalog)."""
        return [tell(WHY[kind], values, lambda name: name.removeprefix("process:")) for kind, values in self.reasons()]

    def public(self) -> dict[str, Any]:
        return {
            "beyond": [match.public() for match in self.beyond],
            "partial": [
                {**match.public(), "can": requirements_with(match, MET), "cannot": requirements_with(match, MISSED)}
                for match in self.partial
            ],  # fmt: skip
            "doers": self.doers,
            "excluded": [{"requirement": key, "nodes": count} for key, count in self.excluded.items()],
            "explanation": self.explanation(),
        }


def requirements_with(match: Match, status: str) -> list[str]:
    """The requirements a match checked with this status (met, missed, unknown)."""
    return [check.requirement for check in match.checks if check.status == status]


def _exclusions(match: Match) -> list[str]:
    """The requirements that leave a maker out: all but access, which only ranks it lower."""
    return [requirement for requirement in requirements_with(match, MISSED) if requirement != "access"]


@dataclass
class Ranking:
    matches: list[Match]
    combinations: list[tuple[Match, Match]]
    way_forward: WayForward | None = None

    def public(self) -> dict[str, Any]:
        return {
            "results": [match.public() for match in self.matches],
            "combinations": [
                {"nodes": [first.public(), second.public()], "covers": sorted(_covered(first) | _covered(second))}
                for first, second in self.combinations
            ],
            "way_forward": None if self.way_forward is None else self.way_forward.public(),
        }


def _covered(match: Match) -> set[str]:
    return {
        c.requirement.removeprefix("process:")
        for c in match.checks
        if c.requirement.startswith("process:") and c.status == MET
    }


def _in_districts(
    platform: Platform, need: Need, origin: tuple[float, float], radius: float
) -> list[tuple[dict[str, Any], Reach]]:
    """Active nodes known only by their gu or dong, doing a needed process (or listing a needed
    material), whose district comes within the radius; nearest districts first."""
    kind, terms = ("p", need.processes) if need.processes else ("m", need.materials)
    term = schema.node_term.c
    capable = select(term.node_pk).where(term.kind == kind, term.term.in_(terms), term.cell.is_(None))
    row = schema.node.c
    unplaced = select(row.pk, row.gu_code, row.dong_code).where(
        row.status == "active", row.lat.is_(None), row.gu_code.is_not(None), row.pk.in_(capable)
    )
    reaches: dict[str, Reach] = {}
    with platform.engine.connect() as conn:
        found = []
        for pk, gu_code, dong_code in conn.execute(unplaced):
            code = dong_code or gu_code
            if code not in reaches:
                reaches[code] = platform.districts.reach(code, *origin)
            if reaches[code].nearest_m <= radius:
                found.append((reaches[code].nearest_m, pk, reaches[code]))
        found = sorted(found, key=lambda item: item[:2])[:CANDIDATES]
        records = public_nodes(conn, [pk for _, pk, _ in found])
    return list(zip(records, [reach for *_, reach in found], strict=True))


def _candidates(
    platform: Platform, need: Need, origin: tuple[float, float] | None, radius: float
) -> list[tuple[dict[str, Any], Reach | None]]:
    """Active nodes doing a needed process (or listing a needed material), within the radius of the origin."""
    query = SearchQuery(
        processes=list(need.processes), materials=[] if need.processes else list(need.materials), limit=CANDIDATES
    )
    if origin is not None:
        query.near, query.radius_m = origin, radius
    candidates: list[tuple[dict[str, Any], Reach | None]] = [(found, None) for found in search(platform, query).results]
    if origin is not None:
        candidates += _in_districts(platform, need, origin, radius)
    return candidates


def _way_forward(platform: Platform, need: Need, origin: tuple[float, float] | None) -> WayForward:
    """Every capable maker in Seoul, assessed without dropping any: who does all of it farther away,
    who does part of it, and which requirement left out how many."""
    assessed = [
        match
        for found, reach in _candidates(platform, need, origin, DEFAULT_RADIUS_M)
        if (match := assess(need, found, origin, reach, keep_misses=True))
    ]
    doers = {
        process: sum(f"process:{process}" in requirements_with(m, MET) for m in assessed) for process in need.processes
    }
    excluded: dict[str, int] = {}
    for match in assessed:
        for requirement in _exclusions(match):
            if not requirement.startswith("process:"):
                excluded[requirement] = excluded.get(requirement, 0) + 1

    def far(match: Match) -> float:
        return match.distance_m if match.distance_m is not None else math.inf

    beyond = [m for m in assessed if _exclusions(m) == ["distance"]]
    beyond.sort(key=lambda m: (far(m), m.node["slug"]))
    farther = {id(m) for m in beyond}  # by identity: comparing matches compares whole node records
    partial = [m for m in assessed if id(m) not in farther and requirements_with(m, MET)]
    partial.sort(key=lambda m: (len(_exclusions(m)), -m.score, far(m), m.node["slug"]))
    shown = WAY_FORWARD_SHOWN
    doers_of_all = sum(not any(r.startswith("process:") for r in requirements_with(m, MISSED)) for m in assessed)
    return WayForward(beyond[:shown], partial[:shown], doers, excluded, need.max_distance_m, len(beyond), doers_of_all)


def _weigh_bookings(platform: Platform, need: Need, matches: list[Match]) -> None:
    """Each match's earliest free hour on a bookable machine doing the needed work, and its small bonus."""
    working = {
        machine["type"]
        for match in matches
        for machine in match.node["equipment"]
        if set(_machine_processes(machine)) & set(need.processes) or not need.processes
    }
    earliest = earliest_for_equipment(platform, [m.node["id"] for m in matches], sorted(working), BOOKED_LENGTH)
    now = datetime.now(UTC)
    for match in matches:
        match.bookable = match.node["id"] in earliest
        match.earliest_slot = earliest.get(match.node["id"])
        if match.earliest_slot is not None:
            wait = max(match.earliest_slot[0] - now, timedelta(0))
            match.score += BOOKABLE_WEIGHT * max(0.0, 1 - wait / EARLIEST_WITHIN)


def rank(platform: Platform, need: Need, limit: int = 20) -> Ranking:
    """Nodes that can make the need, best first, and pairs that can when no single node does; when
    nothing fits, a way forward."""
    if not need.processes and not need.materials:
        return Ranking([], [])
    origin = (need.place.lat, need.place.lon) if need.place else None
    # A place without a distance says where the person is: it orders the makers, it excludes none in the city.
    radius = need.max_distance_m or DEFAULT_RADIUS_M
    candidates = _candidates(platform, need, origin, radius)
    assessed = [match for found, reach in candidates if (match := assess(need, found, origin, reach))]
    complete = [m for m in assessed if len(_covered(m)) == len(need.processes)]
    _weigh_bookings(platform, need, complete)
    complete.sort(key=lambda m: (-m.score, m.distance_m if m.distance_m is not None else math.inf, m.node["slug"]))
    combinations: list[tuple[Match, Match]] = []
    if not complete and len(need.processes) > 1:
        partial = sorted(assessed, key=lambda m: -m.score)[:60]
        pairs = [
            (first, second)
            for i, first in enumerate(partial)
            for second in partial[i + 1 :]
            if len(_covered(first) | _covered(second)) == len(need.processes)
        ]
        pairs.sort(key=lambda pair: -(pair[0].score + pair[1].score))
        combinations = pairs[:limit]
    way_forward = None if complete else _way_forward(platform, need, origin)
    return Ranking(complete[:limit], combinations, way_forward)
