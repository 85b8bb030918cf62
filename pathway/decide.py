"""Entry point of the core. STUB until the pathway issue lands: everything is out of scope."""
from __future__ import annotations

from datetime import date

from pathway.decision import Assessment, Decision, ScopeStatus
from pathway.facts import DraftOrder, PatientFacts


def decide(
    facts: PatientFacts,
    *,
    today: date,
    hook: str = "patient-view",
    draft_orders: tuple[DraftOrder, ...] = (),
    settings: "object | None" = None,
) -> Decision:
    """Decide for one patient. ``settings`` = site settings (pathway.settings.SiteSettings)."""
    return Decision(assessment=Assessment(scope=ScopeStatus.NOT_PECOMA, diagnosis="not assessed"))
