"""A misbehaving FHIR server (a loopback stub of our own) never hangs gather() or escapes as anything but
PreconditionFailed: each fault has its documented outcome, within the time budget."""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from cds_service.data_access import Gathered, PreconditionFailed, gather
from cds_service.fhir_client import FhirClient
from cds_service.jsonlog import JsonLinesFormatter
from cds_service.services import PREFETCH

TOKEN = "tok-" + uuid.uuid4().hex
PATIENT = "p1"
BUDGET_S = 0.6
MARGIN_S = 0.4  # thread start-up and scheduling on a loaded 2-core CI machine
CONFIG = {
    "PECOMA_MODE": "demo",
    "PECOMA_FHIR_CONNECT_TIMEOUT_S": "0.2",
    "PECOMA_FHIR_READ_TIMEOUT_S": "0.4",
    "PECOMA_FHIR_BUDGET_S": str(BUDGET_S),
    "PECOMA_FHIR_MAX_REPLY_BYTES": "20000",
}
TYPES = {"patient": "Patient", "conditions": "Condition", "observations": "Observation", "procedures": "Procedure",
         "medicationRequests": "MedicationRequest", "medicationStatements": "MedicationStatement",
         "specimens": "Specimen"}
# One template per resource type, so that a fault injected for a type hits exactly one prefetch key.
TEMPLATES = {key: PREFETCH[key] for key in TYPES}


def resource(rtype, rid):
    body = {"resourceType": rtype, "id": rid}
    if rtype != "Patient":
        body["subject"] = {"reference": f"Patient/{PATIENT}"}
    return body


def bundle(rtype, count=1, next_url=None, start=0):
    out = {"resourceType": "Bundle", "type": "searchset",
           "entry": [{"resource": resource(rtype, f"{rtype.lower()}-{start + i}"), "search": {"mode": "match"}} for i in range(count)]}
    if next_url:
        out["link"] = [{"relation": "next", "url": next_url}]
    return out


def fhir_json(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/fhir+json")


@pytest.fixture(scope="module")
def stub_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # threaded: slow handlers do not block others
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stub(stub_server):
    stub_server.clear()
    yield stub_server
    stub_server.clear()


def serve_healthy(stub, except_type=None):
    """A correct answer for every key, except the resource type whose handler the test sets itself."""
    for key, rtype in TYPES.items():
        if rtype == except_type:
            continue
        if rtype == "Patient":
            stub.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(resource("Patient", PATIENT))
        else:
            stub.expect_request(f"/fhir/{rtype}").respond_with_json(bundle(rtype))


def base(stub):
    return f"http://127.0.0.1:{stub.port}/fhir"


def body(fhir_base, token=TOKEN, prefetch=None):
    out = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "fhirServer": fhir_base,
           "context": {"patientId": PATIENT, "userId": "Practitioner/u1"}}
    if token:
        out["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                    "scope": "patient/*.read", "subject": "pecoma-cds"}
    if prefetch:
        out["prefetch"] = prefetch
    return out


def timed_gather(request_body, config=CONFIG):
    started = time.monotonic()
    try:
        return gather(request_body, TEMPLATES, config, client=FhirClient()), time.monotonic() - started
    except PreconditionFailed as failed:
        return failed, time.monotonic() - started


def assert_412(outcome, keys, words):
    assert isinstance(outcome, PreconditionFailed), outcome
    assert outcome.keys == keys
    assert words in outcome.detail
    assert TOKEN not in outcome.detail and TOKEN not in repr(outcome)


def test_healthy_stub_sends_the_bearer_token_and_queries_in_parallel(stub):
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slowish(request):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        rtype = request.path.rsplit("/", 1)[-1]
        return fhir_json(bundle(rtype))

    stub.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(resource("Patient", PATIENT))
    for rtype in list(TYPES.values())[1:]:
        stub.expect_request(f"/fhir/{rtype}").respond_with_handler(slowish)
    got, _ = timed_gather(body(base(stub)))
    assert isinstance(got, Gathered), got
    assert {r["resourceType"] for r in got.resources} == set(TYPES.values())
    assert peak[0] >= 2  # the five searches overlapped
    assert all(req.args.get("patient") == PATIENT for req, _ in stub.log if "Patient/" not in req.path)


def test_slow_server_past_the_budget_is_412_within_the_budget(stub):
    serve_healthy(stub, except_type="Observation")
    calls = []

    def sleepy(request):
        calls.append(1)
        time.sleep(BUDGET_S + 1.0)
        return fhir_json(bundle("Observation"))

    stub.expect_request("/fhir/Observation").respond_with_handler(sleepy)
    outcome, elapsed = timed_gather(body(base(stub)))
    assert_412(outcome, ["observations"], "did not answer in time")
    assert elapsed < BUDGET_S + MARGIN_S
    assert len(calls) == 1  # a timeout is never retried


@pytest.mark.parametrize("status, words", [
    (500, "the FHIR server failed (HTTP 500)"),
    (503, "the FHIR server failed (HTTP 503)"),
    (401, "refused the access token (HTTP 401)"),
    (403, "refused the access token (HTTP 403)"),
    (429, "rate-limiting requests (HTTP 429)"),
    (400, "rejected the request (HTTP 400)"),
    (302, "rejected the request (HTTP 302)"),
])
def test_error_status_is_412_naming_the_key(stub, status, words):
    serve_healthy(stub, except_type="Condition")
    stub.expect_request("/fhir/Condition").respond_with_json(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}, status=status,
        headers={"Location": "http://127.0.0.1:1/elsewhere"} if status == 302 else None)
    outcome, elapsed = timed_gather(body(base(stub)))
    assert_412(outcome, ["conditions"], words)
    assert elapsed < BUDGET_S + MARGIN_S


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_search_is_known_empty_with_a_note(stub, status):
    serve_healthy(stub, except_type="MedicationStatement")
    stub.expect_request("/fhir/MedicationStatement").respond_with_json(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}, status=status)
    got, _ = timed_gather(body(base(stub)))
    assert "MedicationStatement" not in {r["resourceType"] for r in got.resources}
    assert got.origin["medicationStatements"] == "not-found"
    assert got.notes == [f"medicationStatements: the FHIR server has no such data (HTTP {status}); treated as none recorded"]


def test_not_found_patient_read_is_412(stub):
    serve_healthy(stub, except_type="Patient")
    stub.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}, status=404)
    outcome, _ = timed_gather(body(base(stub)))
    assert_412(outcome, ["patient"], "has no such data (HTTP 404)")


def test_fhir_server_with_a_query_is_refused(stub):
    serve_healthy(stub)
    outcome, _ = timed_gather(body(base(stub) + "?tenant=1"))
    assert_412(outcome, list(TEMPLATES), "not a plain absolute http(s) URL")
    assert stub.log == []


@pytest.mark.parametrize("payload, content_type, words", [
    ('{"resourceType": "Bundle", "type": "searchset", "entry": [', "application/fhir+json", "not valid JSON"),
    ("<html><body>Login</body></html>", "text/html", "not valid JSON"),
    ('["a", "list"]', "application/json", "not a FHIR resource"),
    ('{"hello": "world"}', "application/json", "not a FHIR resource"),
    ('{"resourceType": "Patient", "id": "p1"}', "application/fhir+json", "answered with a Patient instead of a Bundle"),
])
def test_junk_replies_are_412(stub, payload, content_type, words):
    serve_healthy(stub, except_type="Procedure")
    stub.expect_request("/fhir/Procedure").respond_with_data(payload, content_type=content_type)
    outcome, _ = timed_gather(body(base(stub)))
    assert_412(outcome, ["procedures"], words)


def test_entries_of_the_wrong_type_are_ignored_with_a_note(stub):
    serve_healthy(stub, except_type="Condition")
    mixed = bundle("Condition", 2)
    mixed["entry"].append({"resource": resource("Observation", "sneaky"), "search": {"mode": "match"}})
    mixed["entry"].append({"resource": "not an object"})
    stub.expect_request("/fhir/Condition").respond_with_json(mixed)
    got, _ = timed_gather(body(base(stub)))
    assert [r["id"] for r in got.resources if r["resourceType"] in ("Condition", "Observation") and r["id"] != "observation-0"] == [
        "condition-0", "condition-1"]
    assert got.notes == ["conditions: 2 entries not of type Condition ignored"]


def test_operation_outcome_entry_in_a_search_is_noted(stub):
    serve_healthy(stub, except_type="Observation")
    reply = bundle("Observation", 1)
    reply["entry"].append({"resource": {"resourceType": "OperationOutcome", "issue": [
        {"severity": "warning", "code": "not-supported", "diagnostics": "Unknown search parameter 'category'"}]},
        "search": {"mode": "outcome"}})
    stub.expect_request("/fhir/Observation").respond_with_json(reply)
    got, _ = timed_gather(body(base(stub)))
    assert got.notes == ["observations: the FHIR search reported: warning not-supported 'Unknown search parameter "
                         "'category''; results may be incomplete"]
    assert len([r for r in got.resources if r["resourceType"] == "Observation"]) == 1


def test_endless_paging_stops_at_the_page_limit_with_a_note(stub):
    serve_healthy(stub, except_type="Observation")
    pages = []

    def endless(request):
        offset = int(request.args.get("_offset", "0"))
        pages.append(offset)
        return fhir_json(bundle("Observation", 1, next_url=f"{base(stub)}/Observation?_offset={offset + 1}", start=offset))

    stub.expect_request("/fhir/Observation").respond_with_handler(endless)
    got, elapsed = timed_gather(body(base(stub)))
    assert len(pages) == 10  # PECOMA_FHIR_MAX_PAGES default
    assert len([r for r in got.resources if r["resourceType"] == "Observation"]) == 10
    assert got.notes == ["observations: only the first 10 pages of search results were used (page limit reached); later results are missing"]
    assert elapsed < BUDGET_S + MARGIN_S


def test_slow_endless_paging_keeps_the_pages_read_within_the_budget(stub):
    serve_healthy(stub, except_type="Observation")

    def slow_endless(request):
        offset = int(request.args.get("_offset", "0"))
        time.sleep(0.15)
        return fhir_json(bundle("Observation", 1, next_url=f"{base(stub)}/Observation?_offset={offset + 1}", start=offset))

    stub.expect_request("/fhir/Observation").respond_with_handler(slow_endless)
    got, elapsed = timed_gather(body(base(stub)), {**CONFIG, "PECOMA_FHIR_MAX_PAGES": "1000"})
    read = len([r for r in got.resources if r["resourceType"] == "Observation"])
    assert 1 <= read < 10
    assert got.notes == [("observations: only the first page of search results was used " if read == 1 else
                         f"observations: only the first {read} pages of search results were used ") +
                         "(next page: the FHIR server did not answer in time); later results are missing"]
    assert elapsed < BUDGET_S + MARGIN_S


def test_next_link_to_another_server_is_not_followed(stub):
    serve_healthy(stub, except_type="Condition")
    stub.expect_request("/fhir/Condition").respond_with_json(bundle("Condition", 1, next_url="https://elsewhere.example/fhir/Condition?page=2"))
    got, _ = timed_gather(body(base(stub)))
    assert got.notes == ["conditions: only the first page of search results was used (the next page is on another server); later results are missing"]


def test_oversized_replies_are_412_whether_announced_or_streamed(stub):
    serve_healthy(stub, except_type="Observation")
    huge = json.dumps(bundle("Observation", 400))
    assert len(huge) > 20000
    stub.expect_request("/fhir/Observation").respond_with_data(huge, content_type="application/fhir+json")
    outcome, _ = timed_gather(body(base(stub)))
    assert_412(outcome, ["observations"], "larger than PECOMA_FHIR_MAX_REPLY_BYTES")

    stub.clear()
    serve_healthy(stub, except_type="Observation")

    def streamed(request):  # no Content-Length: the cap applies while reading
        return Response((huge[i:i + 1000] for i in range(0, len(huge), 1000)), content_type="application/fhir+json")

    stub.expect_request("/fhir/Observation").respond_with_handler(streamed)
    outcome, _ = timed_gather(body(base(stub)))
    assert_412(outcome, ["observations"], "larger than PECOMA_FHIR_MAX_REPLY_BYTES")


def test_a_trickling_reply_is_cut_at_the_budget(stub):
    serve_healthy(stub, except_type="Observation")
    text = json.dumps(bundle("Observation", 5))

    def trickle(request):
        def chunks():
            for char in text:
                time.sleep(0.05)
                yield char
        return Response(chunks(), content_type="application/fhir+json")

    stub.expect_request("/fhir/Observation").respond_with_handler(trickle)
    outcome, elapsed = timed_gather(body(base(stub)))
    assert_412(outcome, ["observations"], "did not answer in time")
    assert elapsed < BUDGET_S + MARGIN_S


class RawServer:
    """A loopback TCP server answering connection n with ``replies[n]`` (raw bytes; None = close at once)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                reply = self.replies[min(self.connections, len(self.replies) - 1)]
                self.connections += 1
                if reply is not None:
                    conn.sendall(reply)

    def close(self):
        self.sock.close()


def raw_reply(body_bytes, declared_length=None):
    length = len(body_bytes) if declared_length is None else declared_length
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close\r\n"
            + f"Content-Length: {length}\r\n\r\n".encode() + body_bytes)


def only_patient_missing(prefetch_base):
    """A full prefetch except the patient key, so exactly one request goes to ``prefetch_base``."""
    return {key: bundle(rtype, 0) for key, rtype in TYPES.items() if key != "patient"}


def test_a_dropped_connection_is_retried_once_and_then_succeeds():
    raw = RawServer([None, raw_reply(json.dumps(resource("Patient", PATIENT)).encode())])
    try:
        got, _ = timed_gather(body(f"http://127.0.0.1:{raw.port}/fhir", prefetch=only_patient_missing(raw)))
    finally:
        raw.close()
    assert isinstance(got, Gathered), got
    assert raw.connections == 2
    assert [r["id"] for r in got.resources if r["resourceType"] == "Patient"] == [PATIENT]


def test_a_reply_cut_short_of_its_content_length_is_412():
    text = json.dumps(resource("Patient", PATIENT)).encode()
    raw = RawServer([raw_reply(text[:10], declared_length=len(text))])
    try:
        outcome, elapsed = timed_gather(body(f"http://127.0.0.1:{raw.port}/fhir", prefetch=only_patient_missing(raw)))
    finally:
        raw.close()
    assert_412(outcome, ["patient"], "reply was cut off")
    assert raw.connections == 1


def test_a_closed_port_is_412_quickly():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome, elapsed = timed_gather(body(f"http://127.0.0.1:{port}/fhir"))
    assert_412(outcome, list(TEMPLATES), "could not be reached")
    assert elapsed < BUDGET_S + MARGIN_S


def test_sandbox_open_mode_queries_an_allow_listed_loopback_server_without_a_token(stub):
    serve_healthy(stub)
    got, _ = timed_gather(body(base(stub), token=None))
    assert isinstance(got, Gathered), got
    assert stub.log and all("Authorization" not in request.headers for request, _ in stub.log)


def test_no_token_and_not_allow_listed_is_412_without_any_request(stub):
    serve_healthy(stub)
    config = {**CONFIG, "PECOMA_MODE": "production", "PECOMA_FHIR_HTTP_ALLOWLIST": "http://127.0.0.1:*"}
    outcome, _ = timed_gather(body(base(stub), token=None), config)
    assert_412(outcome, list(TEMPLATES), "PECOMA_FHIR_UNAUTHENTICATED_ALLOWLIST")
    assert stub.log == []
    got, _ = timed_gather(body(base(stub)), config)  # with a token, the same allow-listed http server is used
    assert isinstance(got, Gathered), got


def test_server_allowlist_restricts_fhir_servers(stub):
    serve_healthy(stub)
    outcome, _ = timed_gather(body(base(stub)), {**CONFIG, "PECOMA_FHIR_SERVER_ALLOWLIST": "https://ehr.example.org"})
    assert_412(outcome, list(TEMPLATES), "PECOMA_FHIR_SERVER_ALLOWLIST")
    assert stub.log == []


@pytest.fixture
def service_log(caplog):
    """caplog, also attached to the service's own logger (which may not propagate to the root logger)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="pecoma_cds")
    service_logger = logging.getLogger("pecoma_cds")
    service_logger.addHandler(caplog.handler)
    yield caplog
    service_logger.removeHandler(caplog.handler)


def test_the_token_never_reaches_logs_notes_errors_or_reprs(stub, service_log):
    caplog = service_log
    serve_healthy(stub, except_type="Condition")

    def second_page_fails(request):
        if request.args.get("page") == "2":
            return Response("oops", status=502)
        return fhir_json(bundle("Condition", 1, next_url=f"{base(stub)}/Condition?page=2"))

    stub.expect_request("/fhir/Condition").respond_with_handler(second_page_fails)
    got, _ = timed_gather(body(base(stub)))
    assert got.notes == ["conditions: only the first page of search results was used (next page: the FHIR server failed "
                         "(HTTP 502)); later results are missing"]
    assert TOKEN not in repr(got)
    stub.clear()
    stub.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_data("", status=401)
    outcome, _ = timed_gather(body(base(stub)))
    assert isinstance(outcome, PreconditionFailed)
    assert TOKEN not in str(outcome) and TOKEN not in repr(outcome)
    records = [r for r in caplog.records if r.name.startswith(("pecoma_cds", "cds_service", "urllib3", "requests"))]
    ours = "\n".join(JsonLinesFormatter().format(r) for r in records)
    assert '"event": "fhir_fetch", "key": "conditions", "page": 2, "status": 502' in ours  # our fetch log lines ...
    assert TOKEN not in ours and PATIENT not in ours  # ... without the token or the patient id (no URLs)


def test_invalid_configuration_is_412_not_a_crash(stub):
    serve_healthy(stub)
    outcome, _ = timed_gather(body(base(stub)), {**CONFIG, "PECOMA_FHIR_BUDGET_S": "soon"})
    assert_412(outcome, list(TEMPLATES), "FHIR access is misconfigured")
