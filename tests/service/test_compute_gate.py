"""A worker computes one hook at a time (cds_service.compute_gate), yet a hook waiting on a slow EHR FHIR server
never holds up the worker's other requests: one gunicorn worker, a FHIR server that answers only when told to."""
from __future__ import annotations

import json
import re
import threading

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.service.builders import hook_request, pecoma_prefetch
from tests.service.live import LiveServer

PATIENT = "gate-1"


@pytest.fixture
def slow_fhir():
    """Every query answered with an empty result, the Patient read only once ``release`` is set."""
    arrived, release = threading.Event(), threading.Event()

    def answer(request):
        if request.path.endswith(f"/Patient/{PATIENT}"):
            arrived.set()
            release.wait(60)
            body = {"resourceType": "Patient", "id": PATIENT, "gender": "male", "birthDate": "1966-01-01"}
        else:
            body = {"resourceType": "Bundle", "type": "searchset", "total": 0}
        return Response(json.dumps(body), content_type="application/fhir+json")

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request(re.compile(r"^/fhir/.*")).respond_with_handler(answer)
    server.start()
    yield server, arrived, release
    release.set()
    server.stop()


@pytest.fixture
def one_worker(tmp_path):
    live = LiveServer(tmp_path, PECOMA_WORKERS="1", PECOMA_THREADS="4", PECOMA_FHIR_BUDGET_S="60",
                      PECOMA_FHIR_READ_TIMEOUT_S="60").start()
    yield live
    live.stop()


def test_a_hook_waiting_on_the_fhir_server_does_not_block_the_other_hooks_of_its_worker(one_worker, slow_fhir):
    server, arrived, release = slow_fhir
    waiting_body = hook_request("patient-view", PATIENT)
    del waiting_body["prefetch"]
    waiting_body["fhirServer"] = f"http://127.0.0.1:{server.port}/fhir"
    waiting_reply = {}

    def waiting_hook():
        waiting_reply["reply"] = requests.post(f"{one_worker.url}/cds-services/pecoma-patient-view", json=waiting_body, timeout=90)

    waiting = threading.Thread(target=waiting_hook)
    waiting.start()
    assert arrived.wait(30), "the hook without prefetch never queried the FHIR server"

    # Same worker, complete prefetch: answered while the first hook still waits (its budget is 60 s).
    other = requests.post(f"{one_worker.url}/cds-services/pecoma-patient-view",
                          json=hook_request("patient-view", "gate-2", pecoma_prefetch("gate-2")), timeout=20)
    assert other.status_code == 200
    assert other.json()["cards"], "the prefetched PEComa patient should get cards"
    assert waiting.is_alive() and not release.is_set()

    release.set()
    waiting.join(60)
    assert waiting_reply["reply"].status_code == 200, waiting_reply["reply"].text[:500]
