"""Flat records (CSV rows, simple GeoJSON properties) with Korean or English column names.

Columns (Korean alternatives in brackets); list cells are separated by ';' or ',':
  id, slug, name [이름] or name_ko [이름(한국어)] and name_en [이름(영문), 영문명],
  description / description_ko [설명] / description_en, node_type [유형], status [상태],
  access_type [이용방식], batch_size [생산규모], run_sizes, opening_hours [운영시간],
  floor_area_sqm [면적], founded [개소일], operator [운영주체],
  lat [위도], lon [경도], precision [위치정확도], address / address_ko [주소] / address_en,
  gu [자치구], dong [행정동], phone [전화], email [이메일], website [웹사이트],
  processes [공정], materials [재료], equipment (JSON list) [장비],
  fablabs_io, okw_id, osm, source [출처], source_url, license [라이선스], retrieved_at, verified_at, verified_by.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from fabcity.errors import FieldError

ALIASES = {
    "이름": "name",
    "이름(한국어)": "name_ko",
    "이름(영문)": "name_en",
    "영문명": "name_en",
    "설명": "description",
    "유형": "node_type",
    "type": "node_type",
    "상태": "status",
    "이용방식": "access_type",
    "생산규모": "batch_size",
    "운영시간": "opening_hours",
    "면적": "floor_area_sqm",
    "개소일": "founded",
    "운영주체": "operator",
    "위도": "lat",
    "latitude": "lat",
    "경도": "lon",
    "lng": "lon",
    "longitude": "lon",
    "위치정확도": "precision",
    "주소": "address",
    "자치구": "gu",
    "구": "gu",
    "행정동": "dong",
    "동": "dong",
    "전화": "phone",
    "이메일": "email",
    "웹사이트": "website",
    "홈페이지": "website",
    "공정": "processes",
    "재료": "materials",
    "장비": "equipment",
    "출처": "source",
    "라이선스": "license",
    "licence": "license",
}
# The columns fabcity writes, in order; on import `name`, `description` and `address` are accepted too.
COLUMNS = [
    "id",
    "slug",
    "name_ko",
    "name_en",
    "description_ko",
    "description_en",
    "node_type",
    "status",
    "access_type",
    "batch_size",
    "run_sizes",
    "opening_hours",
    "floor_area_sqm",
    "founded",
    "operator",
    "lat",
    "lon",
    "precision",
    "address_ko",
    "address_en",
    "gu",
    "dong",
    "phone",
    "email",
    "website",
    "processes",
    "materials",
    "equipment",
    "links",
    "fablabs_io",
    "okw_id",
    "osm",
    "source",
    "source_url",
    "license",
    "retrieved_at",
    "verified_at",
    "verified_by",
]
KNOWN = {*COLUMNS, "name", "description", "address"}
_LIST = re.compile(r"[;,]")


_NAMES = sorted(KNOWN | ALIASES.keys())
_SHOWN = 60  # a header longer than this is cut when named in a message


def canonical_column(name: str) -> str:
    key = name.strip().lstrip("\ufeff")
    key = ALIASES.get(key, ALIASES.get(key.casefold(), key.casefold()))
    if key not in KNOWN:
        shown = name if len(name) <= _SHOWN else name[: _SHOWN - 1] + "…"
        raise FieldError(shown, f"unknown column{_nearest(key)}; see the list of columns in the README")
    return key


def _nearest(key: str) -> str:
    """The known column a header most likely means, as a hint (difflib's closest match), or nothing."""
    close = difflib.get_close_matches(key, _NAMES, n=1, cutoff=0.6)
    if not close:
        return ""
    meant = ALIASES.get(close[0], close[0])
    return f" (did you mean {close[0]!r}{'' if meant == close[0] else f', that is {meant}'}?)"


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in _LIST.split(str(value)) if part.strip()]


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.replace(",", "")) if value.strip() else None
        except ValueError:
            return value  # left for validation to name
    return value


def record_from_columns(
    row: dict[str, Any], default_source: str | None = None, default_license: str | None = None
) -> dict[str, Any]:
    """A NodeIn-shaped record from flat columns; raises FieldError for a column or cell it cannot read."""
    values = {}
    for column, value in row.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        values[canonical_column(column)] = value.strip() if isinstance(value, str) else value
    name = {"ko": values.get("name_ko"), "en": values.get("name_en")}
    if "name" in values and not name["ko"] and not name["en"]:
        name = values["name"]
    elif "name" in values:
        plain = values["name"]
        name = {"ko": name["ko"] or plain, "en": name["en"]} if not name["ko"] else {**name, "en": name["en"] or plain}
    description = {"ko": values.get("description_ko"), "en": values.get("description_en")}
    if "description" in values and not description["ko"] and not description["en"]:
        description = values["description"]
    record: dict[str, Any] = {
        "name": name,
        "description": description,
        "node_type": values.get("node_type", ""),
        "location": {
            "lat": _number(values.get("lat")),
            "lon": _number(values.get("lon")),
            "precision": values.get("precision"),
            "address": {"ko": values.get("address_ko", values.get("address")), "en": values.get("address_en")},
            "gu_code": values.get("gu"),
            "dong_code": values.get("dong"),
        },
        "contact": {k: values[k] for k in ("phone", "email", "website") if k in values},
        "processes": _list(values.get("processes", [])),
        "materials": _list(values.get("materials", [])),
        "run_sizes": _list(values.get("run_sizes", [])),
        "external_ids": {
            scheme: str(values[column])
            for column, scheme in (("fablabs_io", "fablabs_io"), ("okw_id", "okw"), ("osm", "osm"))
            if column in values
        },
        "provenance": {
            "source": values.get("source", default_source),
            "source_url": values.get("source_url"),
            "license": values.get("license", default_license),
            "retrieved_at": values.get("retrieved_at"),
            "verified_at": values.get("verified_at"),
            "verified_by": values.get("verified_by"),
        },
    }
    for key in ("id", "slug", "status", "access_type", "batch_size", "opening_hours", "founded", "operator"):
        if key in values:
            record[key] = values[key]
    if "floor_area_sqm" in values:
        record["floor_area_sqm"] = _number(values["floor_area_sqm"])
    for key in ("equipment", "links"):
        if key in values:
            record[key] = _json_list(key, values[key])
    return record


def _json_list(field: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise FieldError(field, f"expected a JSON list: {error.msg}") from None
