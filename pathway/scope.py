"""Scope gate (spec §3 "Scope gate", decision C5; R14)."""
from __future__ import annotations

from pathway.decision import DataGap, ScopeStatus, Urgency
from pathway.facts import MELANOCYTIC_MARKERS, Entity, MarkerResult, PatientFacts
from pathway.knowledge import ADULT_AGE_YEARS

OUT_OF_SCOPE_ENTITIES = (Entity.ANGIOMYOLIPOMA, Entity.EPITHELIOID_ANGIOMYOLIPOMA, Entity.LAM)


def is_child(facts: PatientFacts) -> bool:
    age = facts.demographics.age_years.value
    return age is not None and age < ADULT_AGE_YEARS


def melanocytic_markers_all_negative(facts: PatientFacts) -> bool:
    """Every melanocytic marker with a result is negative (at least one tested, none positive)."""
    results = [facts.ihc[m].value for m in MELANOCYTIC_MARKERS if m in facts.ihc and facts.ihc[m].value is not None]
    tested = [r for r in results if r in (MarkerResult.POSITIVE, MarkerResult.NEGATIVE)]
    return bool(tested) and all(r is MarkerResult.NEGATIVE for r in tested)


def scope_status(facts: PatientFacts) -> ScopeStatus:
    entity = facts.diagnosis.entity.value
    if entity in OUT_OF_SCOPE_ENTITIES:
        return ScopeStatus.OUT_OF_SCOPE_ENTITY
    if entity is None or not entity.is_pecoma:
        return ScopeStatus.NOT_PECOMA
    if is_child(facts):
        return ScopeStatus.PAEDIATRIC
    if melanocytic_markers_all_negative(facts):
        return ScopeStatus.CONFIRM_DIAGNOSIS
    return ScopeStatus.IN_SCOPE


def scope_gaps(facts: PatientFacts) -> list[DataGap]:
    """Scope gaps of an in-scope patient: age, IHC (they never exclude a diagnosed PEComa)."""
    gaps = []
    if facts.demographics.age_years.value is None:
        if facts.demographics.adult_documented_by_source.value:
            gaps.append(DataGap("age (adult documented by the source, not per patient)", "scope: adult pathway"))
        else:
            gaps.append(DataGap("age not documented: this adult pathway assumes age >=18 - confirm",
                                "scope: adult pathway", urgency=Urgency.WARNING))
    if not facts.ihc_in_record:
        gaps.append(DataGap("IHC not in record", "supports the diagnosis (melanocytic markers)"))
    return gaps
