"""Booking through the API: who may do what, the answers' statuses, and a refusal naming its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from builders import BOOKING_NODE, auth_headers, bookable, node_host
from fabcity.accounts import service as accounts
from fabcity.storage.schema import audit_log


def _slot(days: int = 3, hours: int = 1) -> dict[str, str]:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=1, minute=0, second=0, microsecond=0)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}


def test_a_member_books_a_host_approves_and_a_stranger_may_do_neither(client, platform):
    host = node_host(platform, "keeper")
    host_headers = {"Authorization": f"Bearer {accounts.create_token(platform, host, 'tests')}"}
    member = auth_headers(platform, "member")
    stranger = auth_headers(platform, "host")
    made = client.post(
        "/api/v1/resources",
        headers=host_headers,
        json={"node": BOOKING_NODE, "kind": "focus_booth", "name_ko": "집중 부스", "mode": "approval"},
    )
    assert made.status_code == 201, made.text
    resource = made.json()["id"]
    assert client.post("/api/v1/resources", headers=stranger, json={**made.json(), "id": None}).status_code in (
        403,
        422,
    )
    rule = {"weekday": 0, "start": "00:00", "end": "24:00"}
    for weekday in range(7):
        assert (
            client.post(
                f"/api/v1/resources/{resource}/rules", headers=host_headers, json=rule | {"weekday": weekday}
            ).status_code
            == 201
        )
    assert client.post(f"/api/v1/resources/{resource}/rules", headers=stranger, json=rule).status_code == 403
    asked = client.post(
        "/api/v1/bookings", headers=member, json={"resource": resource, "idempotency_key": "a", **_slot()}
    )
    assert asked.status_code == 201 and asked.json()["state"] == "requested"
    path = f"/api/v1/bookings/{asked.json()['id']}"
    assert client.post(f"{path}/approve", headers=member).status_code == 403
    assert client.post(f"{path}/approve", headers=stranger).status_code == 403
    assert client.get(path, headers=stranger).status_code == 403
    approved = client.post(f"{path}/approve", headers=host_headers, json={"reason": "welcome"})
    assert approved.status_code == 200 and approved.json()["state"] == "confirmed"
    assert client.post(f"{path}/approve", headers=host_headers).status_code == 409
    assert [b["id"] for b in client.get("/api/v1/bookings", headers=member).json()["results"]] == [asked.json()["id"]]
    cancelled = client.post(f"{path}/cancel", headers=member, json={"reason": "sick"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled_by_member"


def test_a_booking_off_the_grid_is_a_422_naming_the_field_and_a_far_date_is_no_500(client, platform):
    cutter = bookable(platform, node_host(platform))
    member = auth_headers(platform, "member")
    body = {"resource": cutter["id"], "idempotency_key": "x", **_slot()}
    body["starts_at"] = body["starts_at"].replace(":00:00", ":10:00")
    refused = client.post("/api/v1/bookings", headers=member, json=body)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "starts_at"]
    far = client.get(
        f"/api/v1/resources/{cutter['id']}/slots", params={"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:00:00Z"}
    )
    assert far.status_code == 422
    slots = client.get(
        f"/api/v1/resources/{cutter['id']}/slots", params={"from": _slot()["starts_at"], "to": _slot(4)["starts_at"]}
    )
    assert slots.status_code == 200 and len(slots.json()["slots"]) == 48
    assert client.post("/api/v1/bookings", json=body).status_code == 401


def test_my_bookings_page_shows_a_members_own_in_kst_and_sends_a_visitor_to_sign_in(client, platform):
    cutter = bookable(platform, node_host(platform))
    member = auth_headers(platform, "member")
    slot = _slot()
    client.post("/api/v1/bookings", headers=member, json={"resource": cutter["id"], "idempotency_key": "p", **slot})
    page = client.get("/bookings", headers=member)
    assert page.status_code == 200 and "내 예약" in page.text and "확정" in page.text
    assert "10:00" in page.text  # 01:00 UTC, shown in Seoul time
    assert client.get("/bookings", follow_redirects=False).headers["location"] == "/login"


def test_a_host_marks_a_booking_paid_saying_how_and_it_is_kept_beside_the_move(client, platform):
    host = node_host(platform, "keeper")
    host_headers = {"Authorization": f"Bearer {accounts.create_token(platform, host, 'tests')}"}
    member = auth_headers(platform, "member")
    booth = bookable(platform, host, price_per_slot_krw=5_000, granularity_min=60, min_duration_min=60)
    made = client.post(
        "/api/v1/bookings", headers=member, json={"resource": booth["id"], "idempotency_key": "k", **_slot()}
    )
    assert made.status_code == 201 and made.json()["state"] == "payment_due", made.text
    booking = made.json()["id"]
    paid_how = {"payment": {"method": "transfer", "reference": "김하나 입금 12/01"}}
    wrong_move = client.post(f"/api/v1/bookings/{booking}/cancel", headers=host_headers, json=paid_how)
    assert wrong_move.status_code == 422 and "payment" in wrong_move.text  # only marking paid says how
    unknown = {"payment": {"method": "cash-in-a-bag"}}
    assert client.post(f"/api/v1/bookings/{booking}/mark-paid", headers=host_headers, json=unknown).status_code == 422
    assert client.get(f"/api/v1/bookings/{booking}", headers=member).json()["state"] == "payment_due"
    paid = client.post(f"/api/v1/bookings/{booking}/mark-paid", headers=host_headers, json=paid_how)
    assert paid.status_code == 200 and paid.json()["state"] == "confirmed", paid.text
    with platform.engine.connect() as conn:
        records = conn.execute(
            select(audit_log.c.action, audit_log.c.changes).where(audit_log.c.entity_id == str(booking))
        ).all()
    payments = [changes["payment"] for _, changes in records if "payment" in changes]
    assert payments == [[None, {"method": "transfer", "reference": "김하나 입금 12/01"}]]
