"""The service over real HTTP (gunicorn on a loopback port), as an EHR or the Sandbox calls it."""
from __future__ import annotations

import json
import uuid

import pytest

from cds_service.validation import validate_discovery
from tests.service import readme_examples
from tests.service.builders import (
    HOOK_OF, PREFETCH_KEYS, draft_orders, feedback_item, hook_request, non_pecoma_prefetch, pecoma_prefetch,
    sandbox_draft_medication_request,
)

SERVICE_IDS = sorted(HOOK_OF)
EXAMPLES = readme_examples.EXAMPLES


# --- discovery ----------------------------------------------------------------------------------

def test_discovery_lists_one_service_per_hook_with_bounded_prefetch(server, http):
    response = http.get(server.url + "/cds-services")
    assert response.status_code == 200
    body = response.json()
    assert validate_discovery(body) == []
    services = {s["id"]: s for s in body["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select", "order-sign"}
    for service_id, entry in services.items():
        assert HOOK_OF[service_id] == entry["hook"]
        assert entry["title"] and entry["description"] and entry["usageRequirements"]
        assert set(entry["prefetch"]) == set(PREFETCH_KEYS)
        assert entry["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        for template in entry["prefetch"].values():
            assert "{{context.patientId}}" in template
        assert "category=" in entry["prefetch"]["observations"], "observations must be bounded"


# --- hooks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("service_id", SERVICE_IDS)
def test_a_patient_without_pecoma_gets_no_cards(server, http, service_id):
    body = hook_request(HOOK_OF[service_id], "no-pecoma-1", non_pecoma_prefetch("no-pecoma-1"))
    response = http.post(f"{server.url}/cds-services/{service_id}", json=body)
    assert response.status_code == 200
    assert response.json() == {"cards": []}


@pytest.mark.parametrize("service_id", SERVICE_IDS)
def test_a_pecoma_patient_gets_a_valid_cards_array(server, http, service_id):
    body = hook_request(HOOK_OF[service_id], "pecoma-1", pecoma_prefetch("pecoma-1"))
    response = http.post(f"{server.url}/cds-services/{service_id}", json=body)
    assert response.status_code == 200
    assert isinstance(response.json()["cards"], list)  # validated against the response schema by `http`


def test_issued_cards_are_recorded_with_their_rule_and_a_pseudonymous_patient_key(server, http):
    from cds_service.storage import Store, patient_key
    from cds_service.config import DEMO_PATIENT_KEY_SECRET

    body = hook_request("patient-view", "pecoma-rec-1", pecoma_prefetch("pecoma-rec-1"))
    cards = http.post(f"{server.url}/cds-services/pecoma-patient-view", json=body).json()["cards"]
    store = Store(server.db_path)
    for card in cards:
        if "uuid" not in card:
            continue
        row = store.issued_card(card["uuid"])
        assert row is not None, card["summary"]
        assert row["rule_code"] == card["source"].get("topic", {}).get("code")
        assert row["hook_instance"] == body["hookInstance"] and row["service_id"] == "pecoma-patient-view"
        assert row["patient_key"] == patient_key(DEMO_PATIENT_KEY_SECRET, "pecoma-rec-1") != "pecoma-rec-1"


def test_order_select_accepts_the_sandbox_s_invalid_draft_orders(server, http):
    """The Sandbox's first order-select has a draft with no medication and `category` as an object."""
    draft = sandbox_draft_medication_request("pat-sb", with_medication=False)
    body = hook_request("order-select", "pat-sb", non_pecoma_prefetch("pat-sb"),
                        draftOrders=draft_orders(draft), selections=["MedicationRequest/request-123"])
    response = http.post(f"{server.url}/cds-services/pecoma-order-select", json=body)
    assert response.status_code == 200


def test_null_prefetch_values_mean_known_empty(server, http):
    prefetch = {key: None for key in PREFETCH_KEYS}
    prefetch["patient"] = {"resourceType": "Patient", "id": "pat-null"}
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view", json=hook_request("patient-view", "pat-null", prefetch))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_missing_prefetch_without_fhir_server_is_412_naming_the_keys(server, http):
    body = hook_request("patient-view", "pat-412")
    del body["prefetch"]
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view", json=body)
    assert response.status_code == 412
    text = json.dumps(response.json())
    assert "observations" in text and "patient" in text


# --- request errors -----------------------------------------------------------------------------

def _diagnostics(response) -> str:
    return " | ".join(issue.get("diagnostics", "") for issue in response.json()["issue"])


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda b: b.pop("hookInstance"), "hookInstance"),
        (lambda b: b.update(hookInstance="not-a-uuid"), "hookInstance"),
        (lambda b: b.update(hook="order-sign"), "answers the 'order-select' hook"),
        (lambda b: b["context"].pop("selections"), "selections"),
        (lambda b: b["context"].pop("patientId"), "patientId"),
        (lambda b: b["context"].pop("userId"), "userId"),
        (lambda b: b["context"].update(draftOrders=[{"resourceType": "MedicationRequest"}]), "draftOrders"),
        (lambda b: b["context"].update(draftOrders={"resourceType": "List"}), "draftOrders"),
        (lambda b: b["context"].update(selections=["MedicationRequest/not-in-bundle"]), "not an entry of context.draftOrders"),
        (lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "pecoma"}), "fhirServer"),
        (lambda b: b.update(prefetch={"patient": "Patient/1"}), "prefetch"),
    ],
    ids=["no-hookInstance", "bad-hookInstance", "hook-mismatch", "no-selections", "no-patientId", "no-userId",
         "draftOrders-array", "draftOrders-not-bundle", "selection-outside-draftOrders", "fhirAuthorization-without-fhirServer", "prefetch-string"],
)
def test_invalid_order_select_requests_get_400_saying_what_is_wrong(server, http, mutate, expected):
    body = hook_request("order-select", "pat-400")
    mutate(body)
    response = http.post(f"{server.url}/cds-services/pecoma-order-select", json=body)
    assert response.status_code == 400
    assert expected in _diagnostics(response)


def test_order_sign_requires_draft_orders(server, http):
    body = hook_request("order-sign", "pat-400")
    del body["context"]["draftOrders"]
    response = http.post(f"{server.url}/cds-services/pecoma-order-sign", json=body)
    assert response.status_code == 400
    assert "draftOrders" in _diagnostics(response)


def test_malformed_json_is_400(server, http):
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view", data=b'{"hook": "patient-view",', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in _diagnostics(response)


def test_wrong_content_type_is_415(server, http):
    body = json.dumps(hook_request("patient-view"))
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view", data=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in _diagnostics(response)


def test_oversized_body_is_413_with_the_configured_limit(server, http):
    body = hook_request("patient-view")
    body["prefetch"]["patient"]["text"] = {"status": "generated", "div": "x" * 400_000}
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view", json=body)
    assert response.status_code == 413
    assert "300000" in _diagnostics(response)


def test_unknown_service_is_404(server, http):
    response = http.post(f"{server.url}/cds-services/no-such-service", json=hook_request("patient-view"))
    assert response.status_code == 404
    assert "no-such-service" in _diagnostics(response)
    assert http.post(f"{server.url}/cds-services/no-such-service/feedback", json={"feedback": []}).status_code == 404


def test_wrong_method_is_405_with_an_outcome(server, http):
    response = http.get(f"{server.url}/cds-services/pecoma-patient-view")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]  # RFC 9110: a 405 names the allowed methods


# --- feedback -----------------------------------------------------------------------------------

def test_feedback_is_stored_once_when_posted_twice(server, http):
    card = str(uuid.uuid4())
    body = {"feedback": [feedback_item(card, "overridden", overrideReason={"reason": {"system": "http://example.org/reasons", "code": "patient-declined"}})]}
    first = http.post(f"{server.url}/cds-services/pecoma-patient-view/feedback", json=body)
    second = http.post(f"{server.url}/cds-services/pecoma-patient-view/feedback", json=body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["stored"] == 1 and second.json()["duplicates"] == 1
    from cds_service.storage import Store

    rows = Store(server.db_path).feedback_for_card(card)
    assert len(rows) == 1
    assert rows[0]["override_reason_code"] == "patient-declined"


def test_feedback_for_an_unknown_card_is_kept_and_flagged(server, http):
    card = str(uuid.uuid4())
    response = http.post(f"{server.url}/cds-services/pecoma-order-sign/feedback", json={"feedback": [feedback_item(card, "accepted")]})
    assert response.status_code == 200
    assert response.json()["unknownCards"] == 1


@pytest.mark.parametrize(
    "item, expected",
    [
        ({"outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:00:00Z", "acceptedSuggestions": [{"id": "s"}]}, "card"),
        ({"card": "c", "outcome": "ignored", "outcomeTimestamp": "2026-11-23T10:00:00Z"}, "outcome"),
        ({"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:00:00Z"}, "acceptedSuggestions"),
        ({"card": "c", "outcome": "overridden"}, "outcomeTimestamp"),
        ({"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}, "outcomeTimestamp"),
        ({"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-13-45T10:00:00Z"}, "outcomeTimestamp"),
        ({"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:00:00Z", "overrideReason": {"reason": {"code": "x"}}}, "system"),
    ],
    ids=["no-card", "bad-outcome", "accepted-without-suggestions", "no-timestamp", "timestamp-words", "timestamp-invalid-date", "reason-without-system"],
)
def test_invalid_feedback_is_400(server, http, item, expected):
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view/feedback", json={"feedback": [item]})
    assert response.status_code == 400
    assert expected in _diagnostics(response)


def test_a_malformed_item_does_not_lose_the_valid_items_of_its_batch(server, http):
    """Never a lost feedback record: the valid items are stored, the bad one is named, a resend stores nothing twice."""
    from cds_service.storage import Store

    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    batch = {"feedback": [feedback_item(first, "accepted"),
                          {"card": str(uuid.uuid4()), "outcome": "ignored", "outcomeTimestamp": "2026-11-23T10:00:00Z"},
                          feedback_item(second, "overridden")]}
    url = f"{server.url}/cds-services/pecoma-patient-view/feedback"
    response = http.post(url, json=batch)
    assert response.status_code == 400
    issues = response.json()["issue"]
    errors = [i["diagnostics"] for i in issues if i["severity"] == "error"]
    assert len(errors) == 1 and errors[0].startswith("feedback[1].outcome")
    info = [i["diagnostics"] for i in issues if i["severity"] == "information"]
    assert info and info[0].startswith("2 of 3 feedback item(s) were stored (2 new, 0 already stored)")
    store = Store(server.db_path)
    assert [len(store.feedback_for_card(c)) for c in (first, second)] == [1, 1]

    again = http.post(url, json=batch)
    assert again.status_code == 400
    assert "(0 new, 2 already stored)" in _diagnostics(again)
    assert [len(store.feedback_for_card(c)) for c in (first, second)] == [1, 1]


def test_an_unreadable_feedback_envelope_stores_nothing(server, http):
    from cds_service.storage import Store

    card = str(uuid.uuid4())
    body = {"feedback": [feedback_item(card)] * 501}  # over the 500-item limit: the batch as a whole is refused
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view/feedback", json=body)
    assert response.status_code == 400
    assert all(i["severity"] == "error" for i in response.json()["issue"])
    assert Store(server.db_path).feedback_for_card(card) == []


# --- CORS, health, rules ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/cds-services", "/cds-services/pecoma-patient-view", "/cds-services/pecoma-order-sign/feedback", "/healthz", "/rules"])
def test_cors_preflight_succeeds_without_credentials(server, http, path):
    response = http.options(server.url + path, headers={
        "Origin": "http://localhost:8080", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    })
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_cors_preflight_allows_private_network_access_for_allowed_origins(server, http):
    response = http.options(server.url + "/cds-services", headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
    })
    assert response.headers["Access-Control-Allow-Private-Network"] == "true"


def test_cors_header_on_actual_responses(server, http):
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view", json=hook_request("patient-view"), headers={"Origin": "http://localhost:8080"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_healthz(server, http):
    response = http.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["schemaVersion"] >= 1


def test_rules_index_and_code_systems(server, http):
    index = http.get(server.url + "/rules")
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    rules = http.get(server.url + "/fhir/CodeSystem/pecoma-rule").json()
    assert rules["resourceType"] == "CodeSystem" and rules["url"] == server.url + "/fhir/CodeSystem/pecoma-rule"
    assert rules["count"] == len(rules.get("concept", []))
    reasons = http.get(server.url + "/fhir/CodeSystem/pecoma-override-reason")
    assert reasons.status_code == 200
    assert all(c["code"] and c["display"] for c in reasons.json()["concept"])
    assert http.get(server.url + "/rules/NO-SUCH-RULE").status_code == 404


# --- logs ---------------------------------------------------------------------------------------

def test_logs_are_json_lines_with_timing_and_no_patient_id_or_token(server, http):
    patient_id = "log-probe-patient-8431"
    token = "secret-token-value-5521"
    body = hook_request("patient-view", patient_id, non_pecoma_prefetch(patient_id))
    assert http.post(f"{server.url}/cds-services/pecoma-patient-view", json=body).status_code == 200
    # a token that is presented is verified (and refused: it is not a JWT), and must not be logged either
    refused = http.post(f"{server.url}/cds-services/pecoma-patient-view", json=hook_request("patient-view", patient_id),
                        headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert "diagnostics" not in refused.text  # no details for the caller
    log = server.log()
    assert patient_id not in log and token not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    mine = [e for e in entries if e.get("hookInstance") == body["hookInstance"]]
    assert len(mine) == 1
    assert mine[0]["status"] == 200 and mine[0]["service"] == "pecoma-patient-view" and mine[0]["cards"] == 0
    assert isinstance(mine[0]["duration_ms"], float) and mine[0]["level"] == "INFO" and mine[0]["time"]
    assert any(e["level"] == "WARNING" and "DEMO MODE" in e["event"] for e in entries)


# --- the README's curl examples -----------------------------------------------------------------

@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_readme_example_requests_are_built_from_the_fixtures(hook):
    assert (EXAMPLES / f"{hook}.json").read_text(encoding="utf-8") == readme_examples.text(readme_examples.examples()[hook]), \
        "run .venv/bin/python -m tests.service.readme_examples"


def _cards(server, http, hook):
    body = json.loads((EXAMPLES / f"{hook}.json").read_text())
    response = http.post(f"{server.url}/cds-services/pecoma-{hook}", json=body)
    assert response.status_code == 200
    return {card["source"]["topic"]["code"]: card for card in response.json()["cards"]}


def test_readme_patient_view_example_proposes_first_line_mtor_inhibitor_orders(server, http):
    cards = _cards(server, http, "patient-view")
    assert list(cards)[0] == "ASSESSMENT" and "S4" in cards
    drafts = [a["resource"] for s in cards["S4"]["suggestions"] for a in s["actions"] if a["type"] == "create"]
    assert any(r["resourceType"] == "MedicationRequest" and r["status"] == "draft" for r in drafts)


def test_readme_order_select_example_replaces_the_drafted_doxorubicin(server, http):
    card = _cards(server, http, "order-select")["S4"]
    assert card["indicator"] == "warning" and "doxorubicin" in card["summary"]
    deleted = {a.get("resourceId") for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"}
    assert deleted == {"MedicationRequest/draft-doxorubicin"}


def test_readme_order_sign_example_flags_the_cyp3a4_interaction(server, http):
    card = _cards(server, http, "order-sign")["R4"]
    assert card["indicator"] in ("warning", "critical") and "itraconazole" in card["summary"]


def test_readme_example_feedback_is_accepted(server, http):
    body = json.loads((EXAMPLES / "feedback.json").read_text())
    response = http.post(f"{server.url}/cds-services/pecoma-patient-view/feedback", json=body)
    assert response.status_code == 200 and response.json()["received"] == 1


def _with_medications_cut_off(body: dict) -> dict:
    """The order-sign example, its medication statements (itraconazole) replaced by a search that says it is
    incomplete, and no fhirServer to fetch the rest from."""
    body = json.loads(json.dumps(body))
    body["prefetch"]["medicationStatements"] = {
        "resourceType": "Bundle", "type": "searchset",
        "entry": [{"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "incomplete"}]},
                   "search": {"mode": "outcome"}}]}
    return body


def test_an_incomplete_record_is_said_on_the_order_hooks_too(server, http):
    """An order check that finds nothing in a record known to be incomplete must not read as 'no alerts'
    (issue #6: partial data is used with a data-quality note; §1 unknown is a state)."""
    body = _with_medications_cut_off(json.loads((EXAMPLES / "order-sign.json").read_text()))
    cards = http.post(f"{server.url}/cds-services/pecoma-order-sign", json=body).json()["cards"]
    by_code = {c["source"]["topic"]["code"]: c for c in cards}
    assert "R4" not in by_code  # the itraconazole was in the part that did not arrive
    incomplete = by_code["DATA-INCOMPLETE"]
    assert incomplete["indicator"] == "warning" and "medicationStatements" in incomplete["detail"]


def test_long_ehr_ids_are_accepted_and_echoed_in_the_replacement_suggestion(server, http):
    """FHIR R4 caps ids at 64 characters, but EHRs send longer ones (CDS Hooks' own order-sign example has
    ~190-character Epic draft-order ids): refusing the call would drop every safety alert."""
    long_id = "ez067mnwOAKP5z1.YJwRAsd9gCwdOzQ8wSrsM04Q" * 5  # 195 characters
    body = json.loads((EXAMPLES / "order-select.json").read_text())
    body["context"]["draftOrders"]["entry"][0]["resource"]["id"] = long_id
    body["context"]["selections"] = [f"MedicationRequest/{long_id}"]
    response = http.post(f"{server.url}/cds-services/pecoma-order-select", json=body)
    assert response.status_code == 200
    s4 = next(c for c in response.json()["cards"] if c["source"]["topic"]["code"] == "S4")
    assert {a.get("resourceId") for s in s4["suggestions"] for a in s["actions"] if a["type"] == "delete"} == {
        f"MedicationRequest/{long_id}"}
    assert f"**Order under review**: doxorubicin IV every 3 weeks (MedicationRequest/{long_id})" in s4["detail"]
