"""A district's page reads as words: its statistics named in Korean and English under their sources."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fabcity.geo.statistics import indicator_name, unit_name
from fabcity.storage.schema import district_stat

YONGSAN = "11170"


def _visible(html: str) -> str:
    """The page's text as shown: no tags, no attribute values (option values may be keys)."""
    return re.sub(r"<[^>]*>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ko", ("주민등록인구", "사업체 수: 제조업 (C)", "종사자 수", "명", "서울시 사업체현황", "2025 Q1")),
        ("en", ("Registered residents", "Businesses: Manufacturing (C)", "Workers", "people", "KOGL-Type-1")),
    ],
)
def test_the_statistics_show_names_not_keys(client, lang, words):
    page = client.get(f"/districts/{YONGSAN}", params={"lang": lang})
    assert page.status_code == 200
    text = _visible(page.text)
    for key in ("businesses_ksic", "population_foreign", "persons", "seoul-business-census-2018", "2025Q1"):
        assert key not in text
    for word in words:
        assert word in text


def test_every_stored_indicator_and_unit_has_a_name(platform):
    with platform.engine.connect() as conn:
        stored = conn.execute(select(district_stat.c.indicator, district_stat.c.unit).distinct()).all()
    for indicator, unit in stored:
        assert "_" not in indicator_name(indicator)[1] and indicator not in indicator_name(indicator)
        assert unit_name(unit)[0] != unit
