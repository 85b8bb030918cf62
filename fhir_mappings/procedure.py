"""Procedure and Specimen -> resection of the primary (date, margins), specimen type.

A resection is a cancer-related surgical procedure (mCODE profile, SNOMED 370612006, or a text such
as 'resection', 'excision', '-ectomy'). It counts as the resection of the *primary* unless its
reason points at a secondary cancer condition or its text says metastasectomy. The latest dated
resection of the primary wins. Specimen type comes only from Specimen resources (type / collection
method), never from procedures: a prior operation does not say what the diagnosis was made on.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from fhir_mappings import fhir, values
from fhir_mappings import terminology as term
from fhir_mappings.context import TEXT_NOTE, Context, make_fact, put_latest
from pathway.facts import Margin, SpecimenType

SURGICAL_PROFILE = "mcode-cancer-related-surgical-procedure"
_DONE = frozenset({"completed", "in-progress", None})
_PLANNED = frozenset({"preparation"})
_METASTASECTOMY = re.compile(r"metastasectomy|metastas[ie]s", re.I)


def _is_resection(proc: dict[str, Any]) -> tuple[bool, bool]:
    """(is a resection, matched on text)."""
    concept = fhir.code_of(proc.get("code"), "procedure")
    if concept is not None and concept.key == "radiotherapy":
        return False, False
    text = fhir.all_text(proc.get("code"))
    if concept is not None and concept.key == "resection":
        return True, False
    if term.TEXT_RE["resection_procedure"].search(text) and not re.search(r"biopsy", text, re.I):
        return True, True
    return False, False


def _of_primary(ctx: Context, proc: dict[str, Any]) -> bool:
    reasons = {fhir.ref_target(r) for r in fhir.as_list(proc.get("reasonReference"))}
    if reasons & ctx.secondary_refs:
        return False
    if _METASTASECTOMY.search(fhir.all_text(proc.get("code"))):
        return False
    return True


def extract_procedures(ctx: Context) -> None:
    best: tuple[date, dict[str, Any], bool] | None = None
    for proc in ctx.resources("Procedure"):
        if fhir.is_excluded(proc):
            continue
        status = fhir.status_code(proc.get("status"))
        resection, on_text = _is_resection(proc)
        if not resection:
            continue
        start, _end = fhir.performed(proc)
        if status in _PLANNED:
            if start is not None and start >= ctx.today:
                put_latest(ctx.facts.extent, "planned_surgery_date", make_fact(start, proc, when=start))
            continue
        if status not in _DONE or not _of_primary(ctx, proc):
            continue
        if start is not None and (best is None or start >= best[0]):
            best = (start, proc, on_text)
        found = values.margin(fhir.all_text(proc.get("outcome")))
        if found:
            put_latest(ctx.facts.pathology, "margins", make_fact(Margin(f"margin {found}"), proc, when=start, note=TEXT_NOTE))
    if best is not None:
        when, proc, on_text = best
        ctx.facts.extent.date_resection = make_fact(when, proc, when=when, note=TEXT_NOTE if on_text else None)


def extract_specimens(ctx: Context) -> None:
    for specimen in ctx.resources("Specimen"):
        if fhir.is_excluded(specimen) or fhir.status_code(specimen.get("status")) == "unsatisfactory":
            continue
        collection = fhir.as_dict(specimen.get("collection"))
        words = " | ".join((fhir.all_text(collection.get("method")), fhir.all_text(specimen.get("type"))))
        key = term.text_key(words, "specimen")
        if key is None:
            continue
        when = fhir.parse_date(collection.get("collectedDateTime")) or fhir.parse_date(
            fhir.as_dict(collection.get("collectedPeriod")).get("start"))
        put_latest(ctx.facts.diagnosis, "specimen_type", make_fact(SpecimenType(key), specimen, when=when, note=TEXT_NOTE))
