"""Focused tests: untested paths of spec §5 (R6, R8, R9 on an order hook, R10, R15 breastfeeding and live vaccine,
R16, S10 without S7, Folpe gap (c)), order checks, site settings, dates and purity."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date

import pytest

from pathway.classify import Inputs, folpe
from pathway.dates import months_between
from pathway.decide import decide
from pathway.facts import (DraftOrder, Fact, Haemorrhage, LabResult, LabSeries, Medication, MtoriAgent, PdL1,
                           TherapyLine)
from pathway.settings import SiteSettings
from tests.vignette_facts import load_vignettes, vignette_to_facts

TODAY = date(2026, 11, 22)
V = {v["id"]: v for v in load_vignettes()}


def facts(vid):
    return vignette_to_facts(V[vid])


def on_mtori(f, agent):
    f.therapy = replace(f.therapy, active_mtori=Fact(agent))
    return f


def ids(d):
    return d.rule_ids()


def test_calendar_months_rule():
    assert months_between(date(2025, 10, 20), date(2026, 10, 20)) == 12
    assert months_between(date(2025, 11, 20), date(2026, 10, 20)) == 11
    assert months_between(date(2024, 1, 31), date(2024, 2, 29)) == 0


def test_folpe_gap_c_half_feature():
    base = dict(size_cm=3.0, mitoses_per_50hpf=0, infiltrative=False, necrosis=False, vascular_invasion=False,
                lymphovascular_invasion=False, pleomorphism_only=False)
    alone = folpe(Inputs(high_nuclear_grade=True, high_cellularity=False, **base))
    assert alone.klass == "undefined" and set(alone.candidates) == {"benign", "uncertain_malignant_potential"}
    with_necrosis = folpe(Inputs(high_nuclear_grade=True, high_cellularity=False, **{**base, "necrosis": True}))
    assert set(with_necrosis.candidates) == {"uncertain_malignant_potential", "malignant"}
    two_more = folpe(Inputs(high_nuclear_grade=True, high_cellularity=False,
                            **{**base, "necrosis": True, "infiltrative": True}))
    assert two_more.klass == "malignant" and two_more.candidates == ()


def test_ge_variants_side_by_side():
    x = Inputs(size_cm=5.0, mitoses_per_50hpf=0, infiltrative=False, high_nuclear_grade=False, high_cellularity=False,
               necrosis=False, vascular_invasion=False, lymphovascular_invasion=False, pleomorphism_only=False)
    assert folpe(x).klass == "undefined"
    assert folpe(x, size_ge=True).klass == "uncertain_malignant_potential"


def test_r6_temsirolimus_hold_and_r16_on_fyarro():
    f = on_mtori(facts("V16"), MtoriAgent.TEMSIROLIMUS)
    f.labs = {"platelets": LabSeries((LabResult(60, "10*9/L"),))}
    d = decide(f, today=TODAY)
    assert "R6" in ids(d)
    g = on_mtori(facts("V46"), MtoriAgent.NAB_SIROLIMUS)
    g.clinical = replace(g.clinical, stomatitis_grade=Fact(2), haemorrhage=Fact(Haemorrhage.INTRATUMORAL))
    r16 = next(r for r in decide(g, today=TODAY).recommendations if r.rule_id == "R16")
    assert r16.urgency.value == "warning" and any("Table 2" in a for a in r16.actions)


def test_r16_stomatitis_on_oral_sirolimus_is_info():
    f = on_mtori(facts("V38"), MtoriAgent.ORAL_SIROLIMUS)
    f.clinical = replace(f.clinical, stomatitis_grade=Fact(1))
    r16 = next(r for r in decide(f, today=TODAY).recommendations if r.rule_id == "R16")
    assert r16.urgency.value == "info"


def test_r8_planned_surgery_and_surgery_order():
    f = on_mtori(facts("V38"), MtoriAgent.ORAL_SIROLIMUS)
    f.extent = replace(f.extent, planned_surgery_date=Fact(date(2026, 12, 10)))
    assert "R8" in ids(decide(f, today=TODAY))
    order = DraftOrder("ServiceRequest/op", "ServiceRequest", "surgery", text="metastasectomy")
    d = decide(facts("V38"), today=TODAY, hook="order-sign", draft_orders=(order,))
    r8 = next(r for r in d.recommendations if r.rule_id == "R8")
    assert r8.about_order == "ServiceRequest/op"


def test_r9_only_on_temsirolimus_order():
    order = DraftOrder("MedicationRequest/t", "MedicationRequest", "medication", Medication("temsirolimus"))
    d = decide(facts("V46"), today=TODAY, hook="order-select", draft_orders=(order,))
    r9 = next(r for r in d.recommendations if r.rule_id == "R9")
    assert r9.about_order == "MedicationRequest/t" and "R7" in ids(d)  # V46: bilirubin 1.3 x ULN -> 15 mg/week
    assert "R9" not in ids(decide(facts("V46"), today=TODAY))


def test_r10_ace_inhibitor_with_sirolimus():
    f = facts("V38")
    f.medications = (Medication("ramipril"),)
    assert "R10" in ids(decide(f, today=TODAY, settings=SiteSettings.from_mapping({"sirolimus_trough_target_ng_ml": [15, 20]})))
    order = DraftOrder("MedicationRequest/a", "MedicationRequest", "medication", Medication("lisinopril"))
    d = decide(facts("V38"), today=TODAY, hook="order-sign", draft_orders=(order,))
    assert any(r.rule_id == "R10" and r.about_order == "MedicationRequest/a" for r in d.recommendations)


def test_r15_breastfeeding_and_live_vaccine():
    f = facts("V48")
    f.status = replace(f.status, pregnant=Fact(False), breastfeeding=Fact(True))
    r15 = next(r for r in decide(f, today=TODAY).recommendations if r.rule_id == "R15")
    assert r15.urgency.value == "warning"
    vaccine = DraftOrder("Immunization/y", "MedicationRequest", "vaccine", text="yellow fever vaccine", live_vaccine=True)
    d = decide(facts("V38"), today=TODAY, hook="order-sign", draft_orders=(vaccine,))
    assert any(r.rule_id == "R15" and r.about_order == "Immunization/y" for r in d.recommendations)


def test_s10_without_s7():
    f = facts("V45")
    f.molecular = replace(f.molecular, pdl1=Fact(PdL1(status="positive", assay="22C3")))
    f.therapy = replace(f.therapy, lines=(TherapyLine(("doxorubicin",), reason_stopped="progression"),))
    d = decide(f, today=TODAY)
    assert d.assessment.setting_primary == "S4" and "S10" in d.assessment.setting_modifiers
    assert any("PD-L1 cut-off" in g.field for g in d.data_gaps)


def test_order_doxorubicin_first_line_proposes_mtori_replacement():
    order = DraftOrder("MedicationRequest/dox", "MedicationRequest", "medication", Medication("doxorubicin"))
    d = decide(facts("V45"), today=TODAY, hook="order-select", draft_orders=(order,))
    card = next(r for r in d.recommendations if r.about_order == "MedicationRequest/dox")
    assert card.replaces_order == "MedicationRequest/dox" and card.rule_id == "S4"
    assert {o.label for o in card.options} >= {"nab-sirolimus (FYARRO)", "sirolimus (oral)", "temsirolimus"}


def test_order_fyarro_with_hepatic_impairment_proposes_labelled_level():
    order = DraftOrder("MedicationRequest/f", "MedicationRequest", "medication",
                       Medication("sirolimus", route="intravenous", text="Fyarro"))
    d = decide(facts("V46"), today=TODAY, hook="order-sign", draft_orders=(order,))
    card = next(r for r in d.recommendations if r.rule_id == "R7")
    assert card.replaces_order == "MedicationRequest/f" and card.orders[0].dosage_text.startswith("75 mg/m2")


def test_order_interacting_drug_with_active_mtori_and_pazopanib_off_label():
    itra = DraftOrder("MedicationRequest/i", "MedicationRequest", "medication", Medication("itraconazole"))
    d = decide(facts("V38"), today=TODAY, hook="order-select", draft_orders=(itra,))
    assert any(r.rule_id == "R4" and r.urgency.value == "warning" and r.about_order == "MedicationRequest/i"
               for r in d.recommendations)
    paz = DraftOrder("MedicationRequest/p", "MedicationRequest", "medication", Medication("pazopanib"))
    d = decide(facts("V38"), today=TODAY, hook="order-select", draft_orders=(paz,))
    assert any(r.about_order == "MedicationRequest/p" and any("off-label" in c.lower() for c in r.caveats)
               for r in d.recommendations)


def test_pazopanib_drafted_first_line_for_an_mtori_naive_patient_is_judged_like_chemotherapy():
    """Sandbox finding: V04 (metastatic, mTORi-naive) + pazopanib got only an S7 card 'off-label after an mTOR
    inhibitor alone'. Spec §3 S4: an mTOR inhibitor is preferred first line; pazopanib's label needs prior chemo."""
    paz = DraftOrder("MedicationRequest/p", "MedicationRequest", "medication", Medication("pazopanib"))
    d = decide(facts("V04"), today=TODAY, hook="order-select", draft_orders=(paz,))
    about = [r for r in d.recommendations if r.about_order == "MedicationRequest/p"]
    assert [r.rule_id for r in about] == ["S4"]
    card = about[0]
    assert card.urgency.value == "warning" and card.replaces_order == "MedicationRequest/p"
    assert "an mTOR inhibitor is preferred" in card.summary
    assert any("antiangiogenics 8.3%" in c for c in card.caveats)
    assert any("requires prior chemotherapy" in c for c in card.caveats)
    assert not any("after an mTOR inhibitor" in c for c in card.caveats)


def test_gemcitabine_drafted_first_line_cites_its_own_class_comparison():
    gem = DraftOrder("MedicationRequest/g", "MedicationRequest", "medication", Medication("gemcitabine"))
    d = decide(facts("V04"), today=TODAY, hook="order-select", draft_orders=(gem,))
    card = next(r for r in d.recommendations if r.about_order == "MedicationRequest/g")
    assert card.caveats[0] == "Retrospective: mTORi ORR 41% vs gemcitabine-based 20% (P-SANF19)"


def test_a_drafted_oral_sirolimus_with_a_strong_inhibitor_says_what_to_do():
    """Sandbox finding: V47 (itraconazole that cannot be stopped) + drafted oral sirolimus gave an R4 card whose
    only action was 'itraconazole: sirolimus USPI §7'. Spec §4 R4: sirolimus, avoid strong inhibitors."""
    siro = DraftOrder("MedicationRequest/s", "MedicationRequest", "medication", Medication("sirolimus", route="oral"))
    d = decide(facts("V47"), today=TODAY, hook="order-sign", draft_orders=(siro,))
    r4 = next(r for r in d.recommendations if r.rule_id == "R4" and r.about_order == "MedicationRequest/s")
    assert r4.urgency.value == "warning"
    assert "Oral sirolimus: avoid strong CYP3A4 inhibitors (USPI §7)" in r4.actions


def test_the_data_gap_summary_lists_whole_names_and_counts_the_rest():
    """Sandbox finding: 'Missing data: histological risk features (size, ..., necrosis, vas...' was cut mid-word."""
    d = decide(facts("V38"), today=TODAY)
    gaps = next(r for r in d.recommendations if r.rule_id == "DATA-GAPS")
    assert gaps.summary == "Missing data: histological risk features, mitotic count per 50 HPF, ECOG, TSC1/TSC2, TFE3"
    from pathway.decide import _gap_summary

    many = [f"a fairly long missing field number {i} (with details)" for i in range(9)]
    summary = _gap_summary(many)
    assert len(summary) <= 139 and summary.endswith(" more") and "details" not in summary
    shown = summary.removeprefix("Missing data: ").split(" and ")[0].split(", ")
    assert shown == [f"a fairly long missing field number {i}" for i in range(len(shown))]
    assert summary.endswith(f" and {9 - len(shown)} more")


def test_site_settings_validation():
    assert SiteSettings().sirolimus_trough_target_ng_ml == (5.0, 15.0)
    assert SiteSettings.from_mapping({"sirolimus_trough_target_ng_ml": [15, 20], "note": "x"}).trough_target_mid == 17.5
    for bad in ({"sirolimus_trough_target_ng_ml": [20, 15]}, {"sirolimus_trough_target_ng_ml": "5-15"},
                {"size_discordance_fraction": 2}, {"s8_prior_lines_trigger": 0}, {"unknown": 1}):
        with pytest.raises(ValueError):
            SiteSettings.from_mapping(bad)


def test_pathway_imports_no_web_or_fhir_modules():
    code = ("import sys, pathway, pathway.decide, pathway.catalogue; "
            "bad=[m for m in sys.modules if m.split('.')[0] in ('flask','requests','fhir','fhir_mappings','cards','cds_service')]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("vid, agent", [("V16", MtoriAgent.TEMSIROLIMUS), ("V38", MtoriAgent.ORAL_SIROLIMUS)])
def test_on_a_first_line_mtori_the_setting_card_monitors_and_never_proposes_a_start(vid, agent):
    decision = decide(facts(vid), today=TODAY)
    card = next(r for r in decision.recommendations if r.rule_id in ("S3", "S4"))
    assert card.summary.endswith("continue with monitoring")
    assert [o.label for o in card.options] == [f"current: {'temsirolimus' if agent is MtoriAgent.TEMSIROLIMUS else 'sirolimus (oral)'}"]
    assert all(o.order is None for o in card.options)  # no MedicationRequest to start an mTOR inhibitor
    assert {o.text for o in card.orders} == {"Complete blood count", "Fasting lipid panel"}  # monitoring, no baseline CT
    assert not any(a.startswith("Baseline") for a in card.actions)


def test_line_of_therapy_counts_ended_lines_and_the_ongoing_mtori():
    assert decide(facts("V45"), today=TODAY).assessment.line_of_therapy == 1  # naive: first line
    assert decide(facts("V38"), today=TODAY).assessment.line_of_therapy == 1  # on first-line sirolimus
    assert decide(facts("V50"), today=TODAY).assessment.line_of_therapy == 2  # progressed on it: the next line
    assert decide(facts("V32"), today=TODAY).assessment.line_of_therapy == 3  # two ended lines
