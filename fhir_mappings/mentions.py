"""Emergencies mentioned only in free text (spec §4 R12: text matching on problem list, imaging reports and notes).

R12's critical card rests on the problem list (a Condition's code text: ``condition._other_condition``). A mention
in a note or a report's text says nothing about *when* or *whether still*: no sourced recency rule exists and a
sentence may negate it ("no cord compression"). So a mention never raises R12 here: each non-negated one becomes a
data-quality note shown with the assessment, asking the clinician to verify and record it on the problem list.
"""
from __future__ import annotations

import re
from typing import Any

from fhir_mappings import fhir
from fhir_mappings import terminology as term
from fhir_mappings.context import Context

_SENTENCES = re.compile(r"[.;\n|]+")
_WORDS = {"spinal_cord_compression": "cord compression", "airway_compromise": "airway compromise",
          "svc_syndrome": "SVC syndrome", "hypercalcaemia": "hypercalcaemia"}


def extract_mentions(ctx: Context) -> None:
    recorded = {k for k, f in ctx.facts.clinical.emergencies.items() if f.value}
    for rtype in ("Condition", "Observation"):
        for resource in ctx.resources(rtype):
            text = _free_text(resource)
            found = [k for k in _mentioned(text) if k not in recorded] if text else ()
            if not found or fhir.is_excluded(resource):
                continue
            when = fhir.effective_date(resource) if rtype == "Observation" else fhir.onset(resource)
            for key in found:
                ctx.note(f"{fhir.reference(resource) or rtype} ({when.isoformat() if when else 'undated'}) mentions "
                         f"{_WORDS.get(key, key)} in free text: verify; R12 acts only on a problem-list entry")


def _free_text(resource: dict[str, Any]) -> str:
    """Notes and narrative values, not the coded concept (a Condition's code text is read by the condition mapper)."""
    value = resource.get("valueString")
    if "note" not in resource and not isinstance(value, str):
        return ""  # most of a long record: nothing to read
    parts = [fhir.notes_text(resource), value if isinstance(value, str) else ""]
    return " | ".join(p for p in parts if p)


def _mentioned(text: str) -> tuple[str, ...]:
    keys: list[str] = []
    for sentence in _SENTENCES.split(text):
        if term.TEXT_RE["emergency_negation"].search(sentence):
            continue  # "no cord compression", "cord compression excluded", "?SVC syndrome"
        keys += [k for k in term.text_keys(sentence, "emergencies") if k not in keys]
    return tuple(keys)
