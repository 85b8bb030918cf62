"""render never raises and stays spec-clean for any Decision built from the contract dataclasses."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards import RenderContext, render
from pathway.decision import (
    Assessment,
    Coding,
    DataGap,
    Decision,
    Evidence,
    FactUse,
    Kind,
    Option,
    ProposedOrder,
    Recommendation,
    SchemeResult,
    ScopeStatus,
    Stage,
    Urgency,
)
from pathway.facts import (
    Entity,
    Fact,
    Haemorrhage,
    MarkerResult,
    MitoticCount,
    MitoticDenominator,
    PdL1,
    Provenance,
)
from tests.cards.spec_checks import response_problems

texts = st.text(max_size=60) | st.sampled_from(["", " ", "<script>x</script>", "**b**", "1. x", "- y", "&amp;",
                                                  "S4", "R13", "Condition/pecoma-1", "MedicationRequest/d1"])
optional_texts = st.none() | texts
small = st.tuples(texts) | st.tuples(texts, texts) | st.just(())

values = st.one_of(
    st.none(), texts, st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(), st.sampled_from(list(Entity) + list(MarkerResult) + list(Haemorrhage)),
    st.builds(MitoticCount, st.floats(0, 500), st.sampled_from(list(MitoticDenominator))),
    st.builds(PdL1, optional_texts, optional_texts, optional_texts, optional_texts),
    st.lists(texts, max_size=3), st.dictionaries(texts, texts, max_size=2),
)
facts = st.builds(Fact, value=values, unit=optional_texts, sources=small, date=st.none() | st.dates(),
                  provenance=st.sampled_from(list(Provenance)), note=optional_texts)
real_codings = st.sampled_from([
    Coding("http://www.nlm.nih.gov/research/umls/rxnorm", "2586868", "sirolimus 100 MG Injection [Fyarro]"),
    Coding("http://www.nlm.nih.gov/research/umls/rxnorm", "35302", "sirolimus"),
    Coding("http://loinc.org", "29247-4", "Sirolimus [Mass/volume] in Blood"),
    Coding("http://snomed.info/sct", "702475000", "Referral to clinical trial"),
])
codings = real_codings | st.builds(Coding, texts, texts, texts)
orders = st.builds(
    ProposedOrder,
    resource_type=st.sampled_from(["MedicationRequest", "ServiceRequest", "Procedure", ""]),
    codings=st.lists(codings, max_size=3).map(tuple),
    text=texts, dosage_text=optional_texts, category=optional_texts, recommended=st.booleans(), note=optional_texts,
)
evidence = st.builds(Evidence, source=texts | st.sampled_from(["P-AMPECT", "S003", "P-FDA"]), level=texts,
                     statement=optional_texts)
evidences = st.lists(evidence, max_size=3).map(tuple)
options = st.builds(Option, label=texts, detail=texts, evidence=evidences, order=st.none() | orders,
                    preferred=st.booleans(), received=optional_texts)
recommendations = st.builds(
    Recommendation,
    rule_id=texts | st.sampled_from(["S4", "R4", "R13", "R14", "MDT"]),
    kind=st.sampled_from(list(Kind)), urgency=st.sampled_from(list(Urgency)),
    summary=texts | st.text(min_size=130, max_size=400),
    actions=st.lists(texts, max_size=3).map(tuple),
    facts_used=st.lists(st.builds(FactUse, label=texts, fact=facts, display=optional_texts), max_size=3).map(tuple),
    evidence=evidences, caveats=st.lists(texts, max_size=2).map(tuple),
    options=st.lists(options, max_size=4).map(tuple), orders=st.lists(orders, max_size=3).map(tuple),
    replaces_order=st.none() | texts | st.just("MedicationRequest/draft-1"), about_order=optional_texts,
    pending_resolution=st.booleans(),
)
stages = st.builds(Stage, stage=texts, t=optional_texts, n=optional_texts, m=optional_texts, grade=optional_texts,
                   fnclcc_components=st.none() | st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
                   as_reported=optional_texts)
assessments = st.builds(
    Assessment,
    scope=st.sampled_from(list(ScopeStatus)), diagnosis=texts, primary_scheme=optional_texts,
    primary_class=optional_texts,
    schemes=st.lists(st.builds(SchemeResult, scheme=texts, klass=texts, candidates=small, features_present=small,
                               features_unknown=small, display_only=st.booleans()), max_size=3).map(tuple),
    flags=small, bleeker=st.none() | st.fixed_dictionaries({"known_count": st.integers(0, 5),
                                                            "unknown": st.lists(texts, max_size=2)}),
    garzon=optional_texts, stage=st.none() | stages, setting_primary=st.none() | st.sampled_from(["S1", "S4", "S7"]),
    setting_modifiers=st.lists(st.sampled_from(["S4b", "S5", "S9", "S10", "S11", "S99"]), max_size=3).map(tuple),
    line_of_therapy=st.none() | st.integers(0, 12), surveillance_risk=optional_texts,
    dfi_months=st.none() | st.integers(-5, 400), provisional=st.booleans(),
)
decisions = st.builds(
    Decision, assessment=assessments, recommendations=st.lists(recommendations, max_size=4).map(tuple),
    data_gaps=st.lists(st.builds(DataGap, field=texts, reason=texts, display_only=st.booleans(),
                                 urgency=st.sampled_from(list(Urgency))), max_size=3).map(tuple),
    notes=st.lists(texts, max_size=2).map(tuple),
)
contexts = st.builds(
    RenderContext,
    hook=st.sampled_from(["patient-view", "order-select", "order-sign"]),
    patient_ref=st.sampled_from(["Patient/p1", "Patient/abc-123", ""]),
    base_url=st.sampled_from(["https://cds.example.org", "http://127.0.0.1:8080/"]),
    smart_app_url=st.none() | st.just("https://app.example.org/launch"),
    pecoma_condition_ref=st.none() | st.sampled_from(["Condition/pecoma-1", "not a reference"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decision=decisions, context=contexts)
def test_render_never_raises_and_is_spec_clean(decision, context):
    out = render(decision, context)
    assert response_problems({"cards": out}) == []
    if decision.assessment.scope is ScopeStatus.NOT_PECOMA:
        assert out == []
    else:
        not_assessment = [r for r in decision.recommendations
                          if r.kind is not Kind.ASSESSMENT and " ".join(r.rule_id.split()) != "ASSESSMENT"]
        expected = len(not_assessment) + (
            decision.assessment.scope is ScopeStatus.IN_SCOPE and context.hook == "patient-view")
        assert len(out) == expected
    rank = {"critical": 0, "warning": 1, "info": 2}
    recs = out[1:] if out and out[0]["source"]["topic"]["code"] == "ASSESSMENT" else out
    assert [rank[c["indicator"]] for c in recs] == sorted(rank[c["indicator"]] for c in recs)


def test_dates_and_odd_values_are_shown_in_words():
    from cards.markdown import fact_line

    assert fact_line("Resection", Fact(date(2025, 1, 6))) == "**Resection**: 2025-01-06"
    assert fact_line("Necrosis", Fact(True, sources=("Observation/n",))) == "**Necrosis**: yes (Observation/n)"
    assert fact_line("ECOG", Fact(None)) == "**ECOG**: unknown"
    assert fact_line("PD-L1", Fact(PdL1("positive", "22C3", "TPS 5%"))) == (
        "**PD-L1**: positive, TPS 5%, assay 22C3, cut-off not reported")
