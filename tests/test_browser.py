"""The pages in a real browser: Debian's Chromium, headless, driven by Playwright.

A live server runs the app on a fresh SQLite copy of the embedded dataset. Locally the tests skip
when Chromium is missing; in CI they must run. A failing test leaves a screenshot of its page
under test-output/screenshots/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.startup import open_platform
from servers import app_serving

PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def site(backends) -> Iterator[str]:
    """A live server on loopback with a host, another host, a curator and a node named like an attack."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    original, accounts._hasher = accounts._hasher, cheap
    platform = open_platform(backends.fresh("sqlite"))
    curator = accounts.create_user(platform, "curator@example.kr", PASSWORD, "큐레이터", role="curator")
    host = accounts.create_user(platform, "host@example.kr", PASSWORD, "호스트", role="member")
    accounts.create_user(platform, "other@example.kr", PASSWORD, "다른 호스트", role="host")
    claim = editing.claim_node(platform, host, "fab-lab-seoul", "운영자입니다")
    editing.decide_claim(platform, curator, claim["id"], approve=True)
    editing.create_node(
        platform, curator,
        {"name": {"ko": XSS}, "node_type": "studio", "location": {"lat": 37.5665, "lon": 126.978},
         "description": {"ko": XSS}, "slug": "attack"},
    )  # fmt: skip
    with app_serving(platform) as url:
        yield url
    platform.engine.dispose()
    accounts._hasher = original


@pytest.fixture
def page(browser, site, request):
    context = browser.new_context(base_url=site, locale="ko-KR", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_default_timeout(10_000)
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _results(page) -> list[str]:
    return page.locator("#results li a").all_inner_texts()


def test_the_map_loads_and_shows_markers(page):
    page.goto("/")
    page.wait_for_selector(".leaflet-marker-icon")
    # the 25 gu boundaries (offline base layer) and the 7 cluster zones are drawn
    expect(page.locator(".leaflet-overlay-pane path")).to_have_count(32)
    assert len(_results(page)) >= 5
    assert "노드" in page.inner_text("#result-count")
    page.goto("/?lat=37.61890&lon=126.92100&z=14")  # close in, the 426 dong boundaries join the base layer
    page.locator(".leaflet-overlay-pane path").nth(32 + 400).wait_for(state="attached")


def test_a_filter_narrows_the_list_and_goes_into_the_url(page):
    page.goto("/")
    page.wait_for_selector("#results li")
    everything = len(_results(page))
    page.select_option("#type", "fab_lab")
    expect(page.locator("#results li:not(.type-fab_lab)")).to_have_count(0)
    narrowed = len(_results(page))
    assert 0 < narrowed < everything
    assert "type=fab_lab" in page.url
    page.goto(page.url)  # the shared link opens the same view
    assert page.input_value("#type") == "fab_lab"


def test_searching_laser_in_korean_shows_fab_lab_seoul(page):
    page.goto("/")
    page.wait_for_selector("#results li")
    page.fill("#q", "레이저")
    page.press("#q", "Enter")
    expect(page.locator("#results li a", has_text="팹랩 서울")).to_have_count(1)
    assert "팹랩 서울" in _results(page)
    assert "q=%EB%A0%88%EC%9D%B4%EC%A0%80" in page.url


def test_the_language_switch(page):
    page.goto("/")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.inner_text("h1") == "서울 어디에서 무엇을 만들 수 있을까"
    page.click("#language-switch")
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "What can be made where in Seoul"
    page.goto("/nodes/fab-lab-seoul")
    assert page.get_attribute("html", "lang") == "en"  # remembered


def test_a_host_logs_in_and_edits_their_node(page):
    _log_in(page, "host@example.kr")
    page.goto("/nodes/fab-lab-seoul")
    page.click("a.button[href$='/edit']")
    page.fill("#opening_hours", "화-토 10:00-18:00")
    page.click("form[action='/nodes/fab-lab-seoul/edit'] button[type=submit]")
    page.wait_for_url(re.compile(r"/nodes/fab-lab-seoul$"))
    assert "Tu-Sa 10:00-18:00" in page.inner_text("article")


def test_another_host_cannot_edit_it(page):
    _log_in(page, "other@example.kr")
    page.goto("/nodes/fab-lab-seoul")
    assert page.locator("a.button[href$='/edit']").count() == 0
    response = page.goto("/nodes/fab-lab-seoul/edit")
    assert response.status == 403
    assert "권한이 없습니다" in page.inner_text("h1")


def test_a_curator_verifies_a_node(page):
    _log_in(page, "curator@example.kr")
    page.goto("/nodes/fablab-songpa")
    assert page.inner_text("#verified") == "아직 확인되지 않음"
    page.click("#verify")
    expect(page.locator("#verified")).not_to_have_text("아직 확인되지 않음")
    assert "KST" in page.inner_text("#verified") and "큐레이터" in page.inner_text("#verified")


def test_a_node_named_like_markup_renders_as_text(page):
    page.goto("/nodes/attack")
    assert page.inner_text("h1") == XSS
    assert page.locator("article img").count() == 0
    page.goto("/?q=onerror&lat=37.5665&lon=126.978&z=15")
    expect(page.locator("#results li")).to_have_count(1)
    assert _results(page) == [XSS]
    page.click(".leaflet-marker-icon.marker-studio")
    page.wait_for_selector(".leaflet-popup-content a")
    assert page.inner_text(".leaflet-popup-content a") == XSS
    assert page.dialogs == []


def test_a_need_typed_in_korean_gets_understood_and_ranked_on_the_map(page):
    page.goto("/match")
    page.fill("#text", "아크릴 레이저 커팅 20개, 을지로 근처")
    page.click("#need-form button[type=submit]")
    expect(page.locator("#understood li")).to_have_count(5)
    assert "레이저 커팅" in page.inner_text("#understood")
    assert page.locator("#matches li a").first.inner_text() == "팹랩 서울"
    matches = json.loads(page.locator("#map").get_attribute("data-matches"))["matches"]
    placed = [match for match in matches if match["lat"] is not None]
    # the Yongsan makers are known only by their gu: listed with their distance range, not drawn as points
    assert 0 < len(placed) < page.locator("#matches > li > a").count() == len(matches)
    expect(page.locator(".rank-marker")).to_have_count(len(placed))


def test_the_dashboard_renders_and_its_choropleth_follows_the_indicator(page):
    page.goto("/dashboard")
    choropleth = page.locator("#choropleth")
    expect(choropleth).to_have_attribute("data-shown", "index@gu")
    expect(page.locator("#choropleth .leaflet-overlay-pane path")).to_have_count(25)
    first = page.locator("#choropleth .leaflet-overlay-pane path").first
    before = [page.locator("#choropleth .leaflet-overlay-pane path").nth(i).get_attribute("fill") for i in range(25)]
    legend_before = page.inner_text("#legend")
    page.select_option("#indicator", "slq:C")
    expect(choropleth).to_have_attribute("data-shown", "slq:C@gu")
    after = [page.locator("#choropleth .leaflet-overlay-pane path").nth(i).get_attribute("fill") for i in range(25)]
    assert after != before and page.inner_text("#legend") != legend_before
    assert first.get_attribute("fill")
    page.select_option("#level", "dong")
    expect(choropleth).to_have_attribute("data-shown", "slq:C@dong")
    expect(page.locator("#choropleth .leaflet-overlay-pane path")).to_have_count(426)
    assert page.locator("canvas#sectors").is_visible()
    assert "사업체조사" in page.inner_text("#choropleth-source") and "입지계수" in page.inner_text("#choropleth-source")
    page.select_option("#indicator", "activation:active_per_10k_residents")
    expect(choropleth).to_have_attribute("data-shown", "activation:active_per_10k_residents@gu")  # per gu only
    expect(page.locator("#level")).to_be_disabled()
    assert "이 플랫폼의" in page.inner_text("#choropleth-source")
    for chart in ("sectors", "trend", "resilience"):  # Chart.js has drawn each one
        page.wait_for_function(f"Chart.getChart('{chart}') !== undefined")


def test_a_reading_corrected_in_the_form_changes_the_makers(page):
    page.goto("/match")
    page.fill("#text", "레이저 커팅 아크릴 20개, 을지로 근처")
    page.click("#need-form button[type=submit]")
    assert page.locator("#matches li a").first.inner_text() == "팹랩 서울"
    page.click("#correct summary")
    page.select_option("#need-process", ["welding"])
    page.select_option("#need-material", [])
    page.fill("#need-within", "20")
    page.click("#correction-form button[type=submit]")
    expect(page.locator("h2", has_text="고친 요청")).to_be_visible()
    makers = page.locator("#matches > li > a").all_inner_texts()
    assert makers and "팹랩 서울" not in makers and "N15" in makers
    expect(page.locator("#need-process option:checked")).to_have_text(["용접"])
