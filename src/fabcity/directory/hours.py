"""Opening hours in OpenStreetMap syntax, accepting the Korean way of writing them.

Korean directories write "화-토 10:00-18:00", "평일 09:00~18:00" or "연중무휴"; stored hours are
always OSM syntax ("Tu-Sa 10:00-18:00"), so the map can tell whether a place is open now and
exports stay interoperable. Anything that still does not parse is refused with the reason.
"""

from __future__ import annotations

import re

from opening_hours import OpeningHours, ParserError

from fabcity.clock import seoul_wall_time

_WORDS = (
    ("연중무휴", "24/7"), ("24시간", "24/7"), ("매일", "Mo-Su"), ("평일", "Mo-Fr"), ("주말", "Sa,Su"),
    ("공휴일", "PH"), ("휴무", "off"), ("휴관", "off"),
)  # fmt: skip
_DAYS = {"월": "Mo", "화": "Tu", "수": "We", "목": "Th", "금": "Fr", "토": "Sa", "일": "Su"}
_DAY = re.compile(r"([월화수목금토일])(?:요일)?")


def to_osm(value: str) -> str:
    """The hours in OSM syntax; raises ValueError saying why they cannot be read."""
    text = value.strip()
    for word, osm in _WORDS:
        text = text.replace(word, osm)
    text = _DAY.sub(lambda match: _DAYS[match.group(1)], text).replace("~", "-").replace("∼", "-")
    text = re.sub(r"\s*,\s*", ",", text)
    try:
        OpeningHours(text)
    except ParserError as error:
        reason = str(error).splitlines()[0] if str(error) else "cannot be read"
        raise ValueError(f"not OpenStreetMap opening_hours syntax ({reason}): {value!r}") from None
    return text


def open_now(hours: str | None) -> bool | None:
    """Whether a place is open at this moment in Seoul; None when its hours do not say."""
    if not hours:
        return None
    parsed = OpeningHours(hours)
    moment = seoul_wall_time()
    if parsed.is_unknown(moment):
        return None
    return parsed.is_open(moment)
