"""Prefetch template tokens (CDS Hooks 2.0 §Prefetch tokens): root-level primitive context fields and the four
user id tokens; values cannot inject query parameters or path segments."""
from __future__ import annotations

from cds_service.data_access import gather, resolve_template

CONTEXT = {"patientId": "p-1", "userId": "PractitionerRole/r 9", "encounterId": "e1", "flag": True,
           "draftOrders": {"resourceType": "Bundle"}}


def test_context_and_user_tokens_are_resolved_and_encoded():
    assert resolve_template("Observation?patient={{context.patientId}}&encounter={{ context.encounterId }}", CONTEXT) == \
        "Observation?patient=p-1&encounter=e1"
    assert resolve_template("PractitionerRole?_id={{userPractitionerRoleId}}", CONTEXT) == "PractitionerRole?_id=r%209"
    assert resolve_template("X?flag={{context.flag}}", CONTEXT) == "X?flag=true"


def test_values_cannot_inject_parameters_or_path_segments():
    assert resolve_template("Condition?patient={{context.patientId}}", {"patientId": "p1&_id=other"}) == \
        "Condition?patient=p1%26_id%3Dother"
    assert resolve_template("Patient/{{context.patientId}}", {"patientId": "../Observation"}) is None  # not a FHIR id
    assert resolve_template("Patient/{{context.patientId}}", {"patientId": ".."}) is None


def test_unresolvable_tokens_give_none():
    assert resolve_template("Practitioner/{{userPractitionerId}}", CONTEXT) is None  # the user is a PractitionerRole
    assert resolve_template("Bundle?x={{context.draftOrders}}", CONTEXT) is None  # not a primitive
    assert resolve_template("Bundle?x={{context.draftOrders.id}}", CONTEXT) is None  # not root-level
    assert resolve_template("Encounter/{{context.missing}}", CONTEXT) is None


def test_a_key_whose_template_cannot_be_resolved_is_skipped_with_a_note():
    templates = {"user": "Practitioner/{{userPractitionerId}}"}
    got = gather({"context": CONTEXT}, templates, {})
    assert got.resources == [] and got.origin == {"user": "skipped"}
    assert got.notes == ["user: the query could not be built from the hook context; not requested"]


def test_a_prefetched_value_is_used_even_if_its_template_cannot_be_resolved():
    templates = {"user": "Practitioner/{{userPractitionerId}}"}
    practitioner = {"resourceType": "Practitioner", "id": "x"}
    got = gather({"context": CONTEXT, "prefetch": {"user": practitioner}}, templates, {})
    assert got.resources == [practitioner] and got.origin == {"user": "prefetch"}
