"""No input makes a 500, nothing is stored or read without bounds, and the API answers as its document says.

Each test keeps one defect of the issue "Trustworthy writes" fixed; storage tests run on both backends.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from builders import PASSWORD, auth_headers
from fabcity.accounts import service as accounts
from fabcity.cli.main import main
from fabcity.directory.models import DESCRIPTION_MAX, NAME_MAX
from fabcity.settings import MAX_BODY, Settings
from fabcity.web.app import create_app

OUT_OF_RANGE_NEEDS = ["0", "0개", "0벌", "99999999999999999999개", "2월 30일까지", "13월 말", "9" * 400 + "개"]


def _node(**fields) -> dict:
    record = {"name": {"ko": "시험 공방"}, "node_type": "makerspace", "location": {"lat": 37.6189, "lon": 126.921}}
    return {**record, **fields}


# 1. anonymous 500s


@pytest.mark.parametrize("need", OUT_OF_RANGE_NEEDS)
def test_a_need_read_out_of_range_is_a_422_naming_the_text(client, need):
    response = client.post("/api/v1/match", json={"text": need})
    assert response.status_code == 422, response.text[:300]
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", "text"] and "“" in problem["msg"]


def test_an_open_calls_need_read_out_of_range_names_its_place_in_the_call(client):
    needs = [{"id": "fine", "text": "에코백 50벌 봉제"}, {"id": "none", "text": "에코백 0벌 봉제"}]
    response = client.post("/api/v1/match/allocate", json={"needs": needs})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "needs", "1", "text"]


def test_the_match_page_says_what_it_could_not_read_beside_the_text(client):
    page = client.get("/match", params={"text": "0개"})
    assert page.status_code == 200
    problems = page.text.split('id="problems"')[1].split("</div>")[0]
    assert "만들고 싶은 것을 적어 주세요" in problems and "0개" in problems
    assert 'id="matches"' not in page.text
    place = client.get("/match", params={"corrected": "true", "place": "0개", "process": "laser_cutting"})
    assert place.status_code == 200 and "<strong>장소</strong>" in place.text.split('id="problems"')[1]


def test_the_match_command_refuses_a_need_out_of_range_without_a_traceback(db_url):
    result = CliRunner().invoke(main, ["match", "0개", "--db", db_url])
    assert result.exit_code == 2 and "Invalid value for 'text'" in result.output, result.output
    assert "0개" in result.output and isinstance(result.exception, SystemExit)  # click's usage error, no traceback


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_node_id_with_a_nul_is_not_found(client, platform, method):
    """PostgreSQL refuses a NUL in a parameter: the lookup answers for it."""
    headers = auth_headers(platform, "admin")
    for path in ("/api/v1/nodes/%00", "/api/v1/nodes/fab%00lab", "/api/v1/nodes/%01/history"):
        response = client.request(method if "history" not in path else "GET", path, headers=headers, json={})
        assert response.status_code == 404, (path, response.text[:200])


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (_node(name={"ko": "널\x00공방"}), "name.ko"),
        (_node(description={"en": "bell\x07"}), "description.en"),
        (_node(contact={"email": "a@b.kr\x00"}), "contact.email"),
        (_node(contact={"e\x00mail": "a@b.kr"}), "contact.e\x00mail.[key]"),
        (_node(equipment=[{"type": "laser_cutter", "notes": "\x1b[31m"}]), "equipment.0.notes"),
        (_node(location={"address": "서울\x7f"}), "location.address.ko"),
    ],
)
def test_control_characters_in_a_node_are_refused_naming_the_field(client, platform, record, field):
    headers = auth_headers(platform)
    response = client.post("/api/v1/nodes", json=record, headers=headers)
    assert response.status_code == 422, response.text[:300]
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", *field.split(".")] and "control character" in problem["msg"]
    slug = client.post("/api/v1/nodes", json=_node(), headers=headers).json()["slug"]
    patched = client.patch(f"/api/v1/nodes/{slug}", json={"operator": "운영\x00자"}, headers=headers)
    assert patched.status_code == 422 and patched.json()["detail"][0]["loc"] == ["body", "operator"]
    claimed = client.post(f"/api/v1/nodes/{slug}/claims", json={"message": "제가\x00운영"}, headers=headers)
    assert claimed.status_code == 422 and claimed.json()["detail"][0]["loc"] == ["body", "message"]


@pytest.mark.parametrize(
    ("location", "field"),
    [({"gu_code": "Atlantis"}, "location.gu_code"), ({"dong_code": "99999"}, "location.dong_code")],
)
def test_an_unknown_district_is_a_422_naming_it(client, platform, location, field):
    response = client.post("/api/v1/nodes", json=_node(location=location), headers=auth_headers(platform))
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["loc"] == ["body", *field.split(".")]


def test_a_provenance_that_is_not_an_object_is_a_422(client, platform):
    headers = auth_headers(platform)
    response = client.post("/api/v1/nodes", json=_node(provenance="ab"), headers=headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "provenance"]
    slug = client.post("/api/v1/nodes", json=_node(), headers=headers).json()["slug"]
    patched = client.patch(f"/api/v1/nodes/{slug}", json={"provenance": "ab"}, headers=headers)
    assert patched.status_code == 422 and patched.json()["detail"][0]["loc"] == ["body", "provenance"]


# 2. sizes


def test_a_body_over_the_limit_is_413_and_is_not_echoed(client):
    text = "가" * (1024 * 1024)  # 3 MiB of UTF-8
    response = client.post("/api/v1/match", json={"text": text})
    assert response.status_code == 413 and len(response.content) < 200
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_body_limit_is_a_setting(platform):
    with TestClient(create_app(platform, Settings(database="", max_body_bytes=100))) as small:
        assert small.post("/api/v1/match", json={"text": "200 acrylic signs"}).status_code == 200
        assert small.post("/api/v1/match", json={"text": "a" * 100}).status_code == 413
    assert Settings.from_environment({MAX_BODY.name: "2048"}).max_body_bytes == 2048
    assert Settings.from_environment({}).max_body_bytes == 1024 * 1024
    for wrong in ("1 MB", "0", "-5"):
        with pytest.raises(ValueError, match=MAX_BODY.name):
            Settings.from_environment({MAX_BODY.name: wrong})


def test_a_422_does_not_echo_a_large_input(client):
    response = client.post("/api/v1/match", json={"text": "x" * 500_000})
    assert response.status_code == 422 and len(response.content) < 1000
    assert response.json()["detail"][0]["loc"] == ["body", "text"]
    small = client.post("/api/v1/match", json={"limit": "many"}).json()["detail"][0]
    assert small["input"] == "many"  # a small input is still shown, to say what was wrong


@pytest.mark.parametrize(
    ("field", "limit", "text_of"),
    [
        ("name.ko", NAME_MAX, lambda length: {"name": {"ko": "가" * length}}),
        ("description.en", DESCRIPTION_MAX, lambda length: {"description": {"en": "a" * length}}),
        ("operator", NAME_MAX, lambda length: {"operator": "a" * length}),
    ],
)
def test_node_texts_have_a_maximum_length(client, platform, field, limit, text_of):
    headers = auth_headers(platform)
    response = client.post("/api/v1/nodes", json=_node(**text_of(limit + 1)), headers=headers)
    assert response.status_code == 422, response.text[:300]
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", *field.split(".")] and str(limit) in problem["msg"]
    assert client.post("/api/v1/nodes", json=_node(**text_of(limit)), headers=headers).status_code == 201


# 3. the API and its document


def test_a_wrong_method_names_every_method_the_path_takes(client):
    response = client.delete("/api/v1/nodes")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    one = client.put("/api/v1/nodes/fab-lab-seoul")
    assert set(one.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


def _failing_app(platform) -> FastAPI:
    """The app with one route that fails as a defect would: what the next request sees is the test."""
    app = create_app(platform)

    @app.get("/api/v1/failing")
    def failing() -> None:
        raise RuntimeError("a defect")

    return app


def test_a_server_error_carries_the_security_headers(platform):
    with TestClient(_failing_app(platform), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/failing")
        assert response.status_code == 500 and "a defect" not in response.text
        assert response.json()["detail"] and response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_after_a_server_error_the_connection_still_answers(platform):
    """uvicorn closes a connection when the app raises; the next request on it was reset."""
    listener = socket.create_server(("127.0.0.1", 0))  # listening before the server runs: no wait for it
    server = uvicorn.Server(uvicorn.Config(_failing_app(platform), log_level="critical"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    connection = http.client.HTTPConnection(*listener.getsockname(), timeout=120)
    try:
        connection.request("GET", "/api/v1/failing")
        failed = connection.getresponse()
        failed.read()
        assert failed.status == 500
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
        server.should_exit = True
        thread.join()
        listener.close()


def test_private_pages_are_not_stored_by_caches(client, platform):
    form = {"email": "admin@example.kr", "password": PASSWORD}
    accounts.create_user(platform, form["email"], PASSWORD, "관리자", role="admin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={**form, "csrf": csrf}, follow_redirects=False).status_code == 303
    for path in ("/account", "/admin", "/api/v1/me"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")


def test_an_external_id_longer_than_its_column_is_a_422_naming_it(client, platform):
    """The model bounds what the table can hold (a 30-character scheme was a 500 on PostgreSQL)."""
    long_scheme = {"name": {"en": "Long scheme"}, "node_type": "studio", "external_ids": {"s" * 30: "x"}}
    answer = client.post("/api/v1/nodes", json=long_scheme, headers=auth_headers(platform, "admin"))
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][:2] == ["body", "external_ids"]
