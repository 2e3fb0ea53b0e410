"""Booking notices on both backends: each act queues the right message once, in its transaction; reminders
and expiries are queued once however often `queue_due` runs; a real local SMTP server receives them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from builders import bookable, new_user, node_host, signed_in_page
from fabcity.booking import notices, service
from fabcity.booking.models import BookingIn
from fabcity.errors import Conflict
from fabcity.notify import outbox
from servers import PHONE, START_S, browser_tab, log_in

NOW = datetime(2027, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Seoul
DAY = datetime(2027, 3, 3, 1, tzinfo=UTC)  # Wednesday 10:00 KST


@pytest.fixture
def people(platform):
    return node_host(platform), new_user(platform, "ara", "member")


def _book(platform, member, resource, hours: float = 0, at: datetime = NOW) -> dict:
    start = DAY + timedelta(hours=hours)
    data = BookingIn(
        resource=resource["id"], starts_at=start, ends_at=start + timedelta(hours=1), idempotency_key=f"k{hours}"
    )
    return service.create_booking(platform, member, data, at=at)


def _sent(platform, person=None) -> list[outbox.Message]:
    """The outbox (to one person), oldest first."""
    with platform.engine.connect() as conn:
        return list(reversed(outbox.messages(conn, person.email if person else None, limit=1000)))


def _kinds(platform, person) -> list[str]:
    """Which notices a person got, by the English part of their subjects."""
    return [message.subject.split(" / ")[1].split(":")[0] for message in _sent(platform, person)]


def test_a_request_goes_to_the_hosts_and_each_decision_to_the_member(platform, people):
    host, ara = people
    other_host = node_host(platform, "second-host")
    cutter = bookable(platform, host, mode="approval", price_per_slot_krw=5000, name_en="Laser cutter")
    asked = _book(platform, ara, cutter)
    assert _kinds(platform, host) == _kinds(platform, other_host) == ["New booking request"]
    assert _kinds(platform, ara) == []
    service.move_booking(platform, host, asked["id"], "approve", at=NOW)
    assert _kinds(platform, ara) == ["Payment due"]
    service.move_booking(platform, host, asked["id"], "mark_paid", at=NOW)
    assert _kinds(platform, ara) == ["Payment due", "Booking confirmed"]
    (request,) = _sent(platform, host)
    assert "레이저 커터" in request.subject and "2027-03-03(수) 10:00–11:00 KST" in request.subject
    body = request.body
    assert body.index("승인하거나 거절해 주세요") < body.index("please approve or decline")  # Korean first
    assert "Laser cutter (Fab Lab Seoul)" in body and "Wed 03 Mar 2027, 10:00–11:00 KST" in body
    assert "See the booking: http://127.0.0.1:8000/nodes/fab-lab-seoul/bookings\n" in body and "10,000원" in body
    assert _kinds(platform, host) == ["New booking request"]  # hosts are not told what they did


def test_declines_cancellations_and_no_shows_tell_the_other_side(platform, people, monkeypatch):
    monkeypatch.setenv("FABCITY_PUBLIC_URL", "https://fabcity.example.kr/")
    host, ara = people
    by_request = bookable(platform, host, mode="approval")
    instant = bookable(platform, host, price_per_slot_krw=1000)
    declined = _book(platform, ara, by_request, 0)
    service.move_booking(platform, host, declined["id"], "decline", at=NOW)
    own = _book(platform, ara, by_request, 2)
    service.move_booking(platform, ara, own["id"], "cancel", at=NOW)
    paid = _book(platform, ara, instant, 4)
    service.move_booking(platform, host, paid["id"], "mark_paid", at=NOW)
    service.move_booking(platform, host, paid["id"], "cancel", at=NOW)
    missed = _book(platform, ara, instant, 6)
    service.move_booking(platform, host, missed["id"], "mark_paid", at=NOW)
    service.move_booking(platform, host, missed["id"], "no_show", at=DAY + timedelta(hours=7))
    assert _kinds(platform, ara) == [
        "Booking declined",
        "Payment due",  # an instant booking with a price is due at once
        "Booking confirmed",
        "Booking cancelled by the host",
        "Payment due",
        "Booking confirmed",
        "Marked as no-show",
    ]
    assert _kinds(platform, host) == ["New booking request", "New booking request", "Booking cancelled by the member"]
    refunded = _sent(platform, ara)[3]
    assert "환불: 2,000원" in refunded.body and "Refund: 2,000 won" in refunded.body
    assert f"https://fabcity.example.kr/bookings#booking-{paid['id']}" in refunded.body


def test_a_refused_booking_or_move_queues_nothing(platform, people):
    host, ara = people
    bo = new_user(platform, "bo", "member")
    cutter = bookable(platform, host, mode="approval")
    asked = _book(platform, ara, cutter)
    before = len(_sent(platform))
    with pytest.raises(Conflict):
        _book(platform, bo, cutter)  # the slot is held by the request
    service.move_booking(platform, host, asked["id"], "decline", at=NOW)
    with pytest.raises(Conflict):
        service.move_booking(platform, host, asked["id"], "approve", at=NOW)
    with pytest.raises(Conflict):
        service.move_booking(platform, ara, asked["id"], "cancel", at=NOW)
    assert len(_sent(platform)) == before + 1  # only the decline's
    assert _kinds(platform, bo) == []


def test_a_reminder_is_queued_once_a_day_ahead_and_an_expiry_once_to_member_and_hosts(platform, people):
    host, ara = people
    confirmed = _book(platform, ara, bookable(platform, host), 5)  # 30 h after NOW
    asked = _book(platform, ara, bookable(platform, host, mode="approval"), 2)  # its hold ends 3 h after NOW
    before = len(_sent(platform, ara))
    assert notices.queue_due(platform, NOW) == 0  # more than 24 h ahead, the hold still live
    expired_at = NOW + timedelta(hours=3)
    assert notices.queue_due(platform, expired_at) == 2  # the member and the host, of the expired request
    assert notices.queue_due(platform, expired_at + timedelta(minutes=1)) == 0
    reminded_at = DAY + timedelta(hours=5 - 23)
    assert notices.queue_due(platform, reminded_at) == 1
    assert notices.queue_due(platform, reminded_at + timedelta(hours=1)) == 0
    assert _kinds(platform, ara)[before:] == ["Booking expired", "Booking reminder"]
    assert _kinds(platform, host)[-1] == "Booking expired"
    reminder = _sent(platform, ara)[-1]
    assert (
        str(confirmed["id"]) in reminder.body and "24시간 안에" in reminder.body and "within 24 hours" in reminder.body
    )
    assert service.get_booking(platform, ara, asked["id"], at=expired_at)["state"] == "expired"


def test_queue_due_in_two_threads_at_once_queues_each_notice_once(platform, people):
    host, ara = people
    cutter = bookable(platform, host)
    for hours in range(0, 12, 2):
        _book(platform, ara, cutter, hours)
    before = len(_sent(platform))
    barrier = threading.Barrier(2, timeout=START_S)

    def run(_: int) -> int:
        barrier.wait()
        return notices.queue_due(platform, DAY - timedelta(hours=12))

    with ThreadPoolExecutor(2) as pool:
        assert sum(pool.map(run, range(2))) == 6
    assert len(_sent(platform)) == before + 6


def test_the_notices_arrive_over_smtp_in_korean_and_english_with_the_time_in_kst(platform, people, mail):
    smtp, inbox = mail
    host, ara = people
    booked = _book(platform, ara, bookable(platform, host, name_en="Laser cutter"), 3.5)
    assert outbox.deliver(platform, smtp) == 1
    (received,) = inbox.received
    assert received["To"] == ara.email and "예약 확정" in received["Subject"] and "confirmed" in received["Subject"]
    text = received.get_content()
    assert "예약이 확정되었습니다" in text and "Your booking is confirmed" in text
    assert "2027-03-03(수) 13:30–14:30 KST" in text  # 04:30 UTC
    assert f"http://127.0.0.1:8000/bookings#booking-{booked['id']}" in text


def test_a_member_reads_their_notices_on_the_notifications_page_without_a_mail_server(client, platform, people):
    host, ara = people
    cutter = bookable(platform, host, mode="approval", name_ko="<b>레이저</b>")
    asked = _book(platform, ara, cutter)
    service.move_booking(platform, host, asked["id"], "decline", at=NOW)
    assert client.get("/notifications", follow_redirects=False).status_code in (303, 401)
    signed_in_page(client, ara)
    page = client.get("/notifications")
    assert page.status_code == 200 and "<h1>알림</h1>" in page.text
    assert page.text.count('<article class="notification"') == 1  # the hosts' request is not hers
    assert "예약 거절 / Booking declined" in page.text and "아직 메일로 보내지 않음" in page.text
    assert "2027-03-03(수) 10:00–11:00 KST" in page.text and "&lt;b&gt;레이저&lt;/b&gt;" in page.text
    assert "<b>레이저" not in page.text
    english = client.get("/notifications?lang=en")
    assert "<h1>Notifications</h1>" in english.text and "not e-mailed yet" in english.text
    assert 'href="/notifications"' in client.get("/account").text


def test_the_notifications_page_fits_a_390_px_phone_in_both_languages(browser, site, request):
    """The host of `site` was told by e-mail that their claim was approved; no mail server is set up."""
    with browser_tab(browser, site, PHONE, request) as tab:
        log_in(tab, "host@example.kr")
        tab.goto("/account")
        tab.click("#notifications-link")
        expect(tab.locator("h1")).to_have_text("알림")
        expect(tab.locator("article.notification h2", has_text="운영 신청이 승인되었습니다")).to_be_visible()
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        tab.goto("/notifications?lang=en")
        expect(tab.locator("article.notification small").first).to_contain_text("not e-mailed yet")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
