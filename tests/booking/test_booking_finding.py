"""Finding what is free: a focus booth near 가산디지털단지역 tomorrow 10:00–11:00, machines by their
equipment type, resources made from listed machines, and the matcher's earliest free slot."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from click.testing import CliRunner
from playwright.sync_api import expect
from sqlalchemy import select

from builders import (
    add_nodes,
    auth_headers,
    bookable,
    form_token,
    new_user,
    node_host,
    node_record,
    signed_in_page,
)
from fabcity.accounts import service as accounts
from fabcity.booking import resources, service
from fabcity.booking.models import BookingIn, ExceptionIn, RuleIn
from fabcity.cli.main import main
from fabcity.errors import Conflict
from fabcity.matching.need import Need
from fabcity.matching.rank import BOOKABLE_WEIGHT, rank
from fabcity.storage.schema import equipment, node

KST = ZoneInfo("Asia/Seoul")
GASAN = (37.4815, 126.8830)  # a block from 가산디지털단지역


def _tomorrow(hour: int, until: int, day: date | None = None) -> tuple[datetime, datetime]:
    day = day or (datetime.now(KST) + timedelta(days=1)).date()
    start = datetime(day.year, day.month, day.day, hour, tzinfo=KST)
    return start.astimezone(UTC), datetime(day.year, day.month, day.day, until, tzinfo=KST).astimezone(UTC)


def _next_holiday() -> date:
    day = datetime.now(KST).date() + timedelta(days=2)
    korean = holidays.country_holidays("KR", years=[day.year, day.year + 1])
    while day not in korean:
        day += timedelta(days=1)
    return day


def _gasan(platform, hours: str | None = None, **fields) -> accounts.User:
    """A coworking node by 가산디지털단지역 (closed on public holidays when its hours say so) and its host."""
    add_nodes(platform, [node_record("gasan-works", *GASAN, opening_hours=hours, **fields)])
    return node_host(platform, "gasan-host", slug="gasan-works")


def _free(client, **params) -> dict:
    answer = client.get("/api/v1/resources/free", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _ids(found: list[dict]) -> list[int]:
    return [item["resource"]["id"] for item in found]


def test_a_focus_booth_near_gasan_tomorrow_is_found_but_not_a_booked_closed_or_far_one(client, platform):
    host = _gasan(platform)
    free = bookable(platform, host, node="gasan-works", kind="focus_booth", name_ko="집중 부스 A")
    booked = bookable(platform, host, node="gasan-works", kind="focus_booth", name_ko="집중 부스 B")
    closed = bookable(platform, host, hours=("12:00", "18:00"), node="gasan-works", kind="focus_booth")
    shut = bookable(platform, host, node="gasan-works", kind="focus_booth", name_ko="점검 부스")
    far = bookable(platform, node_host(platform), kind="focus_booth", name_ko="을지로 부스")
    desk = bookable(platform, host, node="gasan-works", kind="desk")
    start, end = _tomorrow(10, 11)
    member = accounts.create_user(platform, "member@example.kr", "correct horse battery", "member")
    service.create_booking(
        platform, member, BookingIn(resource=booked["id"], starts_at=start, ends_at=end, idempotency_key="k")
    )
    resources.add_exception(platform, host, shut["id"], ExceptionIn(kind="maintenance", starts_at=start, ends_at=end))
    params = {"kind": "focus_booth", "station": "가산디지털단지역", "from": start.isoformat(), "to": end.isoformat()}
    found = _free(client, **params)
    assert _ids(found["results"]) == [free["id"]]
    first = found["results"][0]
    assert first["node"]["slug"] == "gasan-works" and first["distance_m"] < 300 and first["free_units"] == 1
    assert [datetime.fromisoformat(first["period"][key]) for key in ("starts_at", "ends_at")] == [start, end]
    assert found["place"]["name"]["ko"] == "가산디지털단지"
    later = {item["resource"]["id"]: item["period"] for item in found["later"]}
    assert set(later) == {booked["id"], closed["id"], shut["id"]}  # not the far one, not the desk
    assert datetime.fromisoformat(later[booked["id"]]["starts_at"]) == end  # free again when the booking ends
    assert datetime.fromisoformat(later[closed["id"]]["starts_at"]) == _tomorrow(12, 13)[0]
    assert far["id"] not in _ids(found["results"]) and desk["id"] not in _ids(found["results"])
    wide = _free(client, **params, radius=20_000)
    assert _ids(wide["results"]) == [free["id"], far["id"]]  # nearest first
    by_gu = _free(client, kind="focus_booth", gu="금천구", **{"from": params["from"], "to": params["to"]})
    assert _ids(by_gu["results"]) == [free["id"]]
    seoul_station = _free(client, **params | {"station": "서울역", "radius": 20_000})  # a station named with 역
    assert seoul_station["place"]["name"]["ko"] == "서울역" and _ids(seoul_station["results"])[0] == far["id"]


def test_a_node_closed_on_public_holidays_has_nothing_free_on_one(client, platform):
    host = _gasan(platform, hours="Mo-Su 09:00-18:00; PH off")
    booth = bookable(platform, host, node="gasan-works", kind="focus_booth")
    holiday = _next_holiday()
    start, end = _tomorrow(10, 11, holiday)
    found = _free(
        client, kind="focus_booth", near="37.4815,126.8830", **{"from": start.isoformat(), "to": end.isoformat()}
    )
    assert found["results"] == [] and _ids(found["later"]) == [booth["id"]]
    assert datetime.fromisoformat(found["later"][0]["period"]["starts_at"]).astimezone(KST).date() > holiday


def test_a_period_longer_than_a_resource_takes_is_free_neither_then_nor_later(client, platform):
    host = _gasan(platform)
    short = bookable(platform, host, node="gasan-works", kind="focus_booth", max_duration_min=60)
    start, end = _tomorrow(10, 12)
    found = _free(
        client, kind="focus_booth", station="가산디지털단지", **{"from": start.isoformat(), "to": end.isoformat()}
    )
    assert found["results"] == [] and found["later"] == [{**found["later"][0], "period": None}]
    assert _ids(found["later"]) == [short["id"]]


def test_machines_are_found_by_their_equipment_type(client, platform):
    host = node_host(platform)
    made = _laser_cutter_of_fab_lab_seoul(platform, host)
    bookable(platform, host, kind="machine", name_ko="이름만 있는 장비")  # a machine resource of no listed type
    start, end = _tomorrow(10, 11)
    window = {"from": start.isoformat(), "to": end.isoformat(), "near": "37.5692,126.9952"}
    assert _ids(_free(client, kind="laser_cutter", **window)["results"]) == [made["id"]]
    assert _ids(_free(client, kind="레이저 커터", **window)["results"]) == [made["id"]]  # a taxonomy alias
    assert _free(client, kind="3d_printer", **window)["results"] == []
    assert len(_free(client, kind="machine", **window)["results"]) == 2


def test_bad_parameters_are_422s_naming_them(client, platform):
    start, end = _tomorrow(10, 11)
    good = {"kind": "focus_booth", "station": "가산디지털단지", "from": start.isoformat(), "to": end.isoformat()}
    cases = [
        ({"kind": "teapot"}, "kind"),
        ({"station": "없는역이름"}, "station"),
        ({"station": None, "gu": "없는구"}, "gu"),
        ({"station": None}, "near"),
        ({"near": "37.5,126.9"}, "near"),
        ({"station": None, "near": "north"}, "near"),
        ({"radius": -5}, "radius"),
        ({"to": start.isoformat()}, "to"),
        ({"from": "tomorrow"}, "from"),
        ({"to": (start + timedelta(days=30)).isoformat()}, "to"),
    ]
    for method, path, allowed in (("PATCH", "free", "GET"), ("DELETE", "from-machine", "POST")):
        wrong = client.request(method, f"/api/v1/resources/{path}")  # not taken for a resource id (a 422)
        assert (wrong.status_code, wrong.headers["allow"]) == (405, allowed)
    for change, name in cases:
        params = {key: value for key, value in (good | change).items() if value is not None}
        answer = client.get("/api/v1/resources/free", params=params)
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["detail"][0]["loc"][-1] == name, (change, answer.text)


def test_a_listed_machine_becomes_a_resource_once_with_a_unit_per_machine_and_the_nodes_hours(client, platform):
    machine = {"type": "laser_cutter", "name": {"ko": "레이저 커터"}, "make": "Trotec", "model": "Speedy 300"}
    host = _gasan(platform, hours="Mo-Fr 10:00-18:00; Sa 10:00-14:00", equipment=[machine | {"quantity": 3}])
    headers = {"Authorization": f"Bearer {accounts.create_token(platform, host, 'tests')}"}
    machines = client.get("/nodes/gasan-works/machines/bookable", headers=headers)
    assert machines.status_code == 200 and "Trotec Speedy 300" in machines.text
    [listed] = resources.bookable_machines(platform, host, "gasan-works")
    body = {"node": "gasan-works", "equipment": listed["pk"]}
    assert (
        client.post("/api/v1/resources/from-machine", json=body, headers=auth_headers(platform, "host")).status_code
        == 403
    )
    assert client.post("/api/v1/resources/from-machine", json=body).status_code == 401
    made = client.post("/api/v1/resources/from-machine", json=body, headers=headers)
    assert made.status_code == 201, made.text
    resource = made.json()
    assert resource["units"] == ["1", "2", "3"] and resource["kind"] == "machine"
    assert (
        resource["name_ko"] == "레이저 커터 (Trotec Speedy 300)"
        and resource["name_en"] == "Laser cutter (Trotec Speedy 300)"
    )
    assert resource["time_zone"] == "Asia/Seoul"
    assert (resource["equipment"], resource["equipment_type"]) == (listed["pk"], "laser_cutter")
    rules = resources.availability(platform, resource["id"])["rules"]
    assert [(r["weekday"], r["start"], r["end"]) for r in rules] == [
        *((day, "10:00", "18:00") for day in range(5)),
        (5, "10:00", "14:00"),
    ]
    again = client.post("/api/v1/resources/from-machine", json=body, headers=headers)
    assert again.status_code == 409 and f"resource {resource['id']}" in again.text
    other = client.post("/api/v1/resources/from-machine", json={**body, "equipment": 999_999}, headers=headers)
    assert other.status_code == 422 and other.json()["detail"][0]["loc"][-1] == "equipment"
    assert resources.bookable_machines(platform, host, "gasan-works")[0]["resource"] == resource["id"]


def test_a_host_makes_a_machine_bookable_with_its_button_and_a_stranger_may_not_see_the_list(client, platform):
    machine = {"type": "3d_printer", "name": {"ko": "3D 프린터", "en": "3D printer"}, "quantity": 2}
    host = _gasan(platform, equipment=[machine])
    signed_in_page(client, host)
    page = client.get("/nodes/gasan-works/machines/bookable", params={"lang": "ko"})
    assert page.status_code == 200 and "예약 가능하게 만들기" in page.text
    [listed] = resources.bookable_machines(platform, host, "gasan-works")
    form = {"csrf": form_token(client, "/nodes/gasan-works/machines/bookable")}
    pressed = client.post(f"/nodes/gasan-works/machines/{listed['pk']}/bookable", data=form, follow_redirects=False)
    assert pressed.status_code == 303 and pressed.headers["location"] == "/nodes/gasan-works/machines/bookable"
    [made] = resources.resources_of(platform, "gasan-works")
    assert made["units"] == ["1", "2"] and made["equipment_type"] == "3d_printer"
    after = client.get("/nodes/gasan-works/machines/bookable").text
    assert f'href="/resources/{made["id"]}"' in after and "예약 가능하게 만들기" not in after
    assert client.post(f"/nodes/gasan-works/machines/{listed['pk']}/bookable", data=form).status_code == 409
    stranger = new_user(platform, "stranger", "member")
    client.cookies.clear()
    signed_in_page(client, stranger)
    assert client.get("/nodes/gasan-works/machines/bookable").status_code == 403


def test_the_free_page_lists_the_booth_near_the_station_in_korean_and_english(client, platform):
    host = _gasan(platform)
    booth = bookable(
        platform, host, node="gasan-works", kind="focus_booth", name_ko="집중 부스", name_en="Focus booth A"
    )
    day = (datetime.now(KST) + timedelta(days=1)).date().isoformat()
    query = {"kind": "focus_booth", "where": "가산디지털단지역", "date": day, "start": "10:00", "end": "11:00"}
    korean = client.get("/free", params=query)
    assert korean.status_code == 200
    assert "무엇을" in korean.text and "집중 부스" in korean.text and f'href="/resources/{booth["id"]}"' in korean.text
    assert "10:00" in korean.text
    in_the_gu = client.get("/free", params=query | {"where": "금천구"})  # the gu, not the station 금천구청
    assert f'href="/resources/{booth["id"]}"' in in_the_gu.text and "금천구청" not in in_the_gu.text
    english = client.get("/free", params=query | {"lang": "en"})
    assert "Focus booth A" in english.text and "What" in english.text
    wrong = client.get("/free", params=query | {"where": "없는역이름", "lang": "ko"})
    assert wrong.status_code == 422 and "역이나 구" in wrong.text


def _laser_cutter_of_fab_lab_seoul(platform, host: accounts.User) -> dict:
    """Fab Lab Seoul's listed laser cutter made bookable, open every day 09:00–18:00."""
    with platform.engine.connect() as conn:
        pk = conn.execute(select(node.c.pk).where(node.c.slug == "fab-lab-seoul")).scalar_one()
        cutter = conn.execute(
            select(equipment.c.pk).where(equipment.c.node_pk == pk, equipment.c.type == "laser_cutter")
        ).scalar_one()
    made = resources.resource_from_machine(platform, host, "fab-lab-seoul", cutter)
    for weekday in range(7):
        resources.add_rule(platform, host, made["id"], RuleIn(weekday=weekday, start="09:00", end="18:00"))
    return made


def test_the_matcher_says_when_a_makers_machine_is_first_free_and_keeps_the_makers_without_one(client, platform):
    need = Need(processes=["laser_cutting"])
    unbooked = {match.node["slug"]: match.score for match in rank(platform, need).matches}
    _laser_cutter_of_fab_lab_seoul(platform, node_host(platform))
    by_slug = {match.node["slug"]: match for match in rank(platform, need).matches}
    assert by_slug.keys() == unbooked.keys() and len(by_slug) > 1  # makers without a bookable machine stay
    lab = by_slug["fab-lab-seoul"]
    assert lab.bookable and lab.earliest_slot is not None
    assert unbooked["fab-lab-seoul"] < lab.score <= unbooked["fab-lab-seoul"] + BOOKABLE_WEIGHT  # a soft factor
    assert lab.earliest_slot[0].astimezone(KST).hour >= 9 and lab.earliest_slot[0] > datetime.now(UTC)
    others = [match for slug, match in by_slug.items() if slug != "fab-lab-seoul"]
    assert all(not m.bookable and m.earliest_slot is None for m in others)
    public = lab.public()
    assert (
        public["bookable_machine"]
        and datetime.fromisoformat(public["earliest_free_slot"]["starts_at"]) == (lab.earliest_slot[0])
    )
    json.dumps(public)  # plain JSON, as the command line prints it
    page = client.get("/match", params={"text": "레이저 커팅", "lang": "ko"}).text
    assert "가장 빠른 예약 가능" in page and "예약 가능한 장비 없음" in page
    english = client.get("/match", params={"text": "laser cutting", "lang": "en"}).text
    assert "earliest free slot: " in english and "no bookable machine" in english


def test_the_match_command_shows_each_makers_earliest_free_hour_in_seoul_time(platform, db_url):
    _laser_cutter_of_fab_lab_seoul(platform, node_host(platform))
    shown = CliRunner(env={"COLUMNS": "240"}).invoke(main, ["match", "레이저 커팅", "--db", db_url])
    assert shown.exit_code == 0
    [lab_row] = [line for line in shown.output.splitlines() if "팹랩 서울" in line]
    slot = re.search(r"(\d{4}-\d{2}-\d{2}) (\d{2}):00–(\d{2}):00", lab_row)
    assert slot is not None and 9 <= int(slot[2]) <= 17  # the machine's hours, 09:00–18:00 in Seoul, not UTC
    assert int(slot[3]) == int(slot[2]) + 1
    assert "예약 가능한 장비 없음 / no bookable machine" in shown.output  # the makers without one


def test_the_free_form_fits_a_phone_and_says_when_nothing_is_free(phone):
    phone.goto("/free")
    phone.fill("#where", "가산디지털단지역")
    phone.click(".free-search button[type=submit]")
    phone.wait_for_url(re.compile(r"where="))
    assert "그 시간에 비어 있는 곳이 없습니다." in phone.inner_text("main")
    assert phone.input_value("#where") == "가산디지털단지역"
    expect(phone.locator("#free-map.leaflet-container")).to_be_visible()  # the place looked around, on a map
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_hosts_making_one_machine_bookable_at_once_make_one_resource(platform):
    """Started together at a barrier: the unique index (PostgreSQL) or the write lock (SQLite) lets one through."""
    add_nodes(platform, [node_record("gasan-works", *GASAN, equipment=[{"type": "laser_cutter"}])])
    hosts = [node_host(platform, f"host{number}", slug="gasan-works") for number in range(6)]
    [machine] = resources.bookable_machines(platform, hosts[0], "gasan-works")
    barrier = threading.Barrier(len(hosts), timeout=30)

    def make(host: accounts.User) -> str:
        barrier.wait()
        try:
            return f"made {resources.resource_from_machine(platform, host, 'gasan-works', machine['pk'])['id']}"
        except Conflict as refusal:
            return str(refusal)

    with ThreadPoolExecutor(len(hosts)) as pool:
        answers = list(pool.map(make, hosts))
    made = [answer for answer in answers if answer.startswith("made ")]
    assert len(made) == 1, answers
    resource = made[0].removeprefix("made ")
    assert all(f"resource {resource}" in answer for answer in answers if answer not in made)
    assert resources.bookable_machines(platform, hosts[0], "gasan-works")[0]["resource"] == int(resource)
