"""The web application: every capability's API and pages on one app, with what they share.

A capability is a package with `api.py` and `pages.py`, each holding a module-level `router`,
and its templates in `<package>/templates/<package>/`. Adding one is a line in CAPABILITIES
(see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import anyio.to_thread
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from fastapi import APIRouter, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from fabcity import __version__, about, accounts, booking, directory, geo, matching, measure
from fabcity.about import api as about_api
from fabcity.about import pages as about_pages
from fabcity.accounts import api as accounts_api
from fabcity.accounts import pages as accounts_pages
from fabcity.booking import api as booking_api
from fabcity.booking import pages as booking_pages
from fabcity.directory import api as directory_api
from fabcity.directory import pages as directory_pages
from fabcity.geo import api as geo_api
from fabcity.geo import pages as geo_pages
from fabcity.matching import api as matching_api
from fabcity.matching import pages as matching_pages
from fabcity.measure import api as measure_api
from fabcity.measure import pages as measure_pages
from fabcity.platform import Platform
from fabcity.settings import Settings
from fabcity.startup import open_platform, settle
from fabcity.web import errors
from fabcity.web.deps import page_templates
from fabcity.web.security import SecurityHeaders

HERE = Path(__file__).parent
# (package, its API routes, its pages). The directory's come first: its node search is the request
# the map makes most, and Starlette tries routes in order (see create_app).
CAPABILITIES: tuple[tuple[ModuleType, ModuleType, ModuleType], ...] = (
    (directory, directory_api, directory_pages),
    (geo, geo_api, geo_pages),
    (matching, matching_api, matching_pages),
    (measure, measure_api, measure_pages),
    (booking, booking_api, booking_pages),
    (accounts, accounts_api, accounts_pages),
    (about, about_api, about_pages),
)
SEARCH_PATH = "/api/v1/nodes"
# Request threads per worker process, for the endpoints declared with `def` (the search takes
# turns on the event loop instead: web.turns). SQLite work is all CPU in this process, so one
# thread serves best; with PostgreSQL a second one runs while the first waits on the server.
# Measured on the search when it still ran in threads, 32 clients, 2 cores, 2 workers, 100k nodes
# (bench/http_bench.py): 40 threads (the default) gave 321 req/s and p99 440 ms on SQLite, 164
# req/s and 719 ms on PostgreSQL; these settings 464 req/s and 170 ms, 170 req/s and 464 ms.
REQUEST_THREADS = {"sqlite": 1, "postgresql": 2}


def create_app(platform: Platform, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_environment()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = REQUEST_THREADS.get(platform.engine.dialect.name, 2)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="fabcity API",
        version=__version__,
        description="Seoul's production nodes: where they are, what they can make, and how to get access. "
        "서울의 생산 노드 — 위치, 제작 역량, 이용 방법.",
        docs_url=None,  # served by the pages, from local Swagger UI files (no CDN)
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.settings = settings
    folders = [HERE / "templates"] + [Path(package.__file__).parent / "templates" for package, _, _ in CAPABILITIES]
    app.state.templates = page_templates(folders)
    app.add_middleware(errors.ServerErrors)  # inside the security headers: a 500 carries them too
    # Starlette's limit answers 413 on the Content-Length, or as a longer body arrives, before it is
    # read whole. Added here, not as FastAPI(max_body_size=…), which sits outside every middleware:
    # its 413 went out without the security headers.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)
    # Map viewports shrink ~6×. Starlette compresses at level 9 unless told: 3.8 ms for a summary
    # viewport of 500 nodes (148 KB -> 25 KB), more than finding them. Level 1 takes 0.8 ms for
    # 31 KB; with browsers' Accept-Encoding, 32 clients, 100k nodes, 2 workers: 660 -> 950 req/s,
    # p99 81 -> 50 ms (level 4: 890 req/s, 52 ms, 28 KB).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=1)
    errors.install(app)
    _mount_static(app)
    _document_body_errors(api.router for _package, api, _pages in CAPABILITIES)
    # FastAPI 0.165's include_router() keeps a router as one nested route that dispatches each
    # request again: 985 Python calls for a cheap node search instead of 877 (cProfile, in process).
    # The capability routers carry their own prefixes and tags, so their routes join the app's as
    # they are, and the search can be put first: Starlette tries the routes in order, and trying
    # the 30 routes declared before the search took 0.09 ms of its 1.5 ms.
    for _package, api, pages in CAPABILITIES:
        app.router.routes.extend([*api.router.routes, *pages.router.routes])
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) != SEARCH_PATH)
    return app


def _document_body_errors(routers: Iterable[APIRouter]) -> None:
    """Every route that reads a body can answer 400 (not JSON) and 413 (too large) before its own code runs."""
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.body_field is not None:
                route.responses = {**errors.documented(400, 413), **route.responses}


def _mount_static(app: FastAPI) -> None:
    """Front-end libraries from their Python packages and this package (vendor/: from npm): nothing from a CDN."""
    app.mount("/static/vendor/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR), name="leaflet")
    app.mount(
        "/static/vendor/markercluster",
        StaticFiles(directory=xstatic.pkg.leaflet_markercluster.BASE_DIR),
        name="markercluster",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` workers: each opens the database the settings name."""
    settings = Settings.from_environment()
    platform = open_platform(settings.database)
    app = create_app(platform, settings)
    settle(platform)
    return app
