"""Every threshold, schedule, dose and evidence statement the pathway uses, with its source.

One place each (pathway-spec.md; tags as in spec §0.3). No number used by a rule is typed
anywhere else. Where the spec says "[UNVERIFIED — read …]" the rule is encoded without the
number and the text says so.
"""
from __future__ import annotations

from pathway.decision import Evidence

# ------------------------------------------------------------------ classification (§2)
FOLPE_SIZE_CM = 5.0  # ">5 cm" worrisome; "<5" benign (P-FOLPE [V], §2.1); ">=" variant per §2.7
FOLPE_MITOSES_PER_50HPF = 1  # ">1/50 HPF" worrisome (P-FOLPE [V]); ">=" variant per §2.7
FOLPE_MALIGNANT_MIN_FEATURES = 2  # "two or more worrisome histologic features" (P-FOLPE [V])
WHO_GYN_SIZE_CM = 5.0  # "size >=5 cm" (Bennett/WHO feature list [UNVERIFIED], §2.3)
WHO_GYN_MITOSES_PER_50HPF = 1  # ">1/50 HPF" ([UNVERIFIED], §2.3)
WHO_GYN_MALIGNANT_MIN_FEATURES = 3  # ">=3 features" (S002 [SEED]; WHO FGT list [UNVERIFIED])
SCHOOLMEESTER_MALIGNANT_MIN_FEATURES = 4  # ">=4 features" (P-BENNETT abstract, partly [V]); display only
BLEEKER_SIZE_CM = 5.0  # operator [UNVERIFIED] (">=5" abstract vs ">5" S002; A-11)
BLEEKER_MITOSES_PER_50HPF = 1  # operator [UNVERIFIED]
GARZON_SIZE_CM = 8.0  # ">=8 cm" (S002 [SEED]); display only, base rule undefined
GARZON_MITOSES_PER_50HPF = 5  # ">=5/50 HPF" (S002 [SEED]); display only

# ------------------------------------------------------------------ staging (§2.5, §2.6; S004 [SEED])
AJCC_T_TRUNK_RETRO_CM = (5.0, 10.0, 15.0)  # T1 <=5; T2 >5-<=10; T3 >10-<=15; T4 >15
AJCC_T_HEAD_NECK_CM = (2.0, 4.0)  # T1 <=2; T2 >2-<=4; T3 >4; T4 = invasion of adjoining structures (not from size)
# Abdominal and thoracic visceral organs: T by organ confinement and multifocality, never by size (§2.5)
FNCLCC_MITOTIC_SCORE_PER_10HPF = ((20, 3), (10, 2), (0, 1))  # >=20 -> 3; 10-19 -> 2; 0-9 -> 1
FNCLCC_NECROSIS_HALF_PERCENT = 50  # 0 none; 1 <50%; 2 >=50%
FNCLCC_GRADE_BY_SCORE = ((6, 3), (4, 2), (2, 1))  # 6-8 G3; 4-5 G2; 2-3 G1

# ------------------------------------------------------------------ settings (§3)
ADULT_AGE_YEARS = 18  # adult gate [DESIGN]; FYARRO label adults only [V]
S6_DFI_MIN_MONTHS = 12  # "DFI >=12 months", inclusive (S000, S001; ESMO 2018 [V via Medscape]; C16)
S8_ECOG_MIN = 3  # "ECOG >=3" [DESIGN trigger, S000 for BSC]
STEADY_STATE_DAYS = 7  # formula only >=7 days after the last dose change (SmPC: re-check 7-14 days) [V]
SIROLIMUS_SERIES_MAX_MG = 5.0  # "escalated up to 5 mg" (S003 [SEED]; C3)
SIROLIMUS_PHASE1_MTD_MG = 6.0  # "maximum tolerated dose of 6mg" (S003 [SEED])
SIROLIMUS_DOSE_STEP_MG = 0.5  # rounded down to a 0.5 mg step [DESIGN, C3]

# ------------------------------------------------------------------ surveillance (S5: S000, S001 quoting ESMO; P-ESMO [V])
#: Primary-site words that make an AJCC "abdominal and thoracic visceral" primary thoracic, i.e. not intra-abdominal
#: (S5: the CE-CT abdomen/pelvis advice is for retroperitoneal or intra-abdominal primaries, P-MEMO).
THORACIC_SITE_WORDS = ("lung", "pulmon", "pleura", "mediastin", "thora", "heart", "cardiac", "pericard", "bronch", "trache")
SURVEILLANCE = {
    "high": ("every 3-4 months for years 1-3 (the guideline says 'first 2-3 years'; upper bound encoded), "
             "every 6 months to year 5, then annually; CT chest preferred over X-ray; MRI of the primary site"),
    "low": ("every 4-6 months, with chest imaging at longer intervals, for the first 3-5 years; then annually "
            "(long-term follow-up even if benign: late recurrences reported, S000/S001)"),
    "abdominal": "retroperitoneal or intra-abdominal primary: CE-CT of abdomen and pelvis (P-MEMO [V])",
    "nccn": ("NCCN (BC Cancer summary [V]): H&P, chest imaging (CT preferred) and primary-site imaging every 3-6 months "
             "for 2-3 years, every 6 months in years 4-5, then annually"),
}

# ------------------------------------------------------------------ FYARRO (nab-sirolimus) label (P-FDA)
FYARRO_SCHEDULE = "IV over 30 min on days 1 and 8 of each 21-day cycle until progression or unacceptable toxicity"  # [V label]
FYARRO_LEVELS_MG_M2 = (100, 75, 56, 45)  # label Table 1 dose-reduction levels [V per audit A-6]
FYARRO_FULL_MG_M2 = 100
FYARRO_HEPATIC_BANDS = (  # label §2.4 [V]; severe band wording [UNVERIFIED — read label §2.4]
    # (band, bilirubin ratio upper bound inclusive or None = open, dose level or None = avoid)
    ("normal", 1.0, 100),  # total bilirubin <=ULN and AST <=ULN
    ("mild", 1.5, 75),  # bilirubin <=ULN with AST >ULN, or bilirubin >1 to 1.5 x ULN with any AST
    ("moderate", 3.0, 56),  # bilirubin >1.5 to 3.0 x ULN
    ("severe", None, None),  # avoid; band wording unverified
)
FYARRO_STRONG_INHIBITOR_MG_M2 = 56  # label §2.3 "Reduce the dosage of FYARRO to 56 mg/m2 ..." [V; sentence cut off]
FYARRO_LEVEL_BANDS_TEXT = "label bands: normal 100 / mild 75 / moderate 56 mg/m2 / severe avoid"
AMPECT_ENTRY_CRITERIA = ("AMPECT trial entry criteria, not dosing criteria: ECOG <=1, mTORi-naive, ANC >=1.5, "
                         "platelets >=100 x10^9/L, Hb >=9 g/dL, bilirubin <=1.5xULN, creatinine <=1.5xULN")

# ------------------------------------------------------------------ temsirolimus (P-TEMSI [V mirror])
TEMSIROLIMUS_DOSE = "25 mg IV over a 30-60 minute period once a week"
TEMSIROLIMUS_PREMED = ("'Antihistamine pre-treatment is recommended': an H1 antagonist (e.g. diphenhydramine 25-50 mg IV) "
                       "about 30 minutes before the infusion")
TEMSIROLIMUS_MILD_HEPATIC_DOSE = "15 mg/week"  # bilirubin >1-1.5 x ULN, or AST >ULN with bilirubin <=ULN [V mirror]
TEMSIROLIMUS_CONTRAINDICATED_BILIRUBIN_X_ULN = 1.5  # bilirubin >1.5 x ULN -> contraindicated [V mirror]
TEMSIROLIMUS_CONTRAINDICATED_WORDS = f"bilirubin >{TEMSIROLIMUS_CONTRAINDICATED_BILIRUBIN_X_ULN:g} x ULN"  # in card text
TEMSIROLIMUS_STRONG_INHIBITOR_DOSE = "12.5 mg/week"  # if a strong inhibitor is unavoidable [V mirror]
TEMSIROLIMUS_STRONG_INDUCER_DOSE = "up to 50 mg/week"  # if a strong inducer is unavoidable [V mirror]
TEMSIROLIMUS_HOLD_ANC = 1.0  # x10^9/L: hold if ANC <1.0 [V mirror]
TEMSIROLIMUS_HOLD_PLATELETS = 75  # x10^9/L: hold if platelets <75 [V mirror]
TEMSIROLIMUS_RESUME = "resume after recovery to <= grade 2 at -5 mg/week (minimum 15 mg/week)"  # [V mirror]

# ------------------------------------------------------------------ oral sirolimus (S003 [SEED]; P-SIRO)
SIROLIMUS_ORAL_DOSE = ("start 3 mg once daily, escalated up to 5 mg according to patient tolerability (median dose "
                       "attained 4 mg; S003 titrated to tolerability with oral mucositis as the surrogate)")
SIROLIMUS_TARGET_CONTEXT = ("No PEComa-validated target exists. S003: 'Some groups have used the renal transplant "
                            "therapeutic trough plasma level range of 15-20 ng/ml'; the S003 series itself titrated to "
                            "tolerability (oral mucositis as surrogate). Transplant after ciclosporin withdrawal: "
                            "12-20 ng/mL (P-SIRO review).")
SIROLIMUS_HEPATIC_NOTE = ("oral sirolimus: no hepatic dose figure without a Child-Pugh class (monograph figures "
                          "UNVERIFIED)")

# ------------------------------------------------------------------ CTCAE v4.03 (P-CTCAE [V])
PLATELETS_GRADE = ((25, 4), (50, 3), (75, 2))  # x10^9/L: <25 G4; <50 G3; <75 G2; LLN-75 G1
HB_GRADE = ((8.0, 3), (10.0, 2))  # g/dL: <8 G3; <10 G2; LLN-10 G1 (only when the lab's LLN is known)

# ------------------------------------------------------------------ R4 interaction table (§4 R4)
#: ingredient -> (effect, strength, source). effect: "inhibitor" raises levels, "inducer" lowers them.
INTERACTIONS: dict[str, tuple[str, str, str]] = {
    "ketoconazole": ("inhibitor", "strong", "sirolimus USPI §7 [V]"),
    "voriconazole": ("inhibitor", "contraindicated", "sirolimus USPI §7; voriconazole labelling: contraindicated (drugs.com [V])"),
    "posaconazole": ("inhibitor", "contraindicated", "posaconazole labelling: contraindicated (drugs.com [V])"),
    "itraconazole": ("inhibitor", "strong", "sirolimus USPI §7 [V]"),
    "erythromycin": ("inhibitor", "strong", "sirolimus USPI §7 [V]"),
    "telithromycin": ("inhibitor", "strong", "sirolimus USPI §7 [V]"),
    "clarithromycin": ("inhibitor", "strong", "sirolimus USPI §7 [V]"),
    "rifampin": ("inducer", "strong", "sirolimus USPI §7 [V]"),
    "rifampicin": ("inducer", "strong", "sirolimus USPI §7 [V]"),
    "rifabutin": ("inducer", "strong", "sirolimus USPI §7 [V]"),
    "diltiazem": ("inhibitor", "moderate/weak", "MIMS mirror [V]"),
    "verapamil": ("inhibitor", "moderate/weak", "MIMS mirror [V]"),
    "fluconazole": ("inhibitor", "moderate/weak", "MIMS mirror [V]"),
    "cimetidine": ("inhibitor", "moderate/weak", "MIMS mirror [V]"),
    "ciclosporin": ("inhibitor", "moderate/weak", "MIMS mirror [V]"),
    "cyclosporine": ("inhibitor", "moderate/weak", "MIMS mirror [V]"),
    "carbamazepine": ("inducer", "moderate/weak", "MIMS mirror [V]"),
    "phenobarbital": ("inducer", "moderate/weak", "MIMS mirror [V]"),
    "phenytoin": ("inducer", "moderate/weak", "MIMS mirror [V]"),
    "st john's wort": ("inducer", "moderate/weak", "MIMS mirror [V]"),
    "simvastatin": ("interacting", "moderate/weak", "listed as interacting with sirolimus (interaction monograph [V mirror])"),
    "dexamethasone": ("inducer", "unverified", "CYP3A4 inducer (audit A-5); strength UNVERIFIED (spec §7 item 16)"),
}

#: ACE inhibitors (R10, angioedema with sirolimus: sirolimus USPI §5.5 [V]); class membership by INN.
ACE_INHIBITORS = frozenset({
    "benazepril", "captopril", "cilazapril", "enalapril", "fosinopril", "lisinopril", "moexipril",
    "perindopril", "quinapril", "ramipril", "trandolapril", "zofenopril",
})

#: Chemotherapy agents (line counting: "prior chemotherapy" for the pazopanib label note; S4 order check).
CHEMOTHERAPY = frozenset({"doxorubicin", "ifosfamide", "epirubicin", "gemcitabine", "docetaxel", "trabectedin",
                          "dacarbazine", "eribulin", "cyclophosphamide"})
#: Agents of the S4b options (spec §3 S4b: doxorubicin, doxorubicin + ifosfamide; epirubicin + ifosfamide in
#: case reports, S001): a drafted order of another agent is not 'consistent with S4b'.
S4B_AGENTS = frozenset({"doxorubicin", "ifosfamide", "epirubicin"})
#: Non-mTORi systemic agents judged against the first-line mTOR inhibitor (S3/S4 order check), with the
#: retrospective comparison of their class (P-SANF19 [V], spec §3 S4: mTORi ORR 41%, mPFS 9 months).
FIRST_LINE_COMPARISON = {
    "doxorubicin": "mTORi ORR 41% vs anthracycline 13% (P-SANF19)",
    "epirubicin": "mTORi ORR 41% vs anthracycline 13% (P-SANF19)",
    "gemcitabine": "mTORi ORR 41% vs gemcitabine-based 20% (P-SANF19)",
    "pazopanib": "mTORi ORR 41%, mPFS 9 months vs antiangiogenics 8.3%, 5.4 months (P-SANF19)",
}
FIRST_LINE_COMPARISON_OTHER = "mTORi ORR 41%, mPFS 9 months (P-SANF19)"
#: Non-mTORi systemic anticancer agents the order checks judge against the disease setting (S1/S2, S3/S4, S8).
NON_MTORI_SYSTEMIC = CHEMOTHERAPY | frozenset(FIRST_LINE_COMPARISON)
PAZOPANIB_LABEL = "FDA STS label requires prior chemotherapy (S004)"  # spec §3 S7 (S004)
MTORI_AGENT_NAMES = frozenset({"sirolimus", "nab-sirolimus", "fyarro", "temsirolimus", "everolimus"})

# ------------------------------------------------------------------ evidence statements
E = Evidence
EV = {
    "MDT": E("S000, S001, S003; P-ESMO", "[SEED/V] expert consensus",
             "Refer to, or discuss at, a sarcoma reference-centre MDT, preferably within trials or registries"),
    "FOLPE": E("P-FOLPE", "[V] abstract", "two or more worrisome histologic features should be considered malignant"),
    "WHO_GYN": E("S002; P-BENNETT", "[SEED]; feature list [UNVERIFIED]", ">=3 features required for malignant (gynaecologic)"),
    "BLEEKER": E("P-BLEEKER", "[V abstract]; operators [UNVERIFIED]", "size and mitoses associated with recurrence; display only"),
    "AJCC": E("S004 (AJCC 8th tables)", "[SEED, consistent with AJCC 8th]"),
    "S1": E("S000, S001; S004 (PDQ, general STS)", "[SEED] AI summaries; PDQ general STS",
            "Complete resection with negative margins; adjuvant chemotherapy not established"),
    "S2": E("S002; P-HEPCASE", "[SEED]/[V] case reports", "adjuvant mTORi: case reports only"),
    "AMPECT": E("P-AMPECT", "[V] phase II single-arm (n=31)",
                "ORR 39% (12/31; 95% CI 22-58); DCR 71%; mPFS 10.6 months; mOS 40.8 months"),
    # No dose level in the statement: a level is shown only after R7 and R4 (spec §3 S4 dosing path, C1).
    "FYARRO_LABEL": E("P-FDA", "[V] label", "FDA-approved for adults with locally advanced unresectable or metastatic "
                      "malignant PEComa; " + FYARRO_SCHEDULE + "; dose level by the label's hepatic bands and "
                      "interactions (R7, R4)"),
    "ESMO_MTORI": E("S000 quoting ESMO; S004 Table 9", "[SEED] ESMO grade C, level IV (wording not re-verified)",
                    "an mTOR inhibitor is the treatment of choice"),
    "SANF19": E("P-SANF19", "[V] retrospective, n=53",
                "mTORi ORR 41%, mPFS 9 months vs anthracycline 13%/3.2 mo, gemcitabine-based 20%/3.4 mo, antiangiogenics 8.3%/5.4 mo"),
    "S003": E("S003", "[SEED] retrospective series, n=10", "oral sirolimus: 4/6 evaluable PR; titrated to tolerability"),
    "S003_TEMSI": E("S003", "[SEED] retrospective series, n=10",
                    "one patient (patient 7) received temsirolimus: PR (5/7 evaluable PR overall including this patient)"),
    "EVEROLIMUS": E("S002; S003", "[SEED] case reports", "everolimus: case reports only; no PEComa dose in the sources"),
    "TEMSI_LABEL": E("P-TEMSI", "[V mirror] label wording", TEMSIROLIMUS_DOSE),
    "S4B": E("S000, S001; S004 (PDQ: doxorubicin is the STS standard)", "[SEED]",
             "doxorubicin first line; doxorubicin + ifosfamide when response is the goal and performance status is good"),
    "S5": E("S000, S001 quoting ESMO; P-ESMO", "[SEED/V] guideline summary", "follow-up schedule by risk"),
    "S6": E("S000, S001; ESMO 2018; S004", "[SEED/V via Medscape summary]",
            "If the primary tumor is under control, resection of metastatic lung tumors may be associated with long-term disease-free survival"),
    "S7": E("P-SANF19; P-SANF20; S003; S004", "[V]/[SEED] retrospective and small series", "options after mTORi: unranked"),
    "SANF20": E("P-SANF20", "[V abstract] n=7", "sirolimus + exemestane: ORR 43%, DCR 86%"),
    "S8": E("S000; S002", "[SEED]", "best supportive care and palliative care referral; palliative RT for symptoms"),
    "S9": E("S000; P-TFE3; P-JPCR21; P-AMPECT", "[SEED]/[V] case reports",
            "TFE3 fusions 'may not respond' (S000) vs a complete response to everolimus (P-TFE3); no TFE3-specific efficacy in AMPECT"),
    "S10": E("S002; S004", "[SEED] case reports; PDQ: checkpoint inhibitors 'cannot be routinely recommended' in STS"),
    "N1": E("S001; S004 (PDQ 'advanced stage III (N1)')", "[SEED] single case report; PDQ general STS"),
    "SIRO_TARGET": E("P-SIRO (EU SmPC, sporadic LAM)", "[V] label", "trough 5-15 ng/mL; proportional dose formula; re-check 7-14 days"),
    "S003_TROUGH": E("S003", "[SEED]", "some groups used the renal-transplant range 15-20 ng/mL"),
    "R3": E("S003; P-SIRO (USPI)", "[SEED]/[V mirror]",
            "lipid-lowering agents and oral hypoglycaemics in the first instance prior to dose modification or discontinuation"),
    "R4_SIRO": E("P-SIRO (USPI §7; drugs.com; MIMS)", "[V]", "avoid strong CYP3A4/P-gp inhibitors and inducers; no grapefruit"),
    "R4_FYARRO": E("P-FDA §2.3", "[V]; rest of the sentence and §7 UNVERIFIED", "Reduce the dosage of FYARRO to 56 mg/m2 when used concomitantly with a ..."),
    "R4_TEMSI": E("P-TEMSI", "[V mirror]", "avoid strong inhibitors (consider 12.5 mg/week if unavoidable) and strong inducers (consider up to 50 mg/week)"),
    "R5": E("P-TEMSI; P-AMPECT", "[V mirror]/[V]",
            "If clinically significant respiratory symptoms develop, consider withholding Torisel; pneumonitis 18% (grade 1-2) in AMPECT"),
    "R6": E("P-CTCAE; P-TEMSI; P-FDA Table 1", "[V]", "platelet grades; temsirolimus hold thresholds; FYARRO levels 100-75-56-45"),
    "R7": E("P-FDA §2.4; P-TEMSI", "[V] label bands", "FYARRO mild 75, moderate 56, severe avoid; temsirolimus 15 mg/week in mild impairment"),
    "R8": E("P-SIRO USPI §5.6; P-HEPCASE", "[V]/[V case report]", "mTORi impairs wound healing; sirolimus stopped 2 weeks before resection (case)"),
    "R9": E("P-TEMSI", "[V mirror]", "Antihistamine pre-treatment is recommended"),
    "R10": E("P-SIRO USPI §5.5", "[V]", "angioedema with ACE inhibitors"),
    "R11": E("P-CTCAE; S002", "[V]/[SEED]", "anaemia grade from Hb"),
    "R12": E("[DESIGN] product decision C15", "[DESIGN]", "oncological emergencies override pathway cards"),
    "R13": E("[DESIGN] product decision C12", "[DESIGN]", "conflicting fields block only their dependent outputs"),
    "R14": E("P-EURACAN; P-FDA; P-TEMSI", "[V]", "adult-type STS in adolescents 'should be managed the same way as in adult patients'"),
    "R15": E("P-SIRO; P-TEMSI (§5.15, audit A-7); P-FDA (lactation)", "[V]; FYARRO pregnancy wording UNVERIFIED",
             "embryo-fetal toxicity; FYARRO: 'Advise not to breastfeed'; sirolimus: avoid live vaccines"),
    "R16": E("P-FDA Table 2 (numbers UNVERIFIED); S003", "[V]/[SEED]",
             "label dose modification applies (Table 2); treatment-related intra-tumoral haemorrhage has been observed"),
    "DESIGN": E("[DESIGN]", "[DESIGN] product rule needing clinical sign-off"),
}
