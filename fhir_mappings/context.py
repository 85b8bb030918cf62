"""The mapping context: resources indexed once by type and reference, the facts being built, notes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir_mappings import fhir
from pathway.facts import Conflict, Fact, PatientFacts, Provenance

TEXT_NOTE = "matched on text"


@dataclass
class Context:
    today: date
    facts: PatientFacts
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    by_ref: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    #: mCODE cancer-disease-status findings: (date, "improved"/"stable"/"worsened"/..., reference)
    disease_status: list[tuple[date | None, str, str]] = field(default_factory=list)
    #: best responses recorded against a medication resource: reference -> (date, response)
    responses: dict[str, tuple[date | None, str]] = field(default_factory=dict)
    primary_refs: set[str] = field(default_factory=set)
    secondary_refs: set[str] = field(default_factory=set)

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        return self.by_type.get(resource_type, [])

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def conflict(self, kind: str, fields: tuple[str, ...], description: str, sources: tuple[str, ...]) -> None:
        self.conflicts.append(Conflict(kind, fields, description, sources))


def make_fact(
    value: Any,
    resource: dict[str, Any] | None = None,
    *,
    when: date | None = None,
    unit: str | None = None,
    note: str | None = None,
    provenance: Provenance = Provenance.DOCUMENTED,
    sources: tuple[str, ...] | None = None,
) -> Fact[Any]:
    """A documented fact citing the resource it came from."""
    if sources is None:
        ref = fhir.reference(resource) if resource else None
        sources = (ref,) if ref else ()
    return Fact(value=value, unit=unit, sources=sources, date=when, provenance=provenance, note=note)


def put_latest(target: Any, attr: str, fact: Fact[Any]) -> None:
    """Set ``target.attr`` unless what is there is a known value with a later date (latest valid wins)."""
    if fact.value is None:
        return
    current = getattr(target, attr)
    if isinstance(current, Fact) and current.value is not None:
        if current.date is not None and (fact.date is None or fact.date < current.date):
            return
    setattr(target, attr, fact)


def joined_note(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None
