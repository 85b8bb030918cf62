"""STUB until the cards issue lands: no cards are rendered."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pathway.decision import Decision


@dataclass(frozen=True)
class RenderContext:
    hook: str  # patient-view / order-select / order-sign
    patient_ref: str  # "Patient/123"
    base_url: str  # public base URL of this service, for absolute links to rule documentation
    smart_app_url: str | None = None  # a site's SMART app link, if configured


def render(decision: Decision, context: RenderContext) -> list[dict[str, Any]]:
    """Cards in CDS Hooks 2.0 JSON (plain dicts), ordered critical -> warning -> info."""
    return []
