"""The directory's pages: the map, a node's page, and the forms hosts and curators use to add,
edit, verify and claim nodes.

Thin like the API: each route reads the request, calls the services, renders a template.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabcity.accounts.pages import field_errors, form_page
from fabcity.clock import KST
from fabcity.directory import editing, vocabulary
from fabcity.directory import form as node_form
from fabcity.directory.hours import DAY_LABELS, DAYS, UNREADABLE, describe, open_now
from fabcity.directory.models import NOTE_MAX
from fabcity.directory.read import importable, public_nodes
from fabcity.directory.specs import SPECS, spec_text, types_of_spec
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import Conflict, FieldError, PreconditionFailed, RecordInvalid
from fabcity.platform import Platform
from fabcity.web import i18n
from fabcity.web.auth import visitor
from fabcity.web.deps import PlatformDep, SettingsDep, form_of, render, say
from fabcity.web.forms import FormErrors, forget_notice, form_errors, notice_of, redirect_with_notice
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)


# The spaces the map's "free on …" form offers, as kinds of GET /api/v1/resources/free; its machines are
# the taxonomy's equipment types. The map asks that API from the browser: the directory never imports booking.
FREE_SPACES = (
    ("focus_booth", mark("Focus booth")),
    ("desk", mark("Desk")),
    ("meeting_room", mark("Meeting room")),
    ("production_line", mark("Production line")),
)


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, platform: PlatformDep, settings: SettingsDep) -> HTMLResponse:
    terms = taxonomy().terms
    tomorrow = (datetime.now(KST) + timedelta(days=1)).date().isoformat()
    return render(
        request,
        "directory/map.html",
        node_types=vocabulary.NODE_TYPES,
        access_types=vocabulary.ACCESS_TYPES,
        processes=sorted(terms["processes"].values(), key=lambda t: t.label_ko),
        materials=sorted(terms["materials"].values(), key=lambda t: t.label_ko),
        gus=sorted(platform.districts.gus(), key=lambda d: d.name_ko),
        type_labels=json.dumps({k: {"ko": ko, "en": en} for k, (ko, en) in vocabulary.NODE_TYPES.items()}),
        tile_url=settings.tile_url,
        tile_attribution="© OpenStreetMap contributors" if settings.tile_url else "",
        free_spaces=[(kind, say(request, text)) for kind, text in FREE_SPACES],
        free_machines=sorted(terms["equipment_types"].values(), key=lambda t: t.label_ko),
        free={"date": tomorrow, "start": "10:00", "end": "11:00"},  # map.js takes a shared view's from its address
    )


# before /nodes/{slug}, which would take 'new' for a slug
@router.get("/nodes/new", response_class=HTMLResponse)
def new_page(request: Request) -> HTMLResponse:
    user = visitor(request).user
    editing.require(editing.may_create(user), user)  # the form is shown only to who may save it
    blank = node_form.values_of_record({}, i18n.language_of(request))
    return _node_form(request, "/nodes/new", say(request, "Add a node"), blank)


@router.post("/nodes/new")
async def create(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    user = visitor(request).user
    editing.require(editing.may_create(user), user)
    reading = node_form.read_form(form)
    record = editing.merge_patch({}, reading.patch)  # a new record: empty fields are absent
    try:
        node_form.refuse_problems(reading, record)
        created = editing.create_node(platform, user, record)
    except RecordInvalid as invalid:
        errors = _form_errors(request, form, reading, invalid)
        return _node_form(request, "/nodes/new", say(request, "Add a node"), form, errors, 422)
    return redirect_with_notice(request, f"/nodes/{created.record['slug']}", "saved")


@router.get("/nodes/{slug}", response_class=HTMLResponse)
def node_page(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    user = visitor(request).user
    with platform.engine.connect() as conn:
        pk = editing.node_pk_of(conn, slug)
        record = public_nodes(conn, [pk])[0]
        may_edit = editing.may_edit(conn, user, pk)
        claim_pending = editing.has_pending_claim(conn, user, pk)
    terms = taxonomy()
    language = i18n.language_of(request)
    location = record["location"]
    stations = []
    if location["lat"] is not None:
        nearest = platform.stations.nearest(location["lat"], location["lon"], 3)
        stations = [station.public(distance) for station, distance in nearest]
    claimed = say(request, "A curator of the Fab City council will review your claim.")
    response = render(
        request,
        "directory/node.html",
        node=record,
        node_types=vocabulary.NODE_TYPES,
        statuses=vocabulary.STATUSES,
        access_types=vocabulary.ACCESS_TYPES,
        run_sizes=vocabulary.RUN_SIZES,
        precisions=vocabulary.PRECISIONS,
        equipment_types={t: (v.label_ko, v.label_en) for t, v in terms.terms["equipment_types"].items()},
        processes=[terms.get("processes", p) for p in record["capabilities"]["processes"]],
        materials=[terms.get("materials", m) for m in record["capabilities"]["materials"]],
        stations=stations,
        hours=describe(record["opening_hours"], language),
        spec_text=spec_text,
        open_now=open_now(record["opening_hours"]),
        now_kst=i18n.kst(datetime.now(UTC)),
        may_edit=may_edit,
        may_verify=editing.may_verify(user),
        claim_pending=claim_pending,
        json_ld=_json_ld(record),
        message=claimed if request.query_params.get("claimed") else notice_of(request),
    )
    forget_notice(request, response)
    return response


@router.get("/nodes/{slug}/card", response_class=HTMLResponse)
def node_card(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    """A place in brief, for the map's pop-up: what it is, what it can make, whether it is open now.

    Rendered here rather than in the browser so that "open now" comes from the same opening-hours
    reading as the place's page, and the labels from the same catalog.
    """
    with platform.engine.connect() as conn:
        record = public_nodes(conn, [editing.node_pk_of(conn, slug)])[0]
    terms = taxonomy()
    machines = [
        machine["name"] if any(machine["name"].values()) else terms.get("equipment_types", machine["type"])
        for machine in record["equipment"]
    ]
    processes = [terms.get("processes", p) for p in record["capabilities"]["processes"]]
    return render(
        request,
        "directory/card.html",
        node=record,
        node_types=vocabulary.NODE_TYPES,
        precisions=vocabulary.PRECISIONS,
        processes=processes[:_CARD_ITEMS],
        more_processes=max(len(processes) - _CARD_ITEMS, 0),
        machines=machines[:_CARD_ITEMS],
        more_machines=max(len(machines) - _CARD_ITEMS, 0),
        open_now=open_now(record["opening_hours"]),
    )


_CARD_ITEMS = 4  # a pop-up names this many processes and machines, then says how many more


@router.get("/nodes/{slug}/edit", response_class=HTMLResponse)
def edit_page(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    user = visitor(request).user
    with platform.engine.connect() as conn:
        pk = editing.node_pk_of(conn, slug)
        editing.require(editing.may_edit(conn, user, pk), user)
        stored, version = editing.stored_node(conn, slug)
    values = node_form.values_of_record(importable(json.loads(stored)), i18n.language_of(request))
    return _node_form(request, f"/nodes/{slug}/edit", say(request, "Edit node"), values, version=version)


@router.post("/nodes/{slug}/edit")
async def edit(request: Request, slug: str, platform: PlatformDep) -> Response:
    """Save the form, unless the node was saved by someone else after the form was opened (its hidden version)."""
    form = await form_of(request)
    user = visitor(request).user
    heading, reading = say(request, "Edit node"), node_form.read_form(form)
    try:
        if reading.problems:
            with platform.engine.connect() as conn:
                editing.require(editing.may_edit(conn, user, editing.node_pk_of(conn, slug)), user)
                stored = importable(json.loads(editing.stored_node(conn, slug)[0]))
            node_form.refuse_problems(reading, editing.merge_patch(stored, reading.patch))
        expected = _version_from_form(form)
        updated = editing.update_node(platform, user, slug, reading.patch, expected_versions=expected)
    except RecordInvalid as invalid:
        errors = _form_errors(request, form, reading, invalid)
        return _node_form(request, f"/nodes/{slug}/edit", heading, form, errors, 422, form.get("version"))
    except PreconditionFailed:
        with platform.engine.connect() as conn:
            current = editing.stored_node(conn, slug)[1]
        stale = FormErrors(general=[f"{say(request, 'Changed meanwhile')}: {say(request, _CHANGED_MEANWHILE)}"])
        return _node_form(request, f"/nodes/{slug}/edit", heading, form, stale, 409, current)  # saving again replaces
    return redirect_with_notice(request, f"/nodes/{updated.record['slug']}", "saved")


_CHANGED_MEANWHILE = mark(
    "Someone saved this node after you opened this form. Your input is kept below: look at the node's page"
    " for their change, then save again to replace it with yours."
)


@router.post("/nodes/{slug}/verify")
async def verify(request: Request, slug: str, platform: PlatformDep) -> Response:
    await form_of(request)
    editing.verify_node(platform, visitor(request).user, slug)
    return RedirectResponse(f"/nodes/{slug}", status_code=303)


def _claim_form(
    request: Request, slug: str, name: str, errors: list[tuple[str, str]], values: dict[str, str], status: int = 200
) -> HTMLResponse:
    fields = [
        {"name": "message", "kind": "textarea", "label": say(request, "How do you run this place?"),
         "value": values.get("message"), "required": True,
         "help": say(request, "For example: your role there, since when, and how the council can reach you.")},
        {"name": "proof_url", "kind": "url", "label": say(request, "A link that shows it (optional)"),
         "value": values.get("proof_url"),
         "help": say(request, "A page that names you as its operator: the place's website, a social media post…")},
    ]  # fmt: skip
    intro = say(request, "The council of Fab City Seoul checks each claim; once approved, you can edit this place.")
    heading = say(request, "I run this place") + f": {name}"
    return form_page(
        request, heading, f"/nodes/{slug}/claim", fields, errors, status, intro=intro,
        submit=say(request, "Send the claim"),
    )  # fmt: skip


def _claimed_node(platform: Platform, slug: str) -> str:
    """The name of the node a claim form is about, in no particular language (both are shown on its page)."""
    with platform.engine.connect() as conn:
        record = public_nodes(conn, [editing.node_pk_of(conn, slug)])[0]
    return record["name"].get("ko") or record["name"].get("en") or slug


@router.get("/nodes/{slug}/claim", response_class=HTMLResponse)
def claim_page(request: Request, slug: str, platform: PlatformDep) -> Response:
    if visitor(request).user is None:
        return RedirectResponse(f"/login?next=/nodes/{quote(slug)}/claim", status_code=303)
    return _claim_form(request, slug, _claimed_node(platform, slug), [], {})


@router.post("/nodes/{slug}/claim")
async def claim(request: Request, slug: str, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        editing.claim_node(platform, visitor(request).user, slug, form.get("message", ""), form.get("proof_url", ""))
    except RecordInvalid as error:
        shown = {name: form.get(name, "")[:NOTE_MAX] for name in ("message", "proof_url")}
        return _claim_form(request, slug, _claimed_node(platform, slug), field_errors(request, error), shown, 422)
    except Conflict:  # pressed twice, or already a host: the node's page shows where the claim stands
        return RedirectResponse(f"/nodes/{slug}", status_code=303)
    return RedirectResponse(f"/nodes/{slug}?claimed=1", status_code=303)


def _node_form(
    request: Request,
    action: str,
    heading: str,
    values: dict[str, str],
    errors: FormErrors | None = None,
    status: int = 200,
    version: int | str | None = None,
) -> HTMLResponse:
    """The node form filled with `values`; `version`: the node's version it is filled from, sent back hidden."""
    fields = _node_fields(request, values)
    if version is not None:
        fields.append({"name": "version", "kind": "hidden", "label": "", "value": str(version)})
    return render(
        request, "form_page.html", status, heading=heading, action=action, fields=fields,
        submit=say(request, "Save"), errors=errors or FormErrors(), scripts=["/static/node_form.js"],
    )  # fmt: skip


def _json_ld(record: dict[str, Any]) -> str:
    """schema.org LocalBusiness for search engines; '<' escaped so no text can end the script."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LocalBusiness",
        "name": record["name"]["ko"] or record["name"]["en"],
        "alternateName": record["name"]["en"],
        "description": record["description"]["ko"] or record["description"]["en"],
        "identifier": record["id"],
    }
    location = record["location"]
    if location["lat"] is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": location["lat"], "longitude": location["lon"]}
    address = location["address"]["ko"] or location["address"]["en"]
    if address:
        data["address"] = {
            "@type": "PostalAddress",
            "streetAddress": address,
            "addressLocality": "Seoul",
            "addressCountry": "KR",
        }
    if record["opening_hours"]:
        data["openingHours"] = record["opening_hours"]
    if phone := record["contact"].get("phone"):
        data["telephone"] = phone
    text = json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_FORM_FIELDS = (
    ("name_ko", mark("Name (Korean)")), ("name_en", mark("Name (English)")),
    ("node_type", mark("Type")), ("status", mark("Status")),
    ("description_ko", mark("Description (Korean)")), ("description_en", mark("Description (English)")),
    ("access_type", mark("Access")), ("batch_size", mark("Batch size")), (node_form.HOURS_GROUP, mark("Opening hours")),
    ("address_ko", mark("Address")), ("lat", mark("Latitude")), ("lon", mark("Longitude")),
    ("phone", mark("Phone")), ("email", mark("E-mail")), ("website", mark("Website")),
    ("processes", mark("Processes")), ("materials", mark("Materials")), ("equipment", mark("Equipment")),
)  # fmt: skip
_ROW_FIELDS = ("type", "name", "make", "model", "quantity")
# The directory's messages (models, hours, the node form) as people read them; see web/forms.py.
_MESSAGES = (
    (r"a node needs a name.*", mark("Give the node a name, in Korean or English.")),
    (r"latitude and longitude come together", mark("Give both the latitude and the longitude.")),
    (r"latitude .* and longitude .* look swapped", mark("The latitude and the longitude look swapped.")),
    (r"latitude .* is outside -90\.\.90", mark("The latitude must be between -90 and 90.")),
    (r"longitude .* is outside -180\.\.180", mark("The longitude must be between -180 and 180.")),
    (r"unknown process '(?P<value>.*)'.*", mark("No process is called “%(value)s”.")),
    (r"unknown material '(?P<value>.*)'.*", mark("No material is called “%(value)s”.")),
    (r"unknown equipment type '(?P<value>.*)'.*", mark("No machine type is called “%(value)s”.")),
    (r"unknown .*", mark("Choose one of the options.")),
    (re.escape(UNREADABLE), mark("These hours cannot be read; write them like 월-금 10:00-18:00, 토 10:00-14:00.")),
    (r"every dimension must be greater than 0", mark("Every dimension must be greater than 0.")),
    (r"not a time of day.*", mark("Not a time of day; write it like 10:00.")),
    (r"give both the opening and the closing time", mark("Give both the opening and the closing time.")),
    (r"the closing time is the opening time", mark("The closing time is the same as the opening time.")),
    (r"choose the type of machine", mark("Choose the type of machine.")),
    (r"give every dimension", mark("Give every dimension.")),
    (r"not a number", mark("Enter a number.")),
    (r"not a version number.*", mark("The form is out of date; open it again.")),
)


def _form_errors(
    request: Request, values: dict[str, str], reading: node_form.Reading, invalid: RecordInvalid
) -> FormErrors:
    """The problems of a posted node form, each under its field: the form's own, then the record's."""
    own = {id(problem) for problem in reading.problems}
    pairs = [
        (problem.field if id(problem) in own else reading.field_of(problem.field) or problem.field, problem.message)
        for problem in invalid.problems
    ]
    names = {name for name, _ in _FORM_FIELDS} | {"opening_hours", "hours-holidays"}
    names |= {f"hours-{day}-{end}" for day in DAYS for end in ("open", "close")}
    for row in node_form.machine_rows(values):
        names |= {f"machine-{row}-{name}" for name in _ROW_FIELDS}
        names |= {f"machine-{row}-{node_form.spec_fields(key)[0]}" for key in SPECS}
    return form_errors(request, pairs, names, _MESSAGES)


def _node_fields(request: Request, values: dict[str, str]) -> list[dict[str, Any]]:
    language = i18n.language_of(request)
    catalog = i18n.translations(language)
    choices = {
        "node_type": [(k, i18n.label(v, language)) for k, v in vocabulary.NODE_TYPES.items()],
        "status": [(k, i18n.label(v, language)) for k, v in vocabulary.STATUSES.items()],
        "access_type": [("", "—")] + [(k, i18n.label(v, language)) for k, v in vocabulary.ACCESS_TYPES.items()],
        "batch_size": [("", "—")] + [(k, k) for k in vocabulary.BATCH_SIZES],
    }
    fields = []
    for name, text in _FORM_FIELDS:
        field: dict[str, Any] = {"name": name, "label": catalog.gettext(text), "value": values.get(name, "")}
        if name in choices:
            field.update(kind="select", options=choices[name])
        elif name in ("description_ko", "description_en"):
            field.update(kind="textarea", rows=4)
        elif name == node_form.HOURS_GROUP:
            field.update(kind="include", template="directory/hours_editor.html", **_week(values, language))
        elif name == "equipment":
            field.update(kind="include", template="directory/machine_editor.html", **_machines(values, language))
        if name in ("processes", "materials"):
            field["help"] = catalog.gettext(mark("Ids or names, separated by commas, e.g. 레이저커팅, woodworking"))
        fields.append(field)
    return fields


def _week(values: dict[str, str], language: str) -> dict[str, Any]:
    """The opening-hours editor: a row per weekday, public holidays, or the hours written out."""
    days = [
        {"day": day, "label": i18n.label(DAY_LABELS[day], language), "open": values.get(f"hours-{day}-open", ""),
         "close": values.get(f"hours-{day}-close", ""), "closed": bool(values.get(f"hours-{day}-closed"))}
        for day in DAYS
    ]  # fmt: skip
    return {"days": days, "holidays": values.get("hours-holidays", ""), "written": values.get("opening_hours", "")}


def _machines(values: dict[str, str], language: str) -> dict[str, Any]:
    """The machine editor: a row per machine, one empty row for a new one, and the template of a row for adding more."""
    rows = node_form.machine_rows(values)
    types = sorted(taxonomy().terms["equipment_types"].values(), key=lambda term: i18n.label(term, language))
    return {
        "rows": [_machine_row(values, str(row), language) for row in rows],
        "blank": _machine_row({}, str(max(rows, default=-1) + 1), language),
        "new_row": _machine_row({}, "__row__", language),
        "types": [("", "—")] + [(term.id, i18n.label(term, language)) for term in types],
    }


def _machine_row(values: dict[str, str], row: str, language: str) -> dict[str, Any]:
    prefix = f"machine-{row}-"
    specs = [
        {"key": key, "label": i18n.label(spec.label, language), "unit": spec.unit, "kind": spec.kind,
         "types": " ".join(types_of_spec(key)),
         "inputs": [(prefix + name, values.get(prefix + name, "")) for name in node_form.spec_fields(key)]}
        for key, spec in SPECS.items()
    ]  # fmt: skip
    kept = {name: values.get(prefix + name, "") for name in ("name_en", "processes", "materials", "notes")}
    shown = {name: values.get(prefix + name, "") for name in (*_ROW_FIELDS, "remove")}
    return {"row": row, "prefix": prefix, "values": shown, "kept": kept, "specs": specs}


def _version_from_form(form: dict[str, str]) -> set[int] | None:
    """The version the edit form was filled from; a form without one (an older page) saves unconditionally."""
    value = (form.get("version") or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise RecordInvalid([FieldError("version", "not a version number; open the form again")])
    return {int(value)}
