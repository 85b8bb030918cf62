"""The pathway core's output: an assessment plus recommendations (DESIGN.md §Contracts).

``cards`` renders these; it decides nothing the pathway did not. Everything
here is plain data: no FHIR JSON, no HTTP.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pathway.facts import Fact


class Urgency(str, Enum):
    """Maps one-to-one onto the CDS Hooks card indicator."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Kind(str, Enum):
    ASSESSMENT = "assessment"
    TREATMENT = "treatment"
    TEST = "test"
    REFERRAL = "referral"
    SURVEILLANCE = "surveillance"
    SAFETY = "safety"
    DATA_GAP = "data-gap"
    SCOPE = "scope"


class ScopeStatus(str, Enum):
    IN_SCOPE = "in_scope"
    PAEDIATRIC = "paediatric"  # R14: one information card only
    OUT_OF_SCOPE_ENTITY = "out_of_scope_entity"  # AML, epithelioid AML, LAM: R14 information card
    CONFIRM_DIAGNOSIS = "confirm_diagnosis"  # every melanocytic marker negative: one card only
    NOT_PECOMA = "not_pecoma"  # other histology or no PEComa diagnosis: no cards at all


@dataclass(frozen=True)
class Evidence:
    """Where a statement comes from and how strong it is."""

    source: str  # seed shorthand (S000-S004) or public source key (P-AMPECT, P-FDA, ...), see pathway-spec §0
    level: str  # confidence tag and/or level, e.g. "[V] phase II single-arm", "[SEED] ESMO grade C, level IV"
    statement: str | None = None  # e.g. "ORR 39% (12/31)"


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str


@dataclass(frozen=True)
class ProposedOrder:
    """Something the clinician may order with one click (rendered as a draft FHIR resource).

    Codes come from the terminology tables; ``dosage_text`` only where the spec gives a dose.
    """

    resource_type: str  # "MedicationRequest" or "ServiceRequest"
    codings: tuple[Coding, ...]  # first = primary coding; e.g. RxNorm SBD then IN
    text: str  # human-readable name of the order
    dosage_text: str | None = None
    category: str | None = None  # ServiceRequest: "laboratory" / "imaging" / "referral" / "molecular"
    recommended: bool = False  # the pathway prefers this option (isRecommended)
    note: str | None = None


@dataclass(frozen=True)
class Option:
    """One choice inside a recommendation (e.g. an mTOR inhibitor), unranked unless ``preferred``."""

    label: str
    detail: str  # dose text (only where the spec gives one), caveats
    evidence: tuple[Evidence, ...] = ()
    order: ProposedOrder | None = None
    preferred: bool = False
    received: str | None = None  # "received 2025-01-06 to 2025-12-08" (S7 marks, never removes)


@dataclass(frozen=True)
class FactUse:
    """A fact a recommendation rests on, labelled for display ("why")."""

    label: str
    fact: Fact[Any]
    display: str | None = None  # formatted value when the raw value needs words


@dataclass(frozen=True)
class Recommendation:
    rule_id: str  # stable id from the rule catalogue (e.g. "S4", "R7", "MDT")
    kind: Kind
    urgency: Urgency
    summary: str  # patient-specific one-liner, < 140 characters
    actions: tuple[str, ...] = ()  # what to do (doses only where the spec gives them)
    facts_used: tuple[FactUse, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    caveats: tuple[str, ...] = ()  # spec disagreements, off-label status, borderline flags, data-quality notes
    options: tuple[Option, ...] = ()
    orders: tuple[ProposedOrder, ...] = ()  # orders outside options (tests, imaging, referrals)
    replaces_order: str | None = None  # draft order reference this recommendation proposes to replace
    about_order: str | None = None  # draft order reference this recommendation judges (order hooks)
    pending_resolution: bool = False  # blocked by an R13 conflict: shown with candidate values


@dataclass(frozen=True)
class DataGap:
    field: str  # what is missing, in words ("mitotic count per 50 HPF")
    reason: str  # why it matters ("changes the Folpe class", "S4 decision input")
    display_only: bool = False  # missing only for a display-only output (e.g. Bleeker)
    urgency: Urgency = Urgency.INFO


@dataclass(frozen=True)
class SchemeResult:
    """A classification scheme's result: ``klass`` is one of malignant / uncertain_malignant_potential /
    benign / undefined / indeterminate / not_applicable / unresolved."""

    scheme: str  # "Folpe 2005", "Folpe 2005 (>= variant)", "WHO 2020 gynaecologic", "Schoolmeester 2014"
    klass: str
    candidates: tuple[str, ...] = ()
    features_present: tuple[str, ...] = ()
    features_unknown: tuple[str, ...] = ()
    display_only: bool = False


@dataclass(frozen=True)
class Stage:
    stage: str  # "IIIB", "not staged (malignancy not established)", "not_applicable (...)", "not assigned: ...", "unresolved (R13 ...)"
    t: str | None = None
    n: str | None = None
    m: str | None = None
    grade: str | None = None  # "G1".."G3" or "GX"
    fnclcc_components: tuple[int, int, int] | None = None  # differentiation, mitotic, necrosis scores
    as_reported: str | None = None  # a source's own stage, shown "as reported" only


@dataclass(frozen=True)
class Assessment:
    scope: ScopeStatus
    diagnosis: str  # display text
    primary_scheme: str | None = None
    primary_class: str | None = None  # class of the primary scheme (None when no primary class can be asserted)
    schemes: tuple[SchemeResult, ...] = ()
    flags: tuple[str, ...] = ()  # only from pathway-spec §2.8's enumerated list
    bleeker: dict[str, Any] | None = None  # {"known_count": int, "unknown": [str]}
    garzon: str | None = None
    stage: Stage | None = None
    setting_primary: str | None = None  # S1..S8, None when out of scope
    setting_modifiers: tuple[str, ...] = ()
    line_of_therapy: int | None = None  # next line for advanced disease (1 = first line)
    surveillance_risk: str | None = None  # "high" / "low" / None
    dfi_months: int | None = None
    provisional: bool = False


@dataclass(frozen=True)
class Decision:
    assessment: Assessment
    recommendations: tuple[Recommendation, ...] = ()
    data_gaps: tuple[DataGap, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def rule_ids(self) -> set[str]:
        return {r.rule_id for r in self.recommendations}
