"""pathway.decision.Decision -> CDS Hooks 2.0 cards with draft FHIR R4 orders.

Service-facing names:
- ``render(decision, RenderContext(...))`` -> list of card dicts.
- ``OVERRIDE_REASONS`` (code/display/definition) and ``override_reason_code_system(base_url)``
  (a FHIR CodeSystem to serve at ``{base_url}/fhir/CodeSystem/pecoma-override-reason``).
- ``ASSESSMENT_TOPIC``: the ``source.topic.code`` of the patient-view assessment card.
"""
from cards.render import ASSESSMENT_TOPIC, RenderContext, render
from cards.tables import (
    OVERRIDE_REASON_CODE_SYSTEM_PATH,
    OVERRIDE_REASONS,
    RULE_CODE_SYSTEM_PATH,
    RULE_PAGE_PATH,
    override_reason_code_system,
)

__all__ = [
    "ASSESSMENT_TOPIC",
    "OVERRIDE_REASONS",
    "OVERRIDE_REASON_CODE_SYSTEM_PATH",
    "RULE_CODE_SYSTEM_PATH",
    "RULE_PAGE_PATH",
    "RenderContext",
    "override_reason_code_system",
    "render",
]
