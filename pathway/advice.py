"""Setting recommendations S1-S11 plus the common cards (MDT, CLASS-REVIEW, N1) (spec §3)."""
from __future__ import annotations

from dataclasses import replace

from pathway import knowledge as K
from pathway.catalogue import RULES
from pathway.catalogue import recommendation as rec
from pathway.classify import BENIGN, MALIGNANT
from pathway.context import Context
from pathway.decision import FactUse, Recommendation, Urgency
from pathway.facts import AjccSiteGroup, Fact, MtoriAgent
from pathway.options import fyarro_dose, mtori_options, s4b_options, s7_options, s9_options
from pathway.orderables import proposed_order
from pathway.safety import liver_facts
from pathway.setting import s6_criteria

#: Option labels of options.mtori_options, by the agent the patient is on.
MTORI_OPTION_LABEL = {MtoriAgent.NAB_SIROLIMUS: "nab-sirolimus (FYARRO)", MtoriAgent.ORAL_SIROLIMUS: "sirolimus (oral)",
                      MtoriAgent.TEMSIROLIMUS: "temsirolimus", MtoriAgent.EVEROLIMUS: "everolimus"}
ON_MTORI_LABS = "Labs monthly, later 3-monthly (S003): CBC, fasting lipids, glucose, LFT, creatinine, K, phosphate"

MTORI_ACTIONS = (
    "Baseline chest CT or chest radiograph before starting an mTOR inhibitor (temsirolimus label; applied to every mTORi)",
    "Baseline CBC, fasting lipids, glucose, LFT (bilirubin/AST with ULN), creatinine, K, phosphate; then labs monthly, "
    "later 3-monthly (S003)",
    "Response imaging every 2 cycles (S003) or every 6 weeks for 1 year then every 12 weeks (AMPECT protocol); Choi or "
    "MRI-DWI as adjuncts",
    "Monitoring on treatment (R16 content): K, phosphate, glucose, lipids, blood counts; stomatitis; haemorrhage",
)


def class_words(ctx: Context) -> str:
    k = ctx.classification
    if k.primary is None:
        return "class pending"
    return f"{k.primary.klass.replace('_', ' ')} by {k.primary_scheme}"


def mdt(ctx: Context, extra: tuple[str, ...] = ()) -> Recommendation:
    return rec("MDT", "Refer to or discuss at a sarcoma reference-centre MDT; offer a clinical trial or registry",
               actions=("Refer/discuss at a sarcoma reference-centre MDT, preferably within trials or registries",) + extra,
               orders=(proposed_order("trial_referral"),))


def class_review(ctx: Context) -> Recommendation | None:
    k = ctx.classification
    reasons = [f for f in k.flags if f not in ("size_from_imaging", "biopsy_specimen", "mitoses_per_10hpf")]
    if k.primary is None:
        reasons.append("primary class pending resolution (R13)" if "sex_vs_gynaecologic_site" in ctx.conflict_kinds
                       else "site group unknown: no primary scheme")
    elif k.primary.klass not in (MALIGNANT, BENIGN, "uncertain_malignant_potential"):
        reasons.append(f"{k.primary_scheme} class {k.primary.klass}" + (
            f" (candidates {', '.join(k.primary.candidates)})" if k.primary.candidates else ""))
    if k.provisional:
        reasons.append("class provisional (" + ", ".join(f for f in k.flags if f in ("size_from_imaging", "biopsy_specimen")) + ")")
    if not reasons:
        return None
    diagnosis = ctx.facts.diagnosis.text.value
    caveats = [f"Diagnosis as recorded: {diagnosis} (shown beside the computed class, never replacing it)"] if diagnosis else []
    summary = "; ".join(reasons).replace("_", " ")  # flag and class names in words (e.g. "borderline size")
    return rec("CLASS-REVIEW", "Risk class not definite: " + (summary if len(summary) <= 110 else summary[:109] + "…"),
               actions=("MDT / sarcoma pathology review of the classification",
                        "Show every scheme result side by side; no threshold is picked silently",
                        "A borderline, undefined, indeterminate or provisional class never drives treatment by itself"),
               caveats=tuple(caveats))


def n1_card(ctx: Context) -> Recommendation:
    return rec("N1", "Node-positive (N1 M0): PDQ 'advanced stage III (N1)' - not metastatic",
               actions=("Surgery plus lymphadenectomy +/- RT (PDQ, S004)",
                        "Adjuvant chemotherapy 'may be considered but is not known to improve overall survival' (S004)",
                        "S001: post-operative chemotherapy or RT 'should be considered' (single case report; weak)"),
               facts_used=(FactUse("N", ctx.facts.extent.n), FactUse("M", ctx.facts.extent.m)))


def s1(ctx: Context) -> Recommendation:
    actions = ["Complete resection with negative margins; radical when feasible (S000, S001; PDQ margins of 1-2 cm or more)",
               "Adjuvant chemotherapy not established and not standard (S000; PDQ 'controversial')",
               "Adjuvant RT only 'may be considered' for high-risk anatomical sites or uncertain margins; data limited",
               "After resection: surveillance per the class on the resection specimen; long-term follow-up even if benign (S001)"]
    if "biopsy_specimen" in ctx.classification.flags:
        actions.insert(3, "Re-classify on the resection specimen (class provisional on biopsy)")
    return rec("S1", f"Localised resectable PEComa ({class_words(ctx)}): complete resection with negative margins",
               actions=tuple(actions))


def s2(ctx: Context) -> Recommendation:
    return rec("S2", f"Resected PEComa ({class_words(ctx)}): surveillance by risk; no standard adjuvant therapy",
               actions=("Classify on the resection specimen (§2)", "Surveillance schedule (S5)",
                        "No standard adjuvant systemic therapy; adjuvant mTORi only within a trial (case reports: S002; P-HEPCASE)"),
               facts_used=(FactUse("margins", ctx.facts.pathology.margins),
                           FactUse("date of resection", ctx.facts.extent.date_resection)))


def first_line_mtori(ctx: Context, rule_id: str) -> Recommendation:
    words = "Metastatic" if rule_id == "S4" else "Locally advanced unresectable"
    pregnant = bool(ctx.facts.status.pregnant.value)
    actions = list(MTORI_ACTIONS)
    caveats = [K.AMPECT_ENTRY_CRITERIA,
               "Dissent: S002 says mTORi 'do not appear to improve PFS relative to standard chemotherapy' - not "
               "supported by P-SANF19 or AMPECT",
               "Only nab-sirolimus is FDA-approved for PEComa; options unranked otherwise"]
    if rule_id == "S3":
        actions += ["Reassess resectability on response (AMPECT: 2/5 locally advanced patients resected)",
                    "RT for local control or symptoms: case-report evidence only (S002)"]
    else:
        actions.append("Oligometastatic disease: consider surgery for countable and resectable metastases (S002; PDQ)")
    if pregnant:
        caveats.insert(0, "Pregnant: mTOR inhibitor options for discussion only (R15)")
    if ctx.classification.primary_class != MALIGNANT:
        caveats.append(f"Computed class: {class_words(ctx)}; diagnosis as recorded: "
                       f"{ctx.facts.diagnosis.text.value}; the setting rests on disease extent, not on the class")
    dose = fyarro_dose(ctx)
    facts_used = (FactUse("M", ctx.facts.extent.m), FactUse("ECOG", ctx.facts.status.ecog),
                  *liver_facts(ctx))
    if ctx.active_mtori is not None:
        return _on_first_line_mtori(ctx, rule_id, words, actions, caveats, facts_used)
    prior = [line for line in ctx.facts.therapy.lines if set(line.agents) & K.MTORI_AGENT_NAMES]
    if prior or ctx.facts.therapy.prior_mtori.value:  # stopped without progression (else S7): not "naive"
        why = ", ".join(dict.fromkeys(line.reason_stopped or "reason not recorded" for line in prior)) or "reason not recorded"
        summary = f"{words} PEComa, prior mTOR inhibitor stopped without progression ({why}): mTOR inhibitor options"
        caveats.insert(0, f"A prior mTOR inhibitor was stopped ({why}), not for progression: re-challenge is an MDT "
                          "decision (the spec's S4 is written for mTORi-naive disease)")
    else:
        summary = f"{words} PEComa, mTOR-inhibitor-naive: an mTOR inhibitor is first-line systemic therapy"
    return rec(rule_id, summary, options=mtori_options(ctx), actions=tuple(actions),
               caveats=tuple(caveats) + (f"FYARRO dosing path: {dose.path}",),
               orders=() if pregnant else (proposed_order("ct_chest"),), facts_used=facts_used)


def _on_first_line_mtori(ctx: Context, rule_id: str, words: str, actions: list[str], caveats: list[str],
                         facts_used: tuple[FactUse, ...]) -> Recommendation:
    """Already on an mTOR inhibitor: monitoring on treatment, never a proposal to start one (or a baseline scan)."""
    current = next(o for o in mtori_options(ctx) if o.label == MTORI_OPTION_LABEL[ctx.active_mtori])
    actions = [ON_MTORI_LABS] + [a for a in actions if not a.startswith("Baseline")]
    return rec(rule_id, f"{words} PEComa on an mTOR inhibitor (first line): continue with monitoring",
               options=(replace(current, order=None, label=f"current: {current.label}"),), actions=tuple(actions),
               caveats=tuple(caveats), orders=(proposed_order("cbc"), proposed_order("lipid_panel")),
               facts_used=(FactUse("active mTOR inhibitor", ctx.facts.therapy.active_mtori),) + facts_used)


def s4b(ctx: Context) -> Recommendation:
    return rec("S4b", "No mTOR inhibitor available or contraindicated: doxorubicin-based chemotherapy first line",
               options=s4b_options(), caveats=("No chemotherapy dose in the sources: institutional STS protocol",),
               facts_used=(FactUse("mTORi available", ctx.facts.therapy.mtori_available),
                           FactUse("mTORi contraindication", ctx.facts.therapy.mtori_contraindication)))


def _intra_abdominal(ctx: Context) -> bool:
    """Retroperitoneal or intra-abdominal primary (S5, P-MEMO): the AJCC group, or every candidate group when it is
    ambiguous (e.g. kidney), is retroperitoneum or a visceral organ that is not thoracic."""
    site = ctx.facts.site
    groups = (site.ajcc_site_group.value,) if site.ajcc_site_group.value else site.ajcc_site_group_candidates
    thoracic = any(word in str(site.primary_site.value or "").lower() for word in K.THORACIC_SITE_WORDS)
    abdominal = (AjccSiteGroup.RETROPERITONEUM, AjccSiteGroup.ABDOMINAL_THORACIC_VISCERAL)
    return bool(groups) and all(g in abdominal for g in groups) and not (
        thoracic and AjccSiteGroup.RETROPERITONEUM not in groups)


def s5(ctx: Context, pending: bool) -> Recommendation:
    risk = ctx_surveillance_risk(ctx)
    actions = [f"{risk.capitalize()}-risk schedule: {K.SURVEILLANCE[risk]}"]
    if _intra_abdominal(ctx):
        actions.append(K.SURVEILLANCE["abdominal"])
    actions += [K.SURVEILLANCE["nccn"], "All PEComas, including benign: long-term follow-up (late recurrences, S000/S001)"]
    caveats = []
    if risk == "high" and ctx.classification.primary_class != MALIGNANT:
        caveats.append("High-risk default pending MDT: class borderline/indeterminate/provisional/discordant or in conflict [DESIGN]")
    return rec("S5", f"Surveillance: {risk}-risk schedule", actions=tuple(actions), caveats=tuple(caveats),
               pending_resolution=pending, orders=(proposed_order("ct_chest_surveillance"),))


def ctx_surveillance_risk(ctx: Context) -> str:
    k = ctx.classification
    if ctx.primary == "S6":
        return "high"
    if k.primary_class == BENIGN and k.definite:
        return "low"
    return "high"


def s6(ctx: Context) -> Recommendation:
    crit = s6_criteria(ctx)
    listing = "; ".join(f"{n}: {'yes' if v else 'unknown' if v is None else 'no'}" for n, v in crit.criteria.items())
    prognosis = ("Prognosis (info): 5-year OS 40.4% after a first pulmonary metastasis; an interval to first lung "
                 "metastasis <30 months is adverse (S002 citing Dudek)")
    if crit.met:
        return rec("S6", f"Metachronous lung metastases, DFI {crit.dfi_months} months, all criteria met: metastasectomy",
                   actions=("Pulmonary metastasectomy is standard (all criteria met)", "Then high-risk surveillance (S5)",
                            prognosis), caveats=(listing,))
    return rec("S6", "Lung-metastasectomy criteria incomplete: MDT decision instead of a surgery recommendation",
               actions=(f"MDT decision; criteria unknown: {', '.join(crit.unknown)}", prognosis), caveats=(listing,))


def s7(ctx: Context, sex_pending: bool) -> Recommendation:
    return rec("S7", "Progression after an mTOR inhibitor: all options listed, unranked; evidence shown",
               options=s7_options(ctx, sex_pending=sex_pending),
               caveats=("Switching from an oral mTORi to nab-sirolimus: no evidence (AMPECT excluded prior mTORi)",
                        "Options already received are marked with their dates, not removed"),
               pending_resolution=False)


def s8(ctx: Context) -> Recommendation:
    return rec("S8", "Heavily pretreated or poor performance status: best supportive and palliative care",
               actions=("Best supportive care and palliative care referral (S000)", "Palliative RT for symptoms (S002)",
                        "Systemic options for discussion only if performance status improves"),
               facts_used=(FactUse("ECOG", ctx.facts.status.ecog),
                           FactUse("prior lines", Fact(len(ctx.facts.therapy.lines)))))


def s9(ctx: Context) -> Recommendation:
    return rec("S9", "TFE3-rearranged PEComa: trial, mTOR inhibitor or VEGFR-TKI - case-report evidence, no ranking",
               options=s9_options(ctx),
               caveats=("S000: TFE3 fusions 'may not respond to mTOR inhibitors' - counter-evidence: a complete response "
                        "to everolimus (P-TFE3); TSC1-mutant tumour with TFE3 activation (P-JPCR21)",
                        "No TFE3-specific response rate: do not derive one from AMPECT's non-TSC2 figure",
                        "TFE3 status is never inferred from cathepsin K"),
               facts_used=(FactUse("TFE3 fusion", ctx.facts.molecular.tfe3_fusion),
                           FactUse("TFE3 partner", ctx.facts.molecular.tfe3_partner)))


def s10(ctx: Context) -> Recommendation:
    pdl1 = ctx.facts.molecular.pdl1.value
    shown = f"assay {pdl1.assay or 'not reported'}, score {pdl1.score or 'not reported'}, cut-off {pdl1.cutoff or 'not reported'}"
    return rec("S10", "PD-L1-positive refractory PEComa: information only - discuss at MDT or trial",
               actions=(f"PD-L1 as reported: {shown}", "Case reports only (S002): pembrolizumab CR; tislelizumab + SBRT"),
               caveats=("Not a recommendation: PDQ says checkpoint inhibitors 'cannot be routinely recommended' in STS",),
               facts_used=(FactUse("PD-L1", ctx.facts.molecular.pdl1),))


def s11(ctx: Context, fired: set[str]) -> Recommendation:
    which = ", ".join(sorted(fired & {"R1", "R2", "R3"}))
    return rec("S11", f"On oral sirolimus with an alert ({which}): see the safety cards",
               actions=("Act on the R1/R2/R3 cards; never order a dose automatically",))


def setting_recommendations(ctx: Context, fired: set[str], sex_pending: bool) -> list[Recommendation]:
    """The primary setting's card plus the modifier cards; R12 suppresses routine line-of-therapy cards."""
    out: list[Recommendation] = []
    routine = not ctx.emergency
    p = ctx.primary
    if p in ctx.pending:  # R13: the setting rests on a conflicting field - no advice that depends on it
        out.append(pending_setting(ctx, p))
        p, routine = None, False  # and no advanced-disease modifier cards (S9, S10) either
    if p == "S1":
        out.append(s1(ctx))
    elif p == "S2":
        out.append(s2(ctx))
    elif p in ("S3", "S4") and routine:
        out.append(s4b(ctx) if "S4b" in ctx.modifiers else first_line_mtori(ctx, p))
    elif p == "S6" and routine:
        out.append(s6(ctx))
    elif p == "S7" and routine:
        out.append(s7(ctx, sex_pending))
    elif p == "S8":
        out.append(s8(ctx))
    if ctx.node_positive and not ctx.metastatic:
        out.append(n1_card(ctx))
    if "S5" in ctx.modifiers:
        out.append(s5(ctx, pending=sex_pending))
    if "S9" in ctx.modifiers and routine:
        out.append(s9(ctx))
    if "S10" in ctx.modifiers and routine:
        out.append(s10(ctx))
    if "S11" in ctx.modifiers:
        out.append(s11(ctx, fired))
    return out


def pending_setting(ctx: Context, setting: str) -> Recommendation:
    return rec(setting, f"{setting} pending resolution of a data conflict (R13): advice withheld",
               actions=(f"Resolve the conflict first (R13 card): {ctx.pending[setting]}",
                        f"The {RULES[setting].title} advice depends on the conflicting field and is not shown until then"))


__all__ = ["setting_recommendations", "mdt", "class_review", "ctx_surveillance_risk", "Urgency"]
