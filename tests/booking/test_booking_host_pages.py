"""The hosts' booking pages on both backends: resource forms, openings, the inbox and its buttons, the
curators' view; and one phone-sized browser run of approving a request from the inbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from builders import BOOKING_NODE, XSS, bookable, form_token, new_user, node_host, signed_in_page
from fabcity import audit
from fabcity.booking import hosting, resources, service
from fabcity.booking.models import BookingIn, ResourceIn
from fabcity.clock import KST
from fabcity.startup import open_platform
from fabcity.storage.schema import node
from fabcity.web.app import create_app
from servers import PHONE, browser_tab, live_app, log_in

INBOX = f"/nodes/{BOOKING_NODE}/bookings"
RESOURCES = f"/nodes/{BOOKING_NODE}/resources"
MANAGE = f"{RESOURCES}/manage"


def _tomorrow_10_kst() -> datetime:
    """10:00 in Seoul tomorrow (UTC): within every test resource's lead time and horizon."""
    day = datetime.now(UTC).astimezone(KST).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=KST).astimezone(UTC)


def _request(platform, member, resource, key: str = "r", hours_later: int = 0) -> dict:
    start = _tomorrow_10_kst() + timedelta(hours=hours_later)
    data = BookingIn(resource=resource["id"], starts_at=start, ends_at=start + timedelta(hours=1), idempotency_key=key)
    return service.create_booking(platform, member, data)


def _trail(platform, booking_id: int) -> list[dict]:
    with platform.engine.connect() as conn:
        return audit.history(conn, "booking", str(booking_id))


def _post(client, path: str, data: dict, token_page: str = INBOX):
    return client.post(path, data={"csrf": form_token(client, token_page), **data}, follow_redirects=False)


_RESOURCE_FORM = {
    "kind": "focus_booth", "name_ko": "집중 부스", "name_en": "Focus booth", "units": "A, B",
    "granularity_min": "30", "min_duration_min": "30", "max_duration_min": "120", "lead_time_min": "60",
    "horizon_days": "30", "buffer_before_min": "0", "buffer_after_min": "0", "mode": "approval",
    "hold_hours": "3", "price_per_slot_krw": "2000", "cancellation_policy": "7:100, 1:50, 0:0",
    "parent": "", "time_zone": "Asia/Seoul",
}  # fmt: skip


def test_a_host_creates_a_resource_adds_openings_and_its_free_slots_appear(client, platform):
    host = node_host(platform)
    signed_in_page(client, host)
    created = _post(client, f"{RESOURCES}/new", _RESOURCE_FORM, f"{RESOURCES}/new")
    assert created.status_code == 303, created.text
    made = resources.resources_of(platform, BOOKING_NODE)[0]
    assert made["units"] == ["A", "B"] and made["cancellation_policy"] == [[7, 100], [1, 50], [0, 0]]
    hours = created.headers["location"]
    assert hours == f"{RESOURCES}/{made['id']}/hours"
    assert _post(client, f"{RESOURCES}/{made['id']}/rules", {"weekday": "every_day", "start": "09:00", "end": "18:00"})
    assert len(resources.availability(platform, made["id"])["rules"]) == 7
    backwards = _post(client, f"{RESOURCES}/{made['id']}/rules", {"weekday": "0", "start": "18:00", "end": "09:00"})
    assert backwards.status_code == 422 and 'id="end-error">시작보다 뒤여야 합니다.' in backwards.text
    start = _tomorrow_10_kst()
    slots = service.free_slots(platform, made["id"], start - timedelta(hours=1), start + timedelta(hours=10))
    shown = [slot["starts_at"].astimezone(KST).strftime("%H:%M") for slot in slots["slots"]]
    assert shown[0] == "09:00" and shown[-1] == "17:30" and slots["slots"][0]["free_units"] == 2
    closure = {"kind": "closure", "starts_at": f"{start.astimezone(KST):%Y-%m-%d}T12:00", "note": "청소"}
    refused = _post(client, f"{RESOURCES}/{made['id']}/exceptions", {**closure, "ends_at": "soon"})
    assert refused.status_code == 422 and "날짜와 시간" in refused.text
    _post(client, f"{RESOURCES}/{made['id']}/exceptions", {**closure, "ends_at": closure["starts_at"][:11] + "14:00"})
    page = client.get(hours)
    assert "12:00 KST" in page.text and "청소" in page.text
    slots = service.free_slots(platform, made["id"], start - timedelta(hours=1), start + timedelta(hours=10))
    assert len(slots["slots"]) == len(shown) - 4  # 12:00 to 14:00 closed


def test_a_bad_resource_form_names_each_field_in_korean_and_in_english(client, platform):
    signed_in_page(client, node_host(platform))
    new = f"{RESOURCES}/new"
    bad = {**_RESOURCE_FORM, "name_ko": "", "hold_hours": "세 시간", "cancellation_policy": "a week"}
    refused = _post(client, new, bad, new)
    assert refused.status_code == 422 and "문제: 3건" in refused.text
    assert "입력하세요" in refused.text and "정수를 입력하세요" in refused.text and "일수:비율" in refused.text
    off_grid = _post(client, f"{new}?lang=en", {**_RESOURCE_FORM, "min_duration_min": "45"}, new)
    assert off_grid.status_code == 422 and "A whole number of 30-minute slots." in off_grid.text
    assert 'id="min_duration_min-error"' in off_grid.text
    assert resources.resources_of(platform, BOOKING_NODE) == []


def test_an_edit_from_a_stale_form_says_changed_meanwhile_and_keeps_the_newer_change(client, platform):
    host = node_host(platform)
    cutter = bookable(platform, host)
    signed_in_page(client, host)
    edit = f"{RESOURCES}/{cutter['id']}/edit"
    stale_version = re.search(r'name="version" type="hidden" value="(\d+)"', client.get(edit).text).group(1)
    resources.update_resource(platform, host, cutter["id"], {"name_ko": "새 이름"})
    form = {**_RESOURCE_FORM, "kind": "machine", "units": "1", "name_ko": "옛 이름", "version": stale_version}
    answer = _post(client, edit, form, edit)
    assert answer.status_code == 409 and "다른 사람이" in answer.text
    assert resources.get_resource(platform, cutter["id"])["name_ko"] == "새 이름"
    current = re.search(r'name="version" type="hidden" value="(\d+)"', answer.text).group(1)
    saved = _post(client, edit, {**form, "units": "1, 2", "version": current}, edit)
    assert saved.status_code == 303
    edited = resources.get_resource(platform, cutter["id"])
    assert edited["name_ko"] == "옛 이름" and edited["units"] == ["1", "2"]
    retired = _post(client, f"{RESOURCES}/{cutter['id']}/retire", {"version": str(edited["version"])}, MANAGE)
    assert retired.status_code == 303 and resources.get_resource(platform, cutter["id"])["retired_at"] is not None
    assert "운영 종료됨" in client.get(MANAGE).text


def test_a_stranger_gets_403_on_every_hosts_write_and_nothing_changes(client, platform):
    host = node_host(platform)
    cutter = bookable(platform, host, mode="approval")
    asked = _request(platform, new_user(platform, "ara", "member"), cutter)
    signed_in_page(client, new_user(platform, "stranger", "host"))
    base = f"{RESOURCES}/{cutter['id']}"
    rule = resources.availability(platform, cutter["id"])["rules"][0]["id"]
    writes = [
        (f"{RESOURCES}/new", _RESOURCE_FORM),
        (f"{base}/edit", {**_RESOURCE_FORM, "version": "1"}),
        (f"{base}/retire", {"version": "1"}),
        (f"{base}/rules", {"weekday": "0", "start": "09:00", "end": "10:00"}),
        (f"{base}/rules/from-node", {}),
        (f"{base}/rules/{rule}/remove", {}),
        (f"{base}/exceptions", {"kind": "closure", "starts_at": "2027-03-03T10:00", "ends_at": "2027-03-03T12:00"}),
        (f"{base}/exceptions/1/remove", {}),
        (f"{INBOX}/{asked['id']}/approve", {"version": str(asked["version"])}),
    ]
    for path, data in writes:
        assert _post(client, path, data, "/").status_code == 403, path
    for path in (MANAGE, f"{RESOURCES}/new", f"{base}/edit", f"{base}/hours", INBOX, "/bookings/all"):
        assert client.get(path).status_code == 403, path
    assert service.get_booking(platform, host, asked["id"])["state"] == "requested"
    assert len(resources.resources_of(platform, BOOKING_NODE)) == 1
    assert len(resources.availability(platform, cutter["id"])["rules"]) == 7


def test_approve_from_the_inbox_moves_the_booking_and_a_stale_button_does_nothing(client, platform):
    host = node_host(platform)
    cutter = bookable(platform, host, mode="approval")
    ara, bo = new_user(platform, "ara", "member"), new_user(platform, "bo", "member")
    first = _request(platform, ara, cutter)
    signed_in_page(client, host)
    assert f'href="{INBOX}"' in client.get(f"/nodes/{BOOKING_NODE}").text  # the node's page leads its hosts here
    inbox = client.get(INBOX)
    assert "승인 대기" in inbox.text and "ara" in inbox.text and f"{INBOX}/{first['id']}/approve" in inbox.text
    assert "유지 기한" in inbox.text  # the hold's expiry, in KST
    approved = _post(client, f"{INBOX}/{first['id']}/approve", {"version": str(first["version"])})
    assert approved.status_code == 303
    assert service.get_booking(platform, host, first["id"])["state"] == "confirmed"
    assert "저장되었습니다" in client.get(approved.headers["location"]).text
    again = _post(client, f"{INBOX}/{first['id']}/approve", {"version": str(first["version"])})
    assert again.status_code == 303
    after = client.get(again.headers["location"])
    assert "변경되었습니다" in after.text and "저장되었습니다" not in after.text
    moves = [entry["action"] for entry in _trail(platform, first["id"])]
    assert moves == ["booking.create", "booking.approved", "booking.confirmed"]  # approved once
    second = _request(platform, bo, cutter, key="late", hours_later=2)
    too_long = _post(
        client, f"{INBOX}/{second['id']}/decline", {"version": str(second["version"]), "reason": "긴" * 3000}
    )
    assert too_long.status_code == 422 and "긴" * 100 not in too_long.text
    _post(client, f"{INBOX}/{second['id']}/decline", {"version": str(second["version"]), "reason": "점검 중"})
    assert service.get_booking(platform, host, second["id"])["state"] == "declined"
    declined = _trail(platform, second["id"])[-1]
    assert declined["action"] == "booking.declined" and declined["changes"]["reason"] == [None, "점검 중"]


def test_the_day_and_week_views_list_every_booking_in_kst_escaped(client, platform):
    host = node_host(platform)
    cutter = bookable(platform, host, mode="approval", name_ko=XSS)
    member = new_user(platform, "member", "member")
    asked = _request(platform, member, cutter)
    signed_in_page(client, host)
    day = _tomorrow_10_kst().astimezone(KST).date().isoformat()
    page = client.get(INBOX, params={"date": day, "view": "day"})
    assert page.status_code == 200 and f"{day} 10:00 KST" in page.text
    assert XSS not in page.text and "&lt;img src=x" in page.text
    week = client.get(INBOX, params={"date": day, "view": "week", "lang": "en"})
    assert "All bookings by day" in week.text and f"booking-{asked['id']}" in week.text
    for far in ("tomorrow", "9999-12-31"):
        assert client.get(INBOX, params={"date": far}).status_code == 422
    empty = client.get(INBOX, params={"date": "2030-01-01", "view": "day"})
    assert "No bookings." in empty.text  # the language chosen above stays


def test_the_curators_view_filters_by_node_state_and_dates_and_downloads_csv(client, platform, monkeypatch):
    host = node_host(platform)
    cutter = bookable(platform, host, mode="approval")
    ara, bo = new_user(platform, "ara", "member"), new_user(platform, "bo", "member")
    _request(platform, ara, cutter, key="a")
    declined = _request(platform, bo, cutter, key="b", hours_later=2)
    service.move_booking(platform, host, declined["id"], "decline", "full")
    signed_in_page(client, new_user(platform, "curator", "curator"))
    assert 'href="/bookings/all"' in client.get("/admin").text
    everything = client.get("/bookings/all")
    assert everything.status_code == 200 and "2건" in everything.text
    node_link = f'<a href="/nodes/{BOOKING_NODE}/bookings">'
    assert f"{node_link}팹랩 서울</a>" in everything.text  # the node's name, not its address key
    monkeypatch.setattr(hosting, "PAGE_SIZE", 1)
    first_page, second_page = client.get("/bookings/all"), client.get("/bookings/all", params={"page": 2})
    assert "1 / 2" in first_page.text and "page=2" in first_page.text
    assert "bo ·" in first_page.text and "ara ·" in second_page.text  # the latest start first
    requested = client.get("/bookings/all", params={"state": "requested", "node": BOOKING_NODE})
    assert "1건" in requested.text and "승인 대기" in requested.text
    day = _tomorrow_10_kst().astimezone(KST).date()
    later = client.get("/bookings/all", params={"from": (day + timedelta(days=1)).isoformat()})
    assert "0건" in later.text
    download = client.get("/bookings/all", params={"state": "declined", "format": "csv"})
    assert download.content.startswith("\ufeff".encode())
    lines = download.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{declined['id']},{BOOKING_NODE},레이저 커터,1,bo,bo@example.kr,")
    for refused in ({"state": "lost"}, {"to": "9999-12-31"}, {"from": "2027-03-03", "to": "2026-03-03"}):
        assert client.get("/bookings/all", params=refused).status_code == 422, refused
    english = client.get("/bookings/all?lang=en").text
    assert f"{node_link}Fab Lab Seoul</a>" in english and "Bookings found: 2 ·" in english
    assert f'<option value="{BOOKING_NODE}">Fab Lab Seoul</option>' in english  # the filter names it in English too


@pytest.fixture(scope="module")
def booked_site(backends):
    """A live site whose node fab-lab-seoul has a host (host@example.kr) and one request waiting."""
    platform = open_platform(backends.fresh("sqlite"))
    host = node_host(platform, "host")
    cutter = bookable(platform, host, mode="approval")
    _request(platform, new_user(platform, "member", "member"), cutter)
    with live_app(create_app(platform)) as url:
        yield url, platform
    platform.engine.dispose()


def test_a_host_approves_a_request_from_the_inbox_on_a_phone(browser, booked_site, request):
    url, platform = booked_site
    with browser_tab(browser, url, PHONE, request) as tab:
        log_in(tab, "host@example.kr")
        tab.goto(INBOX)
        card = tab.locator(".cards li").first
        expect(card).to_contain_text("승인 대기")
        card.get_by_role("button", name="승인").click()
        expect(tab.locator(".notice")).to_contain_text("저장되었습니다")
        expect(tab.locator("h2").filter(has_text="확정")).to_contain_text("(1)")
        for path in (INBOX, f"{RESOURCES}/1/hours", f"{RESOURCES}/new", f"{RESOURCES}/1/edit"):
            tab.goto(path)
            assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    assert [entry["action"] for entry in _trail(platform, 1)][-1] == "booking.confirmed"


def test_the_nodes_opening_hours_become_weekly_openings_in_one_step(client, platform):
    host = node_host(platform)
    with platform.engine.begin() as conn:
        hours = "Mo-Fr 10:00-18:00; Sa 10:00-14:00; PH off"
        conn.execute(update(node).where(node.c.slug == BOOKING_NODE).values(opening_hours=hours))
    booth = resources.create_resource(
        platform, host, ResourceIn(node=BOOKING_NODE, kind="focus_booth", name_ko="부스", mode="instant")
    )
    signed_in_page(client, host)
    hours_page = f"{RESOURCES}/{booth['id']}/hours"
    assert "노드의 운영 시간 가져오기" in client.get(hours_page).text
    assert _post(client, f"{RESOURCES}/{booth['id']}/rules/from-node", {}, hours_page).status_code == 303
    rules = resources.availability(platform, booth["id"])["rules"]
    assert sorted((r["weekday"], r["start"], r["end"]) for r in rules) == [
        *((day, "10:00", "18:00") for day in range(5)),
        (5, "10:00", "14:00"),
    ]


def test_requests_wait_oldest_first_and_a_paid_booking_is_marked_paid_then_cancelled_with_a_full_refund(
    client, platform
):
    host = node_host(platform)
    studio = bookable(platform, host, mode="approval", price_per_slot_krw=5000, name_ko="스튜디오")
    later = _request(platform, new_user(platform, "early", "member"), studio, key="e", hours_later=3)
    sooner = _request(platform, new_user(platform, "late", "member"), studio, key="l")
    signed_in_page(client, host)
    waiting = client.get(INBOX).text
    assert waiting.index(f"booking-{later['id']}") < waiting.index(f"booking-{sooner['id']}")  # asked first
    _post(client, f"{INBOX}/{later['id']}/approve", {"version": str(later["version"])})
    due = service.get_booking(platform, host, later["id"])
    assert due["state"] == "payment_due" and f"{INBOX}/{later['id']}/mark_paid" in client.get(INBOX).text
    assert 'name="method"' in client.get(INBOX).text
    _post(client, f"{INBOX}/{later['id']}/mark_paid", {"version": str(due["version"]), "method": "transfer"})
    paid = service.get_booking(platform, host, later["id"])
    assert paid["state"] == "confirmed" and paid["price_krw"] == 10_000
    (how,) = [entry["changes"]["payment"] for entry in _trail(platform, later["id"]) if "payment" in entry["changes"]]
    assert how == [None, {"method": "transfer", "reference": ""}]
    _post(client, f"{INBOX}/{later['id']}/cancel", {"version": str(paid["version"]), "reason": "장비 고장"})
    cancelled = service.get_booking(platform, host, later["id"])
    assert cancelled["state"] == "cancelled_by_host" and cancelled["refund_krw"] == 10_000
