"""Synthetic production nodes for benchmarks and tests: plausible, deterministic, never loaded by the platform.

`generate(n, seed)` spreads n nodes over Seoul's administrative dongs in proportion to the 2018
business census (dongs without a 2018 figure get none), places each uniformly inside its dong's
polygon, and gives it a node type, processes, materials, equipment and Korean/English text that
look like the real directory: more small manufacturers where manufacturing is dense, metal and
printing around 을지로동 and 문래동, sewing in 광희동 and 창신동, jewellery in 종로, and names built
from compound words ("레이저커팅", "목공방") so that bigram search meets realistic text.

Every record is marked `provenance.source = "synthetic"` (licence CC0-1.0) and carries an explicit
slug ("synthetic-0000123") and a uuid5 id derived from it. It is for benchmarks and tests; the
platform itself never imports it.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fabcity.directory import vocabulary
from fabcity.directory.taxonomy import taxonomy

SOURCE = "synthetic"
LICENSE = "CC0-1.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://fabcity.seoul/synthetic-nodes")
CENSUS_INDICATOR = "businesses"
CENSUS_PERIOD = "2018"
_UNIFORMS_PER_NODE = 48
_CHUNK = 10_000

# Dongs whose industry is known from the cluster zones are read from cluster_zones.geojson; these
# neighbours of the Dongdaemun garment cluster and Seongsu are added by name.
_EXTRA_INDUSTRY_BY_NAME = {
    "창신1동": "garment",
    "창신2동": "garment",
    "창신3동": "garment",
    "신당동": "garment",
    "성수2가1동": "shoes",
    "성수2가3동": "shoes",
    "문래동": "metal",
    "도림동": "metal",
}

NODE_TYPE_WEIGHTS: dict[str, float] = {
    "small_manufacturer": 0.52,
    "studio": 0.17,
    "material_supplier": 0.06,
    "makerspace": 0.05,
    "micro_factory": 0.04,
    "repair": 0.04,
    "coworking": 0.03,
    "research_lab": 0.02,
    "fab_lab": 0.015,
    "urban_farm": 0.015,
    "other": 0.03,
}

# Processes each node type typically offers, with relative weights.
PROCESS_WEIGHTS: dict[str, dict[str, float]] = {
    "small_manufacturer": {
        "cnc_machining": 4, "cnc_milling": 5, "cnc_turning": 5, "sheet_metal_fabrication": 5, "welding": 4,
        "mig_welding": 2, "tig_welding": 2, "metalworking": 6, "printing": 6, "screen_printing": 2, "sewing": 8,
        "injection_moulding": 3, "surface_finishing": 3, "assembly": 3, "mechanical_assembly": 3, "pcb_assembly": 2,
        "mould_making": 3, "leatherworking": 2, "shoemaking": 1, "jewellery_making": 2, "furniture_making": 3,
        "woodworking": 2, "laser_cutting": 3, "textile_printing": 2, "knitting": 2, "embroidery": 2,
        "food_processing": 3, "bookbinding": 2, "large_format_printing": 2, "plasma_cutting": 1,
    },
    "studio": {
        "woodworking": 6, "ceramics": 5, "leatherworking": 5, "jewellery_making": 4, "laser_engraving": 3,
        "screen_printing": 2, "textile_printing": 2, "glassworking": 2, "furniture_making": 3, "sewing": 3,
        "embroidery": 2, "knitting": 2, "fdm_printing": 2, "bookbinding": 2, "upcycling": 1, "laser_cutting": 2,
    },
    "makerspace": {
        "3d_printing": 5, "fdm_printing": 6, "sla_printing": 2, "laser_cutting": 6, "laser_engraving": 2,
        "cnc_routing": 3, "vinyl_cutting": 3, "electronics_assembly": 3, "electronics_soldering": 4,
        "3d_scanning": 2, "woodworking": 3, "sewing": 2, "prototyping": 3, "large_format_printing": 1,
    },
    "fab_lab": {
        "3d_printing": 5, "fdm_printing": 5, "sla_printing": 2, "laser_cutting": 6, "cnc_routing": 4,
        "cnc_milling_precision": 3, "pcb_fabrication": 3, "vinyl_cutting": 4, "electronics_soldering": 3,
        "3d_scanning": 2, "embroidery": 1, "vacuum_forming": 1, "prototyping": 2,
    },
    "micro_factory": {
        "laser_cutting": 4, "cnc_routing": 3, "3d_printing": 3, "sls_printing": 2, "injection_moulding": 3,
        "sewing": 4, "assembly": 3, "prototyping": 4, "textile_printing": 2, "pcb_assembly": 2, "vacuum_forming": 1,
    },
    "material_supplier": {
        "laser_cutting": 3, "cnc_routing": 2, "woodworking": 2, "sheet_metal_fabrication": 2, "printing": 1,
        "vinyl_cutting": 1, "metalworking": 2, "sewing": 1,
    },
    "research_lab": {
        "3d_printing": 3, "sla_printing": 3, "sls_printing": 2, "multi_axis_machining": 2, "3d_scanning": 3,
        "pcb_fabrication": 2, "electronics_assembly": 3, "bio_fabrication": 2, "prototyping": 4,
    },
    "coworking": {
        "3d_printing": 4, "laser_cutting": 3, "prototyping": 3, "electronics_soldering": 2, "vinyl_cutting": 2,
        "large_format_printing": 2,
    },
    "urban_farm": {"food_processing": 5, "bio_fabrication": 2, "upcycling": 3, "woodworking": 1},
    "repair": {
        "repair": 8, "upcycling": 5, "electronics_soldering": 3, "sewing": 3, "woodworking": 2,
        "furniture_making": 2,
    },
    "other": {"prototyping": 3, "assembly": 3, "printing": 2, "repair": 2, "upcycling": 1, "surface_finishing": 1},
}  # fmt: skip

# What each cluster is known for; blended into the types that do production work there.
INDUSTRY_PROCESSES: dict[str, dict[str, float]] = {
    "printing_metal": {
        "printing": 6, "screen_printing": 3, "bookbinding": 2, "large_format_printing": 3, "metalworking": 5,
        "sheet_metal_fabrication": 4, "welding": 3, "cnc_turning": 3, "laser_cutting": 3, "surface_finishing": 2,
        "vinyl_cutting": 1, "electronics_assembly": 2,
    },
    "machinery_electronics": {
        "pcb_assembly": 5, "pcb_fabrication": 3, "electronics_assembly": 5, "cnc_milling": 4, "cnc_machining": 3,
        "mechanical_assembly": 4, "injection_moulding": 3, "mould_making": 3, "3d_printing": 2,
    },
    "garment": {"sewing": 10, "knitting": 3, "embroidery": 3, "textile_printing": 3, "leatherworking": 1},
    "jewellery": {
        "jewellery_making": 10, "metal_casting": 4, "laser_engraving": 3, "mould_making": 2, "surface_finishing": 2,
    },
    "metal": {
        "metalworking": 8, "cnc_turning": 5, "cnc_milling": 4, "welding": 5, "tig_welding": 3, "mig_welding": 3,
        "sheet_metal_fabrication": 5, "metal_casting": 2, "plasma_cutting": 2, "surface_finishing": 2,
    },
    "shoes": {"shoemaking": 10, "leatherworking": 5, "sewing": 2, "mould_making": 1},
    "printing": {"printing": 10, "screen_printing": 3, "bookbinding": 4, "large_format_printing": 3},
}  # fmt: skip

# How strongly a dong's industry replaces the type's usual mix.
_INDUSTRY_PULL = {"small_manufacturer": 0.8, "micro_factory": 0.5, "studio": 0.4, "material_supplier": 0.6}

# Plausible materials per process, most typical first.
PROCESS_MATERIALS: dict[str, tuple[str, ...]] = {
    "3d_printing": ("pla", "abs", "petg", "tpu"),
    "fdm_printing": ("pla", "petg", "abs", "tpu", "nylon"),
    "sla_printing": ("resin",),
    "sls_printing": ("nylon",),
    "laser_cutting": ("acrylic", "plywood", "mdf", "paper", "leather", "felt", "cardboard"),
    "laser_engraving": ("acrylic", "plywood", "leather", "stainless_steel", "glass"),
    "cnc_machining": ("aluminium", "steel", "stainless_steel", "brass", "polycarbonate"),
    "cnc_routing": ("plywood", "mdf", "hardwood", "softwood", "acrylic", "eps_foam"),
    "cnc_milling": ("aluminium", "steel", "stainless_steel", "brass", "nylon"),
    "cnc_milling_precision": ("fr4", "aluminium", "brass"),
    "cnc_turning": ("steel", "stainless_steel", "aluminium", "brass", "copper"),
    "multi_axis_machining": ("aluminium", "stainless_steel", "steel"),
    "waterjet_cutting": ("stainless_steel", "glass", "ceramic", "aluminium"),
    "hot_wire_cutting": ("eps_foam",),
    "plasma_cutting": ("steel", "stainless_steel"),
    "vinyl_cutting": ("vinyl_film", "paper"),
    "large_format_printing": ("paper", "vinyl_film", "fabric"),
    "pcb_fabrication": ("fr4", "copper"),
    "electronics_assembly": ("electronic_components", "solder", "fr4"),
    "pcb_assembly": ("electronic_components", "solder", "fr4"),
    "electronics_soldering": ("solder", "electronic_components"),
    "welding": ("steel", "stainless_steel", "aluminium"),
    "mig_welding": ("steel", "stainless_steel"),
    "tig_welding": ("stainless_steel", "aluminium", "steel"),
    "metalworking": ("steel", "stainless_steel", "aluminium", "brass", "copper"),
    "sheet_metal_fabrication": ("steel", "stainless_steel", "aluminium"),
    "metal_casting": ("brass", "aluminium", "silver", "gold"),
    "woodworking": ("hardwood", "softwood", "plywood", "mdf", "bamboo"),
    "furniture_making": ("hardwood", "plywood", "fabric", "leather", "softwood"),
    "sewing": ("fabric", "cotton", "denim", "yarn", "synthetic_leather"),
    "knitting": ("yarn",),
    "embroidery": ("yarn", "fabric", "cotton"),
    "textile_printing": ("cotton", "fabric", "vinyl_film"),
    "leatherworking": ("leather", "synthetic_leather", "yarn"),
    "shoemaking": ("leather", "synthetic_leather", "rubber"),
    "jewellery_making": ("silver", "gold", "brass", "copper"),
    "printing": ("paper", "cardboard", "vinyl_film"),
    "screen_printing": ("paper", "cotton", "fabric"),
    "bookbinding": ("paper", "cardboard", "leather"),
    "injection_moulding": ("abs", "polypropylene", "hdpe", "polycarbonate", "recycled_plastic"),
    "vacuum_forming": ("abs", "pvc", "petg", "polycarbonate"),
    "mould_making": ("silicone", "resin", "aluminium"),
    "ceramics": ("clay", "ceramic"),
    "glassworking": ("glass",),
    "surface_finishing": ("steel", "aluminium", "hardwood"),
    "assembly": ("steel", "aluminium", "electronic_components"),
    "mechanical_assembly": ("steel", "aluminium"),
    "food_processing": ("food",),
    "repair": ("electronic_components", "fabric", "hardwood"),
    "upcycling": ("upcycled_materials", "recycled_plastic", "fabric"),
    "bio_fabrication": ("mycelium", "bio_leather", "food"),
    "prototyping": ("pla", "acrylic", "plywood", "electronic_components"),
    "3d_scanning": ("pla",),
}

# A compact Korean word for each process, used inside compound names ("레이저커팅", "목공방").
PROCESS_STEMS: dict[str, tuple[str, str]] = {
    "3d_printing": ("3D프린팅", "3D Printing"), "fdm_printing": ("3D프린팅", "3D Printing"),
    "sla_printing": ("레진출력", "Resin Printing"), "sls_printing": ("3D프린팅", "3D Printing"),
    "laser_cutting": ("레이저커팅", "Laser Cutting"), "laser_engraving": ("레이저각인", "Laser Engraving"),
    "cnc_machining": ("CNC가공", "CNC Machining"), "cnc_routing": ("CNC목공", "CNC Routing"),
    "cnc_milling": ("밀링", "Milling"), "cnc_milling_precision": ("정밀가공", "Precision Machining"),
    "cnc_turning": ("선반가공", "Turning"), "multi_axis_machining": ("5축가공", "5-Axis Machining"),
    "waterjet_cutting": ("워터젯", "Waterjet"), "hot_wire_cutting": ("열선커팅", "Foam Cutting"),
    "plasma_cutting": ("플라즈마절단", "Plasma Cutting"), "vinyl_cutting": ("시트커팅", "Vinyl Cutting"),
    "large_format_printing": ("실사출력", "Large Format Printing"), "pcb_fabrication": ("PCB", "PCB"),
    "electronics_assembly": ("전자조립", "Electronics"), "pcb_assembly": ("SMT실장", "SMT"),
    "electronics_soldering": ("전자공작", "Electronics"), "3d_scanning": ("3D스캔", "3D Scanning"),
    "welding": ("용접", "Welding"), "mig_welding": ("용접", "Welding"), "tig_welding": ("알곤용접", "TIG Welding"),
    "metalworking": ("금속", "Metal"), "sheet_metal_fabrication": ("판금", "Sheet Metal"),
    "metal_casting": ("주물", "Casting"), "woodworking": ("목공", "Woodwork"),
    "furniture_making": ("가구", "Furniture"),
    "sewing": ("봉제", "Sewing"), "knitting": ("니트", "Knitwear"), "embroidery": ("자수", "Embroidery"),
    "textile_printing": ("날염", "Textile Printing"), "leatherworking": ("가죽", "Leather"),
    "shoemaking": ("수제화", "Shoes"), "jewellery_making": ("주얼리", "Jewellery"), "printing": ("인쇄", "Printing"),
    "screen_printing": ("실크스크린", "Screen Printing"), "bookbinding": ("제본", "Bookbinding"),
    "injection_moulding": ("사출", "Injection Moulding"), "vacuum_forming": ("진공성형", "Vacuum Forming"),
    "mould_making": ("금형", "Moulds"), "ceramics": ("도예", "Ceramics"), "glassworking": ("유리", "Glass"),
    "surface_finishing": ("도장", "Finishing"), "assembly": ("조립", "Assembly"),
    "mechanical_assembly": ("기계조립", "Assembly"), "food_processing": ("식품", "Food"),
    "repair": ("수리", "Repair"), "upcycling": ("새활용", "Upcycling"), "bio_fabrication": ("바이오", "Bio"),
    "prototyping": ("시제품", "Prototyping"),
}  # fmt: skip

# Makes and models that really exist, to give equipment text something to match.
EQUIPMENT_MODELS: dict[str, tuple[tuple[str, str], ...]] = {
    "laser_cutter": (("Trotec", "Speedy 300"), ("Epilog", "Fusion Pro 32"), ("Universal Laser Systems", "VLS 4.60")),
    "fdm_3d_printer": (("Prusa Research", "MK4"), ("Bambu Lab", "X1 Carbon"), ("Ultimaker", "S5"), ("Creality", "K1")),
    "sla_3d_printer": (("Formlabs", "Form 3+"), ("Elegoo", "Saturn 3")),
    "3d_printer": (("Sindoh", "3DWOX 1"), ("Cubicon", "Single Plus")),
    "cnc_router": (("ShopBot", "PRSalpha 96-48"), ("Multicam", "1000")),
    "cnc_lathe": (("DN Solutions", "Lynx 2100"), ("Hwacheon", "Hi-TECH 230")),
    "machining_center": (("DN Solutions", "DNM 5700"), ("Hwacheon", "VESTA-1000")),
    "industrial_sewing_machine": (("Juki", "DDL-9000C"), ("Brother", "S-7300A")),
    "embroidery_machine": (("Tajima", "TMEZ-SC"), ("Brother", "PR1055X")),
    "vinyl_cutter": (("Roland DG", "CAMM-1 GS2-24"), ("Graphtec", "CE7000-60")),
    "uv_printer": (("Roland DG", "VersaUV LEF2-300"), ("Mimaki", "UJF-6042")),
    "offset_press": (("Heidelberg", "Speedmaster SM 52"), ("Komori", "Lithrone G29")),
    "large_format_printer": (("Epson", "SureColor T7700"), ("HP", "DesignJet T1700")),
    "3d_scanner": (("Shining 3D", "EinScan Pro HD"), ("Artec", "Eva")),
    "tig_welder": (("Miller", "Dynasty 210"), ("Lincoln Electric", "Square Wave TIG 200")),
    "press_brake": (("Amada", "HG 1303"), ("Trumpf", "TruBend 3100")),
}

BRANDS: tuple[tuple[str, str], ...] = (
    ("한빛", "Hanbit"), ("대성", "Daeseong"), ("신흥", "Sinheung"), ("동양", "Dongyang"), ("세진", "Sejin"),
    ("우리", "Uri"), ("새솔", "Saesol"), ("다온", "Daon"), ("미래", "Mirae"), ("제일", "Jeil"), ("삼화", "Samhwa"),
    ("일신", "Ilsin"), ("태양", "Taeyang"), ("청계", "Cheonggye"), ("동신", "Dongsin"), ("영진", "Yeongjin"),
    ("성원", "Seongwon"), ("대한", "Daehan"), ("한성", "Hanseong"), ("보성", "Boseong"), ("정우", "Jeongwoo"),
    ("해솔", "Haesol"), ("누리", "Nuri"), ("가온", "Gaon"), ("하늘", "Haneul"), ("별빛", "Byeolbit"),
    ("바른", "Bareun"), ("으뜸", "Eutteum"), ("도담", "Dodam"), ("나래", "Narae"), ("서울", "Seoul"),
    ("금강", "Geumgang"), ("백두", "Baekdu"), ("한결", "Hangyeol"), ("온새미로", "Onsaemiro"), ("아름", "Areum"),
)  # fmt: skip

MANUFACTURER_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("공업사", "Works"), ("정밀", "Precision"), ("산업", "Industries"), ("기업", "Co."), ("제작소", "Factory"),
    ("상사", "Trading"), ("테크", "Tech"), ("", ""),
)  # fmt: skip

# (Korean, English) name patterns per node type: {brand}, {place}, {stem}, {mat}, {sfx}.
NAME_PATTERNS: dict[str, tuple[tuple[str, str], ...]] = {
    "small_manufacturer": (
        ("{brand} {stem}{sfx}", "{Brand} {Stem} {Sfx}"), ("{place} {stem}{sfx}", "{Place} {Stem} {Sfx}"),
    ),
    "studio": (
        ("{brand} {stem}공방", "{Brand} {Stem} Studio"), ("{place} {stem}작업실", "{Place} {Stem} Workroom"),
        ("{stem}스튜디오 {brand}", "{Stem} Studio {Brand}"),
    ),
    "makerspace": (
        ("{place} 메이커스페이스", "{Place} Makerspace"), ("{brand} 메이커랩", "{Brand} Maker Lab"),
        ("{place} {stem} 메이커스페이스", "{Place} {Stem} Makerspace"),
    ),
    "fab_lab": (("팹랩 {place}", "Fab Lab {Place}"), ("{brand} 팹랩", "{Brand} Fab Lab")),
    "micro_factory": (
        ("{place} 마이크로팩토리", "{Place} Micro Factory"), ("{brand} {stem}팩토리", "{Brand} {Stem} Factory"),
    ),
    "material_supplier": (
        ("{brand} {mat}상사", "{Brand} {Mat} Supply"), ("{place} {mat} 재료상", "{Place} {Mat} Materials"),
    ),
    "research_lab": (
        ("{brand} {stem}연구소", "{Brand} {Stem} Lab"),
        ("{place} 제작기술연구소", "{Place} Fabrication Research Lab"),
    ),
    "coworking": (("{place} 워크허브", "{Place} Work Hub"), ("{brand} 코워킹", "{Brand} Coworking")),
    "urban_farm": (("{place} 도시농장", "{Place} Urban Farm"), ("{brand} 텃밭", "{Brand} Garden")),
    "repair": (
        ("{place} 수리센터", "{Place} Repair Centre"), ("{brand} 리페어카페", "{Brand} Repair Café"),
        ("{place} 새활용센터", "{Place} Upcycling Centre"),
    ),
    "other": (("{brand} {stem}작업장", "{Brand} {Stem} Workshop"),),
}  # fmt: skip

ACCESS_WEIGHTS: dict[str, dict[str, float]] = {
    "small_manufacturer": {"restricted": 8, "restricted_with_public_hours": 1},
    "studio": {"restricted": 3, "public": 2, "membership": 2, "restricted_with_public_hours": 2},
    "makerspace": {"membership": 4, "public": 3, "restricted_with_public_hours": 2, "shared_space": 2},
    "fab_lab": {"public": 3, "membership": 3, "restricted_with_public_hours": 3},
    "micro_factory": {"restricted": 4, "restricted_with_public_hours": 2, "membership": 1},
    "material_supplier": {"public": 6, "restricted": 1},
    "research_lab": {"restricted": 6, "restricted_with_public_hours": 2},
    "coworking": {"membership": 5, "shared_space": 4},
    "urban_farm": {"public": 4, "membership": 2},
    "repair": {"public": 6, "restricted_with_public_hours": 2},
    "other": {"restricted": 2, "public": 2, "membership": 1},
}
BATCH_WEIGHTS: dict[str, dict[str, float]] = {
    "small_manufacturer": {"0-50": 2, "50-500": 5, "500-5000": 4, "5000+": 1},
    "micro_factory": {"0-50": 3, "50-500": 5, "500-5000": 1},
    "default": {"0-50": 1},
}
RUN_SIZES = {"0-50": ["sample", "one_off"], "50-500": ["short", "medium"], "500-5000": ["medium", "large"]}
RUN_SIZES["5000+"] = ["large"]
BATCH_PHRASES = {
    "0-50": ("소량·시제품", "one-offs and prototypes"),
    "50-500": ("소량 생산", "short runs"),
    "500-5000": ("중량 생산", "medium runs"),
    "5000+": ("대량 생산", "volume production"),
}
STATUS_WEIGHTS = {"active": 95, "temporary_closure": 3, "closed": 2}
PROCESS_COUNT = {1: 0.35, 2: 0.35, 3: 0.2, 4: 0.1}
MATERIAL_COUNT = {1: 0.45, 2: 0.35, 3: 0.2}
EQUIPMENT_COUNT = {0: 0.3, 1: 0.35, 2: 0.25, 3: 0.1}


@dataclass(frozen=True)
class Dong:
    """One administrative dong with what the generator needs of it."""

    code: str
    gu_code: str
    name_ko: str
    name_en: str
    gu_ko: str
    gu_en: str
    place_ko: str
    place_en: str
    businesses: float
    manufacturing_share: float
    industry: str | None
    polygon: BaseGeometry


class _Table:
    """A weighted choice: items and their cumulative probabilities, drawn with one uniform."""

    __slots__ = ("items", "cumulative")

    def __init__(self, weights: dict[Any, float]) -> None:
        self.items = list(weights)
        total = float(sum(weights.values()))
        running, self.cumulative = 0.0, []
        for value in weights.values():
            running += value / total
            self.cumulative.append(running)
        self.cumulative[-1] = 1.0

    def pick(self, u: float) -> Any:
        return self.items[bisect.bisect_right(self.cumulative, u)]


class _Draws:
    """The uniforms drawn for one node, consumed in a fixed order so a seed fixes the whole record."""

    __slots__ = ("row", "i")

    def __init__(self, row: list[float]) -> None:
        self.row = row
        self.i = 0

    def u(self) -> float:
        value = self.row[self.i]
        self.i += 1
        return value

    def pick(self, table: _Table) -> Any:
        return table.pick(self.u())

    def item(self, items: Sequence[Any]) -> Any:
        return items[min(int(self.u() * len(items)), len(items) - 1)]

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + min(int(self.u() * (high - low + 1)), high - low)


def _data(name: str) -> str:
    return resources.files("fabcity.data").joinpath("seoul", name).read_text(encoding="utf-8")


def _place_names(name_ko: str, name_en: str) -> tuple[str, str]:
    """'창신1동' → '창신', 'Changsin 1(il)-dong' → 'Changsin': the neighbourhood as names use it."""
    place_ko = re.sub(r"[\d·]*가?\d*동$", "", name_ko)
    if len(place_ko) < 2:
        place_ko = name_ko
    place_en = re.sub(r"\s*\(.*?\)", "", name_en)
    place_en = re.sub(r"[\s\-]*[\d·]*\s*(ga)?[\s\-]*dong$", "", place_en, flags=re.IGNORECASE).strip(" -")
    return place_ko, place_en or name_en


@cache
def dongs() -> tuple[Dong, ...]:
    """Seoul's dongs with their 2018 business counts (0 when the census has no figure)."""
    stats: dict[tuple[str, str], float] = {}
    for row in csv.DictReader(io.StringIO(_data("district_stats.csv"))):
        if row["period"] == CENSUS_PERIOD and row["indicator"] in (CENSUS_INDICATOR, f"{CENSUS_INDICATOR}_ksic_C"):
            stats[(row["district_code"], row["indicator"])] = float(row["value"])
    industry: dict[str, str] = {}
    for feature in json.loads(_data("cluster_zones.geojson"))["features"]:
        for code in feature["properties"]["dong_codes"]:
            industry[code] = feature["properties"]["industry"]
    features = json.loads(_data("districts.geojson"))["features"]
    gus = {f["properties"]["code"]: f["properties"] for f in features if f["properties"]["level"] == "gu"}
    result = []
    for feature in features:
        props = feature["properties"]
        if props["level"] != "dong":
            continue
        code = props["code"]
        businesses = stats.get((code, CENSUS_INDICATOR), 0.0)
        manufacturing = stats.get((code, f"{CENSUS_INDICATOR}_ksic_C"), 0.0)
        gu = gus[props["parent_code"]]
        name_en = props.get("name_en") or props["name_ko"]
        place_ko, place_en = _place_names(props["name_ko"], name_en)
        result.append(
            Dong(
                code=code,
                gu_code=props["parent_code"],
                name_ko=props["name_ko"],
                name_en=re.sub(r"\s*\(.*?\)", "", name_en),
                gu_ko=gu["name_ko"],
                gu_en=gu.get("name_en") or gu["name_ko"],
                place_ko=place_ko,
                place_en=place_en,
                businesses=businesses,
                manufacturing_share=manufacturing / businesses if businesses else 0.0,
                industry=industry.get(code) or _EXTRA_INDUSTRY_BY_NAME.get(props["name_ko"]),
                polygon=shape(feature["geometry"]),
            )
        )
    return tuple(result)


def _points_in(polygon: BaseGeometry, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` points uniformly inside a polygon: rejection sampling in its bounding box, vectorised."""
    west, south, east, north = polygon.bounds
    shapely.prepare(polygon)
    fill = max(polygon.area / ((east - west) * (north - south)), 0.05)
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    have = 0
    while have < count:
        batch = int((count - have) / fill * 1.2) + 16
        lon = rng.uniform(west, east, batch)
        lat = rng.uniform(south, north, batch)
        inside = shapely.contains_xy(polygon, lon, lat)
        lons.append(lon[inside])
        lats.append(lat[inside])
        have += int(inside.sum())
    return np.concatenate(lats)[:count], np.concatenate(lons)[:count]


def sample_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dong index, lat, lon) for n points spread over Seoul like the 2018 business census."""
    rng = np.random.default_rng(seed)
    return _sample_points(n, rng)


def _sample_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    all_dongs = dongs()
    weights = np.array([d.businesses for d in all_dongs], dtype=float)
    which = rng.choice(len(all_dongs), size=n, p=weights / weights.sum())
    lat = np.empty(n)
    lon = np.empty(n)
    for index in np.unique(which):
        positions = np.flatnonzero(which == index)
        lat[positions], lon[positions] = _points_in(all_dongs[index].polygon, len(positions), rng)
    return which, np.round(lat, 6), np.round(lon, 6)


@cache
def _type_table(dong_index: int) -> _Table:
    """Node types for a dong: small manufacturers scale with the dong's share of manufacturing."""
    all_dongs = dongs()
    shares = [d.manufacturing_share for d in all_dongs if d.businesses]
    mean_share = sum(shares) / len(shares)
    factor = min(max(all_dongs[dong_index].manufacturing_share / mean_share, 0.3), 3.0)
    weights = dict(NODE_TYPE_WEIGHTS)
    weights["small_manufacturer"] *= factor
    return _Table(weights)


@cache
def _process_table(node_type: str, industry: str | None) -> _Table:
    base = PROCESS_WEIGHTS[node_type]
    pull = _INDUSTRY_PULL.get(node_type, 0.0) if industry else 0.0
    if not pull:
        return _Table(base)
    cluster = INDUSTRY_PROCESSES[industry]
    base_total, cluster_total = sum(base.values()), sum(cluster.values())
    weights = {p: (1 - pull) * w / base_total for p, w in base.items()}
    for process, weight in cluster.items():
        weights[process] = weights.get(process, 0.0) + pull * weight / cluster_total
    return _Table(weights)


@cache
def _material_table(processes: tuple[str, ...]) -> _Table:
    weights: dict[str, float] = {}
    for process in processes:
        for rank, material in enumerate(PROCESS_MATERIALS.get(process, ("upcycled_materials",))):
            weights[material] = weights.get(material, 0.0) + 1.0 / (rank + 1)
    return _Table(weights)


@cache
def _equipment_types(processes: tuple[str, ...]) -> tuple[str, ...]:
    """Equipment types performing one of these processes or one of their broader processes."""
    wanted = set(taxonomy().with_ancestors(list(processes)))
    terms = taxonomy().terms["equipment_types"].values()
    return tuple(term.id for term in terms if wanted & set(term.processes))


@cache
def _tables() -> dict[str, Any]:
    return {
        "status": _Table(STATUS_WEIGHTS),
        "access": {t: _Table(w) for t, w in ACCESS_WEIGHTS.items()},
        "batch": {t: _Table(BATCH_WEIGHTS.get(t, BATCH_WEIGHTS["default"])) for t in vocabulary.NODE_TYPES},
        "process_count": _Table(PROCESS_COUNT),
        "material_count": _Table(MATERIAL_COUNT),
        "equipment_count": _Table(EQUIPMENT_COUNT),
    }


def _plain(label: str) -> str:
    """A taxonomy label without its parenthesis: '철(강철)' → '철'."""
    return re.sub(r"\s*\(.*?\)", "", label)


def _in_sentence(label: str) -> str:
    """'Laser cutting' → 'laser cutting', but 'PCB assembly' and 'PLA' keep their capitals."""
    label = _plain(label)
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def _equipment(machine_type: str, draws: _Draws) -> dict[str, Any]:
    term = taxonomy().get("equipment_types", machine_type)
    item: dict[str, Any] = {"type": machine_type, "name": {"ko": term.label_ko, "en": term.label_en}}
    models = EQUIPMENT_MODELS.get(machine_type)
    if models and draws.u() < 0.7:
        item["make"], item["model"] = draws.item(models)
    else:
        draws.u()
    item["quantity"] = draws.between(1, 4)
    if machine_type == "laser_cutter":
        item["specs"] = {"laser_power_w": float(draws.item((40, 60, 80, 100, 130, 150))), "laser_type": "CO2"}
    elif machine_type == "fdm_3d_printer":
        item["specs"] = {"build_volume_mm": draws.item(([250, 210, 220], [256, 256, 256], [330, 240, 300]))}
    return item


def _node(index: int, dong: Dong, dong_index: int, lat: float, lon: float, draws: _Draws) -> dict[str, Any]:
    tables = _tables()
    tax = taxonomy()
    node_type = draws.pick(_type_table(dong_index))
    process_table = _process_table(node_type, dong.industry)
    picked = [draws.pick(process_table) for _ in range(draws.pick(tables["process_count"]))]
    processes = tuple(dict.fromkeys(picked))
    material_table = _material_table(processes)
    materials = list(dict.fromkeys(draws.pick(material_table) for _ in range(draws.pick(tables["material_count"]))))
    candidates = _equipment_types(processes)
    machine_types: list[str] = []
    for _ in range(min(draws.pick(tables["equipment_count"]), len(candidates))):
        machine_type = draws.item(candidates)
        if machine_type not in machine_types:
            machine_types.append(machine_type)
    equipment = [_equipment(machine_type, draws) for machine_type in machine_types]

    stem_ko, stem_en = PROCESS_STEMS[processes[0]]
    mat = tax.get("materials", materials[0])
    brand_ko, brand_en = draws.item(BRANDS)
    sfx_ko, sfx_en = draws.item(MANUFACTURER_SUFFIXES)
    pattern_ko, pattern_en = draws.item(NAME_PATTERNS[node_type])
    fields = {
        "brand": brand_ko, "Brand": brand_en, "place": dong.place_ko, "Place": dong.place_en, "stem": stem_ko,
        "Stem": stem_en, "mat": _plain(mat.label_ko), "Mat": _plain(mat.label_en), "sfx": sfx_ko, "Sfx": sfx_en,
    }  # fmt: skip
    name_ko = " ".join(pattern_ko.format(**fields).split())
    name_en = " ".join(pattern_en.format(**fields).split())

    type_ko, type_en = vocabulary.NODE_TYPES[node_type]
    labels_ko = "·".join(_plain(tax.get("processes", p).label_ko) for p in processes)
    labels_en = ", ".join(_in_sentence(tax.get("processes", p).label_en) for p in processes)
    mats_ko = ", ".join(_plain(tax.get("materials", m).label_ko) for m in materials)
    mats_en = ", ".join(_in_sentence(tax.get("materials", m).label_en) for m in materials)
    batch = draws.pick(tables["batch"][node_type])
    batch_ko, batch_en = BATCH_PHRASES[batch]
    founded = draws.between(1975, 2024)
    first_ko = draws.item(
        (
            f"{dong.gu_ko} {dong.name_ko}에 자리한 {type_ko}입니다.",
            f"{founded}년부터 {dong.place_ko}에서 운영 중인 {stem_ko} 전문 {type_ko}입니다.",
            f"{labels_ko} 전문 {type_ko}입니다.",
        )
    )
    second_ko = draws.item(
        (f"{labels_ko} 작업을 하며 주요 소재는 {mats_ko}입니다.", f"{batch_ko} 주문을 받습니다.", "")
    )
    first_en = draws.item(
        (
            f"A {_in_sentence(type_en)} in {dong.name_en}, {dong.gu_en}, offering {labels_en}.",
            f"Running in {dong.place_en} since {founded}: {labels_en}.",
        )
    )
    second_en = draws.item((f"Works mainly with {mats_en}.", f"Takes orders for {batch_en}.", ""))
    street = draws.between(1, 999)
    sub = draws.between(0, 40)
    number = f"{street}-{sub}" if sub else str(street)
    record: dict[str, Any] = {
        "id": str(uuid.uuid5(NAMESPACE, slug_of(index))),
        "slug": slug_of(index),
        "name": {"ko": name_ko, "en": name_en},
        "description": {"ko": f"{first_ko} {second_ko}".strip(), "en": f"{first_en} {second_en}".strip()},
        "node_type": node_type,
        "status": draws.pick(tables["status"]),
        "access_type": draws.pick(tables["access"][node_type]),
        "batch_size": batch,
        "run_sizes": RUN_SIZES[batch],
        "floor_area_sqm": float(round(15 * (1 + 40 * draws.u() ** 3))),
        "founded": f"{founded}-01-01",
        "location": {
            "lat": lat,
            "lon": lon,
            "precision": "exact",
            "address": {
                "ko": f"서울특별시 {dong.gu_ko} {dong.name_ko} {number}",
                "en": f"{number}, {dong.name_en}, {dong.gu_en}, Seoul",
            },
        },
        "processes": list(processes),
        "materials": materials,
        "equipment": equipment,
        "provenance": {"source": SOURCE, "license": LICENSE},
    }
    if draws.u() < 0.6:
        record["contact"] = {"phone": f"02-{draws.between(200, 9999)}-{draws.between(0, 9999):04d}"}
    return record


def slug_of(index: int) -> str:
    """The slug of the index-th synthetic node."""
    return f"synthetic-{index:07d}"


def generate(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """n NodeIn-shaped records, the same ones for the same (n, seed)."""
    rng = np.random.default_rng(seed)
    which, lat, lon = _sample_points(n, rng)
    all_dongs = dongs()
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        uniforms = rng.random((stop - start, _UNIFORMS_PER_NODE)).tolist()
        for offset, row in enumerate(uniforms):
            index = start + offset
            dong_index = int(which[index])
            yield _node(index, all_dongs[dong_index], dong_index, float(lat[index]), float(lon[index]), _Draws(row))
