"""The node forms through HTTP: machines as rows, hours by weekday or in Korean, every error at once
next to its field in the page's language, the input kept, and "saved" after a save."""

from __future__ import annotations

import html
import json
import re

from builders import PASSWORD, form_token, new_user, sign_in
from fabcity.directory import editing
from fabcity.directory.read import importable

NODE = "fab-lab-seoul"
EDIT = f"/nodes/{NODE}/edit"


def _filled_form(client, path: str = EDIT) -> dict[str, str]:
    """Every field of the form as the page filled it: inputs, ticked boxes, chosen options, textareas."""
    page = client.get(path).text
    fields = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value and ('type="checkbox"' not in tag or " checked" in tag):
            fields[name[1]] = html.unescape(value[1])
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen[1] if chosen else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = html.unescape(text)
    return fields


def _sign_in_as_host(client, platform) -> None:
    """Sign in as a person whose claim to host fab-lab-seoul a curator approved."""
    host = sign_in(client, platform, "host", "member")
    curator = new_user(platform, "curator", "curator")
    claim = editing.claim_node(platform, host, NODE, "운영자입니다")
    editing.decide_claim(platform, curator, claim["id"], approve=True)


def _stored(platform) -> dict:
    with platform.engine.connect() as conn:
        return importable(json.loads(editing.stored_node(conn, NODE)[0]))


def _empty_row(fields: dict[str, str]) -> int:
    """The number of the empty machine row the form offers for a new machine."""
    return max(int(m[1]) for name in fields if (m := re.match(r"machine-(\d+)-type$", name)))


def test_a_host_adds_a_machine_in_a_row_and_sets_hours_by_weekday(client, platform):
    _sign_in_as_host(client, platform)
    machines_before = _stored(platform)["equipment"]
    fields = _filled_form(client)
    row = _empty_row(fields)
    assert row == len(machines_before) and fields[f"machine-{row}-type"] == ""
    fields.update({
        f"machine-{row}-type": "laser_cutter", f"machine-{row}-make": "Trotec", f"machine-{row}-model": "Speedy 400",
        f"machine-{row}-quantity": "2", f"machine-{row}-bed_size_mm-0": "1000", f"machine-{row}-bed_size_mm-1": "610",
        f"machine-{row}-laser_power_w": "80", "hours-holidays": "휴무",
    })  # fmt: skip
    for day in ("Tu", "We", "Th", "Fr", "Sa"):
        fields.update({f"hours-{day}-open": "10시", f"hours-{day}-close": "18:00"})

    saved = client.post(EDIT, data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/nodes/{NODE}"
    page = client.get(f"/nodes/{NODE}").text
    assert "저장되었습니다" in page
    assert "화–토 10:00–18:00" in page and "공휴일 휴무" in page
    assert "베드 크기 1000 × 610 mm" in page and "레이저 출력 80 W" in page and "bed_size_mm" not in page
    assert "저장되었습니다" not in client.get(f"/nodes/{NODE}").text  # shown once
    english = client.get(f"/nodes/{NODE}?lang=en").text
    assert "Bed size 1000 × 610 mm" in english and "Tue–Sat 10:00–18:00" in english

    stored = _stored(platform)
    assert stored["opening_hours"] == "Tu-Sa 10:00-18:00; PH off"
    assert stored["equipment"][:-1] == machines_before  # names, processes and materials the rows do not show
    assert stored["equipment"][-1] == {
        "type": "laser_cutter", "name": {"ko": None, "en": None}, "make": "Trotec", "model": "Speedy 400",
        "quantity": 2, "specs": {"bed_size_mm": [1000.0, 610.0], "laser_power_w": 80.0},
    }  # fmt: skip
    again = _filled_form(client)
    assert again["hours-Tu-open"] == "10:00" and again["hours-Mo-closed"] == "on" and again["opening_hours"] == ""
    assert again[f"machine-{row}-bed_size_mm-1"] == "610" and _empty_row(again) == row + 1


def test_every_problem_is_shown_at_once_next_to_its_field_in_the_pages_language(client, platform):
    _sign_in_as_host(client, platform)
    before = _stored(platform)
    fields = _filled_form(client)
    row = _empty_row(fields)
    fields.update({
        "name_ko": "", "name_en": "", "lat": "abc", "hours-Mo-open": "25:00", "hours-Tu-open": "10:00",
        f"machine-{row}-make": "Trotec",
        f"machine-{row + 1}-type": "laser_cutter", f"machine-{row + 1}-bed_size_mm-0": "1000",
        f"machine-{row + 1}-quantity": "0",
    })  # fmt: skip

    refused = client.post(EDIT, data=fields)
    assert refused.status_code == 422
    shown = {
        "name_ko": "노드 이름을 한국어나 영어로 입력하세요.",
        "lat": "숫자를 입력하세요.",
        "hours-Mo-open": "시각이 아닙니다. 10:00처럼 적으세요.",
        "hours-Tu-close": "여는 시간과 닫는 시간을 모두 입력하세요.",
        f"machine-{row}-type": "장비 종류를 고르세요.",
        f"machine-{row + 1}-bed_size_mm-0": "모든 치수를 입력하세요.",
        f"machine-{row + 1}-quantity": "1 이상을 입력하세요.",
    }
    for name, message in shown.items():
        assert f'<p class="field-error" id="{name}-error">{message}</p>' in refused.text, name
        assert f'aria-describedby="{name}-error"' in refused.text
    assert f"아래에 표시된 문제: {len(shown)}건" in refused.text
    assert not re.search(r"Input should|not a time|give both|choose the", refused.text)
    for kept in ('value="abc"', 'value="25:00"', 'value="Trotec"', 'value="1000"'):
        assert kept in refused.text  # what the host typed is kept
    assert _stored(platform) == before

    english = client.post(f"{EDIT}?lang=en", data=fields)
    assert english.status_code == 422
    for message in ("Give the node a name, in Korean or English.", "Enter a number.", "Give every dimension.",
                    "Not a time of day; write it like 10:00.", "Enter at least 1."):  # fmt: skip
        assert message in english.text


def test_hours_written_in_korean_are_saved_and_shown_in_korean(client, platform):
    _sign_in_as_host(client, platform)
    fields = _filled_form(client)
    saved = client.post(EDIT, data={**fields, "opening_hours": "월-금 10시-18시, 토 10시-14시"}, follow_redirects=False)
    assert saved.status_code == 303
    assert _stored(platform)["opening_hours"] == "Mo-Fr 10:00-18:00; Sa 10:00-14:00"
    page = client.get(f"/nodes/{NODE}").text
    assert "월–금 10:00–18:00" in page and "토 10:00–14:00" in page

    fields = _filled_form(client)
    assert fields["opening_hours"] == "" and fields["hours-Sa-close"] == "14:00"  # the rows hold them now
    refused = client.post(EDIT, data={**fields, "opening_hours": "아무 때나"})
    assert refused.status_code == 422 and 'value="아무 때나"' in refused.text
    assert '<p class="field-error" id="opening_hours-error">영업시간을 읽을 수 없습니다.' in refused.text


def test_a_machine_row_is_removed_and_the_other_machines_are_kept_whole(client, platform):
    _sign_in_as_host(client, platform)
    machines = _stored(platform)["equipment"]
    assert len(machines) >= 2
    fields = _filled_form(client)
    saved = client.post(EDIT, data={**fields, "machine-0-remove": "on"}, follow_redirects=False)
    assert saved.status_code == 303
    assert _stored(platform)["equipment"] == machines[1:]


def test_a_form_with_problems_is_refused_to_who_may_not_edit_the_node(client, platform):
    _sign_in_as_host(client, platform)
    fields = {**_filled_form(client), "lat": "abc"}
    client.cookies.clear()
    sign_in(client, platform, "other", "host")
    refused = client.post(EDIT, data={**fields, "csrf": form_token(client, "/")})
    assert refused.status_code == 403 and 'value="abc"' not in refused.text


def test_a_new_node_is_saved_with_its_machine_and_a_notice(client, platform):
    sign_in(client, platform, "maker", "host")
    fields = _filled_form(client, "/nodes/new")
    row = _empty_row(fields)
    assert row == 0
    fields.update({"name_ko": "은평 공작소", "node_type": "makerspace", "lat": "37.6189", "lon": "126.921",
                   "machine-0-type": "3D 프린터", "machine-0-build_volume_mm-0": "220",
                   "machine-0-build_volume_mm-1": "220", "machine-0-build_volume_mm-2": "250"})  # fmt: skip
    created = client.post("/nodes/new", data=fields, follow_redirects=False)
    assert created.status_code == 303
    page = client.get(created.headers["location"]).text
    assert "은평 공작소" in page and "저장되었습니다" in page and "출력 크기 220 × 220 × 250 mm" in page


def test_the_sign_up_form_says_a_wrong_e_mail_next_to_it_in_korean(client, platform):
    form = {"email": "not-mail", "password": PASSWORD + " x", "display_name": "새 회원"}
    form["csrf"] = form_token(client, "/signup")
    refused = client.post("/signup", data=form)
    assert refused.status_code == 422
    assert '<p class="field-error" id="email-error">이메일 주소가 아닙니다</p>' in refused.text
