"""The hosts' forms in words and back: a resource, a weekly opening, an exception, read from posted text.

Forms post text; ResourceIn, RuleIn and ExceptionIn decide what may be stored, so a form and the API
refuse the same things with the same messages. Here only what a form writes differently: units and
the cancellation policy as comma-separated text, instants as Seoul wall-clock time (KST), weekday
groups, and an empty field meaning "the default".
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from fabcity.booking.models import ExceptionIn, ResourceIn, RuleIn
from fabcity.clock import KST
from fabcity.directory.hours import DAYS, week_of
from fabcity.directory.models import problems_of
from fabcity.errors import FieldError, RecordInvalid

# The resource form's fields, in the order shown; `node` comes from the page's address.
RESOURCE_FIELDS = tuple(name for name in ResourceIn.model_fields if name != "node")
# A weekly opening may be added for one weekday or for a group of them at once.
WEEKDAY_GROUPS = {"weekdays": range(5), "every_day": range(7)}
_TIER = re.compile(r"(\d{1,3})\s*[:=]\s*(\d{1,3})\s*%?")
_OPTIONAL = ("name_en", "parent")
_NUMBERS = (
    "granularity_min", "min_duration_min", "max_duration_min", "lead_time_min", "horizon_days", "buffer_before_min",
    "buffer_after_min", "hold_hours", "price_per_slot_krw", "parent",
)  # fmt: skip


def resource_values(resource: dict[str, Any]) -> dict[str, str]:
    """A stored resource (ResourcePublic) as the form's text."""
    values = {name: "" if resource.get(name) is None else str(resource[name]) for name in RESOURCE_FIELDS}
    values["units"] = ", ".join(resource["units"])
    values["cancellation_policy"] = ", ".join(f"{days}:{percent}" for days, percent in resource["cancellation_policy"])
    return values


def _policy(text: str) -> list[list[int]]:
    tiers = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        match = _TIER.fullmatch(part)
        if match is None:
            raise FieldError("cancellation_policy", "write each tier as days:percent, e.g. 7:100, 3:50, 0:0")
        tiers.append([int(match.group(1)), int(match.group(2))])
    return tiers


def read_resource(form: dict[str, str], node: str) -> ResourceIn:
    """The posted resource form as a ResourceIn, or RecordInvalid naming every field that is wrong at once."""
    record: dict[str, Any] = {"node": node}
    problems = []
    for name in RESOURCE_FIELDS:
        value = form.get(name, "").strip()
        if name == "units":
            record[name] = [label.strip() for label in value.split(",") if label.strip()] or ["1"]
        elif name == "cancellation_policy":
            try:
                record[name] = _policy(value)
            except FieldError as problem:
                problems.append(problem)
        elif name in _NUMBERS and value.isascii() and value.isdigit() and len(value) < 10:
            record[name] = int(value)  # a Literal[15, 30, 60] takes no text, even "30"
        elif value or name == "name_ko":
            record[name] = value
        elif name in _OPTIONAL:
            record[name] = None
    try:
        data = ResourceIn.model_validate(record)
    except ValidationError as error:
        problems += [_named(problem, RESOURCE_FIELDS) for problem in problems_of(error)]
    if problems:
        raise RecordInvalid(problems)
    return data


def _named(problem: FieldError, fields: Collection[str]) -> FieldError:
    """'cancellation_policy.0.1' is the policy's problem; 'record' saying 'end: …' is the field `end`'s."""
    field = problem.field.split(".")[0]
    if field == "record" and ": " in problem.message:
        named, message = problem.message.split(": ", 1)
        if named in fields:
            return FieldError(named, message)
    return FieldError(field, problem.message)


def rules_of_form(form: dict[str, str]) -> list[RuleIn]:
    """The weekly openings a rule form adds: one per weekday of its choice (a day, weekdays, every day)."""
    choice = form.get("weekday", "")
    days = WEEKDAY_GROUPS.get(choice) or ([int(choice)] if choice.isdigit() else [])
    if not days:
        raise RecordInvalid([FieldError("weekday", "choose a day")])
    values = {key: form.get(key, "").strip() or None for key in ("start", "end", "valid_from", "valid_until")}
    try:
        return [RuleIn.model_validate({**values, "weekday": day}) for day in days]
    except ValidationError as error:
        raise RecordInvalid([_named(problem, RuleIn.model_fields) for problem in problems_of(error)]) from None


def _kst(form: dict[str, str], name: str) -> datetime:
    """A datetime-local input ('2027-03-03T10:00') read as Seoul time."""
    try:
        return datetime.fromisoformat(form.get(name, "").strip()).replace(tzinfo=KST)
    except ValueError:
        raise FieldError(name, "a date and time, e.g. 2027-03-03 10:00") from None


def exception_of_form(form: dict[str, str]) -> ExceptionIn:
    """A closure, maintenance or extra opening, its times typed in Seoul time."""
    problems = []
    values: dict[str, Any] = {"kind": form.get("kind", ""), "note": form.get("note", "")}
    for name in ("starts_at", "ends_at"):
        try:
            values[name] = _kst(form, name)
        except FieldError as problem:
            problems.append(problem)
    if problems:
        raise RecordInvalid(problems)
    try:
        return ExceptionIn.model_validate(values)
    except ValidationError as error:
        raise RecordInvalid([_named(problem, ExceptionIn.model_fields) for problem in problems_of(error)]) from None


def rules_of_node_hours(opening_hours: str | None) -> list[RuleIn]:
    """The node's OSM opening hours as weekly openings, when they are plain weekday rows; else none."""
    week = week_of(opening_hours) if opening_hours else None
    if week is None:
        return []
    rules = []
    for day, span in week.days.items():
        if span and span[0] < span[1]:
            rules.append(RuleIn(weekday=DAYS.index(day), start=span[0], end=span[1]))
    return rules
