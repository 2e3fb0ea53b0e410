"""Booking calendars on both backends: feeds that parse back in UTC behind revocable secrets, and imported
blocks (recurrences, all-day events, daylight saving) that replace only their own source's and land whole."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import delete

from builders import PASSWORD, bookable, form_token, new_user, node_host, signed_in_page
from fabcity import audit
from fabcity.accounts import service as accounts
from fabcity.booking import calendars, resources, service
from fabcity.booking.models import BookingIn, ExceptionIn
from fabcity.errors import FieldError, Forbidden
from fabcity.storage.schema import node_host as hosts
from servers import PHONE, browser_tab, log_in

NOW = datetime(2027, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Seoul
KST = ZoneInfo("Asia/Seoul")
DATA = Path(__file__).parent.parent / "data"
GOOGLE = (DATA / "google-calendar.ics").read_bytes()


def _kst(day: int, hour: float, month: int = 3) -> datetime:
    return (datetime(2027, month, day, tzinfo=KST) + timedelta(hours=hour)).astimezone(UTC)


def _book(platform, user, resource, start, hours=1, key=None):
    end = start + timedelta(hours=hours)
    data = BookingIn(resource=resource["id"], starts_at=start, ends_at=end, idempotency_key=key or f"{start}{user.id}")
    return service.create_booking(platform, user, data, at=NOW)


def _ics(*events: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN", *events, "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def _events(answer) -> dict[str, object]:
    return {str(event["UID"]): event for event in Calendar.from_ical(answer.content).walk("VEVENT")}


@pytest.fixture
def people(platform):
    return node_host(platform), new_user(platform, "ara", "member"), new_user(platform, "bo", "member")


def _bearer(platform, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(platform, user, 'tests')}"}


# --------------------------------------------------------------------------------------------
# feeds


def test_a_resource_feed_parses_back_with_its_bookings_in_utc_and_a_members_feed_holds_only_theirs(
    client, platform, people
):
    host, ara, bo = people
    cutter = bookable(platform, host, name_en="Laser cutter")
    kept = _book(platform, ara, cutter, _kst(3, 10))
    cancelled = _book(platform, ara, cutter, _kst(3, 12))
    cancelled = service.move_booking(platform, ara, cancelled["id"], "cancel", at=NOW)
    other = _book(platform, bo, cutter, _kst(4, 10))

    made = client.post("/api/v1/calendar-feeds", headers=_bearer(platform, host), json={"resource": cutter["id"]})
    assert made.status_code == 201, made.text
    answer = client.get(urlsplit(made.json()["url"]).path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    events = _events(answer)
    assert set(events) == {f"booking-{b['id']}@fabcity.seoul" for b in (kept, cancelled, other)}
    first = events[f"booking-{kept['id']}@fabcity.seoul"]
    assert first["DTSTART"].dt == kept["starts_at"] == datetime(2027, 3, 3, 1, tzinfo=UTC)
    assert first["DTEND"].dt.utcoffset() == timedelta(0) and first["DTEND"].dt == kept["ends_at"]
    assert b"DTSTART:20270303T010000Z" in answer.content
    assert (str(first["STATUS"]), int(first["SEQUENCE"])) == ("CONFIRMED", kept["version"])
    assert str(first["SUMMARY"]) == "레이저 커터: ara (확정) / Laser cutter: ara (Confirmed)"
    gone = events[f"booking-{cancelled['id']}@fabcity.seoul"]
    assert (str(gone["STATUS"]), int(gone["SEQUENCE"])) == ("CANCELLED", cancelled["version"])

    mine = client.post("/api/v1/calendar-feeds", headers=_bearer(platform, ara), json={})
    own = _events(client.get(urlsplit(mine.json()["url"]).path))
    assert set(own) == {f"booking-{b['id']}@fabcity.seoul" for b in (kept, cancelled)}
    assert all("ara" not in str(event["SUMMARY"]) for event in own.values())


def test_a_revoked_or_unknown_feed_is_not_found_and_only_its_owner_revokes_it_once(client, platform, people):
    host, ara, _ = people
    cutter = bookable(platform, host)
    headers = _bearer(platform, host)
    made = client.post("/api/v1/calendar-feeds", headers=headers, json={"resource": cutter["id"]}).json()
    path = urlsplit(made["url"]).path
    assert client.get(path).status_code == 200
    assert client.delete(f"/api/v1/calendar-feeds/{made['id']}", headers=_bearer(platform, ara)).status_code == 403
    assert client.get(path).status_code == 200
    revoked = client.delete(f"/api/v1/calendar-feeds/{made['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get(path).status_code == 404
    assert client.delete(f"/api/v1/calendar-feeds/{made['id']}", headers=headers).status_code == 409
    assert client.get("/calendars/fcc_nothing-like-it.ics").status_code == 404
    assert [f["id"] for f in client.get("/api/v1/calendar-feeds", headers=headers).json()] == [made["id"]]


def test_someone_elses_resource_is_refused_and_a_feed_ends_with_its_owners_hosting(client, platform, people):
    host, ara, _ = people
    cutter = bookable(platform, host)
    for headers in (_bearer(platform, ara), _bearer(platform, new_user(platform, "stranger", "host"))):
        made = client.post("/api/v1/calendar-feeds", headers=headers, json={"resource": cutter["id"]})
        assert made.status_code == 403
        imported = client.post(
            f"/api/v1/resources/{cutter['id']}/calendar-import",
            headers=headers | {"Content-Type": "text/calendar"},
            content=GOOGLE,
        )
        assert imported.status_code == 403
    _feed, secret = calendars.create_feed(platform, host, cutter["id"])
    with platform.engine.begin() as conn:
        conn.execute(delete(hosts).where(hosts.c.user_id == host.id))
    assert client.get(calendars.feed_path(secret)).status_code == 404
    with pytest.raises(Forbidden):
        calendars.import_calendar(platform, host, cutter["id"], GOOGLE, at=NOW)


def test_a_feed_ends_with_its_owners_account(client, platform, people):
    _, ara, _ = people
    _feed, secret = calendars.create_feed(platform, ara, None)
    assert client.get(calendars.feed_path(secret)).status_code == 200
    accounts.delete_account(platform, ara, PASSWORD)
    assert client.get(calendars.feed_path(secret)).status_code == 404


# --------------------------------------------------------------------------------------------
# import


def _free(platform, resource, days=40) -> set[datetime]:
    answer = service.free_slots(platform, resource["id"], NOW, NOW + timedelta(days=days), at=NOW)
    return {slot["starts_at"] for slot in answer["slots"]}


def _half_hours(start: datetime, end: datetime) -> set[datetime]:
    return {start + timedelta(minutes=30 * n) for n in range(int((end - start) / timedelta(minutes=30)))}


def _imported(platform, resource) -> list[tuple[datetime, datetime]]:
    found = resources.availability(platform, resource["id"])["exceptions"]
    return sorted((e["starts_at"], e["ends_at"]) for e in found if e["kind"] == "external_block")


def test_a_weekly_event_with_an_exdate_blocks_exactly_its_slots(platform, people):
    host, _, _ = people
    cutter = bookable(platform, host)
    before = _free(platform, cutter)
    result = calendars.import_calendar(platform, host, cutter["id"], GOOGLE, at=NOW)
    blocked = before - _free(platform, cutter)
    busy = [
        (_kst(3, 14), _kst(3, 16)),  # the weekly class, Wednesdays 14:00-16:00 …
        (_kst(10, 14), _kst(10, 16)),  # … not on the 17th (EXDATE) …
        (_kst(24, 18), _kst(24, 19)),  # … moved to the evening on the 24th (RECURRENCE-ID)
        (_kst(31, 14), _kst(31, 16)),
        (_kst(7, 14, month=4), _kst(7, 16, month=4)),
        (_kst(5, 0), _kst(6, 0)),  # all day, in Seoul
        (_kst(9, 10), _kst(9, 12)),  # given in UTC
    ]  # the free delivery on the 4th and the cancelled demonstration on the 8th take no time
    assert blocked == set().union(*(_half_hours(start, end) for start, end in busy))
    assert _free(platform, cutter) <= before
    assert (result["events"], result["blocks"], result["skipped_free"], result["skipped_cancelled"]) == (7, 7, 1, 1)


def test_a_reimport_replaces_its_own_blocks_and_never_a_hosts_exceptions(platform, people):
    host, ara, _ = people
    cutter = bookable(platform, host)
    closure = ExceptionIn(kind="closure", starts_at=_kst(12, 0), ends_at=_kst(13, 0), note="정기 휴무")
    resources.add_exception(platform, host, cutter["id"], closure)
    booked = _book(platform, ara, cutter, _kst(3, 14))
    first = calendars.import_calendar(platform, host, cutter["id"], GOOGLE, at=NOW)
    assert first["overlapping_bookings"] == 1
    assert service.get_booking(platform, ara, booked["id"], at=NOW)["state"] == "confirmed"
    again = _ics("BEGIN:VEVENT", "UID:one", "DTSTART:20270311T000000Z", "DTEND:20270311T010000Z", "END:VEVENT")
    second = calendars.import_calendar(platform, host, cutter["id"], again, at=NOW)
    assert (second["replaced"], second["blocks"], second["overlapping_bookings"]) == (7, 1, 0)
    assert second["version"] > first["version"] > cutter["version"]
    exceptions = resources.availability(platform, cutter["id"])["exceptions"]
    assert sorted((e["kind"], e["starts_at"]) for e in exceptions) == [
        ("closure", _kst(12, 0)),
        ("external_block", datetime(2027, 3, 11, tzinfo=UTC)),
    ]
    with platform.engine.connect() as conn:
        trail = [
            e["changes"] for e in audit.history(conn, "resource", str(cutter["id"])) if e["action"] == "resource.import"
        ]
    assert [t["blocks"] for t in trail] == [[0, 7], [7, 1]]


_TOO_LARGE = b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:" + b"x" * calendars.MAX_CALENDAR_BYTES + b"\r\n"


@pytest.mark.parametrize(
    ("case", "data", "problem"),
    [
        ("not iCalendar", b"Subject: lunch\r\n\r\nSee you at noon", "not iCalendar"),
        ("a broken line", _ics("BEGIN:VEVENT", "UID:a", "this line has no colon", "END:VEVENT"), "line 6:"),
        ("an event without DTSTART", _ics("BEGIN:VEVENT", "UID:no-start", "SUMMARY:x", "END:VEVENT"),
         "event no-start (line 4) has no DTSTART"),
        ("a bad date", _ics("BEGIN:VEVENT", "UID:bad", "DTSTART:2027031", "END:VEVENT"), "event bad (line 4): DTSTART"),
        ("too large", _TOO_LARGE, "larger than 1024 KB"),
        ("a runaway rule", _ics("BEGIN:VEVENT", "UID:m", "DTSTART:20270303T010000Z", "DURATION:PT1M",
                                "RRULE:FREQ=MINUTELY", "END:VEVENT"), "more than 5000 busy periods"),
        ("not UTF-8", _ics("BEGIN:VEVENT", "UID:x", "SUMMARY:\xff", "END:VEVENT").replace(b"\xc3\xbf", b"\xff"),
         "line 6: not UTF-8"),
    ],
)  # fmt: skip
def test_a_bad_calendar_is_refused_naming_the_problem_and_changes_nothing(platform, people, case, data, problem):
    host, _, _ = people
    cutter = bookable(platform, host)
    calendars.import_calendar(platform, host, cutter["id"], GOOGLE, at=NOW)
    before = (resources.availability(platform, cutter["id"]), resources.get_resource(platform, cutter["id"]))
    with platform.engine.connect() as conn:
        trail = len(audit.history(conn, "resource", str(cutter["id"])))
    with pytest.raises(FieldError) as refused:
        calendars.import_calendar(platform, host, cutter["id"], data, at=NOW)
    assert refused.value.field == "calendar" and refused.value.message.startswith(problem)
    after = (resources.availability(platform, cutter["id"]), resources.get_resource(platform, cutter["id"]))
    assert after == before
    with platform.engine.connect() as conn:
        assert len(audit.history(conn, "resource", str(cutter["id"]))) == trail


def test_an_import_into_a_resource_abroad_follows_its_daylight_saving(platform, people):
    host, _, _ = people
    berlin = bookable(platform, host, time_zone="Europe/Berlin")
    data = _ics(
        "BEGIN:VEVENT", "UID:weekly", "DTSTART;TZID=Europe/Berlin:20270322T100000",
        "DTEND;TZID=Europe/Berlin:20270322T120000", "RRULE:FREQ=WEEKLY;COUNT=3", "END:VEVENT",
        "BEGIN:VEVENT", "UID:day", "DTSTART;VALUE=DATE:20270328", "END:VEVENT",  # the 23-hour day
        "BEGIN:VEVENT", "UID:floating", "DTSTART:20270330T090000", "DTEND:20270330T100000", "END:VEVENT",
    )  # fmt: skip
    calendars.import_calendar(platform, host, berlin["id"], data, at=NOW)
    utc = functools.partial(datetime, tzinfo=UTC)
    assert _imported(platform, berlin) == [
        (utc(2027, 3, 22, 9), utc(2027, 3, 22, 11)),  # CET, UTC+1
        (utc(2027, 3, 27, 23), utc(2027, 3, 28, 22)),  # local midnight to midnight across the change
        (utc(2027, 3, 29, 8), utc(2027, 3, 29, 10)),  # CEST, UTC+2: the same 10:00 on the wall
        (utc(2027, 3, 30, 7), utc(2027, 3, 30, 8)),  # a floating time read in the resource's zone
        (utc(2027, 4, 5, 8), utc(2027, 4, 5, 10)),
    ]


@pytest.fixture
def calendar_server(monkeypatch) -> Iterator[str]:
    """tests/data served over HTTP on loopback, as a calendar's address would be (loopback allowed meanwhile)."""
    monkeypatch.setattr(calendars, "FETCH_LOCAL_ADDRESSES", True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(DATA))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_import_from_an_address_keeps_it_and_an_unreachable_one_changes_nothing(
    client, platform, people, calendar_server
):
    host, _, _ = people
    cutter = bookable(platform, host)
    url = f"{calendar_server}/google-calendar.ics"
    result = calendars.import_calendar(platform, host, cutter["id"], url=url, at=NOW)
    assert (result["source"], result["blocks"]) == ("url", 7)
    headers = _bearer(platform, host)
    state = client.get(f"/api/v1/resources/{cutter['id']}/calendar-import", headers=headers).json()
    assert state["import_url"] == url and state["last_import"]["blocks"] == 7
    assert "import_url" not in client.get(f"/api/v1/resources/{cutter['id']}").json()
    blocks = _imported(platform, cutter)
    refused = client.post(
        f"/api/v1/resources/{cutter['id']}/calendar-import",
        headers=headers,
        json={"url": f"{calendar_server}/gone.ics"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "url"] and "404" in refused.json()["detail"][0]["msg"]
    assert _imported(platform, cutter) == blocks
    assert client.get(f"/api/v1/resources/{cutter['id']}/calendar-import", headers=headers).json()["import_url"] == url
    with pytest.raises(FieldError, match="could not be fetched"):
        calendars.import_calendar(platform, host, cutter["id"], url="http://127.0.0.1:9/closed.ics", at=NOW)
    again = calendars.import_calendar(platform, host, cutter["id"], at=NOW)  # the stored address, fetched again
    assert (again["replaced"], again["blocks"]) == (7, 7)


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:8000/calendar.ics", "http://10.1.2.3/c.ics", "http://[::1]/c.ics"]
)
def test_a_local_or_private_address_is_never_fetched(platform, people, address):
    host, _, _ = people
    cutter = bookable(platform, host)
    with pytest.raises(FieldError, match="local or private address") as refused:
        calendars.import_calendar(platform, host, cutter["id"], url=address, at=NOW)
    assert refused.value.field == "url"
    assert calendars.import_state(platform, host, cutter["id"]) == {"import_url": None, "last_import": None}


def test_the_hosts_page_shows_a_feed_address_once_and_imports_a_file(client, platform, people):
    host, _, _ = people
    cutter = bookable(platform, host)
    signed_in_page(client, host)
    page = f"/resources/{cutter['id']}/calendars"
    made = client.post(f"{page}/feeds", data={"csrf": form_token(client, page)})
    assert made.status_code == 200 and "피드 주소" in made.text
    feed_url = made.text.split('id="feed-url" class="secret">')[1].split("<")[0]
    assert client.get(urlsplit(feed_url).path).status_code == 200
    assert urlsplit(feed_url).path not in client.get(page).text
    token = form_token(client, page)
    bad = client.post(f"{page}/import", data={"csrf": token}, files={"file": ("x.ics", b"hello", "text/calendar")})
    assert bad.status_code == 422 and "iCalendar(.ics) 캘린더가 아닙니다" in bad.text
    imported = client.post(f"{page}/import", data={"csrf": token}, files={"file": ("g.ics", GOOGLE, "text/calendar")})
    assert imported.status_code == 200 and 'id="last-import"' in imported.text
    assert calendars.import_state(platform, host, cutter["id"])["last_import"]["events"] == 7
    forged = client.post(f"{page}/import", data={"csrf": "forged"}, files={"file": ("g.ics", GOOGLE, "text/calendar")})
    assert forged.status_code == 403


def test_a_member_makes_a_feed_of_their_own_bookings_on_their_page_and_revokes_it(client, platform, people):
    _, ara, _ = people
    signed_in_page(client, ara)
    made = client.post("/calendars/feeds", data={"csrf": form_token(client, "/calendars")})
    assert made.status_code == 200 and "내 캘린더에서 내 예약 보기" in made.text
    feed_path = urlsplit(made.text.split('id="feed-url" class="secret">')[1].split("<")[0]).path
    assert client.get(feed_path).status_code == 200
    feed_id = calendars.feeds_of(platform, ara)[0]["id"]
    revoked = client.post(f"/calendars/feeds/{feed_id}/revoke", data={"csrf": form_token(client, "/calendars")},
                          follow_redirects=False)  # fmt: skip
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/calendars")
    assert client.get(feed_path).status_code == 404


def test_on_a_phone_a_host_imports_a_file_and_makes_a_feed_address_without_sideways_scrolling(browser, site, request):
    with browser_tab(browser, site, PHONE, request) as tab:
        log_in(tab, "host@example.kr")
        tab.goto("/calendars")
        csrf = tab.input_value("input[name=csrf] >> nth=0")
        body = {"node": "fab-lab-seoul", "kind": "machine", "name_ko": "레이저 커터", "name_en": "Laser cutter"}
        made = tab.request.post("/api/v1/resources", data=body, headers={"X-CSRF-Token": csrf})
        assert made.status == 201, made.text()
        tab.goto(f"/resources/{made.json()['id']}/calendars")
        tab.set_input_files("#calendar-file", str(DATA / "google-calendar.ics"))
        tab.click("form[action$='/import'] button[type=submit]")
        assert "일정" in tab.inner_text("#last-import")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        tab.click("form[action$='/feeds'] button[type=submit]")
        assert tab.inner_text("#feed-url").endswith(".ics")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
