"""Order checks for order-select / order-sign (spec §4.0 hooks; issue acceptance point 6).

Each draft order is judged against the pathway; every recommendation names it in ``about_order``
and, when it proposes an alternative, in ``replaces_order``. Nothing is ordered automatically.
"""
from __future__ import annotations

from pathway import knowledge as K
from pathway.catalogue import recommendation as rec
from pathway.context import Context, drafted_agent
from pathway.decision import Recommendation, Urgency
from pathway.facts import DraftOrder, MtoriAgent
from pathway.options import (fyarro_dose, fyarro_dosage_text, hepatic, interacting, missing_liver_tests, mtori_options,
                             s4b_options)
from pathway.orderables import proposed_order
from pathway.safety import (MTORI_WORDS, _mtori_words, _rank, ace_alert, interaction_advice, live_vaccine_alert,
                            surgery_alert)

I, W, C = Urgency.INFO, Urgency.WARNING, Urgency.CRITICAL


def check_orders(ctx: Context) -> list[Recommendation]:
    out: list[Recommendation] = []
    for order in ctx.draft_orders:
        out.extend(check_order(ctx, order))
    return out


def check_order(ctx: Context, order: DraftOrder) -> list[Recommendation]:
    ref = order.reference
    if order.live_vaccine and ctx.active_mtori is not None:
        return [live_vaccine_alert(ctx, ref, order.text or "live vaccine")]
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
    first_line = _first_line_check(ctx, order, name) if ctx.primary in ("S3", "S4") else None
    if first_line is not None:
        out.append(first_line)
    elif name == "pazopanib" and not ctx.prior_chemotherapy:
        after_mtori = ctx.facts.therapy.prior_mtori.value or ctx.active_mtori is not None
        out.append(rec("S7", "Pazopanib without prior chemotherapy: off-label (FDA STS label requires prior chemotherapy)",
                       about_order=ref, caveats=(("Off-label after an mTOR inhibitor alone (S004)",) if after_mtori else ())
                       + ("Antiangiogenic ORR 8.3%, mPFS 5.4 months (P-SANF19)",)))
    agents = {ctx.active_mtori} | {a for o, a in ctx.drafted_mtori if o is not order}
    agents.discard(None)
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
        out.append(rec("R4", f"{name} ({effect}, {strength}) with {_mtori_words(ctx)}", urgency=urgency,
                       about_order=ref, actions=tuple(actions)))
    if name in K.ACE_INHIBITORS and ctx.active_mtori in (MtoriAgent.ORAL_SIROLIMUS, MtoriAgent.NAB_SIROLIMUS):
        out.append(ace_alert(ctx, name, about_order=ref))
    return out


def _first_line_check(ctx: Context, order: DraftOrder, name: str) -> Recommendation | None:
    """A non-mTORi systemic agent drafted in S3/S4: judged against the first-line mTOR inhibitor (spec §3 S4, S4b)."""
    if name not in K.CHEMOTHERAPY and name not in K.FIRST_LINE_COMPARISON:
        return None
    ref = order.reference
    chemotherapy = name in K.CHEMOTHERAPY
    if "S4b" in ctx.modifiers:
        if not chemotherapy:
            return None  # pazopanib is no S4b option: its label card (S7, prior chemotherapy) speaks for it
        return rec("S4b", f"{name} first line with no mTOR inhibitor available: consistent with S4b",
                   about_order=ref, options=s4b_options(),
                   caveats=("No chemotherapy dose in the sources: institutional STS protocol",))
    if ctx.facts.therapy.prior_mtori.value or ctx.active_mtori is not None:
        if not chemotherapy:
            return None
        return rec("S4", f"{name} ordered: patient not mTOR-inhibitor-naive - review the line of therapy", about_order=ref)
    label = ("Pazopanib is off-label here: its FDA STS label requires prior chemotherapy (S004)",) if name == "pazopanib" else ()
    return rec("S4", f"{name} ordered first line; mTOR-inhibitor-naive advanced PEComa: an mTOR inhibitor is preferred",
               urgency=W, about_order=ref, replaces_order=ref, options=mtori_options(ctx),
               actions=("Preferred first line: an mTOR inhibitor (ESMO [IV, C] via S000; PDQ Table 9)",
                        "Doxorubicin is the option when an mTOR inhibitor is unavailable or contraindicated (S4b)"),
               caveats=(f"Retrospective: {K.FIRST_LINE_COMPARISON.get(name, K.FIRST_LINE_COMPARISON_OTHER)}",) + label)


def _mtori_order(ctx: Context, order: DraftOrder, agent: MtoriAgent) -> list[Recommendation]:
    ref = order.reference
    out = []
    liver = hepatic(ctx)
    if agent is MtoriAgent.TEMSIROLIMUS:
        out.append(rec("R9", "Temsirolimus: antihistamine pre-treatment before each infusion", about_order=ref,
                       actions=(K.TEMSIROLIMUS_DOSE, K.TEMSIROLIMUS_PREMED,
                                "Hepatic check (R7): " + ({"contraindicated": "contraindicated (bilirubin >1.5 x ULN)",
                                                           "reduce": K.TEMSIROLIMUS_MILD_HEPATIC_DOSE,
                                                           "none": "no reduction"}.get(liver.temsirolimus or "",
                                                                                      missing_liver_tests(liver))))))
        if liver.temsirolimus in ("contraindicated", "reduce"):
            out.append(rec("R7", "Temsirolimus order with hepatic impairment", about_order=ref,
                           urgency=C if liver.temsirolimus == "contraindicated" else W,
                           actions=("contraindicated (bilirubin >1.5 x ULN)" if liver.temsirolimus == "contraindicated"
                                    else f"{K.TEMSIROLIMUS_MILD_HEPATIC_DOSE} ('Dose reduction is required')",)))
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
        out.append(rec("R4", f"{med.ingredient} ({effect}, {strength}) with the drafted {MTORI_WORDS[agent]}",
                       urgency=urgency, about_order=ref, actions=(f"{med.ingredient}: {source}", *advice)))
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
