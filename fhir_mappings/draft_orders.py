"""read_draft_orders: the draftOrders Bundle of an order-select / order-sign request, read leniently.

The CDS Hooks Sandbox sends invalid R4 (e.g. ``category`` as an object, a draft MedicationRequest with
no medication): whatever can be read is read, and each problem is recorded in ``DraftOrder.defects``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from fhir_mappings import fhir
from fhir_mappings import terminology as term
from fhir_mappings.medication import as_medication, exposure_of, identify, medication_concept
from pathway.facts import DraftOrder

_MEDICATION_TYPES = frozenset({"MedicationRequest", "MedicationOrder", "MedicationStatement"})


def read_draft_orders(draft_orders: Any, selections: Any = None) -> tuple[DraftOrder, ...]:
    """DraftOrders from a Bundle (or a list of resources / entries). Never raises.

    ``selections`` (order-select's ``Type/id`` list): only those orders are ``selected``; without it every order is.
    """
    try:
        orders = tuple(o for o in (_read(i, r) for i, r in enumerate(_resources(draft_orders))) if o is not None)
        if isinstance(selections, list) and selections:
            chosen = {s for s in selections if isinstance(s, str)}
            orders = tuple(replace(o, selected=o.reference in chosen) for o in orders)
        return orders
    except Exception:  # noqa: BLE001 - last resort: an order hook must still be answered
        return ()


def _resources(container: Any) -> list[Any]:
    if isinstance(container, dict) and container.get("resourceType") == "Bundle":
        entries = fhir.as_list(container.get("entry"))
        return [e.get("resource") if isinstance(e, dict) and "resource" in e else e for e in entries]
    if isinstance(container, list):
        return [e.get("resource") if isinstance(e, dict) and "resource" in e else e for e in container]
    if isinstance(container, dict) and "resourceType" in container:
        return [container]
    return []


def _read(index: int, resource: Any) -> DraftOrder | None:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return None
    defects: list[str] = []
    rtype = resource["resourceType"]
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        defects.append("no id")
        rid = f"draft-{index}"
    reference = f"{rtype}/{rid}"
    category_value = resource.get("category")
    if category_value is not None and not isinstance(category_value, list):
        defects.append("category is not an array")
    words = " | ".join(
        t for t in (fhir.all_text(category_value), fhir.all_text(resource.get("code")),
                    fhir.all_text(resource.get("vaccineCode"))) if t
    )
    medication = None
    text = fhir.text_of(resource.get("code")) or None
    if rtype in _MEDICATION_TYPES:
        concept = medication_concept(None, resource)
        if concept is None:
            defects.append("no medication[x]")
        else:
            text = fhir.text_of(concept) or None
            words = " | ".join((words, fhir.all_text(concept)))
            exposure = exposure_of(None, {**resource, "status": "active", "intent": "order"}, None)
            if exposure is not None:
                medication = as_medication(exposure, status="draft")
            elif identify(concept) is None:
                defects.append("medication not readable")
    vaccine = rtype == "Immunization" or bool(term.TEXT_RE["vaccine"].search(words))
    if vaccine:
        category = "vaccine"
    elif rtype in _MEDICATION_TYPES:
        category = "medication"
    else:
        category = term.text_key(words, "order_category") or "other"
    if rtype == "Immunization":
        text = fhir.text_of(resource.get("vaccineCode")) or text
    live = vaccine and bool(term.TEXT_RE["live_vaccine"].search(words))
    return DraftOrder(
        reference=reference, resource_type=rtype, category=category, medication=medication,
        text=text, live_vaccine=live, defects=tuple(defects),
    )
