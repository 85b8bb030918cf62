"""The rule catalogue: every rule_id the core can emit, with title, kind, default urgency and evidence.

Ids are stable (cards put them in ``source.topic.code``; feedback and audits depend on them):
``R1``-``R16`` safety rules and checks (spec §4); ``S1``-``S11`` and ``S4b`` settings (spec §3);
``ASSESSMENT`` (classification/stage/setting summary), ``MDT`` (sarcoma reference-centre MDT, every
in-scope patient), ``CLASS-REVIEW`` (MDT/pathology review of a borderline, undefined, indeterminate,
provisional or discordant class), ``N1`` (node-positive M0), ``DATA-GAPS`` (the one data-gap card).
Served by the service (`/rules`) and printed by `pecoma-cds rules`; cards use ``title`` as topic display.
"""
from __future__ import annotations

from dataclasses import dataclass

from pathway.decision import Evidence, Kind, Recommendation, Urgency
from pathway.knowledge import EV


@dataclass(frozen=True)
class RuleEntry:
    rule_id: str
    title: str
    kind: Kind
    urgency: Urgency  # default urgency (a rule may escalate, e.g. R5)
    description: str  # what it checks, in plain words
    evidence: tuple[Evidence, ...] = ()
    spec_section: str = ""  # e.g. "pathway-spec.md §4 R1"
    hooks: tuple[str, ...] = ("patient-view",)


PV = ("patient-view",)
ORD = ("order-select", "order-sign")
ALL = PV + ORD
I, W, C = Urgency.INFO, Urgency.WARNING, Urgency.CRITICAL


def _e(rule_id, title, kind, urgency, description, evidence, section, hooks=PV) -> RuleEntry:
    return RuleEntry(rule_id, title, kind, urgency, description, tuple(EV[k] for k in evidence),
                     f"pathway-spec.md {section}", hooks)


_ENTRIES = (
    _e("ASSESSMENT", "PEComa assessment", Kind.ASSESSMENT, I,
       "Classification per scheme with flags, AJCC stage, disease setting, line of therapy and surveillance risk.",
       ("FOLPE", "WHO_GYN", "AJCC"), "§2, §3", PV),
    _e("MDT", "Sarcoma reference-centre MDT", Kind.REFERRAL, I,
       "Every in-scope patient: refer to, or discuss at, a sarcoma reference-centre MDT, preferably within trials or registries.",
       ("MDT",), "§3 (common to all settings)", PV),
    _e("CLASS-REVIEW", "MDT / pathology review of the risk class", Kind.REFERRAL, I,
       "A borderline, undefined, indeterminate, provisional or discordant class never drives treatment by itself: review it.",
       ("FOLPE", "DESIGN"), "§2.8 rule 7", PV),
    _e("N1", "Node-positive (N1 M0) disease", Kind.TREATMENT, I,
       "N1 M0 is PDQ 'advanced stage III (N1)', not metastatic: surgery plus lymphadenectomy +/- RT; adjuvant chemotherapy may be considered.",
       ("N1",), "§3 S1/S2", PV),
    _e("DATA-INCOMPLETE", "Record incomplete: checks may miss data", Kind.DATA_GAP, W,
       "The data the service received or fetched is known to be incomplete (search results cut off, an "
       "OperationOutcome inside a search, a query that could not be run): absent findings are not reassurance.",
       ("DESIGN",), "§1 unknown is a state; issue #6 (partial data and a data-quality note)", ALL),
    _e("DATA-GAPS", "Missing data that change the advice", Kind.DATA_GAP, I,
       "One card listing scope gaps, class-changing and stage-changing inputs, and per-setting decision inputs.",
       ("DESIGN",), "§3 data-gap card (C11)", PV),
    _e("S1", "Localised, resectable PEComa", Kind.TREATMENT, I,
       "Complete resection with negative margins; adjuvant chemotherapy not standard; adjuvant RT only 'may be considered'.",
       ("S1",), "§3 S1", PV),
    _e("S2", "After resection of the primary", Kind.TREATMENT, I,
       "Classify on the resection specimen; surveillance by risk; no standard adjuvant systemic therapy.",
       ("S2",), "§3 S2", PV),
    _e("S3", "Locally advanced, unresectable (M0)", Kind.TREATMENT, I,
       "First-line mTOR inhibitor as in S4 (FYARRO dosing path, baseline chest imaging); reassess resectability on response.",
       ("AMPECT", "FYARRO_LABEL"), "§3 S3", PV),
    _e("S4", "Metastatic, first line (mTOR-inhibitor-naive)", Kind.TREATMENT, I,
       "An mTOR inhibitor is first-line systemic therapy: nab-sirolimus (FYARRO), oral sirolimus, temsirolimus; dose levels only after R7/R4.",
       ("ESMO_MTORI", "AMPECT", "FYARRO_LABEL", "SANF19", "S003"), "§3 S4", ALL),
    _e("S4b", "mTOR inhibitor unavailable or contraindicated", Kind.TREATMENT, I,
       "Doxorubicin first line (+ ifosfamide when response is the goal and PS is good); no dose shown; pursue mTORi access or a trial.",
       ("S4B",), "§3 S4b", PV),
    _e("S5", "Follow-up surveillance", Kind.SURVEILLANCE, I,
       "High-risk or low-risk follow-up schedule; high-risk default pending MDT for non-definite classes.",
       ("S5",), "§3 S5", PV),
    _e("S6", "Metachronous lung metastases", Kind.TREATMENT, I,
       "Metastasectomy is standard when DFI >=12 months, no extrapulmonary disease, complete excision feasible and the primary controlled.",
       ("S6",), "§3 S6", PV),
    _e("S7", "Progression after an mTOR inhibitor", Kind.TREATMENT, I,
       "All options listed unranked (trial, VEGFR-TKI, chemotherapy, sirolimus + exemestane in women, trabectedin); received ones marked.",
       ("S7", "SANF19", "SANF20"), "§3 S7", ALL),
    _e("S8", "Heavily pretreated or poor performance status", Kind.TREATMENT, I,
       "Best supportive care and palliative care referral; palliative RT for symptoms; S7 options suppressed.",
       ("S8",), "§3 S8", PV),
    _e("S9", "TFE3-rearranged PEComa", Kind.TREATMENT, I,
       "Trial, mTOR inhibitor and VEGFR-TKI shown unranked; case-report evidence; conflicting statements shown.",
       ("S9",), "§3 S9", PV),
    _e("S10", "PD-L1-positive, refractory", Kind.TREATMENT, I,
       "Information only: discuss at MDT or trial; checkpoint inhibitors not routinely recommended in STS.",
       ("S10",), "§3 S10", PV),
    _e("S11", "On oral sirolimus with abnormal trough or metabolic toxicity", Kind.SAFETY, I,
       "Modifier pointing to the R1/R2/R3 alerts for a patient on oral sirolimus.",
       ("SIRO_TARGET", "R3"), "§3 S11", PV),
    _e("R1", "Sirolimus trough above target", Kind.SAFETY, W,
       "Oral sirolimus only: trough above the site target; formula shown (never ordered) at a confirmed steady-state pre-dose trough.",
       ("SIRO_TARGET", "S003_TROUGH"), "§4 R1", PV),
    _e("R2", "Sirolimus trough below target", Kind.SAFETY, I,
       "Oral sirolimus only: trough below the site target; escalation formula only when not responding; never above 5 mg.",
       ("SIRO_TARGET", "S003_TROUGH"), "§4 R2", PV),
    _e("R3", "Metabolic toxicity on an mTOR inhibitor", Kind.SAFETY, I,
       "Lipid or glucose toxicity: consider lipid-lowering agents and oral hypoglycaemics first (clinician decision).",
       ("R3",), "§4 R3", PV),
    _e("R4", "CYP3A4/P-gp interaction with an mTOR inhibitor", Kind.SAFETY, W,
       "Interacting drug with an mTORi active, ordered or proposed; FYARRO 56 mg/m2 with a strong inhibitor.",
       ("R4_SIRO", "R4_FYARRO", "R4_TEMSI"), "§4 R4", ALL),
    _e("R5", "Suspected pneumonitis on an mTOR inhibitor", Kind.SAFETY, W,
       "New cough, dyspnoea, hypoxia or infiltrates on an mTORi; critical when grade >=3 or hypoxia documented.",
       ("R5",), "§4 R5", PV),
    _e("R6", "Myelosuppression on an mTOR inhibitor", Kind.SAFETY, W,
       "Grade >=3 cytopenia (CTCAE v4.03) or temsirolimus hold thresholds.", ("R6",), "§4 R6", PV),
    _e("R7", "Hepatic impairment with an mTOR inhibitor", Kind.SAFETY, W,
       "Label hepatic bands: FYARRO 75/56 mg/m2 or avoid; temsirolimus 15 mg/week or contraindicated.",
       ("R7",), "§4 R7", ALL),
    _e("R8", "Surgery while on an mTOR inhibitor", Kind.SAFETY, W,
       "Planned surgery or a procedure order while an mTORi is active: wound-healing impairment.", ("R8",), "§4 R8", ALL),
    _e("R9", "Temsirolimus infusion premedication", Kind.SAFETY, I,
       "On a temsirolimus order only: 25 mg IV over 30-60 min weekly; antihistamine pre-treatment; hepatic check.",
       ("R9",), "§4 R9", ORD),
    _e("R10", "ACE inhibitor with sirolimus", Kind.SAFETY, W, "Angioedema risk (sirolimus USPI §5.5).",
       ("R10",), "§4 R10", ALL),
    _e("R11", "Anaemia or bleeding", Kind.SAFETY, W,
       "Hb CTCAE grade >=2 (warning), grade 1 only with the lab's LLN (info); bleeding off an mTORi.",
       ("R11",), "§4 R11", PV),
    _e("R12", "Oncological emergency", Kind.SAFETY, C,
       "Spinal cord compression, airway compromise, SVC syndrome, life-threatening haemorrhage, hypercalcaemia: urgent card; routine cards suppressed.",
       ("R12",), "§4 R12", PV),
    _e("R13", "Data conflict", Kind.SAFETY, W,
       "Conflicting fields are listed with their sources; only dependent outputs are blocked (pending resolution).",
       ("R13",), "§4 R13", ALL),
    _e("R14", "Outside the adult PEComa pathway", Kind.SCOPE, I,
       "Age <18, angiomyolipoma/epithelioid AML/LAM, or every melanocytic marker negative: one information card only.",
       ("R14",), "§4 R14", ALL),
    _e("R15", "Pregnancy, lactation or live vaccine with an mTOR inhibitor", Kind.SAFETY, C,
       "Pregnant: critical; breastfeeding or a live-vaccine order: warning.", ("R15",), "§4 R15", ALL),
    _e("R16", "Label adverse-event monitoring on an mTOR inhibitor", Kind.SAFETY, W,
       "Low K or phosphate, haemorrhage; on FYARRO stomatitis and hyperglycaemia; label Table 2 modification applies.",
       ("R16",), "§4 R16", PV),
)

RULES: dict[str, RuleEntry] = {entry.rule_id: entry for entry in _ENTRIES}


def recommendation(rule_id: str, summary: str, *, urgency: Urgency | None = None, **fields) -> Recommendation:
    """A Recommendation of a catalogued rule: kind, default urgency and evidence come from the catalogue."""
    entry = RULES[rule_id]
    evidence = fields.pop("evidence", entry.evidence)
    if len(summary) >= 140:
        summary = summary[:136].rstrip() + "..."
    return Recommendation(rule_id=rule_id, kind=entry.kind, urgency=urgency or entry.urgency, summary=summary,
                          evidence=evidence, **fields)
