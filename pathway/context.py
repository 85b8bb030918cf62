"""What every rule reads: the facts plus what the core derived from them once (classes, stage, setting).

Small predicates named like the spec's phrases ("metastatic", "progressed on an mTORi", "mTORi active
or proposed") so that rules read like the specification.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pathway import knowledge as K
from pathway.classify import Classification
from pathway.decision import Stage
from pathway.facts import DraftOrder, Fact, LabResult, Medication, MtoriAgent, PatientFacts, Sex, SiteGroup, Provenance
from pathway.settings import SiteSettings

ORDER_HOOKS = ("order-select", "order-sign")


@dataclass
class Context:
    facts: PatientFacts
    today: date
    hook: str
    draft_orders: tuple[DraftOrder, ...]
    settings: SiteSettings
    classification: Classification | None = None
    stage: Stage | None = None
    primary: str | None = None
    modifiers: list[str] = field(default_factory=list)
    conflict_kinds: set[str] = field(default_factory=set)
    #: setting id -> the R13 conflict it depends on: its advice is "pending resolution" (§4 R13, C12)
    pending: dict[str, str] = field(default_factory=dict)
    emergency: bool = False

    # ---------------------------------------------------------- disease
    @property
    def metastatic(self) -> bool:
        e = self.facts.extent
        return e.m.value == "M1" or bool(e.metastatic_sites)

    @property
    def node_positive(self) -> bool:
        return self.facts.extent.n.value == "N1"

    @property
    def on_order_hook(self) -> bool:
        return self.hook in ORDER_HOOKS

    # ---------------------------------------------------------- therapy
    @property
    def active_mtori(self) -> MtoriAgent | None:
        return self.facts.therapy.active_mtori.value

    @property
    def mtori_proposed(self) -> bool:
        """The pathway shows mTORi options (S3/S4 without S4b), or an mTORi is drafted."""
        proposed = self.primary in ("S3", "S4") and "S4b" not in self.modifiers and self.active_mtori is None
        return proposed or bool(self.drafted_mtori)

    @property
    def drafted_mtori(self) -> list[tuple[DraftOrder, MtoriAgent]]:
        return [(o, agent) for o in self.draft_orders if (agent := drafted_agent(o)) is not None]

    @property
    def mtori_option_offered(self) -> bool:
        """An mTORi among the options of S7 (sirolimus + exemestane, women) or S9: 'proposed' for R15."""
        if "S9" in self.modifiers:
            return True
        return self.primary == "S7" and (self.female_or_unknown or "sex_vs_gynaecologic_site" in self.conflict_kinds)

    @property
    def mtori_in_play(self) -> bool:
        """An mTORi active, ordered or proposed (R4, R7, R15)."""
        return self.active_mtori is not None or self.mtori_proposed

    def active_meds(self) -> list[Medication]:
        return [m for m in self.facts.medications if m.status == "active"]

    @property
    def progressed_on_mtori(self) -> bool:
        if self.facts.therapy.progressed_on_mtori.value:
            return True
        return any(set(line.agents) & K.MTORI_AGENT_NAMES and (line.reason_stopped or "").startswith("progress")
                   for line in self.facts.therapy.lines)

    @property
    def refractory(self) -> bool:
        return self.progressed_on_mtori or any((line.reason_stopped or "").startswith("progress")
                                               for line in self.facts.therapy.lines)

    @property
    def prior_chemotherapy(self) -> bool:
        return any(set(line.agents) & K.CHEMOTHERAPY for line in self.facts.therapy.lines)

    # ---------------------------------------------------------- labs
    def lab(self, key: str) -> LabResult | None:
        return self.facts.lab(key)

    def lab_fact(self, key: str) -> Fact:
        """The latest lab as a displayable fact; a result only flagged (e.g. "normal", no number) shows the
        flag, never 'unknown' (spec §1: absent and not assessed are not conflated)."""
        lab = self.lab(key)
        if lab is None:
            return Fact()
        if lab.value is None and lab.interpretation:
            return Fact(f"reported {lab.interpretation} (no value recorded)", sources=lab.sources, date=lab.date)
        return Fact(lab.value, unit=lab.unit, sources=lab.sources, date=lab.date, note=lab.interpretation)

    @property
    def female_or_unknown(self) -> bool:
        sex = self.facts.demographics.sex.value
        return sex is None or sex is Sex.FEMALE


def drafted_agent(order: DraftOrder) -> MtoriAgent | None:
    """Which mTORi a draft medication order is (nab-sirolimus by name or IV route), or None."""
    med = order.medication
    if med is None:
        return None
    name = med.ingredient.lower()
    text = f"{order.text or ''} {med.text or ''}".lower()
    if name in ("nab-sirolimus", "fyarro") or (name == "sirolimus" and ("fyarro" in text or "nab" in text
                                                                        or med.route == "intravenous")):
        return MtoriAgent.NAB_SIROLIMUS
    if name == "sirolimus":
        return MtoriAgent.ORAL_SIROLIMUS
    if name == "temsirolimus":
        return MtoriAgent.TEMSIROLIMUS
    if name == "everolimus":
        return MtoriAgent.EVEROLIMUS
    return None


def sex_site_conflict(facts: PatientFacts) -> bool:
    """Documented male sex with a gynaecologic primary (R13; both may be correct)."""
    sex: Fact = facts.demographics.sex
    return (sex.value is Sex.MALE and sex.provenance is not Provenance.INFERRED
            and facts.site.site_group.value is SiteGroup.GYNAECOLOGIC)
