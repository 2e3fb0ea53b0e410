"""Qualifications on both backends: a booking needing a training the member lacks (never had, expired,
lapsed, revoked) is refused naming it, and changes nothing; passes stay in the history; only the node's
managers define, record and revoke; the API and the hosts' page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from builders import (
    BOOKING_NODE,
    XSS,
    auth_headers,
    bookable,
    count_rows,
    form_token,
    new_user,
    node_host,
    signed_in_page,
)
from fabcity import audit
from fabcity.accounts import service as accounts
from fabcity.booking import qualifications, resources, service
from fabcity.booking.models import BookingIn, PassIn, TrainingIn
from fabcity.errors import Conflict, FieldError, Forbidden, NotAuthenticated, RecordInvalid
from fabcity.storage.schema import audit_log, booking, booking_qualification, node
from servers import PHONE, browser_tab, log_in

NOW = datetime(2027, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Seoul
DAY = datetime(2027, 3, 3, 1, tzinfo=UTC)  # Wednesday 10:00 KST
REFUSAL = "qualification: 레이저 커터 안전교육 (Laser cutter safety) is required"


@pytest.fixture
def people(platform):
    return node_host(platform), new_user(platform, "ara", "member"), new_user(platform, "bo", "member")


def _training(platform, host, **fields):
    data = TrainingIn(name_ko="레이저 커터 안전교육", name_en="Laser cutter safety", **fields)
    return qualifications.create_training(platform, host, BOOKING_NODE, data)


def _cutter(platform, host, *trainings):
    """A laser cutter requiring these trainings, bookable up to a year ahead."""
    return bookable(platform, host, horizon_days=365, trainings=[t["id"] for t in trainings])


def _pass(platform, host, training, member, passed_on: date):
    return qualifications.record_pass(platform, host, training["id"], PassIn(email=member.email, passed_on=passed_on))


def _book(platform, member, resource, start, hours=1, key=None):
    data = BookingIn(
        resource=resource["id"],
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        idempotency_key=key or str(start),
    )
    return service.create_booking(platform, member, data, at=NOW)


def test_a_booking_without_the_training_is_refused_naming_it_and_nothing_is_stored(platform, people):
    host, ara, _ = people
    cutter = _cutter(platform, host, _training(platform, host))
    assert cutter["trainings"] and resources.get_resource(platform, cutter["id"])["trainings"] == cutter["trainings"]
    with pytest.raises(Conflict) as refused:
        _book(platform, ara, cutter, DAY)
    assert str(refused.value) == REFUSAL
    assert count_rows(platform, booking) == 0
    assert count_rows(platform, audit_log, audit_log.c.entity == "booking") == 0


def test_a_valid_pass_lets_the_member_book_and_a_resource_without_trainings_needs_none(platform, people):
    host, ara, bo = people
    safety = _training(platform, host, valid_months=12)
    _pass(platform, host, safety, ara, date(2026, 11, 1))
    assert _book(platform, ara, _cutter(platform, host, safety), DAY)["state"] == "confirmed"
    assert _book(platform, bo, bookable(platform, host), DAY)["state"] == "confirmed"


@pytest.mark.parametrize("case", ["expired", "lapsed", "revoked", "retired training"])
def test_an_expired_lapsed_or_revoked_pass_does_not_count_and_a_retired_training_is_no_longer_required(
    platform, people, case
):
    host, ara, _ = people
    if case == "expired":  # passed 2026-02-01, valid 12 months: gone on 2027-02-01, before the booking
        safety = _training(platform, host, valid_months=12)
        _pass(platform, host, safety, ara, date(2026, 2, 1))
    elif case == "lapsed":  # passed 2026-06-01 and never used: lapsed on 2026-12-01
        safety = _training(platform, host, lapse_months=6)
        _pass(platform, host, safety, ara, date(2026, 6, 1))
    else:
        safety = _training(platform, host)
        recorded = _pass(platform, host, safety, ara, date(2026, 11, 1))
        if case == "revoked":
            qualifications.revoke(platform, host, recorded["id"], "unsafe use")
    cutter = _cutter(platform, host, safety)
    if case == "retired training":
        qualifications.retire_training(platform, host, safety["id"])
        assert resources.get_resource(platform, cutter["id"])["trainings"] == []
        assert _book(platform, new_user(platform, "cy", "member"), cutter, DAY)["state"] == "confirmed"
        return
    with pytest.raises(Conflict, match="^qualification: 레이저 커터 안전교육"):
        _book(platform, ara, cutter, DAY)
    assert count_rows(platform, booking) == 0
    assert [q["status"] for q in qualifications.my_qualifications(platform, ara, at=DAY)] == [case]


def test_a_pass_that_expires_before_the_booked_day_is_refused_for_that_day(platform, people):
    host, ara, _ = people
    safety = _training(platform, host, valid_months=6)
    _pass(platform, host, safety, ara, date(2026, 11, 1))  # counts until 2027-05-01
    cutter = _cutter(platform, host, safety)
    assert _book(platform, ara, cutter, DAY + timedelta(days=50))["state"] == "confirmed"
    with pytest.raises(Conflict, match="qualification"):
        _book(platform, ara, cutter, DAY + timedelta(days=60))


def test_a_confirmed_booking_is_a_use_that_keeps_a_pass_from_lapsing_and_a_cancelled_one_is_not(platform, people):
    host, ara, bo = people
    safety = _training(platform, host, lapse_months=6)
    for member in (ara, bo):
        _pass(platform, host, safety, member, date(2026, 11, 1))  # lapses on 2027-05-01 unless used
    cutter = _cutter(platform, host, safety)
    april = datetime(2027, 4, 20, 1, tzinfo=UTC)
    _book(platform, ara, cutter, april)
    cancelled = _book(platform, bo, cutter, april + timedelta(hours=2))
    service.move_booking(platform, bo, cancelled["id"], "cancel", at=NOW)
    september = datetime(2027, 9, 1, 1, tzinfo=UTC)
    assert _book(platform, ara, cutter, september)["state"] == "confirmed"  # last used in April: until October
    with pytest.raises(Conflict, match="qualification"):
        _book(platform, bo, cutter, september + timedelta(hours=2))


def test_each_missing_training_is_named(platform, people):
    host, ara, _ = people
    safety = _training(platform, host)
    fumes = qualifications.create_training(platform, host, BOOKING_NODE, TrainingIn(name_ko="환기 교육"))
    _pass(platform, host, safety, ara, date(2026, 11, 1))
    cutter = _cutter(platform, host, safety, fumes)
    with pytest.raises(Conflict, match="^qualification: 환기 교육 is required$"):
        _book(platform, ara, cutter, DAY)
    with pytest.raises(Conflict, match=r"Laser cutter safety\) and 환기 교육 are required$"):
        _book(platform, new_user(platform, "cy", "member"), cutter, DAY)


def test_revoked_and_expired_passes_stay_in_the_history_and_a_second_revocation_is_refused(platform, people):
    host, ara, _ = people
    safety = _training(platform, host, valid_months=12)
    old = _pass(platform, host, safety, ara, date(2025, 1, 10))
    new = _pass(platform, host, safety, ara, date(2026, 11, 1))
    assert (old["status"], old["until"], new["status"]) == ("expired", date(2026, 1, 10), "valid")
    revoked = qualifications.revoke(platform, host, new["id"], "unsafe use")
    assert revoked["status"] == "revoked" and revoked["revoke_reason"] == "unsafe use"
    with pytest.raises(Conflict, match="revoked already"):
        qualifications.revoke(platform, host, new["id"], "again")
    assert count_rows(platform, booking_qualification) == 2
    holders = qualifications.trainings_of(platform, host, BOOKING_NODE)[0]["holders"]
    assert [(h["id"], h["status"]) for h in holders] == [(new["id"], "revoked"), (old["id"], "expired")]
    with platform.engine.connect() as conn:
        trail = [entry["action"] for entry in audit.history(conn, "qualification", str(new["id"]))]
        stored = conn.execute(select(booking_qualification).where(booking_qualification.c.id == new["id"])).one()
    assert trail == ["qualification.record", "qualification.revoke"]
    assert stored.revoke_reason == "unsafe use" and stored.revoked_by == host.id


def test_revocations_sent_at_once_revoke_once_with_one_audit_record(platform, people):
    host, ara, _ = people
    recorded = _pass(platform, host, _training(platform, host), ara, date(2026, 11, 1))

    def revoke(n: int) -> str:
        try:
            return qualifications.revoke(platform, host, recorded["id"], f"reason {n}")["status"]
        except Conflict:
            return "refused"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = sorted(pool.map(revoke, range(8)))
    assert answers == ["refused"] * 7 + ["revoked"]
    with platform.engine.connect() as conn:
        trail = [entry["action"] for entry in audit.history(conn, "qualification", str(recorded["id"]))]
    assert trail == ["qualification.record", "qualification.revoke"]


def test_only_the_nodes_hosts_curators_and_admins_define_record_and_revoke(platform, people):
    host, ara, _ = people
    stranger = new_user(platform, "dan", "host")  # a host, but of another node
    safety = _training(platform, host)
    recorded = _pass(platform, host, safety, ara, date(2026, 11, 1))
    for user in (ara, stranger):
        with pytest.raises(Forbidden):
            qualifications.create_training(platform, user, BOOKING_NODE, TrainingIn(name_ko="x"))
        with pytest.raises(Forbidden):
            qualifications.update_training(platform, user, safety["id"], {"valid_months": 1})
        with pytest.raises(Forbidden):
            qualifications.retire_training(platform, user, safety["id"])
        with pytest.raises(Forbidden):
            _pass(platform, user, safety, ara, date(2026, 11, 2))
        with pytest.raises(Forbidden):
            qualifications.revoke(platform, user, recorded["id"], "no")
        with pytest.raises(Forbidden):
            qualifications.trainings_of(platform, user, BOOKING_NODE, managers_only=True)
    assert qualifications.trainings_of(platform, ara, BOOKING_NODE)[0]["holders"] is None  # names, not holders
    with pytest.raises(NotAuthenticated):
        qualifications.create_training(platform, None, BOOKING_NODE, TrainingIn(name_ko="x"))
    curator = new_user(platform, "eun", "curator")
    assert qualifications.revoke(platform, curator, recorded["id"], "council")["status"] == "revoked"
    assert count_rows(platform, booking_qualification) == 1


def test_a_training_is_renamed_with_its_audit_record_and_a_pass_needs_a_known_member_and_a_past_day(platform, people):
    host, ara, _ = people
    safety = _training(platform, host)
    renamed = qualifications.update_training(
        platform, host, safety["id"], {"name_en": "Laser safety", "valid_months": 24}
    )
    assert (renamed["name_en"], renamed["valid_months"], renamed["version"]) == ("Laser safety", 24, 2)
    with pytest.raises(RecordInvalid, match="valid_months"):
        qualifications.update_training(platform, host, safety["id"], {"valid_months": 0})
    with pytest.raises(FieldError, match="^email:"):
        qualifications.record_pass(
            platform, host, safety["id"], PassIn(email="nobody@example.kr", passed_on=date(2026, 11, 1))
        )
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    with pytest.raises(FieldError, match="^passed_on:"):
        _pass(platform, host, safety, ara, tomorrow)
    with platform.engine.connect() as conn:
        actions = [entry["action"] for entry in audit.history(conn, "training", str(safety["id"]))]
    assert actions == ["training.create", "training.update"]
    qualifications.retire_training(platform, host, safety["id"])
    with pytest.raises(Conflict):
        qualifications.retire_training(platform, host, safety["id"])
    with pytest.raises(Conflict, match="retired"):
        _pass(platform, host, safety, ara, date(2026, 11, 1))


def test_a_resource_requires_only_trainings_of_its_own_node(platform, people):
    host, _, _ = people
    curator = new_user(platform, "eun", "curator")
    with platform.engine.connect() as conn:
        elsewhere = conn.execute(select(node.c.slug).where(node.c.slug != BOOKING_NODE).limit(1)).scalar_one()
    foreign = qualifications.create_training(platform, curator, elsewhere, TrainingIn(name_ko="다른 곳 교육"))
    cutter = bookable(platform, host)
    with pytest.raises(FieldError, match="^trainings:"):
        resources.update_resource(platform, host, cutter["id"], {"trainings": [foreign["id"]]})
    own = _training(platform, host)
    updated = resources.update_resource(platform, host, cutter["id"], {"trainings": [own["id"]]})
    assert updated["trainings"] == [own["id"]] and updated["version"] > cutter["version"]


def test_months_are_added_by_the_calendar():
    assert qualifications.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert qualifications.add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


# --------------------------------------------------------------------------------------------
# the API


def test_the_api_defines_records_revokes_and_refuses_a_booking_naming_the_training(client, platform):
    host = node_host(platform, "keeper")
    host_headers = {"Authorization": f"Bearer {accounts.create_token(platform, host, 'tests')}"}
    member_headers = auth_headers(platform, "member")
    made = client.post(
        f"/api/v1/nodes/{BOOKING_NODE}/trainings",
        headers=host_headers,
        json={"name_ko": "레이저 커터 안전교육", "name_en": "Laser cutter safety", "valid_months": 12},
    )
    assert made.status_code == 201, made.text
    training = made.json()["id"]
    assert (
        client.post(
            f"/api/v1/nodes/{BOOKING_NODE}/trainings", headers=member_headers, json={"name_ko": "x"}
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/nodes/{BOOKING_NODE}/trainings", json={"name_ko": "x"}).status_code == 401
    cutter = bookable(platform, host)
    patched = client.patch(f"/api/v1/resources/{cutter['id']}", headers=host_headers, json={"trainings": [training]})
    assert patched.status_code == 200 and patched.json()["trainings"] == [training]
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    body = {"resource": cutter["id"], "idempotency_key": "q", "starts_at": start.isoformat()}
    body["ends_at"] = (start + timedelta(hours=1)).isoformat()
    refused = client.post("/api/v1/bookings", headers=member_headers, json=body)
    assert refused.status_code == 409 and refused.json()["detail"] == REFUSAL
    today = datetime.now(UTC).date().isoformat()
    holder = client.post(
        f"/api/v1/trainings/{training}/holders",
        headers=host_headers,
        json={"email": "member@example.kr", "passed_on": today},
    )
    assert holder.status_code == 201 and holder.json()["status"] == "valid"
    assert client.post("/api/v1/bookings", headers=member_headers, json=body).status_code == 201
    mine = client.get("/api/v1/qualifications", headers=member_headers).json()["results"]
    assert [(q["name_en"], q["status"]) for q in mine] == [("Laser cutter safety", "valid")]
    listed = client.get(f"/api/v1/nodes/{BOOKING_NODE}/trainings", headers=host_headers).json()
    assert [h["email"] for h in listed[0]["holders"]] == ["member@example.kr"]
    assert client.get(f"/api/v1/nodes/{BOOKING_NODE}/trainings").json()[0]["holders"] is None
    revoke = f"/api/v1/qualifications/{holder.json()['id']}/revoke"
    assert client.post(revoke, headers=member_headers, json={"reason": "mine"}).status_code == 403
    assert client.post(revoke, headers=host_headers, json={"reason": ""}).status_code == 422
    assert client.post(revoke, headers=host_headers, json={"reason": "unsafe"}).json()["status"] == "revoked"
    assert client.post(revoke, headers=host_headers, json={"reason": "unsafe"}).status_code == 409
    renamed = client.patch(f"/api/v1/trainings/{training}", headers=host_headers, json={"lapse_months": 6})
    assert renamed.status_code == 200 and renamed.json()["lapse_months"] == 6
    assert client.delete(f"/api/v1/trainings/{training}", headers=host_headers).json()["retired_at"]
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/qualifications/{qualification_id}/revoke"]["post"]["summary"]


# --------------------------------------------------------------------------------------------
# the hosts' page and the member's section of /bookings


def test_the_trainings_page_adds_records_and_revokes_in_korean_and_english_and_escapes_names(client, platform):
    host = node_host(platform, "keeper")
    member = new_user(platform, "ara", "member")
    signed_in_page(client, host)
    path = f"/nodes/{BOOKING_NODE}/trainings"
    page = client.get(path)
    assert page.status_code == 200 and "교육 과정 추가" in page.text and "아직 교육 과정이 없습니다" in page.text
    assert "Add a training" in client.get(path + "?lang=en").text
    client.get(path + "?lang=ko")
    token = form_token(client, path)
    bad = client.post(path, data={"csrf": token, "name_ko": "", "valid_months": "0"})
    assert (
        bad.status_code == 422
        and bad.text.count("입력하세요.") > bad.text.count("1 이상을 입력하세요.")
        and "1 이상을 입력하세요." in bad.text
    )
    added = client.post(
        path, data={"csrf": token, "name_ko": f"안전교육 {XSS}", "valid_months": "12"}, follow_redirects=False
    )
    assert added.status_code == 303
    shown = client.get(path)
    assert XSS not in shown.text and "&lt;img src=x onerror=alert(1)&gt;" in shown.text
    assert "저장되었습니다" in shown.text and "이수 후 12개월 동안 유효합니다." in shown.text
    training = qualifications.trainings_of(platform, host, BOOKING_NODE)[0]["id"]
    unknown = client.post(
        path + "/passes",
        data={"csrf": token, "training": str(training), "email": "x@example.kr", "passed_on": "2026-11-01"},
    )
    assert unknown.status_code == 422 and "이 이메일 주소의 계정이 없습니다." in unknown.text
    recorded = client.post(
        path + "/passes",
        data={
            "csrf": token,
            "training": str(training),
            "email": member.email,
            "passed_on": "2026-11-01",
            "note": "1기",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    listed = client.get(path)
    assert member.email in listed.text and "유효" in listed.text and "1기" in listed.text
    holder = qualifications.trainings_of(platform, host, BOOKING_NODE)[0]["holders"][0]["id"]
    revoke = f"{path}/revoke/{holder}"
    assert client.post(revoke, data={"csrf": token, "reason": ""}).status_code == 422
    assert (
        client.post(revoke, data={"csrf": token, "reason": "안전 수칙 위반"}, follow_redirects=False).status_code == 303
    )
    again = client.post(revoke, data={"csrf": token, "reason": "again"})
    assert again.status_code == 409 and "이미 취소된 자격입니다" in again.text
    english = client.get(path + "?lang=en").text
    assert "Revoked" in english and "안전 수칙 위반" in english


def test_the_trainings_page_is_for_the_nodes_managers_and_members_see_theirs_on_my_bookings(client, platform):
    host = node_host(platform, "keeper")
    member = new_user(platform, "ara", "member")
    safety = _training(platform, host, valid_months=12)
    _pass(platform, host, safety, member, date(2026, 11, 1))
    path = f"/nodes/{BOOKING_NODE}/trainings"
    assert client.get(path, follow_redirects=False).headers["location"] == "/login"
    signed_in_page(client, member)
    assert client.get(path).status_code == 403
    mine = client.get("/bookings?lang=ko")
    assert mine.status_code == 200 and "내 자격" in mine.text and "레이저 커터 안전교육" in mine.text
    assert "2027-11-01 만료" in mine.text
    english = client.get("/bookings?lang=en").text
    assert "My qualifications" in english and "Laser cutter safety" in english and "expires on 2027-11-01" in english


def test_a_host_adds_a_training_and_records_a_pass_on_a_phone_without_sideways_scrolling(browser, site, request):
    with browser_tab(browser, site, PHONE, request) as tab:
        log_in(tab, "host@example.kr")
        tab.goto(f"/nodes/{BOOKING_NODE}")
        tab.click(f"a[href='/nodes/{BOOKING_NODE}/trainings']")
        tab.fill("#name_ko", "레이저 커터 안전교육 (초급 과정, 실습 포함)")
        tab.fill("#name_en", "Laser cutter safety")
        tab.fill("#valid_months", "12")
        tab.click("form[action$='/trainings'] button[type=submit]")
        tab.select_option("#training", label="레이저 커터 안전교육 (초급 과정, 실습 포함)")
        tab.fill("#email", "curator@example.kr")
        tab.fill("#note", "1기 수료")
        tab.click("form[action$='/passes'] button[type=submit]")
        expect(tab.locator("table.holders").last.locator("td").first).to_contain_text("curator@example.kr")
        for language in ("ko", "en"):
            tab.goto(f"/nodes/{BOOKING_NODE}/trainings?lang={language}")
            assert tab.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], language
        expect(tab.locator("table.holders").last).to_contain_text("Valid")
