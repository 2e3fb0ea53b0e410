"""The web pages: map, node, district, sign-in, node forms, account and council pages.

Thin like the API: each route reads the request, calls the same services, renders a template.
Templates escape everything (Jinja2 autoescape); every form post carries the session's CSRF token.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import swagger_ui_bundle
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from opening_hours import OpeningHours
from pydantic import ValidationError

from fabcity.accounts import service as accounts
from fabcity.accounts.service import AccountError, Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from fabcity.clock import seoul_month, seoul_wall_time
from fabcity.directory import editing, vocabulary
from fabcity.directory.models import Problem, RecordInvalid
from fabcity.directory.read import importable, public_nodes
from fabcity.directory.search import QueryError, parse_point
from fabcity.directory.taxonomy import taxonomy
from fabcity.geo import service as geo_service
from fabcity.matching.need import Need, Place, size_text
from fabcity.matching.parse import read_need
from fabcity.matching.rank import DETAILS, Check, rank
from fabcity.measure.activation import activation
from fabcity.measure.districts import KSIC_SECTIONS, census_table, period_label
from fabcity.measure.districts import periods as census_periods
from fabcity.measure.resilience import CAPITAL_REGION, korea_regions
from fabcity.platform import Platform
from fabcity.web import i18n
from fabcity.web.auth import (
    SESSION_COOKIE,
    check_form,
    client_address,
    form_token,
    keep_form_token,
    set_session_cookie,
    visitor,
)
from fabcity.web.i18n import mark

HERE = Path(__file__).parent
PROTOTYPE_ZONES = {"11380": "Eunpyeong-gu", "11320": "Dobong-gu"}
_SAFE_SCHEMES = ("http", "https", "mailto")


def _safe_url(value: str | None) -> str:
    """A link target only if it cannot run script (javascript:, data: … are shown as text)."""
    return value if value and urlsplit(value).scheme.lower() in _SAFE_SCHEMES else ""


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    templates = Jinja2Templates(env=env)
    env.filters["safe_url"] = _safe_url
    env.globals.update(label=i18n.label, kst=i18n.kst)

    @pass_context
    def gettext(context, message: str, **values: Any) -> str:
        text = i18n.translations(context["lang"]).gettext(message)
        return text % values if values else text

    env.globals["_"] = gettext
    return templates


def open_now(hours: str | None) -> bool | None:
    """Whether a node is open at this moment in Seoul; None when its hours do not say."""
    if not hours:
        return None
    parsed = OpeningHours(hours)
    moment = seoul_wall_time()
    if parsed.is_unknown(moment):
        return None
    return parsed.is_open(moment)


def install(app: FastAPI, platform: Platform) -> Callable[[Request, Exception], Response]:
    """Mount the pages and static files; returns how a service error is shown to a person."""
    templates = _templates()
    app.mount("/static/vendor/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR), name="leaflet")
    app.mount(
        "/static/vendor/markercluster",
        StaticFiles(directory=xstatic.pkg.leaflet_markercluster.BASE_DIR),
        name="markercluster",
    )
    app.mount("/static/vendor/swagger-ui", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    tile_url = os.environ.get("FABCITY_TILE_URL", "")

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        who = visitor(request)
        lang = i18n.language_of(request)
        token = form_token(request)
        response = templates.TemplateResponse(
            request, name, {"lang": lang, "user": who.user, "csrf": token, **context}, status_code=status_code
        )
        keep_form_token(request, response, token)
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(i18n.LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    def say(request: Request, message: str) -> str:
        return i18n.translations(i18n.language_of(request)).gettext(message)

    async def form_of(request: Request) -> dict[str, str]:
        """The posted form, after its CSRF check (session token, or the form cookie before sign-in)."""
        form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
        check_form(request, form.get("csrf"))
        return form

    def error_page(request: Request, error: Exception) -> Response:
        if isinstance(error, NotAuthenticated):
            return RedirectResponse("/login", status_code=303)
        status, heading = {
            Forbidden: (403, mark("Not allowed")),
            NotFound: (404, mark("Not found")),
            TooManyAttempts: (429, mark("Too many attempts")),
        }.get(type(error), (422, mark("Please check the input")))
        detail = getattr(error, "message", None) or str(error).strip("'\"")
        return render(request, "error.html", status, heading=say(request, heading), detail=detail)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "docs.html", {"lang": "en"})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def map_page(request: Request) -> HTMLResponse:
        terms = taxonomy().terms
        return render(
            request,
            "map.html",
            node_types=vocabulary.NODE_TYPES,
            access_types=vocabulary.ACCESS_TYPES,
            processes=sorted(terms["processes"].values(), key=lambda t: t.label_ko),
            materials=sorted(terms["materials"].values(), key=lambda t: t.label_ko),
            gus=sorted(platform.districts.gus(), key=lambda d: d.name_ko),
            type_labels=json.dumps({k: {"ko": ko, "en": en} for k, (ko, en) in vocabulary.NODE_TYPES.items()}),
            tile_url=tile_url,
            tile_attribution="© OpenStreetMap contributors" if tile_url else "",
        )

    # before /nodes/{slug}, which would take 'new' for a slug
    @app.get("/nodes/new", response_class=HTMLResponse, include_in_schema=False)
    def new_page(request: Request) -> HTMLResponse:
        user = visitor(request).user
        if not editing.may_create(user):
            raise NotAuthenticated() if user is None else Forbidden()
        return node_form(request, "/nodes/new", say(request, "Add a node"), {}, [])

    @app.post("/nodes/new", include_in_schema=False)
    async def create(request: Request) -> Response:
        form = await form_of(request)
        try:
            record = editing.merge_patch({}, _patch_from_form(form))  # a new record: empty fields are absent
            created = editing.create_node(platform, visitor(request).user, record)
        except RecordInvalid as invalid:
            errors = [(p.field, p.message) for p in invalid.problems]
            return node_form(request, "/nodes/new", say(request, "Add a node"), _record_from_form(form), errors, 422)
        return RedirectResponse(f"/nodes/{created['slug']}", status_code=303)

    @app.get("/nodes/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def node_page(request: Request, slug: str) -> HTMLResponse:
        user = visitor(request).user
        with platform.engine.connect() as conn:
            pk = editing.node_pk_of(conn, slug)
            record = public_nodes(conn, [pk])[0]
            may_edit = editing.may_edit(conn, user, pk)
        terms = taxonomy()
        location = record["location"]
        stations = []
        if location["lat"] is not None:
            nearest = platform.stations.nearest(location["lat"], location["lon"], 3)
            stations = [station.public(distance) for station, distance in nearest]
        return render(
            request,
            "node.html",
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
            json_ld=_json_ld(record),
            message=say(request, "A curator of the Fab City council will review your claim.")
            if request.query_params.get("claimed")
            else None,
        )

    @app.get("/districts/{code}", response_class=HTMLResponse, include_in_schema=False)
    def district_page(request: Request, code: str) -> HTMLResponse:
        detail = geo_service.district_detail(platform, code)
        if detail is None:
            raise NotFound(f"no district with code {code!r}")
        dong_indicators: list[str] = []
        if detail["level"] == "gu":
            dongs = geo_service.districts(platform, "dong", detail["code"])
            dong_indicators = sorted({name for d in dongs for name in d["statistics"]})
        return render(
            request,
            "district.html",
            district=detail,
            node_types=vocabulary.NODE_TYPES,
            prototype=detail["code"] in PROTOTYPE_ZONES,
            dong_indicators=dong_indicators,
        )

    @app.get("/match", response_class=HTMLResponse, include_in_schema=False)
    def match_page(request: Request, text: str = "", corrected: bool = False) -> HTMLResponse:
        """Text is read into a need and shown with a form to correct it; the corrected form is ranked as given."""
        reading = ranking = None
        need: Need | None = None
        problems: dict[str, str] = {}
        map_data: dict[str, Any] = {}
        if corrected:
            need, problems = _need_from_form(request.query_params, platform, lambda text: say(request, text))
        elif text.strip():
            reading = read_need(text[:2000], platform.districts, platform.stations)
            need = reading.need
        if need is not None:
            ranking = rank(platform, need)
            map_data = {
                "place": need.place.model_dump() if need.place else None,
                "within_m": need.max_distance_m,
                "matches": [
                    {"slug": m.node["slug"], "name": m.node["name"], "node_type": m.node["node_type"],
                     "lat": m.node["location"]["lat"], "lon": m.node["location"]["lon"]}
                    for m in ranking.matches
                ],
            }  # fmt: skip
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
            request, "match.html", text=text, reading=reading, ranking=ranking, map_data=json.dumps(map_data),
            requirement=requirement, shown=shown, detail=detail, corrected=corrected,
            form=_form_values(need, request.query_params if corrected else None),
            problems={field_labels.get(name, name): message for name, message in problems.items()},
            process_choices=choices("processes"), material_choices=choices("materials"),
            access_choices=[(key, i18n.label(pair, lang)) for key, pair in vocabulary.ACCESS_TYPES.items()],
            field_labels=field_labels,
            status_labels={key: say(request, value) for key, value in _CHECK_STATUSES.items()},
        )  # fmt: skip

    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        month = seoul_month()
        census = census_table(platform)
        gus = sorted(platform.districts.gus(), key=lambda d: d.name_ko)
        zones = [platform.districts.by_code[code] for code in PROTOTYPE_ZONES]
        active = activation(platform, month)
        per_10k = {row["code"]: row["active_per_10k_residents"] for row in active["results"]}

        def manufacturing(code: str, field: str) -> float | None:
            return getattr(next(f for f in census.figures(code) if f.section == "C"), field)

        def gu_average(measure: Callable[[str], float | None]) -> float | None:
            known = [value for gu in gus if (value := measure(gu.code)) is not None]
            return sum(known) / len(known) if known else None

        mean_of_gus, whole_city = say(request, mark("mean of the 25 gu")), say(request, mark("Seoul as a whole"))
        census_measures = [
            (mark("Fab City Index (capacity, census proxy)"), lambda code: census.index(code).value),
            (mark("Manufacturing location quotient"), lambda code: manufacturing(code, "slq")),
            (mark("Manufacturing capacity ratio"), lambda code: manufacturing(code, "capacity_ratio")),
        ]
        comparison = [
            {"label": say(request, text), "values": [measure(z.code) for z in zones], "seoul": gu_average(measure),
             "seoul_how": mean_of_gus}
            for text, measure in census_measures
        ]  # fmt: skip
        comparison.append({
            "label": say(request, mark("Active production nodes per 10,000 residents")),
            "values": [per_10k.get(z.code) for z in zones],
            "seoul": active["seoul"]["active_per_10k_residents"], "seoul_how": whole_city,
        })  # fmt: skip
        with platform.engine.connect() as conn:
            years = census_periods(conn, "workers")
        over_time = []
        for year in years:
            table = census_table(platform, year)
            over_time.append({
                "period": period_label(year),
                "values": [table.index(z.code).value for z in zones],
                "seoul": gu_average(lambda code, table=table: table.index(code).value),
            })  # fmt: skip
        regions = {region["code"]: region for region in korea_regions()}
        periods = {"census": period_label(census.workers_period), "residents": period_label(census.residents_period)}
        census_source = say(request, mark("Source: %(census)s business census (workers by KSIC section) and "
                                          "%(residents)s residents, KOGL Type 1.")) % periods  # fmt: skip
        activation_source = say(request, mark("Source: this platform's records for %(month)s and %(residents)s "
                                              "residents.")) % {**periods, "month": month}  # fmt: skip
        return render(
            request, "dashboard.html", month=month, gus=gus, comparison=comparison, periods=periods,
            over_time=over_time,
            indicators=_choropleth_indicators(
                lambda text: say(request, text), i18n.language_of(request), census_source, activation_source
            ),
            zones=[{"name": {"ko": z.name_ko, "en": z.name_en}} for z in zones],
            capital=regions[CAPITAL_REGION], korea=regions["KOR"],
        )  # fmt: skip

    @app.get("/about/data", response_class=HTMLResponse, include_in_schema=False)
    def about_page(request: Request) -> HTMLResponse:
        from fabcity import dataset

        return render(request, "about.html", sources=dataset.sources())

    # --- signing in and out -------------------------------------------------------------------

    def login_form(request: Request, errors: list[tuple[str, str]], email: str = "", status: int = 200):
        fields = [
            {"name": "email", "label": say(request, "E-mail"), "kind": "email", "value": email, "required": True,
             "autocomplete": "username"},
            {"name": "password", "label": say(request, "Password"), "kind": "password", "required": True,
             "autocomplete": "current-password"},
        ]  # fmt: skip
        return render(
            request, "form_page.html", status, heading=say(request, "Sign in"), action="/login", fields=fields,
            submit=say(request, "Sign in"), errors=errors,
        )  # fmt: skip

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return login_form(request, [])

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await form_of(request)
        try:
            user = accounts.authenticate(
                platform, form.get("email", ""), form.get("password", ""), client_address(request)
            )
        except TooManyAttempts:
            return login_form(request, [("", say(request, "Too many failed attempts; try again in 15 minutes."))],
                              form.get("email", ""), 429)  # fmt: skip
        if user is None:
            return login_form(request, [("", say(request, "Wrong e-mail or password."))], form.get("email", ""), 401)
        secret, _csrf = accounts.start_session(platform, user)
        response = RedirectResponse("/", status_code=303)
        set_session_cookie(request, response, secret)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        await form_of(request)
        if secret := request.cookies.get(SESSION_COOKIE):
            accounts.end_session(platform, secret)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def signup_form(request: Request, errors: list[tuple[str, str]], values: dict[str, str], status: int = 200):
        fields = [
            {"name": "display_name", "label": say(request, "Name"), "value": values.get("display_name"),
             "required": True},
            {"name": "email", "label": say(request, "E-mail"), "kind": "email", "value": values.get("email"),
             "required": True, "autocomplete": "username"},
            {"name": "password", "label": say(request, "Password"), "kind": "password", "required": True,
             "autocomplete": "new-password", "help": say(request, "At least 10 characters.")},
        ]  # fmt: skip
        return render(
            request, "form_page.html", status, heading=say(request, "Sign up"), action="/signup", fields=fields,
            submit=say(request, "Sign up"), errors=errors,
        )  # fmt: skip

    @app.get("/signup", response_class=HTMLResponse, include_in_schema=False)
    def signup_page(request: Request) -> HTMLResponse:
        return signup_form(request, [], {})

    @app.post("/signup", include_in_schema=False)
    async def signup(request: Request) -> Response:
        form = await form_of(request)
        try:
            user = accounts.create_user(
                platform, form.get("email", ""), form.get("password", ""), form.get("display_name", "")
            )
        except AccountError as error:
            return signup_form(request, [(error.field, error.message)], form, 422)
        secret, _csrf = accounts.start_session(platform, user)
        response = RedirectResponse("/", status_code=303)
        set_session_cookie(request, response, secret)
        return response

    # --- node forms --------------------------------------------------------------------------

    def node_form(request: Request, action: str, heading: str, record: dict[str, Any], errors, status: int = 200):
        return render(
            request, "form_page.html", status, heading=heading, action=action, fields=_node_fields(request, record),
            submit=say(request, "Save"), errors=errors,
        )  # fmt: skip

    @app.get("/nodes/{slug}/edit", response_class=HTMLResponse, include_in_schema=False)
    def edit_page(request: Request, slug: str) -> HTMLResponse:
        user = visitor(request).user
        with platform.engine.connect() as conn:
            pk = editing.node_pk_of(conn, slug)
            if not editing.may_edit(conn, user, pk):
                raise NotAuthenticated() if user is None else Forbidden()
            record = importable(public_nodes(conn, [pk])[0])
        return node_form(request, f"/nodes/{slug}/edit", say(request, "Edit node"), record, [])

    @app.post("/nodes/{slug}/edit", include_in_schema=False)
    async def edit(request: Request, slug: str) -> Response:
        form = await form_of(request)
        try:
            updated = editing.update_node(platform, visitor(request).user, slug, _patch_from_form(form))
        except RecordInvalid as invalid:
            errors = [(p.field, p.message) for p in invalid.problems]
            return node_form(request, f"/nodes/{slug}/edit", say(request, "Edit node"), _record_from_form(form),
                             errors, 422)  # fmt: skip
        return RedirectResponse(f"/nodes/{updated['slug']}", status_code=303)

    @app.post("/nodes/{slug}/verify", include_in_schema=False)
    async def verify(request: Request, slug: str) -> Response:
        await form_of(request)
        editing.verify_node(platform, visitor(request).user, slug)
        return RedirectResponse(f"/nodes/{slug}", status_code=303)

    @app.post("/nodes/{slug}/claim", include_in_schema=False)
    async def claim(request: Request, slug: str) -> Response:
        form = await form_of(request)
        editing.claim_node(platform, visitor(request).user, slug, form.get("message", ""))
        return RedirectResponse(f"/nodes/{slug}?claimed=1", status_code=303)

    # --- account and council -----------------------------------------------------------------

    @app.get("/account", response_class=HTMLResponse, include_in_schema=False)
    def account_page(request: Request) -> HTMLResponse:
        if visitor(request).user is None:
            raise NotAuthenticated()
        return render(request, "account.html", token=None)

    @app.post("/account/tokens", response_class=HTMLResponse, include_in_schema=False)
    async def new_token(request: Request) -> HTMLResponse:
        form = await form_of(request)
        user = visitor(request).user
        if user is None:
            raise NotAuthenticated()
        return render(request, "account.html", token=accounts.create_token(platform, user, form.get("name", "")))

    @app.get("/admin", response_class=HTMLResponse, include_in_schema=False)
    def admin_page(request: Request) -> HTMLResponse:
        user = visitor(request).user
        if not editing.may_verify(user):
            raise NotAuthenticated() if user is None else Forbidden()
        with platform.engine.connect() as conn:
            users = accounts.list_users(conn) if user.role == "admin" else []
            claims = editing.pending_claims(conn)
        return render(request, "admin.html", users=users, claims=claims, roles=accounts.ROLES)

    @app.post("/admin/users/{user_id}/role", include_in_schema=False)
    async def admin_role(request: Request, user_id: int) -> Response:
        form = await form_of(request)
        accounts.set_role(platform, visitor(request).user, user_id, form.get("role", ""))
        return RedirectResponse("/admin", status_code=303)

    @app.post("/admin/claims/{claim_id}/{decision}", include_in_schema=False)
    async def admin_claim(request: Request, claim_id: int, decision: str) -> Response:
        await form_of(request)
        editing.decide_claim(platform, visitor(request).user, claim_id, approve=decision == "approve")
        return RedirectResponse("/admin", status_code=303)

    return error_page


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


_NEED_FIELDS = {
    "processes": mark("process"), "materials": mark("material"), "quantity": mark("quantity"),
    "part_size_mm": mark("part size (mm)"), "place": mark("place"), "max_distance_m": mark("within (m)"),
    "needed_by": mark("needed by"), "budget_krw": mark("budget (won)"), "access": mark("access"),
}  # fmt: skip
_CHECK_STATUSES = {"met": mark("yes"), "missed": mark("no"), "unknown": mark("not stated")}
_REQUIREMENTS = {
    "batch": mark("quantity"), "part_size": mark("part size"), "distance": mark("distance"), "access": mark("access"),
}  # fmt: skip


def _choropleth_indicators(
    translate: Callable[[str], str], lang: str, census_source: str, activation_source: str
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every figure the dashboard map can show, grouped: (value, label, source and method in the page's language)."""
    index_method = translate(mark("Method: capacity = 100 × Σ weight × min(1, share of Seoul's workers in the section "
                                  "÷ share of its residents) ÷ Σ weight; sections weighted by their share of Seoul's "
                                  "workers."))  # fmt: skip
    slq_method = translate(mark("Method: location quotient = the district's share of workers in the section ÷ "
                                "Seoul's share; above 1, the district is more specialised than Seoul."))  # fmt: skip
    capacity_method = translate(mark("Method: capacity ratio = the district's share of Seoul's workers in the "
                                     "section ÷ its share of Seoul's residents."))  # fmt: skip
    per_gu = translate(mark("Method: counted by gu only; counts from 1 to 4 are suppressed."))
    sections = [(letter, f"{letter} {i18n.label(names, lang)}") for letter, names in KSIC_SECTIONS.items()]
    activations = [
        ("active_per_10k_residents", mark("Active production nodes per 10,000 residents")),
        ("active_nodes", mark("Active production nodes")),
        ("active_last_90_days", mark("Nodes updated in the last 90 days")),
        ("share_of_seoul_active", mark("Share of Seoul's active nodes")),
    ]
    return [
        (translate(mark("Fab City Index")),
         [("index", translate(mark("Fab City Index (capacity, census proxy)")), f"{census_source} {index_method}")]),
        (translate(mark("Location quotient by KSIC section")),
         [(f"slq:{letter}", name, f"{census_source} {slq_method}") for letter, name in sections]),
        (translate(mark("Capacity ratio by KSIC section")),
         [(f"capacity:{letter}", name, f"{census_source} {capacity_method}") for letter, name in sections]),
        (translate(mark("Activation (this platform)")),
         [(f"activation:{name}", translate(text), f"{activation_source} {per_gu}") for name, text in activations]),
    ]  # fmt: skip


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
        except QueryError:  # not a point: a gu, dong or station by name
            fields["place"] = read_need(place[:200], platform.districts, platform.stations).need.place
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
        raise RecordInvalid([Problem("equipment", f"not JSON: {error.msg} (line {error.lineno})")]) from None
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
