"""A member books the laser cutter of a node in a real browser (Debian's Chromium, headless) on a 390-px phone:
from the node's page to the resource's week calendar, a slot chosen there fills the form, the request waits for
the host; the host approves and marks it paid in the inbox, the member sees it confirmed on "my bookings",
cancels after seeing the refund it gives, and sees the refund. A host imports an .ics file and the slots it blocks
leave the week calendar. Skipped locally without Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from builders import BOOKING_NODE, bookable, new_user, node_host
from fabcity.accounts import service as accounts
from fabcity.booking import service
from fabcity.clock import KST
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


def _the_week_grid_on_a_wide_screen(browser, url: str, request, resource: int) -> None:
    """A wide screen gets the week's grid, its buttons in the page's words."""
    with browser_tab(browser, url, DESKTOP, request, "-desktop") as desk:
        desk.goto(f"/resources/{resource}")
        expect(desk.locator("#calendar .fc-timegrid")).to_be_visible()  # a wide screen gets the week's grid
        expect(desk.locator("#calendar .fc-today-button")).to_have_text("오늘")  # the page's words, not the library's
        desk.goto(f"/resources/{resource}?lang=en")
        expect(desk.locator("#calendar .fc-today-button")).to_have_text("Today")
        expect(desk.locator("#calendar .fc-timeGridWeek-button")).to_have_text("Week")
        expect(desk.locator("#calendar .fc-event").first).to_be_visible()


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
        with browser_tab(browser, url, DESKTOP, request, "-host") as host:
            log_in(host, "host@example.kr")
            host.goto(f"/nodes/{BOOKING_NODE}/bookings")
            waiting = host.locator(f"#booking-{booking['id']}")
            waiting.get_by_role("button", name="승인").click()
            expect(waiting.locator(".state").first).to_have_text("결제 대기")
            waiting.get_by_role("button", name="결제 확인").click()
            expect(waiting.locator(".state").first).to_have_text("확정")

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

    _the_week_grid_on_a_wide_screen(browser, url, request, made["cutter"]["id"])


def test_a_host_imports_a_calendar_file_and_the_slots_it_blocks_leave_the_week_calendar(
    browser, booking_site, request, tmp_path
):
    url, platform, made = booking_site
    day = (datetime.now(KST) + timedelta(days=15)).date()
    ics = tmp_path / "workshop.ics"
    # a weekly workshop, twice, 09:00–21:00 KST: the whole of the cutter's opening on that day
    ics.write_text(
        "\r\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Fab Lab Seoul//Workshops//KO",
                "BEGIN:VEVENT",
                f"UID:workshop-{day:%Y%m%d}@fablab.example",
                f"DTSTAMP:{day:%Y%m%d}T000000Z",
                f"DTSTART:{day:%Y%m%d}T000000Z",
                f"DTEND:{day:%Y%m%d}T120000Z",
                "RRULE:FREQ=WEEKLY;COUNT=2",
                "SUMMARY:Workshop",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        )  # fmt: skip
    )
    column = f'#calendar .fc-timegrid-col[data-date="{day.isoformat()}"]'
    with browser_tab(browser, url, DESKTOP, request) as tab:
        log_in(tab, "host@example.kr")
        tab.goto(f"/resources/{made['cutter']['id']}")
        for _ in range(4):  # to the week that holds the day
            if tab.locator(column).count():
                break
            tab.click("#calendar .fc-next-button")
        expect(tab.locator(f"{column} .fc-event").first).to_be_visible()

        tab.goto(f"/resources/{made['cutter']['id']}/calendars")
        tab.set_input_files("#calendar-file", str(ics))
        tab.click("form[action$='/import'] button[type=submit]")
        expect(tab.locator("#last-import")).to_be_visible()

        tab.goto(f"/resources/{made['cutter']['id']}")
        for _ in range(4):
            if tab.locator(column).count():
                break
            tab.click("#calendar .fc-next-button")
        expect(tab.locator("#calendar .fc-event").first).to_be_visible()  # the other days keep their slots
        expect(tab.locator(f"{column} .fc-event")).to_have_count(0)
