"""Health and provenance as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from fabcity import __version__, dataset
from fabcity.web.deps import PlatformDep

router = APIRouter(tags=["meta"])


@router.get("/healthz")
def healthz(platform: PlatformDep) -> dict[str, str]:
    with platform.engine.connect() as conn:
        conn.execute(select(1))
    return {"status": "ok", "version": __version__}


@router.get("/api/v1/about/data", summary="Data sources, licences and attribution")
def about_data() -> dict[str, Any]:
    return {"dataset": dataset.DATASET_VERSION, "sources": dataset.sources(), "notice": dataset.notice()}
