"""extract(): FHIR R4 resources (plain JSON dicts) -> PatientFacts. Never raises, never calls the network.

Resources are unwrapped from Bundles and indexed by type and reference once; each resource type has
its own extractor module (patient, condition, observation, procedure, medication). Junk is skipped
with a data-quality note. Notes name resource types and counts only, never patient data.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from fhir_mappings import fhir
from fhir_mappings.allergy import extract_allergies
from fhir_mappings.condition import extract_conditions
from fhir_mappings.conflicts import detect_conflicts, infer_sex
from fhir_mappings.context import Context
from fhir_mappings.draft_orders import read_draft_orders
from fhir_mappings.medication import extract_medications
from fhir_mappings.mentions import extract_mentions
from fhir_mappings.observation import extract_observations
from fhir_mappings.patient import choose_patient, extract_patient
from fhir_mappings.procedure import extract_procedures, extract_specimens
from pathway.facts import PatientFacts

MAX_RESOURCES = 20_000  # a prefetch larger than this is truncated (data-quality note), never processed unbounded
MAX_BUNDLE_DEPTH = 3
_STAGES = (
    ("conditions", extract_conditions),
    ("specimens", extract_specimens),
    ("observations", extract_observations),
    ("procedures", extract_procedures),
    ("medications", extract_medications),
    ("allergies", extract_allergies),
    ("free-text mentions", extract_mentions),  # after the conditions: an emergency already on the problem list is not repeated
)

__all__ = ["extract", "read_draft_orders"]


def extract(resources: Iterable[dict[str, Any]], *, today: date, patient_id: str | None = None) -> PatientFacts:
    """Map FHIR resources (Bundles among them are unwrapped) to facts. Never raises."""
    facts = PatientFacts(patient_ref=f"Patient/{patient_id}" if patient_id else None)
    ctx = Context(today=today, facts=facts)
    try:
        _index(ctx, resources, patient_id)
        patient = choose_patient(ctx, patient_id)
        if patient is not None:
            facts.patient_ref = fhir.reference(patient) or facts.patient_ref
            _guarded(ctx, "Patient", lambda: extract_patient(ctx, patient))
        for name, stage in _STAGES:
            _guarded(ctx, name, lambda stage=stage: stage(ctx))
        _guarded(ctx, "derived facts", lambda: (infer_sex(ctx), detect_conflicts(ctx)))
    except Exception:  # noqa: BLE001 - last resort: extract never raises
        ctx.note("extraction stopped early on malformed input: facts may be incomplete")
    facts.conflicts = tuple(ctx.conflicts)
    facts.data_quality = tuple(ctx.notes)
    return facts


def _guarded(ctx: Context, name: str, action) -> None:
    try:
        action()
    except Exception:  # noqa: BLE001 - one bad part must not lose the others
        ctx.note(f"{name}: could not be read completely (malformed data)")


def _index(ctx: Context, resources: Any, patient_id: str | None) -> None:
    skipped = 0
    count = 0
    wrong_patient = 0
    duplicates = 0
    for resource in _flatten(ctx, resources, 0):
        if count >= MAX_RESOURCES:
            ctx.note(f"more than {MAX_RESOURCES} resources: the rest were not read")
            break
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            skipped += 1
            continue
        if patient_id and not _belongs_to(resource, patient_id):
            wrong_patient += 1
            continue
        ref = fhir.reference(resource)
        if ref:
            if ref in ctx.by_ref:  # e.g. one Observation answering two prefetch templates
                if ctx.by_ref[ref] != resource:
                    duplicates += 1
                continue
            ctx.by_ref[ref] = resource
        count += 1
        ctx.by_type.setdefault(resource["resourceType"], []).append(resource)
    if skipped:
        ctx.note(f"{skipped} item(s) that are not FHIR resources were skipped")
    if duplicates:
        ctx.note(f"{duplicates} resource(s) sent twice with different content (same type and id): the first copy was read")
    if wrong_patient:
        ctx.note(f"{wrong_patient} resource(s) about another patient were skipped")


def _flatten(ctx: Context, items: Any, depth: int) -> Iterable[Any]:
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, (list, tuple)) and not hasattr(items, "__iter__"):
        ctx.note("input is not a list of resources")
        return
    if isinstance(items, (str, bytes)):
        ctx.note("input is not a list of resources")
        return
    for item in items:
        if isinstance(item, dict) and item.get("resourceType") == "Bundle":
            if depth >= MAX_BUNDLE_DEPTH:
                ctx.note("Bundle nested too deeply: skipped")
                continue
            entries = item.get("entry")
            if entries is not None and not isinstance(entries, list):
                ctx.note("Bundle.entry is not a list: skipped")
                continue
            inner = [e.get("resource") if isinstance(e, dict) else e for e in entries or []]
            yield from _flatten(ctx, inner, depth + 1)
        else:
            yield item


def _belongs_to(resource: dict[str, Any], patient_id: str) -> bool:
    """False only when the resource names a *different* patient."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") in (patient_id, None)
    for key in ("subject", "patient"):
        target = fhir.ref_target(resource.get(key))
        if target and target.startswith("Patient/"):
            return target == f"Patient/{patient_id}"
    return True
