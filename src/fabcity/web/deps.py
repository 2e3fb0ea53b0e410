"""What every capability's routes need from a request: the platform, the page renderer, the
translated text and the checked form. Written once here; `api.py` and `pages.py` import them.

The platform and the templates live on `app.state` (web/app.py puts them there), so route
modules are plain module-level routers that can be imported and tested alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context

from fabcity.platform import Platform
from fabcity.settings import Settings
from fabcity.web import i18n
from fabcity.web.auth import check_form, form_token, keep_form_token, visitor

_SAFE_SCHEMES = ("http", "https", "mailto")
_STRONG_ETAG = re.compile(r'"(\d{1,18})"')


async def platform_of(request: Request) -> Platform:
    """The platform this app serves (async, so FastAPI does not send it to a thread)."""
    return request.app.state.platform


async def settings_of(request: Request) -> Settings:
    return request.app.state.settings


PlatformDep = Annotated[Platform, Depends(platform_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
# A numbered row (a user, a claim, an input-output table) in a path. The ids are integer columns:
# a larger number names no row, and PostgreSQL refused to compare one with them (a 500).
RowId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def if_match_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match header names; None when there is none or it is `*` (any version).

    If-Match compares strongly (RFC 9110), so a weak or unreadable tag matches no version.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    tags = (tag.strip() for tag in if_match.split(","))
    return frozenset(int(found.group(1)) for tag in tags if (found := _STRONG_ETAG.fullmatch(tag)))


def safe_url(value: str | None) -> str:
    """A link target only if it cannot run script (javascript:, data: … are shown as text)."""
    return value if value and urlsplit(value).scheme.lower() in _SAFE_SCHEMES else ""


def page_templates(folders: list[Path]) -> Jinja2Templates:
    """One Jinja environment over the shared templates and every capability's template folder.

    Autoescaping is on everywhere: user text is escaped wherever a template renders it.
    """
    env = Environment(loader=FileSystemLoader(folders), autoescape=True)
    env.filters["safe_url"] = safe_url
    env.globals.update(label=i18n.label, kst=i18n.kst)

    @pass_context
    def gettext(context, message: str, **values: Any) -> str:
        text = i18n.translations(context["lang"]).gettext(message)
        return text % values if values else text

    env.globals["_"] = gettext
    return Jinja2Templates(env=env)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the visitor's language, with the signed-in user and the form token its forms carry."""
    who = visitor(request)
    lang = i18n.language_of(request)
    token = form_token(request)
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request, name, {"lang": lang, "user": who.user, "csrf": token, **context}, status_code=status_code
    )
    keep_form_token(request, response, token)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def say(request: Request, message: str) -> str:
    """A catalog string in the visitor's language."""
    return i18n.translations(i18n.language_of(request)).gettext(message)


async def form_of(request: Request) -> dict[str, str]:
    """The posted form, after its CSRF check (session token, or the form cookie before sign-in)."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    check_form(request, form.get("csrf"))
    return form
