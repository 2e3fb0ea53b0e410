"""Storing validated nodes: place them in a gu and dong, derive the search columns, upsert by identity.

A node is the same node again when it carries the same fabcity id or any of the same external ids
(fablabs.io slug, OKW id, OSM id, …): re-importing a source updates, never duplicates. A person's
write replaces the node's record; an import merges into it by the precedence of its source
(directory.precedence). A node whose record would not change is not written at all, so its
`updated_at` keeps saying when it last changed.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text, tuple_, update

from fabcity import audit
from fabcity.directory import vocabulary
from fabcity.directory.models import EquipmentIn, NodeIn, validate_node
from fabcity.directory.precedence import NODE_DEFAULT, Kept, Precedence, after_edit, merge
from fabcity.directory.read import importable, public_nodes, render_records, summary_of, to_json
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import FieldError
from fabcity.geo.cells import area_tokens, cell_of, ground_cell
from fabcity.geo.districts import DistrictIndex
from fabcity.geo.stations import StationIndex
from fabcity.platform import Platform
from fabcity.storage import stamps, textindex
from fabcity.storage.schema import equipment, meta, node, node_external_id, node_record, node_term
from fabcity.text import gram_tokens, normalize

_SLUG_NOISE = re.compile(r"[^0-9a-z\uac00-\ud7a3]+")


def slugify(value: str) -> str:
    slug = _SLUG_NOISE.sub("-", unicodedata.normalize("NFKC", value).casefold()).strip("-")
    return slug[:100].strip("-") or "node"


@dataclass(frozen=True)
class Prepared:
    """A validated node with its place resolved: ready to store."""

    item: NodeIn
    place: dict[str, Any]


@dataclass
class Planned:
    """What saving one record does: create a node, change a stored one, or leave it as it is."""

    prepared: Prepared
    """What the node will hold: for an import, the record merged with the stored node."""
    old: dict[str, Any] | None
    """The stored row of the node the record is; None for a new node."""
    ranks: dict[str, str]
    """Who set each field, after the write (directory.precedence)."""
    changes: dict[str, list[Any]] = field(default_factory=dict)
    """{field: [before, after]} of a stored node; empty for a new or an unchanged one."""
    kept: dict[str, Kept] = field(default_factory=dict)
    """The fields an import offered that a stronger source holds."""
    node_id: str | None = None
    pk: int | None = None

    @property
    def action(self) -> str:
        return "create" if self.old is None else "update" if self.changes else "unchanged"


@dataclass
class WriteSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pks: list[int] = field(default_factory=list)
    """The node of every record given, in the order given."""
    plans: list[Planned] = field(default_factory=list)


def prepare(item: NodeIn, districts: DistrictIndex) -> Prepared:
    """Resolve the gu and dong of a node and the precision that honestly describes its location.

    Raises FieldError when the record names a district that does not exist.
    """
    location = item.location
    gu = dong = None
    if location.lat is not None and location.lon is not None:
        located = districts.locate(location.lat, location.lon)
        if located:
            gu, dong = located
        precision = location.precision or "exact"
    else:
        if location.gu_code:
            found = districts.resolve(location.gu_code, level="gu")
            if not found:
                raise FieldError("location.gu_code", f"unknown gu {location.gu_code!r}")
            gu = found[0]
        if location.dong_code:
            found = [
                d for d in districts.resolve(location.dong_code, level="dong") if gu is None or d.parent_code == gu.code
            ]
            if len(found) != 1:
                what = "unknown" if not found else "ambiguous (name the gu too)"
                raise FieldError("location.dong_code", f"{what} dong {location.dong_code!r}")
            dong = found[0]
            gu = districts.by_code[dong.parent_code]
        if gu is None:
            address = " ".join(filter(None, (location.address.ko, location.address.en)))
            gu = districts.gu_in_text(address) if address else None
        precision = "dong" if dong else "gu" if gu else "unknown"
        if location.precision in ("dong", "gu", "unknown"):
            precision = _coarser(precision, location.precision)
    return Prepared(
        item,
        {
            "lat": location.lat,
            "lon": location.lon,
            "precision": precision,
            "address_ko": location.address.ko,
            "address_en": location.address.en,
            "gu_code": gu.code if gu else None,
            "dong_code": dong.code if dong else None,
        },
    )


def _coarser(found: str, stated: str) -> str:
    order = list(vocabulary.PRECISIONS)
    return max(found, stated, key=order.index)


def _labels(kind: str, ids: Sequence[str]) -> list[str]:
    terms = taxonomy().terms[kind]
    return [label for term_id in ids for label in (terms[term_id].label_ko, terms[term_id].label_en)]


def _search_columns(item: NodeIn, placed: dict[str, Any], districts: DistrictIndex, stations: StationIndex) -> dict:
    processes = item.all_processes()
    materials = item.all_materials()
    equipment_words = []
    for machine in item.equipment:
        equipment_words += [machine.name.ko, machine.name.en, machine.make, machine.model]
    tags = _labels("processes", processes) + _labels("materials", materials)
    tags += _labels("equipment_types", [m.type for m in item.equipment]) + [w for w in equipment_words if w]
    place_words = [placed["address_ko"], placed["address_en"], item.operator]
    for code in (placed["gu_code"], placed["dong_code"]):
        if code:
            place_words += [districts.by_code[code].name_ko, districts.by_code[code].name_en]
    values = {
        "name_sort": normalize(item.name.best("ko")),
        "name_text": normalize(" ".join(filter(None, (item.name.ko, item.name.en)))),
        "tags_text": normalize(" ".join(tags)),
        "body_text": normalize(" ".join(filter(None, (item.description.ko, item.description.en, *place_words)))),
        "cell": None,
        "station_id": None,
        "station_distance_m": None,
    }
    if placed["lat"] is not None:
        values["cell"] = cell_of(placed["lat"], placed["lon"])
        nearest = stations.nearest(placed["lat"], placed["lon"])
        if nearest:
            values["station_id"] = nearest[0][0].id
            values["station_distance_m"] = round(nearest[0][1], 1)
    return values


def _index_entries(conn: Connection, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, list[str]]]:
    """What the text index holds for stored nodes: bigrams of their text, their terms, their area."""
    terms: dict[int, list[str]] = {}
    query = select(node_term.c.node_pk, node_term.c.kind, node_term.c.term)
    for node_pk, kind, term in conn.execute(query.where(node_term.c.node_pk.in_([pk for pk, _ in rows]))):
        terms.setdefault(node_pk, []).append(textindex.term_token(kind, term))
    entries = []
    for pk, row in rows:
        tokens = gram_tokens(" ".join((row["name_text"], row["tags_text"], row["body_text"]))) + terms.get(pk, [])
        entries.append((pk, tokens + area_tokens(row["cell"]) if row["cell"] is not None else tokens))
    return entries


def _equipment_rows(node_pk: int, items: list[EquipmentIn]) -> list[dict[str, Any]]:
    return [
        {
            "node_pk": node_pk,
            "position": position,
            "type": machine.type,
            "name_ko": machine.name.ko,
            "name_en": machine.name.en,
            "make": machine.make,
            "model": machine.model,
            "quantity": machine.quantity,
            "specs": machine.specs.model_dump(exclude_none=True),
            "processes": machine.processes,
            "materials": machine.materials,
            "notes": machine.notes,
        }
        for position, machine in enumerate(items)
    ]


def _term_rows(node_pk: int, item: NodeIn, cell: int | None) -> list[dict[str, Any]]:
    terms = [("p", t) for t in taxonomy().with_ancestors(item.all_processes())]
    terms += [("m", t) for t in item.all_materials()]
    terms += [("e", t) for t in dict.fromkeys(m.type for m in item.equipment)]
    return [{"kind": kind, "term": term, "node_pk": node_pk, "cell": cell} for kind, term in terms]


def _existing(conn: Connection, items: Sequence[NodeIn]) -> dict[int, dict[str, Any]]:
    """For each position in items, the stored row it is the same node as."""
    ids = [i.id for i in items if i.id]
    pairs = [(scheme, value) for i in items for scheme, value in i.external_ids.items()]
    rows_by_id: dict[str, dict] = {}
    pk_by_external: dict[tuple[str, str], int] = {}
    if ids:
        for row in conn.execute(select(node).where(node.c.id.in_(ids))).mappings():
            rows_by_id[row["id"]] = dict(row)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        query = select(node_external_id).where(tuple_(node_external_id.c.scheme, node_external_id.c.value).in_(chunk))
        for row in conn.execute(query):
            pk_by_external[(row.scheme, row.value)] = row.node_pk
    wanted_pks = set(pk_by_external.values())
    rows_by_pk = {row["pk"]: row for row in rows_by_id.values()}
    missing = wanted_pks - set(rows_by_pk)
    if missing:
        for row in conn.execute(select(node).where(node.c.pk.in_(missing))).mappings():
            rows_by_pk[row["pk"]] = dict(row)
    found: dict[int, dict[str, Any]] = {}
    for position, item in enumerate(items):
        row = rows_by_id.get(item.id) if item.id else None
        if row is None:
            for scheme, value in item.external_ids.items():
                pk = pk_by_external.get((scheme, value))
                if pk is not None:
                    row = rows_by_pk[pk]
                    break
        if row is not None:
            found[position] = row
    return found


# A PostgreSQL advisory lock key ("fabc"): imports take it for their transaction, one at a time.
_IMPORT_LOCK = 0x66616263
_LOCK_BATCH = 2000


def begin_import(conn: Connection) -> None:
    """The first statement of an import's transaction: imports run one at a time, and on SQLite the
    write lock is taken now, so that no other write lands between what the import reads and writes."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK)))


def lock_nodes(conn: Connection, items: Sequence[NodeIn]) -> None:
    """Lock the stored nodes these records are until the transaction ends (PostgreSQL; on SQLite
    begin_import holds the whole database). A person's edit then either lands before the import
    reads the node, and the import merges with it, or waits until the import has written."""
    if conn.dialect.name == "sqlite":
        return
    pks: set[int] = set()
    for start in range(0, len(items), _LOCK_BATCH):
        pks.update(row["pk"] for row in _existing(conn, items[start : start + _LOCK_BATCH]).values())
    ordered = sorted(pks)
    for start in range(0, len(ordered), _LOCK_BATCH):
        chunk = ordered[start : start + _LOCK_BATCH]
        conn.execute(select(node.c.pk).where(node.c.pk.in_(chunk)).order_by(node.c.pk).with_for_update()).all()


def match_key(prepared: Prepared) -> str:
    """How a record without an id or external id is recognised: its sort name (the Korean name, else
    the English one, normalised as for search) and its gu, or outside Seoul its point to 0.001°."""
    place = prepared.place
    return _match_key(normalize(prepared.item.name.best("ko") or ""), place["gu_code"], place["lat"], place["lon"])


def _match_key(name_sort: str, gu_code: str | None, lat: float | None, lon: float | None) -> str:
    where = gu_code or (f"{lat:.3f},{lon:.3f}" if lat is not None and lon is not None else "")
    return f"{name_sort}|{where}"


def nodes_by_key(conn: Connection, keys: set[str]) -> dict[str, list[str]]:
    """The ids of the stored nodes with each of these match keys (see match_key)."""
    names = sorted({key.rsplit("|", 1)[0] for key in keys})
    found: dict[str, list[str]] = {}
    columns = (node.c.id, node.c.name_sort, node.c.gu_code, node.c.lat, node.c.lon)
    for start in range(0, len(names), 500):
        query = select(*columns).where(node.c.name_sort.in_(names[start : start + 500])).order_by(node.c.pk)
        for row in conn.execute(query):
            key = _match_key(row.name_sort, row.gu_code, row.lat, row.lon)
            if key in keys:
                found.setdefault(key, []).append(row.id)
    return found


def _unique_slugs(conn: Connection, wanted: list[tuple[int | None, str]]) -> list[str]:
    """Slugs for (existing pk, base slug) pairs, suffixed -2, -3 … where another node holds the base."""
    bases = list({base for _, base in wanted})
    taken: dict[str, int] = {}
    for start in range(0, len(bases), 500):
        for row in conn.execute(select(node.c.slug, node.c.pk).where(node.c.slug.in_(bases[start : start + 500]))):
            taken[row.slug] = row.pk
    clashing = {base for pk, base in wanted if base in taken and taken[base] != pk}
    for base in clashing:  # rare: only then look for the suffixes already in use
        for row in conn.execute(select(node.c.slug, node.c.pk).where(node.c.slug.like(f"{base}-%"))):
            taken[row.slug] = row.pk
    slugs = []
    for pk, base in wanted:
        slug, counter = base, 1
        while slug in taken and taken[slug] != pk:
            counter += 1
            slug = f"{base}-{counter}"
        taken[slug] = pk if pk is not None else -1
        slugs.append(slug)
    return slugs


def stored_form(prepared: Prepared) -> dict[str, Any]:
    """The record as the node holds it: the item with its location as placed (what imports merge into)."""
    record = prepared.item.model_dump(mode="json")
    place = prepared.place
    record["location"] = {
        "lat": place["lat"],
        "lon": place["lon"],
        "precision": place["precision"],
        "address": {"ko": place["address_ko"], "en": place["address_en"]},
        "gu_code": place["gu_code"],
        "dong_code": place["dong_code"],
    }
    return record


def _as_placed(record: dict[str, Any]) -> Prepared:
    """A stored-form record with its place taken as it stands."""
    location = record["location"]
    place = {key: location[key] for key in ("lat", "lon", "precision", "gu_code", "dong_code")}
    place |= {"address_ko": location["address"]["ko"], "address_en": location["address"]["en"]}
    return Prepared(validate_node(record), place)


def _merged_form(record: dict[str, Any], districts: DistrictIndex) -> Prepared:
    """A merged record prepared for storing: placed again only when its location places nothing, so
    that an address the merge brought can place it (its precision was only the derived "unknown")."""
    location = record["location"]
    if location["lat"] is None and not location["gu_code"] and not location["dong_code"]:
        location["precision"] = None
        return prepare(validate_node(record), districts)
    return _as_placed(record)


def _stored(conn: Connection, pks: list[int]) -> dict[int, Prepared]:
    """The stored nodes as prepared records, read back from their rendered public records."""
    records = public_nodes(conn, pks)
    return {pk: _as_placed(importable(public)) for pk, public in zip(pks, records, strict=True)}


def plan_nodes(
    conn: Connection, prepared: Sequence[Prepared], districts: DistrictIndex, precedence: Precedence
) -> list[Planned]:
    """What saving these records would do, read from the stored nodes without writing (an import's dry run)."""
    existing = _existing(conn, [p.item for p in prepared])
    pks = list(dict.fromkeys(row["pk"] for row in existing.values()))
    stored = _stored(conn, pks)
    plans = []
    for position, incoming in enumerate(prepared):
        old = existing.get(position)
        if old is None:
            plans.append(Planned(incoming, None, {NODE_DEFAULT: precedence.value}, node_id=incoming.item.id))
            continue
        before = stored_form(stored[old["pk"]])
        ranks = dict(old["field_ranks"] or {})
        kept: dict[str, Kept] = {}
        if precedence is Precedence.PERSON:
            after, ranks = incoming, after_edit(ranks, before, stored_form(incoming))
        else:
            merged = merge(before, ranks, incoming.item, stored_form(incoming), precedence)
            after = stored[old["pk"]] if merged.record == before else _merged_form(merged.record, districts)
            ranks, kept = merged.ranks, merged.kept
        changes = audit.changes_between(before, stored_form(after))
        plans.append(Planned(after, old, ranks, changes, kept, node_id=old["id"], pk=old["pk"]))
    return plans


def save_nodes(
    conn: Connection,
    prepared: Sequence[Prepared],
    districts: DistrictIndex,
    stations: StationIndex,
    now: datetime | None = None,
    precedence: Precedence = Precedence.PERSON,
) -> WriteSummary:
    """Create or change every node in the caller's transaction; leave the unchanged ones untouched.

    `precedence` says who writes: a person (the default, directory.editing) replaces the record and
    owns every field they change; an import (bulk or curated) merges into the stored node.
    """
    now = now or datetime.now(UTC)
    plans = plan_nodes(conn, prepared, districts, precedence)
    written = [plan for plan in plans if plan.action != "unchanged"]
    wanted_slugs = [
        (
            plan.old["pk"] if plan.old else None,
            plan.prepared.item.slug or slugify(plan.prepared.item.name.best("en") or ""),
        )
        for plan in written
    ]
    rows = [
        _node_row(plan, slug, now, districts, stations)
        for plan, slug in zip(written, _unique_slugs(conn, wanted_slugs), strict=True)
    ]
    new = [(plan, row) for plan, row in zip(written, rows, strict=True) if plan.old is None]
    changed = [(plan, row) for plan, row in zip(written, rows, strict=True) if plan.old is not None]
    if new:
        _insert_nodes(conn, new, now, districts, stations)
    if changed:
        _update_nodes(conn, changed, districts, stations)
    for plan in plans:
        if plan.action == "unchanged" and plan.ranks != (plan.old["field_ranks"] or {}):
            conn.execute(update(node).where(node.c.pk == plan.pk).values(field_ranks=plan.ranks))
    if written:
        _count_ground(conn, [row["cell"] for row in rows], [plan.old["cell"] for plan, _ in changed])
        stamps.touch(conn, stamps.NODES)
    return WriteSummary(len(new), len(changed), len(plans) - len(written), [plan.pk for plan in plans], plans)


def _insert_nodes(
    conn: Connection,
    new: list[tuple[Planned, dict[str, Any]]],
    now: datetime,
    districts: DistrictIndex,
    stations: StationIndex,
) -> None:
    for plan, row in new:
        row["id"] = plan.node_id = plan.prepared.item.id or str(uuid.uuid4())
        row["created_at"] = now
    statement = insert(node).returning(node.c.pk, sort_by_parameter_order=True)
    pks = [r.pk for r in conn.execute(statement, [row for _, row in new])]
    for pk, (plan, _) in zip(pks, new, strict=True):
        plan.pk = pk
    _write_children(conn, [(plan.pk, plan.prepared.item, row) for plan, row in new], fresh=True)
    _store_records(conn, pks, districts, stations, fresh=True)


def _update_nodes(
    conn: Connection, changed: list[tuple[Planned, dict[str, Any]]], districts: DistrictIndex, stations: StationIndex
) -> None:
    for plan, row in changed:
        conn.execute(update(node).where(node.c.pk == plan.pk).values(**row))
    textindex.remove(conn, _index_entries(conn, [(plan.pk, plan.old) for plan, _ in changed]))
    _write_children(conn, [(plan.pk, plan.prepared.item, row) for plan, row in changed], fresh=False)
    _store_records(conn, [plan.pk for plan, _ in changed], districts, stations, fresh=False)


def _node_row(
    plan: Planned, slug: str, now: datetime, districts: DistrictIndex, stations: StationIndex
) -> dict[str, Any]:
    """The node table's row for a planned write (without id and created_at, which only a new node gets)."""
    item, placed = plan.prepared.item, plan.prepared.place
    return {
        "slug": slug,
        "name_ko": item.name.ko,
        "name_en": item.name.en,
        "description_ko": item.description.ko,
        "description_en": item.description.en,
        "node_type": item.node_type,
        "status": item.status,
        "access_type": item.access_type,
        "batch_size": item.batch_size,
        "run_sizes": item.run_sizes,
        "opening_hours": item.opening_hours,
        "floor_area_sqm": item.floor_area_sqm,
        "founded": item.founded.isoformat() if item.founded else None,
        "operator": item.operator,
        "contact": item.contact,
        "links": item.links,
        "processes": item.processes,
        "materials": item.materials,
        "source": item.provenance.source,
        "source_url": item.provenance.source_url,
        "license": item.provenance.license,
        "retrieved_at": item.provenance.retrieved_at,
        "verified_at": item.provenance.verified_at,
        "verified_by": item.provenance.verified_by,
        "field_ranks": plan.ranks,
        "updated_at": now,
        **placed,
        **_search_columns(item, placed, districts, stations),
    }


def _count_ground(conn: Connection, placed: Sequence[int | None], left: Sequence[int | None]) -> None:
    """Keep schema.area_cell: the 0.04° cells with located nodes, and how many each holds.

    Distance searches skip the cells it does not list and size their first ring by the counts.
    `placed`: the cells of the nodes written; `left`: the cells the updated nodes were in before.
    """
    change = Counter(ground_cell(cell) for cell in placed if cell is not None)
    change.subtract(ground_cell(cell) for cell in left if cell is not None)
    rows = [{"cell": cell, "change": count} for cell, count in sorted(change.items()) if count]
    if rows:
        statement = text(
            "INSERT INTO area_cell (cell, nodes) VALUES (:cell, :change)"
            " ON CONFLICT (cell) DO UPDATE SET nodes = area_cell.nodes + excluded.nodes"
        )
        conn.execute(statement, rows)


def _write_children(conn: Connection, entries: list[tuple[int, NodeIn, dict]], fresh: bool) -> None:
    pks = [pk for pk, _, _ in entries]
    if not fresh:
        for table in (equipment, node_term, node_external_id):
            conn.execute(delete(table).where(table.c.node_pk.in_(pks)))
    equipment_rows = [r for pk, item, _ in entries for r in _equipment_rows(pk, item.equipment)]
    term_rows = [r for pk, item, row in entries for r in _term_rows(pk, item, row["cell"])]
    external_rows = [
        {"scheme": scheme, "value": value, "node_pk": pk}
        for pk, item, _ in entries
        for scheme, value in item.external_ids.items()
    ]
    for table, rows in ((equipment, equipment_rows), (node_term, term_rows), (node_external_id, external_rows)):
        if rows:
            conn.execute(insert(table), rows)
    textindex.add(conn, _index_entries(conn, [(pk, row) for pk, _, row in entries]))


def _store_records(
    conn: Connection, pks: list[int], districts: DistrictIndex, stations: StationIndex, fresh: bool
) -> None:
    """Render the public record of each written node once, so reads send ready JSON."""
    if not fresh:
        conn.execute(delete(node_record).where(node_record.c.node_pk.in_(pks)))
    records = render_records(conn, pks, districts, stations)
    rows = [{"node_pk": pk, "record": to_json(r), "summary": to_json(summary_of(r))} for pk, r in records.items()]
    if rows:
        conn.execute(insert(node_record), rows)


# Bump when the rendered record or the text index tokens change: stored nodes are then re-derived.
DERIVED_VERSION = "4"  # 4: instants read back from SQLite keep their Z
_REFRESH_BATCH = 2000


def refresh_derived(platform: Platform) -> int:
    """Re-render every record and rebuild the text index if they were written in an older format.

    Runs at start-up (fabcity.startup.open_platform), in one transaction; returns how many nodes were refreshed.
    """
    with platform.engine.begin() as conn:
        stored = conn.execute(select(meta.c.value).where(meta.c.key == "derived")).scalar()
        if stored == DERIVED_VERSION:
            return 0
        pks = list(conn.execute(select(node.c.pk).order_by(node.c.pk)).scalars())
        if pks:
            textindex.drop(conn)
            textindex.create(conn)
            conn.execute(delete(node_record))
        for start in range(0, len(pks), _REFRESH_BATCH):
            batch = pks[start : start + _REFRESH_BATCH]
            rows = conn.execute(select(node).where(node.c.pk.in_(batch))).mappings()
            textindex.add(conn, _index_entries(conn, [(row["pk"], row) for row in rows]))
            _store_records(conn, batch, platform.districts, platform.stations, fresh=True)
        stamps.put(conn, "derived", DERIVED_VERSION)
    return len(pks)
