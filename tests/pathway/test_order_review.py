"""Order hooks, from an exploratory clinical review (each case was silent or wrong before its fix).

Real fixtures through the whole pipeline (mapping -> pathway -> cards), draft orders as an EHR sends them.
"""
from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cds_service.pipeline import evaluate
from tests.fixtures import bundle_resources, load_vignette_bundle, vignette_patient_id

TODAY = date(2026, 11, 22)


def draft(rid: str, text: str, resource_type: str = "MedicationRequest", route: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": resource_type, "id": rid, "status": "draft"}
    if resource_type == "MedicationRequest":
        resource.update(intent="proposal", medicationCodeableConcept={"text": text})
        if route:
            resource["dosageInstruction"] = [{"route": {"text": route}}]
    else:
        resource.update(intent="proposal", code={"text": text})
    return resource


def cards(vignette: str, *drafts: dict[str, Any], hook: str = "order-select", extra: list[dict] | None = None,
          change=None) -> list[dict[str, Any]]:
    resources = bundle_resources(load_vignette_bundle(vignette)) + list(extra or [])
    if change:
        resources = change(copy.deepcopy(resources))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]}
    return evaluate(resources, hook=hook, patient_id=vignette_patient_id(vignette), today=TODAY,
                    base_url="http://localhost", draft_orders=bundle).cards


def about(found: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [c for c in found if c["source"]["topic"]["code"] == rule]


@pytest.mark.parametrize("text", ["measles, mumps and rubella vaccine", "yellow fever vaccine", "Varivax",
                                  "FluMist intranasal influenza vaccine", "typhoid vaccine live oral Ty21a"])
def test_a_live_vaccine_by_name_on_an_mtor_inhibitor_warns(text):
    found = about(cards("V38", draft("vax", text)), "R15")
    assert [c["indicator"] for c in found] == ["warning"]
    assert "while on oral sirolimus" in found[0]["summary"]


@pytest.mark.parametrize("text, resource_type", [("Shingrix zoster vaccine recombinant", "MedicationRequest"),
                                                  ("influenza vaccine inactivated injectable", "MedicationRequest"),
                                                  ("Rubella IgG antibody", "ServiceRequest"),
                                                  ("MMR protein immunohistochemistry", "ServiceRequest")])
def test_non_live_vaccines_and_laboratory_orders_are_not_live_vaccines(text, resource_type):
    assert about(cards("V38", draft("x", text, resource_type)), "R15") == []


def test_a_live_vaccine_drafted_with_an_mtor_inhibitor_warns():
    found = about(cards("V04", draft("siro", "sirolimus 1 MG Oral Tablet", route="oral"),
                        draft("vax", "measles, mumps and rubella vaccine")), "R15")
    assert any("with the drafted oral sirolimus" in c["summary"] for c in found)


@pytest.mark.parametrize("text, rule, indicator", [
    ("Sporanox 100 MG Oral Capsule", "R4", "warning"),
    ("Biaxin 500 MG Oral Tablet", "R4", "warning"),
    ("Oral itraconazole solution", "R4", "warning"),
    ("St John's Wort extract", "R4", "info"),
    ("Zestril 10 MG Oral Tablet", "R10", "warning"),
])
def test_interacting_drugs_are_found_by_brand_and_anywhere_in_the_text(text, rule, indicator):
    found = about(cards("V38", draft("d", text)), rule)
    assert [c["indicator"] for c in found] == [indicator]


def test_an_ace_inhibitor_drafted_with_sirolimus_warns():
    found = about(cards("V04", draft("siro", "sirolimus 1 MG Oral Tablet", route="oral"),
                        draft("ace", "lisinopril 10 MG Oral Tablet")), "R10")
    assert len(found) == 1 and found[0]["indicator"] == "warning"


SIROLIMUS_ALLERGY = {"resourceType": "AllergyIntolerance", "id": "allergy-1",
                     "patient": {"reference": "Patient/pecoma-v04"},
                     "clinicalStatus": {"coding": [{"code": "active"}]}, "code": {"text": "sirolimus"}}


@pytest.mark.parametrize("text, route", [("Fyarro 100 MG Injection", "intravenous"), ("sirolimus 1 MG Oral Tablet", "oral"),
                                         ("temsirolimus 25 MG Injection", "intravenous")])
def test_an_mtor_inhibitor_ordered_with_a_recorded_sirolimus_allergy_is_critical(text, route):
    found = cards("V04", draft("m", text, route=route), extra=[SIROLIMUS_ALLERGY])
    critical = [c for c in found if c["indicator"] == "critical" and "hypersensitivity to sirolimus" in c["summary"]]
    assert len(critical) == 1 and critical[0]["source"]["topic"]["code"] == "S4b"


def _grapefruit_yes(resources):
    for r in resources:
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "grapefruit":
            r["valueCodeableConcept"] = {"text": "Yes"}
    return resources


def test_grapefruit_is_named_when_sirolimus_is_ordered():
    found = about(cards("V49", draft("siro", "sirolimus 1 MG Oral Tablet", route="oral"), change=_grapefruit_yes), "R4")
    assert any(c["summary"].startswith("Grapefruit with the drafted oral sirolimus") and c["indicator"] == "warning"
               for c in found)


def test_dexamethasone_started_for_the_emergency_warns_on_a_drafted_sirolimus():
    found = about(cards("V50", draft("siro", "sirolimus 1 MG Oral Tablet", route="oral"), hook="order-sign"), "R4")
    dexa = [c for c in found if c["summary"].startswith("dexamethasone")]
    assert [c["indicator"] for c in dexa] == ["warning"]
    assert "consider a trough check" in dexa[0]["detail"] and "started for the emergency" in dexa[0]["detail"]


@pytest.mark.parametrize("drug", ["gemcitabine", "trabectedin", "eribulin"])
def test_s4b_calls_an_agent_outside_its_options_not_an_s4b_option(drug):
    found = about(cards("V34", draft("c", f"{drug} injection")), "S4b")
    assert [c["summary"] for c in found] == [f"{drug} first line with no mTOR inhibitor available: not an S4b option"]


def test_s4b_never_offers_to_create_the_drug_already_drafted():
    (card,) = about(cards("V34", draft("dox", "doxorubicin 2 MG/ML Injection")), "S4b")
    assert card["summary"].endswith("consistent with S4b")
    created = [a["resource"] for s in card.get("suggestions", []) for a in s["actions"] if a["type"] == "create"]
    assert not any("doxorubicin" in str(r.get("medicationCodeableConcept", "")).lower() for r in created)


@pytest.mark.parametrize("text", ["Exploratory laparotomy", "Thoracotomy and wedge resection", "Laparoscopic cholecystectomy"])
def test_open_and_keyhole_surgery_are_surgery_on_order_sign(text):
    found = about(cards("V38", draft("p", text, "ServiceRequest"), hook="order-sign"), "R8")
    assert len(found) == 1


def _bilirubin_times_uln(factor: float):
    def change(resources):
        for r in resources:
            if r["resourceType"] == "Observation" and "bilirubin" in str(r.get("code", "")).lower():
                high = r["referenceRange"][0]["high"]["value"]
                r["valueQuantity"]["value"] = round(high * factor, 2)
        return resources
    return change


def test_temsirolimus_with_bilirubin_over_1_5_uln_says_contraindicated_and_gives_no_dose():
    found = cards("V46", draft("t", "temsirolimus 25 MG Injection", route="intravenous"), change=_bilirubin_times_uln(2.0))
    r7 = about(found, "R7")
    assert [(c["indicator"], c["summary"]) for c in r7] == [
        ("critical", "Temsirolimus contraindicated: bilirubin >1.5 x ULN")]
    (r9,) = about(found, "R9")
    assert "25 mg IV" not in r9["detail"] and "no dose: contraindicated" in r9["detail"]


def test_temsirolimus_with_mild_hepatic_impairment_states_the_reduced_dose_first():
    (r9,) = about(cards("V46", draft("t", "temsirolimus 25 MG Injection", route="intravenous")), "R9")
    assert "15 mg/week with mild hepatic impairment (R7), not the usual 25 mg IV" in r9["detail"]


def test_oral_sirolimus_ordered_with_hepatic_impairment_warns():
    found = about(cards("V46", draft("s", "sirolimus 1 MG Oral Tablet", route="oral")), "R7")
    assert len(found) == 1 and "Child-Pugh" in found[0]["detail"]


def test_fyarro_and_a_strong_inhibitor_drafted_together_agree_on_56_mg_m2():
    """The FYARRO card said 'no strong CYP3A4/P-gp inhibitor in the record' beside a clarithromycin card saying
    'FYARRO: reduce to 56 mg/m2', which itself spoke of 'a proposed mTOR inhibitor'."""
    found = cards("V24", draft("f", "Fyarro 100 MG Injection", route="intravenous"),
                  draft("c", "clarithromycin 500 MG Oral Tablet"))  # V24: liver tests normal, no interacting drug
    fyarro = [c for c in found if "FYARRO" in c["summary"] and "MedicationRequest/f" in c["detail"]]
    assert fyarro and all("no strong CYP3A4" not in c["detail"] for c in fyarro)
    assert any("56 mg/m2" in c["summary"] for c in fyarro)
    clari = [c for c in about(found, "R4") if c["summary"].startswith("clarithromycin")]
    assert [c["summary"] for c in clari] == ["clarithromycin (inhibitor, strong) with the drafted nab-sirolimus (FYARRO)"]


CORD_COMPRESSION = {"resourceType": "Condition", "id": "cord-1", "subject": {"reference": "Patient/pecoma-v04"},
                    "clinicalStatus": {"coding": [{"code": "active"}]}, "code": {"text": "Spinal cord compression"},
                    "onsetDateTime": "2026-11-21"}


def test_an_emergency_suppresses_the_routine_line_of_therapy_order_advice():
    """Spec §4 R12: routine line-of-therapy cards are suppressed while an emergency is active."""
    dox = draft("dox", "doxorubicin 2 MG/ML Injection")
    assert about(cards("V04", dox), "S4")  # without the emergency: 'an mTOR inhibitor is preferred'
    assert about(cards("V04", dox, extra=[CORD_COMPRESSION]), "S4") == []


def test_tfe3_rearranged_disease_gets_no_preferred_mtori_over_a_drafted_chemotherapy():
    """Spec §3 S9: trial, mTORi and VEGFR-TKI are options with 'No ranking'."""
    found = cards("V31", draft("dox", "doxorubicin 2 MG/ML Injection"))
    assert not any("preferred" in c["summary"] for c in found)


def test_in_pregnancy_a_drafted_chemotherapy_is_not_steered_to_an_mtor_inhibitor():
    """Spec §4 R15: mTORi options are for discussion only in pregnancy; no suggestion replaces or removes the draft."""
    (card,) = about(cards("V48", draft("dox", "doxorubicin 2 MG/ML Injection")), "S4")
    assert card["indicator"] == "info" and "during pregnancy" in card["summary"]
    assert "suggestions" not in card
    assert "obstetric review" in card["detail"]


def test_fyarro_after_progression_on_an_mtor_inhibitor_says_there_is_no_evidence_for_the_switch():
    found = about(cards("V32", draft("f", "Fyarro 100 MG Injection", route="intravenous")), "S7")
    assert [c["summary"] for c in found] == [
        "nab-sirolimus (FYARRO) after progression on an mTOR inhibitor: no evidence for the switch"]
    assert "AMPECT excluded prior mTOR inhibitors" in found[0]["detail"]


@pytest.mark.parametrize("vignette, rule, text, route, label", [
    ("V18", "S1", "Fyarro 100 MG Injection", "intravenous", True),
    ("V19", "S2", "sirolimus 1 MG Oral Tablet", "oral", False),
])
def test_an_mtor_inhibitor_for_localised_disease_is_not_recommended_outside_a_trial(vignette, rule, text, route, label):
    found = about(cards(vignette, draft("m", text, route=route)), rule)
    assert len(found) == 1 and found[0]["summary"].endswith("ordered for localised disease: not recommended outside a trial")
    assert ("locally advanced unresectable or metastatic" in found[0]["detail"]) is label


@pytest.mark.parametrize("vignette, rule", [("V18", "S1"), ("V19", "S2")])
@pytest.mark.parametrize("drug", ["doxorubicin", "pazopanib"])
def test_systemic_therapy_for_localised_disease_says_adjuvant_chemotherapy_is_not_established(vignette, rule, drug):
    """Spec §3 S1: 'Adjuvant chemotherapy not established and not standard'; pazopanib no longer cites S7
    ('Progression after an mTOR inhibitor') for a patient who never had one."""
    found = cards(vignette, draft("d", f"{drug} tablet or injection"))
    assert [c["summary"] for c in about(found, rule)] == [
        f"{drug} ordered for localised disease: adjuvant systemic therapy is not established"]
    assert about(found, "S7") == []


def test_pazopanib_while_on_a_first_line_mtor_inhibitor_asks_to_review_the_line_not_s7():
    found = cards("V38", draft("p", "pazopanib 200 MG Oral Tablet"))
    assert [c["summary"] for c in about(found, "S4")] == [
        "pazopanib ordered: patient not mTOR-inhibitor-naive - review the line of therapy"]
    assert about(found, "S7") == []


@pytest.mark.parametrize("text, route", [("Fyarro 100 MG Injection", "intravenous"), ("gemcitabine injection", None),
                                         ("pazopanib 200 MG Oral Tablet", None)])
def test_systemic_therapy_drafted_in_s8_points_to_best_supportive_care(text, route):
    """V33: ECOG 3, heavily pretreated (spec §3 S8); these orders produced no card at all."""
    found = about(cards("V33", draft("d", text, route=route)), "S8")
    assert len(found) == 1 and found[0]["summary"].endswith("(S8): best supportive care")
    assert "if performance status improves" in found[0]["detail"]


def test_order_select_judges_the_new_selection_and_uses_the_other_drafts_as_context():
    """CDS Hooks order-select: `selections` are the newly selected orders. An earlier draft is not judged again
    on every selection, but it still counts (an ACE inhibitor selected beside a drafted sirolimus -> R10)."""
    resources = bundle_resources(load_vignette_bundle("V04"))
    drafts = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": draft("dox", "doxorubicin 2 MG/ML Injection")},
        {"resource": draft("siro", "sirolimus 1 MG Oral Tablet", route="oral")},
        {"resource": draft("ace", "lisinopril 10 MG Oral Tablet")}]}

    def judged(selections):
        out = evaluate(resources, hook="order-select", patient_id="pecoma-v04", today=TODAY, base_url="http://localhost",
                       draft_orders=drafts, selections=selections).cards
        return {(c["source"]["topic"]["code"], ref) for c in out
                for ref in ("dox", "siro", "ace") if f"(MedicationRequest/{ref})" in c.get("detail", "")}

    assert judged(["MedicationRequest/ace"]) == {("R10", "ace")}
    assert ("S4", "dox") in judged(["MedicationRequest/dox"]) and not {r for _, r in judged(["MedicationRequest/dox"])} - {"dox"}
    everything = evaluate(resources, hook="order-sign", patient_id="pecoma-v04", today=TODAY, base_url="http://localhost",
                          draft_orders=drafts, selections=["MedicationRequest/ace"]).cards
    assert {"S4", "R10"} <= {c["source"]["topic"]["code"] for c in everything}  # order-sign: every draft
