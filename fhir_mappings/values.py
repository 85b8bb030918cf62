"""Reading Observation values leniently: booleans, marker results, integers, quantities, TNM categories."""
from __future__ import annotations

import re
from typing import Any

from fhir_mappings import fhir
from fhir_mappings import terminology as term
from pathway.facts import GeneStatus, MarkerResult

_NOT_PERFORMED = frozenset({"not-performed", "not-asked", "asked-declined"})
_INT_RE = re.compile(r"-?\d+")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
_TNM_RE = re.compile(r"(?<![A-Za-z])(?:[cpyra]{0,2})(T(?:[0-4X]|is)[a-d]?|N[0-3X][a-c]?|M[01X][a-c]?)(?![A-Za-z0-9])")
_GRADE_RE = re.compile(r"(?:\bG|grade\s*)([1-3X])\b", re.IGNORECASE)
_CTCAE_RE = re.compile(r"grade\s*([0-5])", re.IGNORECASE)
_MARGIN_RE = re.compile(r"\bR\s*([012])\b")


def value_text(obs: dict[str, Any]) -> str:
    """Everything an Observation says as its value, as text."""
    parts: list[str] = []
    if isinstance(obs.get("valueString"), str):
        parts.append(obs["valueString"])
    if "valueCodeableConcept" in obs:
        parts.append(fhir.all_text(obs.get("valueCodeableConcept")))
    if isinstance(obs.get("valueBoolean"), bool):
        parts.append("yes" if obs["valueBoolean"] else "no")
    return " | ".join(p for p in parts if p)


def not_performed(obs: dict[str, Any]) -> bool:
    """dataAbsentReason 'not-performed' or a value saying 'not tested'."""
    reason = fhir.status_code(obs.get("dataAbsentReason"))
    if reason in _NOT_PERFORMED:
        return True
    return bool(term.TEXT_RE["not_tested"].search(value_text(obs)))


def read_bool(obs: dict[str, Any]) -> bool | None:
    """True/False from valueBoolean, 'Present' (LA9633-4) or present/absent words; None when unreadable."""
    if isinstance(obs.get("valueBoolean"), bool):
        return obs["valueBoolean"]
    if not_performed(obs):
        return None
    concept = fhir.code_of(obs.get("valueCodeableConcept"), "value")
    if concept is not None and concept.key == "present":
        return True
    return text_bool(value_text(obs))


def text_bool(text: str) -> bool | None:
    """present/absent words; the first one written decides ("Present (no vascular invasion)" is present)."""
    if not text:
        return None
    absent = term.TEXT_RE["absent"].search(text)
    present = term.TEXT_RE["present"].search(text)
    if absent and (not present or absent.start() <= present.start()):
        return False
    return True if present else None


def read_finding(obs: dict[str, Any]) -> bool | None:
    """A radiological finding: yes/no, or a described opacity/infiltrate (present)."""
    result = read_bool(obs)
    if result is None and re.search(r"ground-?glass|infiltrat|opacit|consolidat", value_text(obs), re.I):
        return True
    return result


def read_high(obs: dict[str, Any]) -> bool | None:
    """For grade-like features ("high nuclear grade"): high -> True, low/moderate -> False."""
    text = value_text(obs)
    if term.TEXT_RE["low_words"].search(text):
        return False
    if term.TEXT_RE["high_words"].search(text):
        return True
    return read_bool(obs)


def read_marker(obs: dict[str, Any]) -> MarkerResult | None:
    if not_performed(obs):
        return MarkerResult.NOT_TESTED
    result = read_bool(obs)
    if result is None:
        return None
    return MarkerResult.POSITIVE if result else MarkerResult.NEGATIVE


def read_gene_status(obs: dict[str, Any]) -> GeneStatus | None:
    if not_performed(obs):
        return GeneStatus.NOT_TESTED
    result = read_bool(obs)
    if result is None:
        return None
    return GeneStatus.ALTERED if result else GeneStatus.NOT_ALTERED


def read_int(obs: dict[str, Any]) -> int | None:
    if isinstance(obs.get("valueInteger"), int) and not isinstance(obs.get("valueInteger"), bool):
        return obs["valueInteger"]
    quantity = fhir.number(fhir.as_dict(obs.get("valueQuantity")).get("value"))
    if quantity is not None and quantity == int(quantity):
        return int(quantity)
    match = _INT_RE.search(value_text(obs))
    return int(match.group()) if match else None


def read_number(obs: dict[str, Any]) -> float | None:
    quantity = fhir.number(fhir.as_dict(obs.get("valueQuantity")).get("value"))
    if quantity is not None:
        return quantity
    if isinstance(obs.get("valueInteger"), int) and not isinstance(obs.get("valueInteger"), bool):
        return float(obs["valueInteger"])
    match = _NUMBER_RE.search(value_text(obs))
    return float(match.group()) if match else None


def quantity(element: dict[str, Any]) -> tuple[float | None, str | None]:
    """(value, unit) of valueQuantity: the UCUM code if present, else the printed unit."""
    q = fhir.as_dict(element.get("valueQuantity"))
    unit = q.get("code") if isinstance(q.get("code"), str) else q.get("unit")
    return fhir.number(q.get("value")), unit if isinstance(unit, str) else None


def tnm_category(text: str) -> str | None:
    """'T3', 'N1', 'M0' ... from a code or text such as 'cT3', 'M0 (per authors)', 'AJCC cN3'."""
    match = _TNM_RE.search(text or "")
    return match.group(1) if match else None


def grade(text: str) -> int | None:
    """A 1-3 grade from 'G3', 'Grade 2' or a bare digit."""
    match = _GRADE_RE.search(text or "")
    if match and match.group(1) != "X":
        return int(match.group(1))
    stripped = (text or "").strip()
    return int(stripped) if stripped in ("1", "2", "3") else None


def ctcae_grade(text: str) -> int | None:
    match = _CTCAE_RE.search(text or "")
    return int(match.group(1)) if match else None


def margin(text: str) -> str | None:
    match = _MARGIN_RE.search(text or "")
    return f"R{match.group(1)}" if match else None
