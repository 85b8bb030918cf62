"""Lenient readers for plain FHIR R4 JSON (dicts): nothing here raises on malformed input."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any, Iterable

from fhir_mappings import terminology as term

# Statuses that make a resource invalid as evidence (issue #3 point 3).
EXCLUDED_STATUS = frozenset({"entered-in-error", "cancelled", "canceled"})
EXCLUDED_VERIFICATION = frozenset({"entered-in-error", "refuted"})
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def codings(concept: Any) -> list[dict[str, Any]]:
    """The codings of a CodeableConcept (tolerates a bare Coding or a list of concepts)."""
    out: list[dict[str, Any]] = []
    for item in as_list(concept):
        if not isinstance(item, dict):
            continue
        if "coding" in item:
            out.extend(c for c in as_list(item.get("coding")) if isinstance(c, dict))
        elif "code" in item or "system" in item:
            out.append(item)
    return out


def text_of(concept: Any) -> str:
    """Human text of a CodeableConcept: its text, else the displays of its codings."""
    parts: list[str] = []
    for item in as_list(concept):
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            if isinstance(item.get("text"), str):
                parts.append(item["text"])
            else:
                parts.extend(c["display"] for c in codings(item) if isinstance(c.get("display"), str))
    return "; ".join(p.strip() for p in parts if p and p.strip())


def all_text(concept: Any) -> str:
    """Text plus every display (for text fallbacks)."""
    parts = [text_of(concept)]
    parts.extend(c["display"] for c in codings(concept) if isinstance(c.get("display"), str))
    return " | ".join(p for p in parts if p)


def code_of(concept: Any, group: str) -> term.Concept | None:
    return term.lookup_codings(codings(concept), group)


def has_code(concept: Any, system_key: str, code_prefix: str = "") -> list[str]:
    """Codes of one system (canonical) in a concept that start with a prefix."""
    uri = term.SYSTEM[system_key]
    return [
        c["code"]
        for c in codings(concept)
        if isinstance(c.get("code"), str) and term.canonical_system(c.get("system")) == uri
        and c["code"].startswith(code_prefix)
    ]


def parse_date(value: Any) -> date | None:
    """A date from a FHIR date/dateTime/instant string (partial dates take the first day)."""
    if not isinstance(value, str):
        return None
    return _parse_date(value)


@lru_cache(maxsize=4096)
def _parse_date(value: str) -> date | None:
    match = _DATE_RE.match(value.strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _period_start(period: Any) -> date | None:
    return parse_date(as_dict(period).get("start"))


def effective_date(resource: dict[str, Any]) -> date | None:
    """When a finding applies: effective[x], else issued (Observation)."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if key in resource:
            return parse_date(resource.get(key))
    if "effectivePeriod" in resource:
        return _period_start(resource.get("effectivePeriod"))
    return parse_date(resource.get("issued"))


def performed(resource: dict[str, Any]) -> tuple[date | None, date | None]:
    """(start, end) of a Procedure's performed[x]."""
    if "performedDateTime" in resource:
        d = parse_date(resource.get("performedDateTime"))
        return d, d
    period = as_dict(resource.get("performedPeriod"))
    return parse_date(period.get("start")), parse_date(period.get("end"))


def onset(resource: dict[str, Any]) -> date | None:
    if "onsetDateTime" in resource:
        return parse_date(resource.get("onsetDateTime"))
    return _period_start(resource.get("onsetPeriod"))


def reference(resource: dict[str, Any]) -> str | None:
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return None


def ref_target(ref: Any) -> str | None:
    """'Type/id' from a Reference (relative, absolute or urn-less)."""
    value = ref.get("reference") if isinstance(ref, dict) else None
    return _target(value) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _target(value: str) -> str | None:
    """Cached: a record repeats the same few references (its patient above all)."""
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] and parts[-1]:
        if parts[-2] == "_history" and len(parts) >= 4:
            return f"{parts[-4]}/{parts[-3]}"
        return f"{parts[-2]}/{parts[-1]}"
    return value or None


def status_code(concept_or_code: Any) -> str | None:
    if isinstance(concept_or_code, str):
        return concept_or_code
    for c in codings(concept_or_code):
        if isinstance(c.get("code"), str):
            return c["code"]
    return None


def is_excluded(resource: dict[str, Any]) -> bool:
    """Entered-in-error, cancelled and refuted resources are never evidence."""
    if status_code(resource.get("status")) in EXCLUDED_STATUS:
        return True
    return status_code(resource.get("verificationStatus")) in EXCLUDED_VERIFICATION


def profiles(resource: dict[str, Any]) -> list[str]:
    return [p for p in as_list(as_dict(resource.get("meta")).get("profile")) if isinstance(p, str)]


def extensions(element: dict[str, Any], url_suffixes: Iterable[str]) -> list[dict[str, Any]]:
    """Extensions whose URL ends with one of the suffixes (current and legacy mCODE URLs)."""
    suffixes = tuple(url_suffixes)
    return [
        e
        for e in as_list(element.get("extension"))
        if isinstance(e, dict) and isinstance(e.get("url"), str) and e["url"].endswith(suffixes)
    ]


def notes_text(resource: dict[str, Any]) -> str:
    return " | ".join(
        n["text"] for n in as_list(resource.get("note")) if isinstance(n, dict) and isinstance(n.get("text"), str)
    )


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)
