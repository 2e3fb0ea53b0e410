"""The dashboard in a real browser on a 390-px phone: no sideways scroll in either language, and
legends whose classes can be told apart (fixtures in conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_dashboard_fits_a_phone_and_its_legends_have_distinct_classes(phone, language):
    phone.goto(f"/dashboard?lang={language}")
    choropleth = phone.locator("#choropleth")
    for indicator in ("index", "activation:active_nodes", "activation:share_of_seoul_active", "slq:A"):
        phone.select_option("#indicator", indicator)
        expect(choropleth).to_have_attribute("data-shown", re.compile("^" + re.escape(indicator) + "@"))
        classes = phone.locator("#legend li").all_inner_texts()
        assert classes and len(set(classes)) == len(classes)
        assert not any(re.fullmatch(r"\s*(\S+) – \1\s*", text) for text in classes), classes  # no "0 – 0"
    phone.wait_for_function("Chart.getChart('trend') !== undefined")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    meaning = phone.inner_text("#index-meaning")
    assert (
        ("자급" in meaning)
        if language == "ko"
        else ("not self-sufficiency" in meaning.lower() or "self-supply" in meaning)
    )
