"""Robust to junk (issue #3 point 6): arbitrary JSON and arbitrary mutations of valid resources never raise.

Stronger than "no exception escapes" (a last-resort guard guarantees that): junk must be handled where it
is read, so the guard's "could not be read completely" note must not appear either.
"""
from __future__ import annotations

import copy
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fhir_mappings import extract, read_draft_orders
from pathway.facts import PatientFacts
from tests.fixtures import bundle_resources, load_vignette_bundle, vignette_ids

TODAY = date(2026, 11, 22)
GUARD_NOTES = ("could not be read completely", "extraction stopped early")
RESOURCES = [r for vid in vignette_ids() for r in bundle_resources(load_vignette_bundle(vid))]
RESOURCE_TYPES = sorted({r["resourceType"] for r in RESOURCES})

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["2026-13-45", "1900", "final", "HGNC:12363", "R0", "mm"]))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(["resourceType", "id", "code", "coding", "system",
                                                                "value", "valueQuantity", "entry", "resource", "text",
                                                                "status", "component", "extension"]) | st.text(max_size=6),
                                               children, max_size=4)),
    max_leaves=20,
)
fake_resources = st.builds(lambda t, body: {**body, "resourceType": t},
                           st.sampled_from(RESOURCE_TYPES + ["Bundle"]), st.dictionaries(st.text(max_size=8), json_values, max_size=5))
quick = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, prefix + (index,))


@st.composite
def mutated_resource(draw):
    resource = copy.deepcopy(draw(st.sampled_from(RESOURCES)))
    for _ in range(draw(st.integers(1, 4))):
        candidates = [p for p in paths(resource) if p]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = resource
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[path[-1]] = draw(json_values)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return resource


def assert_clean(facts: PatientFacts) -> None:
    assert isinstance(facts, PatientFacts)
    assert not any(guard in note for note in facts.data_quality for guard in GUARD_NOTES), facts.data_quality


@quick
@given(json_values)
def test_arbitrary_json_as_input(value):
    assert isinstance(extract(value, today=TODAY), PatientFacts)
    assert isinstance(extract([value], today=TODAY), PatientFacts)
    assert isinstance(read_draft_orders(value), tuple)


@quick
@given(st.lists(fake_resources, max_size=5))
def test_arbitrary_resources(resources):
    assert_clean(extract(resources, today=TODAY))
    assert isinstance(read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}), tuple)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_resource(), min_size=1, max_size=6), st.sampled_from(vignette_ids()))
@example([{"resourceType": "MedicationRequest", "status": "active", "intent": [],  # a list where a code belongs
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "35302"}]}}],
         "V01")
def test_mutations_of_valid_resources(mutated, vignette_id):
    resources = bundle_resources(load_vignette_bundle(vignette_id)) + mutated
    assert_clean(extract(resources, today=TODAY))
    assert_clean(extract(resources, today=TODAY, patient_id=f"pecoma-{vignette_id.lower()}"))


def test_valid_fixtures_need_no_guard():
    for vignette_id in vignette_ids():
        assert_clean(extract(bundle_resources(load_vignette_bundle(vignette_id)), today=TODAY))


def test_huge_bundle_is_bounded():
    observation = bundle_resources(load_vignette_bundle("V38"))[-1]
    entries = [{"resource": {**observation, "id": f"o{i}"}} for i in range(25_000)]
    facts = extract([{"resourceType": "Bundle", "entry": entries}], today=TODAY)
    assert any("not read" in note for note in facts.data_quality)
