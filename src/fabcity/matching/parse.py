"""Reading a need written in Korean or English: "아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지".

No outside service: numbers with their units, sizes, dates, money and distances are read with
patterns; places through the district and station indexes; processes and materials through the
taxonomy and its aliases, matched inside Korean compound words (아크릴간판 → 아크릴). Everything
read is reported with the words it came from, and the words nothing was made of are listed, so
the person can see what was understood and correct it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from fabcity.clock import KST
from fabcity.directory.models import problems_of
from fabcity.directory.taxonomy import alias_key, taxonomy
from fabcity.errors import FieldError, RecordInvalid
from fabcity.geo.districts import DistrictIndex
from fabcity.geo.stations import StationIndex
from fabcity.matching.need import Need, Place
from fabcity.text import normalize

NEARBY_M = 5_000.0  # "근처 / near" without a distance
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
_UNIT_MM = {"mm": 1.0, "㎜": 1.0, "cm": 10.0, "㎝": 10.0, "m": 1000.0}
_PAPER_MM = {
    "a0": [1189, 841],
    "a1": [841, 594],
    "a2": [594, 420],
    "a3": [420, 297],
    "a4": [297, 210],
    "a5": [210, 148],
}
_SIZE = re.compile(rf"{_NUMBER}\s*(?:x|×|\*)\s*{_NUMBER}(?:\s*(?:x|×|\*)\s*{_NUMBER})?\s*(mm|㎜|cm|㎝|m)(?![a-z])")
_PAPER = re.compile(r"(?<![a-z0-9])(a[0-5])(?![a-z0-9])")
_DISTANCE = re.compile(
    rf"(?:(?:within|반경)\s*)?{_NUMBER}\s*(km|킬로미터|킬로|m|미터)(?![a-z])\s*(?:이내|안에|안|내|반경)?"
)
_MONEY = re.compile(rf"(?:₩\s*{_NUMBER})|(?:{_NUMBER}\s*(만\s*원|만|원|won|krw))(?![a-z])")
_QUANTITY = re.compile(
    rf"{_NUMBER}\s*(개|pcs|pc|pieces|piece|units|unit|ea|장|벌|세트|sets|set|부|권|켤레|점|copies)(?![a-z])"
)
_ISO_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_KOREAN_DAY = re.compile(r"(\d{1,2})\s*월\s*(\d{1,2})\s*일")
_KOREAN_MONTH = re.compile(r"(\d{1,2})\s*월\s*(?:말|까지|중|안)")
_ENGLISH_MONTH = re.compile(
    r"(?:by|before|until)\s+(?:the\s+end\s+of\s+)?"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:\s+(\d{1,2}))?(?![a-z])"
)
_WITHIN_TIME = re.compile(rf"(?:within\s+)?{_NUMBER}\s*(주|weeks?|일|days?)\s*(?:안에|안|이내|내)?")
_BARE_NUMBER = re.compile(r"(?<![\w.,])(\d[\d,]*\d|\d)(?![\w.,]|-[a-z\uac00-\ud7a3])")  # not 5-axis, 3-ga
_NEAR = re.compile(r"근처|주변|인근|가까운|가까이|nearby|near|around")
_ACCESS = {"회원": "membership", "멤버십": "membership", "membership": "membership", "공개": "public",
           "누구나": "public", "public": "public"}  # fmt: skip
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WORD = re.compile(r"[0-9a-z\uac00-\ud7a3]+(?:[-'][0-9a-z\uac00-\ud7a3]+)*")
_PARTICLES = (
    "에서", "으로", "까지", "부터", "이나",
    "에", "로", "을", "를", "이", "가", "은", "는", "의", "와", "과", "도", "만",
)  # fmt: skip
# words that carry no need of their own (what they introduce is read by the patterns)
_FILLER = {
    "by", "of", "in", "at", "the", "a", "an", "for", "with", "and", "to", "from", "size", "budget", "about", "around",
    "예산", "크기", "정도", "약", "수량", "개수", "사이즈", "및", "그리고", "제작", "만들기", "make", "made",
}  # fmt: skip


@dataclass(frozen=True)
class Understood:
    """One thing read from the text: the words, the field of the need, the value."""

    text: str
    field: str
    value: Any


@dataclass
class Reading:
    need: Need
    understood: list[Understood] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "need": self.need.model_dump(mode="json", exclude_none=True),
            "understood": [{"text": u.text, "field": u.field, "value": _jsonable(u.value)} for u in self.understood],
            "unread": self.unread,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Place):
        return value.model_dump()
    return value


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month_end(today: date, month: int, day: int | None = None) -> date:
    """The next such month (and day) on or after today: "3월까지" in November means next March."""
    year = today.year
    candidate = date(year, month, day) if day else _month_end(year, month)
    if candidate < today:
        candidate = date(year + 1, month, day) if day else _month_end(year + 1, month)
    return candidate


def _size_mm(match: re.Match[str], today: date) -> list[float]:
    scale = _UNIT_MM[match.group(4)]
    return [_number(side) * scale for side in match.groups()[:3] if side]


def _paper_mm(match: re.Match[str], today: date) -> list[float]:
    return [float(side) for side in _PAPER_MM[match.group(1)]]


def _iso_date(match: re.Match[str], today: date) -> date:
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _korean_day(match: re.Match[str], today: date) -> date:
    return _next_month_end(today, int(match.group(1)), int(match.group(2)))


def _korean_month(match: re.Match[str], today: date) -> date:
    return _next_month_end(today, int(match.group(1)))


def _english_month(match: re.Match[str], today: date) -> date:
    day = int(match.group(2)) if match.group(2) else None
    return _next_month_end(today, _MONTHS.index(match.group(1)) + 1, day)


def _won(match: re.Match[str], today: date) -> int:
    amount = _number(match.group(1) or match.group(2))
    unit = (match.group(3) or "").replace(" ", "")
    return int(amount * 10_000) if unit in ("만원", "만") else int(amount)


def _count(match: re.Match[str], today: date) -> int:
    return int(_number(match.group(1)))


def _metres(match: re.Match[str], today: date) -> float:
    return _number(match.group(1)) * (1 if match.group(2) in ("m", "미터") else 1000)


def _days_from_today(match: re.Match[str], today: date) -> date:
    days = int(_number(match.group(1))) * (7 if match.group(2).startswith(("주", "week")) else 1)
    return today + timedelta(days=days)


# Each pattern, the field of the need it reads and how its value is worked out (every reader is
# given today, which only the relative dates use, so that all have one signature). The order
# matters: what a pattern matched is blanked before the next one looks, so a size (1.5*2m) is
# read before a distance (2m) and a date with its day (11월 30일) before a number of days (30일).
_Reader = Callable[[re.Match[str], date], Any]
_READERS: tuple[tuple[re.Pattern[str], str, _Reader], ...] = (
    (_SIZE, "part_size_mm", _size_mm),
    (_PAPER, "part_size_mm", _paper_mm),
    (_ISO_DATE, "needed_by", _iso_date),
    (_KOREAN_DAY, "needed_by", _korean_day),
    (_KOREAN_MONTH, "needed_by", _korean_month),
    (_ENGLISH_MONTH, "needed_by", _english_month),
    (_MONEY, "budget_krw", _won),
    (_QUANTITY, "quantity", _count),
    (_DISTANCE, "max_distance_m", _metres),
    (_WITHIN_TIME, "needed_by", _days_from_today),
)


class _Text:
    """The normalised text with the parts already read blanked out, so nothing is read twice."""

    def __init__(self, text: str) -> None:
        self.value = normalize(text)

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        matches = list(pattern.finditer(self.value))
        for match in reversed(matches):
            start, end = match.span()
            self.value = self.value[:start] + " " * (end - start) + self.value[end:]
        return matches


def read_need(
    text: str, districts: DistrictIndex, stations: StationIndex, today: date | None = None, field: str = "text"
) -> Reading:
    """The need a text describes, with what was understood and what was not.

    A value read that no need can have (0개, 2월 30일, 300 km) is a RecordInvalid naming `field`,
    where the text came from, and quoting the words it was read from.
    """
    today = today or datetime.now(KST).date()
    rest = _Text(text)
    fields: dict[str, Any] = {}
    understood: list[Understood] = []

    def note(words: str, name: str, value: Any) -> None:
        understood.append(Understood(words.strip(), name, value))

    for pattern, name, value_of in _READERS:
        for match in rest.take(pattern):
            value = _value_of(value_of, match, today, field)
            fields.setdefault(name, value)  # the first one given counts; each is shown as understood
            note(match.group(0), name, value)
    near = rest.take(_NEAR)
    for match in rest.take(_BARE_NUMBER)[:1]:  # "200 acrylic signs": a number left over counts the units
        if "quantity" not in fields:
            fields["quantity"] = _value_of(_count, match, today, field)
            note(match.group(0), "quantity", fields["quantity"])

    words = [word for word in _WORD.findall(rest.value) if not word.isdigit()]
    used: set[int] = set()
    place = _read_place(words, used, districts, stations)
    if place:
        fields["place"] = place[0]
        note(place[1], "place", place[0])
        if near or "max_distance_m" in fields:
            fields.setdefault("max_distance_m", NEARBY_M)
            if near:
                note(near[0].group(0), "max_distance_m", fields["max_distance_m"])
    for kind in ("processes", "materials"):
        fields[kind] = []
    for index, word in enumerate(words):
        if index in used:
            continue
        if word in _ACCESS:
            fields.setdefault("access", []).append(_ACCESS[word])
            note(word, "access", _ACCESS[word])
            used.add(index)
    _read_terms(words, used, fields, note)
    unread = [
        word
        for index, word in enumerate(words)
        if index not in used and len(_strip_particle(word)) >= 2 and _strip_particle(word) not in _FILLER
    ]
    return Reading(_need(fields, understood, field), understood, unread)


def _value_of(reader: _Reader, match: re.Match[str], today: date, field: str) -> Any:
    """What a reader makes of the words it matched; a date or a number that cannot be is an error of `field`."""
    try:
        return reader(match, today)
    except (ValueError, OverflowError):  # 2월 30일, 13월 말, 99999999999주, a number of 400 digits
        raise RecordInvalid([FieldError(field, f"“{match.group(0).strip()}” cannot be read")]) from None


def _need(fields: dict[str, Any], understood: list[Understood], field: str) -> Need:
    """The need read, or every value out of its range, each with the words it came from."""
    try:
        return Need.model_validate(fields)
    except ValidationError as error:
        words = {}
        for item in understood:
            words.setdefault(item.field, item.text)  # the first one given is the one that counts
        problems = []
        for problem in problems_of(error):
            said = words.get(problem.field.split(".")[0], "")
            problems.append(FieldError(field, f"“{said}” ({problem.field}): {problem.message}"))
        raise RecordInvalid(problems) from None


def _strip_particle(word: str) -> str:
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) > len(particle) + 1:
            return word[: -len(particle)]
    return word


def _read_place(
    words: list[str], used: set[int], districts: DistrictIndex, stations: StationIndex
) -> tuple[Place, str] | None:
    """The first station, dong or gu the words name ("연신내역", "창신동", "은평구", "Eunpyeong-gu",
    "Gasan Digital Complex Station", "을지로 3가역")."""
    for index, word in enumerate(words):
        if found := _station(words, index, used, stations):
            return found
        base = _strip_particle(word)
        candidates = list(dict.fromkeys([word, base]))  # 을지로 is a name, not 을지 + 로
        if index + 1 < len(words) and words[index + 1] in ("gu", "구"):
            candidates.insert(0, f"{base} {words[index + 1]}")
        for candidate in candidates:
            span = {index, index + 1} if " " in candidate else {index}
            for level in ("gu", "dong"):
                found = districts.resolve(candidate, level=level)
                if not found and level == "dong" and re.fullmatch(r"[\uac00-\ud7a3]+", candidate):
                    dong = candidate if candidate.endswith("동") else candidate + "동"  # 을지로 → 을지로동
                    found = districts.resolve(dong, level="dong") or _numbered_dongs(districts, dong)
                if not found or len({d.parent_code for d in found}) > 1 or (level == "gu" and len(found) > 1):
                    continue
                used.update(span)
                lat = sum(d.center_lat for d in found) / len(found)
                lon = sum(d.center_lon for d in found) / len(found)
                label = candidate if len(found) > 1 else found[0].name_ko
                return Place(lat=lat, lon=lon, label=label, precision=level), candidate
    return None


_STATION_WORDS = 5  # "dongdaemun history culture park station"


def _station(words: list[str], index: int, used: set[int], stations: StationIndex) -> tuple[Place, str] | None:
    """A station named from this word on: one word ending in 역 or followed by "station" / "역", or
    several words that are a station's whole name, with or without them ("jongno 3-ga")."""
    for end in range(min(len(words), index + _STATION_WORDS), index, -1):
        span = range(index, end)
        if any(i in used for i in span):
            continue
        text = " ".join(words[i] for i in span)
        for said in dict.fromkeys([text, " ".join([*words[index : end - 1], _strip_particle(words[end - 1])])]):
            name = said.removesuffix(" station").removesuffix(" 역").removesuffix("역")
            if name == said and end - index == 1:
                continue  # one word is a station only when called one: 연신내 may be a dong
            if found := stations.exact(name):
                used.update(span)
                return Place(lat=found[0].lat, lon=found[0].lon, label=f"{found[0].name_ko}역"), text
    return None


def _numbered_dongs(districts: DistrictIndex, name: str) -> list:
    """창신동 is split into 창신1동, 창신2동, 창신3동: all of them, when they share one gu."""
    stem = name.removesuffix("동")
    pattern = re.compile(rf"^{re.escape(stem)}[0-9·.]+(가)?동$")
    return [d for d in districts.dongs() if pattern.match(d.name_ko)]


_Note = Callable[[str, str, Any], None]  # (the words, the field of the need, the value read)


def _read_terms(words: list[str], used: set[int], fields: dict[str, Any], note: _Note) -> None:
    """Processes and materials: English phrases of up to three words, Korean compounds by their longest parts.

    A word naming both a process and a material ("ceramic", "glass", "피혁") is the material when
    another word says how it is worked ("3D scanning of a ceramic vase"), the process otherwise.
    """
    terms = _Terms(fields, note)
    terms.read_phrases(words, used)
    terms.read_words(words, used)
    terms.settle_either()


class _Terms:
    """The processes and materials found so far, and the words naming both, settled once all are read."""

    def __init__(self, fields: dict[str, Any], note: _Note) -> None:
        self.taxonomy = taxonomy()
        self.fields = fields
        self.note = note
        self.either: list[tuple[str, str, str]] = []  # (words, process, material) of the words naming both

    def resolve(self, text: str) -> tuple[str, str] | None:
        for form in (text, *_english_forms(text)):
            for kind in ("processes", "materials", "equipment_types"):
                if term_id := self.taxonomy.resolve(kind, form):
                    return kind, term_id
        return None

    def add(self, found: tuple[str, str], text: str) -> None:
        kind, term_id = found
        if kind == "equipment_types":  # a machine named: the processes it performs
            for process in self.taxonomy.get(kind, term_id).processes[:1]:
                if process not in self.fields["processes"]:
                    self.fields["processes"].append(process)
                    self.note(text, "processes", process)
            return
        if kind == "processes" and (material := self.taxonomy.resolve("materials", _strip_particle(text))):
            self.either.append((text, term_id, material))
        else:
            self.put(kind, term_id, text)

    def put(self, kind: str, term_id: str, text: str) -> None:
        if term_id not in self.fields[kind]:
            self.fields[kind].append(term_id)
            self.note(text, kind, term_id)

    def read_phrases(self, words: list[str], used: set[int]) -> None:
        """Terms of three words, then two ("laser cutting", "3d printing", "stainless steel")."""
        for size in (3, 2):
            for start in range(len(words) - size + 1):
                span = range(start, start + size)
                if any(i in used for i in span):
                    continue
                phrase = " ".join(words[i] for i in span)
                if found := self.resolve(phrase):
                    self.add(found, phrase)
                    used.update(span)

    def read_words(self, words: list[str], used: set[int]) -> None:
        """Terms of one word, and those inside a Korean compound, which is read when they make up most of it."""
        for index, word in enumerate(words):
            if index in used:
                continue
            if found := self.resolve(_strip_particle(word)):
                self.add(found, word)
                used.add(index)
                continue
            if not _HANGUL.search(word):
                continue  # English words stand apart: "plates" holds no PLA
            pieces = _compound_parts(word, self.resolve)
            for piece, found in pieces:
                self.add(found, piece)
            if pieces and sum(len(piece) for piece, _ in pieces) >= len(_strip_particle(word)) - 2:
                used.add(index)

    def settle_either(self) -> None:
        """A word naming both is the material when some process was named, the process otherwise."""
        worked = bool(self.fields["processes"])
        for text, process, material in self.either:
            self.put(*(("materials", material) if worked else ("processes", process)), text)


_LAST_ENGLISH_WORD = re.compile(r"[a-z]{4,}$")


def _english_forms(text: str) -> list[str]:
    """Other forms of an English term's last word: the singular (circuit boards → circuit board) and
    the process a past participle names (welded → welding, embroidered → embroidery)."""
    match = _LAST_ENGLISH_WORD.search(text)
    if match is None or not text.isascii():
        return []
    head, last = text[: match.start()], match.group(0)
    if last.endswith("ed"):
        forms = [last[:-2] + "ing", last[:-2] + "y"]
    elif last.endswith("es"):
        forms = [last[:-2], last[:-1]]
    elif last.endswith("s") and not last.endswith("ss"):
        forms = [last[:-1]]
    else:
        forms = []
    return [head + form for form in forms]


def _compound_parts(word: str, resolve) -> list[tuple[str, tuple[str, str]]]:  # noqa: ANN001
    """Known terms inside a compound word, longest first and not overlapping (아크릴간판 → 아크릴)."""
    found: list[tuple[int, int, tuple[str, str]]] = []
    taken = [False] * len(word)
    for length in range(len(word) - 1, 1, -1):
        for start in range(len(word) - length + 1):
            if any(taken[start : start + length]):
                continue
            piece = word[start : start + length]
            if len(alias_key(piece)) >= 2 and (hit := resolve(piece)):
                found.append((start, length, hit))
                for i in range(start, start + length):
                    taken[i] = True
    return [(word[start : start + length], hit) for start, length, hit in sorted(found)]
