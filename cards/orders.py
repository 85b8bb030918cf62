"""ProposedOrder -> draft FHIR R4 resource (MedicationRequest / ServiceRequest) for a ``create`` action.

Only what the pathway gives is emitted: its codings, its dose text, its category text. No ids,
no codes, no doses are added here. Every resource is validated with the ``fhir.resources.R4B``
models before it leaves; one that does not validate is not offered (the card says so).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from pathway.decision import Coding, Evidence, ProposedOrder

_FHIR_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")
_URI = re.compile(r"^\S+$")
_RELATIVE_REFERENCE = re.compile(r"^[A-Za-z]+/[A-Za-z0-9\-.]{1,256}$")  # ids as the request schema accepts them

SUPPORTED = ("MedicationRequest", "ServiceRequest")


def _coding(c: Coding) -> dict[str, str] | None:
    if not isinstance(c, Coding):
        return None
    code, system = str(c.code or "").strip(), str(c.system or "").strip()
    if not code or not system or not _FHIR_CODE.match(code) or not _URI.match(system):
        return None
    out = {"system": system, "code": code}
    display = " ".join(str(c.display or "").split())
    if display:
        out["display"] = display
    return out


def codeable_concept(order: ProposedOrder) -> dict[str, Any] | None:
    codings = [c for c in (_coding(c) for c in (order.codings or ())) if c]
    concept: dict[str, Any] = {}
    if codings:
        concept["coding"] = codings
    label = " ".join(str(order.text or "").split())
    if label:
        concept["text"] = label
    return concept or None


def is_reference(value: str | None) -> bool:
    """A relative literal reference ("Condition/abc") usable in Reference.reference / resourceId."""
    return bool(value) and bool(_RELATIVE_REFERENCE.match(str(value)))


def order_note(rule_id: str, evidence: tuple[Evidence, ...], extra: str | None) -> str:
    cited = "; ".join(
        f"{e.source} ({e.level})" if e.level else str(e.source) for e in evidence if getattr(e, "source", None)
    )
    note = f"Proposed by the PEComa pathway, rule {rule_id}"
    if cited:
        note += f"; evidence: {cited}"
    note += ". Draft for clinician review, not clinically validated."
    if extra and str(extra).strip():
        note += " " + " ".join(str(extra).split())
    return note


def draft_resource(
    order: ProposedOrder,
    *,
    patient_ref: str,
    condition_ref: str | None,
    rule_id: str,
    evidence: tuple[Evidence, ...],
) -> dict[str, Any] | None:
    """The draft resource for ``order``, or None when it cannot be built or does not validate."""
    if order.resource_type not in SUPPORTED or not is_reference(patient_ref):
        return None
    concept = codeable_concept(order)
    if concept is None:
        return None
    resource: dict[str, Any] = {
        "resourceType": order.resource_type,
        "status": "draft",
        "intent": "proposal",
    }
    if order.resource_type == "MedicationRequest":
        resource["medicationCodeableConcept"] = concept
    else:
        category = " ".join(str(order.category or "").split())
        if category:
            # Text only: the pathway names the category in words and gives no code for it.
            resource["category"] = [{"text": category}]
        resource["code"] = concept
    resource["subject"] = {"reference": patient_ref}
    if is_reference(condition_ref):
        resource["reasonReference"] = [{"reference": condition_ref}]
    dosage = " ".join(str(order.dosage_text or "").split())
    if order.resource_type == "MedicationRequest" and dosage:
        resource["dosageInstruction"] = [{"text": dosage}]
    resource["note"] = [{"text": order_note(rule_id, evidence, order.note)}]
    return resource if validation_errors(resource) == [] else None


def validation_errors(resource: dict[str, Any]) -> list[str]:
    """Errors from the fhir.resources R4B model of the resource type ([] = valid).

    Cached by the resource's exact JSON: the same drafts recur on every call for a patient
    (model validation was ~20 % of ``render``; docs/performance.md)."""
    try:
        content = orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # not JSON data: validate uncached
        return _validate(resource)
    return list(_validation_errors_of(content))


@lru_cache(maxsize=1024)
def _validation_errors_of(content: bytes) -> tuple[str, ...]:
    return tuple(_validate(orjson.loads(content)))


def _validate(resource: Any) -> list[str]:
    try:
        model = _model(resource.get("resourceType"))
        model.model_validate(resource)
    except Exception as exc:  # pydantic ValidationError or an unknown type: never escapes
        return [str(exc).splitlines()[0] if str(exc) else type(exc).__name__]
    return []


_MODELS: dict[str, Any] = {}


def _model(resource_type: Any) -> Any:
    if resource_type not in _MODELS:
        if resource_type == "MedicationRequest":
            from fhir.resources.R4B.medicationrequest import MedicationRequest as model
        elif resource_type == "ServiceRequest":
            from fhir.resources.R4B.servicerequest import ServiceRequest as model
        else:
            raise ValueError(f"unsupported resource type {resource_type!r}")
        _MODELS[resource_type] = model
    return _MODELS[resource_type]
