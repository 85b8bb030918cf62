"""The CDS services this product announces (data in ``services.json``).

Other modules call :func:`prefetch_templates` (``data_access``) and read :data:`SERVICES`.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

_DATA = json.loads((Path(__file__).with_name("services.json")).read_text(encoding="utf-8"))

PREFETCH: dict[str, str] = dict(_DATA["prefetch"])

#: service id -> discovery entry (id, hook, title, description, usageRequirements, prefetch)
SERVICES: dict[str, dict[str, Any]] = {
    entry["id"]: {**{k: v for k, v in entry.items() if not k.startswith("_")}, "prefetch": dict(PREFETCH)}
    for entry in _DATA["services"]
}


class UnknownService(KeyError):
    """No service with this id (-> 404)."""


def service(service_id: str) -> dict[str, Any]:
    """The discovery entry of ``service_id`` (raises UnknownService)."""
    try:
        return SERVICES[service_id]
    except KeyError:
        raise UnknownService(service_id) from None


def prefetch_templates(service_id: str) -> dict[str, str]:
    """Prefetch key -> FHIR query template for ``service_id`` (a copy; raises UnknownService)."""
    return dict(service(service_id)["prefetch"])


def discovery_document() -> dict[str, Any]:
    """The body of ``GET /cds-services`` (CDS Hooks 2.0 §Discovery)."""
    return {"services": [copy.deepcopy(entry) for entry in SERVICES.values()]}
