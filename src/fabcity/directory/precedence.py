"""Which source a node's field listens to when several describe the node: the import precedence.

Strongest first (docs/decisions/0004-import-precedence.md):

1. `person`: a host's or curator's edit through the API or the pages (directory.editing);
2. `curated`: the embedded Seoul dataset, and files imported with `--precedence curated`;
3. `bulk`: every other import (fablabs.io, the IoPA/OKW lists, CSV and GeoJSON files).

An import merges field by field. It takes a field the file carries (a value, not a blank) when its
precedence is at least that of the source that set the stored value, and keeps the stored value
otherwise, reporting it as kept. A field the file does not carry is never erased; only a person
erases. A blank stored field is open to any source, unless a person blanked it.

Each node remembers, per field, the precedence of the source that last set it (`node.field_ranks`):
`{"*": <the source that created the node>, "<field>": <the source that set it since>}`.

The fields are the leaves of a record, except that some leaves only make sense together and move as
one: the location's point, precision and district (`location`), the provenance's source, link,
licence and retrieval date (`provenance`), and the verification's date and curator
(`provenance.verified`). Lists (processes, equipment, links …) are one field each.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fabcity.directory.models import NodeIn

Units = dict[str, dict[str, Any]]
"""{field: {leaf path: value}} of one record."""

NODE_DEFAULT = "*"
_IDENTITY = ("id",)


class Precedence(StrEnum):
    """Sources by strength, weakest first; stored by name in node.field_ranks."""

    BULK = "bulk"
    CURATED = "curated"
    PERSON = "person"

    def at_least(self, other: Precedence) -> bool:
        members = list(Precedence)
        return members.index(self) >= members.index(other)


@dataclass(frozen=True)
class Kept:
    """A field the stored node keeps because a stronger source set it."""

    stored: Any
    offered: Any
    held_by: Precedence


@dataclass(frozen=True)
class Merge:
    record: dict[str, Any]
    ranks: dict[str, str]
    kept: dict[str, Kept]


def field_of(path: str) -> str:
    """The field a leaf of a record belongs to (see the module docstring)."""
    top, _, rest = path.partition(".")
    if top == "location" and not rest.startswith("address."):
        return "location"
    if top == "provenance":
        return "provenance.verified" if rest in ("verified_at", "verified_by") else "provenance"
    return path


def fields(record: dict[str, Any]) -> Units:
    """The record's fields, each with its leaves (lists are leaves)."""
    found: Units = {}
    for path, value in leaves(record).items():
        if path not in _IDENTITY:
            found.setdefault(field_of(path), {})[path] = value
    return found


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: value} for every leaf of a record (lists are leaves)."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(leaves(item, f"{prefix}{key}."))
        return found
    return {prefix.rstrip("."): value}


def _blank(leaves: dict[str, Any]) -> bool:
    return all(value in (None, "", [], {}) for value in leaves.values())


def _same(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return all(first.get(path) == second.get(path) for path in {*first, *second})


def _put(record: dict[str, Any], leaves: dict[str, Any]) -> None:
    for path, value in leaves.items():
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value


def _shown(leaves: dict[str, Any]) -> Any:
    """One leaf as its value, a group as its leaves."""
    return next(iter(leaves.values())) if len(leaves) == 1 else leaves


def holder(ranks: dict[str, str], name: str, stored: dict[str, Any]) -> Precedence | None:
    """Who set a stored field: None when it is blank and no person blanked it (any source may fill it)."""
    if name in ranks:
        return Precedence(ranks[name])
    if _blank(stored):
        return None
    return Precedence(ranks.get(NODE_DEFAULT, Precedence.BULK))


def offered(item: NodeIn, record: dict[str, Any]) -> Units:
    """The fields an imported record carries: given (not a model default) and not blank.

    `record` is the item as it would be stored (its location placed); whether it carries a point or
    a district is read from the item itself, since placing derives a precision for every record.
    """
    given = item.model_fields_set
    location = item.location
    carried: Units = {}
    for name, leaves in fields(record).items():
        if name == "location":
            if location.lat is None and not location.gu_code and not location.dong_code:
                continue
        elif name.split(".")[0] not in given or _blank(leaves):
            continue
        carried[name] = leaves
    return carried


def merge(stored: dict[str, Any], ranks: dict[str, str], item: NodeIn, record: dict[str, Any], by: Precedence) -> Merge:
    """The stored record with what an import of precedence `by` may change in it, field by field.

    A location without a point never replaces one with a point: a coarser statement of where a
    node is does not erase a finer one.
    """
    merged = copy.deepcopy(stored)
    new_ranks = dict(ranks)
    kept: dict[str, Kept] = {}
    stored_fields = fields(stored)
    stored_point = stored.get("location", {}).get("lat") is not None
    for name, leaves in offered(item, record).items():
        current = stored_fields.get(name, {})
        if name == "location" and stored_point and item.location.lat is None:
            continue
        held_by = holder(ranks, name, current)
        if _same(current, leaves):
            if held_by is not None and not held_by.at_least(by):
                new_ranks[name] = by.value  # the stronger source now vouches for the same value
            continue
        if held_by is None or by.at_least(held_by):
            _put(merged, leaves)
            new_ranks[name] = by.value
        else:
            kept[name] = Kept(_shown(current), _shown(leaves), held_by)
    return Merge(merged, new_ranks, kept)


def after_edit(ranks: dict[str, str], before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """A person's write replaces the record: every field it changed (blanked ones too) is now theirs."""
    old, new = fields(before), fields(after)
    changed = {name for name in {*old, *new} if not _same(old.get(name, {}), new.get(name, {}))}
    return {**ranks, **dict.fromkeys(sorted(changed), Precedence.PERSON.value)}
