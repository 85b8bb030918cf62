"""Clinical audit of the pathway against pathway-spec.md: each test pins one finding that the rule tests
did not catch (spec section in the test name's docstring)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from pathway.decide import decide
from pathway.facts import DraftOrder, Fact, LabResult, LabSeries, Medication, MtoriAgent, Sex, TherapyLine
from tests.vignette_facts import load_vignettes, vignette_to_facts

TODAY = date(2026, 11, 22)
V = {v["id"]: v for v in load_vignettes()}


def facts(vid):
    return vignette_to_facts(V[vid])


def card(decision, rule_id):
    return next(r for r in decision.recommendations if r.rule_id == rule_id)


def all_text(rec) -> str:
    parts = [rec.summary, *rec.actions, *rec.caveats]
    parts += [f"{o.label} {o.detail}" for o in rec.options]
    parts += [e.statement for e in rec.evidence] + [e.statement for o in rec.options for e in o.evidence]
    parts += [o.text for o in rec.orders]
    return " ".join(p for p in parts if p)


def test_s7_options_are_unranked_no_option_is_called_preferred():
    """§3 S7 (C13): options 'all listed every time, unranked' - the trial option is not 'preferred'."""
    s7 = card(decide(facts("V32"), today=TODAY), "S7")
    assert not any(o.preferred for o in s7.options)
    assert not any("preferred" in o.detail.lower() for o in s7.options)


def test_no_fyarro_dose_level_anywhere_on_the_card_while_liver_tests_are_unknown():
    """§3 S4 dosing path (C1): no FYARRO dose level before R7 - not even in the evidence line of the label."""
    decision = decide(facts("V04"), today=TODAY)  # S003 patient: bilirubin/AST not in the record
    s4 = card(decision, "S4")
    fyarro = next(o for o in s4.options if o.label.startswith("nab-sirolimus"))
    assert fyarro.order is not None and fyarro.order.dosage_text is None
    assert "100 mg/m2" not in all_text(s4)


def test_contraception_counselling_on_a_current_mtori_is_not_worded_as_before_starting():
    """§4 R15: counselling is part of the mTORi option text; for the drug the patient is already on it cannot
    say 'before starting' (cf. advice._on_first_line_mtori)."""
    s4 = card(decide(facts("V38"), today=TODAY), "S4")  # on oral sirolimus, childbearing potential not excluded
    (current,) = s4.options
    assert "contraception" in current.detail
    assert "before starting" not in current.detail
    naive = card(decide(facts("V45"), today=TODAY), "S4")
    assert all("before starting" in o.detail for o in naive.options)


def test_surveillance_ct_is_not_labelled_as_a_baseline_before_an_mtori():
    """§3 S5: the surveillance card proposes chest imaging for follow-up, not 'baseline before an mTOR inhibitor'."""
    s5 = card(decide(facts("V19"), today=TODAY), "S5")  # resected, no systemic therapy
    assert [o.text for o in s5.orders] == ["CT chest (surveillance)"]
    s4 = card(decide(facts("V45"), today=TODAY), "S4")
    assert [o.text for o in s4.orders] == ["CT chest (baseline before an mTOR inhibitor)"]


def _fyarro_order():
    return DraftOrder("MedicationRequest/f", "MedicationRequest", "medication",
                      Medication("sirolimus", route="intravenous"), text="FYARRO")


def test_drafted_fyarro_with_a_contraindicated_azole_is_critical_as_on_patient_view():
    """§4.0 R4: critical when the combination is labelled contraindicated - on order-sign too, not only a
    warning-level dose-level card."""
    f = facts("V45")
    f.medications = tuple(f.medications) + (Medication("voriconazole"),)
    pv = decide(f, today=TODAY)
    assert any(r.rule_id == "R4" and r.urgency.value == "critical" for r in pv.recommendations)
    signed = decide(f, today=TODAY, hook="order-sign", draft_orders=(_fyarro_order(),))
    about = [r for r in signed.recommendations if r.about_order == "MedicationRequest/f"]
    assert any(r.rule_id == "R4" and r.urgency.value == "critical" and "voriconazole" in r.summary for r in about)
    assert any(r.orders and r.orders[0].dosage_text.startswith("56 mg/m2") for r in about)  # level card kept



def test_r12_emergency_card_only_on_patient_view():
    """§4.0: R12 hooks = patient-view; an unrelated order-sign does not repeat the emergency card."""
    assert "R12" in decide(facts("V50"), today=TODAY).rule_ids()
    order = DraftOrder("MedicationRequest/o", "MedicationRequest", "medication", Medication("ondansetron"))
    assert "R12" not in decide(facts("V50"), today=TODAY, hook="order-sign", draft_orders=(order,)).rule_ids()


def test_fyarro_dosing_path_does_not_invent_a_bilirubin_ratio_from_a_normal_flag():
    """§1 (unknown is a state, never a guess) and §3 S4 dosing path: a bilirubin reported only as within the
    reference range is '<=ULN', not '1 x ULN'; a measured ratio is still shown as measured."""
    s4 = card(decide(facts("V45"), today=TODAY), "S4")  # bilirubin and AST recorded as '<= ULN' only
    fyarro = next(o for o in s4.options if o.label.startswith("nab-sirolimus"))
    assert "100 mg/m2" in fyarro.detail and "bilirubin <=ULN" in fyarro.detail
    assert "1 x ULN" not in all_text(s4)
    r7 = card(decide(facts("V46"), today=TODAY), "R7")  # bilirubin measured at 1.3 x ULN
    assert "bilirubin 1.3 x ULN" in r7.summary


def _facts_used(rec):
    return {u.label: u.fact for u in rec.facts_used}


def test_r13_card_lists_the_conflicting_fields_with_their_recorded_values_and_sources():
    """§4 R13: 'a warning card listing the conflicting fields and their sources' - the recorded values are
    candidates, not 'unknown'."""
    f43 = facts("V43")
    r13 = card(decide(f43, today=TODAY), "R13")
    used = _facts_used(r13)
    assert used["sex"].value == f43.demographics.sex.value and used["sex"].sources == f43.demographics.sex.sources
    assert used["site_group"].value == f43.site.site_group.value
    f44 = facts("V44")
    r13 = card(decide(f44, today=TODAY), "R13")
    used = _facts_used(r13)
    assert (used["size_pathology_cm"].value, used["size_imaging_cm"].value) == (4.6, 6.0)
    assert r13.summary == "Data conflict: 4.6 cm pathology vs 6 cm imaging: more than 20% apart"
    assert any("size_discordance_fraction" in c or "sign-off" in c for c in r13.caveats)


def test_temsirolimus_and_everolimus_options_do_not_cite_the_oral_sirolimus_result_as_their_evidence():
    """§3 S4 (audit A-13): S003's '4/6 evaluable PR' is the oral-sirolimus figure; temsirolimus rests on the label and
    one S003 patient, everolimus on case reports (S002, S003)."""
    s4 = card(decide(facts("V45"), today=TODAY), "S4")
    by_label = {o.label: o for o in s4.options}
    for label in ("temsirolimus", "everolimus"):
        statements = " ".join(e.statement for e in by_label[label].evidence)
        assert "oral sirolimus" not in statements, label
    assert any("case report" in (e.level + e.statement).lower() for e in by_label["everolimus"].evidence)
    assert any("oral sirolimus: 4/6" in e.statement for e in by_label["sirolimus (oral)"].evidence)


def test_a_liver_test_reported_only_as_normal_is_not_displayed_as_unknown():
    """§1: 'absent' and 'not assessed' are never conflated - a lab flagged normal without a number is shown as
    reported normal, not as 'unknown', on the cards that use it (S4 'Why', R7)."""
    s4 = card(decide(facts("V45"), today=TODAY), "S4")
    bilirubin = _facts_used(s4)["total bilirubin"]
    assert bilirubin.value is not None and "normal" in str(bilirubin.value)
    r7 = card(decide(facts("V46"), today=TODAY), "R7")  # AST recorded as '<= ULN' only
    assert "normal" in str(_facts_used(r7)["AST"].value)


def _with(vid, *, active=None, labs=None, meds=()):
    f = facts(vid)
    if active is not None:
        f.therapy = replace(f.therapy, active_mtori=Fact(active))
    if labs is not None:
        f.labs = {key: LabSeries((LabResult(value, unit, date(2026, 11, 15), reference_high=uln),))
                  for key, (value, unit, uln) in labs.items()}
    f.medications = tuple(f.medications) + tuple(meds)
    return f


def rules(decision, rule_id):
    return [r for r in decision.recommendations if r.rule_id == rule_id]


def test_severe_bilirubin_alone_says_avoid_fyarro_even_without_an_ast():
    """§4 R7 label bands: above 1 x ULN the band is the bilirubin's ('with any AST'); a missing AST must not hide
    'avoid' (severe) or claim the bilirubin is not in the record."""
    f = _with("V45", active=MtoriAgent.NAB_SIROLIMUS, labs={"total_bilirubin": (6.0, "mg/dL", 1.2)})
    (r7,) = rules(decide(f, today=TODAY), "R7")
    assert r7.urgency.value == "critical" and "avoid" in all_text(r7)
    assert "not in record" not in all_text(r7)


def test_temsirolimus_with_mildly_raised_bilirubin_and_no_ast_gets_the_15_mg_level():
    """§4 R7 (temsirolimus label): bilirubin >1-1.5 x ULN -> 15 mg/week whatever the AST."""
    f = _with("V45", active=MtoriAgent.TEMSIROLIMUS, labs={"total_bilirubin": (1.56, "mg/dL", 1.2)})
    (r7,) = rules(decide(f, today=TODAY), "R7")
    assert r7.urgency.value == "warning" and "15 mg/week" in all_text(r7)
    drafted = DraftOrder("MedicationRequest/t", "MedicationRequest", "medication", Medication("temsirolimus"))
    signed = decide(_with("V45", labs={"total_bilirubin": (1.56, "mg/dL", 1.2)}), today=TODAY, hook="order-sign",
                    draft_orders=(drafted,))
    assert "15 mg/week" in all_text(next(r for r in signed.recommendations if r.rule_id == "R9"))
    assert any(r.rule_id == "R7" for r in signed.recommendations)


def test_no_liver_data_gap_when_the_bilirubin_alone_decides_the_fyarro_level():
    """Data gaps list what changes the advice: at 1.3 x ULN the AST does not (mild band, 75 mg/m2)."""
    d = decide(_with("V45", labs={"total_bilirubin": (1.56, "mg/dL", 1.2)}), today=TODAY)
    assert not any("ULN" in g.field for g in d.data_gaps)
    d = decide(_with("V45", labs={"total_bilirubin": (0.6, "mg/dL", 1.2)}), today=TODAY)
    assert [g.field for g in d.data_gaps if "ULN" in g.field] == ["AST with ULN"]


def test_fyarro_with_any_cyp3a4_inducer_is_a_warning():
    """§3 S4 step 2 and §4 R4: 'A CYP3A4 inducer -> warning without a dose' (FYARRO), whatever its strength."""
    (r4,) = rules(decide(_with("V45", meds=(Medication("carbamazepine"),)), today=TODAY), "R4")
    assert r4.urgency.value == "warning" and "without a dose" in all_text(r4)


def test_posaconazole_is_critical_with_sirolimus_but_a_strong_inhibitor_with_temsirolimus():
    """§4 R4: the contraindication is the sirolimus labelling's; temsirolimus: 'avoid strong inhibitors; if
    unavoidable, consider 12.5 mg/week'."""
    on_sirolimus = _with("V38", meds=(Medication("posaconazole"),))
    assert [r.urgency.value for r in rules(decide(on_sirolimus, today=TODAY), "R4")] == ["critical"]
    on_temsirolimus = _with("V38", active=MtoriAgent.TEMSIROLIMUS, meds=(Medication("posaconazole"),))
    (r4,) = rules(decide(on_temsirolimus, today=TODAY), "R4")
    assert r4.urgency.value == "warning" and "12.5 mg/week" in all_text(r4)
    drafted = DraftOrder("MedicationRequest/t", "MedicationRequest", "medication", Medication("temsirolimus"))
    signed = decide(_with("V45", meds=(Medication("rifampin"),)), today=TODAY, hook="order-sign", draft_orders=(drafted,))
    r4 = next(r for r in signed.recommendations if r.rule_id == "R4")
    assert "50 mg/week" in all_text(r4) and "temsirolimus" in r4.summary


def test_a_long_standing_inducer_is_not_called_started_for_the_emergency():
    """§4 R12/R4: only drugs started for the emergency are 'started under R12' (V50: dexamethasone)."""
    assert "started for the emergency" in all_text(rules(decide(facts("V50"), today=TODAY), "R4")[0])
    f = _with("V50", meds=(Medication("phenytoin", start=date(2010, 3, 1), text="phenytoin 300 mg daily"),))
    phenytoin = next(r for r in rules(decide(f, today=TODAY), "R4") if "phenytoin" in r.summary)
    assert "started for the emergency" not in all_text(phenytoin)


def test_a_documented_pneumonitis_grade_alone_triggers_r5():
    """§4 R5: pneumonitis on an mTORi; critical at grade >=3 - a graded pneumonitis in the record is enough."""
    f = _with("V38")
    f.clinical = replace(f.clinical, pneumonitis_grade=Fact(3))
    (r5,) = rules(decide(f, today=TODAY), "R5")
    assert r5.urgency.value == "critical"


def test_temsirolimus_is_held_for_any_grade_3_adverse_event():
    """§4 R6 (temsirolimus label): 'hold if ANC <1.0, platelets <75, or any grade >=3 AE'."""
    f = _with("V38", active=MtoriAgent.TEMSIROLIMUS)
    f.clinical = replace(f.clinical, stomatitis_grade=Fact(3))
    (r6,) = rules(decide(f, today=TODAY), "R6")
    assert r6.urgency.value == "warning" and "stomatitis grade 3" in r6.summary and "hold" in all_text(r6)
    f.clinical = replace(f.clinical, stomatitis_grade=Fact(2))
    assert not rules(decide(f, today=TODAY), "R6")


def test_pregnancy_with_an_mtori_option_of_s7_or_s9_gets_r15():
    """§4 R15 applies to every mTORi proposed: also sirolimus + exemestane (S7) and the S9 mTORi option."""
    f = facts("V32")  # S7 after an mTORi
    f.status = replace(f.status, pregnant=Fact(True))
    d = decide(f, today=TODAY)
    assert [r.urgency.value for r in rules(d, "R15")] == ["critical"]
    exemestane = next(o for o in card(d, "S7").options if o.label.startswith("sirolimus + exemestane"))
    assert "PREGNANT" in exemestane.detail


def test_contraception_counselling_does_not_depend_on_sex_when_childbearing_potential_is_unknown():
    """§4 R15: counselling text 'when childbearing_potential is yes or unknown' (no sex restriction)."""
    f = facts("V45")
    f.demographics = replace(f.demographics, sex=Fact(Sex.MALE))
    f.status = replace(f.status, childbearing_potential=Fact(None))
    s4 = card(decide(f, today=TODAY), "S4")
    assert all("counsel on contraception" in o.detail for o in s4.options if o.order is not None)


def test_a_conflict_withholds_the_advice_that_rests_on_the_conflicting_field():
    """§4 R13 (C12): 'Only the outputs that depend on a conflicting field are blocked (shown as pending
    resolution)'; every other card still shows."""
    f = facts("V45")  # metastatic, mTORi-naive (S4)
    f.extent = replace(f.extent, m=Fact("M0"))  # ... but staged M0
    d = decide(f, today=TODAY)
    assert "R13" in d.rule_ids() and "MDT" in d.rule_ids()
    s4 = card(d, "S4")
    assert "pending resolution" in s4.summary and not s4.options and not s4.orders
    f = facts("V45")
    f.extent = replace(f.extent, date_first_metastasis=Fact(date(2027, 1, 5)))
    d = decide(f, today=TODAY)  # lung-only: the lung-metastasectomy rule (S6) rests on the DFI from that date
    assert any("date_first_metastasis" in r.summary for r in rules(d, "R13"))
    s6 = card(d, "S6")
    assert "pending resolution" in s6.summary and "DFI" not in " ".join(s6.actions[1:])
    assert "S5" in d.rule_ids()  # surveillance does not rest on it: still shown


def test_a_trough_dated_after_today_gives_no_dose_formula():
    """§4 R13 'dates after today' and R1: no formula from a sample whose date is in conflict."""
    f = facts("V49")  # oral sirolimus, trough above target, formula shown
    (trough,) = f.labs["sirolimus_trough"].results
    f.labs = {**f.labs, "sirolimus_trough": LabSeries((replace(trough, date=date(2027, 2, 1)),))}
    d = decide(f, today=TODAY)
    assert any("labs.sirolimus_trough" in r.summary for r in rules(d, "R13"))
    assert "formula not shown" in all_text(card(d, "R1")) and "-> " not in " ".join(card(d, "R1").actions)


def test_surgery_order_alert_is_for_order_sign_only():
    """§4.0 R8 hooks: patient-view and order-sign of the procedure (not order-select)."""
    f = _with("V38")  # on oral sirolimus
    surgery = DraftOrder("ServiceRequest/op", "ServiceRequest", "surgery", text="metastasectomy")
    assert "R8" in decide(f, today=TODAY, hook="order-sign", draft_orders=(surgery,)).rule_ids()
    assert "R8" not in decide(f, today=TODAY, hook="order-select", draft_orders=(surgery,)).rule_ids()


def test_an_interacting_drug_ordered_on_temsirolimus_or_fyarro_follows_the_r4_table():
    """§4 R4 on order hooks: posaconazole is a strong inhibitor (warning, 12.5 mg/week) with temsirolimus;
    carbamazepine with FYARRO is a warning without a dose."""
    posaconazole = DraftOrder("MedicationRequest/p", "MedicationRequest", "medication", Medication("posaconazole"))
    d = decide(_with("V38", active=MtoriAgent.TEMSIROLIMUS), today=TODAY, hook="order-select", draft_orders=(posaconazole,))
    r4 = next(r for r in d.recommendations if r.rule_id == "R4")
    assert r4.urgency.value == "warning" and "12.5 mg/week" in all_text(r4)
    carbamazepine = DraftOrder("MedicationRequest/c", "MedicationRequest", "medication", Medication("carbamazepine"))
    d = decide(_with("V38", active=MtoriAgent.NAB_SIROLIMUS), today=TODAY, hook="order-sign", draft_orders=(carbamazepine,))
    r4 = next(r for r in d.recommendations if r.rule_id == "R4")
    assert r4.urgency.value == "warning" and "without a dose" in all_text(r4)


def test_bleeker_size_feature_is_known_when_both_discordant_sizes_exceed_5_cm():
    """§2.2 (C17) Bleeker display: pathology 6.0 cm vs imaging 8.0 cm (an R13 size conflict) are both >5 cm."""
    f = facts("V43")  # pathology vs imaging size discordance
    f.pathology = replace(f.pathology, size_pathology_cm=Fact(6.0), size_imaging_cm=Fact(8.0))
    bleeker = decide(f, today=TODAY).assessment.bleeker
    assert not any(u.startswith("size") for u in bleeker["unknown"])
    f.pathology = replace(f.pathology, size_pathology_cm=Fact(4.0), size_imaging_cm=Fact(8.0))
    assert any("R13 size conflict" in u for u in decide(f, today=TODAY).assessment.bleeker["unknown"])


def test_a_patient_whose_mtori_was_stopped_for_toxicity_is_not_called_mtori_naive():
    """§3 S4 is 'M1, mTORi-naive'; after an mTORi stopped for toxicity (not progression: not S7) the card must not
    claim naivety and names re-challenge as an MDT decision."""
    f = facts("V45")
    f.therapy = replace(f.therapy, prior_mtori=Fact(True), lines=(TherapyLine(agents=("sirolimus",), start=date(2025, 1, 10),
                                                                              stop=date(2025, 4, 1), reason_stopped="toxicity"),))
    s4 = card(decide(f, today=TODAY), "S4")
    assert "naive" not in s4.summary and "toxicity" in s4.summary
    assert any("MDT" in c for c in s4.caveats)


def test_the_t_category_follows_the_site_table():
    """§2.5: head and neck T1 <=2, T2 >2-<=4, T3 >4 cm; visceral organs are staged by confinement, never by size."""
    from pathway.facts import AjccSiteGroup

    f = facts("V45")  # M1: staged whatever the class
    f.site = replace(f.site, ajcc_site_group=Fact(AjccSiteGroup.HEAD_NECK))
    f.pathology = replace(f.pathology, size_pathology_cm=Fact(3.0))
    stage = decide(f, today=TODAY).assessment.stage
    assert stage.t == "T2" and stage.stage.startswith("not_applicable")
    f.site = replace(f.site, ajcc_site_group=Fact(AjccSiteGroup.ABDOMINAL_THORACIC_VISCERAL))
    assert decide(f, today=TODAY).assessment.stage.t is None  # no organ-confinement data: no T
    f.site = replace(f.site, ajcc_site_group=Fact(AjccSiteGroup.RETROPERITONEUM))
    assert decide(f, today=TODAY).assessment.stage.t == "T1"


def test_abdominal_ct_follow_up_is_for_retroperitoneal_or_intra_abdominal_primaries():
    """§3 S5 (P-MEMO): CE-CT abdomen and pelvis for a retroperitoneal or intra-abdominal primary - not for a lung
    primary, and also for a kidney primary whose AJCC group is still undecided."""
    from pathway.facts import AjccSiteGroup

    def abdominal_ct(site, group, candidates=()):
        f = facts("V19")  # resected: S2 + S5
        f.site = replace(f.site, primary_site=Fact(site), ajcc_site_group=Fact(group), ajcc_site_group_candidates=candidates)
        return any("abdomen and pelvis" in a for a in card(decide(f, today=TODAY), "S5").actions)

    assert abdominal_ct("retroperitoneum", AjccSiteGroup.RETROPERITONEUM)
    assert not abdominal_ct("lung", AjccSiteGroup.ABDOMINAL_THORACIC_VISCERAL)
    assert abdominal_ct("kidney", None, (AjccSiteGroup.RETROPERITONEUM, AjccSiteGroup.ABDOMINAL_THORACIC_VISCERAL))
    assert not abdominal_ct("thigh", AjccSiteGroup.TRUNK_EXTREMITY)


def test_every_date_after_today_is_named_in_the_one_date_conflict():
    """§4 R13: the mapper's and the core's future-date findings are one conflict listing every field (a future
    resection date found by the mapper must not hide a future trough found by the core)."""
    from pathway.facts import Conflict

    f = facts("V49")
    (trough,) = f.labs["sirolimus_trough"].results
    f.labs = {**f.labs, "sirolimus_trough": LabSeries((replace(trough, date=date(2027, 2, 1)),))}
    f.conflicts = (Conflict("date_in_future", ("extent.date_resection",), "extent.date_resection is after the reference date"),)
    (r13,) = [r for r in rules(decide(f, today=TODAY), "R13") if "date" in r.summary]
    assert "extent.date_resection" in r13.summary and "labs.sirolimus_trough" in r13.summary
