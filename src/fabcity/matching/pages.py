"""The match page: a need typed in Korean or English, read, shown with a form to correct the
reading, and ranked with the reasons; the map draws the places and the distance allowed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from fabcity.clock import KST
from fabcity.directory import vocabulary
from fabcity.directory.search import parse_point
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import ParameterError, RecordInvalid
from fabcity.matching.need import Need, Place, size_text
from fabcity.matching.parse import read_need
from fabcity.matching.rank import DETAILS, WHY, Check, Match, Ranking, rank, requirements_with, tell
from fabcity.platform import Platform
from fabcity.web import i18n
from fabcity.web.deps import PlatformDep, render, say
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)


@router.get("/match", response_class=HTMLResponse)
def match_page(request: Request, platform: PlatformDep, text: str = "", corrected: bool = False) -> HTMLResponse:
    """Text is read into a need and shown with a form to correct it; the corrected form is ranked as given."""
    reading = ranking = None
    need: Need | None = None
    problems: dict[str, str] = {}
    map_data: dict[str, Any] = {}
    if corrected:
        need, problems = _need_from_form(request.query_params, platform, lambda text: say(request, text))
    elif text.strip():
        try:
            reading = read_need(text[:2000], platform.districts, platform.stations)
            need = reading.need
        except RecordInvalid as error:  # 0개, 2월 30일: said beside the text, which the person can change
            problems = {"text": "; ".join(problem.message for problem in error.problems)}
    if need is not None:
        ranking = rank(platform, need)
        map_data = _map_data(need, ranking)
    terms = taxonomy()
    lang = i18n.language_of(request)

    def requirement(value: str) -> str:
        kind, _, term = value.partition(":")
        if kind in ("process", "material"):
            return i18n.label(terms.get(f"{kind}es" if kind == "process" else "materials", term), lang)
        return say(request, _REQUIREMENTS.get(kind, kind))

    def shown(item: Any) -> str:
        if item.field in ("processes", "materials"):
            return i18n.label(terms.get(item.field, item.value), lang)
        if item.field == "place":
            return item.value.label or f"{item.value.lat:.4f}, {item.value.lon:.4f}"
        if item.field == "part_size_mm":
            return size_text(item.value)
        if isinstance(item.value, int | float):
            return f"{item.value:,.0f}"
        return str(item.value)

    def detail(check: Check) -> str:
        return check.detail_in(say(request, DETAILS[check.kind]), lang) if check.kind else ""

    def choices(kind: str) -> list[tuple[str, str]]:
        return sorted(((t.id, i18n.label(t, lang)) for t in terms.terms[kind].values()), key=lambda c: c[1])

    field_labels = {key: say(request, value) for key, value in _NEED_FIELDS.items()}
    return render(
        request, "matching/match.html", text=text, reading=reading, ranking=ranking, map_data=json.dumps(map_data),
        requirement=requirement, shown=shown, detail=detail, corrected=corrected,
        why=lambda way: [tell(say(request, WHY[kind]), values, requirement) for kind, values in way.reasons()],
        requirements_with=requirements_with, slot_text=lambda moment: slot_text(moment, lang),
        form=_form_values(need, request.query_params if corrected else None),
        problems={field_labels.get(name, name): message for name, message in problems.items()},
        process_choices=choices("processes"), material_choices=choices("materials"),
        access_choices=[(key, i18n.label(pair, lang)) for key, pair in vocabulary.ACCESS_TYPES.items()],
        field_labels=field_labels, node_types=vocabulary.NODE_TYPES,
        status_labels={key: say(request, value) for key, value in _CHECK_STATUSES.items()},
    )  # fmt: skip


_NEED_FIELDS = {
    "text": mark("Describe what you need made"),
    "processes": mark("process"), "materials": mark("material"), "quantity": mark("quantity"),
    "part_size_mm": mark("part size (mm)"), "place": mark("place"), "max_distance_m": mark("within (m)"),
    "needed_by": mark("needed by"), "budget_krw": mark("budget (won)"), "access": mark("access"),
}  # fmt: skip


def _map_data(need: Need, ranking: Ranking) -> dict[str, Any]:
    """What the map draws: the place, the distance allowed, the makers and those beyond the distance."""

    def drawn(matches: list[Match]) -> list[dict[str, Any]]:
        return [{"slug": m.node["slug"], "name": m.node["name"], "node_type": m.node["node_type"],
                 "lat": m.node["location"]["lat"], "lon": m.node["location"]["lon"]} for m in matches]  # fmt: skip

    return {
        "place": need.place.model_dump() if need.place else None,
        "within_m": need.max_distance_m,
        "matches": drawn(ranking.matches),
        "beyond": drawn(ranking.way_forward.beyond if ranking.way_forward else []),
    }


_CHECK_STATUSES = {"met": mark("yes"), "missed": mark("no"), "unknown": mark("not stated")}
_REQUIREMENTS = {
    "batch": mark("quantity"), "part_size": mark("part size"), "distance": mark("distance"), "access": mark("access"),
}  # fmt: skip


def _need_from_form(
    params: Any, platform: Platform, translate: Callable[[str], str]
) -> tuple[Need | None, dict[str, str]]:
    """The need as the person corrected it, or the problems, each under the need field it concerns."""
    problems: dict[str, str] = {}
    fields: dict[str, Any] = {
        "processes": params.getlist("process"), "materials": params.getlist("material"),
        "access": params.getlist("access"),
    }  # fmt: skip
    for name, field, convert in (("quantity", "quantity", int), ("budget", "budget_krw", int),
                                 ("within_km", "max_distance_m", lambda v: float(v) * 1000)):  # fmt: skip
        if value := params.get(name, "").strip().replace(",", ""):
            try:
                fields[field] = convert(value)
            except ValueError:
                problems[field] = translate(mark("“%(value)s” is not a number")) % {"value": value}
    if size := params.get("size", "").strip():
        sides = re.split(r"\s*[x×*]\s*", size.lower().removesuffix("mm").strip())
        try:
            fields["part_size_mm"] = [float(side) for side in sides]
        except ValueError:
            message = mark("“%(value)s”: write the sides in mm, e.g. 300x200 or 300x200x5")
            problems["part_size_mm"] = translate(message) % {"value": size}
    if needed_by := params.get("needed_by", "").strip():
        try:
            fields["needed_by"] = date.fromisoformat(needed_by)
        except ValueError:
            problems["needed_by"] = translate(mark("“%(value)s” is not a date (YYYY-MM-DD)")) % {"value": needed_by}
    if place := params.get("place", "").strip():
        try:
            lat, lon = parse_point(place, "place")
            fields["place"] = Place(lat=lat, lon=lon)
        except ParameterError:  # not a point: a gu, dong or station by name
            try:
                named = read_need(place[:200], platform.districts, platform.stations, field="place")
                fields["place"] = named.need.place
            except RecordInvalid:  # "0개": whatever else it says, it names no place
                fields["place"] = None
            if fields["place"] is None:
                problems["place"] = translate(mark("no gu, dong or station is called “%(value)s”")) % {"value": place}
    if problems:
        return None, problems
    try:
        return Need(**fields), {}
    except ValidationError as error:
        return None, {str(e["loc"][0]): e["msg"].removeprefix("Value error, ") for e in error.errors()}


def _form_values(need: Need | None, params: Any) -> dict[str, Any]:
    """What the correction form shows: the person's own entries when they sent it, else the need as read."""
    if params is not None:
        names = ("quantity", "size", "place", "within_km", "needed_by", "budget")
        return {**{name: params.get(name, "") for name in names},
                **{name: params.getlist(name) for name in ("process", "material", "access")}}  # fmt: skip
    if need is None:
        return {"process": [], "material": [], "access": []}
    place = need.place
    return {
        "process": need.processes, "material": need.materials, "access": need.access,
        "quantity": need.quantity or "", "budget": need.budget_krw or "",
        "size": size_text(need.part_size_mm, "x") if need.part_size_mm else "",
        "place": (place.label or f"{place.lat:.5f},{place.lon:.5f}") if place else "",
        "within_km": f"{need.max_distance_m / 1000:g}" if need.max_distance_m else "",
        "needed_by": need.needed_by.isoformat() if need.needed_by else "",
    }  # fmt: skip


_WEEKDAYS = {"ko": "월화수목금토일", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def slot_text(moment: datetime, lang: str) -> str:
    """A slot's start in Seoul as people say it: "12월 3일 (목) 14:00", "Thu 3 Dec 14:00"."""
    local = moment.astimezone(KST)
    if lang == "ko":
        return f"{local.month}월 {local.day}일 ({_WEEKDAYS['ko'][local.weekday()]}) {local:%H:%M}"
    return f"{_WEEKDAYS['en'][local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"
