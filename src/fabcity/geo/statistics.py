"""The district statistics as people read them: each indicator and unit named in Korean and English.

The stored indicators are keys (`businesses_ksic_C`, `population_foreign`) shared with the measure
capability and the statistics imports; pages show these names instead, never the keys.
"""

from __future__ import annotations

from fabcity.measure.districts import KSIC_SECTIONS

_INDICATORS: dict[str, tuple[str, str]] = {
    "area": ("면적", "Area"),
    "population": ("주민등록인구", "Registered residents"),
    "population_foreign": ("등록 외국인", "Registered foreign residents"),
    "businesses": ("사업체 수", "Businesses"),
    "workers": ("종사자 수", "Workers"),
}
_UNITS: dict[str, tuple[str, str]] = {
    "km2": ("km²", "km²"),
    "persons": ("명", "people"),
    "businesses": ("개", "businesses"),
}
_BY_SECTION = "_ksic_"


def indicator_name(indicator: str) -> tuple[str, str]:
    """(Korean, English) name of an indicator; a KSIC section's count names its section."""
    base, _, section = indicator.partition(_BY_SECTION)
    ko, en = _INDICATORS.get(base, (base, base))
    if section in KSIC_SECTIONS:
        section_ko, section_en = KSIC_SECTIONS[section]
        return f"{ko}: {section_ko} ({section})", f"{en}: {section_en} ({section})"
    return ko, en


def unit_name(unit: str | None) -> tuple[str, str]:
    return _UNITS.get(unit or "", (unit or "", unit or ""))
