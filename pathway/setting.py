"""Setting selection (spec §3, decision C13): one primary setting, first match wins
S8 -> S7 -> S6 -> S4 -> S3 -> S2 -> S1, plus the modifiers S4b, S5, S9, S10 (S11 is added after
the safety rules, because it depends on R1/R2/R3)."""
from __future__ import annotations

from dataclasses import dataclass

from pathway import knowledge as K
from pathway.context import Context
from pathway.dates import months_between
from pathway.facts import GeneStatus, SpecimenType


@dataclass(frozen=True)
class S6Criteria:
    """The lung-metastasectomy rule: each criterion True / False / None (unknown)."""

    dfi_months: int | None
    criteria: dict[str, bool | None]

    @property
    def met(self) -> bool:
        return all(v is True for v in self.criteria.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, v in self.criteria.items() if v is False]

    @property
    def unknown(self) -> list[str]:
        return [name for name, v in self.criteria.items() if v is None]


def dfi_months(ctx: Context) -> int | None:
    e = ctx.facts.extent
    if e.date_resection.value and e.date_first_metastasis.value:
        return months_between(e.date_resection.value, e.date_first_metastasis.value)
    return None


def metachronous_lung_metastases(ctx: Context) -> bool:
    e = ctx.facts.extent
    sites = {s.value for s in e.metastatic_sites}
    return ("lung" in sites and dfi_months(ctx) is not None and dfi_months(ctx) >= 0)


def s6_criteria(ctx: Context) -> S6Criteria:
    e = ctx.facts.extent
    dfi = dfi_months(ctx)
    only_lung = {s.value for s in e.metastatic_sites} <= {"lung"}
    extrapulmonary = e.extrapulmonary_disease.value
    no_extrapulmonary = False if (extrapulmonary or not only_lung) else (True if extrapulmonary is False else None)
    return S6Criteria(dfi, {
        f"DFI >={K.S6_DFI_MIN_MONTHS} months": (dfi >= K.S6_DFI_MIN_MONTHS) if dfi is not None else None,
        "no extrapulmonary disease": no_extrapulmonary,
        "complete excision of all lesions feasible": e.complete_excision_of_mets_feasible.value,
        "primary controlled (no local recurrence)": e.primary_controlled.value,
    })


def heavily_pretreated_or_poor_ps(ctx: Context) -> bool:
    ecog = ctx.facts.status.ecog.value
    lines = len(ctx.facts.therapy.lines)
    confirmed = ctx.facts.therapy.clinician_confirmed_heavily_pretreated.value
    return (ecog is not None and ecog >= K.S8_ECOG_MIN) or (lines >= ctx.settings.s8_prior_lines_trigger and bool(confirmed))


def resected(ctx: Context) -> bool:
    f = ctx.facts
    return (f.extent.date_resection.known or f.pathology.margins.known
            or f.diagnosis.specimen_type.value is SpecimenType.RESECTION)


def primary_setting(ctx: Context) -> str | None:
    if heavily_pretreated_or_poor_ps(ctx):
        return "S8"
    if ctx.progressed_on_mtori:
        return "S7"
    if ctx.metastatic:
        if metachronous_lung_metastases(ctx) and not s6_criteria(ctx).failed:
            return "S6"
        return "S4"
    if ctx.facts.extent.resectable_primary.value is False:
        return "S3"
    if resected(ctx):
        return "S2"
    if ctx.facts.extent.resectable_primary.value is True:
        return "S1"
    return None


def modifiers(ctx: Context) -> list[str]:
    out = []
    t = ctx.facts.therapy
    if ctx.primary in ("S3", "S4") and (t.mtori_available.value is False or t.mtori_contraindication.known):
        out.append("S4b")
    if ctx.primary == "S2" or (ctx.primary == "S6" and s6_criteria(ctx).met):
        out.append("S5")
    if ctx.facts.molecular.tfe3_fusion.value is GeneStatus.ALTERED and ctx.primary in ("S3", "S4", "S6", "S7"):
        out.append("S9")
    pdl1 = ctx.facts.molecular.pdl1.value
    if pdl1 is not None and (pdl1.status or "").lower().startswith("pos") and ctx.refractory:
        out.append("S10")
    return out


def line_of_therapy(ctx: Context) -> int | None:
    """The line for advanced disease (1 = first line); None outside advanced settings.

    ``therapy.lines`` holds ended lines only; an ongoing mTORi is the current line, and the next line
    once the disease has progressed on it.
    """
    if ctx.primary not in ("S3", "S4", "S6", "S7", "S8"):
        return None
    ended = len(ctx.facts.therapy.lines)
    if ctx.active_mtori is None:
        return ended + 1
    return ended + (2 if ctx.facts.therapy.progressed_on_mtori.value else 1)
