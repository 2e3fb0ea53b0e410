"""The map and the district pages as a newcomer meets them: on a desktop and on a 390 × 844 phone,
in Korean and English, with the mouse and with the keyboard alone.

Debian's Chromium, headless, against a live server on a fresh SQLite copy of the embedded dataset,
whose places are mostly known only by their gu (Yongsan-gu holds one placed and three such).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from servers import DESKTOP, PHONE, browser_tab

YONGSAN = "11170"
YONGSAN_PLACES = {"American Center Korea", "N15", "서울디지털대장간", "서울글로벌창업센터"}


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def tab(browser, embedded_site, request):
    with browser_tab(browser, embedded_site, request.param, request) as page:
        yield page


def _open_map(tab, path: str = "/") -> None:
    tab.goto(path)
    expect(tab.locator("path.gu-outline")).to_have_count(25)
    _settled(tab)


def _settled(tab) -> None:
    """Every answer the map asked for has come and been listed."""
    expect(tab.locator("#results")).to_have_attribute("aria-busy", "false")


def _open_filters(tab) -> None:
    """On a phone the filters are folded away under their summary."""
    if not tab.locator("#filter-panel").evaluate("panel => panel.open"):
        tab.click("#filter-panel summary")


def _listed(tab) -> dict[str, str]:
    """Each listed place's name and what the list says of it, once the map has settled."""
    _settled(tab)
    items = tab.locator("#results li").evaluate_all(
        "all => all.map(item => [item.querySelector('a').textContent, item.querySelector('.meta').textContent])"
    )
    return dict(items)


def test_the_map_is_on_the_first_screen_and_all_of_seoul_fits_in_it(tab):
    _open_map(tab)
    screen = tab.viewport_size
    frame = tab.locator("#map").bounding_box()
    assert frame["y"] >= 0 and frame["y"] + frame["height"] <= screen["height"]
    assert frame["height"] >= 0.3 * screen["height"]
    for outline in tab.locator("path.gu-outline").all():
        box = outline.bounding_box()
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    assert tab.locator("#filter-panel").evaluate("panel => panel.open") == (screen == DESKTOP)


@pytest.mark.parametrize("path", ["/", f"/districts/{YONGSAN}", "/districts/1117053000"])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_no_page_scrolls_sideways(tab, path, lang):
    tab.goto(f"{path}?lang={lang}")
    tab.wait_for_load_state("networkidle")
    assert tab.evaluate("document.documentElement.scrollWidth") <= tab.viewport_size["width"]


def test_touch_targets_on_the_map_and_district_pages_are_at_least_44_px_high(tab):
    _open_map(tab)
    _open_filters(tab)
    targets = ", ".join(
        ("#filter-panel summary", "#filters input:not([type=checkbox])", "label.check", "#filters select")
        + ("#filters button", "#results a")
    )
    heights = tab.locator(targets).evaluate_all("all => all.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44
    tab.goto(f"/districts/{YONGSAN}")
    targets = "table.counts a, section.statistics-source h3 a, #indicator"
    heights = tab.locator(targets).evaluate_all("all => all.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44


def test_a_place_known_only_by_its_gu_is_found_with_its_precision(tab):
    _open_map(tab)
    _open_filters(tab)
    tab.fill("#q", "N15")
    tab.press("#q", "Enter")
    assert "위치: 구 단위 · 용산구" in _listed(tab)["N15"]


def test_a_gu_filter_lists_all_its_places_with_their_precision(tab):
    _open_map(tab)
    _open_filters(tab)
    tab.select_option("#gu", YONGSAN)
    listed = _listed(tab)
    assert set(listed) == YONGSAN_PLACES
    assert all("위치: 구 단위" in meta for name, meta in listed.items() if name != "American Center Korea")
    assert f"gu={YONGSAN}" in tab.url


def test_another_filter_keeps_the_view_a_gu_filter_brought(tab):
    _open_map(tab, f"/?gu={YONGSAN}&lat=37.53&lon=126.98&z=15")
    _open_filters(tab)
    tab.select_option("#type", "makerspace")
    _settled(tab)
    assert "lat=37.53000&lon=126.98000&z=15" in tab.url


def test_a_place_without_any_location_is_listed_and_says_so(tab):
    _open_map(tab)
    assert "위치 정보 없음" in _listed(tab)["로컬스티치"]


def test_a_district_pages_type_link_opens_a_map_showing_those_places(tab):
    tab.goto(f"/districts/{YONGSAN}")
    tab.click("table.counts a[href*='type=makerspace']")
    tab.wait_for_url(re.compile(r"type=makerspace"))
    assert set(_listed(tab)) == {"N15", "서울디지털대장간"}


def test_district_only_places_have_one_marker_with_its_label_and_pop_up(tab):
    _open_map(tab, f"/?gu={YONGSAN}&lang=en")
    marker = tab.locator(".marker-district")
    expect(marker).to_have_count(1)
    assert marker.get_attribute("title") == "Yongsan-gu: 3 places located by district only"
    marker.click()
    cards = tab.locator(".leaflet-popup-content .node-card")
    expect(cards).to_have_count(3)
    n15 = cards.filter(has_text="N15")
    for text in ("Makerspace", "District (gu) only", "Laser cutting", "Opening hours", "Open this place's page"):
        expect(n15).to_contain_text(text)
    assert n15.locator("a.card-more").get_attribute("href") == "/nodes/n15"


def test_a_placed_markers_pop_up_says_what_the_place_is_and_can_make(tab):
    _open_map(tab, "/?lat=37.56924&lon=126.99523&z=16")
    tab.locator(".leaflet-marker-icon.marker-fab_lab").first.click()
    card = tab.locator(".leaflet-popup-content .node-card")
    expect(card).to_contain_text("팹랩 서울")
    for text in ("팹랩", "만들 수 있는 것", "레이저 커팅", "운영 시간"):
        expect(card).to_contain_text(text)


def test_every_map_has_a_legend(tab):
    _open_map(tab)
    legend = tab.locator(".map-legend")
    for text in ("팹랩", "구 단위로만 알려진 곳", "생산 집적지"):
        expect(legend).to_contain_text(text)
    tab.goto("/match?text=" + quote("레이저 커팅 아크릴 10개, 을지로 근처, 3km 이내"))
    expect(tab.locator("#matches li a").first).to_be_visible()
    legend = tab.locator(".map-legend")
    expect(legend).to_be_visible()
    for text in ("팹랩", "메이커스페이스", "필요한 곳", "허용한 거리", "그 거리보다 먼 제작처"):
        expect(legend).to_contain_text(text)
    tab.goto("/match?lang=en")  # before a need: the legend is there, in the page's language
    expect(tab.locator(".map-legend")).to_contain_text("The distance the need allows")
    for path in (f"/districts/{YONGSAN}", "/dashboard"):  # choropleths: a class per colour
        tab.goto(path)
        expect(tab.locator("#legend li").first).to_be_visible()


def test_district_statistics_read_as_words_and_their_legend_never_repeats_a_class(tab):
    tab.goto(f"/districts/{YONGSAN}?lang=en")
    statistics = tab.locator("section.statistics-source")
    expect(statistics.first).to_be_visible()
    text = tab.locator("main").inner_text()
    for raw in ("businesses_ksic", "persons", "seoul-business-census"):
        assert raw not in text
    for words in ("Registered residents", "Businesses: Manufacturing (C)", "KOGL-Type-1"):
        assert words in text
    expect(tab.locator("#legend li")).not_to_have_count(0)
    classes = tab.locator("#legend li").all_inner_texts()
    assert len(set(classes)) == len(classes) and not any(re.search(r"\b(\d+)–\1\b", c) for c in classes)


def test_the_filters_and_the_list_work_with_the_keyboard_alone(tab):
    _open_map(tab, "/?lang=en")  # a select's type-ahead takes letters a keyboard types (Yongsan-gu)

    def tab_to(wanted: str, presses: int = 40) -> None:
        for _ in range(presses):
            tab.keyboard.press("Tab")
            focused = tab.evaluate("(selector) => document.activeElement.matches(selector)", wanted)
            if focused:
                return
        raise AssertionError(f"{wanted} not reached with Tab")

    if tab.viewport_size == PHONE:
        tab_to("#filter-panel summary")
        tab.keyboard.press("Enter")
    tab_to("#gu")
    tab.keyboard.type("Yongsan")
    assert tab.input_value("#gu") == YONGSAN
    assert len(_listed(tab)) == len(YONGSAN_PLACES)
    tab_to(".skip-map")
    tab.keyboard.press("Enter")
    tab.keyboard.press("Tab")
    first = tab.evaluate("document.activeElement.getAttribute('href')")
    assert first == tab.locator("#results li a").first.get_attribute("href")
    tab.keyboard.press("Enter")
    tab.wait_for_url(re.compile(re.escape(first) + "$"))
