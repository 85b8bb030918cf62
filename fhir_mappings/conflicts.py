"""Facts derived after mapping: sex inferred from a gynaecologic primary, and source-level conflicts.

Conflicts detected here (issue #3 point 5) are disagreements *between resources*:
* ``localised_vs_metastatic``: the latest M category says M0 (or a stage text says localised) while a
  secondary cancer condition began (onset, else recorded date) on or before that date, or is undated;
* ``margin_r0_vs_unresectable``: an R0 margin is recorded and the primary is recorded as unresectable
  on or before the resection date (a later "unresectable" concerns a recurrence and is not a conflict);
* ``date_in_future``: a key date after the reference date.
Size discordance (pathology vs imaging) and sex vs gynaecologic site are computed by the pathway core from
the facts (both sizes and the documented sex are kept), so they are not duplicated here.
"""
from __future__ import annotations

import re
from datetime import date

from fhir_mappings.context import Context, make_fact
from pathway.facts import Fact, Margin, Provenance, Sex, SiteGroup

_LOCALISED = re.compile(r"locali[sz]ed", re.I)


def infer_sex(ctx: Context) -> None:
    """Unknown sex + gynaecologic primary -> female, provenance inferred (never overrides a documented sex)."""
    demo, site = ctx.facts.demographics, ctx.facts.site
    if demo.sex.value is None and site.site_group.value is SiteGroup.GYNAECOLOGIC:
        demo.sex = make_fact(Sex.FEMALE, sources=site.site_group.sources, provenance=Provenance.INFERRED,
                             note="inferred from a gynaecologic primary site")


def detect_conflicts(ctx: Context) -> None:
    _localised_vs_metastatic(ctx)
    _r0_vs_unresectable(ctx)
    _dates_in_future(ctx)


def _localised_vs_metastatic(ctx: Context) -> None:
    extent = ctx.facts.extent
    if not extent.metastatic_sites:
        return
    m = extent.m
    stage = extent.reported_stage
    claims = [f for f in (m,) if f.value == "M0"]
    claims += [f for f in (stage,) if isinstance(stage.value, str) and _LOCALISED.search(stage.value)]
    for claim in claims:
        earlier = [s for s in extent.metastatic_sites if s.date is None or claim.date is None or s.date <= claim.date]
        if earlier:
            ctx.conflict(
                "localised_vs_metastatic", ("extent.m", "extent.metastatic_sites"),
                "staging says localised (M0) but metastatic disease is recorded for the same time",
                claim.sources + tuple(src for s in earlier for src in s.sources),
            )
            return


def _r0_vs_unresectable(ctx: Context) -> None:
    margins = ctx.facts.pathology.margins
    resectable = ctx.facts.extent.resectable_primary
    if margins.value is not Margin.R0 or resectable.value is not False:
        return
    resected = ctx.facts.extent.date_resection.value or margins.date
    if resectable.date is not None and resected is not None and resectable.date > resected:
        return
    ctx.conflict(
        "margin_r0_vs_unresectable", ("pathology.margins", "extent.resectable_primary"),
        "a resection with margin R0 is recorded but the primary is also recorded as unresectable",
        margins.sources + resectable.sources,
    )


def _dates_in_future(ctx: Context) -> None:
    extent, therapy = ctx.facts.extent, ctx.facts.therapy
    checks: list[tuple[str, Fact[date]]] = [
        ("extent.date_resection", extent.date_resection),
        ("extent.date_first_metastasis", extent.date_first_metastasis),
        ("therapy.mtori_start", therapy.mtori_start),
    ]
    for name, fact in checks:
        if isinstance(fact.value, date) and fact.value > ctx.today:
            ctx.conflict("date_in_future", (name,), f"{name} is after the reference date", fact.sources)
