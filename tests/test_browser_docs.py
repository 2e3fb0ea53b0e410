"""The API docs page in a real browser: Swagger UI 5 reads the OpenAPI 3.1 that FastAPI writes."""

from __future__ import annotations

from test_browser_walk import serious_violations


def test_the_api_docs_show_every_operation(browser, site):
    """Swagger UI 4 answered "Unable to render this definition" to OpenAPI 3.1 and showed no operation."""
    context = browser.new_context(base_url=site)
    tab = context.new_page()
    tab.goto("/docs")
    tab.wait_for_selector(".opblock")
    text = tab.inner_text("#swagger-ui")
    assert "Unable to render" not in text
    assert "/api/v1/nodes" in text and "/api/v1/match" in text
    assert tab.locator(".opblock").count() >= 30
    context.close()


def test_trying_an_operation_in_the_api_docs_is_accessible(browser, site):
    """Swagger UI's "Try it out" fields had no names and its buttons and parameter places too little contrast."""
    context = browser.new_context(base_url=site)
    tab = context.new_page()
    tab.goto("/docs")
    tab.click("#operations-directory-list_nodes_api_v1_nodes_get .opblock-summary-control")
    tab.click("#operations-directory-list_nodes_api_v1_nodes_get .try-out__btn")
    tab.wait_for_selector("#operations-directory-list_nodes_api_v1_nodes_get .execute")
    assert tab.get_attribute("tr[data-param-name='sort'] select", "aria-label") == "sort (query)"
    violations = serious_violations(tab)
    assert not violations, "\n".join(violations)
    context.close()
