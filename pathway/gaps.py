"""The data-gap list (spec §3 data-gap card, decision C11): scope gaps, class-changing inputs,
stage-changing inputs and per-setting decision inputs. Gaps never suppress a setting's cards,
except where a rule says so (the FYARRO dose level)."""
from __future__ import annotations

from pathway.classify import INDETERMINATE, UNRESOLVED, Classification
from pathway.context import Context
from pathway.decision import DataGap
from pathway.facts import GeneStatus, MarkerResult, MtoriAgent
from pathway.options import hepatic
from pathway.setting import s6_criteria


def classification_gaps(klass: Classification) -> list[DataGap]:
    gaps = []
    primary = klass.primary
    if primary is not None and primary.klass == INDETERMINATE:
        if "mitoses_per_10hpf" in klass.flags and primary.features_unknown == ("mitotic count per 50 HPF",):
            gaps.append(DataGap("mitotic count per 50 HPF (only per 10 HPF reported)",
                                f"changes the {primary.scheme} class: {' vs '.join(primary.candidates)}"))
        else:
            gaps.append(DataGap(f"histological risk features ({', '.join(primary.features_unknown)})",
                                f"change the {primary.scheme} class ({' vs '.join(primary.candidates)})"))
    if "size_from_imaging" in klass.flags:
        gaps.append(DataGap("pathology size (only imaging size; class provisional)", "classification on pathology size"))
    mitoses_unknown = [u for u in klass.bleeker["unknown"] if u.startswith("mitoses (")]
    if mitoses_unknown and not (primary and primary.klass == INDETERMINATE and "mitotic" in " ".join(primary.features_unknown)
                                and "mitoses_per_10hpf" in klass.flags):
        gaps.append(DataGap("mitotic count per 50 HPF (for Bleeker display only)", "Bleeker feature count",
                            display_only=True))
    return gaps


def setting_gaps(ctx: Context) -> list[DataGap]:
    f = ctx.facts
    gaps = []
    if ctx.primary in ("S3", "S4"):
        reason = f"{ctx.primary} decision input"
        if f.status.ecog.value is None:
            gaps.append(DataGap("ECOG", reason))
        if any(g.value in (None, GeneStatus.NOT_TESTED) for g in (f.molecular.tsc1, f.molecular.tsc2)):
            gaps.append(DataGap("TSC1/TSC2 (NGS)", reason))
        tfe3_ihc = f.ihc.get("TFE3")
        if f.molecular.tfe3_fusion.value in (None, GeneStatus.NOT_TESTED) and not (
                tfe3_ihc and tfe3_ihc.value is MarkerResult.POSITIVE):
            gaps.append(DataGap("TFE3 (IHC/FISH)", reason))
        shows_fyarro = "S4b" not in ctx.modifiers and ctx.active_mtori in (None, MtoriAgent.NAB_SIROLIMUS)
        liver = hepatic(ctx)
        if shows_fyarro and liver.fyarro_band is None:  # above 1 x ULN the bilirubin alone decides the band
            missing = [name for name, value in (("bilirubin", liver.bilirubin), ("AST", liver.ast_high)) if value is None]
            gaps.append(DataGap(f"{' and '.join(missing)} with ULN", "FYARRO dose level (R7)"))
    if ctx.primary == "S6":
        words = {"DFI": "DFI dates", "no extrapulmonary": "extrapulmonary disease",
                 "complete excision": "complete-excision feasibility", "primary controlled": "primary controlled"}
        for name in s6_criteria(ctx).unknown:
            label = next(v for k, v in words.items() if name.startswith(k))
            gaps.append(DataGap(f"{label} (S6 decision input)", "lung-metastasectomy rule"))
    if "S10" in ctx.modifiers:
        pdl1 = f.molecular.pdl1.value
        if pdl1 and not pdl1.assay:
            gaps.append(DataGap("PD-L1 assay (S10 decision input)", "PD-L1 information card"))
        if pdl1 and not pdl1.cutoff:
            gaps.append(DataGap("PD-L1 cut-off (S10 decision input)", "PD-L1 information card"))
    if "S11" in ctx.modifiers:
        if f.trough.pre_dose is None:
            gaps.append(DataGap("trough sample timing (pre-dose?)", "R1/R2 formula"))
        if f.trough.assay is None:
            gaps.append(DataGap("trough assay", "R1/R2 display"))
        if f.therapy.date_last_dose_change.value is None:
            gaps.append(DataGap("date of the last dose change", "R1/R2 steady state"))
    return gaps


def rule_gaps(ctx: Context, fired: set[str]) -> list[DataGap]:
    f = ctx.facts
    gaps = []
    if "R3" in fired and not any(k in f.labs for k in ("triglycerides", "total_cholesterol", "glucose")):
        gaps.append(DataGap("lipid and glucose values (grades only in record)", "R3 card"))
    if "R5" in fired:
        if f.clinical.pneumonitis_grade.value is None or f.clinical.hypoxia.value is None:
            gaps.append(DataGap("pneumonitis grade and clinician assessment of hypoxia", "R5 severity"))
        if f.clinical.infection_excluded.value is not True:
            gaps.append(DataGap("infection work-up", "R5: 'suspected' until infection is excluded"))
    return gaps


def stage_gaps(words: list[str]) -> list[DataGap]:
    reasons = {"FNCLCC grade": "changes the AJCC stage group (GX/G1 vs G2-G3)",
               "AJCC site group": "ambiguous site: changes the AJCC stage",
               "M status (indeterminate lung nodules)": "lung nodule characterisation changes M status and the stage",
               "M status": "changes the AJCC stage", "AJCC site group unknown": "AJCC stage"}
    out = []
    for w in words:
        label = "lung nodule characterisation (M status)" if w.startswith("M status (") else w
        out.append(DataGap(label, reasons.get(w, "AJCC stage")))
    return out


def unresolved_note(klass: Classification) -> list[str]:
    return [f"{r.scheme}: unresolved between {', '.join(r.candidates)} (R13 size conflict)" for r in klass.schemes
            if r.klass == UNRESOLVED]
