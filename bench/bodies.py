"""Realistic patient-view request bodies for the benchmarks (deterministic: same bytes on every run).

A body is one development vignette's FHIR record (``tests/fixtures/vignettes/Vxx.json``) plus noise an
EHR sends with a long oncology record and that the pathway must skip: vital signs, unrelated laboratory
results, other conditions and medications. The prefetch is grouped as an EHR would fill our templates
(``tests/data_access/oracle.py::full_prefetch`` over ``cds_service.services.PREFETCH``).

Noise codes are LOINC vital-sign and chemistry/haematology codes that are *not* in
``fhir_mappings/terminology/codes.json`` and whose displays match none of its text patterns (so not
potassium, SpO2, or INR 'in Platelet poor plasma'), so the facts, and so the
cards, are those of the vignette alone (``tests/perf`` checks that).

    from bench.bodies import request_body, SIZES
    body = request_body("medium")          # dict, ~500 resources
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import orjson

from cds_service.services import PREFETCH
from tests.data_access.oracle import full_prefetch
from tests.fixtures import bundle_resources, load_vignette_bundle, vignette_patient_id

VIGNETTE = "V38"  # a treated metastatic patient on oral sirolimus: touches most of the pathway
REFERENCE_DATE = date(2026, 11, 22)  # the vignettes' reference date ("today" of the pathway)
SIZES = {"small": 20, "medium": 500, "large": 5000}  # resources in the request (about)
HOOK_INSTANCE = uuid.UUID(int=0x8E4C_0000_4000_8000_0000_0000_0001)  # fixed, valid UUID

_LOINC = "http://loinc.org"
_UCUM = "http://unitsofmeasure.org"
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_SCT = "http://snomed.info/sct"

# (LOINC code, display, value, UCUM unit, category): not among the codes the mappings read
_VITALS = [
    ("8867-4", "Heart rate", 72, "/min"),
    ("8310-5", "Body temperature", 36.8, "Cel"),
    ("29463-7", "Body weight", 70.2, "kg"),
    ("8302-2", "Body height", 172, "cm"),
    ("9279-1", "Respiratory rate", 16, "/min"),
    ("8462-4", "Diastolic blood pressure", 78, "mm[Hg]"),
    ("39156-5", "Body mass index (BMI) [Ratio]", 23.7, "kg/m2"),
]
_LABS = [
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", 139, "mmol/L"),
    ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", 2.0, "mg/dL"),
    ("2075-0", "Chloride [Moles/volume] in Serum or Plasma", 102, "mmol/L"),
    ("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", 25, "mmol/L"),
    ("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", 14, "mg/dL"),
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", 9.4, "mg/dL"),
    ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", 4.1, "g/dL"),
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", 6.1, "10*3/uL"),
    ("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", 41, "%"),
    ("787-2", "MCV [Entitic volume] by Automated count", 89, "fL"),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", 22, "U/L"),
    ("2324-2", "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma", 30, "U/L"),
    ("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", 180, "U/L"),
    ("5902-2", "Prothrombin time (PT)", 12.1, "s"),
]
_CONDITIONS = [
    ("38341003", "Essential hypertension"),
    ("235595009", "Gastroesophageal reflux disease"),
    ("396275006", "Osteoarthritis"),
    ("195967001", "Asthma"),
]
_MEDICATIONS = ["Paracetamol 500 mg tablet", "Cholecalciferol 1000 unit capsule", "Salbutamol 100 microgram inhaler"]


def noise(patient_id: str, count: int, id_prefix: str = "noise-") -> list[dict[str, Any]]:
    """``count`` resources the pathway must skip: ~45 % vitals, ~45 % labs, ~5 % conditions, ~5 % medications."""
    subject = {"reference": f"Patient/{patient_id}"}
    out: list[dict[str, Any]] = []
    for i in range(count):
        when = (REFERENCE_DATE - timedelta(days=30 + i // 4)).isoformat() + "T09:30:00Z"
        slot = i % 20
        if slot == 9:
            code, display = _CONDITIONS[(i // 20) % len(_CONDITIONS)]
            out.append({"resourceType": "Condition", "id": f"{id_prefix}c{i}", "subject": subject,
                        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                       "code": "active"}]},
                        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                                  "code": "problem-list-item"}]}],
                        "code": {"coding": [{"system": _SCT, "code": code, "display": display}], "text": display},
                        "onsetDateTime": when[:10]})
        elif slot == 19:
            out.append({"resourceType": "MedicationStatement", "id": f"{id_prefix}m{i}", "status": "completed",
                        "subject": subject, "medicationCodeableConcept": {"text": _MEDICATIONS[(i // 20) % len(_MEDICATIONS)]},
                        "effectivePeriod": {"start": when[:10], "end": when[:10]}})
        else:
            vital = slot % 2 == 0
            table = _VITALS if vital else _LABS
            code, display, value, unit = table[(i // 2) % len(table)]
            out.append({"resourceType": "Observation", "id": f"{id_prefix}o{i}", "status": "final",
                        "category": [{"coding": [{"system": _CATEGORY, "code": "vital-signs" if vital else "laboratory"}]}],
                        "code": {"coding": [{"system": _LOINC, "code": code, "display": display}], "text": display},
                        "subject": subject, "effectiveDateTime": when, "issued": when,
                        "valueQuantity": {"value": value, "unit": unit, "system": _UCUM, "code": unit}})
    return out


def record(size: str, vignette: str = VIGNETTE, patient_id: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(patient id, resources): the vignette's record padded with noise to about ``SIZES[size]`` resources.

    With ``patient_id`` the record is relabelled (patient, references and every resource id), so it can be
    loaded into a shared FHIR server without touching the fixture patients other tests use there."""
    resources = bundle_resources(load_vignette_bundle(vignette))
    own_id = vignette_patient_id(vignette)
    if patient_id is None:
        return own_id, resources + noise(own_id, max(0, SIZES[size] - len(resources)))
    relabelled = orjson.loads(orjson.dumps(resources).replace(own_id.encode(), patient_id.encode()))
    for resource in relabelled:
        if not resource["id"].startswith(patient_id):
            resource["id"] = f"{patient_id}-{resource['id']}"
    return patient_id, relabelled + noise(patient_id, max(0, SIZES[size] - len(resources)), f"{patient_id}-noise-")


def request_body(size: str, vignette: str = VIGNETTE) -> dict[str, Any]:
    """A complete patient-view request (prefetch filled for every template) for ``size``."""
    patient_id, resources = record(size, vignette)
    context = {"userId": "Practitioner/bench-clinician", "patientId": patient_id}
    return {"hook": "patient-view", "hookInstance": str(HOOK_INSTANCE), "context": context,
            "prefetch": full_prefetch(resources, PREFETCH, context)}


def resource_count(body: dict[str, Any]) -> int:
    """Resources in a request's prefetch (a resource answering two templates counts twice, as sent)."""
    total = 0
    for value in (body.get("prefetch") or {}).values():
        if isinstance(value, dict):
            total += len(value.get("entry") or []) if value.get("resourceType") == "Bundle" else 1
    return total
