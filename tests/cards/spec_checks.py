"""CDS Hooks 2.0 response checks used by the cards and e2e tests.

``response_problems(body)`` applies our own reading of the spec (cds-hooks-2.0.md §1.5, the
cds-resp-1..6 invariants, the no-null/no-empty rule, R4B validation of every emitted resource)
and, when the service owner's ``cds_service.validation.validate_response`` is in the repo,
that validator too. An empty list means spec-clean.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

try:  # the foundation issue's validator (H1); our own checks always run as well
    from cds_service.validation import validate_response as _service_validator
except Exception:  # not in the repo yet
    _service_validator = None

MODELS = {
    "MedicationRequest": MedicationRequest,
    "ServiceRequest": ServiceRequest,
}
_ABSOLUTE = re.compile(r"^https?://\S+$")


def emitted_resources(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        action["resource"]
        for card in cards
        for suggestion in card.get("suggestions", [])
        for action in suggestion.get("actions", [])
        if "resource" in action
    ]


def empty_values(value: Any, path: str = "$") -> list[str]:
    """Paths of null, '', [] or {} values (the cards array itself may be empty)."""
    found = []
    if value in (None, "", [], {}) and path != "$.cards":
        found.append(path)
    if isinstance(value, dict):
        for key, child in value.items():
            found += empty_values(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += empty_values(child, f"{path}[{i}]")
    return found


def response_problems(body: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(body, dict) or not isinstance(body.get("cards"), list):
        return ["body is not an object with a cards array"]
    problems += [f"empty value at {p}" for p in empty_values(body)]
    for i, card in enumerate(body["cards"]):
        problems += [f"card[{i}]: {p}" for p in card_problems(card)]
    if _service_validator is not None:
        problems += [f"validate_response: {p}" for p in _service_validator(body)]
    return problems


def card_problems(card: dict[str, Any]) -> list[str]:
    p: list[str] = []
    try:
        uuid.UUID(card["uuid"])
    except (KeyError, ValueError, TypeError):
        p.append("uuid missing or not a UUID")
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary or len(summary) >= 140:
        p.append(f"summary must be 1-139 characters, got {len(summary or '')}")
    if card.get("indicator") not in ("info", "warning", "critical"):
        p.append("indicator not info|warning|critical")
    detail = card.get("detail", "")
    if "<" in detail or ">" in detail:
        p.append("detail contains a raw < or > (HTML is rendered by some clients)")
    source = card.get("source") or {}
    if not source.get("label"):
        p.append("source.label missing")
    topic = source.get("topic")
    if topic is not None and not (topic.get("system") and topic.get("code") and topic.get("display")):
        p.append("source.topic must carry system, code and display")
    suggestions = card.get("suggestions")
    if suggestions:
        behaviour = card.get("selectionBehavior")
        if behaviour not in ("at-most-one", "any"):
            p.append("suggestions without a valid selectionBehavior (cds-resp-6)")
        if behaviour == "at-most-one" and sum(bool(s.get("isRecommended")) for s in suggestions) > 1:
            p.append("more than one isRecommended with at-most-one (cds-resp-1)")
        for s in suggestions:
            if not s.get("label"):
                p.append("suggestion without label")
            try:
                uuid.UUID(s["uuid"])
            except (KeyError, ValueError, TypeError):
                p.append("suggestion uuid missing")
            for a in s.get("actions", []):
                p += _action_problems(a)
    elif "selectionBehavior" in card:
        p.append("selectionBehavior without suggestions")
    for reason in card.get("overrideReasons", []):
        if not (reason.get("display") and reason.get("code") and reason.get("system")):
            p.append("overrideReason without system/code/display (cds-resp-4)")
    for link in card.get("links", []):
        if not (link.get("label") and link.get("url")) or link.get("type") not in ("absolute", "smart"):
            p.append("link without label/url/type")
        if "appContext" in link and link.get("type") != "smart":
            p.append("appContext on a non-smart link (cds-resp-3)")
        if link.get("type") == "absolute" and not _ABSOLUTE.match(str(link.get("url"))):
            p.append("absolute link url is not absolute")
    return p


def _action_problems(action: dict[str, Any]) -> list[str]:
    p = []
    if action.get("type") not in ("create", "update", "delete"):
        p.append("action type not create|update|delete")
    if not action.get("description"):
        p.append("action without description (cds-resp-5)")
    if action.get("type") == "create":
        resource = action.get("resource")
        if not isinstance(resource, dict):
            p.append("create without resource")
        else:
            p += resource_problems(resource)
    if action.get("type") == "delete" and (not action.get("resourceId") or "resource" in action):
        p.append("delete needs resourceId and no resource (cds-resp-2)")
    return p


def resource_problems(resource: dict[str, Any]) -> list[str]:
    model = MODELS.get(resource.get("resourceType"))
    if model is None:
        return [f"unexpected resourceType {resource.get('resourceType')!r}"]
    try:
        model.model_validate(resource)
    except Exception as exc:
        return [f"{resource['resourceType']} does not validate with R4B: {str(exc)[:300]}"]
    p = []
    if resource.get("status") != "draft" or resource.get("intent") != "proposal":
        p.append("draft order must be status draft, intent proposal")
    if not resource.get("subject", {}).get("reference"):
        p.append("draft order without subject")
    if not resource.get("note"):
        p.append("draft order without a note citing the rule")
    return p
