"""The layout keeps its shape: no import loop, every capability alike, settings read in one place.

The layering between domain code and the web and CLI frameworks is checked by `lint-imports`
(contracts in pyproject.toml, run by .ci/run); these are what its contracts cannot say.
"""

from __future__ import annotations

import re
from pathlib import Path

import grimp
from fastapi import APIRouter

from fabcity import settings
from fabcity.web.app import CAPABILITIES

PACKAGE = Path(settings.__file__).parent


def _import_loops() -> list[list[str]]:
    """Groups of fabcity modules that import one another in a circle (Tarjan's strongly connected components)."""
    graph = grimp.build_graph("fabcity")
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in edges[module]:
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                loops.append(sorted(group))

    for module in sorted(edges):
        if module not in order:
            visit(module)
    return loops


def test_no_module_imports_itself_through_others():
    assert _import_loops() == []


def test_every_capability_has_the_same_shape():
    for package, api, pages in CAPABILITIES:
        name = package.__name__
        assert api.__name__ == f"{name}.api" and pages.__name__ == f"{name}.pages"
        assert isinstance(api.router, APIRouter) and isinstance(pages.router, APIRouter)
        assert pages.router.include_in_schema is False, f"{name}: pages stay out of the API document"
        templates = Path(package.__file__).parent / "templates" / name.rsplit(".", 1)[1]
        assert any(templates.glob("*.html")), f"{name}: its templates belong in {templates}"


def test_only_settings_reads_a_fabcity_variable():
    variable = re.compile(r"""["']FABCITY_[A-Z_]+["']""")
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "settings.py" and variable.search(path.read_text(encoding="utf-8"))
    )
    assert readers == []


def test_the_readme_names_every_setting():
    readme = (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert [v.name for v in settings.VARIABLES if v.name not in readme] == []


def test_the_readme_lists_every_endpoint(client):
    """Datasette's habit: an endpoint without a line in the README fails here, not in a newcomer's hands."""
    readme = re.sub(r"\{[^}]*\}", "{}", (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8"))
    paths = client.get("/openapi.json").json()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method in operations
        if f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path)}" not in readme
    ]
    assert missing == []


def test_the_node_search_is_the_first_route_tried(client):
    """The map's viewports outnumber every other request; Starlette tries routes in order."""
    assert client.app.routes[0].path == "/api/v1/nodes"
