"""Members' booking pages: a resource's page in both languages, the booking form and its refusals in the
page's language, a double submit, and cancelling with the refund shown before and after."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from builders import BOOKING_NODE, auth_headers, bookable, form_token, node_host, sign_in
from fabcity.booking import resources, service
from fabcity.booking.models import BookingIn, RuleIn
from fabcity.clock import KST


def _kst_start(days: int, hour: int = 10) -> datetime:
    """A slot start `days` ahead at `hour`:00 in Seoul."""
    return (datetime.now(KST) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def _request(resource_id: int, start: datetime, hours: int, key: str) -> BookingIn:
    return BookingIn(resource=resource_id, starts_at=start, ends_at=start + timedelta(hours=hours), idempotency_key=key)


def _book_form(client, resource_id: int, start: datetime, duration: int = 60, key: str = "k1") -> dict[str, str]:
    token = form_token(client, f"/resources/{resource_id}")
    return {"csrf": token, "start": start.strftime("%Y-%m-%dT%H:%M"), "duration": str(duration), "idempotency_key": key}


def test_a_resource_page_says_what_it_is_in_korean_and_english(client, platform):
    hourly = {"granularity_min": 60, "min_duration_min": 60}
    host = node_host(platform)
    cutter = bookable(platform, host, mode="approval", price_per_slot_krw=10_000, **hourly)
    early = RuleIn(weekday=0, start="07:00", end="08:00", valid_until="2030-01-01")
    resources.add_rule(platform, host, cutter["id"], early)
    korean = client.get(f"/resources/{cutter['id']}")
    assert korean.status_code == 200
    assert "월 00:00–24:00, 07:00–08:00 (–2030-01-01)" in korean.text and "화·수·목·금·토·일 00:00–24:00" in korean.text
    policy = ("7일 전까지 취소: 100% 환불", "3일 전까지 취소: 50% 환불", "그 뒤 시작 전까지 취소: 0% 환불")
    shown = ("레이저 커터", "₩10,000", "호스트 승인", *policy, f'href="/nodes/{BOOKING_NODE}"', 'id="calendar"')
    for text in (*shown, "예약하려면 로그인하세요", "Asia/Seoul"):
        assert text in korean.text, text
    assert 'action="/resources/' not in korean.text  # signed out: slots listed, no form to post
    english = client.get(f"/resources/{cutter['id']}?lang=en")
    for text in ("Host approval", "Cancel 7 or more days ahead: 100% back", "per 60 minutes", "Sign in to book."):
        assert text in english.text, text
    free = client.get(f"/resources/{bookable(platform, node_host(platform, 'other'))['id']}?lang=ko")
    assert "무료" in free.text and "예약이 바로 됩니다" in free.text


def test_a_node_links_to_its_bookable_resources(client, platform):
    cutter = bookable(platform, node_host(platform))
    node = client.get(f"/nodes/{BOOKING_NODE}")
    assert f'href="/nodes/{BOOKING_NODE}/resources"' in node.text
    listed = client.get(f"/nodes/{BOOKING_NODE}/resources")
    assert (
        listed.status_code == 200
        and f'href="/resources/{cutter["id"]}"' in listed.text
        and "레이저 커터" in listed.text
    )
    part = client.get(f"/nodes/{BOOKING_NODE}/resources/list")  # what the node's page shows of it
    assert part.status_code == 200 and f'href="/resources/{cutter["id"]}"' in part.text and "<html" not in part.text
    assert client.get("/nodes/d-playlab-fabcafe/resources/list").status_code == 204  # nothing to book there


def test_a_resource_named_like_a_script_is_shown_as_text(client, platform):
    attack = "<script>alert(1)</script>"
    named = bookable(platform, node_host(platform), name_ko=attack)
    member = auth_headers(platform, "member")
    start = _kst_start(3)
    body = _request(named["id"], start, hours=1, key="x").model_dump(mode="json")
    assert client.post("/api/v1/bookings", headers=member, json=body).status_code == 201
    for path in (f"/resources/{named['id']}", f"/nodes/{BOOKING_NODE}/resources"):
        page = client.get(path)
        assert attack not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    mine = client.get("/bookings", headers=member)
    assert attack not in mine.text and "&lt;script&gt;" in mine.text


def test_a_slot_just_taken_is_refused_in_korean_and_a_wrong_start_names_its_field(client, platform):
    cutter = bookable(platform, node_host(platform))
    start = _kst_start(4)
    first = sign_in(client, platform, "first", "member")
    service.create_booking(platform, first, _request(cutter["id"], start, hours=1, key="a"))
    client.cookies.clear()
    sign_in(client, platform, "second", "member")
    taken = client.post(f"/resources/{cutter['id']}/book", data=_book_form(client, cutter["id"], start))
    assert taken.status_code == 409
    assert "방금 다른 사람이 이 시간을 예약했습니다" in taken.text
    off_grid = client.post(
        f"/resources/{cutter['id']}/book", data=_book_form(client, cutter["id"], start + timedelta(minutes=10))
    )
    assert off_grid.status_code == 422
    assert 'id="start-error">30분 단위 시각에 시작해 주세요.' in off_grid.text
    too_long = _book_form(client, cutter["id"], start + timedelta(days=1), duration=999)
    answer = client.post(f"/resources/{cutter['id']}/book", data=too_long)
    assert answer.status_code == 422 and 'id="duration-error">이용 시간을 골라 주세요.' in answer.text
    far = _book_form(client, cutter["id"], start) | {"start": "9999-12-31T23:00"}
    answer = client.post(f"/resources/{cutter['id']}/book", data=far)
    assert answer.status_code == 422 and 'id="start-error">날짜와 시각을 입력해 주세요.' in answer.text


def test_a_form_sent_twice_makes_one_booking(client, platform):
    cutter = bookable(platform, node_host(platform), mode="approval")
    member = sign_in(client, platform, "member", "member")
    form = _book_form(client, cutter["id"], _kst_start(5), key="double")
    answers = [client.post(f"/resources/{cutter['id']}/book", data=form, follow_redirects=False) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert len(service.my_bookings(platform, member)) == 1
    shown = client.get(answers[0].headers["location"])
    assert "예약 상태: 승인 대기" in shown.text


def test_cancelling_shows_the_refund_before_and_after(client, platform):
    host = node_host(platform)
    cutter = bookable(platform, host, price_per_slot_krw=10_000, granularity_min=60, min_duration_min=60)
    member = sign_in(client, platform, "member", "member")
    start = _kst_start(4)  # 4 days ahead: the default policy's 50 % tier
    made = service.create_booking(platform, member, _request(cutter["id"], start, hours=2, key="c"))
    service.move_booking(platform, host, made["id"], "mark_paid")
    listed = client.get("/bookings")
    assert "지금 취소하면 50% (₩10,000)를 돌려받습니다." in listed.text and "₩20,000" in listed.text
    confirm = client.get(f"/bookings/{made['id']}/cancel")
    assert "지금 취소하면 50% (₩10,000)를 돌려받습니다." in confirm.text
    assert service.get_booking(platform, member, made["id"])["state"] == "confirmed"  # looking changes nothing
    token = form_token(client, f"/bookings/{made['id']}/cancel")
    done = client.post(f"/bookings/{made['id']}/cancel", data={"csrf": token, "version": str(made["version"] + 1)})
    assert done.status_code == 200 and "취소되었습니다. 환불: ₩10,000" in done.text
    assert service.get_booking(platform, member, made["id"])["refund_krw"] == 10_000
    again = client.post(f"/bookings/{made['id']}/cancel", data={"csrf": token, "version": str(made["version"] + 2)})
    assert again.status_code == 409 and "이 예약은 더 이상 취소할 수 없습니다." in again.text


def test_refund_preview_follows_the_policy_copied_at_confirmation():
    start = datetime(2027, 3, 10, 1, tzinfo=UTC)
    booking = {"state": "confirmed", "price_krw": 30_000, "policy": [[7, 100], [3, 50], [0, 0]], "starts_at": start}
    assert service.refund_preview(booking, start - timedelta(days=8)) == (100, 30_000)
    assert service.refund_preview(booking, start - timedelta(days=4)) == (50, 15_000)
    assert service.refund_preview(booking, start - timedelta(hours=5)) == (0, 0)
    assert service.refund_preview({**booking, "state": "payment_due", "policy": None}, start - timedelta(days=8)) == (
        0,
        0,
    )


def test_without_javascript_a_listed_free_slot_is_booked_by_its_own_button(client, platform):
    cutter = bookable(platform, node_host(platform), ("09:00", "12:00"))
    member = sign_in(client, platform, "member", "member")
    page = client.get(f"/resources/{cutter['id']}").text
    listed = page[page.index('id="next-slots"') :]
    first = dict(re.findall(r'name="(start|duration|idempotency_key|csrf)" value="([^"]*)"', listed)[:4])
    assert first["start"].endswith(("T09:00", "T09:30", "T10:00", "T10:30", "T11:00", "T11:30"))
    booked = client.post(f"/resources/{cutter['id']}/book", data=first, follow_redirects=False)
    assert booked.status_code == 303
    (made,) = service.my_bookings(platform, member)
    assert made["starts_at"].astimezone(KST).strftime("%Y-%m-%dT%H:%M") == first["start"]
