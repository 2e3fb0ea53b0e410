"""The data sources page and the API docs (Swagger UI from local files, no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fabcity import dataset
from fabcity.web.deps import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return render(request, "about/docs.html")


@router.get("/about/data", response_class=HTMLResponse)
def about_page(request: Request) -> HTMLResponse:
    return render(request, "about/about.html", sources=dataset.sources())
