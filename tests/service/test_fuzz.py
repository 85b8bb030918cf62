"""Thousands of malformed requests over real HTTP: never a 5xx, always an OperationOutcome on 4xx.

Hypothesis runs derandomized (a fixed sequence, same in CI and locally); the whole module
sends ~3,000 requests in well under a minute on 2 cores.
"""
from __future__ import annotations

import copy
import json
import uuid

import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from cds_service.validation import validate_response
from tests.service.builders import feedback_item, hook_request, pecoma_prefetch

FUZZ = settings(max_examples=600, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])

ENDPOINTS = [
    "/cds-services/pecoma-patient-view",
    "/cds-services/pecoma-order-select",
    "/cds-services/pecoma-order-sign",
    "/cds-services/pecoma-patient-view/feedback",
    "/cds-services/pecoma-order-sign/feedback",
]

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["", "patient-view", "order-select", "Bundle", "MedicationRequest/request-123", str(uuid.uuid4()), "x" * 5000]),
)
json_values = st.recursive(json_leaf, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)), max_leaves=25)
keys = st.sampled_from(["hook", "hookInstance", "context", "prefetch", "fhirServer", "fhirAuthorization", "patientId", "userId",
                        "selections", "draftOrders", "entry", "resource", "resourceType", "id", "feedback", "card", "outcome",
                        "outcomeTimestamp", "acceptedSuggestions", "overrideReason", "reason", "extension"])


def valid_bodies() -> list[tuple[str, dict]]:
    feedback = {"feedback": [feedback_item(str(uuid.uuid4()), "overridden", overrideReason={"reason": {"system": "s", "code": "c"}}),
                             feedback_item(str(uuid.uuid4()), "accepted")]}
    return [
        (ENDPOINTS[0], hook_request("patient-view", "fz-1", pecoma_prefetch("fz-1"))),
        (ENDPOINTS[1], hook_request("order-select", "fz-2", pecoma_prefetch("fz-2"))),
        (ENDPOINTS[2], hook_request("order-sign", "fz-3", pecoma_prefetch("fz-3"))),
        (ENDPOINTS[3], feedback),
    ]


VALID_BODIES = valid_bodies()  # built once: a strategy must not draw its own randomness (uuid4)


def paths(node, prefix=()):
    """Every path (tuple of keys/indexes) inside a JSON value."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


@st.composite
def mutated_bodies(draw):
    endpoint, body = draw(st.sampled_from(VALID_BODIES))
    body = copy.deepcopy(body)
    for _ in range(draw(st.integers(1, 3))):
        all_paths = [p for p in paths(body) if p]
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "add", "huge"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "huge":
            parent[path[-1]] = draw(st.sampled_from(["y" * 200_000, 2**200, [0] * 5000, "\u0000\ud7ff\U0010ffff" * 100]))
        elif isinstance(parent, dict):
            parent[draw(keys)] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return endpoint, body


def post(server, endpoint: str, data: bytes, content_type: str | None = "application/json") -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(server.url + endpoint, data=data, headers=headers, timeout=30)


def assert_well_behaved(response: requests.Response, endpoint: str) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"], body
    elif not endpoint.endswith("/feedback"):
        assert validate_response(response.json()) == []


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), value=json_values)
def test_arbitrary_json(server, endpoint, value):
    assert_well_behaved(post(server, endpoint, json.dumps(value).encode()), endpoint)


@FUZZ
@given(case=mutated_bodies())
def test_mutated_valid_bodies(server, case):
    endpoint, body = case
    assert_well_behaved(post(server, endpoint, json.dumps(body).encode()), endpoint)


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), data=st.binary(max_size=2000))
def test_junk_bytes(server, endpoint, data):
    assert_well_behaved(post(server, endpoint, data), endpoint)


@settings(FUZZ, max_examples=300)
@given(endpoint=st.sampled_from(ENDPOINTS),
       content_type=st.one_of(st.none(), st.sampled_from(["text/plain", "application/xml", "application/x-www-form-urlencoded",
                                                            "multipart/form-data; boundary=x", "application/jsonx", "json", ""]),
                              st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)))
def test_wrong_content_types(server, endpoint, content_type):
    body = json.dumps(valid_bodies()[0][1]).encode()
    response = post(server, endpoint, body, content_type)
    assert_well_behaved(response, endpoint)


@settings(FUZZ, max_examples=100)
@given(depth=st.integers(1, 5000), endpoint=st.sampled_from(ENDPOINTS))
def test_deep_nesting(server, depth, endpoint):
    assert_well_behaved(post(server, endpoint, b"[" * depth + b"]" * depth), endpoint)
    assert_well_behaved(post(server, endpoint, b'{"hook":' * depth + b"1" + b"}" * depth), endpoint)


def test_fuzzing_left_no_unexpected_error_in_the_log(server):
    """Runs after the fuzz tests above (file order): none of them hit the service's last-resort handler."""
    events = [json.loads(line).get("event") for line in server.log().splitlines() if line.startswith("{")]
    assert "unexpected_error" not in events
    assert events.count("http_request") > 1000
