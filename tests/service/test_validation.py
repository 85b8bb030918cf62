"""The response checker applied to every hook response: each CDS Hooks 2.0 invariant can fail."""
from __future__ import annotations

import copy

import pytest

from cds_service.validation import check_feedback, validate_response

GOOD_CARD = {
    "uuid": "0b6b2b44-6c3f-4b59-a8a5-0d1f3f8a2f11",
    "summary": "Consider an mTOR inhibitor",
    "detail": "**Why**: metastatic PEComa.",
    "indicator": "info",
    "source": {"label": "PEComa pathway", "url": "https://example.org/rules/S4",
               "topic": {"system": "https://example.org/fhir/CodeSystem/pecoma-rule", "code": "S4", "display": "Advanced disease"}},
    "suggestions": [{
        "label": "Order sirolimus", "uuid": "5b1f5a3e-5d84-4d8e-9e36-4b3b5c1d7e21", "isRecommended": True,
        "actions": [{"type": "create", "description": "Draft order", "resource": {"resourceType": "MedicationRequest", "status": "draft"}}],
    }],
    "selectionBehavior": "at-most-one",
    "overrideReasons": [{"system": "https://example.org/fhir/CodeSystem/pecoma-override-reason", "code": "patient-declined", "display": "Patient declined"}],
    "links": [{"label": "Rule", "url": "https://example.org/rules/S4", "type": "absolute"}],
}


def with_change(change):
    card = copy.deepcopy(GOOD_CARD)
    change(card)
    return {"cards": [card]}


def test_a_complete_card_and_the_empty_answer_are_valid():
    assert validate_response({"cards": [GOOD_CARD]}) == []
    assert validate_response({"cards": []}) == []


@pytest.mark.parametrize("change, fragment", [
    (lambda c: c.update(summary="x" * 140), "summary"),
    (lambda c: c.pop("selectionBehavior"), "selectionBehavior"),
    (lambda c: c["overrideReasons"][0].pop("display"), "display"),
    (lambda c: c["suggestions"][0]["actions"][0].pop("description"), "description"),
    (lambda c: c["links"][0].update(appContext="x"), "appContext"),
    (lambda c: c["suggestions"][0]["actions"].append({"type": "delete", "description": "remove"}), "resourceId"),
    (lambda c: c["suggestions"][0]["actions"].append({"type": "create", "description": "no resource"}), "resource"),
    (lambda c: c.update(detail=""), "detail"),
    (lambda c: c.update(links=[]), "links"),
    (lambda c: c["source"].update(url=None), "source.url"),
    (lambda c: c["suggestions"][0]["actions"][0]["resource"].update(note=[]), "resource.note"),
    (lambda c: c.update(indicator="hard-stop"), "indicator"),
    (lambda c: c["source"].pop("label"), "label"),
    (lambda c: c["suggestions"].append({"label": "second", "isRecommended": True}), "at-most-one"),
    (lambda c: c["links"][0].update(url="/relative"), "url"),
], ids=["summary-140", "no-selectionBehavior", "reason-without-display", "action-without-description", "appContext-on-absolute",
        "delete-without-resourceId", "create-without-resource", "empty-detail", "empty-links", "null-url", "empty-array-in-resource",
        "bad-indicator", "no-source-label", "two-recommended-at-most-one", "relative-link"])
def test_each_invariant_is_enforced(change, fragment):
    problems = validate_response(with_change(change))
    assert problems, "should be invalid"
    assert any(fragment in p for p in problems), problems


def test_smart_links_may_carry_app_context():
    assert validate_response(with_change(lambda c: c["links"][0].update(type="smart", appContext="patient=1"))) == []


def test_extra_top_level_fields_are_refused():
    assert validate_response({"cards": [], "card": []})


def test_feedback_accepts_what_the_sandbox_sends():
    body = {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T12:00:00.123Z",
                          "overrideReason": {"reason": {"system": "https://x", "code": "patient-declined"}}}]}
    assert check_feedback(body).problems() == []


@pytest.mark.parametrize("item", [
    {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-23t10:00:11z", "acceptedSuggestions": [{"id": "s"}]},
    {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:00:11Z", "acceptedSuggestions": [{"id": "s"}],
     "overrideReason": {"userComment": "kept for the record"}},
    {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:00:11+01:00", "acceptedSuggestions": [{"id": "s"}]},
], ids=["lower-case-rfc3339", "accepted-with-a-comment", "overridden-with-suggestions"])
def test_feedback_the_spec_allows_is_not_refused(item):
    """CDS Hooks 2.0 feedback: RFC 3339 allows 't'/'z'; the spec does not forbid these field combinations, and a
    refused batch loses every item in it."""
    assert check_feedback({"feedback": [item]}).problems() == []
