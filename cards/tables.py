"""Display tables of ``cards/`` (data files in ``cards/data/``), loaded once at import.

- ``OVERRIDE_REASONS``: the product's override-reason codes (served by the service as the
  CodeSystem ``{base}/fhir/CodeSystem/pecoma-override-reason``; grouped by the feedback report).
- ``SOURCES``: display names for the pathway's evidence source keys (pathway-spec.md §0).
- ``SETTING_NAMES``, ``CLASS_NAMES``, ``FLAG_NAMES``: words for the Assessment's codes.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

_DATA = Path(__file__).with_name("data")

#: Relative paths (under the service's public base URL) of the product's code systems and rule pages.
RULE_CODE_SYSTEM_PATH = "/fhir/CodeSystem/pecoma-rule"
OVERRIDE_REASON_CODE_SYSTEM_PATH = "/fhir/CodeSystem/pecoma-override-reason"
RULE_PAGE_PATH = "/rules/{rule_id}"


def _load(name: str) -> dict[str, Any]:
    with (_DATA / name).open(encoding="utf-8") as handle:
        return json.load(handle)


_reasons = _load("override_reasons.json")["reasons"]
#: Each reason: {"code", "display", "definition"} (read-only mappings, in display order).
OVERRIDE_REASONS: tuple[Mapping[str, str], ...] = tuple(MappingProxyType(dict(r)) for r in _reasons)

SOURCES: Mapping[str, Mapping[str, str]] = MappingProxyType(_load("sources.json")["sources"])

_display = _load("display.json")
SETTING_NAMES: Mapping[str, str] = MappingProxyType(_display["settings"])
CLASS_NAMES: Mapping[str, str] = MappingProxyType(_display["classes"])
FLAG_NAMES: Mapping[str, str] = MappingProxyType(_display["flags"])


def source_entry(key: str) -> Mapping[str, str] | None:
    """The display entry of an evidence source key ("P-AMPECT"), tolerating a suffix ("S000 ref 1")."""
    if key in SOURCES:
        return SOURCES[key]
    head = key.split()[0].rstrip(",;:") if key.split() else ""
    return SOURCES.get(head)


def override_reason_code_system(base_url: str) -> dict[str, Any]:
    """The override reasons as a FHIR R4 CodeSystem resource (for the service to serve as-is)."""
    base = base_url.rstrip("/")
    return {
        "resourceType": "CodeSystem",
        "id": "pecoma-override-reason",
        "url": f"{base}{OVERRIDE_REASON_CODE_SYSTEM_PATH}",
        "name": "PecomaOverrideReason",
        "title": "PEComa CDS: reasons for overriding a card",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "count": len(OVERRIDE_REASONS),
        "concept": [
            {"code": r["code"], "display": r["display"], "definition": r["definition"]} for r in OVERRIDE_REASONS
        ],
    }
