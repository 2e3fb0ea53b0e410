"""A member books the laser cutter of a node in a real browser (Debian's Chromium, headless) on a 390-px phone:
from the node's page to the resource's week calendar, a slot chosen there fills the form, the request waits for
the host; the host approves and marks it paid (through the service here), the member sees it confirmed on "my
bookings", cancels after seeing the refund it gives, and sees the refund. Skipped locally without Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from builders import BOOKING_NODE, bookable, new_user, node_host
from fabcity.accounts import service as accounts
from fabcity.booking import service
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.web.app import create_app
from servers import DESKTOP, PHONE, browser_tab, live_app, log_in


@pytest.fixture(scope="module")
def booking_site(backends) -> Iterator[tuple[str, Platform, dict]]:
    """A live server over a fresh SQLite copy of the dataset; its node has a laser cutter booked on approval,
    ₩10,000 an hour, open 09:00–21:00 every day."""
    original, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    platform = open_platform(backends.fresh("sqlite"))
    try:
        host = node_host(platform)
        cutter = bookable(platform, host, ("09:00", "21:00"), mode="approval", price_per_slot_krw=10_000,
                          granularity_min=60, min_duration_min=60)  # fmt: skip
        member = new_user(platform, "member", "member")
        with live_app(create_app(platform)) as url:
            yield url, platform, {"host": host, "cutter": cutter, "member": member}
    finally:
        platform.engine.dispose()
        accounts._hasher = original


def _fits(tab, width: int) -> None:
    assert tab.evaluate("document.documentElement.scrollWidth") <= width, tab.url


def test_a_member_books_the_laser_cutter_the_host_approves_and_the_member_cancels_with_a_refund(
    browser, booking_site, request
):
    url, platform, made = booking_site
    with browser_tab(browser, url, PHONE, request) as phone:
        log_in(phone, "member@example.kr")
        phone.goto(f"/nodes/{BOOKING_NODE}")
        phone.get_by_role("link", name="레이저 커터").click()  # listed on the node's page
        expect(phone.locator("#price")).to_contain_text("₩10,000")
        list_view = phone.locator("#calendar .fc-list")  # a phone gets the week as a list
        expect(list_view).to_be_visible()
        _fits(phone, PHONE["width"])
        phone.click("#calendar .fc-timeGridDay-button")  # a day's grid fits a phone, its slots as wide as the day
        slot = phone.locator("#calendar .fc-timegrid .fc-event").first
        expect(slot).to_be_visible()
        assert slot.bounding_box()["width"] > PHONE["width"] / 2
        _fits(phone, PHONE["width"])
        phone.click("#calendar .fc-listWeek-button")
        # the week after next: every slot there is at least 7 days ahead, the policy's full refund
        phone.click("#calendar .fc-next-button")
        phone.click("#calendar .fc-next-button")
        phone.locator("#calendar .fc-list-event").first.click()
        chosen = phone.input_value("#start")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT09:00", chosen), chosen
        phone.select_option("#duration", "120")
        phone.click("#booking-form button[type=submit]")
        expect(phone.locator("#booked")).to_contain_text("승인 대기")
        _fits(phone, PHONE["width"])

        (booking,) = service.my_bookings(platform, made["member"])
        service.move_booking(platform, made["host"], booking["id"], "approve")
        service.move_booking(platform, made["host"], booking["id"], "mark_paid")

        phone.goto("/bookings")
        row = phone.locator(f"#booking-{booking['id']}")
        expect(row.locator(".state")).to_have_text("확정")
        expect(row).to_contain_text("지금 취소하면 100% (₩20,000)를 돌려받습니다.")
        row.get_by_role("link", name="취소").click()
        expect(phone.locator("#refund-preview")).to_contain_text("100% (₩20,000)")
        phone.click("#confirm-cancel")
        expect(phone.locator("#cancelled")).to_contain_text("환불: ₩20,000")
        expect(row.locator(".state")).to_have_text("예약자 취소")
        _fits(phone, PHONE["width"])

    with browser_tab(browser, url, DESKTOP, request, "-desktop") as desk:
        desk.goto(f"/resources/{made['cutter']['id']}")
        expect(desk.locator("#calendar .fc-timegrid")).to_be_visible()  # a wide screen gets the week's grid
        expect(desk.locator("#calendar .fc-today-button")).to_have_text("오늘")  # FullCalendar's Korean locale
        expect(desk.locator("#calendar .fc-event").first).to_be_visible()
