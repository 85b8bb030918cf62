"""Small builders of CDS Hooks 2.0 request bodies for the service tests."""
from __future__ import annotations

import copy
import uuid
from typing import Any

from cds_service.services import PREFETCH

PREFETCH_KEYS = tuple(PREFETCH)


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:
        bundle["entry"] = [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r} for r in resources]
    return bundle


def non_pecoma_prefetch(patient_id: str) -> dict[str, Any]:
    """A 54-year-old with essential hypertension only: nothing for a PEComa service to say."""
    return {
        "patient": {"resourceType": "Patient", "id": patient_id, "gender": "female", "birthDate": "1972-03-04"},
        "conditions": searchset({
            "resourceType": "Condition", "id": "htn-1", "subject": {"reference": f"Patient/{patient_id}"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59621000", "display": "Essential hypertension"}], "text": "Essential hypertension"},
        }),
        "observations": searchset(),
        "cancerObservations": searchset(),
        "procedures": searchset(),
        "medicationRequests": searchset(),
        "medicationStatements": None,
        "specimens": None,
    }


def pecoma_prefetch(patient_id: str) -> dict[str, Any]:
    """A 59-year-old man with a malignant PEComa (text only): enough for the service to run the pathway."""
    prefetch = non_pecoma_prefetch(patient_id)
    prefetch["patient"]["gender"] = "male"
    prefetch["conditions"] = searchset({
        "resourceType": "Condition", "id": "pecoma-1", "subject": {"reference": f"Patient/{patient_id}"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "code": {"text": "Malignant perivascular epithelioid cell tumour (PEComa) of the chest wall"},
        "onsetDateTime": "2026-05-01",
    })
    return prefetch


def draft_orders(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def sandbox_draft_medication_request(patient_id: str, with_medication: bool = True) -> dict[str, Any]:
    """What the CDS Hooks Sandbox sends (invalid R4: category is an object; first call has no medication)."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": "request-123", "status": "draft", "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "outpatient"}]},
    }
    if with_medication:
        resource["medicationCodeableConcept"] = {"text": "sirolimus 1 MG Oral Tablet"}
    return resource


def hook_request(hook: str, patient_id: str = "pat-1", prefetch: dict[str, Any] | None = None, **context: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/prac-1", "patientId": patient_id, **context},
        "prefetch": copy.deepcopy(prefetch) if prefetch is not None else non_pecoma_prefetch(patient_id),
    }
    if hook in ("order-select", "order-sign") and "draftOrders" not in body["context"]:
        order = sandbox_draft_medication_request(patient_id)
        body["context"]["draftOrders"] = draft_orders(order)
        if hook == "order-select":
            body["context"].setdefault("selections", ["MedicationRequest/request-123"])
    return body


HOOK_OF = {"pecoma-patient-view": "patient-view", "pecoma-order-select": "order-select", "pecoma-order-sign": "order-sign"}


def feedback_item(card: str, outcome: str = "overridden", timestamp: str = "2026-11-23T10:00:00.000Z", **extra: Any) -> dict[str, Any]:
    item = {"card": card, "outcome": outcome, "outcomeTimestamp": timestamp, **extra}
    if outcome == "accepted" and "acceptedSuggestions" not in item:
        item["acceptedSuggestions"] = [{"id": str(uuid.uuid4())}]
    return item
