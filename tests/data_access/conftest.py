"""A real FHIR R4 server for the data-access tests, known only by base URL and bearer token.

``PECOMA_TEST_FHIR_BASE`` / ``PECOMA_TEST_FHIR_TOKEN`` (e.g. ``eval "$(scripts/fhir-server start)"`` in
``.ci/run``) select any FHIR R4 server; without them the session starts the pinned sekmet-fhir server through
``scripts/fhir-server`` and stops it afterwards. A server that cannot be started FAILS the tests (never skips).
Every fixture patient (ours in ``fixtures/`` and the vignettes in ``tests/fixtures/vignettes/``) is loaded
with transaction Bundles (PUT by id) made by ``cds_service.demo_data.to_transaction``.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from cds_service.demo_data import iter_fixture_bundles, to_transaction

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "fhir-server"
FIXTURE_DIRS = (Path(__file__).parent / "fixtures", REPO / "tests" / "fixtures" / "vignettes")


@dataclass(frozen=True)
class FhirServer:
    base: str
    token: str

    def __repr__(self) -> str:
        return f"FhirServer({self.base!r})"

    def get(self, path_or_url: str, **params: Any) -> dict[str, Any]:
        url = path_or_url if path_or_url.startswith("http") else f"{self.base}/{path_or_url}"
        reply = requests.get(url, params=params, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        reply.raise_for_status()
        return reply.json()


@dataclass(frozen=True)
class FixturePatient:
    patient_id: str
    bundle: dict[str, Any]
    source: Path

    def resources(self) -> list[dict[str, Any]]:
        return [e["resource"] for e in to_transaction(self.bundle)["entry"]]


def _parse_exports(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        name, sep, value = line.removeprefix("export ").partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="session")
def fhir_server() -> FhirServer:
    base, token = os.environ.get("PECOMA_TEST_FHIR_BASE"), os.environ.get("PECOMA_TEST_FHIR_TOKEN")
    started_here = False
    if not base:
        already = subprocess.run([str(SCRIPT), "env"], capture_output=True, text=True)
        started = already if already.returncode == 0 else subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=600)
        if started.returncode != 0:
            pytest.fail(f"could not start the test FHIR server with scripts/fhir-server start:\n{started.stderr[-3000:]}", pytrace=False)
        started_here = already.returncode != 0
        exports = _parse_exports(started.stdout)
        base, token = exports.get("PECOMA_TEST_FHIR_BASE"), exports.get("PECOMA_TEST_FHIR_TOKEN")
    if not base or not token:
        pytest.fail("PECOMA_TEST_FHIR_BASE and PECOMA_TEST_FHIR_TOKEN must both be set (a bearer-protected FHIR R4 server)", pytrace=False)
    server = FhirServer(base.rstrip("/"), token)
    try:
        metadata = requests.get(f"{server.base}/metadata", timeout=10)
        assert metadata.status_code == 200 and metadata.json().get("resourceType") == "CapabilityStatement"
    except (requests.RequestException, ValueError, AssertionError):
        pytest.fail(f"no FHIR CapabilityStatement at {server.base}/metadata", pytrace=False)
    yield server
    if started_here:
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, text=True)


@pytest.fixture(scope="session")
def fixture_patients(fhir_server: FhirServer) -> dict[str, FixturePatient]:
    """Every fixture patient, loaded into the server (idempotent PUTs), by Patient id."""
    patients = {}
    for path, bundle in iter_fixture_bundles(FIXTURE_DIRS):
        transaction = to_transaction(bundle)
        reply = requests.post(fhir_server.base, json=transaction, timeout=60, headers={
            "Authorization": f"Bearer {fhir_server.token}", "Content-Type": "application/fhir+json"})
        if reply.status_code != 200:
            pytest.fail(f"loading {path.name} into the FHIR server failed: HTTP {reply.status_code} {reply.text[:1000]}", pytrace=False)
        ids = [e["resource"]["id"] for e in transaction["entry"] if e["resource"]["resourceType"] == "Patient"]
        if len(ids) != 1:
            pytest.fail(f"{path} must hold exactly one Patient, found {len(ids)}", pytrace=False)
        patients[ids[0]] = FixturePatient(ids[0], bundle, path)
    if not patients:
        pytest.fail("no fixture patients found", pytrace=False)
    return patients
