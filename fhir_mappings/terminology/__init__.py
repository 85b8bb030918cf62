"""Terminology as data: code tables, text fallbacks, site and unit tables, loaded once at import.

Only rows marked ✅ or ☑ (terminology.md §0) are ever matched; ⚠ rows stay in the
tables for the record. Codings are compared as (canonical system, code), with the
system aliases of ``systems.json`` (HGNC both URIs, SO with/without trailing slash,
ICD-10-CM both URIs, NCIt).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

_DIR = Path(__file__).parent
USABLE_MARKS = frozenset({"✅", "☑"})


def _load(name: str) -> dict[str, Any]:
    return json.loads((_DIR / name).read_text(encoding="utf-8"))


_SYSTEMS = _load("systems.json")
SYSTEM = dict(_SYSTEMS["canonical"])  # key -> canonical URI
_ALIASES: dict[str, str] = {uri: uri for uri in SYSTEM.values()} | _SYSTEMS["aliases"]


def canonical_system(uri: Any) -> str | None:
    """The canonical URI for a system URI (aliases resolved), or the URI itself."""
    if not isinstance(uri, str):
        return None
    uri = uri.strip()
    return _ALIASES.get(uri, uri)


@dataclass(frozen=True)
class Concept:
    system: str
    code: str
    display: str
    mark: str
    source: str
    key: str
    group: str

    @property
    def usable(self) -> bool:
        return self.mark in USABLE_MARKS


def _build_index() -> dict[str, dict[tuple[str, str], Concept]]:
    tables = _load("codes.json")["groups"]
    index: dict[str, dict[tuple[str, str], Concept]] = {}
    for group, table in tables.items():
        rows = index.setdefault(group, {})
        for system_key, code, display, mark, source, key in table["rows"]:
            concept = Concept(SYSTEM[system_key], code, display, mark, source, key, group)
            rows[(concept.system, code)] = concept
    return index


_INDEX = _build_index()


def concepts(group: str) -> tuple[Concept, ...]:
    """Every row of a group, usable or not (for documentation and tests)."""
    return tuple(_INDEX.get(group, {}).values())


def lookup(system: Any, code: Any, group: str) -> Concept | None:
    """The usable concept for (system, code) in a group; ⚠ rows and unknown codes give None."""
    if not isinstance(code, str):
        return None
    concept = _INDEX.get(group, {}).get((canonical_system(system) or "", code.strip()))
    return concept if concept is not None and concept.usable else None


def lookup_codings(codings: Iterable[dict[str, Any]], group: str) -> Concept | None:
    """The first usable concept among codings."""
    for coding in codings:
        if isinstance(coding, dict):
            concept = lookup(coding.get("system"), coding.get("code"), group)
            if concept is not None:
                return concept
    return None


# --- text fallbacks ---------------------------------------------------------
_TEXT = _load("text_patterns.json")


def _compile_list(rows: list[list[str]]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), key) for pattern, key in rows)


TEXT_LISTS = {
    name: _compile_list(value)
    for name, value in _TEXT.items()
    if isinstance(value, list)
}
TEXT_RE = {
    name: re.compile(value, re.IGNORECASE)
    for name, value in _TEXT.items()
    if isinstance(value, str) and name != "about"
}


@lru_cache(maxsize=8192)
def text_key(text: str | None, list_name: str) -> str | None:
    """The key of the first text pattern of a list that matches, or None (cached: EHR texts repeat)."""
    if not text:
        return None
    for pattern, key in TEXT_LISTS[list_name]:
        if pattern.search(text):
            return key
    return None


@lru_cache(maxsize=4096)
def text_keys(text: str | None, list_name: str) -> tuple[str, ...]:
    """Keys of every pattern of a list that matches (in list order, without repeats)."""
    if not text:
        return ()
    out: list[str] = []
    for pattern, key in TEXT_LISTS[list_name]:
        if pattern.search(text) and key not in out:
            out.append(key)
    return tuple(out)


# --- sites ---------------------------------------------------------------------
_SITES = _load("sites.json")
PRIMARY_SITE_PATTERNS = tuple(
    (re.compile(pattern, re.IGNORECASE), group, tuple(ajcc)) for pattern, group, ajcc in _SITES["primary"]
)
METASTATIC_SITE_PATTERNS = _compile_list(_SITES["metastatic"])
SECONDARY_ICD10_PREFIXES = tuple(_SITES["secondary_icd10cm_prefixes"]["prefixes"])
MALIGNANT_ICD10_PREFIX = _SITES["malignant_icd10cm_prefix"]["prefix"]

# --- units ---------------------------------------------------------------------
UNITS = _load("units.json")
