"""Opening hours in OpenStreetMap syntax, accepting the Korean way of writing them.

Korean directories and hosts write "화-토 10:00-18:00", "월-금 10시-18시, 토 10시-14시",
"평일 09:00~18:00", "연중무휴" or "공휴일 휴무"; stored hours are always OSM syntax
("Tu-Sa 10:00-18:00; PH off"), so the map can tell whether a place is open now and exports stay
interoperable. Anything that still does not parse is refused with a hint of what to write.

The edit form offers a row per weekday: `week_of` reads stored hours into those rows when they
are that simple (one span a day, closed days, public holidays) and `week_hours` writes rows back.
`describe` shows stored hours in a page's language ("화–토 10:00–18:00", "Tue–Sat 10:00–18:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opening_hours import OpeningHours, ParserError

from fabcity.clock import seoul_wall_time

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_LABELS = {
    "Mo": ("월", "Mon"), "Tu": ("화", "Tue"), "We": ("수", "Wed"), "Th": ("목", "Thu"),
    "Fr": ("금", "Fri"), "Sa": ("토", "Sat"), "Su": ("일", "Sun"),
}  # fmt: skip
UNREADABLE = "cannot be read as opening hours; write them like 월-금 10:00-18:00, 토 10:00-14:00"

_KOREAN_DAYS = {"월": "Mo", "화": "Tu", "수": "We", "목": "Th", "금": "Fr", "토": "Sa", "일": "Su"}
# Longer words first: 공휴일 and 평일 end in 일 (Sunday), 24시간 holds 시 (o'clock).
_WORDS = (
    ("24시간", "00:00-24:00"), ("법정공휴일", "PH"), ("공휴일", "PH"), ("매일", "Mo-Su"), ("평일", "Mo-Fr"),
    ("주말", "Sa,Su"), ("정기휴무", "off"), ("휴무", "off"), ("휴관", "off"), ("쉼", "off"),
)  # fmt: skip
_DASHES = re.compile(r"\s*[-~∼～–—]\s*")
_KOREAN_TIME = re.compile(r"(?:(오전|오후)\s*)?(\d{1,2})\s*(?:시\s*(?:(\d{1,2})\s*분|(반))?|:(\d{2}))")
_KOREAN_DAY = re.compile(r"([월화수목금토일])(?:요일)?")
_SELECTOR = re.compile(r"^(?:PH|Mo|Tu|We|Th|Fr|Sa|Su)\b")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _clock(match: re.Match[str]) -> str:
    """One time of day ("오후 6시", "10시 30분", "9:00") as HH:MM."""
    half, hour, minutes, half_hour, colon_minutes = match.groups()
    hours = int(hour) + (12 if half == "오후" and int(hour) < 12 else 0)
    return f"{hours:02d}:{colon_minutes or minutes or ('30' if half_hour else '00'):0>2}"


def _rules(text: str) -> str:
    """Join pieces split at commas, semicolons or line ends: a piece naming days after one that has hours
    starts a new rule ("; "); otherwise it continues a list of days or times (",")."""
    joined = ""
    for piece in (p.strip() for p in re.split(r"[,;\n]", text)):
        if not piece:
            continue
        if not joined:
            joined = piece
        elif _SELECTOR.match(piece) and re.search(r"\d|off|24/7", joined.rsplit("; ", 1)[-1]):
            joined += "; " + piece
        else:
            joined += "," + piece
    return joined


def to_osm(value: str) -> str:
    """The hours in OSM syntax, from OSM syntax or Korean; raises ValueError when they cannot be read."""
    text = value.strip()
    if re.fullmatch(r"(연중무휴|24시간|\s)+", text):
        return "24/7"
    text = text.replace("연중무휴", "매일").replace("·", ",").replace("은 ", " ").replace("는 ", " ")
    text = re.sub(r"[()]", ",", text)
    for word, osm in _WORDS:
        text = text.replace(word, osm)
    text = _KOREAN_DAY.sub(lambda match: _KOREAN_DAYS[match.group(1)], text)
    text = _KOREAN_TIME.sub(_clock, text)
    text = _DASHES.sub("-", text)
    text = re.sub(r"\s+", " ", _rules(text)).strip()
    text = "; ".join("24/7" if rule == "Mo-Su 00:00-24:00" else rule for rule in text.split("; "))
    try:
        OpeningHours(text)
    except (ParserError, ValueError):
        raise ValueError(UNREADABLE) from None
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


# --- a row per weekday -------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """Hours as the form's rows: each day's (open, close) or None when closed, and public holidays.

    `holidays` is what applies on public holidays in OSM syntax ("off", "10:00-14:00"), or None
    when they are not mentioned (the weekday's hours apply).
    """

    days: dict[str, tuple[str, str] | None]
    holidays: str | None = None


def clock_of(value: str) -> str:
    """A time of day typed in a row ("10", "10시", "오후 6시", "9:30") as HH:MM; ValueError if it is none."""
    text = value.strip()
    match = _KOREAN_TIME.fullmatch(text) or re.fullmatch(r"()(\d{1,2})()()()", text)
    if match is None:
        raise ValueError("not a time of day; write it like 10:00")
    hours, minutes = _clock(match).split(":")
    if int(minutes) > 59 or int(hours) > 24 or (int(hours) == 24 and minutes != "00"):
        raise ValueError("not a time of day; write it like 10:00")
    return f"{hours}:{minutes}"


def holidays_of(note: str) -> str:
    """What a row's public-holiday note ("휴무", "10시-14시", "closed") means in OSM ("off", "10:00-14:00")."""
    text = note.strip().replace("closed", "off")
    osm = to_osm(text if re.match(r"(공휴일|법정공휴일|PH)", text) else f"공휴일 {text}")
    if not osm.startswith("PH ") or ";" in osm:
        raise ValueError(UNREADABLE)
    return osm.removeprefix("PH ")


def _days_of(selector: str) -> list[str] | None:
    """The weekdays of "Mo-Fr", "Mo,We,Fr" or "Sa-Mo"; None for anything else."""
    days: list[str] = []
    for part in selector.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in DAYS for end in ends):
            return None
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        days += [DAYS[(first + step) % 7] for step in range((last - first) % 7 + 1)]
    return days


def week_of(hours: str | None) -> Week | None:
    """The stored hours as weekday rows; None when they say more than the rows can (a lunch break, months)."""
    if not hours:
        return Week(dict.fromkeys(DAYS))
    if hours == "24/7":
        return Week(dict.fromkeys(DAYS, ("00:00", "24:00")))
    days: dict[str, tuple[str, str] | None] = dict.fromkeys(DAYS)
    holidays = None
    for rule in re.split(r"\s*;\s*", hours.strip()):
        if rule == "24/7":
            days.update(dict.fromkeys(DAYS, ("00:00", "24:00")))
            continue
        selector, _, spans = rule.partition(" ")
        if spans != "off" and not _SPAN.match(spans):
            return None
        if selector == "PH":
            holidays = spans
            continue
        named = _days_of(selector)
        if named is None:
            return None
        opens, _, closes = spans.partition("-")
        for day in named:
            days[day] = None if spans == "off" else (opens, closes)
    return Week(days, holidays)


def _day_ranges(days: list[str]) -> str:
    """["Mo", "Tu", "We", "Fr"] as "Mo-We,Fr"."""
    runs: list[list[str]] = []
    for day in days:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def week_hours(week: Week) -> str | None:
    """The rows as OSM hours: days with the same hours grouped, closed days left out (OSM's default)."""
    by_span: dict[tuple[str, str], list[str]] = {}
    for day in DAYS:
        if (span := week.days.get(day)) is not None:
            by_span.setdefault(span, []).append(day)
    if len(by_span) == 1 and len(next(iter(by_span.values()))) == 7 and ("00:00", "24:00") in by_span:
        rules = ["24/7"]
    else:
        rules = [f"{_day_ranges(days)} {opens}-{closes}" for (opens, closes), days in by_span.items()]
    if week.holidays:
        rules.append(f"PH {week.holidays}")
    return "; ".join(rules) or None


# --- shown in a page's language ----------------------------------------------------------------

_TOKEN = re.compile(r"24/7|PH|off|closed|\b(?:Mo|Tu|We|Th|Fr|Sa|Su)\b|(?<=\d)-(?=\d)|(?<=[a-z])-(?=[A-Z])")
_WORDS_SHOWN = {
    "24/7": ("연중무휴 24시간", "Open 24/7"), "PH": ("공휴일", "Public holidays"),
    "off": ("휴무", "closed"), "closed": ("휴무", "closed"), "-": ("–", "–"),
}  # fmt: skip


def describe(hours: str | None, language: str) -> list[str]:
    """Stored hours as lines a person reads in Korean or English, one rule a line."""
    if not hours:
        return []
    which = 0 if language == "ko" else 1

    def shown(match: re.Match[str]) -> str:
        token = match.group(0)
        return (DAY_LABELS.get(token) or _WORDS_SHOWN[token])[which]

    lines = [_TOKEN.sub(shown, rule.strip()) for rule in hours.split(";") if rule.strip()]
    day_comma = "·" if language == "ko" else ", "
    return [re.sub(r"(?<=\d),(?=\d)", ", ", re.sub(r"(?<=\D),(?=\D)", day_comma, line)) for line in lines]
