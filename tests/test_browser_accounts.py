"""A newcomer in a real browser (Debian's Chromium, headless): signs up with consent, claims a place
with a message, sees the claim pending; a curator approves it; the newcomer finds the place under
"my places" and the e-mail that told them in the outbox. Skipped locally without Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from builders import PASSWORD
from fabcity.accounts import service as accounts
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.web.app import create_app
from servers import live_app

NODE = "fab-lab-seoul"
NEWCOMER = "newcomer@example.kr"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def site(backends) -> Iterator[tuple[str, Platform]]:
    """A live server on loopback over a fresh SQLite copy of the dataset, with a curator."""
    original, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    platform = open_platform(backends.fresh("sqlite"))
    accounts.create_user(platform, "curator@example.kr", PASSWORD, "큐레이터", role="curator")
    try:
        with live_app(create_app(platform)) as url:
            yield url, platform
    finally:
        platform.engine.dispose()
        accounts._hasher = original


@pytest.fixture
def browse(browser, site, request):
    """New browser tabs on the site (each its own cookies), at a phone's width; screenshots on failure."""
    contexts = []

    def tab():
        context = browser.new_context(base_url=site[0], locale="ko-KR", viewport={"width": 390, "height": 844})
        contexts.append(context)
        opened = context.new_page()
        opened.set_default_timeout(10_000)
        return opened

    yield tab
    report = getattr(request.node, "rep_call", None)
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            context.pages[0].screenshot(path=str(SCREENSHOTS / f"{request.node.name}-{number}.png"), full_page=True)
        context.close()


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def test_a_newcomer_signs_up_claims_a_place_and_becomes_its_host(browse, site):
    newcomer = browse()
    newcomer.goto(f"/nodes/{NODE}")
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
    newcomer.wait_for_url(re.compile(rf"/nodes/{NODE}/claim$"))  # back to the place's claim
    newcomer.fill("#message", "2020년부터 이 공간의 매니저로 일하고 있습니다.")
    newcomer.fill("#proof_url", "https://fablab.example.kr/team")
    newcomer.click(f"form[action='/nodes/{NODE}/claim'] button[type=submit]")
    newcomer.wait_for_url(re.compile(rf"/nodes/{NODE}\?claimed=1$"))
    expect(newcomer.locator("#claim")).to_be_disabled()
    expect(newcomer.locator("#claim")).to_have_text("운영 신청 검토 중")
    _fits_the_phone(newcomer)

    curator = browse()
    curator.goto("/login?next=/admin")
    curator.fill("#email", "curator@example.kr")
    curator.fill("#password", PASSWORD)
    curator.click("form[action='/login'] button[type=submit]")
    curator.wait_for_url(re.compile(r"/admin$"))
    row = curator.locator("tr", has_text="새 운영자")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2020년부터")
    row.locator("button", has_text="승인").click()
    curator.wait_for_url(re.compile(r"/admin$"))
    expect(curator.locator("tr", has_text="새 운영자")).to_have_count(0)

    newcomer.goto("/account")
    expect(newcomer.locator("#my-places + ul")).to_contain_text("팹랩 서울")
    expect(newcomer.locator("#my-claims + ul")).to_contain_text("승인됨")
    expect(newcomer.locator("dl.facts")).to_contain_text("공간 운영자")
    _fits_the_phone(newcomer)
    with site[1].engine.connect() as conn:
        (told,) = outbox.messages(conn, NEWCOMER)
    assert "승인" in told.subject and "팹랩 서울" in told.body


def test_the_privacy_notice_and_the_reset_form_fit_a_phone(browse):
    visitor = browse()
    for path in ("/privacy", "/reset", "/login", "/privacy?lang=en"):
        visitor.goto(path)
        _fits_the_phone(visitor)
