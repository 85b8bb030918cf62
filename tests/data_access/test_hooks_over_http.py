"""The running service (gunicorn, demo mode) fetches what the prefetch lacks from the real FHIR server with the
Bearer token it is given, and answers each hook with the same cards as with a complete prefetch."""
from __future__ import annotations

import pytest
import requests

from cds_service.services import PREFETCH
from tests.data_access.oracle import full_prefetch
from tests.service.builders import hook_request
from tests.service.live import LiveServer

SERVICES = {"pecoma-patient-view": "patient-view", "pecoma-order-select": "order-select", "pecoma-order-sign": "order-sign"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("live-fhir"), PECOMA_REFERENCE_DATE="2026-11-22").start()
    yield live
    live.stop()


def call(service, service_id, body):
    reply = requests.post(f"{service.url}/cds-services/{service_id}", json=body, timeout=30)
    assert reply.status_code in (200, 412), f"{reply.status_code}: {reply.text[:500]}"
    return reply


def topics(reply):
    return sorted((card.get("source", {}).get("topic") or {}).get("code", "") for card in reply.json()["cards"])


def with_fhir(body, fhir_server, prefetch, token=None):
    body = {**body, "fhirServer": fhir_server.base, "fhirAuthorization": {
        "access_token": token or fhir_server.token, "token_type": "Bearer", "expires_in": 300,
        "scope": "patient/*.read", "subject": "pecoma-cds"}}
    if prefetch is None:
        body.pop("prefetch", None)
    else:
        body["prefetch"] = prefetch
    return body


@pytest.mark.parametrize("service_id", list(SERVICES))
def test_no_and_partial_prefetch_give_the_same_cards_as_a_complete_prefetch(service, fhir_server, fixture_patients, service_id):
    compared = []
    for patient in sorted(fixture_patients.values(), key=lambda p: p.patient_id):
        full = full_prefetch(patient.resources(), PREFETCH, {"patientId": patient.patient_id})
        base = hook_request(SERVICES[service_id], patient.patient_id, full)
        expected = call(service, service_id, base)
        assert expected.status_code == 200
        partial = {k: v for k, v in full.items() if k in ("patient", "medicationRequests")}
        for prefetch in (None, partial):
            got = call(service, service_id, with_fhir(base, fhir_server, prefetch))
            assert got.status_code == 200, got.text[:500]
            assert topics(got) == topics(expected), (patient.source.name, "no prefetch" if prefetch is None else "partial")
        compared.extend(topics(expected))
    if service_id == "pecoma-patient-view":
        assert compared, "no fixture patient produced a card: the comparison would be between empty lists"


def test_a_refused_token_is_a_412_naming_the_missing_keys(service, fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-small"]
    full = full_prefetch(patient.resources(), PREFETCH, {"patientId": patient.patient_id})
    body = with_fhir(hook_request("patient-view", patient.patient_id, full), fhir_server,
                     {k: v for k, v in full.items() if k != "observations"}, token="wrong-token")
    reply = call(service, "pecoma-patient-view", body)
    assert reply.status_code == 412
    outcome = reply.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "observations" in " ".join(issue.get("diagnostics", "") for issue in outcome["issue"])
    assert "wrong-token" not in reply.text and "wrong-token" not in service.log()
