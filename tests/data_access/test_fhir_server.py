"""gather() against a real FHIR R4 server with a Bearer token: no prefetch and partial prefetch give the
same resources as a complete prefetch; null is never re-queried; paging is followed and bounded; a refused
token or an unusable fhirServer yields 412 naming the keys."""
from __future__ import annotations

import uuid

import pytest

from cds_service.data_access import PreconditionFailed, gather
from cds_service.fhir_client import FhirClient
from cds_service.services import PREFETCH
from tests.data_access.oracle import full_prefetch, identities, searchset, without_meta

CONFIG = {"PECOMA_MODE": "demo"}  # demo mode allows http:// loopback FHIR servers
CLIENT = FhirClient()


def request(patient_id, fhir_server=None, prefetch=None, token=None):
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"patientId": patient_id, "userId": "Practitioner/h6-dev-user"},
    }
    if fhir_server is not None:
        body["fhirServer"] = fhir_server.base
        body["fhirAuthorization"] = {"access_token": token or fhir_server.token, "token_type": "Bearer",
                                     "expires_in": 300, "scope": "patient/*.read", "subject": "pecoma-cds"}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def complete(patient):
    return full_prefetch(patient.resources(), PREFETCH, {"patientId": patient.patient_id})


@pytest.fixture(scope="module")
def patients(fixture_patients):
    return sorted(fixture_patients.values(), key=lambda p: p.patient_id)


def test_no_prefetch_fetches_the_same_resources_as_a_complete_prefetch(fhir_server, patients):
    for patient in patients:
        expected = gather(request(patient.patient_id, prefetch=complete(patient)), PREFETCH, CONFIG)
        fetched = gather(request(patient.patient_id, fhir_server), PREFETCH, CONFIG, client=CLIENT)
        assert without_meta(fetched.resources) == without_meta(expected.resources), patient.source.name
        assert set(fetched.origin.values()) == {"fhir"}, fetched.origin
        assert fetched.notes == []
        assert expected.notes == [] and set(expected.origin.values()) <= {"prefetch", "null"}


def test_partial_prefetch_fetches_only_the_missing_keys(fhir_server, patients):
    for patient in patients:
        full = complete(patient)
        partial = {
            "patient": full["patient"],
            "conditions": full["conditions"],
            # observations: omitted, as the Sandbox does for a failed key
            "procedures": {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]},
            "medicationRequests": full["medicationRequests"],
            "medicationStatements": "not a FHIR resource",
        }
        expected = gather(request(patient.patient_id, prefetch=full), PREFETCH, CONFIG)
        got = gather(request(patient.patient_id, fhir_server, prefetch=partial), PREFETCH, CONFIG, client=CLIENT)
        assert without_meta(got.resources) == without_meta(expected.resources), patient.source.name
        assert got.origin == {**{key: "fhir" for key in PREFETCH},  # every key not sent is fetched
                              "patient": "prefetch", "conditions": "prefetch", "medicationRequests": "prefetch"}


def test_null_is_known_empty_and_never_queried(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-medium"]
    prefetch = {"medicationRequests": None, "medicationStatements": None}
    got = gather(request(patient.patient_id, fhir_server, prefetch=prefetch), PREFETCH, CONFIG, client=CLIENT)
    types = {r["resourceType"] for r in got.resources}
    assert "MedicationRequest" not in types and "MedicationStatement" not in types
    assert {"Patient", "Condition", "Observation", "Procedure"} <= types
    assert got.origin["medicationRequests"] == got.origin["medicationStatements"] == "null"


def test_observation_category_filter_is_applied_by_the_server(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-medium"]
    got = gather(request(patient.patient_id, fhir_server), PREFETCH, CONFIG, client=CLIENT)
    observations = [r for r in got.resources if r["resourceType"] == "Observation"]
    assert len(observations) == 70  # the fixture's 70 categorised ones; activity and uncategorised left out
    assert all(r["subject"]["reference"] == "Patient/h6-dev-medium" for r in got.resources if "subject" in r)


def test_prefetch_bundle_with_next_link_is_completed_from_the_server(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-medium"]
    first_page = fhir_server.get(f"Observation?patient={patient.patient_id}&category=laboratory,vital-signs,survey,exam,"
                                 "social-history,imaging,procedure&_count=20")
    assert any(link["relation"] == "next" for link in first_page["link"])  # the EHR paginated its prefetch
    prefetch = {**complete(patient), "observations": first_page}
    got = gather(request(patient.patient_id, fhir_server, prefetch=prefetch), PREFETCH, CONFIG, client=CLIENT)
    expected = gather(request(patient.patient_id, prefetch=complete(patient)), PREFETCH, CONFIG)
    assert without_meta(got.resources) == without_meta(expected.resources)
    assert got.origin["observations"] == "prefetch+fhir"
    assert got.notes == []


def test_paging_stops_at_the_page_limit_with_a_note(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-medium"]
    config = {**CONFIG, "PECOMA_FHIR_PAGE_SIZE": "10", "PECOMA_FHIR_MAX_PAGES": "3"}
    got = gather(request(patient.patient_id, fhir_server), PREFETCH, config, client=CLIENT)
    assert len([r for r in got.resources if r["resourceType"] == "Observation"]) == 30
    assert got.notes == ["observations: only the first 3 pages of search results were used (page limit reached); later results are missing"]


def test_next_link_without_fhir_access_keeps_the_first_page_with_a_note(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-medium"]
    first_page = fhir_server.get(f"Observation?patient={patient.patient_id}&_count=5")
    prefetch = {**complete(patient), "observations": first_page}
    got = gather(request(patient.patient_id, prefetch=prefetch), PREFETCH, CONFIG)
    assert len([r for r in got.resources if r["resourceType"] == "Observation"]) == 5
    assert got.notes == ["observations: only the first page of search results was used (the request has no fhirServer); later results are missing"]


def test_a_refused_token_is_412_naming_the_missing_keys(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-small"]
    prefetch = {k: v for k, v in complete(patient).items() if k not in ("conditions", "observations")}
    with pytest.raises(PreconditionFailed) as failed:
        gather(request(patient.patient_id, fhir_server, prefetch=prefetch, token="not-the-token"), PREFETCH, CONFIG, client=CLIENT)
    assert failed.value.keys == ["conditions", "observations"]
    assert "refused the access token (HTTP 401)" in failed.value.detail


def test_missing_keys_without_fhir_server_is_412(fixture_patients):
    patient = fixture_patients["h6-dev-small"]
    prefetch = {k: v for k, v in complete(patient).items() if k != "procedures"}
    with pytest.raises(PreconditionFailed) as failed:
        gather(request(patient.patient_id, prefetch=prefetch), PREFETCH, CONFIG)
    assert failed.value.keys == ["procedures"]
    assert "the request has no fhirServer" in failed.value.detail


def test_plain_http_fhir_server_is_refused_in_production(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-small"]
    with pytest.raises(PreconditionFailed) as failed:
        gather(request(patient.patient_id, fhir_server), PREFETCH, {"PECOMA_MODE": "production"}, client=CLIENT)
    assert failed.value.keys == list(PREFETCH)
    assert "PECOMA_FHIR_HTTP_ALLOWLIST" in failed.value.detail


def test_an_unknown_patient_is_412(fhir_server):
    with pytest.raises(PreconditionFailed) as failed:
        gather(request("h6-no-such-patient", fhir_server), PREFETCH, CONFIG, client=CLIENT)
    assert failed.value.keys == ["patient"]  # the searches answer with empty Bundles: known empty
    assert "has no such data (HTTP 404)" in failed.value.detail


def test_wrongly_typed_prefetch_resource_is_refetched(fhir_server, fixture_patients):
    patient = fixture_patients["h6-dev-small"]
    full = complete(patient)
    condition = full["conditions"]["entry"][0]["resource"]
    got = gather(request(patient.patient_id, fhir_server, prefetch={**full, "patient": condition}), PREFETCH, CONFIG, client=CLIENT)
    assert got.origin["patient"] == "fhir"
    assert [r["id"] for r in got.resources if r["resourceType"] == "Patient"] == [patient.patient_id]


def test_searchset_of_another_patient_is_filtered(fixture_patients):
    small, other = fixture_patients["h6-dev-small"], fixture_patients["h6-dev-other"]
    full = complete(small)
    foreign = [e["resource"] for e in complete(other)["conditions"]["entry"]]
    mixed = {**full, "conditions": searchset([e["resource"] for e in full["conditions"]["entry"]] + foreign)}
    got = gather(request(small.patient_id, prefetch=mixed), PREFETCH, CONFIG)
    assert identities(got.resources) == identities(gather(request(small.patient_id, prefetch=full), PREFETCH, CONFIG).resources)
    assert got.notes == ["conditions: 1 resource about another patient ignored"]


def test_any_added_template_key_is_fetched_the_same_way(fhir_server, fixture_patients):
    """E.g. a ``specimens`` key (the vignettes' specimen type lives in Specimen resources)."""
    templates = {**PREFETCH, "specimens": "Specimen?patient={{context.patientId}}"}
    with_specimens = [p for p in fixture_patients.values() if any(r["resourceType"] == "Specimen" for r in p.resources())]
    assert with_specimens, "no fixture patient has a Specimen"
    for patient in with_specimens:
        expected = gather(request(patient.patient_id, prefetch=full_prefetch(patient.resources(), templates, {"patientId": patient.patient_id})),
                          templates, CONFIG)
        fetched = gather(request(patient.patient_id, fhir_server), templates, CONFIG, client=CLIENT)
        assert without_meta(fetched.resources) == without_meta(expected.resources)
        assert any(r["resourceType"] == "Specimen" for r in fetched.resources)
