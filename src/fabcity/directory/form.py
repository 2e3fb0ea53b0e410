"""The node form: the plain fields a browser posts, to and from a node's record.

A host edits a node without knowing JSON or OpenStreetMap syntax: a row per machine (type, make,
model, quantity and the specs of that type, in their units), a row per weekday for the opening
hours, or the hours written out in Korean. The form is read whole: every field that cannot be read
is reported at once, named by its form field, and the record paths the model reports
(`equipment.0.specs.bed_size_mm`) are turned into the form field that holds them
(`machine-0-bed_size_mm`), so each error is shown next to what the host typed.

Field names: `name_ko` … for the node; `hours-Mo-open`, `hours-Mo-close`, `hours-Mo-closed`,
`hours-holidays` and `opening_hours` (the hours written out, which win when given) for the week;
`machine-<row>-type|name|make|model|quantity|<spec>[-<n>]|remove` and the kept fields
`machine-<row>-name_en|processes|materials|notes` for each machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fabcity.directory.editing import CONTRIBUTION_LICENSE
from fabcity.directory.hours import DAYS, Week, clock_of, holidays_of, week_hours, week_of
from fabcity.directory.models import validate_node
from fabcity.directory.specs import SPECS, number_text
from fabcity.errors import FieldError, RecordInvalid

HOURS_GROUP = "hours"  # the week's rows as a whole: where an error of the composed hours is shown
MAX_MACHINES = 500  # as models.NodeIn allows
_MACHINE_KEY = re.compile(r"^machine-(\d{1,3})-")
_TEXTS = ("name", "make", "model", "quantity", "name_en", "processes", "materials", "notes")
_KEPT = ("name_en", "processes", "materials", "notes")  # not shown in the row, carried so a save keeps them
_NODE_PATHS = {
    "name": "name_ko", "name.ko": "name_ko", "name.en": "name_en", "description.ko": "description_ko",
    "description.en": "description_en", "location": "lat", "location.lat": "lat", "location.lon": "lon",
    "location.precision": "lat", "location.address.ko": "address_ko", "contact.phone": "phone",
    "contact.email": "email", "contact.website": "website",
}  # fmt: skip


def spec_fields(spec_key: str) -> list[str]:
    """The form field suffixes of one spec: `bed_size_mm-0`, `bed_size_mm-1` for a bed, `laser_power_w` alone."""
    size = SPECS[spec_key].size
    return [spec_key] if size == 1 else [f"{spec_key}-{n}" for n in range(size)]


def values_of_record(record: dict[str, Any], language: str) -> dict[str, str]:
    """A stored node (its importable record) as the form's fields, filled in for a page in `language`."""
    location, contact = record.get("location") or {}, record.get("contact") or {}

    def pair(name: str, language: str) -> str:
        return (record.get(name) or {}).get(language) or ""

    values = {
        "name_ko": pair("name", "ko"), "name_en": pair("name", "en"),
        "description_ko": pair("description", "ko"), "description_en": pair("description", "en"),
        "node_type": record.get("node_type") or "makerspace", "status": record.get("status") or "active",
        "access_type": record.get("access_type") or "", "batch_size": record.get("batch_size") or "",
        "address_ko": (location.get("address") or {}).get("ko") or "",
        "lat": "" if location.get("lat") is None else number_text(location["lat"]),
        "lon": "" if location.get("lon") is None else number_text(location["lon"]),
        "phone": contact.get("phone", ""), "email": contact.get("email", ""), "website": contact.get("website", ""),
        "processes": ", ".join(record.get("processes") or []),
        "materials": ", ".join(record.get("materials") or []),
    }  # fmt: skip
    values.update(_hours_values(record.get("opening_hours"), language))
    for row, machine in enumerate(record.get("equipment") or []):
        values.update(_machine_values(row, machine))
    return values


def _hours_values(hours: str | None, language: str) -> dict[str, str]:
    """The week's rows when the stored hours fit them, else the hours written out as stored."""
    week = week_of(hours)
    if week is None:
        return {"opening_hours": hours or ""}
    closed = "휴무" if language == "ko" else "closed"
    values = {"opening_hours": "", "hours-holidays": closed if week.holidays == "off" else week.holidays or ""}
    for day, span in week.days.items():
        opens, closes = span or ("", "")
        values.update({f"hours-{day}-open": opens, f"hours-{day}-close": closes})
        if span is None and hours:
            values[f"hours-{day}-closed"] = "on"
    return values


def _machine_values(row: int, machine: dict[str, Any]) -> dict[str, str]:
    name = machine.get("name") or {}
    quantity = machine.get("quantity")
    values = {
        "type": machine.get("type") or "", "name": name.get("ko") or "", "name_en": name.get("en") or "",
        "make": machine.get("make") or "", "model": machine.get("model") or "",
        "quantity": "" if quantity is None else str(quantity), "notes": machine.get("notes") or "",
        "processes": ", ".join(machine.get("processes") or []), "materials": ", ".join(machine.get("materials") or []),
    }  # fmt: skip
    for key, value in (machine.get("specs") or {}).items():
        parts = value if isinstance(value, list) else [value]
        for suffix, part in zip(spec_fields(key), parts, strict=False):
            values[suffix] = number_text(part) if isinstance(part, int | float) else str(part)
    return {f"machine-{row}-{key}": value for key, value in values.items()}


def machine_rows(values: dict[str, str]) -> list[int]:
    """The machine rows the values hold, in order (a removed row stays until saved, so errors keep its place)."""
    return sorted({int(match[1]) for key in values if (match := _MACHINE_KEY.match(key))})[:MAX_MACHINES]


@dataclass
class Reading:
    """The form read into a merge patch, the problems found reading it, and each machine's form row."""

    patch: dict[str, Any]
    problems: list[FieldError] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    hours_written: bool = False

    def field_of(self, path: str) -> str | None:
        """The form field that holds a record path the model reported; None when no field holds it."""
        if path == "opening_hours":
            return "opening_hours" if self.hours_written else HOURS_GROUP
        if path in _NODE_PATHS:
            return _NODE_PATHS[path]
        head, _, rest = path.partition(".")
        if head in ("processes", "materials", "node_type", "status", "access_type", "batch_size"):
            return head
        machine = re.match(r"^equipment\.(\d+)\.?([a-z_]*)\.?([a-z_0-9]*)", path)
        if head == "equipment" and machine and int(machine[1]) < len(self.rows):
            row, part, spec = self.rows[int(machine[1])], machine[2], machine[3]
            if part == "specs" and spec in SPECS:
                return f"machine-{row}-{spec_fields(spec)[0]}"
            return f"machine-{row}-{part if part in ('type', 'make', 'model', 'quantity', 'name') else 'type'}"
        return None


def read_form(values: dict[str, str]) -> Reading:
    """The posted form as a merge patch on the node (an empty field removes its value), with every problem."""

    def text(name: str) -> str | None:
        return (values.get(name) or "").strip() or None

    def number(name: str) -> float | str | None:
        value = text(name)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return value  # the model names the field and says it is not a number

    reading = Reading(patch={})
    reading.patch = {
        "name": {"ko": text("name_ko"), "en": text("name_en")},
        "description": {"ko": text("description_ko"), "en": text("description_en")},
        "node_type": text("node_type"), "status": text("status") or "active",
        "access_type": text("access_type"), "batch_size": text("batch_size"),
        "location": {"lat": number("lat"), "lon": number("lon"), "address": {"ko": text("address_ko")}},
        "contact": {"phone": text("phone"), "email": text("email"), "website": text("website")},
        "processes": _items(values.get("processes")), "materials": _items(values.get("materials")),
        "opening_hours": _read_hours(values, reading),
        "equipment": _read_machines(values, reading),
    }  # fmt: skip
    return reading


def _items(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _read_hours(values: dict[str, str], reading: Reading) -> str | None:
    """The hours written out when given (the model reads Korean), else the week's rows in OSM syntax."""
    if written := (values.get("opening_hours") or "").strip():
        reading.hours_written = True
        return written
    days: dict[str, tuple[str, str] | None] = {}
    for day in DAYS:
        times = {}
        for end in ("open", "close"):
            name, typed = f"hours-{day}-{end}", (values.get(f"hours-{day}-{end}") or "").strip()
            try:
                times[end] = clock_of(typed) if typed else ""
            except ValueError as error:
                reading.problems.append(FieldError(name, str(error)))
        days[day] = _day_span(day, times, bool(values.get(f"hours-{day}-closed")), reading)
    holidays = None
    if note := (values.get("hours-holidays") or "").strip():
        try:
            holidays = holidays_of(note)
        except ValueError as error:
            reading.problems.append(FieldError("hours-holidays", str(error)))
    return week_hours(Week(days, holidays))


def _day_span(day: str, times: dict[str, str], closed: bool, reading: Reading) -> tuple[str, str] | None:
    """One weekday's row: closed, or open from one time to another; half a row is a problem."""
    if closed or len(times) < 2 or not (times["open"] or times["close"]):
        return None
    if not times["open"] or not times["close"]:
        missing = "open" if not times["open"] else "close"
        reading.problems.append(FieldError(f"hours-{day}-{missing}", "give both the opening and the closing time"))
        return None
    if times["open"] == times["close"]:
        reading.problems.append(FieldError(f"hours-{day}-close", "the closing time is the opening time"))
        return None
    return times["open"], times["close"]


def _read_machines(values: dict[str, str], reading: Reading) -> list[dict[str, Any]]:
    machines = []
    for row in machine_rows(values):
        prefix = f"machine-{row}-"
        if values.get(prefix + "remove"):
            continue
        given = {key: (values.get(prefix + key) or "").strip() for key in ("type", *_TEXTS)}
        specs = _read_specs(values, prefix, reading)
        if not any(given[key] for key in ("type", "name", "make", "model", "quantity")) and not specs:
            continue  # the empty row offered for a new machine
        if not given["type"]:
            reading.problems.append(FieldError(prefix + "type", "choose the type of machine"))
            continue
        quantity = given["quantity"]
        machine: dict[str, Any] = {
            "type": given["type"], "name": {"ko": given["name"] or None, "en": given["name_en"] or None},
            "make": given["make"] or None, "model": given["model"] or None,
            "quantity": int(quantity) if quantity.isascii() and quantity.isdigit() else quantity or None,
            "notes": given["notes"] or None, "specs": specs,
            "processes": _items(given["processes"]), "materials": _items(given["materials"]),
        }  # fmt: skip
        machines.append({key: value for key, value in machine.items() if value not in (None, [], {})})
        reading.rows.append(row)
    return machines


def _read_specs(values: dict[str, str], prefix: str, reading: Reading) -> dict[str, Any]:
    """The specs filled in on a machine's row, as numbers; a dimension left out or a non-number is a problem."""
    specs: dict[str, Any] = {}
    for key, spec in SPECS.items():
        names = spec_fields(key)
        typed = [(values.get(prefix + name) or "").strip() for name in names]
        if not any(typed):
            continue
        if spec.kind == "text":
            specs[key] = typed[0]
            continue
        try:
            numbers = [int(part) if spec.kind == "integer" else float(part) for part in typed]
        except ValueError:
            message = "give every dimension" if not all(typed) else "not a number"
            reading.problems.append(FieldError(prefix + names[0], message))
            continue
        specs[key] = numbers if spec.size > 1 else numbers[0]
    return specs


def refuse_problems(reading: Reading, record: dict[str, Any]) -> None:
    """When the form could not be read whole, every problem at once: the form's and the record's it gives."""
    if not reading.problems:
        return
    given = record.get("provenance") or {"source": "form", "license": CONTRIBUTION_LICENSE}
    checked = {**record, "provenance": given}
    try:
        validate_node(checked)
    except RecordInvalid as invalid:
        raise RecordInvalid(reading.problems + invalid.problems) from None
    raise RecordInvalid(reading.problems)
