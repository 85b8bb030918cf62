"""Display tables of ``cards/`` (data files in ``cards/data/``), loaded once at import.

- ``OVERRIDE_REASONS``: the product's override-reason codes (served by the service as the
  CodeSystem ``{base}/fhir/CodeSystem/pecoma-override-reason``; grouped by the feedback report).
- ``SOURCES``: display names for the pathway's evidence source keys (pathway-spec.md §0).
- ``SETTING_NAMES``, ``CLASS_NAMES``, ``FLAG_NAMES``: words for the Assessment's codes.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

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


_SOURCE_KEY = re.compile(r"(?<![A-Za-z0-9-])(P-[A-Z0-9]+|S00[0-4]|ESMO|DESIGN)(?![A-Za-z0-9-])")
_PRIORITY = {key: rank for rank, key in enumerate(SOURCES)}


def source_entry(text: str) -> Mapping[str, str] | None:
    """The display entry when ``text`` is exactly one source key ("P-AMPECT"), else None."""
    return SOURCES.get(str(text).strip())


def source_keys(text: str) -> list[str]:
    """Known source keys named in an evidence source text ("S000 quoting ESMO; S004 Table 9")."""
    found = [k for k in _SOURCE_KEY.findall(str(text)) if k in SOURCES]
    return list(dict.fromkeys(found))


def basis_names(texts: Iterable[str], limit: int = 3) -> list[str]:
    """Short names of the sources behind ``texts``, guidelines and labels first (sources.json order)."""
    keys = {k for t in texts for k in source_keys(t) if k != "DESIGN"}
    names = [SOURCES[k]["short"] for k in sorted(keys, key=_PRIORITY.__getitem__)]
    return names[:limit] + (["…"] if len(names) > limit else [])


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
