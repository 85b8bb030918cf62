"""Order checks for order-select / order-sign (spec §4.0 hooks; issue acceptance point 6).

Each draft order is judged against the pathway; every recommendation names it in ``about_order``
and, when it proposes an alternative, in ``replaces_order``. Nothing is ordered automatically.
"""
from __future__ import annotations

from dataclasses import replace

from pathway import knowledge as K
from pathway.catalogue import recommendation as rec
from pathway.context import Context, drafted_agent
from pathway.decision import FactUse, Recommendation, Urgency
from pathway.facts import DraftOrder, MtoriAgent
from pathway.options import (fyarro_dose, fyarro_dosage_text, hepatic, interacting, missing_liver_tests, mtori_options,
                             s4b_options)
from pathway.orderables import proposed_order
from pathway.safety import (MTORI_WORDS, _mtori_words, _rank, ace_alert, emergency_start_note, grapefruit_alert,
                            interaction_advice, live_vaccine_alert, liver_facts, started_for_emergency, surgery_alert)

I, W, C = Urgency.INFO, Urgency.WARNING, Urgency.CRITICAL


def check_orders(ctx: Context) -> list[Recommendation]:
    """Judge the selected draft orders (order-select: the newly selected ones; order-sign: all); the other drafts
    are context (e.g. an ACE inhibitor selected beside a drafted sirolimus), not judged again on every selection."""
    out: list[Recommendation] = []
    for order in ctx.draft_orders:
        if order.selected:
            out.extend(check_order(ctx, order))
    return out


def _other_mtori(ctx: Context, order: DraftOrder) -> set[MtoriAgent]:
    """The mTOR inhibitors a draft order meets: the active one and those drafted in the other orders."""
    agents = {ctx.active_mtori} | {a for o, a in ctx.drafted_mtori if o is not order}
    agents.discard(None)
    return agents


def _drafted_words(agents: set[MtoriAgent]) -> str:
    return "the drafted " + " / ".join(sorted(MTORI_WORDS[a] for a in agents))


def check_order(ctx: Context, order: DraftOrder) -> list[Recommendation]:
    ref = order.reference
    if order.live_vaccine:
        agents = _other_mtori(ctx, order)
        return [live_vaccine_alert(ctx, ref, order.text or "live vaccine", _drafted_words(agents))] if agents else []
    if order.category == "surgery":  # §4.0 R8 hooks: patient-view and order-sign of the procedure
        signing = ctx.hook == "order-sign" and ctx.active_mtori is not None
        return [surgery_alert(ctx, order.text or "procedure order", about_order=ref)] if signing else []
    med = order.medication
    if med is None:
        return []
    name = med.ingredient.lower()
    agent = drafted_agent(order)
    if agent is not None:
        return _mtori_order(ctx, order, agent)
    out = []
    systemic = name in K.NON_MTORI_SYSTEMIC
    if systemic and ctx.primary == "S8":
        out.append(_s8_card(ref, name))
    setting_card = None
    if systemic and ctx.primary in ("S3", "S4"):
        setting_card = _first_line_check(ctx, order, name)
    elif systemic and ctx.primary in ("S1", "S2"):
        setting_card = _localised_systemic_check(ctx, order, name)
    if setting_card is not None:
        out.append(setting_card)
    elif name == "pazopanib" and not ctx.prior_chemotherapy:
        after_mtori = ctx.facts.therapy.prior_mtori.value or ctx.active_mtori is not None
        out.append(rec("S7", "Pazopanib without prior chemotherapy: off-label (FDA STS label requires prior chemotherapy)",
                       about_order=ref, caveats=(("Off-label after an mTOR inhibitor alone (S004)",) if after_mtori else ())
                       + ("Antiangiogenic ORR 8.3%, mPFS 5.4 months (P-SANF19)",)))
    agents = _other_mtori(ctx, order)
    if name in K.INTERACTIONS and agents:
        effect, strength, source = K.INTERACTIONS[name]
        urgency, advice = interaction_advice(agents, effect, strength)
        if strength == "unverified":
            urgency = max(urgency, W, key=_rank)
        actions = [f"{name}: CYP3A4 {effect} ({strength}; {source})"]
        if MtoriAgent.ORAL_SIROLIMUS in agents:
            actions.append("Oral sirolimus: consider a trough check after starting or stopping it")
        if MtoriAgent.NAB_SIROLIMUS in agents and effect == "inhibitor" and strength in ("strong", "contraindicated"):
            actions.append(f"FYARRO: reduce to {K.FYARRO_STRONG_INHIBITOR_MG_M2} mg/m2 if unavoidable (label §2.3; full wording unverified)")
        actions += advice
        words = _mtori_words(ctx) if ctx.active_mtori else _drafted_words(agents)
        out.append(rec("R4", f"{name} ({effect}, {strength}) with {words}", urgency=urgency,
                       about_order=ref, actions=tuple(actions)))
    if name in K.ACE_INHIBITORS and agents & {MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS}:
        out.append(ace_alert(ctx, name, about_order=ref))
    return out


def _first_line_check(ctx: Context, order: DraftOrder, name: str) -> Recommendation | None:
    """A non-mTORi systemic agent drafted in S3/S4: judged against the first-line mTOR inhibitor (spec §3 S4, S4b)."""
    if ctx.emergency or "S9" in ctx.modifiers:
        return None  # R12: routine line-of-therapy advice is suppressed; S9: options unranked ('No ranking')
    ref = order.reference
    chemotherapy = name in K.CHEMOTHERAPY
    if "S4b" in ctx.modifiers:
        if not chemotherapy:
            return None  # pazopanib is no S4b option: its label card (S7, prior chemotherapy) speaks for it
        # the drafted agent is not offered again as a new order (no duplicate draft)
        options = tuple(o if name not in o.label else replace(o, order=None) for o in s4b_options())
        if name not in K.S4B_AGENTS:
            return rec("S4b", f"{name} first line with no mTOR inhibitor available: not an S4b option", about_order=ref,
                       options=options, actions=("S4b: doxorubicin first line, or doxorubicin + ifosfamide when tumour "
                                                 "response is the goal and performance status is good (S000; PDQ)",),
                       caveats=("No chemotherapy dose in the sources: institutional STS protocol",))
        return rec("S4b", f"{name} first line with no mTOR inhibitor available: consistent with S4b",
                   about_order=ref, options=options,
                   caveats=("No chemotherapy dose in the sources: institutional STS protocol",))
    label = (f"Pazopanib is off-label here: its {K.PAZOPANIB_LABEL}",) if (
        name == "pazopanib" and not ctx.prior_chemotherapy) else ()
    if ctx.facts.therapy.prior_mtori.value or ctx.active_mtori is not None:
        return rec("S4", f"{name} ordered: patient not mTOR-inhibitor-naive - review the line of therapy", about_order=ref,
                   caveats=label)
    comparison = f"Retrospective: {K.FIRST_LINE_COMPARISON.get(name, K.FIRST_LINE_COMPARISON_OTHER)}"
    if ctx.facts.status.pregnant.value:  # R15: mTORi options for discussion only; nothing replaces the draft
        return rec("S4", f"{name} ordered first line during pregnancy: mTORi options for discussion only (R15)",
                   about_order=ref, options=mtori_options(ctx),
                   actions=("Pregnancy: any mTOR inhibitor only after sarcoma MDT and obstetric review (R15)",
                            "Preferred first line outside pregnancy: an mTOR inhibitor (ESMO [IV, C] via S000)"),
                   caveats=(comparison,) + label)
    return rec("S4", f"{name} ordered first line; mTOR-inhibitor-naive advanced PEComa: an mTOR inhibitor is preferred",
               urgency=W, about_order=ref, replaces_order=ref, options=mtori_options(ctx),
               actions=("Preferred first line: an mTOR inhibitor (ESMO [IV, C] via S000; PDQ Table 9)",
                        "Doxorubicin is the option when an mTOR inhibitor is unavailable or contraindicated (S4b)"),
               caveats=(comparison,) + label)


def _localised_systemic_check(ctx: Context, order: DraftOrder, name: str) -> Recommendation:
    """Chemotherapy or pazopanib drafted for localised disease (spec §3 S1/S2): adjuvant chemotherapy is not
    established; node-positive disease has its own weak statements (N1 card)."""
    caveats = ["Node-positive: S001 says post-operative chemotherapy or RT 'should be considered' (single case "
               "report); PDQ: adjuvant chemotherapy 'may be considered but is not known to improve overall survival'"
               ] if ctx.node_positive else []
    if name == "pazopanib":
        caveats.append(f"Pazopanib: {K.PAZOPANIB_LABEL}")
    return rec(ctx.primary, f"{name} ordered for localised disease: adjuvant systemic therapy is not established",
               about_order=order.reference, caveats=tuple(caveats),
               actions=("Adjuvant chemotherapy not established and not standard (S000; PDQ: 'controversial', S004); "
                        "no standard adjuvant systemic therapy (S2)",))


def _s8_card(ref: str, name: str) -> Recommendation:
    """Systemic therapy drafted in S8 (spec §3 S8: best supportive care; systemic options only for discussion if
    performance status improves)."""
    return rec("S8", f"{name} ordered: heavily pretreated or poor performance status (S8): best supportive care",
               about_order=ref, actions=("Best supportive care and palliative care referral (S000); palliative RT for "
                                         "symptoms (S002)",
                                         "Systemic options for discussion if performance status improves"))


def _setting_check(ctx: Context, ref: str, agent: MtoriAgent) -> list[Recommendation]:
    """An mTOR inhibitor ordered outside its evidence: localised disease (S1/S2: adjuvant mTORi is case-report
    only, not recommended outside a trial; FYARRO's label covers locally advanced unresectable or metastatic
    disease) or FYARRO after progression on an mTOR inhibitor (S7: AMPECT excluded prior mTORi)."""
    if ctx.primary == "S8":
        return [_s8_card(ref, MTORI_WORDS[agent])]
    if ctx.primary in ("S1", "S2"):
        label = (("FYARRO label: locally advanced unresectable or metastatic malignant PEComa",)
                 if agent is MtoriAgent.NAB_SIROLIMUS else ())
        return [rec(ctx.primary, f"{MTORI_WORDS[agent]} ordered for localised disease: not recommended outside a trial",
                    about_order=ref, evidence=(K.EV["S2"],) + ((K.EV["FYARRO_LABEL"],) if label else ()),
                    actions=("No standard adjuvant systemic therapy; adjuvant mTOR inhibitor: case reports only "
                             "(S002; P-HEPCASE): not recommended outside a trial (spec §3 S2)",) + label)]
    if agent is MtoriAgent.NAB_SIROLIMUS and ctx.progressed_on_mtori:
        return [rec("S7", "nab-sirolimus (FYARRO) after progression on an mTOR inhibitor: no evidence for the switch",
                    about_order=ref, evidence=(K.EV["AMPECT"], K.EV["S7"]),
                    actions=("Switching from an oral mTOR inhibitor to nab-sirolimus: no evidence; AMPECT excluded "
                             "prior mTOR inhibitors (spec §3 S7)",
                             "S7 options, unranked: clinical trial, VEGFR-TKI, chemotherapy, sirolimus + exemestane "
                             "(women), trabectedin"))]
    return []


def _mtori_order(ctx: Context, order: DraftOrder, agent: MtoriAgent) -> list[Recommendation]:
    ref = order.reference
    out = []
    contraindication = ctx.facts.therapy.mtori_contraindication
    if contraindication.known:  # spec §1 (S4b branch); the mapper records it from the allergy list
        out.append(rec("S4b", f"{MTORI_WORDS[agent]} ordered with a recorded {contraindication.value}", urgency=C,
                       about_order=ref, facts_used=(FactUse("mTOR inhibitor contraindication", contraindication),),
                       actions=("Hypersensitivity to sirolimus or a rapamycin derivative contraindicates every mTOR "
                                "inhibitor (spec §1): verify the allergy record before any start",
                                "S4b: doxorubicin first line when an mTOR inhibitor is contraindicated")))
    out.extend(_setting_check(ctx, ref, agent))
    liver = hepatic(ctx)
    if agent is MtoriAgent.TEMSIROLIMUS:
        state = liver.temsirolimus or ""
        contraindicated = state == "contraindicated"
        too_high = K.TEMSIROLIMUS_CONTRAINDICATED_WORDS
        dose = {"contraindicated": f"no dose: contraindicated with {too_high} (R7)",
                "reduce": f"{K.TEMSIROLIMUS_MILD_HEPATIC_DOSE} with mild hepatic impairment (R7), not the usual "
                          f"{K.TEMSIROLIMUS_DOSE}"}.get(state, K.TEMSIROLIMUS_DOSE)
        check = {"contraindicated": f"contraindicated ({too_high})", "reduce": K.TEMSIROLIMUS_MILD_HEPATIC_DOSE,
                 "none": "no reduction"}.get(state, missing_liver_tests(liver))
        out.append(rec("R9", "Temsirolimus: antihistamine pre-treatment before each infusion", about_order=ref,
                       actions=(dose, K.TEMSIROLIMUS_PREMED, f"Hepatic check (R7): {check}")))
        if state in ("contraindicated", "reduce"):
            out.append(rec("R7", f"Temsirolimus contraindicated: {too_high}" if contraindicated
                           else "Temsirolimus order with mild hepatic impairment: dose reduction required",
                           about_order=ref, urgency=C if contraindicated else W,
                           actions=(f"contraindicated ({too_high})" if contraindicated
                                    else f"{K.TEMSIROLIMUS_MILD_HEPATIC_DOSE} ('Dose reduction is required')",)))
    if agent is MtoriAgent.ORAL_SIROLIMUS and liver.impaired:
        out.append(rec("R7", f"Oral sirolimus ordered with hepatic impairment ({liver.bilirubin_words})", urgency=W,
                       about_order=ref, actions=(K.SIROLIMUS_HEPATIC_NOTE,), facts_used=liver_facts(ctx)))
    level_card = False  # a FYARRO dose-level card that already names a strong inhibitor (R4 -> 56 mg/m2)
    if agent is MtoriAgent.NAB_SIROLIMUS:
        dose = fyarro_dose(ctx)
        level_card = dose.r4_lowered and dose.level is not None
        if dose.avoid:
            out.append(rec("R7", "nab-sirolimus (FYARRO) ordered with severe hepatic impairment: avoid", urgency=C,
                           about_order=ref, actions=(dose.path,)))
        elif dose.level is not None and dose.level < K.FYARRO_FULL_MG_M2:
            rule = "R7" if dose.r7_lowered else "R4"
            out.append(rec(rule, f"nab-sirolimus (FYARRO): labelled dose level {dose.level} mg/m2", urgency=W,
                           about_order=ref, replaces_order=ref, actions=(dose.path,),
                           orders=(proposed_order("fyarro", dosage_text=fyarro_dosage_text(dose.level)),)))
        elif dose.level is None:
            out.append(rec("R7", "nab-sirolimus (FYARRO) ordered: dose level needs bilirubin and AST with ULN",
                           about_order=ref, actions=(dose.path,)))
    for med, (effect, strength, source) in interacting(ctx.active_meds()):
        if level_card and effect == "inhibitor" and strength == "strong":
            continue  # already in the FYARRO dose-level card above; a contraindicated one still gets its critical card
        urgency, advice = interaction_advice({agent}, effect, strength)
        actions = [f"{med.ingredient}: {source}", *advice]
        if effect == "inducer" and started_for_emergency(ctx, med):  # §4.0 R4: an inducer started under R12 warns
            urgency = max(urgency, W, key=_rank)
            if agent is MtoriAgent.ORAL_SIROLIMUS:
                actions.append("Oral sirolimus: consider a trough check")
            actions.append(emergency_start_note(med))
        out.append(rec("R4", f"{med.ingredient} ({effect}, {strength}) with the drafted {MTORI_WORDS[agent]}",
                       urgency=urgency, about_order=ref, actions=tuple(actions)))
    if ctx.facts.clinical.grapefruit.value and agent in (MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS):
        out.append(grapefruit_alert(ctx, f"the drafted {MTORI_WORDS[agent]}", about_order=ref))
    if ctx.facts.status.pregnant.value:
        out.append(rec("R15", "mTOR inhibitor ordered during pregnancy: embryo-fetal toxicity", urgency=C,
                       about_order=ref, actions=("Specialist review (sarcoma MDT + obstetric) before any start",)))
    elif ctx.facts.status.breastfeeding.value:
        out.append(rec("R15", "mTOR inhibitor ordered while breastfeeding", urgency=W, about_order=ref,
                       actions=("FYARRO: 'Advise not to breastfeed' (label)",)))
    if agent in (MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS):
        for med in ctx.active_meds():
            if med.ingredient in K.ACE_INHIBITORS:
                out.append(ace_alert(ctx, med.ingredient, about_order=ref))
    return out
