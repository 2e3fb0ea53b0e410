"""No input makes a 500, nothing is stored or read without bounds, and the API answers as its document says.

Each test keeps one defect of the issue "Trustworthy writes" fixed; storage tests run on both backends.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fabcity.cli.main import main

OUT_OF_RANGE_NEEDS = ["0", "0개", "0벌", "99999999999999999999개", "2월 30일까지", "13월 말", "9" * 400 + "개"]


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
