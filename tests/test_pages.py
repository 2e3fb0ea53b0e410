"""The web pages through HTTP: languages, node and district pages, forms, escaping and headers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from builders import PASSWORD, form_token, sign_in
from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.matching.rank import DETAILS
from fabcity.measure.activation import activation
from fabcity.web import i18n

XSS = "<img src=x onerror=alert(1)>"
ROOT = Path(__file__).resolve().parents[1]


def test_pages_are_korean_by_default_and_english_on_request(client):
    korean = client.get("/")
    assert '<html lang="ko">' in korean.text and "서울 어디에서 무엇을 만들 수 있을까" in korean.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "What can be made where in Seoul" in english.text
    assert '<html lang="en">' in client.get("/nodes/fab-lab-seoul").text  # the choice is remembered


def test_every_page_string_has_a_korean_translation():
    method_map = [("src/fabcity/**/templates/**.html", "jinja2"), ("src/fabcity/**.py", "python")]
    keywords = {"_": None, "gettext": None, "say": (2,), "mark": None}
    found = {message for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    korean = i18n.translations("ko")
    untranslated = sorted(m for m in found if isinstance(m, str) and korean.gettext(m) == m)
    assert found and untranslated == []


def test_node_page_shows_the_listing_with_its_provenance(client):
    page = client.get("/nodes/fab-lab-seoul")
    assert page.status_code == 200
    assert "팹랩 서울" in page.text and "세운전자상가" in page.text
    assert "CC-BY-SA-4.0" in page.text or "CC BY-SA" in page.text
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S).group(1))
    assert ld["@type"] == "LocalBusiness" and ld["name"] == "팹랩 서울" and "geo" in ld


def test_security_headers_and_no_inline_script(client):
    for path in ("/", "/nodes/fab-lab-seoul", "/districts/11380", "/login", "/docs"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", response.text)
        assert scripts == [], path
        assert not re.search(r"\son[a-z]+\s*=", response.text), path


def test_user_text_is_escaped_in_pages_and_json_ld(client, platform):
    curator = accounts.create_user(platform, "c@example.kr", PASSWORD, XSS, role="curator")
    created = editing.create_node(
        platform, curator, {"name": {"ko": XSS}, "node_type": "studio", "description": {"ko": XSS},
                            "location": {"lat": 37.56, "lon": 126.99}, "opening_hours": "24/7"},
    )  # fmt: skip
    page = client.get(f"/nodes/{created.record['slug']}").text
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in ld and json.loads(ld)["name"] == XSS


def test_district_page_marks_the_prototype_zones(client):
    eunpyeong = client.get("/districts/11380")
    assert eunpyeong.status_code == 200 and "팹시티 서울 프로토타입 지구" in eunpyeong.text
    assert "팹시티 서울 프로토타입 지구" not in client.get("/districts/11110").text
    assert client.get("/districts/99999").status_code == 404


def test_district_boundaries_and_station_names_for_the_map(client):
    gus = client.get("/api/v1/districts", params={"level": "gu", "format": "geojson"}).json()
    assert len(gus["features"]) == 25 and gus["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    dongs = client.get("/api/v1/districts", params={"level": "dong", "parent": "11380", "format": "geojson"}).json()
    assert {f["properties"]["parent_code"] for f in dongs["features"]} == {"11380"}
    stations = client.get("/api/v1/stations", params={"q": "연신내"}).json()["results"]
    assert stations[0]["name"]["ko"] == "연신내"
    assert client.get("/api/v1/stations", params={"q": "yeonsin"}).json()["results"][0]["name"]["ko"] == "연신내"
    assert client.get("/api/v1/stations").status_code == 422


def test_a_host_edits_their_node_through_the_form_and_another_host_cannot(client, platform):
    curator = accounts.create_user(platform, "cur@example.kr", PASSWORD, "cur", role="curator")
    host = sign_in(client, platform, "host", "member")
    claim = editing.claim_node(platform, host, "fab-lab-seoul", "운영자입니다")
    editing.decide_claim(platform, curator, claim["id"], approve=True)
    form = client.get("/nodes/fab-lab-seoul/edit")
    assert form.status_code == 200 and 'value="팹랩 서울"' in form.text
    fields = dict(re.findall(r'<input id="(\w+)" name="\w+" type="[^"]*" value="([^"]*)"', form.text))
    fields.update(csrf=form_token(client, "/nodes/fab-lab-seoul/edit"), opening_hours="Mo-Sa 10:00-19:00",
                  node_type="fab_lab", status="active", equipment="[]", description_ko="새 설명")  # fmt: skip
    saved = client.post("/nodes/fab-lab-seoul/edit", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    assert "Mo-Sa 10:00-19:00" in client.get("/nodes/fab-lab-seoul").text
    fields["version"] = re.search(
        r'name="version" type="hidden" value="(\d+)"', client.get("/nodes/fab-lab-seoul/edit").text
    )[1]
    bad = client.post("/nodes/fab-lab-seoul/edit", data={**fields, "opening_hours": "whenever"})
    assert bad.status_code == 422 and "opening_hours" in bad.text

    client.cookies.clear()
    sign_in(client, platform, "other", "host")
    assert client.get("/nodes/fab-lab-seoul/edit").status_code == 403
    refused = client.post("/nodes/fab-lab-seoul/edit", data={**fields, "csrf": form_token(client, "/")})
    assert refused.status_code == 403


def test_a_form_post_without_the_csrf_token_is_refused(client, platform):
    sign_in(client, platform, "curator", "curator")
    assert client.post("/nodes/fab-lab-seoul/verify", data={}).status_code == 403
    assert client.post("/nodes/fab-lab-seoul/verify", data={"csrf": form_token(client, "/")}).status_code == 200
    assert "아직 확인되지 않음" not in client.get("/nodes/fab-lab-seoul").text


def test_pages_that_need_a_sign_in_send_to_the_log_in_form(client):
    for path in ("/account", "/nodes/new", "/admin", "/nodes/fab-lab-seoul/edit"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_wrong_password_is_said_plainly(client, platform):
    accounts.create_user(platform, "m@example.kr", PASSWORD, "m")
    form = {"email": "m@example.kr", "password": "wrong password", "csrf": form_token(client, "/login")}
    response = client.post("/login", data=form)
    assert response.status_code == 401 and "이메일 또는 비밀번호가 맞지 않습니다" in response.text


def test_sign_up_then_create_a_token(client):
    form = {"display_name": "메이커", "email": "maker@example.kr", "password": PASSWORD, "consent": "yes"}
    refused = client.post("/signup", data=form, follow_redirects=False)
    assert refused.status_code == 403  # no form token: a cross-site form cannot sign anyone up or in
    signed = client.post("/signup", data={**form, "csrf": form_token(client, "/signup")}, follow_redirects=False)
    assert signed.status_code == 303
    page = client.post("/account/tokens", data={"name": "script", "csrf": form_token(client, "/account")})
    token = re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["display_name"] == "메이커"


def test_the_match_page_shows_the_reading_and_the_makers(client):
    page = client.get("/match", params={"text": "레이저 커팅 아크릴 간판 20개 을지로 근처"})
    assert page.status_code == 200
    assert "이해한 내용" in page.text and "<mark>간판</mark>" in page.text
    assert '<a href="/nodes/fab-lab-seoul">팹랩 서울</a>' in page.text
    assert client.get("/match").status_code == 200  # the empty form


def test_the_checks_of_each_maker_are_told_in_the_pages_language(client):
    catalog = read_po((ROOT / "src/fabcity/web/locale/ko/LC_MESSAGES/messages.po").open("rb"))
    assert all(catalog.get(template) and catalog[template].string for template in DETAILS.values())
    need = {"corrected": "true", "process": "laser_cutting", "material": "acrylic", "quantity": "20",
            "place": "을지로동", "access": "membership"}  # fmt: skip
    korean = client.get("/match", params=need).text.split('id="matches"')[1]
    assert "(20개, 이 노드는 생산 규모를 밝히지 않았습니다)" in korean and "(노드가 밝히지 않았습니다)" in korean
    assert "용산구 안 어딘가" in korean and "이용 방식" in korean and "units" not in korean
    english = client.get("/match", params={**need, "lang": "en"}).text.split('id="matches"')[1]
    assert "(20 units; the node states no typical batch)" in english and "somewhere in Yongsan-gu" in english


def test_the_reading_can_be_corrected_in_a_form(client):
    read = client.get("/match", params={"text": "아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지"}).text
    form = read.split('id="correction-form"')[1].split("</form>")[0]
    assert re.findall(r'<option value="([^"]+)" selected', form) == ["laser_cutting", "acrylic"]
    assert 'name="quantity" inputmode="numeric" value="200"' in form and 'value="은평구"' in form
    assert 'name="within_km" inputmode="decimal" value="5"' in form
    assert "거리 (m 이내): 5,000</li>" in read and "&#34;within_m&#34;: 5000.0" in read  # the reach, drawn on the map
    # the person says it is welding after all, near Euljiro: the form, not the text, is ranked
    corrected = {"corrected": "true", "text": "레이저 커팅", "process": "welding", "place": "을지로동",
                 "within_km": "20"}  # fmt: skip
    page = client.get("/match", params=corrected).text
    makers = re.findall(r'<li><a href="/nodes/([^"]+)"', page.split('id="matches"')[1])
    assert makers and "fab-lab-seoul" not in makers and {"n15", "seoul-digital-daejanggan"} <= set(makers)
    assert re.findall(r'<option value="([^"]+)" selected', page) == ["welding"]  # the form keeps the correction


def test_a_corrected_need_with_bad_fields_names_each_and_ranks_nothing(client):
    bad = {"corrected": "true", "process": "laser_cutting", "quantity": "많이", "size": "큰", "needed_by": "곧",
           "place": XSS}  # fmt: skip
    page = client.get("/match", params=bad).text
    problems = page.split('id="problems"')[1].split("</div>")[0]
    assert "<strong>수량</strong>: “많이”은(는) 숫자가 아닙니다" in problems
    assert "<strong>부품 크기 (mm)</strong>" in problems and "<strong>납기</strong>" in problems
    assert "<strong>장소</strong>" in problems and XSS not in page and "&lt;img src=x" in problems
    assert 'id="matches"' not in page
    zero = client.get("/match", params={"corrected": "true", "quantity": "0"}).text
    assert "<strong>수량</strong>" in zero.split('id="problems"')[1]


def test_the_dashboard_compares_the_prototype_zones_with_seoul(client, platform):
    page = client.get("/dashboard")
    assert page.status_code == 200
    table = page.text.split('id="prototype-zones"')[1].split("</table>")[0]
    assert "은평구" in table and "도봉구" in table and "팹시티 역량 지수" in table
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table)
    assert len(rows) == 4
    census_row, activation_row = rows[0][1], rows[3][1]
    assert "25개 구의 평균" in census_row and "서울 전체" in activation_row  # how each Seoul figure is formed
    seoul = activation(platform)["seoul"]["active_per_10k_residents"]
    assert f"<td>{seoul:.2f}</td>" in activation_row  # Seoul as a whole, not a mean over unsuppressed gu
    assert "/api/v1/indicators/indices?level=gu&amp;format=csv" in page.text
    assert "/api/v1/indicators/resilience?format=csv" in page.text
    indices = client.get("/api/v1/indicators/indices", params={"level": "gu"}).json()["results"]
    assert len(indices) == 25 and all(0 <= row["value"] <= 100 for row in indices)


def test_the_dashboard_shows_the_capital_regions_well_being_topics(client):
    page = client.get("/dashboard")
    table = page.text.split('id="resilience-topics"')[1].split("</table>")[0]
    topics = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', table)
    assert len(topics) == 11
    health = next(topic for topic in topics if topic[0] == "건강")
    assert health[1:3] == ("9.3", "9.3")  # recomputed from the raw values, beside the OECD's own score
    assert "OECD" in page.text.split('id="resilience-topics"')[1]
    english = client.get("/dashboard?lang=en").text
    assert "Capital Region (KR01)" in english and "Life satisfaction" in english


def test_every_indicator_of_the_choropleth_says_its_source_and_method(client):
    for language, source, method in (("ko", "출처:", "방법:"), ("en", "Source:", "Method:")):
        page = client.get("/dashboard", params={"lang": language}).text
        indicator = page.split('<select id="indicator">')[1].split("</select>")[0]
        options = re.findall(r'<option value="([^"]+)" data-source="([^"]+)"', indicator)
        # the index, LQ and capacity by section, four node activation figures and three booking ones
        assert len(options) == indicator.count("<option") == 1 + 19 + 19 + 4 + 3
        assert all(source in text and method in text for _, text in options)
        sources = dict(options)
        assert "2018" in sources["slq:J"] and ("2025 Q1" in sources["capacity:C"]) and "2025 Q1" in sources["index"]
