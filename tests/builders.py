"""Builders of what tests store and import: node records, places, import files, people and their tokens.

Shared by the test files, which import them from here (never from one another).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fabcity.accounts import service as accounts
from fabcity.directory.exporter import all_records
from fabcity.directory.models import validate_node
from fabcity.directory.writer import prepare, save_nodes
from fabcity.platform import Platform
from fabcity.storage.schema import node

PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"  # a name or text that would run script if a page did not escape it

# Around Yeonsinnae station (Eunpyeong-gu) and Euljiro (Jung-gu).
YEONSINNAE = (37.6189, 126.9210)
EULJIRO = (37.5660, 126.9920)


# The IoPA list of Korea's fab labs, as published: 46 records, 7 of them in Seoul.
IOPA_FILE = Path(__file__).with_name("data") / "okw-fablabs-io-2024" / "kr_entries.json"

# The Seoul labs of the IoPA list, as its README names them; every other record lies outside Seoul.
IOPA_SEOUL_LABS = {
    "Fab Lab Seoul",
    "Seoul Innovation Fab Lab",
    "d.playlab - FABCAFE",
    "Fablab Ogeum",
    "Fablab Songpa",
    "American Center Korea",
    "Seoul Foreign School FabLab",
}


# --------------------------------------------------------------------------------------------
# nodes stored directly


def node_record(slug: str, lat: float | None, lon: float | None, **fields) -> dict:
    record = {
        "slug": slug,
        "name": fields.pop("name", {"ko": slug}),
        "node_type": fields.pop("node_type", "makerspace"),
        "location": {"lat": lat, "lon": lon, **fields.pop("location", {})},
        "provenance": {"source": "test", "license": "CC0-1.0"},
    }
    record.update(fields)
    return record


def add_nodes(platform, records: list[dict]) -> None:
    prepared = [prepare(validate_node(r), platform.districts) for r in records]
    with platform.engine.begin() as conn:
        save_nodes(conn, prepared, platform.districts, platform.stations)


# --------------------------------------------------------------------------------------------
# what is stored, read back


def count_rows(platform: Platform, table=node, *where) -> int:
    with platform.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def records(platform: Platform) -> list[dict[str, Any]]:
    return list(all_records(platform))


def record_named(platform: Platform, name: str) -> dict[str, Any]:
    """The one stored node whose Korean or English name is `name`."""
    found = [r for r in records(platform) if name in (r["name"]["ko"], r["name"]["en"])]
    assert len(found) == 1, f"expected one node named {name!r}, found {len(found)}"
    return found[0]


# --------------------------------------------------------------------------------------------
# import files


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def point_feature(properties: dict[str, Any], lon: float | None = None, lat: float | None = None) -> dict:
    geometry = None if lon is None else {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def write_geojson(path: Path, *features: dict) -> Path:
    return write_json(path, {"type": "FeatureCollection", "features": list(features)})


def fablabs_labs() -> list[dict[str, Any]]:
    """Three labs shaped like fablabs.io's GET /api/labs answer."""
    return [
        {
            "id": 1201,
            "name": "Fab Lab Seoul",
            "kind_name": "fab_lab",
            "slug": "fablabseoul",
            "blurb": "Korea's first fab lab, in the Sewoon arcade.",
            "latitude": 37.569243,
            "longitude": 126.9952266,
            "address_1": "Sewoon Plaza #550",
            "city": "Seoul",
            "postal_code": "03194",
            "country_code": "KR",
            "email": "hello@fablabseoul.org",
            "phone": "+82 2 2278 0000",
            "capabilities": ["three_d_printing", "laser"],
            "activity_status": "active",
            "links": [{"id": 77, "url": "http://fablabseoul.org"}],
        },
        {
            "id": 1875,
            "name": "Fablab Ogeum",
            "kind_name": "fab_lab",
            "slug": "fablabogeum",
            "latitude": 37.5004871,
            "longitude": 127.1411087,
            "address_1": "40, Dongnam-ro 28-gil",
            "city": "Seoul",
            "country_code": "KR",
            "capabilities": ["laser"],
            "activity_status": "corona",
            "links": [],
        },
        {
            "id": 2310,
            "name": "BERIC",
            "kind_name": "fab_lab",
            "slug": "beric",
            "latitude": 35.1743479,
            "longitude": 129.0716954,
            "address_1": "945 Jungang-daero, Busanjin-gu",
            "city": "Busan",
            "country_code": "KR",
            "capabilities": ["cnc_milling", "circuit_production", "precision_milling", "vinyl_cutting"],
            "activity_status": "active",
            "links": [{"id": 12, "url": "https://beric.example.kr"}],
        },
    ]


KOREAN_HEADER = [
    "이름",
    "영문명",
    "유형",
    "위도",
    "경도",
    "주소",
    "공정",
    "재료",
    "장비",
    "전화",
    "운영시간",
    "출처",
    "라이선스",
]
KOREAN_ROWS = [
    [
        "서울이노베이션팹랩", "Seoul Innovation Fab Lab", "fab_lab", "37.6084167", "126.9337532",
        "서울특별시 은평구 통일로 684", "레이저커팅;3D프린팅", "아크릴;합판",
        '[{"type": "레이저 커터", "make": "Trotec", "specs": {"laser_power_w": 80}}]',
        "02-000-0000", "화-토 10:00-18:00", "은평구 메이커 조사", "CC-BY-4.0",
    ],
    [
        "은평 수리공방", "", "repair", "", "", "서울특별시 은평구 연서로 1", "3D 출력", "", "", "", "",
        "은평구 메이커 조사", "CC-BY-4.0",
    ],
    ["주소 미상 작업실", "", "studio", "", "", "", "", "", "", "", "", "은평구 메이커 조사", "CC-BY-4.0"],
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# people


def new_user(platform: Platform, name: str, role: str) -> accounts.User:
    """A user named `name`, signing in as name@example.kr with PASSWORD."""
    return accounts.create_user(platform, f"{name}@example.kr", PASSWORD, name, role=role)


def sign_in(client, platform: Platform, name: str, role: str) -> accounts.User:
    """A new user of the role, signed in through the log-in form of the test client."""
    user = new_user(platform, name, role)
    signed_in_page(client, user)
    return user


def form_token(client, path: str) -> str:
    """The CSRF token the page at `path` puts in its forms."""
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def auth_headers(platform: Platform, role: str = "host") -> dict[str, str]:
    """The Authorization header of a new user of the role (named after it) with an API token."""
    user = new_user(platform, role, role)
    return {"Authorization": f"Bearer {accounts.create_token(platform, user, 'tests')}"}


def signed_in_page(client, user: accounts.User) -> None:
    """`client` signed in as `user` through the sign-in form, as a browser would."""
    form = {"email": user.email, "password": PASSWORD, "csrf": form_token(client, "/login")}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


# --------------------------------------------------------------------------------------------
# bookable resources

BOOKING_NODE = "fab-lab-seoul"


def bookable(platform: Platform, host: accounts.User, hours: tuple[str, str] = ("00:00", "24:00"), **fields):
    """A resource of BOOKING_NODE (instant, free, 30-minute slots unless told), open every day in `hours`."""
    from fabcity.booking import resources
    from fabcity.booking.models import ResourceIn, RuleIn

    values = {"node": BOOKING_NODE, "kind": "machine", "name_ko": "레이저 커터", "mode": "instant"}
    values |= {"granularity_min": 30, "min_duration_min": 30, "max_duration_min": 240, "lead_time_min": 60}
    created = resources.create_resource(platform, host, ResourceIn(**(values | fields)))
    for weekday in range(7):
        rule = RuleIn(weekday=weekday, start=hours[0], end=hours[1])
        resources.add_rule(platform, host, created["id"], rule)
    return created


def node_host(platform: Platform, name: str = "host", slug: str = "fab-lab-seoul") -> accounts.User:
    """A host of the node `slug`."""
    from datetime import UTC, datetime

    from fabcity.storage.schema import node_host as hosts

    user = new_user(platform, name, "host")
    with platform.engine.begin() as conn:
        pk = conn.execute(select(node.c.pk).where(node.c.slug == slug)).scalar_one()
        conn.execute(hosts.insert().values(node_pk=pk, user_id=user.id, granted_at=datetime.now(UTC)))
    return user
