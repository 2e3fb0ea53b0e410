"""The map's "free on …" form on a 390-px phone (Debian's Chromium, headless): around 가산디지털단지역 the map
and its list keep only the place whose focus booth is free tomorrow 10:00–11:00 (Seoul time), linking the
booth; the place whose booth is booked then leaves both. Skipped locally without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from builders import add_nodes, bookable, new_user, node_host, node_record
from fabcity.accounts import service as accounts
from fabcity.booking import service
from fabcity.booking.models import BookingIn
from fabcity.clock import KST
from fabcity.startup import open_platform
from fabcity.web.app import create_app
from servers import PHONE, browser_tab, live_app

FREE_PLACE, BOOKED_PLACE = "가산 자유 작업실", "가산 예약된 작업실"


@pytest.fixture(scope="module")
def gasan_site(backends) -> Iterator[tuple[str, dict]]:
    """Two places by 가산디지털단지역, half a kilometre apart, each with one focus booth open all day; the second's
    booth is booked tomorrow 10:00–11:00."""
    original, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    platform = open_platform(backends.fresh("sqlite"))
    try:
        places = {"free-works": (FREE_PLACE, 37.4815, 126.8830), "booked-works": (BOOKED_PLACE, 37.4775, 126.8870)}
        add_nodes(
            platform, [node_record(slug, lat, lon, name={"ko": name}) for slug, (name, lat, lon) in places.items()]
        )
        booths = {
            slug: bookable(platform, node_host(platform, f"host-{slug}", slug=slug), node=slug, kind="focus_booth",
                           name_ko=f"{name} 부스")
            for slug, (name, _, _) in places.items()
        }  # fmt: skip
        tomorrow = (datetime.now(KST) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        taken = BookingIn(
            resource=booths["booked-works"]["id"], starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1),
            idempotency_key="taken",
        )  # fmt: skip
        service.create_booking(platform, new_user(platform, "member", "member"), taken)
        with live_app(create_app(platform)) as url:
            yield url, booths
    finally:
        platform.engine.dispose()
        accounts._hasher = original


def _listed(phone) -> set[str]:
    expect(phone.locator("#results")).to_have_attribute("aria-busy", "false")
    return set(phone.locator("#results > li > a").all_text_contents())


def test_the_maps_free_form_keeps_the_place_with_a_free_booth_and_drops_the_booked_one(browser, gasan_site, request):
    url, booths = gasan_site
    with browser_tab(browser, url, PHONE, request) as phone:
        phone.goto("/?lat=37.4795&lon=126.8850&z=15")
        assert {FREE_PLACE, BOOKED_PLACE} <= _listed(phone)  # both places, before asking what is free
        assert phone.locator("#free-filter").get_attribute("action") == "/free"  # without JavaScript: the /free page
        for panel in ("#filter-panel", "#free-panel"):  # folded on a phone; opened, filled and sent by keyboard
            phone.focus(f"{panel} summary")
            phone.keyboard.press("Enter")
        phone.select_option("#free-kind", "focus_booth")
        assert phone.input_value("#free-start") == "10:00" and phone.input_value("#free-end") == "11:00"
        phone.press("#free-end", "Enter")
        expect(phone.locator("#free-status")).to_have_text("그 시간에 비어 있는 곳 1곳")
        assert _listed(phone) == {FREE_PLACE}
        booth = phone.locator("#results .free-here a")
        expect(booth).to_have_attribute("href", f"/resources/{booths['free-works']['id']}")
        expect(phone.locator(f'.leaflet-marker-icon[title="{FREE_PLACE}"]')).to_have_count(1)
        expect(phone.locator(f'.leaflet-marker-icon[title="{BOOKED_PLACE}"]')).to_have_count(0)
        assert "kind=focus_booth" in phone.url  # the view with its question can be shared
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        booth.click()
        phone.wait_for_url(f"**/resources/{booths['free-works']['id']}")
