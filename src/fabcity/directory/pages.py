"""The directory's pages: the map, a node's page, and the forms hosts and curators use to add,
edit, verify and claim nodes.

Thin like the API: each route reads the request, calls the services, renders a template.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabcity.accounts.pages import field_errors, form_page
from fabcity.directory import editing, vocabulary
from fabcity.directory.hours import open_now
from fabcity.directory.models import NOTE_MAX
from fabcity.directory.read import importable, public_nodes
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import Conflict, FieldError, Forbidden, NotAuthenticated, PreconditionFailed, RecordInvalid
from fabcity.platform import Platform
from fabcity.web import i18n
from fabcity.web.auth import visitor
from fabcity.web.deps import PlatformDep, SettingsDep, form_of, render, say
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, platform: PlatformDep, settings: SettingsDep) -> HTMLResponse:
    terms = taxonomy().terms
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
    )


# before /nodes/{slug}, which would take 'new' for a slug
@router.get("/nodes/new", response_class=HTMLResponse)
def new_page(request: Request) -> HTMLResponse:
    user = visitor(request).user
    if not editing.may_create(user):
        raise NotAuthenticated() if user is None else Forbidden()
    return _node_form(request, "/nodes/new", say(request, "Add a node"), {}, [])


@router.post("/nodes/new")
async def create(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        record = editing.merge_patch({}, _patch_from_form(form))  # a new record: empty fields are absent
        created = editing.create_node(platform, visitor(request).user, record)
    except RecordInvalid as invalid:
        errors = [(p.field, p.message) for p in invalid.problems]
        return _node_form(request, "/nodes/new", say(request, "Add a node"), _record_from_form(form), errors, 422)
    return RedirectResponse(f"/nodes/{created.record['slug']}", status_code=303)


@router.get("/nodes/{slug}", response_class=HTMLResponse)
def node_page(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    user = visitor(request).user
    with platform.engine.connect() as conn:
        pk = editing.node_pk_of(conn, slug)
        record = public_nodes(conn, [pk])[0]
        may_edit = editing.may_edit(conn, user, pk)
        claim_pending = editing.has_pending_claim(conn, user, pk)
    terms = taxonomy()
    location = record["location"]
    stations = []
    if location["lat"] is not None:
        nearest = platform.stations.nearest(location["lat"], location["lon"], 3)
        stations = [station.public(distance) for station, distance in nearest]
    return render(
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
        open_now=open_now(record["opening_hours"]),
        now_kst=i18n.kst(datetime.now(UTC)),
        may_edit=may_edit,
        may_verify=editing.may_verify(user),
        claim_pending=claim_pending,
        json_ld=_json_ld(record),
        message=say(request, "A curator of the Fab City council will review your claim.")
        if request.query_params.get("claimed")
        else None,
    )


@router.get("/nodes/{slug}/edit", response_class=HTMLResponse)
def edit_page(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    user = visitor(request).user
    with platform.engine.connect() as conn:
        pk = editing.node_pk_of(conn, slug)
        if not editing.may_edit(conn, user, pk):
            raise NotAuthenticated() if user is None else Forbidden()
        stored, version = editing.stored_node(conn, slug)
    record = importable(json.loads(stored))
    return _node_form(request, f"/nodes/{slug}/edit", say(request, "Edit node"), record, [], version=version)


@router.post("/nodes/{slug}/edit")
async def edit(request: Request, slug: str, platform: PlatformDep) -> Response:
    """Save the form, unless the node was saved by someone else after the form was opened (its hidden version)."""
    form = await form_of(request)
    heading, shown = say(request, "Edit node"), _record_from_form(form)
    try:
        patch, expected = _patch_from_form(form), _version_from_form(form)
        updated = editing.update_node(platform, visitor(request).user, slug, patch, expected_versions=expected)
    except RecordInvalid as invalid:
        errors = [(p.field, p.message) for p in invalid.problems]
        return _node_form(request, f"/nodes/{slug}/edit", heading, shown, errors, 422, form.get("version"))
    except PreconditionFailed:
        with platform.engine.connect() as conn:
            current = editing.stored_node(conn, slug)[1]
        stale = [(say(request, "Changed meanwhile"), say(request, _CHANGED_MEANWHILE))]
        return _node_form(request, f"/nodes/{slug}/edit", heading, shown, stale, 409, current)  # saving again replaces
    return RedirectResponse(f"/nodes/{updated.record['slug']}", status_code=303)


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
    record: dict[str, Any],
    errors: list[tuple[str, str]],
    status: int = 200,
    version: int | str | None = None,
) -> HTMLResponse:
    """The node form; `version`: the node's version the form is filled from, sent back hidden on save."""
    fields = _node_fields(request, record)
    if version is not None:
        fields.append({"name": "version", "kind": "hidden", "label": "", "value": str(version)})
    return render(
        request, "form_page.html", status, heading=heading, action=action, fields=fields,
        submit=say(request, "Save"), errors=errors,
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
    ("access_type", mark("Access")), ("batch_size", mark("Batch size")), ("opening_hours", mark("Opening hours")),
    ("address_ko", mark("Address")), ("lat", mark("Latitude")), ("lon", mark("Longitude")),
    ("phone", mark("Phone")), ("email", mark("E-mail")), ("website", mark("Website")),
    ("processes", mark("Processes")), ("materials", mark("Materials")), ("equipment", mark("Equipment (JSON)")),
)  # fmt: skip


def _record_from_form(form: dict[str, str]) -> dict[str, Any]:
    """What the form showed, to show again with its errors (the fields are the flat names)."""
    return {"_form": form}


def _flat(record: dict[str, Any]) -> dict[str, str]:
    if "_form" in record:
        return record["_form"]
    location = record.get("location") or {}
    contact = record.get("contact") or {}
    return {
        "name_ko": (record.get("name") or {}).get("ko") or "",
        "name_en": (record.get("name") or {}).get("en") or "",
        "description_ko": (record.get("description") or {}).get("ko") or "",
        "description_en": (record.get("description") or {}).get("en") or "",
        "node_type": record.get("node_type") or "makerspace",
        "status": record.get("status") or "active",
        "access_type": record.get("access_type") or "",
        "batch_size": record.get("batch_size") or "",
        "opening_hours": record.get("opening_hours") or "",
        "address_ko": (location.get("address") or {}).get("ko") or "",
        "lat": "" if location.get("lat") is None else str(location["lat"]),
        "lon": "" if location.get("lon") is None else str(location["lon"]),
        "phone": contact.get("phone", ""),
        "email": contact.get("email", ""),
        "website": contact.get("website", ""),
        "processes": ", ".join(record.get("processes") or []),
        "materials": ", ".join(record.get("materials") or []),
        "equipment": json.dumps(record.get("equipment") or [], ensure_ascii=False, indent=1),
    }


def _node_fields(request: Request, record: dict[str, Any]) -> list[dict[str, Any]]:
    language = i18n.language_of(request)
    catalog = i18n.translations(language)
    values = _flat(record)
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
        elif name in ("description_ko", "description_en", "equipment"):
            field.update(kind="textarea", rows=8 if name == "equipment" else 4)
        if name in ("processes", "materials"):
            field["help"] = catalog.gettext(mark("Ids or names, separated by commas, e.g. 레이저커팅, woodworking"))
        if name == "opening_hours":
            field["help"] = catalog.gettext(mark("OpenStreetMap syntax, e.g. Mo-Fr 10:00-18:00; Sa 12:00-17:00"))
        fields.append(field)
    return fields


def _version_from_form(form: dict[str, str]) -> set[int] | None:
    """The version the edit form was filled from; a form without one (an older page) saves unconditionally."""
    value = (form.get("version") or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise RecordInvalid([FieldError("version", "not a version number; open the form again")])
    return {int(value)}


def _patch_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The node form as a merge patch: an empty field removes the value."""

    def text(name: str) -> str | None:
        value = (form.get(name) or "").strip()
        return value or None

    def number(name: str) -> float | str | None:
        value = text(name)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return value  # the model names the field and says it is not a number

    def items(name: str) -> list[str]:
        return [part.strip() for part in (form.get(name) or "").split(",") if part.strip()]

    try:
        equipment = json.loads(form.get("equipment") or "[]")
    except json.JSONDecodeError as error:
        raise RecordInvalid([FieldError("equipment", f"not JSON: {error.msg} (line {error.lineno})")]) from None
    return {
        "name": {"ko": text("name_ko"), "en": text("name_en")},
        "description": {"ko": text("description_ko"), "en": text("description_en")},
        "node_type": text("node_type"),
        "status": text("status") or "active",
        "access_type": text("access_type"),
        "batch_size": text("batch_size"),
        "opening_hours": text("opening_hours"),
        "location": {"lat": number("lat"), "lon": number("lon"), "address": {"ko": text("address_ko")}},
        "contact": {"phone": text("phone"), "email": text("email"), "website": text("website")},
        "processes": items("processes"),
        "materials": items("materials"),
        "equipment": equipment,
    }
