"""Safety rules R1-R16 on patient-view (spec §4; severities from the table §4.0).

Each rule is a small function ``rN(ctx) -> list[Recommendation]``; none places an order or a dose.
Order-hook checks live in ``pathway.orders``.
"""
from __future__ import annotations

import math

from pathway import knowledge as K
from pathway.catalogue import recommendation as rec
from pathway.context import Context
from pathway.dates import days_between
from pathway.decision import FactUse, Recommendation, Urgency
from pathway.facts import Fact, Haemorrhage, Medication, MtoriAgent
from pathway.options import fyarro_dose, hepatic, interacting
from pathway.orderables import proposed_order

I, W, C = Urgency.INFO, Urgency.WARNING, Urgency.CRITICAL
MTORI_WORDS = {MtoriAgent.ORAL_SIROLIMUS: "oral sirolimus", MtoriAgent.NAB_SIROLIMUS: "nab-sirolimus (FYARRO)",
               MtoriAgent.TEMSIROLIMUS: "temsirolimus", MtoriAgent.EVEROLIMUS: "everolimus"}


def _mtori_words(ctx: Context) -> str:
    return MTORI_WORDS[ctx.active_mtori] if ctx.active_mtori else "a proposed mTOR inhibitor"


# ---------------------------------------------------------------- R1 / R2 (oral sirolimus only)

def proportional_dose(ctx: Context, trough: float) -> str:
    """new = current x target-mid / measured, at a confirmed steady-state pre-dose trough (C3)."""
    t = ctx.facts.therapy
    lab = ctx.lab("sirolimus_trough")
    change = t.date_last_dose_change.value
    if lab.date is not None and lab.date > ctx.today:  # R13 date conflict: the formula rests on the sample date
        return "formula not shown: the trough sample is dated after today (R13 data conflict): pending resolution"
    if ctx.facts.trough.pre_dose is not True:
        return "formula not shown: confirm a true pre-dose trough first"
    if change is None or lab.date is None or days_between(change, lab.date) < K.STEADY_STATE_DAYS:
        return "formula not shown: recheck at steady state (>=7 days after the last dose change, date known)"
    dose = t.current_dose_mg.value
    if dose is None:
        return "formula not shown: current dose not in record"
    mid = ctx.settings.trough_target_mid
    raw = dose * mid / trough
    rounded = math.floor(raw / K.SIROLIMUS_DOSE_STEP_MG) * K.SIROLIMUS_DOSE_STEP_MG
    shown = f"{dose:g} mg x {mid:g} / {trough:g} = {raw:.2f} mg"
    if raw > K.SIROLIMUS_SERIES_MAX_MG:
        return (f"{shown}: exceeds 5 mg (series maximum; phase I MTD {K.SIROLIMUS_PHASE1_MTD_MG:g} mg): "
                "specialist review - not a dose")
    if rounded <= 0:
        return f"{shown}: rounds to 0 mg - specialist review"
    return f"{shown} -> {rounded:.1f} mg daily (rounded down to 0.5 mg; clinician decision, never ordered automatically)"


def trough_rules(ctx: Context) -> list[Recommendation]:
    lab = ctx.lab("sirolimus_trough")
    if ctx.active_mtori is not MtoriAgent.ORAL_SIROLIMUS or lab is None or lab.value is None:
        return []
    low, high = ctx.settings.sirolimus_trough_target_ng_ml
    target = f"{low:g}-{high:g} ng/mL ({ctx.settings.source_of('sirolimus_trough_target_ng_ml')})"
    facts = (FactUse("sirolimus trough", ctx.lab_fact("sirolimus_trough")),
             FactUse("assay", Fact(ctx.facts.trough.assay)), FactUse("current dose", ctx.facts.therapy.current_dose_mg),
             FactUse("last dose change", ctx.facts.therapy.date_last_dose_change))
    common = [f"Target in use: {target}. {K.SIROLIMUS_TARGET_CONTEXT}",
              f"Assay: {ctx.facts.trough.assay or 'not recorded'} (displayed, never converted)"]
    if lab.value > high:
        return [rec("R1", f"Sirolimus trough {lab.value:g} ng/mL above the target {low:g}-{high:g} ng/mL",
                    actions=("Confirm a true pre-dose trough, the assay and the date of the last dose change",
                             "Review CYP3A4/P-gp inhibitors and grapefruit (R4)",
                             "Assess toxicity: CBC, lipids, glucose, mucositis, respiratory symptoms",
                             "Dose reduction at clinician discretion: " + proportional_dose(ctx, lab.value),
                             "Recheck 7-14 days after a dose change; once stable at least every 3 months"),
                    facts_used=facts, caveats=tuple(common), orders=(proposed_order("sirolimus_trough"),))]
    if lab.value < low:
        response = ctx.facts.therapy.current_best_response.value
        not_responding = response in ("SD", "PD") or ctx.progressed_on_mtori
        formula = (proportional_dose(ctx, lab.value) if not_responding
                   else "escalation formula shown only when not responding")
        return [rec("R2", f"Sirolimus trough {lab.value:g} ng/mL below the target {low:g}-{high:g} ng/mL",
                    actions=("Confirm a true pre-dose trough and adherence", "Review CYP3A4 inducers (R4)",
                             "S003: in a non-responder, dose escalation with trough assessment seems reasonable: " + formula,
                             "Recheck 7-14 days after a dose change"),
                    facts_used=facts + (FactUse("best response", ctx.facts.therapy.current_best_response),),
                    caveats=tuple(common), orders=(proposed_order("sirolimus_trough"),))]
    return []


# ---------------------------------------------------------------- R3 metabolic

METABOLIC = ("hypertriglyceridaemia", "hypercholesterolaemia", "hyperglycaemia")


def r3(ctx: Context) -> list[Recommendation]:
    if ctx.active_mtori is None:
        return []
    grades = {k: f for k, f in ctx.facts.clinical.toxicity_grades.items() if k in METABOLIC}
    known = {k: f.value for k, f in grades.items() if f.value is not None}
    if not known:
        return []
    top = max(known.values())
    listed = ", ".join(f"{k} G{g}" for k, g in known.items())
    caveats = [f"Data-quality note: {k} grade {f.note} - both shown; not an R13 conflict" for k, f in grades.items()
               if f.value is None and f.note]
    caveats.append("CTCAE lipid/glucose thresholds unverified: grades as reported")
    return [rec("R3", f"Metabolic toxicity on {_mtori_words(ctx)}: {listed}", urgency=W if top >= 3 else I,
                actions=("Consider lipid-lowering agents and oral hypoglycaemics first, before dose modification or "
                         "discontinuation - clinician decision",
                         "Grade >=3: clinician review of interruption" if top >= 3 else "Monitor lipids and glucose",
                         "Statin choice: run an interaction check (simvastatin interacts with sirolimus)",
                         "Monitor lipids and glucose monthly, then 3-monthly (S003)"),
                facts_used=tuple(FactUse(k, f) for k, f in grades.items()), caveats=tuple(caveats),
                orders=(proposed_order("lipid_panel"),))]


# ---------------------------------------------------------------- R4 interactions (patient-view)

SIROLIMUS_AGENTS = (MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS)


def interaction_advice(agents: set[MtoriAgent], effect: str, strength: str) -> tuple[Urgency, list[str]]:
    """§4.0/§4 R4 for the mTOR inhibitors in play (active, drafted or proposed), on every hook: critical for a
    combination labelled contraindicated (posaconazole/voriconazole: the *sirolimus* labelling; a strong inhibitor
    for temsirolimus/everolimus), warning for a strong modulator and for FYARRO with any inducer ('warning without
    a dose', §3 S4 step 2), info else; plus the agent-specific advice."""
    sirolimus = bool(agents & set(SIROLIMUS_AGENTS))
    urgency = C if strength == "contraindicated" and sirolimus else W if strength in ("contraindicated", "strong") else I
    actions = []
    if strength == "contraindicated" and not sirolimus:
        actions.append("Contraindicated with sirolimus; with the mTOR inhibitor in use a strong inhibitor: avoid")
    if MtoriAgent.ORAL_SIROLIMUS in agents:  # sirolimus USPI §7 [V]; moderate/weak: MIMS mirror [V] (spec §4 R4)
        if strength == "strong":
            actions.append(f"Oral sirolimus: avoid strong CYP3A4 {effect}s (USPI §7)")
        elif strength == "moderate/weak" and effect in ("inhibitor", "inducer"):
            change = "raise" if effect == "inhibitor" else "lower"
            actions.append(f"Oral sirolimus: caution, may {change} sirolimus levels (MIMS); consider a trough check")
    if MtoriAgent.NAB_SIROLIMUS in agents and effect == "inducer":
        urgency = max(urgency, W, key=_rank)
        actions.append("FYARRO with a CYP3A4 inducer: warning without a dose (label §7 unverified)")
    if MtoriAgent.TEMSIROLIMUS in agents:
        actions.extend(temsirolimus_interaction_text(effect, strength))
    return urgency, actions


def r4(ctx: Context) -> list[Recommendation]:
    if not ctx.mtori_in_play:
        return []
    out = []
    agents = set(MtoriAgent) if ctx.mtori_proposed else {ctx.active_mtori}  # S3/S4 options: every mTORi
    for med, (effect, strength, source) in interacting(ctx.active_meds()):
        under_r12 = effect == "inducer" and started_for_emergency(ctx, med)
        urgency, advice = interaction_advice(agents, effect, strength)
        if under_r12 or (strength == "unverified" and ctx.emergency):
            urgency = max(urgency, W, key=_rank)  # an inducer started under R12 (strength unverified: dexamethasone)
        actions = [f"{med.ingredient}: CYP3A4 {effect} ({strength}; {source})"]
        if ctx.active_mtori is MtoriAgent.ORAL_SIROLIMUS:
            actions.append("Oral sirolimus: consider a trough check")
        if MtoriAgent.NAB_SIROLIMUS in agents and effect == "inhibitor" and strength in ("strong", "contraindicated"):
            actions.append(f"FYARRO: {fyarro_dose(ctx).path}")
        actions += advice
        if under_r12:
            actions.append(emergency_start_note(med))
        out.append(rec("R4", f"{med.ingredient} ({effect}) with {_mtori_words(ctx)}: interaction", urgency=urgency,
                       actions=tuple(actions), facts_used=(FactUse("medication", Fact(med.text or med.ingredient,
                                                                                    sources=med.sources, note=med.note)),)))
    if ctx.facts.clinical.grapefruit.value:
        out.append(grapefruit_alert(ctx, _mtori_words(ctx)))
    return out


def grapefruit_alert(ctx: Context, mtori_words: str, **fields) -> Recommendation:
    return rec("R4", f"Grapefruit with {mtori_words}: must not be taken", urgency=W,
               actions=("Grapefruit juice must not be taken with sirolimus (USPI)",),
               facts_used=(FactUse("grapefruit", ctx.facts.clinical.grapefruit),), **fields)


def emergency_start_note(med: Medication) -> str:
    return f"{med.ingredient} was started for the emergency (R12): keep it; check its effect on the mTORi"


def _rank(u: Urgency) -> int:
    return (I, W, C).index(u)


def temsirolimus_interaction_text(effect: str, strength: str) -> list[str]:
    """Temsirolimus labelling [V mirror] (§4 R4): strong inhibitors and inducers, with the 'if unavoidable' doses."""
    if effect == "inhibitor" and strength in ("strong", "contraindicated"):
        return [f"Temsirolimus: avoid; if unavoidable consider {K.TEMSIROLIMUS_STRONG_INHIBITOR_DOSE} (about 1 week "
                "after stopping the inhibitor before re-escalating)"]
    if effect == "inducer" and strength == "strong":
        return [f"Temsirolimus: avoid; if unavoidable consider {K.TEMSIROLIMUS_STRONG_INDUCER_DOSE}"]
    return []


def started_for_emergency(ctx: Context, med: Medication) -> bool:
    """Started for an active emergency (§4 R12: such drugs are checked by R4): its start is on or after the
    emergency's date; where the record does not date the emergency, the medication's own note names it."""
    found = active_emergencies(ctx)
    if not found or med.start is None:
        return False
    dates = [fact.date for _, fact in found if fact.date is not None]
    if dates:
        return med.start >= min(dates)
    note = (med.note or "").lower()
    return any(_emergency_phrase(key) in note for key, _ in found)


def _emergency_phrase(key: str) -> str:
    """The words a note uses for the emergency ("cord compression" for spinal cord compression)."""
    words = EMERGENCY_WORDS.get(key, "oncological emergency").lower().split()
    return " ".join(words[-2:])


# ---------------------------------------------------------------- R5 pneumonitis

def r5(ctx: Context) -> list[Recommendation]:
    c = ctx.facts.clinical
    documented = c.pneumonitis_grade.value is not None and c.pneumonitis_grade.value >= 1  # a graded pneumonitis
    if ctx.active_mtori is None or not (documented or any(f.value for f in (c.new_cough, c.dyspnoea, c.hypoxia,
                                                                             c.new_infiltrates))):
        return []
    grade = c.pneumonitis_grade.value
    critical = (grade is not None and grade >= 3) or c.hypoxia.value is True
    excluded = c.infection_excluded.value is True
    name = "pneumonitis (infection excluded)" if excluded else "suspected pneumonitis"
    return [rec("R5", f"{name.capitalize()} on {_mtori_words(ctx)}" + ("" if excluded else ": infection not yet excluded"),
                urgency=C if critical else W,
                actions=("Per temsirolimus labelling: 'If clinically significant respiratory symptoms develop, consider "
                         "withholding' the mTOR inhibitor",
                         "Exclude infection (including opportunistic) - the card says 'suspected' until then",
                         "Empiric corticosteroids and/or antibiotics may be considered; if corticosteroids are used, PJP "
                         "prophylaxis may be considered",
                         "Clinician decision on re-challenge or dose reduction (AMPECT: pneumonitis 18%, grade 1-2)"),
                facts_used=(FactUse("new cough", c.new_cough), FactUse("dyspnoea", c.dyspnoea),
                            FactUse("new infiltrates", c.new_infiltrates), FactUse("hypoxia (clinician)", c.hypoxia),
                            FactUse("SpO2 (displayed, not thresholded)", c.spo2_percent),
                            FactUse("pneumonitis grade", c.pneumonitis_grade),
                            FactUse("infection excluded", c.infection_excluded)),
                caveats=("Critical when grade >=3 or hypoxia is documented by a clinician; SpO2 is not thresholded",
                         "FYARRO: label Table 2 modification for ILD/pneumonitis applies (numbers unverified)"))]


# ---------------------------------------------------------------- R6 myelosuppression, R11 anaemia/bleeding

def _grade(value: float, table: tuple) -> int | None:
    for threshold, grade in table:
        if value < threshold:
            return grade
    return None


def r6(ctx: Context) -> list[Recommendation]:
    if ctx.active_mtori is None:
        return []
    findings = []
    platelets, anc, hb = ctx.lab("platelets"), ctx.lab("anc"), ctx.lab("haemoglobin")
    if platelets and platelets.value is not None:
        g = _grade(platelets.value, K.PLATELETS_GRADE)
        if g and g >= 3:
            findings.append(f"thrombocytopenia grade {g} ({platelets.value:g} x10^9/L)")
        elif ctx.active_mtori is MtoriAgent.TEMSIROLIMUS and platelets.value < K.TEMSIROLIMUS_HOLD_PLATELETS:
            findings.append(f"platelets {platelets.value:g} x10^9/L < {K.TEMSIROLIMUS_HOLD_PLATELETS} (temsirolimus hold)")
    if anc and anc.value is not None and ctx.active_mtori is MtoriAgent.TEMSIROLIMUS and anc.value < K.TEMSIROLIMUS_HOLD_ANC:
        findings.append(f"ANC {anc.value:g} x10^9/L < {K.TEMSIROLIMUS_HOLD_ANC:g} (temsirolimus hold)")
    if hb and hb.value is not None and (_grade(hb.value, K.HB_GRADE) or 0) >= 3:
        findings.append(f"anaemia grade 3 (Hb {hb.value:g} g/dL)")
    temsirolimus = ctx.active_mtori is MtoriAgent.TEMSIROLIMUS
    if temsirolimus:  # label: hold for "any grade >=3 AE", not only the blood counts
        findings += [f"{name} grade {grade} (temsirolimus hold: any grade >=3 adverse event)"
                     for name, grade in _reported_grades(ctx) if grade >= 3]
    if not findings:
        return []
    actions = {MtoriAgent.TEMSIROLIMUS: f"Temsirolimus: hold; {K.TEMSIROLIMUS_RESUME}",
               MtoriAgent.NAB_SIROLIMUS: "FYARRO: label Table 2 modification applies (numbers unverified); levels 100 -> 75 -> 56 -> 45 mg/m2",
               }.get(ctx.active_mtori, "No PEComa-specific rule: clinician review")
    title = "Temsirolimus hold" if temsirolimus else f"Myelosuppression on {_mtori_words(ctx)}"
    return [rec("R6", f"{title}: " + "; ".join(findings), urgency=W,
                actions=(actions, "Repeat CBC"), orders=(proposed_order("cbc"),),
                facts_used=(FactUse("platelets", ctx.lab_fact("platelets")), FactUse("ANC", ctx.lab_fact("anc")),
                            FactUse("Hb", ctx.lab_fact("haemoglobin"))))]


def _reported_grades(ctx: Context) -> list[tuple[str, int]]:
    """Adverse-event grades as reported in the record (stomatitis, pneumonitis, CTCAE toxicity grades)."""
    c = ctx.facts.clinical
    named = [("stomatitis", c.stomatitis_grade), ("pneumonitis", c.pneumonitis_grade)] + list(c.toxicity_grades.items())
    return [(name.replace("_", " "), fact.value) for name, fact in named if isinstance(fact.value, int)]


def r11(ctx: Context) -> list[Recommendation]:
    out = []
    hb = ctx.lab("haemoglobin")
    on_sirolimus = ctx.active_mtori in (MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS)
    contribution = ("; a sirolimus contribution is possible (S002)" if on_sirolimus else "")
    trend = ", ".join(f"{r.value:g}" for r in ctx.facts.labs["haemoglobin"].results if r.value is not None) if hb else ""
    if hb and hb.value is not None:
        grade = _grade(hb.value, K.HB_GRADE)
        if grade is None and hb.reference_low is not None and hb.value < hb.reference_low:
            grade = 1
        if grade:
            out.append(rec("R11", f"Anaemia CTCAE grade {grade} (Hb {hb.value:g} g/dL){contribution}",
                           urgency=W if grade >= 2 else I,
                           actions=("Investigate and treat the anaemia; transfusion per local policy", f"Hb trend: {trend}"),
                           facts_used=(FactUse("Hb", ctx.lab_fact("haemoglobin")),), orders=(proposed_order("cbc"),)))
    bleeding = ctx.facts.clinical.haemorrhage.value
    if bleeding is Haemorrhage.CLINICALLY_EVIDENT and ctx.active_mtori is None:
        out.append(rec("R11", "Clinically evident bleeding", urgency=W,
                       actions=("Assess and manage the bleeding",),
                       facts_used=(FactUse("haemorrhage", ctx.facts.clinical.haemorrhage),)))
    return out


# ---------------------------------------------------------------- R7 hepatic (patient-view)

def r7(ctx: Context) -> list[Recommendation]:
    if not ctx.mtori_in_play:
        return []
    liver = hepatic(ctx)
    if not liver.impaired:
        return []
    actions, critical = [], False
    if ctx.mtori_proposed or ctx.active_mtori is MtoriAgent.NAB_SIROLIMUS:
        dose = fyarro_dose(ctx)
        actions.append(f"FYARRO: {dose.path}")
        critical |= dose.avoid
    if ctx.mtori_proposed or ctx.active_mtori is MtoriAgent.TEMSIROLIMUS:
        if liver.temsirolimus == "contraindicated":
            actions.append(f"Temsirolimus: contraindicated ({K.TEMSIROLIMUS_CONTRAINDICATED_WORDS})")
            critical = True
        elif liver.temsirolimus == "reduce":
            actions.append(f"Temsirolimus: {K.TEMSIROLIMUS_MILD_HEPATIC_DOSE} ('Dose reduction is required in patients "
                           "with mild hepatic impairment')")
    if ctx.mtori_proposed or ctx.active_mtori is MtoriAgent.ORAL_SIROLIMUS:
        actions.append(K.SIROLIMUS_HEPATIC_NOTE)
    band = liver.fyarro_band or "impaired"
    return [rec("R7", f"Hepatic impairment ({band}, {liver.bilirubin_words}) with {_mtori_words(ctx)}",
                urgency=C if critical else W, actions=tuple(actions),
                facts_used=liver_facts(ctx),
                caveats=("AMPECT's 'bilirubin <=1.5 x ULN' is a trial entry criterion, not a dosing criterion",))]


def liver_facts(ctx: Context) -> tuple[FactUse, FactUse]:
    """The two labs of the hepatic bands (R7), as shown on every card that rests on them."""
    return FactUse("total bilirubin", ctx.lab_fact("total_bilirubin")), FactUse("AST", ctx.lab_fact("ast"))


# ---------------------------------------------------------------- R8 surgery, R10 ACE inhibitor

def r8(ctx: Context) -> list[Recommendation]:
    planned = ctx.facts.extent.planned_surgery_date
    if ctx.active_mtori is None or planned.value is None:
        return []
    return [surgery_alert(ctx, f"planned {planned.value.isoformat()}", facts_used=(FactUse("planned surgery", planned),))]


def surgery_alert(ctx: Context, what: str, **fields) -> Recommendation:
    return rec("R8", f"Surgery ({what}) while on {_mtori_words(ctx)}: wound-healing impairment",
               actions=("mTOR inhibitors impair wound healing (sirolimus USPI §5.6)",
                        "Plan peri-operative interruption with the sarcoma team (case report: sirolimus stopped 2 weeks "
                        "before resection, P-HEPCASE)"), **fields)


def sirolimus_in_play(ctx: Context) -> bool:
    sirolimus = (MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS)
    return ctx.active_mtori in sirolimus or (ctx.mtori_proposed and ctx.active_mtori is None) or any(
        agent in sirolimus for _, agent in ctx.drafted_mtori)


def r10(ctx: Context) -> list[Recommendation]:
    if not sirolimus_in_play(ctx):
        return []
    return [ace_alert(ctx, med.ingredient, facts_used=(FactUse("medication", Fact(med.text or med.ingredient)),))
            for med in ctx.active_meds() if med.ingredient in K.ACE_INHIBITORS]


def ace_alert(ctx: Context, drug: str, **fields) -> Recommendation:
    return rec("R10", f"{drug} (ACE inhibitor) with sirolimus: angioedema risk",
               actions=("Angioedema risk with sirolimus and ACE inhibitors (USPI §5.5): monitor or consider an alternative",),
               **fields)


# ---------------------------------------------------------------- R12 emergencies

EMERGENCY_WORDS = {"spinal_cord_compression": "spinal cord compression", "airway_compromise": "airway compromise",
                   "svc_syndrome": "SVC syndrome", "haemorrhage_life_threatening": "life-threatening haemorrhage",
                   "hypercalcaemia": "hypercalcaemia", "other": "oncological emergency"}


def active_emergencies(ctx: Context) -> list[tuple[str, Fact]]:
    found = [(k, f) for k, f in ctx.facts.clinical.emergencies.items() if f.value is True]
    if ctx.facts.clinical.haemorrhage.value is Haemorrhage.LIFE_THREATENING:
        found.append(("haemorrhage_life_threatening", ctx.facts.clinical.haemorrhage))
    return found


def r12(ctx: Context) -> list[Recommendation]:
    found = active_emergencies(ctx)
    if not found:
        return []
    words = ", ".join(EMERGENCY_WORDS.get(k, k) for k, _ in found)
    return [rec("R12", f"Oncological emergency: {words} - urgent management", urgency=C,
                actions=("Urgent assessment and treatment of the emergency (oncology/acute team)",
                         "Routine line-of-therapy cards are suppressed until the emergency is managed",
                         "Drugs started for the emergency are checked against the mTOR inhibitor (R4)"),
                facts_used=tuple(FactUse(EMERGENCY_WORDS.get(k, k), f) for k, f in found))]


# ---------------------------------------------------------------- R15 pregnancy / lactation

def r15(ctx: Context) -> list[Recommendation]:
    s = ctx.facts.status
    if not (ctx.mtori_in_play or ctx.mtori_option_offered):
        return []
    out = []
    if s.pregnant.value:
        out.append(rec("R15", f"Pregnancy with {_mtori_words(ctx)}: embryo-fetal toxicity - discussion only", urgency=C,
                       actions=("Embryo-fetal toxicity warning in the sirolimus and temsirolimus labels (FYARRO wording "
                                "unverified)", "mTOR inhibitor options are shown for discussion only",
                                "Specialist review (sarcoma MDT + obstetric) before any start"),
                       facts_used=(FactUse("pregnant", s.pregnant),)))
    if s.breastfeeding.value:
        out.append(rec("R15", f"Breastfeeding with {_mtori_words(ctx)}", urgency=W,
                       actions=("FYARRO: 'Advise not to breastfeed' (label); other mTORi: label §8 unverified",),
                       facts_used=(FactUse("breastfeeding", s.breastfeeding),)))
    return out


def live_vaccine_alert(ctx: Context, order_ref: str, text: str, drafted_words: str | None = None) -> Recommendation:
    """``drafted_words``: the mTOR inhibitor(s) drafted in the same session, when none is active."""
    words = f"while on {_mtori_words(ctx)}" if ctx.active_mtori or not drafted_words else f"with {drafted_words}"
    return rec("R15", f"Live vaccine ({text}) {words}", urgency=W, about_order=order_ref,
               actions=("Sirolimus labelling advises against live vaccines (audit A-7); other mTORi unverified",))


# ---------------------------------------------------------------- R16 label adverse events

def r16(ctx: Context) -> list[Recommendation]:
    agent = ctx.active_mtori
    if agent is None:
        return []
    findings, urgency = [], I
    for key, word in (("potassium", "potassium"), ("phosphate", "phosphate")):
        lab = ctx.lab(key)
        if lab and ((lab.value is not None and lab.reference_low is not None and lab.value < lab.reference_low)
                    or lab.interpretation == "low"):
            findings.append(f"{word} below the lab's LLN")
            urgency = W
    bleed = ctx.facts.clinical.haemorrhage.value
    if bleed in (Haemorrhage.INTRATUMORAL, Haemorrhage.CLINICALLY_EVIDENT):
        findings.append(f"haemorrhage ({bleed.value.replace('_', ' ')}; S003: intra-tumoral haemorrhage observed)")
        urgency = W
    stomatitis = ctx.facts.clinical.stomatitis_grade.value
    if stomatitis:
        findings.append(f"stomatitis grade {stomatitis}")
        if agent is MtoriAgent.NAB_SIROLIMUS:
            urgency = W
    glucose = ctx.facts.clinical.toxicity_grades.get("hyperglycaemia")
    if agent is MtoriAgent.NAB_SIROLIMUS and glucose is not None and glucose.value:
        findings.append(f"hyperglycaemia grade {glucose.value}")
        urgency = W
    if not findings:
        return []
    actions = ["Monitor K, phosphate, glucose, lipids, blood counts; stomatitis; haemorrhage"]
    if agent is MtoriAgent.NAB_SIROLIMUS:
        actions.append("Label dose modification applies (Table 2; numbers unverified); levels 100 -> 75 -> 56 -> 45 mg/m2")
    elif stomatitis:
        actions.append("S003: mucositis responded well to local measures and dose reduction")
    return [rec("R16", f"On {_mtori_words(ctx)}: " + "; ".join(findings), urgency=urgency, actions=tuple(actions))]


PATIENT_VIEW_RULES = (trough_rules, r3, r4, r5, r6, r7, r8, r10, r11, r15, r16)
