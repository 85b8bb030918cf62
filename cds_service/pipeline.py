"""The one code path from FHIR resources to cards: extract -> decide -> render.

Used by the hook endpoint and by ``pecoma-cds evaluate``. An unexpected exception in
any stage never reaches the client: it is logged (type and place only, no patient
data) and the answer degrades to one information card saying decision support is
unavailable for this request (see :data:`UNAVAILABLE_SUMMARY`), so a clinician never
mistakes a failure for "no alerts".
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

import cards
import fhir_mappings
import pathway
from pathway.decision import Decision, ScopeStatus
from pathway.facts import summary
from pathway.settings import SiteSettings

from cds_service.jsonlog import log_event

UNAVAILABLE_SUMMARY = "PEComa decision support is unavailable for this request"
UNAVAILABLE_DETAIL = (
    "The PEComa pathway service could not evaluate this record because of an internal error. "
    "No recommendation or safety check was made: do not read the absence of alerts as reassurance. "
    "The error has been logged for the service team."
)


@dataclass
class Evaluation:
    cards: list[dict[str, Any]]
    assessment: dict[str, Any] = field(default_factory=dict)
    rules_fired: list[str] = field(default_factory=list)
    decision: Decision | None = None
    degraded: bool = False  # True when a stage failed and the "unavailable" card was returned

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"assessment": self.assessment, "rules_fired": self.rules_fired, "cards": self.cards}
        if self.degraded:
            body["degraded"] = True
        return body


def evaluate(
    resources: Iterable[Mapping[str, Any]],
    *,
    hook: str,
    patient_id: str | None,
    today: date,
    base_url: str,
    draft_orders: Mapping[str, Any] | None = None,
    selections: Any = None,
    settings: Any = None,
    smart_app_url: str | None = None,
    data_notes: Iterable[str] = (),
    data_incomplete: Iterable[str] = (),
) -> Evaluation:
    """Run the pathway for one patient; never raises.

    ``data_notes`` are data-quality notes from gathering the data (partial pages, failed
    FHIR queries ...): they join the mapper's own notes and are shown with the assessment.
    ``data_incomplete`` are those of them that say data is missing: a warning card on every hook.
    """
    stage = "extract"
    decision: Decision | None = None
    try:
        facts = fhir_mappings.extract(list(resources), today=today, patient_id=patient_id)
        facts.data_quality = tuple(data_notes) + tuple(facts.data_quality)
        facts.data_incomplete = tuple(data_incomplete)
        stage = "read_draft_orders"
        orders = fhir_mappings.read_draft_orders(dict(draft_orders) if draft_orders else None,
                                                 selections if hook == "order-select" else None)
        stage = "decide"
        decision = pathway.decide(facts, today=today, hook=hook, draft_orders=orders, settings=settings)
        stage = "render"
        context = cards.RenderContext(
            hook=hook,
            patient_ref=f"Patient/{patient_id}" if patient_id else (facts.patient_ref or "Patient/unknown"),
            base_url=base_url,
            smart_app_url=smart_app_url,
            pecoma_condition_ref=facts.pecoma_condition_ref,  # reasonReference of suggested draft orders
            draft_order_names=tuple((o.reference, o.text) for o in orders if o.text),
        )
        rendered = list(cards.render(decision, context))
        return Evaluation(
            cards=rendered,
            assessment=_assessment(decision),
            rules_fired=sorted(decision.rule_ids()),
            decision=decision,
        )
    except Exception:  # noqa: BLE001 - any failure of a stage degrades, never a 500
        log_event("pipeline_error", logging.ERROR, exc_info=True, stage=stage)
        if decision is not None and decision.assessment.scope == ScopeStatus.NOT_PECOMA:
            # not a PEComa patient: the answer is "nothing to say" whatever failed afterwards
            return Evaluation(cards=[], assessment=_assessment(decision), decision=decision, degraded=True)
        return Evaluation(cards=[unavailable_card()], decision=decision, degraded=True,
                          assessment=_assessment(decision) if decision else {})


def unavailable_card() -> dict[str, Any]:
    return {
        "summary": UNAVAILABLE_SUMMARY,
        "detail": UNAVAILABLE_DETAIL,
        "indicator": "info",
        "source": {"label": "PEComa pathway CDS service"},
    }


def _assessment(decision: Decision) -> dict[str, Any]:
    try:
        return summary(decision.assessment)
    except Exception:  # noqa: BLE001 - the assessment is informative only
        return {"scope": getattr(decision.assessment.scope, "value", str(decision.assessment.scope))}


def load_site_settings(path: str | None) -> Any:
    """Site settings for ``pathway.decide`` from a JSON file (``PECOMA_SITE_SETTINGS``), or None = shipped defaults."""
    if not path:
        return None
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return SiteSettings.from_mapping(data)
