"""STUB until the mappings issue lands: no facts are read."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from pathway.facts import DraftOrder, PatientFacts


def extract(resources: Iterable[dict[str, Any]], *, today: date, patient_id: str | None = None) -> PatientFacts:
    """Map FHIR resources (plain JSON dicts) to facts. Never raises."""
    return PatientFacts(patient_ref=f"Patient/{patient_id}" if patient_id else None)


def read_draft_orders(draft_orders: dict[str, Any] | None) -> tuple[DraftOrder, ...]:
    """Read the draftOrders Bundle of an order hook leniently. Never raises."""
    return ()
