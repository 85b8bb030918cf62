"""Whatever a client puts in prefetch, context and fhirServer, gather() answers with Gathered or
PreconditionFailed, keeps null keys empty, and never returns a non-resource."""
from __future__ import annotations

import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.data_access import Gathered, PreconditionFailed, gather
from cds_service.services import PREFETCH

TYPES = ["Patient", "Condition", "Observation", "Procedure", "MedicationRequest", "MedicationStatement", "Bundle",
         "OperationOutcome", "Practitioner"]
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_any = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
reference = st.fixed_dictionaries({"reference": st.sampled_from(["Patient/p1", "Patient/p2", "urn:uuid:x", "Group/1"]) | json_any})
resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(TYPES)},
    optional={"id": st.sampled_from(["a", "b", "p1"]) | json_any, "subject": reference | json_any, "patient": reference,
              "issue": json_leaf | json_any},
)
entry = st.fixed_dictionaries({}, optional={"resource": resource | json_any,
                                            "search": st.fixed_dictionaries({"mode": st.sampled_from(["match", "include", "outcome"]) | json_any}) | json_any})
bundle = st.fixed_dictionaries({"resourceType": st.just("Bundle")}, optional={
    "entry": st.lists(entry, max_size=5) | json_leaf | json_any,
    "link": st.lists(st.fixed_dictionaries({"relation": st.sampled_from(["next", "self"]), "url": st.text(max_size=30) | json_any}), max_size=2) | json_leaf | json_any,
})
value = st.one_of(st.none(), resource, bundle, bundle, json_any)
prefetch = st.dictionaries(st.sampled_from(list(PREFETCH) + ["extra"]), value, max_size=7)
context = st.fixed_dictionaries({"patientId": st.sampled_from(["p1", "..", "a b", ""]) | json_any},
                                optional={"userId": st.sampled_from(["Practitioner/1", "x"]) | json_any})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = closed_port()
servers = st.sampled_from([None, f"http://127.0.0.1:{PORT}/fhir", "ftp://x", "https://user:pw@ehr.example/fhir", "not a url", ""]) | json_any
auth = st.none() | st.fixed_dictionaries({"access_token": st.text(max_size=10) | json_any}) | json_any


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefetch=prefetch, context=context, server=servers, authorization=auth)
def test_gather_only_returns_gathered_or_raises_precondition_failed(prefetch, context, server, authorization):
    body = {"hook": "patient-view", "hookInstance": "x", "context": context, "prefetch": prefetch}
    if server is not None:
        body["fhirServer"] = server
    if authorization is not None:
        body["fhirAuthorization"] = authorization
    config = {"PECOMA_MODE": "demo", "PECOMA_FHIR_BUDGET_S": "0.3"}
    try:
        got = gather(body, PREFETCH, config)
    except PreconditionFailed as failed:
        assert failed.keys and set(failed.keys) <= set(PREFETCH)
        return
    assert isinstance(got, Gathered)
    assert set(got.origin) == set(PREFETCH)
    assert all(isinstance(r, dict) and isinstance(r.get("resourceType"), str) for r in got.resources)
    assert all(isinstance(n, str) and n.split(": ", 1)[0] in PREFETCH for n in got.notes)
    for key in PREFETCH:
        if key in prefetch and prefetch[key] is None:
            assert got.origin[key] == "null"
