"""Drug options and their text (spec §3 S4, S4b, S7, S9), including the FYARRO dosing path (decision C1):
R7 (hepatic label bands) then R4 (strong CYP3A4/P-gp inhibitor); no dose level when bilirubin/AST/ULN
are unknown. Doses appear only where the spec gives them.
"""
from __future__ import annotations

from dataclasses import dataclass

from pathway import knowledge as K
from pathway.context import Context
from pathway.decision import Option
from pathway.facts import LabResult, Medication
from pathway.knowledge import EV
from pathway.orderables import proposed_order


# ---------------------------------------------------------------- liver tests relative to the ULN

def bilirubin_x_uln(lab: LabResult | None) -> float | None:
    """Total bilirubin as a multiple of the lab's ULN; "normal" without a number counts as <=ULN."""
    if lab is None:
        return None
    if lab.ratio_to_uln is not None:
        return lab.ratio_to_uln
    return 1.0 if lab.interpretation == "normal" else None


def ast_above_uln(lab: LabResult | None) -> bool | None:
    if lab is None:
        return None
    if lab.ratio_to_uln is not None:
        return lab.ratio_to_uln > 1.0
    return {"normal": False, "high": True}.get(lab.interpretation or "")


@dataclass(frozen=True)
class Hepatic:
    bilirubin: float | None  # x ULN
    ast_high: bool | None
    bilirubin_measured: bool = True  # False: only "normal" reported (counted as <=ULN, never shown as a ratio)

    @property
    def bilirubin_words(self) -> str:
        if self.bilirubin is None:
            return "bilirubin unknown"
        return f"bilirubin {self.bilirubin:g} x ULN" if self.bilirubin_measured else "bilirubin <=ULN (reported normal)"

    @property
    def fyarro_band(self) -> str | None:
        """normal / mild / moderate / severe by the label bands (P-FDA §2.4), None when unknown.

        Above 1 x ULN the bilirubin alone decides ("bilirubin >1 to 1.5 x ULN with any AST", then bilirubin
        only): a missing AST changes nothing there. At <=ULN the AST decides normal vs mild, so it must be known.
        """
        if self.bilirubin is None:
            return None
        if self.bilirubin <= 1.0:
            return None if self.ast_high is None else ("mild" if self.ast_high else "normal")
        for band, upper, _ in K.FYARRO_HEPATIC_BANDS[1:]:
            if upper is None or self.bilirubin <= upper:
                return band
        return None

    @property
    def temsirolimus(self) -> str | None:
        """"contraindicated" / "reduce" / "none", None when unknown (P-TEMSI: bilirubin >1.5 x ULN contraindicated;
        bilirubin >1-1.5 x ULN, or AST >ULN with bilirubin <=ULN, 15 mg/week)."""
        if self.bilirubin is None:
            return None
        if self.bilirubin > K.TEMSIROLIMUS_CONTRAINDICATED_BILIRUBIN_X_ULN:
            return "contraindicated"
        if self.bilirubin > 1.0:
            return "reduce"
        return None if self.ast_high is None else ("reduce" if self.ast_high else "none")

    @property
    def impaired(self) -> bool:
        return self.fyarro_band in ("mild", "moderate", "severe") or self.temsirolimus in ("reduce", "contraindicated")


def hepatic(ctx: Context) -> Hepatic:
    bilirubin = ctx.lab("total_bilirubin")
    return Hepatic(bilirubin_x_uln(bilirubin), ast_above_uln(ctx.lab("ast")),
                   bilirubin_measured=bilirubin is not None and bilirubin.ratio_to_uln is not None)


# ---------------------------------------------------------------- R4 interacting drugs

def interacting(meds: list[Medication]) -> list[tuple[Medication, tuple[str, str, str]]]:
    return [(m, K.INTERACTIONS[m.ingredient]) for m in meds if m.ingredient in K.INTERACTIONS]


def strong_inhibitors(ctx: Context) -> list[Medication]:
    """Strong CYP3A4 inhibitors taken or drafted in this order session (an FYARRO level must agree with both)."""
    drafted = [o.medication for o in ctx.draft_orders if o.medication is not None]
    return [m for m, (effect, strength, _) in interacting(ctx.active_meds() + drafted)
            if effect == "inhibitor" and strength in ("strong", "contraindicated")]


# ---------------------------------------------------------------- FYARRO dosing path (C1)

@dataclass(frozen=True)
class FyarroDose:
    level: int | None  # mg/m2; None = no level shown
    path: str  # how R7 and R4 were applied
    avoid: bool = False
    r7_lowered: bool = False
    r4_lowered: bool = False


def missing_liver_tests(liver: Hepatic) -> str:
    if liver.bilirubin is None:
        return "bilirubin (with ULN) not in record" + ("" if liver.ast_high is not None else ", nor AST")
    return "AST (with ULN) not in record, needed with bilirubin <=ULN"


def fyarro_dose(ctx: Context) -> FyarroDose:
    liver = hepatic(ctx)
    band = liver.fyarro_band
    inhibitors = strong_inhibitors(ctx)
    r4_text = (f"R4: strong CYP3A4 inhibitor ({', '.join(m.ingredient for m in inhibitors)}) -> "
               f"{K.FYARRO_STRONG_INHIBITOR_MG_M2} mg/m2 (label §2.3; full wording unverified)"
               if inhibitors else "R4: no strong CYP3A4/P-gp inhibitor in the record")
    if band is None:
        return FyarroDose(None, f"R7 not applicable: {missing_liver_tests(liver)} -> no level "
                                f"({K.FYARRO_LEVEL_BANDS_TEXT}); {r4_text}")
    hepatic_level = dict((b, lvl) for b, _, lvl in K.FYARRO_HEPATIC_BANDS)[band]
    if hepatic_level is None:
        return FyarroDose(None, "R7: severe hepatic impairment -> avoid FYARRO (severe band wording unverified: "
                                "read label §2.4)", avoid=True, r7_lowered=True)
    ast = {True: ", AST >ULN", False: "", None: ", AST not in record: not needed above 1 x ULN (label: 'any AST')"}
    r7_text = f"R7: {band} band ({liver.bilirubin_words}{ast[liver.ast_high]}) -> {hepatic_level} mg/m2"
    level = hepatic_level
    if inhibitors:
        level = min(level, K.FYARRO_STRONG_INHIBITOR_MG_M2)
    path = f"{r7_text}; {r4_text}"
    if inhibitors and hepatic_level < K.FYARRO_FULL_MG_M2:
        path += ("; both lower the level: the lower level is shown - combination not addressed in the label text "
                 "read: specialist/pharmacist review")
    return FyarroDose(level, path, r7_lowered=hepatic_level < K.FYARRO_FULL_MG_M2,
                      r4_lowered=bool(inhibitors) and K.FYARRO_STRONG_INHIBITOR_MG_M2 < K.FYARRO_FULL_MG_M2)


def fyarro_dosage_text(level: int) -> str:
    return f"{level} mg/m2 {K.FYARRO_SCHEDULE}"


# ---------------------------------------------------------------- option builders

def _r15_text(ctx: Context) -> str:
    if ctx.facts.status.pregnant.value:
        return ("PREGNANT: for discussion only - embryo-fetal toxicity (sirolimus/temsirolimus labels); specialist "
                "(sarcoma MDT + obstetric) review before any start (R15)")
    if ctx.facts.status.childbearing_potential.value is not False:  # yes or unknown, whatever the sex (§4 R15)
        when = "during treatment" if ctx.active_mtori is not None else "before starting"
        what = "confirm pregnancy status and counsel on contraception" if ctx.female_or_unknown else "counsel on contraception"
        return f"{what} {when} (R15; durations after the last dose not shown: unverified)"
    return ""


def mtori_options(ctx: Context) -> tuple[Option, ...]:
    """nab-sirolimus (FYARRO), oral sirolimus, temsirolimus, everolimus - unranked; orders only to draft."""
    pregnant = bool(ctx.facts.status.pregnant.value)
    dose = fyarro_dose(ctx)
    liver = hepatic(ctx)
    r15 = _r15_text(ctx)
    if dose.level is not None:
        fyarro_detail = f"Dose level: {fyarro_dosage_text(dose.level)}. Dosing path: {dose.path}."
    elif dose.avoid:
        fyarro_detail = f"Avoid: {dose.path}."
    else:
        fyarro_detail = (f"Dose level not shown until bilirubin and AST (with ULN) are known - R7 must be applied "
                         f"first; {K.FYARRO_LEVEL_BANDS_TEXT}; {K.FYARRO_SCHEDULE}. {dose.path}.")
    fyarro_detail += (f" Only mTORi FDA-approved for PEComa. {K.AMPECT_ENTRY_CRITERIA}. Therapeutic drug monitoring "
                      f"not required (AMPECT); label Table 2 modifications apply (numbers unverified).")
    temsi = liver.temsirolimus
    if temsi == "contraindicated":
        temsi_detail = f"Contraindicated: {K.TEMSIROLIMUS_CONTRAINDICATED_WORDS} (R7, temsirolimus label)."
    elif temsi == "reduce":
        temsi_detail = (f"{K.TEMSIROLIMUS_MILD_HEPATIC_DOSE} (R7: mild hepatic impairment - 'Dose reduction is required') "
                        f"IV over 30-60 min; {K.TEMSIROLIMUS_PREMED} (R9 content).")
    else:
        temsi_detail = f"{K.TEMSIROLIMUS_DOSE}; {K.TEMSIROLIMUS_PREMED} (R9 content); 'Dose reduction is required in patients with mild hepatic impairment' (R7)"
        temsi_detail += "." if temsi == "none" else f"; hepatic check pending: {missing_liver_tests(liver)} (R7)."
    if strong_inhibitors(ctx):
        temsi_detail += f" Strong CYP3A4 inhibitor: avoid; if unavoidable consider {K.TEMSIROLIMUS_STRONG_INHIBITOR_DOSE} (R4)."
    low, high = ctx.settings.sirolimus_trough_target_ng_ml
    siro_detail = (f"{K.SIROLIMUS_ORAL_DOSE}. Trough target in use {low:g}-{high:g} ng/mL "
                   f"({ctx.settings.source_of('sirolimus_trough_target_ng_ml')}); {K.SIROLIMUS_TARGET_CONTEXT}")
    if liver.impaired:
        siro_detail += f" Hepatic impairment: {K.SIROLIMUS_HEPATIC_NOTE}."
    if strong_inhibitors(ctx):
        siro_detail += " Strong CYP3A4 inhibitor in the record: avoid (sirolimus USPI §7; R4)."
    options = [
        Option("nab-sirolimus (FYARRO)", _join(fyarro_detail, r15), (EV["FYARRO_LABEL"], EV["AMPECT"]),
               order=None if (pregnant or dose.avoid) else proposed_order(
                   "fyarro", dosage_text=fyarro_dosage_text(dose.level) if dose.level else None)),
        Option("sirolimus (oral)", _join(siro_detail, r15), (EV["S003"], EV["SANF19"], EV["SIRO_TARGET"]),
               order=None if pregnant else proposed_order("sirolimus_oral")),
        Option("temsirolimus", _join(temsi_detail, r15), (EV["TEMSI_LABEL"], EV["S003_TEMSI"]),
               order=None if (pregnant or temsi == "contraindicated") else proposed_order("temsirolimus")),
        Option("everolimus", _join("Case reports only (S002, S003); no PEComa dose in the sources.", r15),
               (EV["EVEROLIMUS"],)),
    ]
    return tuple(options)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def received(ctx: Context, agents: set[str]) -> str | None:
    for line in ctx.facts.therapy.lines:
        if set(line.agents) & agents:
            when = " to ".join(d.isoformat() for d in (line.start, line.stop) if d)
            return f"received {when}".strip() if when else "received"
    return None


def s7_options(ctx: Context, *, sex_pending: bool) -> tuple[Option, ...]:
    """All S7 options, unranked; already-received ones marked with their dates (never removed)."""
    pazopanib_note = (K.PAZOPANIB_LABEL +
                      ("" if ctx.prior_chemotherapy else " -> off-label after an mTORi alone"))
    options = [
        Option("clinical trial", "Where available (S003; P-SANF20); options unranked.", (EV["S7"],),
               order=proposed_order("trial_referral")),
        Option("VEGFR-TKI: pazopanib", f"{pazopanib_note}; antiangiogenic ORR 8.3%, mPFS 5.4 months (P-SANF19); "
               "S002 reports PFS typically <6 months.", (EV["SANF19"],), order=proposed_order("pazopanib"),
               received=received(ctx, {"pazopanib"})),
        Option("VEGFR-TKI: apatinib", "Case reports only (S002).", (EV["S7"],), received=received(ctx, {"apatinib"})),
        Option("gemcitabine-based chemotherapy", "ORR 20% (P-SANF19); institutional protocol for doses.",
               (EV["SANF19"],), order=proposed_order("gemcitabine"), received=received(ctx, {"gemcitabine"})),
        Option("anthracycline-based chemotherapy", "ORR 13% (P-SANF19); S003: doxorubicin after mTORi failure "
               "progressed within <=2 cycles (n=2); institutional protocol for doses.", (EV["SANF19"],),
               order=proposed_order("doxorubicin"), received=received(ctx, {"doxorubicin", "epirubicin"})),
        Option("trabectedin", "FDA-approved only for liposarcoma and leiomyosarcoma (S004) -> off-label (S000).",
               (EV["S7"],), received=received(ctx, {"trabectedin"})),
    ]
    if ctx.female_or_unknown or sex_pending:
        detail = ("Women only: sirolimus + exemestane (+/- LHRH analogue if premenopausal): n=7, ORR 43%, DCR 86% "
                  "(P-SANF20).")
        if sex_pending:
            detail += " Pending resolution of the R13 sex/site conflict."
        options.insert(4, Option("sirolimus + exemestane (women only)", _join(detail, _r15_text(ctx)), (EV["SANF20"],),
                                 received=received(ctx, {"exemestane"})))
    return tuple(options)


def s4b_options() -> tuple[Option, ...]:
    return (
        Option("doxorubicin", "Anthracycline first line (S000, S001; PDQ STS standard). No dose in the sources: "
               "institutional STS protocol.", (EV["S4B"],), order=proposed_order("doxorubicin")),
        Option("doxorubicin + ifosfamide", "When tumour response is the goal and performance status is good "
               "(S000; PDQ: higher ORR and PFS, no OS gain). No dose in the sources: institutional STS protocol.",
               (EV["S4B"],)),
        Option("epirubicin + ifosfamide", "Case reports in uterine PEComa (S001).", (EV["S4B"],)),
        Option("mTORi access or a clinical trial", "Pursue mTORi access or trial enrolment.", (EV["S4B"],),
               order=proposed_order("trial_referral")),
    )


def s9_options(ctx: Context) -> tuple[Option, ...]:
    return (
        Option("clinical trial", "Case-report evidence only for every option; no ranking.", (EV["S9"],),
               order=proposed_order("trial_referral")),
        Option("mTOR inhibitor", _join("The FYARRO label is not biomarker-restricted; TFE3-associated PEComa with a "
               "complete response to everolimus (P-TFE3); AMPECT reported no TFE3-specific efficacy.", _r15_text(ctx)),
               (EV["S9"], EV["AMPECT"])),
        Option("VEGFR-TKI: apatinib", "2 case reports (S002).", (EV["S9"],)),
    )
