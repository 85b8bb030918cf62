"""cards.render: Decision -> CDS Hooks 2.0 cards (issue #5, acceptance points 1-8)."""
from __future__ import annotations

import re
import uuid
from dataclasses import replace

import pytest
from fhir.resources.R4B.codesystem import CodeSystem

import cards
from cards import OVERRIDE_REASONS, RenderContext, override_reason_code_system, render
from cards.tables import SETTING_NAMES
from pathway.catalogue import RULES
from pathway.decision import Decision, Kind, ProposedOrder, Recommendation, ScopeStatus, Urgency
from tests.cards import decisions as d
from tests.cards.spec_checks import emitted_resources, resource_problems, response_problems

BASE = "https://cds.example.org"


def ctx(hook: str = "patient-view", **kw) -> RenderContext:
    kw.setdefault("pecoma_condition_ref", "Condition/pecoma-1")
    return RenderContext(hook=hook, patient_ref="Patient/p1", base_url=BASE + "/", **kw)


def setting_name(setting: str) -> str:
    """The catalogue's title of a setting when catalogued, else the cards' display table."""
    return RULES[setting].title if setting in RULES else SETTING_NAMES[setting]


def by_code(cards_: list[dict], code: str) -> dict:
    (card,) = [c for c in cards_ if c["source"]["topic"]["code"] == code]
    return card


def codes(cards_: list[dict]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards_]


def assert_clean(cards_: list[dict]) -> None:
    assert response_problems({"cards": cards_}) == []


# 1. one card per recommendation, ordered; assessment first on patient-view -----------------------


def test_one_card_per_recommendation_critical_first_assessment_first():
    decision = d.s4_decision()
    critical = Recommendation("R15", Kind.SAFETY, Urgency.CRITICAL, "Pregnant: mTOR inhibitors are embryo-fetal toxic")
    decision = replace(decision, recommendations=decision.recommendations + (critical,))
    out = render(decision, ctx())
    assert codes(out) == [cards.ASSESSMENT_TOPIC, "R15", "R7", "S4", "MDT", "DATA-GAP"]
    assert [c["indicator"] for c in out] == ["info", "critical", "warning", "info", "info", "info"]
    assert_clean(out)


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_no_assessment_card_on_order_hooks(hook):
    out = render(d.s4_decision(), ctx(hook))
    assert cards.ASSESSMENT_TOPIC not in codes(out)
    assert sorted(codes(out)) == sorted(r.rule_id for r in d.s4_decision().recommendations)


def test_assessment_card_states_class_stage_setting_line_and_gaps():
    card = render(d.s4_decision(), ctx())[0]
    summary, detail = card["summary"], card["detail"]
    assert card["indicator"] == "info"
    for expected in ("Malignant PEComa", "Folpe 2005: malignant", "AJCC IV", "S4+S9", "line 1", "3 data gaps"):
        assert expected in summary
    assert "Folpe 2005 (primary): **malignant**" in detail
    assert "(display only)" in detail  # the >= variant
    assert "classified on a biopsy (provisional)" in detail  # borderline/provisional flags in words
    assert "Bleeker (display only): 2 feature(s) known; unknown: mitoses" in detail
    assert "AJCC 8th: **IV** (T3 N0 M1 G3)" in detail
    assert f"Primary: S4 — {setting_name('S4')}" in detail
    assert f"Modifiers: S9 — {setting_name('S9')}" in detail
    assert "Line of therapy (advanced disease): 1" in detail
    assert "**Data gaps (3)**" in detail and "for Bleeker display only (display only)" in detail
    assert "overrideReasons" not in card and "suggestions" not in card


def test_a_long_diagnosis_text_never_pushes_line_and_gaps_out_of_the_assessment_summary():
    """Sandbox finding (V04): '... · stage not applicable · line…' lost the line of therapy and the gap count."""
    decision = d.s4_decision()
    long_text = "Malignant PEComa, confirmed on central review (S003; retroperitoneal; liver-metastasis biopsy 2026-10-30)"
    decision = replace(decision, assessment=replace(decision.assessment, diagnosis=long_text))
    card = render(decision, ctx())[0]
    summary = card["summary"]
    assert summary.startswith("Malignant PEComa · Folpe 2005: malignant")
    assert summary.endswith("line 1 · 3 data gaps") and len(summary) < 140
    assert "confirmed on central review" in card["detail"]  # the whole diagnosis text stays in the detail


def test_assessment_card_without_primary_class_says_so_and_shows_candidates():
    card = render(d.r13_pending_decision(), ctx())[0]
    assert "class not asserted" in card["summary"] and "not staged" in card["summary"]
    assert "No primary class asserted" not in card["detail"]  # no primary scheme either
    assert "candidates: malignant, uncertain malignant potential" in card["detail"]


@pytest.mark.parametrize("scope", [ScopeStatus.PAEDIATRIC, ScopeStatus.OUT_OF_SCOPE_ENTITY,
                                   ScopeStatus.CONFIRM_DIAGNOSIS])
def test_out_of_scope_renders_only_the_pathway_card(scope):
    out = render(d.r14_decision(scope), ctx())
    assert codes(out) == ["R14"]
    assert out[0]["indicator"] == "info"
    assert_clean(out)


def test_not_pecoma_renders_nothing_even_if_given_recommendations():
    decision = replace(d.r14_decision(), assessment=replace(d.r14_decision().assessment, scope=ScopeStatus.NOT_PECOMA))
    assert render(decision, ctx()) == []


# 2. summary -------------------------------------------------------------------------------------


def test_pathway_summaries_fit_and_are_kept_verbatim():
    for decision in (d.s4_decision(), d.order_sign_replacement_decision(), d.r14_decision()):
        out = render(decision, ctx("order-sign"))
        for rec in decision.recommendations:
            assert len(rec.summary) < 140, rec.rule_id
            assert by_code(out, rec.rule_id)["summary"] == rec.summary


def test_overlong_summary_is_cut_at_a_word_and_kept_whole_in_the_detail():
    long = "Metastatic malignant PEComa " + "with many documented lung and liver metastases " * 4
    decision = Decision(assessment=d.s4_assessment(), recommendations=(d.s4_recommendation(summary=long),))
    card = by_code(render(decision, ctx()), "S4")
    assert len(card["summary"]) < 140 and card["summary"].endswith("…")
    assert long.startswith(card["summary"][:-1])
    assert card["detail"].startswith(long.strip())


# 3. detail: why / what / evidence / caveats, escaped --------------------------------------------


def test_detail_has_facts_with_values_dates_sources_actions_doses_evidence_and_caveats():
    detail = by_code(render(d.s4_decision(), ctx()), "S4")["detail"]
    sections = re.findall(r"^\*\*(Why|What|Evidence|Caveats)\*\*$", detail, re.M)
    assert sections == ["Why", "What", "Evidence", "Caveats"]
    assert "**M status**: M1 (2026\\-10\\-02; Condition/met\\-lung\\-1)" not in detail  # hyphens are not escaped
    assert "**M status**: M1 (2026-10-02; Condition/met-lung-1)" in detail
    assert "**Total bilirubin**: 0.6 mg/dL (ULN 1.2) (2026-11-01; Observation/bili-1)" in detail
    assert "**AST**: 22 U/L (2026-11-01; Observation/ast-1)" in detail
    assert "**Prior mTOR inhibitor**: no" in detail
    assert ("**nab-sirolimus (FYARRO)** (preferred by the pathway): 100 mg/m2 IV over 30 min on days 1 and 8 of each "
            "21-day cycle") in detail
    assert "Order: Baseline chest CT before an mTOR inhibitor" in detail
    assert "AMPECT: Wagner AJ et al. J Clin Oncol 2021;39:3660 — \\[V\\] phase II single-arm: ORR 39% (12/31)" in detail
    assert "S000 quoting ESMO; S004 Table 9 — \\[SEED\\] ESMO grade C, level IV: mTOR inhibitor: treatment of choice" in detail
    assert "Switching between mTOR inhibitors after progression is not evidence-based" in detail


def test_detail_never_carries_html_or_markdown_from_data():
    out = render(d.hostile_decision(), ctx())
    assert_clean(out)
    for card in out:
        detail = card["detail"]
        assert "<" not in detail and ">" not in detail
        assert "&lt;img src=x onerror=alert(1)&gt;" in detail
        assert "**bold**" not in detail and "\\*\\*bold\\*\\*" in detail
        assert "[link](" not in detail and "\\[link\\](javascript" in detail
        assert not re.search(r"^\s*#", detail, re.M)  # no heading injected
    s4 = by_code(out, "S4")["detail"]
    assert "\\- 1. list \\# heading &lt;script&gt;x&lt;/script&gt;" in s4  # one line, no list or heading
    assert "mitoses**: 3 per 10 HPF" in s4


# 4. source ---------------------------------------------------------------------------------------


def test_source_label_names_the_basis_and_topic_is_the_rule_code():
    out = render(d.s4_decision(), ctx())
    source = by_code(out, "S4")["source"]
    # guidelines, trials and labels first; a guideline quoted by a seed is named as such
    assert source["label"] == "PEComa pathway (ESMO (as quoted); AMPECT; FYARRO label; …) — not clinically validated"
    assert source["topic"]["system"] == f"{BASE}/fhir/CodeSystem/pecoma-rule"
    assert source["topic"]["display"]  # catalogue title, or a readable fallback while the catalogue is empty
    r7 = by_code(out, "R7")["source"]
    assert r7["label"] == "PEComa pathway (FYARRO label) — not clinically validated"


def test_code_system_base_is_configurable():
    context = ctx(code_system_base="https://terminology.example.org/CodeSystem/")
    card = by_code(render(d.s4_decision(), context), "S4")
    assert card["source"]["topic"]["system"] == "https://terminology.example.org/CodeSystem/pecoma-rule"
    assert card["overrideReasons"][0]["system"] == "https://terminology.example.org/CodeSystem/pecoma-override-reason"


# 5. suggestions and draft orders -----------------------------------------------------------------


def test_s4_offers_three_alternatives_with_the_baseline_orders_and_one_recommended():
    card = by_code(render(d.s4_decision(), ctx()), "S4")
    assert card["selectionBehavior"] == "at-most-one"
    labels = [s["label"] for s in card["suggestions"]]
    shared = "Baseline chest CT before an mTOR inhibitor, Lipid panel"
    assert labels == [f"nab-sirolimus (FYARRO) (with {shared})", f"sirolimus (oral) (with {shared})",
                      f"temsirolimus (with {shared})", f"{shared} only"]
    assert [s.get("isRecommended", False) for s in card["suggestions"]] == [True, False, False, False]
    fyarro = card["suggestions"][0]["actions"][0]["resource"]
    assert fyarro["resourceType"] == "MedicationRequest"
    assert (fyarro["status"], fyarro["intent"]) == ("draft", "proposal")
    assert [(c["system"], c["code"]) for c in fyarro["medicationCodeableConcept"]["coding"]] == [
        (d.RXNORM, "2586868"), (d.RXNORM, "35302")]
    assert fyarro["subject"] == {"reference": "Patient/p1"}
    assert fyarro["reasonReference"] == [{"reference": "Condition/pecoma-1"}]
    assert fyarro["dosageInstruction"] == [{"text": d.FYARRO_ORDER.dosage_text}]
    assert "rule S4" in fyarro["note"][0]["text"] and "P-AMPECT" in fyarro["note"][0]["text"]
    ct = card["suggestions"][0]["actions"][1]["resource"]
    assert ct["resourceType"] == "ServiceRequest"
    assert ct["code"]["coding"] == [{"system": d.SNOMED, "code": "169069000", "display": "Computed tomography of chest"}]
    assert ct["category"] == [{"text": "imaging"}]
    assert "dosageInstruction" not in ct


def test_the_order_under_review_is_named_as_drafted_not_only_by_its_id():
    """Sandbox finding: 'Order under review: MedicationRequest/request-123' told the clinician nothing."""
    names = (("MedicationRequest/draft-doxo", "Doxorubicin 2 MG/ML Injectable Solution"),)
    s4 = by_code(render(d.order_sign_replacement_decision(), ctx("order-sign", draft_order_names=names)), "S4")
    assert ("**Order under review**: Doxorubicin 2 MG/ML Injectable Solution (MedicationRequest/draft-doxo)"
            " (the suggestions replace it)" in s4["detail"])
    assert "replace**" not in s4["detail"]  # one line when the order under review is the one replaced
    plain = by_code(render(d.order_sign_replacement_decision(), ctx("order-sign")), "S4")
    assert "**Order under review**: MedicationRequest/draft-doxo" in plain["detail"]


def test_every_emitted_resource_validates_with_r4b_and_carries_only_given_codes():
    given = {(c.system, c.code) for c in (d.FYARRO_SBD, d.SIROLIMUS_IN, d.TEMSIROLIMUS_IN)} | {
        (c.system, c.code) for o in (d.CHEST_CT, d.LIPID_PANEL, d.TRIAL_REFERRAL) for c in o.codings}
    for decision in (d.s4_decision(), d.order_sign_replacement_decision()):
        out = render(decision, ctx("order-sign"))
        resources = emitted_resources(out)
        assert resources
        for resource in resources:
            assert resource_problems(resource) == []
            concept = resource.get("medicationCodeableConcept") or resource["code"]
            assert {(c["system"], c["code"]) for c in concept["coding"]} <= given
            assert "id" not in resource


def test_no_reason_reference_without_a_pecoma_condition():
    out = render(d.s4_decision(), ctx(pecoma_condition_ref=None))
    assert all("reasonReference" not in r for r in emitted_resources(out))
    assert_clean(out)


def test_no_dosage_instruction_without_dose_text():
    card = by_code(render(d.s4_decision(), ctx()), "MDT")
    referral = card["suggestions"][0]["actions"][0]["resource"]
    assert referral["code"]["coding"][0]["code"] == "702475000"
    assert card["selectionBehavior"] == "any"
    assert "dosageInstruction" not in referral


def test_order_sign_replacement_creates_the_alternative_then_deletes_the_draft():
    out = render(d.order_sign_replacement_decision(), ctx("order-sign"))
    assert_clean(out)
    s4 = by_code(out, "S4")
    assert s4["selectionBehavior"] == "at-most-one"
    for suggestion in s4["suggestions"]:
        create, delete = suggestion["actions"]  # create first: the Sandbox applies only the first action
        assert delete == {"type": "delete", "description": delete["description"],
                          "resourceId": "MedicationRequest/draft-doxo"}
        assert create["type"] == "create"
    assert s4["suggestions"][0]["label"] == "Replace the draft order with nab-sirolimus (FYARRO)"
    assert [s.get("isRecommended", False) for s in s4["suggestions"]] == [True, False, False]
    r4 = by_code(out, "R4")
    (suggestion,) = r4["suggestions"]
    assert suggestion["isRecommended"] is True
    assert suggestion["actions"][0]["resource"]["dosageInstruction"][0]["text"].startswith("56 mg/m2")
    assert suggestion["actions"][1]["resourceId"] == "MedicationRequest/draft-fyarro"
    assert "**Order under review**: MedicationRequest/draft\\-fyarro" not in r4["detail"]
    assert "**Order under review**: MedicationRequest/draft-fyarro" in r4["detail"]


def test_no_delete_on_patient_view():
    out = render(d.order_sign_replacement_decision(), ctx("patient-view"))
    actions = [a for c in out for s in c.get("suggestions", []) for a in s["actions"]]
    assert actions and all(a["type"] == "create" for a in actions)


def test_pending_resolution_offers_no_orders_and_says_why():
    out = render(d.r13_pending_decision(), ctx())
    assert codes(out) == [cards.ASSESSMENT_TOPIC, "R13", "S5"]
    s5 = by_code(out, "S5")
    assert "suggestions" not in s5 and "selectionBehavior" not in s5
    assert "**Pending resolution of a data conflict (R13)**" in s5["detail"]
    assert s5["summary"] == d.r13_pending_decision().recommendations[1].summary
    assert_clean(out)


def test_an_order_that_cannot_be_built_is_not_offered_and_the_card_says_so():
    broken = ProposedOrder("MedicationRequest", (d.Coding(d.RXNORM, " ", ""),), "")
    procedure = ProposedOrder("Procedure", (d.Coding(d.SNOMED, "370612006", "Excision of neoplasm"),), "Excision")
    rec = Recommendation("S1", Kind.TREATMENT, Urgency.INFO, "Localised resectable PEComa: complete resection",
                         orders=(broken, procedure, d.LIPID_PANEL))
    card = by_code(render(Decision(d.s4_assessment(), (rec,)), ctx()), "S1")
    assert [s["label"] for s in card["suggestions"]] == ["Lipid panel"]
    assert "Could not offer a valid draft order for Excision" in card["detail"]
    assert_clean([card])


# 6. override reasons -------------------------------------------------------------------------------


def test_override_reasons_on_actionable_cards_only():
    out = render(d.s4_decision(), ctx())
    with_reasons = {c["source"]["topic"]["code"] for c in out if "overrideReasons" in c}
    assert with_reasons == {"S4", "R7", "MDT"}  # treatment, safety, a card with suggestions
    reasons = by_code(out, "R7")["overrideReasons"]
    assert [(r["code"], r["display"]) for r in reasons] == [(r["code"], r["display"]) for r in OVERRIDE_REASONS]
    assert {r["system"] for r in reasons} == {f"{BASE}/fhir/CodeSystem/pecoma-override-reason"}


def test_override_reason_table_covers_the_issue_and_serves_as_a_code_system():
    table = {r["code"]: r["display"] for r in OVERRIDE_REASONS}
    assert len(table) == len(OVERRIDE_REASONS)
    for code in ("patient-declined", "not-available-or-not-covered", "enrolled-in-clinical-trial",
                 "contraindicated", "already-done-elsewhere", "clinical-judgement"):
        assert table[code]
    code_system = override_reason_code_system(BASE + "/")
    CodeSystem.model_validate(code_system)
    assert code_system["url"] == f"{BASE}/fhir/CodeSystem/pecoma-override-reason"
    assert [c["code"] for c in code_system["concept"]] == list(table)


# 7. links ------------------------------------------------------------------------------------------


def test_rule_link_is_absolute_and_smart_link_only_when_configured():
    card = by_code(render(d.s4_decision(), ctx()), "S4")
    assert card["links"] == [{"label": "About this rule", "url": f"{BASE}/rules/S4", "type": "absolute"}]
    smart = by_code(render(d.s4_decision(), ctx(smart_app_url="https://app.example.org/launch")), "S4")["links"][1]
    assert smart["type"] == "smart" and smart["url"] == "https://app.example.org/launch"
    assert '"rule_id": "S4"' in smart["appContext"]


# 8. spec-clean ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
@pytest.mark.parametrize("build", [d.s4_decision, d.order_sign_replacement_decision, d.r13_pending_decision,
                                   d.r14_decision, d.hostile_decision])
def test_every_rendering_is_spec_clean_with_unique_uuids(hook, build):
    out = render(build(), ctx(hook, smart_app_url="https://app.example.org/launch"))
    assert_clean(out)
    ids = [c["uuid"] for c in out] + [s["uuid"] for c in out for s in c.get("suggestions", [])]
    assert len(ids) == len(set(ids))
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_an_assessment_recommendation_joins_the_assessment_card_instead_of_doubling_it():
    about = Recommendation("ASSESSMENT", Kind.ASSESSMENT, Urgency.INFO, "Folpe 2005 malignant; AJCC IV",
                           caveats=("Computed class: malignant by Folpe 2005",),
                           evidence=(d.Evidence("P-FOLPE", "[V] abstract"),))
    decision = replace(d.s4_decision(), recommendations=(about,) + d.s4_decision().recommendations)
    out = render(decision, ctx())
    assert codes(out).count(cards.ASSESSMENT_TOPIC) == 1 and codes(out)[0] == cards.ASSESSMENT_TOPIC
    assert "Computed class: malignant by Folpe 2005" in out[0]["detail"]
    assert out[0]["source"]["label"] == "PEComa pathway (Folpe 2005) — not clinically validated"
    assert cards.ASSESSMENT_TOPIC not in codes(render(decision, ctx("order-sign")))
    assert_clean(out)
