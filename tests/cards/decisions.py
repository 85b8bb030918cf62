"""Hand-built, realistic Decisions (as the pathway would produce them) for the cards tests.

Codes are those of shared/reference/terminology.md §4 (✅/☑ rows); texts and doses follow
pathway-spec.md §3 S4 and §4 R4/R7/R13/R14. They stand in for pathway.decide until it lands.
"""
from __future__ import annotations

from datetime import date

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
from pathway.facts import Fact, MitoticCount, MitoticDenominator, Provenance

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

FYARRO_SBD = Coding(RXNORM, "2586868", "sirolimus 100 MG Injection [Fyarro]")
SIROLIMUS_IN = Coding(RXNORM, "35302", "sirolimus")
TEMSIROLIMUS_IN = Coding(RXNORM, "657797", "temsirolimus")
DOXORUBICIN_IN = Coding(RXNORM, "3639", "doxorubicin")

AMPECT = Evidence("P-AMPECT", "[V] phase II single-arm", "ORR 39% (12/31); mPFS 10.6 months")
FDA = Evidence("P-FDA", "[V] label", "FYARRO indicated for locally advanced unresectable or metastatic malignant PEComa")
ESMO_VIA_S000 = Evidence("S000 quoting ESMO; S004 Table 9", "[SEED] ESMO grade C, level IV", "mTOR inhibitor: treatment of choice")
BENSON = Evidence("S003", "[SEED] retrospective series, n=10", "4/6 evaluable PR on oral sirolimus")

FYARRO_ORDER = ProposedOrder(
    resource_type="MedicationRequest",
    codings=(FYARRO_SBD, SIROLIMUS_IN),
    text="nab-sirolimus (FYARRO)",
    dosage_text="100 mg/m2 IV over 30 min on days 1 and 8 of each 21-day cycle",
)
SIROLIMUS_ORDER = ProposedOrder(
    resource_type="MedicationRequest",
    codings=(SIROLIMUS_IN,),
    text="sirolimus (oral)",
    dosage_text="start 3 mg once daily, escalated up to 5 mg according to tolerability",
)
TEMSIROLIMUS_ORDER = ProposedOrder(
    resource_type="MedicationRequest",
    codings=(TEMSIROLIMUS_IN,),
    text="temsirolimus",
    dosage_text="25 mg IV over 30-60 minutes once a week",
)
CHEST_CT = ProposedOrder(
    resource_type="ServiceRequest",
    codings=(Coding(SNOMED, "169069000", "Computed tomography of chest"),),
    text="Baseline chest CT before an mTOR inhibitor",
    category="imaging",
)
LIPID_PANEL = ProposedOrder(
    resource_type="ServiceRequest",
    codings=(Coding(LOINC, "24331-1", "Lipid panel"),),
    text="Lipid panel",
    category="laboratory",
)
TROUGH = ProposedOrder(
    resource_type="ServiceRequest",
    codings=(Coding(LOINC, "29247-4", "Sirolimus [Mass/volume] in Blood"),),
    text="Sirolimus trough level",
    category="laboratory",
)
TRIAL_REFERRAL = ProposedOrder(
    resource_type="ServiceRequest",
    codings=(Coding(SNOMED, "702475000", "Referral to clinical trial"),),
    text="Referral to clinical trial",
    category="referral",
)

M1 = Fact("M1", sources=("Condition/met-lung-1",), date=date(2026, 10, 2))
DIAGNOSIS = Fact("malignant PEComa", sources=("Condition/pecoma-1",), date=date(2026, 3, 1))
BILIRUBIN = Fact(0.6, unit="mg/dL", sources=("Observation/bili-1",), date=date(2026, 11, 1))
AST = Fact(22.0, unit="U/L", sources=("Observation/ast-1",), date=date(2026, 11, 1))

S4_SUMMARY = "Metastatic malignant PEComa, mTOR-inhibitor-naive: an mTOR inhibitor is first-line systemic therapy"


def s4_recommendation(**changes) -> Recommendation:
    rec = Recommendation(
        rule_id="S4",
        kind=Kind.TREATMENT,
        urgency=Urgency.INFO,
        summary=S4_SUMMARY,
        actions=(
            "Start a first-line mTOR inhibitor (one of the options below)",
            "Baseline chest CT or chest radiograph before any mTOR inhibitor",
            "Pregnancy status and contraception counselling before starting",
        ),
        facts_used=(
            FactUse("M status", M1),
            FactUse("Diagnosis", DIAGNOSIS),
            FactUse("Prior mTOR inhibitor", Fact(False, sources=("MedicationStatement/none",))),
            FactUse("Total bilirubin", BILIRUBIN, display="0.6 mg/dL (ULN 1.2)"),
            FactUse("AST", AST),
        ),
        evidence=(ESMO_VIA_S000, AMPECT, FDA),
        caveats=("Switching between mTOR inhibitors after progression is not evidence-based",),
        options=(
            Option(
                "nab-sirolimus (FYARRO)",
                "100 mg/m2 IV over 30 min on days 1 and 8 of each 21-day cycle (R7: bilirubin and AST <= ULN; R4: "
                "no interacting drug)",
                evidence=(AMPECT, FDA),
                order=FYARRO_ORDER,
                preferred=True,
            ),
            Option(
                "sirolimus (oral)",
                "start 3 mg once daily, escalated up to 5 mg according to tolerability; trough target 5-15 ng/mL",
                evidence=(BENSON,),
                order=SIROLIMUS_ORDER,
            ),
            Option(
                "temsirolimus",
                "25 mg IV over 30-60 minutes once a week; antihistamine pre-treatment recommended",
                evidence=(Evidence("P-TEMSI", "[V mirror] label"),),
                order=TEMSIROLIMUS_ORDER,
            ),
        ),
        orders=(CHEST_CT, LIPID_PANEL),
    )
    return _replace(rec, **changes)


def s4_assessment(**changes) -> Assessment:
    a = Assessment(
        scope=ScopeStatus.IN_SCOPE,
        diagnosis="Malignant PEComa, retroperitoneum",
        primary_scheme="Folpe 2005",
        primary_class="malignant",
        schemes=(
            SchemeResult("Folpe 2005", "malignant", features_present=("size > 5 cm", "necrosis")),
            SchemeResult("Folpe 2005 (>= variant)", "malignant", display_only=True),
        ),
        flags=("biopsy_specimen",),
        bleeker={"known_count": 2, "unknown": ["mitoses"]},
        stage=Stage("IV", t="T3", n="N0", m="M1", grade="G3"),
        setting_primary="S4",
        setting_modifiers=("S9",),
        line_of_therapy=1,
        provisional=True,
    )
    return _replace(a, **changes)


GAPS = (
    DataGap("ECOG performance status", "S4 decision input"),
    DataGap("TSC1/TSC2 status", "S4 decision input"),
    DataGap("mitotic count per 50 HPF", "for Bleeker display only", display_only=True),
)


def s4_decision() -> Decision:
    """S4 with three mTORi options, a data-gap card, an MDT card and an R7 safety alert."""
    return Decision(
        assessment=s4_assessment(),
        recommendations=(
            s4_recommendation(),
            Recommendation(
                "MDT", Kind.REFERRAL, Urgency.INFO,
                "Discuss at a sarcoma reference-centre MDT; offer a clinical trial where available",
                evidence=(Evidence("P-ESMO", "[V] guideline"),), orders=(TRIAL_REFERRAL,),
            ),
            Recommendation(
                "DATA-GAP", Kind.DATA_GAP, Urgency.INFO,
                "3 items missing for this pathway: ECOG, TSC1/TSC2, mitoses per 50 HPF",
                actions=tuple(f"{g.field}: {g.reason}" for g in GAPS),
            ),
            Recommendation(
                "R7", Kind.SAFETY, Urgency.WARNING,
                "Mild hepatic impairment (AST 1.4 x ULN): FYARRO dose level 75 mg/m2",
                facts_used=(FactUse("AST", Fact(56.0, unit="U/L", sources=("Observation/ast-2",),
                                                date=date(2026, 11, 20))),),
                evidence=(Evidence("P-FDA", "[V] label §2.4"),),
            ),
        ),
        data_gaps=GAPS,
    )


def order_sign_replacement_decision() -> Decision:
    """order-sign: doxorubicin drafted first line in an mTORi-naive metastatic patient (S4),
    and an R4 dose-level change of a drafted FYARRO 100 mg/m2 next to a strong CYP3A4 inhibitor."""
    return Decision(
        assessment=s4_assessment(setting_modifiers=()),
        recommendations=(
            s4_recommendation(
                urgency=Urgency.WARNING,
                summary="Doxorubicin drafted first line: in mTOR-inhibitor-naive metastatic PEComa an mTOR inhibitor "
                        "is preferred",
                replaces_order="MedicationRequest/draft-doxo",
                about_order="MedicationRequest/draft-doxo",
                orders=(),
            ),
            Recommendation(
                "R4", Kind.SAFETY, Urgency.WARNING,
                "Clarithromycin (strong CYP3A4 inhibitor) with FYARRO: reduce FYARRO to 56 mg/m2",
                actions=("Avoid the strong CYP3A4 inhibitor if possible; if unavoidable, FYARRO 56 mg/m2",),
                facts_used=(FactUse("Active medication", Fact("clarithromycin 500 mg twice daily",
                                                              sources=("MedicationRequest/clari-1",))),),
                evidence=(Evidence("P-FDA", "[V] label §2.3", "Reduce the dosage of FYARRO to 56 mg/m2"),),
                caveats=("Remainder of label §2.3 and §7 not read: pharmacist review",),
                orders=(ProposedOrder("MedicationRequest", (FYARRO_SBD, SIROLIMUS_IN), "nab-sirolimus (FYARRO)",
                                      dosage_text="56 mg/m2 IV over 30 min on days 1 and 8 of each 21-day cycle",
                                      recommended=True),),
                replaces_order="MedicationRequest/draft-fyarro",
                about_order="MedicationRequest/draft-fyarro",
            ),
        ),
    )


def r13_pending_decision() -> Decision:
    """R13 sex vs gynaecologic site: warning card; class-dependent surveillance pending resolution."""
    return Decision(
        assessment=Assessment(
            scope=ScopeStatus.IN_SCOPE,
            diagnosis="PEComa, uterus",
            primary_scheme=None,
            primary_class=None,
            schemes=(
                SchemeResult("WHO 2020 gynaecologic", "unresolved", candidates=("malignant", "uncertain_malignant_potential")),
                SchemeResult("Folpe 2005", "unresolved", candidates=("malignant",)),
            ),
            stage=Stage("not staged (malignancy not established)"),
            setting_primary="S2",
            setting_modifiers=("S5",),
            surveillance_risk="high",
        ),
        recommendations=(
            Recommendation(
                "R13", Kind.DATA_GAP, Urgency.WARNING,
                "Recorded sex (male) and a uterine primary disagree: primary class and stage pending resolution",
                facts_used=(
                    FactUse("Sex", Fact("male", sources=("Patient/p-43",))),
                    FactUse("Primary site", Fact("uterus", sources=("Condition/pecoma-43",),
                                                 provenance=Provenance.DOCUMENTED)),
                ),
                evidence=(Evidence("DESIGN", "[DESIGN] decision C12"),),
                caveats=("Both fields may be correct (e.g. a transgender man with a uterine primary)",),
            ),
            Recommendation(
                "S5", Kind.SURVEILLANCE, Urgency.INFO,
                "Follow-up: high-risk schedule by default pending resolution (candidates: malignant, UMP)",
                actions=("CT chest every 3-4 months for years 1-3",),
                evidence=(Evidence("P-ESMO", "[V] guideline"),),
                orders=(CHEST_CT,),
                pending_resolution=True,
            ),
        ),
    )


def r14_decision(scope: ScopeStatus = ScopeStatus.PAEDIATRIC) -> Decision:
    return Decision(
        assessment=Assessment(scope=scope, diagnosis="PEComa in a 15-year-old"),
        recommendations=(
            Recommendation(
                "R14", Kind.SCOPE, Urgency.INFO,
                "Patient is 15: refer to a paediatric/AYA sarcoma MDT (this adult pathway does not apply)",
                evidence=(Evidence("P-EURACAN", "[V] statement"),),
            ),
        ),
    )


def hostile_decision() -> Decision:
    """Data that tries to inject HTML and Markdown through every text field."""
    evil = "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)) & # heading | pipe `code`"
    return Decision(
        assessment=s4_assessment(diagnosis=evil, flags=(evil,), garzon=evil),
        recommendations=(
            Recommendation(
                "S4", Kind.TREATMENT, Urgency.INFO, "Summary " + evil,
                actions=(evil, "- 1. list\n# heading\n<script>x</script>"),
                facts_used=(FactUse(evil, Fact(evil, unit="<b>", sources=(evil,), note=evil)),
                            FactUse("mitoses", Fact(MitoticCount(3, MitoticDenominator.PER_10_HPF)))),
                evidence=(Evidence(evil, evil, evil),),
                caveats=(evil,),
                options=(Option(evil, evil, order=FYARRO_ORDER, received=evil),),
            ),
        ),
        data_gaps=(DataGap(evil, evil),),
        notes=(evil,),
    )


def _replace(obj, **changes):
    from dataclasses import replace

    return replace(obj, **changes) if changes else obj
