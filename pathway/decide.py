"""Entry point of the core: ``decide(facts, today=..., hook=..., draft_orders=..., settings=...) -> Decision``.

A ladder of named steps that reads like the spec: scope gate (§3, R14) -> conflicts (R13) ->
classification (§2) -> stage (§2.5) -> setting (§3) -> safety rules (§4) -> setting cards ->
data gaps (C11). Pure: no I/O, no clock (``today`` is passed in).
"""
from __future__ import annotations

from dataclasses import fields as dc_fields
from datetime import date

from pathway import advice, gaps, safety
from pathway.catalogue import recommendation as rec
from pathway.classify import classify
from pathway.context import Context, sex_site_conflict
from pathway.decision import (Assessment, DataGap, Decision, FactUse, Recommendation, ScopeStatus, Stage, Urgency)
from pathway.facts import Conflict, Fact, PatientFacts
from pathway.orders import check_orders
from pathway.scope import scope_gaps, scope_status
from pathway.setting import dfi_months, line_of_therapy, modifiers, primary_setting
from pathway.settings import SiteSettings
from pathway.staging import stage as ajcc_stage

_DEFAULT_SETTINGS = SiteSettings()


def decide(
    facts: PatientFacts,
    *,
    today: date,
    hook: str = "patient-view",
    draft_orders: tuple = (),
    settings: SiteSettings | None = None,
) -> Decision:
    """Decide for one patient. ``settings`` = site settings (shipped defaults when None)."""
    ctx = Context(facts, today, hook, tuple(draft_orders), settings or _DEFAULT_SETTINGS)
    scope = scope_status(facts)
    if scope is not ScopeStatus.IN_SCOPE:
        return out_of_scope(ctx, scope)
    return in_scope(ctx)


# ---------------------------------------------------------------- R14: out of scope

_R14_TEXT = {
    ScopeStatus.PAEDIATRIC: ("Adult PEComa pathway not validated for age <18: refer to the paediatric/AYA sarcoma MDT",
                             ("Refer to the paediatric/AYA sarcoma MDT",
                              "EURACAN: adult-type STS in adolescents 'should be managed the same way as in adult "
                              "patients' - a specialist decision, not 'no treatment'",
                              "FYARRO is approved for adults; temsirolimus safety is not established under 18")),
    ScopeStatus.OUT_OF_SCOPE_ENTITY: ("{entity} is outside the adult PEComa-NOS pathway",
                                      ("Manage per the pathway for {entity}; no PEComa cards are shown",)),
    ScopeStatus.CONFIRM_DIAGNOSIS: ("Confirm the diagnosis: every melanocytic marker tested negative - expert sarcoma "
                                    "pathology review", ("Expert sarcoma pathology review of the PEComa diagnosis",)),
}


def out_of_scope(ctx: Context, scope: ScopeStatus) -> Decision:
    entity = ctx.facts.diagnosis.entity.value
    diagnosis = ctx.facts.diagnosis.text.value or "not documented"
    assessment = Assessment(scope=scope, diagnosis=diagnosis, stage=Stage("not_applicable (out of scope)"))
    if scope is ScopeStatus.NOT_PECOMA:
        return Decision(assessment=assessment)
    entity_words = entity.value.replace("_", " ") if entity else "this diagnosis"
    summary, actions = _R14_TEXT[scope]
    card = rec("R14", summary.format(entity=entity_words.capitalize()),
               actions=tuple(a.format(entity=entity_words) for a in actions),
               facts_used=(FactUse("age", ctx.facts.demographics.age_years),
                           FactUse("diagnosis", ctx.facts.diagnosis.text)))
    return Decision(assessment=assessment, recommendations=(card,))


# ---------------------------------------------------------------- R13: data conflicts

def conflicts(ctx: Context) -> list[Conflict]:
    f = ctx.facts
    found = list(f.conflicts)
    if sex_site_conflict(f):
        found.append(Conflict("sex_vs_gynaecologic_site", ("sex", "site_group"),
                              f"recorded sex {f.demographics.sex.value.value} vs gynaecologic primary "
                              f"({f.site.primary_site.value}) - verify both; both may be correct (e.g. a transgender man)"))
    from pathway.classify import size_discordance
    discordance = size_discordance(f, ctx.settings.size_discordance_fraction)
    if discordance:
        found.append(Conflict("size_discordance", ("size_pathology_cm", "size_imaging_cm"),
                              f"{discordance}: more than {ctx.settings.size_discordance_fraction:.0%} apart"))
    if f.extent.m.value == "M0" and f.extent.metastatic_sites:
        found.append(Conflict("localised_vs_metastatic", ("M", "metastatic_sites"), "M0 recorded with metastatic sites"))
    if f.pathology.margins.known and f.extent.resectable_primary.value is False and f.extent.date_resection.known:
        found.append(Conflict("margin_r0_vs_unresectable", ("margins", "resectable_primary"),
                              "resected with a margin recorded but also 'unresectable'"))
    future = list(dict.fromkeys(name for name, value in _dates(f) if value > ctx.today))
    if future:
        found.append(Conflict("date_in_future", tuple(future), f"dates after today ({ctx.today.isoformat()}): {', '.join(future)}"))
    unique: dict[str, Conflict] = {}
    for c in found:  # one conflict per kind: the mapper's and the core's findings of a kind are merged, none dropped
        first = unique.get(c.kind)
        if first is None:
            unique[c.kind] = c
        elif not set(c.fields) <= set(first.fields):
            unique[c.kind] = Conflict(c.kind, tuple(dict.fromkeys(first.fields + c.fields)),
                                      f"{first.description}; {c.description}", tuple(dict.fromkeys(first.sources + c.sources)))
    return list(unique.values())


def pending_settings(found: list[Conflict]) -> dict[str, str]:
    """§4 R13 (C12): the settings whose choice rests on a conflicting field, with the conflict. Their advice is
    withheld ("pending resolution"); every other card still shows. Sex vs site and size discordance block the
    classification instead (classify), not a setting."""
    pending: dict[str, str] = {}
    for c in found:
        if c.kind == "localised_vs_metastatic":  # M decides S1-S3 (localised) vs S4/S6-S8 (metastatic)
            blocked = ("S1", "S2", "S3", "S4", "S6", "S7", "S8")
        elif c.kind == "margin_r0_vs_unresectable":  # resectability decides S1/S2 vs S3
            blocked = ("S1", "S2", "S3")
        elif c.kind == "date_in_future":  # extent dates: DFI (S6), time since resection (S2); therapy dates: lines
            groups = {name.split(".")[0] for name in c.fields}
            blocked = (("S2", "S6") if "extent" in groups else ()) + (("S3", "S4", "S7", "S8") if "therapy" in groups else ())
        else:
            blocked = ()
        for setting in blocked:
            pending.setdefault(setting, c.description)
    return pending


def _dates(f: PatientFacts):
    """(group.field, date) of every recorded date that cannot lie ahead: extent, therapy, latest lab results."""
    for prefix, group in (("extent", f.extent), ("therapy", f.therapy)):
        for field in dc_fields(group):
            value = getattr(group, field.name)
            if isinstance(value, Fact) and isinstance(value.value, date) and field.name != "planned_surgery_date":
                yield f"{prefix}.{field.name}", value.value
    for line in f.therapy.lines:
        for when in (line.start, line.stop):
            if when is not None:
                yield "therapy.lines", when
    for key, series in f.labs.items():
        latest = series.latest
        if latest is not None and latest.date is not None:
            yield f"labs.{key}", latest.date


def r13(ctx: Context, found: list[Conflict]) -> list[Recommendation]:
    """One warning per conflict, listing each conflicting field with its recorded value and sources (§4 R13)."""
    out = []
    for c in found:
        caveats = ((f"Size-discordance threshold: {ctx.settings.source_of('size_discordance_fraction')}",)
                   if c.kind == "size_discordance" else ())
        out.append(rec("R13", f"Data conflict: {c.description}"[:139],
                       actions=("Verify both fields at their sources; dependent outputs are pending resolution",),
                       caveats=caveats,
                       facts_used=tuple(FactUse(name, _recorded(ctx.facts, name) or
                                                Fact(None, sources=c.sources, note=c.description))
                                        for name in c.fields)))
    return out


def incomplete(f: PatientFacts) -> list[Recommendation]:
    """The record as received is known to be incomplete: say so on every hook, so that an order check that finds
    nothing is not read as 'nothing to find'."""
    if not f.data_incomplete:
        return []
    return [rec("DATA-INCOMPLETE", "Record incomplete: these checks may miss interactions, labs or conditions",
                actions=tuple(f.data_incomplete) + ("Review the full record before relying on the absence of alerts",))]


def _recorded(f: PatientFacts, name: str) -> Fact | None:
    """The fact recorded under a conflict's field name (e.g. "sex", "size_imaging_cm", "M"), or None."""
    for group in (f.demographics, f.site, f.pathology, f.extent, f.therapy, f.diagnosis):
        value = getattr(group, name.split(".")[-1].lower(), None)  # "extent.m" or "M"
        if isinstance(value, Fact):
            return value
    return None


# ---------------------------------------------------------------- in scope

def in_scope(ctx: Context) -> Decision:
    f = ctx.facts
    found = conflicts(ctx)
    ctx.conflict_kinds = {c.kind for c in found}
    sex_pending = "sex_vs_gynaecologic_site" in ctx.conflict_kinds
    ctx.classification = klass = classify(f, sex_site_conflict=sex_pending,
                                          size_fraction=ctx.settings.size_discordance_fraction)
    stage, stage_gap_words = ajcc_stage(f, klass)
    ctx.stage = stage
    ctx.emergency = bool(safety.active_emergencies(ctx))
    ctx.primary = primary_setting(ctx)
    ctx.modifiers = modifiers(ctx)
    ctx.pending = pending_settings(found)

    # R12 on patient-view only (spec §4.0 hooks); R13 and an incomplete record on every hook.
    alerts: list[Recommendation] = ([] if ctx.on_order_hook else safety.r12(ctx)) + r13(ctx, found) + incomplete(f)
    if ctx.on_order_hook:
        alerts += check_orders(ctx)
    else:
        for rule in safety.PATIENT_VIEW_RULES:
            alerts += rule(ctx)
    fired = {r.rule_id for r in alerts}
    if ctx.active_mtori is not None and ctx.active_mtori.value == "oral_sirolimus" and fired & {"R1", "R2", "R3"}:
        ctx.modifiers.append("S11")
    ctx.modifiers = [m for m in ("S4b", "S5", "S9", "S10", "S11") if m in ctx.modifiers]

    data_gaps = (scope_gaps(f) + gaps.classification_gaps(klass) + gaps.stage_gaps(stage_gap_words)
                 + gaps.setting_gaps(ctx) + gaps.rule_gaps(ctx, fired))
    if ctx.primary is None:
        data_gaps.append(DataGap("disease extent and resectability", "the disease setting cannot be determined"))
    data_gaps = _unique(data_gaps)

    assessment = Assessment(
        scope=ScopeStatus.IN_SCOPE,
        diagnosis=f.diagnosis.text.value or "PEComa",
        primary_scheme=klass.primary_scheme,
        primary_class=klass.primary_class,
        schemes=klass.schemes,
        flags=klass.flags,
        bleeker=klass.bleeker,
        garzon=klass.garzon,
        stage=stage,
        setting_primary=ctx.primary,
        setting_modifiers=tuple(ctx.modifiers),
        line_of_therapy=line_of_therapy(ctx),
        surveillance_risk=advice.ctx_surveillance_risk(ctx) if "S5" in ctx.modifiers else None,
        dfi_months=dfi_months(ctx),
        provisional=klass.provisional,
    )
    recommendations: list[Recommendation] = [assessment_card(ctx, assessment)]
    if ctx.on_order_hook:
        recommendations += alerts
    else:
        recommendations += alerts
        recommendations.append(advice.mdt(ctx, _mdt_extra(ctx)))
        review = advice.class_review(ctx)
        if review:
            recommendations.append(review)
        recommendations += advice.setting_recommendations(ctx, fired, sex_pending)
        if data_gaps:
            recommendations.append(data_gap_card(data_gaps))
    notes = tuple(gaps.unresolved_note(klass)) + tuple(f.data_quality)
    return Decision(assessment=assessment, recommendations=tuple(recommendations), data_gaps=tuple(data_gaps),
                    notes=notes)


def _mdt_extra(ctx: Context) -> tuple[str, ...]:
    from pathway.setting import metachronous_lung_metastases, s6_criteria
    if ctx.primary == "S4" and metachronous_lung_metastases(ctx):
        crit = s6_criteria(ctx)
        if crit.failed:
            return (f"Lung-metastasectomy rule not met ({', '.join(crit.failed)}; DFI {crit.dfi_months} months): "
                    "surgery is not the standard - discuss at MDT",)
    return ()


def _unique(items: list[DataGap]) -> list[DataGap]:
    seen, out = set(), []
    for g in items:
        if g.field not in seen:
            seen.add(g.field)
            out.append(g)
    return out


def assessment_card(ctx: Context, a: Assessment) -> Recommendation:
    k = ctx.classification
    klass = f"{a.primary_class.replace('_', ' ')} ({a.primary_scheme})" if a.primary_class else "class pending"
    summary = f"PEComa: {klass}; AJCC {a.stage.stage}; setting {a.setting_primary or 'undetermined'}"
    caveats = [f"Flag: {flag}" for flag in a.flags]
    caveats += [f"{r.scheme}: {r.klass}" + (f" (candidates {', '.join(r.candidates)})" if r.candidates else "")
                for r in k.schemes]
    if a.stage.as_reported:
        caveats.append(f"Stage as reported by the source: {a.stage.as_reported}")
    if a.garzon:
        caveats.append(f"Garzon: {a.garzon}")
    caveats.append(f"Bleeker features present (display only): {a.bleeker['known_count']} known; unknown: "
                   f"{', '.join(a.bleeker['unknown']) or 'none'}")
    return rec("ASSESSMENT", summary, caveats=tuple(caveats),
               facts_used=(FactUse("diagnosis", ctx.facts.diagnosis.text),
                           FactUse("pathology size", ctx.facts.pathology.size_pathology_cm),
                           FactUse("imaging size", ctx.facts.pathology.size_imaging_cm)))


def _gap_summary(fields: list[str], limit: int = 139) -> str:
    """'Missing data: age, ECOG and 3 more': as many whole names as fit (each without its parenthesised
    details, which the card's actions list), never a name cut mid-word."""
    heads = [f.split(" (")[0] for f in fields]
    shown = 1
    while shown < len(heads):
        rest = len(heads) - shown - 1
        candidate = "Missing data: " + ", ".join(heads[:shown + 1]) + (f" and {rest} more" if rest else "")
        if len(candidate) > limit:
            break
        shown += 1
    rest = len(heads) - shown
    return "Missing data: " + ", ".join(heads[:shown]) + (f" and {rest} more" if rest else "")


def data_gap_card(items: list[DataGap]) -> Recommendation:
    urgency = Urgency.WARNING if any(g.urgency is Urgency.WARNING for g in items) else Urgency.INFO
    return rec("DATA-GAPS", _gap_summary([g.field for g in items]),
               urgency=urgency,
               actions=tuple(f"{g.field} - {g.reason}" + (" (display only)" if g.display_only else "") for g in items))
