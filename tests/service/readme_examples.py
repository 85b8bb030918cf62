"""The README's curl examples (``scripts/examples/``), built from development vignette fixtures.

* ``patient-view.json``: V04, metastatic PEComa, mTOR-inhibitor-naive (S4: mTOR inhibitor options, draft orders);
* ``order-select.json``: the same patient with doxorubicin drafted first line (S4 order check: replace it);
* ``order-sign.json``: V47, on itraconazole, with oral sirolimus drafted (R4: CYP3A4 interaction).

Regenerate after a fixture change with ``.venv/bin/python -m tests.service.readme_examples``;
``tests/service/test_http.py`` checks the files equal what this builds and what the service answers.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cds_service.services import PREFETCH
from tests.data_access.oracle import full_prefetch
from tests.fixtures import bundle_resources, load_vignette_bundle, vignette_patient_id

EXAMPLES = Path(__file__).resolve().parents[2] / "scripts" / "examples"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _draft(patient_id: str, rid: str, code: str, display: str, text: str) -> dict[str, Any]:
    """A draft MedicationRequest as an EHR sends it (RxNorm ingredient codes from fhir_mappings/terminology)."""
    return {"resourceType": "MedicationRequest", "id": rid, "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": text},
            "subject": {"reference": f"Patient/{patient_id}"}}


def _request(vignette: str, hook: str, instance: str, drafts: list[dict[str, Any]] = ()) -> dict[str, Any]:
    patient_id = vignette_patient_id(vignette)
    context: dict[str, Any] = {"userId": "Practitioner/example-oncologist", "patientId": patient_id}
    if drafts:
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]}
        if hook == "order-select":
            context["selections"] = [f"{d['resourceType']}/{d['id']}" for d in drafts]
    prefetch = full_prefetch(bundle_resources(load_vignette_bundle(vignette)), PREFETCH, context)
    return {"hook": hook, "hookInstance": instance, "context": context, "prefetch": prefetch}


def examples() -> dict[str, dict[str, Any]]:
    v04, v47 = vignette_patient_id("V04"), vignette_patient_id("V47")
    return {
        "patient-view": _request("V04", "patient-view", "7e2a9d40-1f3b-4c6d-8e5f-0a1b2c3d4e01"),
        "order-select": _request("V04", "order-select", "7e2a9d40-1f3b-4c6d-8e5f-0a1b2c3d4e02",
                                 [_draft(v04, "draft-doxorubicin", "3639", "doxorubicin", "doxorubicin IV every 3 weeks")]),
        "order-sign": _request("V47", "order-sign", "7e2a9d40-1f3b-4c6d-8e5f-0a1b2c3d4e03",
                               [_draft(v47, "draft-sirolimus", "35302", "sirolimus", "sirolimus tablets")]),
    }


def text(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for hook, body in examples().items():
        (EXAMPLES / f"{hook}.json").write_text(text(body), encoding="utf-8")
        print(f"wrote scripts/examples/{hook}.json")
