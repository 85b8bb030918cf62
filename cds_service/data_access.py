"""Prefetch resolution and FHIR fallback. INTERFACE STUB until the data-access issue (#6) lands.

The hook endpoint calls :func:`gather` after validating the request. Today only the
prefetch is used: a key that is missing (or an OperationOutcome) cannot be fetched
yet, so the request fails with 412 naming the keys (CDS Hooks 2.0 §Prefetch).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class Gathered:
    resources: list[dict[str, Any]]  # every FHIR resource obtained (Bundles unwrapped)
    notes: list[str] = field(default_factory=list)  # data-quality notes (partial pages, ignored keys ...)


class PreconditionFailed(Exception):
    """Required data could not be obtained -> 412 with an OperationOutcome naming ``keys``."""

    def __init__(self, keys: list[str], detail: str):
        super().__init__(detail)
        self.keys = keys
        self.detail = detail


def gather(request_body: Mapping[str, Any], prefetch_templates: Mapping[str, str], config: Mapping[str, Any]) -> Gathered:
    """Resolve every prefetch template of the service for this request."""
    prefetch = request_body.get("prefetch") or {}
    resources: list[dict[str, Any]] = []
    missing = []
    for key in prefetch_templates:
        if key not in prefetch:
            missing.append(key)
            continue
        value = prefetch[key]
        if value is None:  # known empty: never re-queried
            continue
        if not isinstance(value, dict) or value.get("resourceType") == "OperationOutcome":
            missing.append(key)
            continue
        if value.get("resourceType") == "Bundle":
            resources.extend(e["resource"] for e in value.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict))
        else:
            resources.append(value)
    if missing:
        raise PreconditionFailed(missing, "prefetch keys missing and no FHIR server access: " + ", ".join(missing))
    return Gathered(resources=resources)
