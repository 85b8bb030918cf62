"""A recommendation's proposed orders -> CDS Hooks suggestions (create / delete actions).

- Alternatives (orders inside ``Option``s) -> ``selectionBehavior: at-most-one``; the pathway's
  preferred option is ``isRecommended`` (never more than one). Orders outside options that go
  with every alternative (e.g. baseline tests) are AND'd into each alternative, and offered once
  more on their own.
- Independent orders only -> ``selectionBehavior: any``.
- On order-select / order-sign, ``replaces_order`` adds a ``delete`` of that draft order
  (``resourceId``) in front of the ``create`` of each alternative.
- A recommendation pending R13 resolution offers no one-click orders.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pathway.decision import Evidence, ProposedOrder, Recommendation
from cards.orders import draft_resource, is_reference

ORDER_HOOKS = ("order-select", "order-sign")


@dataclass
class Offer:
    """What the card offers: suggestions, their selection behaviour, and orders that could not be offered."""

    suggestions: list[dict[str, Any]] = field(default_factory=list)
    selection_behavior: str | None = None
    not_offered: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Choice:
    label: str
    order: ProposedOrder
    recommended: bool
    evidence: tuple[Evidence, ...]


def _words(value: Any) -> str:
    return " ".join(str(value or "").split())


def _create(order: ProposedOrder, resource: dict[str, Any]) -> dict[str, Any]:
    kind = "medication order" if order.resource_type == "MedicationRequest" else "order"
    name = _words(order.text) or _words(order.codings[0].display if order.codings else "") or order.resource_type
    description = f"Add a draft {kind} for review before signing: {name}"
    dosage = _words(order.dosage_text)
    if dosage and order.resource_type == "MedicationRequest":
        description += f" ({dosage})"
    return {"type": "create", "description": description, "resource": resource}


def build_offer(
    rec: Recommendation, *, hook: str, patient_ref: str, condition_ref: str | None
) -> Offer:
    offer = Offer()
    if rec.pending_resolution:
        return offer

    def action(choice: _Choice) -> dict[str, Any] | None:
        resource = draft_resource(
            choice.order,
            patient_ref=patient_ref,
            condition_ref=condition_ref,
            rule_id=rec.rule_id,
            evidence=choice.evidence or tuple(rec.evidence or ()),
        )
        if resource is None:
            offer.not_offered.append(choice.label)
            return None
        return _create(choice.order, resource)

    alternatives = [
        _Choice(_words(o.label) or _words(o.order.text), o.order, bool(o.preferred or o.order.recommended),
                tuple(o.evidence or ()) or tuple(rec.evidence or ()))
        for o in (rec.options or ())
        if isinstance(o.order, ProposedOrder)
    ]
    independent = [
        _Choice(_words(o.text) or o.resource_type, o, bool(o.recommended), tuple(rec.evidence or ()))
        for o in (rec.orders or ())
        if isinstance(o, ProposedOrder)
    ]
    replaced = rec.replaces_order if hook in ORDER_HOOKS and is_reference(rec.replaces_order) else None

    if replaced:
        delete = {
            "type": "delete",
            "description": f"Remove the draft order {replaced} from this order session",
            "resourceId": replaced,
        }
        choices = alternatives or independent
        for choice in choices:
            create = action(choice)
            if create:
                # create before delete: a client that applies only the first action (the CDS Hooks Sandbox) shows
                # the replacement, and one that stops midway leaves both orders visible, never neither
                offer.suggestions.append(_suggestion(f"Replace the draft order with {choice.label}", [create, delete],
                                                     choice.recommended))
        if not offer.suggestions:
            offer.suggestions.append(_suggestion("Remove the draft order", [delete], False))
        offer.selection_behavior = "at-most-one"
    elif alternatives:
        shared = [(c, action(c)) for c in independent]
        shared_actions = [a for _, a in shared if a]
        shared_label = ", ".join(c.label for c, a in shared if a)
        for choice in alternatives:
            create = action(choice)
            if create:
                label = choice.label + (f" (with {shared_label})" if shared_label else "")
                offer.suggestions.append(_suggestion(label, [create, *shared_actions], choice.recommended))
        if shared_actions:
            offer.suggestions.append(_suggestion(f"{shared_label} only", shared_actions, False))
        offer.selection_behavior = "at-most-one"
    elif independent:
        for choice in independent:
            create = action(choice)
            if create:
                offer.suggestions.append(_suggestion(choice.label, [create], choice.recommended))
        offer.selection_behavior = "any"

    if offer.selection_behavior == "at-most-one":
        _keep_one_recommended(offer.suggestions)
    if not offer.suggestions:
        offer.selection_behavior = None
    return offer


def _suggestion(label: str, actions: list[dict[str, Any]], recommended: bool) -> dict[str, Any]:
    suggestion: dict[str, Any] = {"label": _words(label) or "Draft order", "uuid": str(uuid.uuid4())}
    if recommended:
        suggestion["isRecommended"] = True
    suggestion["actions"] = actions
    return suggestion


def _keep_one_recommended(suggestions: list[dict[str, Any]]) -> None:
    seen = False
    for suggestion in suggestions:
        if suggestion.get("isRecommended"):
            if seen:
                del suggestion["isRecommended"]
            seen = True
