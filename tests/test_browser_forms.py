"""The node page and its edit form in a real browser (Chromium, headless, driven by Playwright).

A host adds a machine through the row editor and sets the hours in Korean; the node is then
matched with that machine. The node page fits a 390-pixel phone in both languages.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from servers import LASER_NEED, fill_a_laser_cutter, find_makers, log_in, new_machine_row, save_the_edit

NODE = "/nodes/fab-lab-seoul"


def test_a_host_adds_a_machine_in_a_row_sets_korean_hours_and_the_node_is_matched_with_it(page):
    log_in(page, "host@example.kr")
    page.goto(f"{NODE}/edit")
    new = new_machine_row(page)
    expect(new.locator(".spec").first).to_be_hidden()  # no type yet: no specs
    new.locator(".machine-type").select_option("vinyl_cutter")
    expect(new.locator(".spec:not([hidden])")).to_have_count(1)  # a vinyl cutter's working area, nothing else
    new.locator(".machine-type").select_option("laser_cutter")
    expect(new.locator("label", has_text="베드 크기")).to_be_visible()
    expect(new.locator("label", has_text="노즐 지름")).to_be_hidden()
    fill_a_laser_cutter(new)
    page.fill("#opening_hours", "화-토 10시-18시")
    save_the_edit(page, NODE)
    assert "화–토 10:00–18:00" in page.inner_text("#hours")
    assert "베드 크기 1300 × 900 mm" in page.inner_text("table.equipment")
    page.reload()
    expect(page.locator("p.notice")).to_have_count(0)  # said once

    expect(find_makers(page, LASER_NEED).first).to_have_text("팹랩 서울")
    answer = page.request.post("/api/v1/match", data={"text": LASER_NEED}).json()
    checks = {c["requirement"]: c["status"] for c in answer["results"][0]["checks"]}
    assert answer["results"][0]["node"]["slug"] == "fab-lab-seoul"
    assert checks["part_size"] == "met"  # the part fits the bed of the machine just added


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_node_page_fits_a_phone_in_both_languages(browser, site, language):
    context = browser.new_context(base_url=site, viewport={"width": 390, "height": 844})
    tab = context.new_page()
    try:
        for path in (NODE, "/nodes/attack"):
            tab.goto(f"{path}?lang={language}")
            assert tab.evaluate("document.documentElement.scrollWidth") <= 390, path
    finally:
        context.close()
