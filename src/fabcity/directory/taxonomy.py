"""Processes, materials and equipment types: stable ids, ko/en labels and the aliases that map onto them.

The vocabulary ships with the code (taxonomy.json) so that ids stay stable across deployments;
aliases cover OKH TSDC codes (`tsdc:LAS`), the fablabs.io capability flags (`fablabs:laser`) and
Korean and English synonyms, compared without case or spaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fabcity.text import normalize

KINDS = ("processes", "materials", "equipment_types")


def alias_key(value: str) -> str:
    return normalize(value).replace(" ", "").replace("_", "").replace("-", "")


@dataclass(frozen=True)
class Term:
    id: str
    kind: str
    label_ko: str
    label_en: str
    aliases: tuple[str, ...]
    parent: str | None = None
    group: str | None = None
    tsdc: str | None = None
    processes: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "id": self.id,
            "label": {"ko": self.label_ko, "en": self.label_en},
            "aliases": list(self.aliases),
        }
        if self.kind == "processes":
            value["parent"] = self.parent
            value["tsdc"] = self.tsdc
        elif self.kind == "materials":
            value["group"] = self.group
        else:
            value["processes"] = list(self.processes)
        return value


@dataclass
class Taxonomy:
    terms: dict[str, dict[str, Term]] = field(default_factory=dict)
    _aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Taxonomy:
        taxonomy = cls()
        for kind in KINDS:
            taxonomy.terms[kind] = {}
            taxonomy._aliases[kind] = {}
            for entry in data[kind]:
                term = Term(
                    id=entry["id"],
                    kind=kind,
                    label_ko=entry["label"]["ko"],
                    label_en=entry["label"]["en"],
                    aliases=tuple(entry.get("aliases", ())),
                    parent=entry.get("parent"),
                    group=entry.get("group"),
                    tsdc=entry.get("tsdc"),
                    processes=tuple(entry.get("processes", ())),
                )
                taxonomy.terms[kind][term.id] = term
                for name in (term.id, term.label_ko, term.label_en, *term.aliases):
                    taxonomy._aliases[kind].setdefault(alias_key(name), term.id)
        return taxonomy

    def resolve(self, kind: str, value: str) -> str | None:
        """The term id an id, label or alias stands for, or None if the vocabulary lacks it."""
        return self._aliases[kind].get(alias_key(value))

    def get(self, kind: str, term_id: str) -> Term:
        return self.terms[kind][term_id]

    def with_ancestors(self, process_ids: list[str]) -> list[str]:
        """A node that does FDM printing does 3D printing too: filters match on the broader term."""
        result: dict[str, None] = {}
        for process_id in process_ids:
            current: str | None = process_id
            while current:
                result.setdefault(current, None)
                current = self.terms["processes"][current].parent
        return list(result)


@cache
def taxonomy() -> Taxonomy:
    path = Path(__file__).with_name("taxonomy.json")
    return Taxonomy.from_json(json.loads(path.read_text(encoding="utf-8")))
