"""AJCC 8th soft-tissue staging and FNCLCC grade (spec §2.5, §2.6; S004 tables).

Staged only when the primary class is malignant or N1/M1 is documented (C9); stage groups only
for trunk/extremity and retroperitoneum; an unknown site group is evaluated over its candidate
groups and asserted only when every candidate agrees.
"""
from __future__ import annotations

from dataclasses import dataclass

from pathway import knowledge as K
from pathway.classify import MALIGNANT, Classification
from pathway.decision import Stage
from pathway.facts import AjccSiteGroup, MitoticDenominator, PatientFacts

NOT_STAGED = "not staged (malignancy not established)"
STAGE_GROUP_SITES = (AjccSiteGroup.TRUNK_EXTREMITY, AjccSiteGroup.RETROPERITONEUM)
_NO_GROUP_WORDS = {
    AjccSiteGroup.HEAD_NECK: "head and neck: no recommended prognostic stage grouping",
    AjccSiteGroup.ABDOMINAL_THORACIC_VISCERAL: "visceral primary: no stage group",
    AjccSiteGroup.UTERINE_GYN: "uterine/gynaecological primary: outside the STS stage tables",
    AjccSiteGroup.OUTSIDE_STS_TABLES: "outside the STS stage tables",
}


@dataclass(frozen=True)
class Fnclcc:
    grade: int | None  # 1-3, None = GX
    components: tuple[int, int, int] | None  # differentiation, mitotic, necrosis scores when computed
    basis: str  # "computed", "reported" or "GX"


def fnclcc(facts: PatientFacts) -> Fnclcc:
    """Computed only from the pathologist's differentiation score + a per-10-HPF count + necrosis (§2.6)."""
    p = facts.pathology
    differentiation = p.fnclcc_differentiation_score.value
    count = p.mitoses_with(MitoticDenominator.PER_10_HPF).value  # never converted from per 50 HPF
    necrosis = p.necrosis.value
    percent = p.necrosis_percent.value
    if differentiation is not None and count is not None and necrosis is not None and (percent is not None or not necrosis):
        mitotic = next(score for floor, score in K.FNCLCC_MITOTIC_SCORE_PER_10HPF if count.count >= floor)
        necrosis_score = 0 if not necrosis else (1 if percent < K.FNCLCC_NECROSIS_HALF_PERCENT else 2)
        total = differentiation + mitotic + necrosis_score
        grade = next(g for floor, g in K.FNCLCC_GRADE_BY_SCORE if total >= floor)
        return Fnclcc(grade, (differentiation, mitotic, necrosis_score), "computed")
    if p.fnclcc_grade_reported.value is not None:
        return Fnclcc(p.fnclcc_grade_reported.value, None, "reported")
    return Fnclcc(None, None, "GX")


def m_candidates(facts: PatientFacts) -> tuple[str, ...]:
    """("M1",), ("M0",), ("M0", "M1") when nodules are indeterminate, or () when unknown."""
    e = facts.extent
    if e.m.value == "M1" or e.metastatic_sites:
        return ("M1",)
    if e.m.value == "M0":
        return ("M0", "M1") if e.indeterminate_lung_nodules.value else ("M0",)
    return ()


def n_category(facts: PatientFacts) -> str:
    return "N1" if facts.extent.n.value == "N1" else "N0"  # N0 includes unknown nodal status (AJCC)


def t_category(size_cm: float | None, documented: str | None, site: AjccSiteGroup) -> str | None:
    """AJCC 8th T by the site's own table (§2.5): size for trunk/extremity/retroperitoneum and head and neck (its T4
    is invasion, only as documented); organ confinement for visceral sites, so only a documented T there."""
    if size_cm is None or site not in (*STAGE_GROUP_SITES, AjccSiteGroup.HEAD_NECK):
        return documented
    if site is AjccSiteGroup.HEAD_NECK:
        if documented and documented.upper().startswith("T4"):
            return documented
        t1, t2 = K.AJCC_T_HEAD_NECK_CM
        return "T1" if size_cm <= t1 else "T2" if size_cm <= t2 else "T3"
    t1, t2, t3 = K.AJCC_T_TRUNK_RETRO_CM
    return "T1" if size_cm <= t1 else "T2" if size_cm <= t2 else "T3" if size_cm <= t3 else "T4"


def stage_group(site: AjccSiteGroup, t: str | None, n: str, m: str, grade: int | None) -> str:
    if site not in STAGE_GROUP_SITES:
        return f"not_applicable ({_NO_GROUP_WORDS[site]})"
    if m == "M1":
        return "IV"
    if n == "N1":
        return "IIIB" if site is AjccSiteGroup.RETROPERITONEUM else "IV"
    if t is None:
        return "not assigned: T category unknown"
    low_grade = grade in (None, 1)
    if t == "T1":
        return "IA" if low_grade else "II"
    if low_grade:
        return "IB"
    return "IIIA" if t == "T2" else "IIIB"


def _site_candidates(facts: PatientFacts) -> tuple[AjccSiteGroup, ...]:
    group = facts.site.ajcc_site_group.value
    return (group,) if group is not None else tuple(facts.site.ajcc_site_group_candidates)


def stage(facts: PatientFacts, klass: Classification) -> tuple[Stage, list[str]]:
    """The stage plus the staging inputs whose value would change it (for the data-gap card)."""
    grade = fnclcc(facts)
    g_text = f"G{grade.grade}" if grade.grade else "GX"
    n = n_category(facts)
    ms = m_candidates(facts)
    reported = facts.extent.reported_stage.value
    common = dict(n=n, grade=g_text, fnclcc_components=grade.components, as_reported=reported)
    if klass.primary_class != MALIGNANT and n != "N1" and ms != ("M1",):
        return Stage(NOT_STAGED, **common), []
    sites = _site_candidates(facts)
    if not sites:
        return Stage("not assigned: ajcc_site_group unknown", **common), ["AJCC site group"]
    if not ms:
        return Stage("not assigned: M status unknown", **common), ["M status"]
    documented_t = facts.extent.t.value
    sizes = {"": klass.size_used}
    if klass.size_conflict:
        sizes = {"pathology size": facts.pathology.size_pathology_cm.value,
                 "imaging size": facts.pathology.size_imaging_cm.value}
    results: dict[str, set[tuple[str, str]]] = {}
    for size_label, size in sizes.items():
        for site in sites:
            t = t_category(size, documented_t, site)
            for m in ms:
                results.setdefault(stage_group(site, t, n, m, grade.grade), set()).add((size_label, site.value))
    t_by_site = {t_category(klass.size_used, documented_t, site) for site in sites}
    t_used = t_by_site.pop() if len(t_by_site) == 1 else None  # shown only when every candidate site agrees
    m_text = ms[0] if len(ms) == 1 else "M0 or M1"
    gaps = []
    if len(results) > 1 and all(g.startswith("not_applicable") for g in results):
        reasons = "; ".join(g[len("not_applicable ("):-1] for g in results)
        results = {f"not_applicable (every candidate site group: {reasons})": set()}
    if len(results) == 1:
        (group,) = results
        # would the grade change it? (GX vs G2-G3)
        if grade.grade is None and any(stage_group(s, t_category(klass.size_used, documented_t, s), n, m, 3) != group
                                       for s in sites for m in ms):
            gaps.append("FNCLCC grade")
        return Stage(group, t=t_used, m=m_text, **common), gaps
    if klass.size_conflict and len(sites) == 1 and len(ms) == 1:
        by_size = {label: g for g, where in results.items() for label, _ in where}
        text = " or ".join(f"{g} ({label})" for label, g in by_size.items())
        return Stage(f"unresolved (R13 size conflict): {text}", t=None, m=m_text, **common), []
    if len(sites) > 1:
        gaps.append("AJCC site group")
    if len(ms) > 1:
        gaps.append("M status (indeterminate lung nodules)")
    listing = "; ".join(f"{g} if {' or '.join(sorted({s for _, s in where}))}" for g, where in results.items())
    return Stage(f"not assigned: candidates {listing}", t=t_used, m=m_text, **common), gaps
