"""Reading needs written in Korean or English: units, sizes, places, dates, money, processes, materials."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from fabcity.matching.need import Need
from fabcity.matching.parse import NEARBY_M, read_need
from fabcity.startup import open_platform

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def geography(backends):
    platform = open_platform(backends.fresh("sqlite", nodes=False), nodes=False)
    yield platform.districts, platform.stations
    platform.engine.dispose()


def read(geography, text: str):
    districts, stations = geography
    return read_need(text, districts, stations, today=TODAY)


def test_the_plans_own_example_is_understood(geography):
    reading = read(geography, "아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지")
    need = reading.need
    assert need.processes == ["laser_cutting"] and need.materials == ["acrylic"]
    assert need.quantity == 200
    assert need.place.label == "은평구" and need.place.precision == "gu"
    assert need.max_distance_m == NEARBY_M
    assert need.needed_by == date(2027, 3, 31)  # March has passed this year: next March
    assert reading.unread == ["간판"]  # said plainly, so the person can add what a sign needs
    assert {u.field for u in reading.understood} >= {"processes", "materials", "quantity", "place", "needed_by"}
    assert any(u.text == "200개" and u.value == 200 for u in reading.understood)


def test_the_same_need_in_english(geography):
    need = read(geography, "200 acrylic signs, laser cutting, near Eunpyeong-gu, by March").need
    assert need.processes == ["laser_cutting"] and need.materials == ["acrylic"]
    assert need.quantity == 200 and need.place.label == "은평구" and need.needed_by == date(2027, 3, 31)


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("에코백 500벌", 500),
        ("1,200 pcs", 1200),
        ("50 units", 50),
        ("PCB 50장", 50),
        ("30ea", 30),
        ("10 세트", 10),
        ("3 oak chairs", 3),
        ("A4 3D프린팅", None),
        ("5-axis milling", None),
    ],
)
def test_quantities_with_their_units(geography, text, quantity):
    assert read(geography, text).need.quantity == quantity


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("300x200mm", [300.0, 200.0]),
        ("30 × 20 cm", [300.0, 200.0]),
        ("120x80x40㎜", [120.0, 80.0, 40.0]),
        ("1.2x0.6m 판재", [1200.0, 600.0]),
        ("A4 크기", [297.0, 210.0]),
    ],
)
def test_part_sizes_in_millimetres(geography, text, size):
    assert read(geography, text).need.part_size_mm == size


@pytest.mark.parametrize(
    ("text", "label", "precision"),
    [
        ("은평구 근처", "은평구", "gu"),
        ("Jung-gu", "중구", "gu"),
        ("문래동에서", "문래동", "dong"),
        ("창신동 주변", "창신동", "dong"),  # 창신1·2·3동 together
        ("연신내역 근처", "연신내역", "exact"),
        ("near Mullae station", "문래역", "exact"),
        ("을지로 3가역 근처", "을지로3가역", "exact"),
        ("near Gasan Digital Complex Station", "가산디지털단지역", "exact"),  # a name of several words
        ("within 3 km of Dongdaemun History & Culture Park Station", "동대문역사문화공원역", "exact"),  # not the gu
        ("near Jongno 3-ga", "종로3가역", "exact"),  # the station is 'Jongno 3(sam)-ga'
        ("Hongik University Station", "홍대입구역", "exact"),  # the station is 'Hongik Univ.'
    ],
)
def test_places_by_gu_dong_or_station(geography, text, label, precision):
    place = read(geography, text).need.place
    assert (place.label, place.precision) == (label, precision)
    assert 37.4 < place.lat < 37.7 and 126.7 < place.lon < 127.2


@pytest.mark.parametrize(
    ("text", "metres"), [("3km 이내", 3000.0), ("반경 500m", 500.0), ("within 10 km", 10_000.0), ("근처", None)]
)
def test_distances(geography, text, metres):
    assert read(geography, f"봉제 {text}").need.max_distance_m == metres  # "근처" alone has no place to be near


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("3월까지", date(2027, 3, 31)),
        ("12월 말", date(2026, 12, 31)),
        ("12월 5일까지", date(2026, 12, 5)),
        ("2027-01-15까지", date(2027, 1, 15)),
        ("by Feb 10", date(2027, 2, 10)),
        ("2주 안에", date(2026, 12, 8)),
        ("within 10 days", date(2026, 12, 4)),
    ],
)
def test_dates(geography, text, when):
    assert read(geography, text).need.needed_by == when


@pytest.mark.parametrize(("text", "won"), [("예산 50만원", 500_000), ("1,000,000원", 1_000_000), ("₩300,000", 300_000)])
def test_budgets_in_won(geography, text, won):
    assert read(geography, text).need.budget_krw == won


@pytest.mark.parametrize(
    ("text", "processes", "materials"),
    [
        ("레이저커팅으로 아크릴판", ["laser_cutting"], ["acrylic"]),
        ("아크릴간판", [], ["acrylic"]),  # a term inside a compound word
        ("stainless steel welding", ["welding"], ["stainless_steel"]),
        ("3D프린팅", ["3d_printing"], []),
        ("원단 봉제", ["sewing"], ["fabric"]),
        ("레이저커터가 있는 곳", ["laser_cutting"], []),  # a machine named: what it does
        ("laser-cut acrylic name plates", ["laser_cutting"], ["acrylic"]),  # English words hold no PLA
        ("oak benches for a park, woodworking", ["woodworking"], ["hardwood"]),  # nor PA (nylon)
        ("weld a steel frame", ["welding"], ["steel"]),
        ("embroidered patches", ["embroidery"], []),
        ("printed circuit boards", ["pcb_fabrication"], []),
        ("5-axis CNC machining", ["multi_axis_machining", "cnc_machining"], []),
        ("3D scanning of a ceramic vase", ["3d_scanning"], ["ceramic"]),  # how it is worked is the scanning
        ("ceramic mugs", ["ceramics"], []),
    ],
)
def test_processes_and_materials_through_the_taxonomy(geography, text, processes, materials):
    need = read(geography, text).need
    assert (need.processes, need.materials) == (processes, materials)


def test_access_words(geography):
    assert read(geography, "회원 전용 공간").need.access == ["membership"]


def test_a_structured_need_is_validated_with_the_field_named():
    with pytest.raises(ValidationError) as caught:
        Need.model_validate({"processes": ["teleportation"], "quantity": 0})
    fields = {error["loc"][0] for error in caught.value.errors()}
    assert fields == {"processes", "quantity"}
    assert Need.model_validate({"processes": ["레이저커팅"]}).processes == ["laser_cutting"]
