"""The match page in a real browser: a way forward when nothing fits, and the language switch
keeping the need. On a 390-px phone, over the embedded dataset (fixtures in conftest.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

NOTHING_NEAR = "레이저 커팅 도봉구 근처 1km 이내"  # the laser cutters are all more than 10 km from Dobong-gu


def test_when_nothing_fits_the_page_offers_the_nearest_makers_beyond_the_distance(phone):
    phone.goto("/match")
    phone.fill("#text", NOTHING_NEAR)
    phone.click("#need-form button[type=submit]")
    expect(phone.locator("#way-forward")).to_be_visible()
    assert "1,000 m보다 먼 제작처" in phone.inner_text("#why")
    expect(phone.locator("#beyond li a").first).to_have_text("팹랩 서울")
    assert "m" in phone.locator("#beyond li .meta").first.inner_text()
    expect(phone.locator(".beyond-marker")).not_to_have_count(0)  # drawn on the map too
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_language_switch_keeps_the_typed_need(phone):
    phone.goto("/match")
    phone.fill("#text", NOTHING_NEAR)  # typed, not yet sent
    phone.click("#language-switch")
    phone.wait_for_url(re.compile(r"lang=en"))
    assert phone.get_attribute("html", "lang") == "en"
    assert phone.input_value("#text") == NOTHING_NEAR
    expect(phone.locator("#way-forward h2")).to_have_text("Why nothing matched")  # read and ranked in English
    phone.click("#language-switch")
    phone.wait_for_url(re.compile(r"lang=ko"))
    assert phone.input_value("#text") == NOTHING_NEAR


def test_the_language_switch_keeps_a_corrected_need(phone):
    phone.goto("/match?corrected=true&text=%EB%A0%88%EC%9D%B4%EC%A0%80&process=welding&within_km=20&quantity=30")
    phone.click("#language-switch")
    phone.wait_for_url(re.compile(r"lang=en"))
    expect(phone.locator("#need-process option:checked")).to_have_text(["Welding"])
    assert phone.input_value("#need-within") == "20" and phone.input_value("#need-quantity") == "30"
    assert phone.input_value("#text") == "레이저"
