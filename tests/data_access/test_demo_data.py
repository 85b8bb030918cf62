"""Demo data: the development patients as transaction Bundles that a real FHIR server accepts, twice."""
from __future__ import annotations

import json

import requests
from fhir.resources.R4B.bundle import Bundle

from cds_service.demo_data import to_transaction, write_demo_bundles
from tests.data_access.conftest import FIXTURE_DIRS


def post(fhir_server, bundle):
    return requests.post(fhir_server.base, json=bundle, timeout=30, headers={
        "Authorization": f"Bearer {fhir_server.token}", "Content-Type": "application/fhir+json"})


def test_written_bundles_are_valid_transactions_with_one_put_per_resource(tmp_path):
    written = write_demo_bundles(tmp_path, fixtures_dir=FIXTURE_DIRS[0])
    assert sorted(p.name for p in written) == sorted(p.name for p in FIXTURE_DIRS[0].glob("*.json"))
    for path in written:
        bundle = json.loads(path.read_text())
        Bundle.model_validate(bundle)  # R4 structure
        source = json.loads((FIXTURE_DIRS[0] / path.name).read_text())
        assert bundle["type"] == "transaction"
        patient = bundle["entry"][0]["resource"]
        assert patient["resourceType"] == "Patient"
        original = next(e["resource"] for e in source["entry"] if e["resource"]["resourceType"] == "Patient")
        if original.get("name"):
            assert patient["name"] == original["name"]
        else:  # an anonymous display name, so a client's banner does not say 'Unknown'
            assert patient["name"][0]["family"] == path.stem and patient["name"][0]["use"] == "anonymous"
        assert len(bundle["entry"]) == len(source["entry"])
        assert all(e["request"] == {"method": "PUT", "url": f"{e['resource']['resourceType']}/{e['resource']['id']}"}
                   for e in bundle["entry"])


def test_urn_references_become_ids_the_server_can_search_by(fhir_server):
    collection = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:0b7e1c1e-2d7a-4c55-9b1e-3c1d2e3f4a5b",
         "resource": {"resourceType": "Condition", "subject": {"reference": "urn:uuid:6f1c5a52-9a5e-4f0e-8f7e-1b2c3d4e5f60"},
                      "code": {"text": "Synthetic condition referring to its patient by fullUrl"}}},
        {"fullUrl": "urn:uuid:6f1c5a52-9a5e-4f0e-8f7e-1b2c3d4e5f60", "resource": {"resourceType": "Patient"}},
    ]}
    transaction = to_transaction(collection)
    assert [e["request"]["url"] for e in transaction["entry"]] == [
        "Patient/6f1c5a52-9a5e-4f0e-8f7e-1b2c3d4e5f60", "Condition/0b7e1c1e-2d7a-4c55-9b1e-3c1d2e3f4a5b"]
    for _ in range(2):  # loading twice is harmless: PUT by id
        reply = post(fhir_server, transaction)
        assert reply.status_code == 200, reply.text[:500]
    found = fhir_server.get("Condition", patient="6f1c5a52-9a5e-4f0e-8f7e-1b2c3d4e5f60")
    assert [e["resource"]["id"] for e in found.get("entry", [])] == ["0b7e1c1e-2d7a-4c55-9b1e-3c1d2e3f4a5b"]


def test_written_demo_bundles_load_into_the_fhir_server(fhir_server, tmp_path):
    for path in write_demo_bundles(tmp_path, fixtures_dir=FIXTURE_DIRS[0]):
        reply = post(fhir_server, json.loads(path.read_text()))
        assert reply.status_code == 200, (path.name, reply.text[:500])
        statuses = [e["response"]["status"] for e in reply.json()["entry"]]
        assert all(s.startswith(("200", "201")) for s in statuses), statuses
