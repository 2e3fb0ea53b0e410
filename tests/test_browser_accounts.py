"""A newcomer in a real browser (Debian's Chromium, headless) on a 390 × 844 phone, from signing up to being
found: signs up with consent and claims a place with a message, sees the claim pending; a curator approves it;
the newcomer finds the place under "my places" and the e-mail that told them in the outbox, then keeps it up to
date through the forms (a machine in the row editor, hours written in Korean); a curator verifies it; a need
typed in Korean on /match reaches it. Skipped locally without Chromium."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from builders import PASSWORD
from fabcity.accounts import service as accounts
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.web.app import create_app
from servers import (
    LASER_NEED,
    PHONE,
    browser_tab,
    fill_a_laser_cutter,
    find_makers,
    live_app,
    log_in,
    new_machine_row,
    save_the_edit,
)

NODE = "fab-lab-seoul"
PLACE = f"/nodes/{NODE}"
NEWCOMER = "newcomer@example.kr"
CURATOR = "curator@example.kr"


@pytest.fixture(scope="module")
def site(backends) -> Iterator[tuple[str, Platform]]:
    """A live server on loopback over a fresh SQLite copy of the dataset, with a curator."""
    original, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    platform = open_platform(backends.fresh("sqlite"))
    accounts.create_user(platform, CURATOR, PASSWORD, "큐레이터", role="curator")
    try:
        with live_app(create_app(platform)) as url:
            yield url, platform
    finally:
        platform.engine.dispose()
        accounts._hasher = original


@pytest.fixture
def browse(browser, site, request):
    """New tabs on the site at a phone's size, each with its own cookies (and its screenshot on failure)."""
    numbers = itertools.count()
    with ExitStack() as tabs:
        yield lambda: tabs.enter_context(browser_tab(browser, site[0], PHONE, request, f"-{next(numbers)}"))


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def _sign_up_and_claim(newcomer) -> None:
    """From the place's page: sign up (refused without consent), then claim the place with a message."""
    newcomer.goto(PLACE)
    newcomer.locator("#claim a", has_text="회원가입").click()
    newcomer.fill("#display_name", "새 운영자")
    newcomer.fill("#email", NEWCOMER)
    newcomer.fill("#password", PASSWORD)
    _fits_the_phone(newcomer)
    newcomer.click("form[action='/signup'] button[type=submit]")  # without consent: asked for it under the box
    expect(newcomer.locator("#consent-error")).to_be_visible()
    expect(newcomer.locator("#display_name")).to_have_value("새 운영자")  # what was typed is kept, but the password
    newcomer.fill("#password", PASSWORD)
    newcomer.check("#consent")
    newcomer.click("form[action='/signup'] button[type=submit]")
    newcomer.wait_for_url(re.compile(rf"{PLACE}/claim$"))  # back to the place's claim
    newcomer.fill("#message", "2020년부터 이 공간의 매니저로 일하고 있습니다.")
    newcomer.fill("#proof_url", "https://fablab.example.kr/team")
    newcomer.click(f"form[action='{PLACE}/claim'] button[type=submit]")
    newcomer.wait_for_url(re.compile(rf"{PLACE}\?claimed=1$"))
    expect(newcomer.locator("#claim")).to_be_disabled()
    expect(newcomer.locator("#claim")).to_have_text("운영 신청 검토 중")
    _fits_the_phone(newcomer)


def _approve_the_claim(curator) -> None:
    curator.goto("/admin")
    row = curator.locator("tr", has_text="새 운영자")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2020년부터")
    row.locator("button", has_text="승인").click()
    curator.wait_for_url(re.compile(r"/admin$"))
    expect(curator.locator("tr", has_text="새 운영자")).to_have_count(0)


def _finds_the_place_theirs(newcomer, platform: Platform) -> None:
    newcomer.goto("/account")
    expect(newcomer.locator("#my-places + ul")).to_contain_text("팹랩 서울")
    expect(newcomer.locator("#my-claims + ul")).to_contain_text("승인됨")
    expect(newcomer.locator("dl.facts")).to_contain_text("공간 운영자")
    _fits_the_phone(newcomer)
    with platform.engine.connect() as conn:
        (told,) = outbox.messages(conn, NEWCOMER)
    assert "승인" in told.subject and "팹랩 서울" in told.body


def _adds_a_laser_cutter_and_korean_hours(host) -> None:
    host.goto(PLACE)
    host.locator("a.button", has_text="수정").click()
    host.wait_for_url(re.compile(rf"{PLACE}/edit$"))
    fill_a_laser_cutter(new_machine_row(host))
    host.fill("#opening_hours", "화-토 10시-18시")
    _fits_the_phone(host)
    save_the_edit(host, PLACE)
    assert "화–토 10:00–18:00" in host.inner_text("#hours")
    assert "베드 크기 1300 × 900 mm" in host.inner_text("table.equipment")
    _fits_the_phone(host)


def test_a_newcomer_signs_up_claims_a_place_becomes_its_host_and_a_need_finds_it(browse, site):
    newcomer, curator = browse(), browse()
    _sign_up_and_claim(newcomer)
    log_in(curator, CURATOR)
    _approve_the_claim(curator)
    _finds_the_place_theirs(newcomer, site[1])
    _adds_a_laser_cutter_and_korean_hours(newcomer)

    curator.goto(PLACE)
    curator.click("#verify")
    expect(curator.locator("#verified")).to_contain_text("큐레이터")  # verified by whom, and when

    visitor = browse()
    maker = find_makers(visitor, LASER_NEED).filter(has_text="팹랩 서울")
    expect(maker).to_have_count(1)
    _fits_the_phone(visitor)
    answer = visitor.request.post("/api/v1/match", data={"text": LASER_NEED}).json()
    (found,) = [result for result in answer["results"] if result["node"]["slug"] == NODE]
    assert {c["requirement"]: c["status"] for c in found["checks"]}["part_size"] == "met"  # on the new machine
    provenance = visitor.request.get(f"/api/v1/nodes/{found['node']['id']}").json()["provenance"]
    assert provenance["verified_by"] == "큐레이터" and provenance["verified_at"]
    maker.click()
    visitor.wait_for_url(re.compile(rf"{PLACE}$"))
    expect(visitor.locator("#verified")).to_contain_text("큐레이터")
    assert "화–토 10:00–18:00" in visitor.inner_text("#hours")


def test_the_privacy_notice_and_the_reset_form_fit_a_phone(browse):
    visitor = browse()
    for path in ("/privacy", "/reset", "/login", "/privacy?lang=en"):
        visitor.goto(path)
        _fits_the_phone(visitor)
