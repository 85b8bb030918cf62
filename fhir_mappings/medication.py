"""MedicationRequest / MedicationStatement / MedicationAdministration -> exposures -> therapy lines,
active mTOR inhibitor, prior/progressed mTORi, active medications.

What is accepted (documented for the pathway):
* an *exposure* is one medication record; its drug is read from RxNorm codes (✅/☑ rows only, SCD/SBD/BN
  products map to their ingredient) or, failing that, from text (brand or generic name; else the first
  word of the text, lower case) — such exposures say "matched on text";
* sirolimus is oral or nab-sirolimus (FYARRO) by product where the product says so (FYARRO codes, Rapamune),
  otherwise by route (oral -> oral sirolimus, intravenous -> nab-sirolimus, the only IV sirolimus product);
* active = request active/on-hold, statement active/on-hold, administration in-progress, without an end date
  in the past; past = completed/stopped (or an end date before the reference date);
* ``prior_mtori`` is True when any mTORi exposure has ended, False when a statement says an mTOR inhibitor
  was *not taken* and none has ended, unknown otherwise;
* ``progressed_on_mtori`` is True when an mTORi exposure was stopped for a reason reading "progression",
  or an mCODE cancer-disease-status "worsened" (SNOMED 271299001) is dated within an mTORi exposure;
  otherwise unknown (never inferred False);
* a therapy line groups anticancer exposures that start on the same date, and later records of the same
  agents (cycles, dose changes) until another regimen starts; ``lines`` holds the lines that have ended
  (prior lines), the ongoing regimen is ``active_mtori`` / ``medications``;
* ``medications`` are the active medications other than the active mTOR inhibitor (which is
  ``therapy.active_mtori`` with its dose and start), in record order;
* ``date_last_dose_change`` (TDM, oral sirolimus only) is the start of the current oral-sirolimus record.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_mappings import fhir
from fhir_mappings import terminology as term
from fhir_mappings.context import TEXT_NOTE, Context, make_fact
from pathway.facts import Medication, MtoriAgent, TherapyLine

#: Systemic anticancer ingredients that make up therapy lines (the agents named in pathway-spec §3).
ANTICANCER = frozenset({
    "sirolimus", "temsirolimus", "everolimus", "doxorubicin", "ifosfamide", "epirubicin", "pazopanib",
    "gemcitabine", "docetaxel", "eribulin", "trabectedin", "pembrolizumab", "dacarbazine", "cyclophosphamide",
})
_ACTIVE = {
    "MedicationRequest": {"active", "on-hold"},
    "MedicationStatement": {"active", "on-hold"},
    "MedicationAdministration": {"in-progress", "on-hold"},
}
_PAST = {"completed", "stopped", "unknown"}
_NOT_TAKEN = {"not-taken", "not-done"}
_SKIP_INTENTS = {"proposal", "plan"}
_MG = {"mg", "milligram", "milligrams"}
_FIRST_WORD = re.compile(r"[A-Za-z][A-Za-z\-]+")
#: ingredient name -> ingredient RxCUI (rows whose display is the ingredient itself)
INGREDIENT_RXCUI = {c.key: c.code for c in term.concepts("medication") if c.usable and c.display == c.key}


@dataclass(frozen=True)
class Drug:
    ingredient: str
    form: str | None  # "nab" / "oral" when the product fixes it
    rxnorm: str | None
    on_text: bool


@dataclass(frozen=True)
class Exposure:
    ref: str
    resource_type: str
    drug: Drug
    text: str
    route: str | None
    dose_mg: float | None
    start: date | None
    stop: date | None
    state: str  # active / past / not-taken / draft
    stop_reason: str | None
    note: str | None

    @property
    def mtori(self) -> MtoriAgent | None:
        return mtori_agent(self.drug, self.route)

    @property
    def agent_label(self) -> str:
        return "nab-sirolimus" if self.mtori is MtoriAgent.NAB_SIROLIMUS else self.drug.ingredient


def mtori_agent(drug: Drug, route: str | None) -> MtoriAgent | None:
    if drug.ingredient == "temsirolimus":
        return MtoriAgent.TEMSIROLIMUS
    if drug.ingredient == "everolimus":
        return MtoriAgent.EVEROLIMUS
    if drug.ingredient != "sirolimus":
        return None
    form = drug.form or route
    if form in ("nab", "intravenous"):
        return MtoriAgent.NAB_SIROLIMUS
    if form == "oral":
        return MtoriAgent.ORAL_SIROLIMUS
    return None


def medication_concept(ctx: Context | None, resource: dict[str, Any]) -> Any:
    """medicationCodeableConcept, or the code of the referenced (or contained) Medication."""
    if "medicationCodeableConcept" in resource:
        return resource.get("medicationCodeableConcept")
    target = fhir.as_dict(resource.get("medicationReference"))
    value = target.get("reference")
    if isinstance(value, str) and value.startswith("#"):
        for contained in fhir.as_list(resource.get("contained")):
            if isinstance(contained, dict) and contained.get("id") == value[1:]:
                return _medication_code(contained)
    ref = fhir.ref_target(target)
    if ctx is not None and ref and ref in ctx.by_ref:
        return _medication_code(ctx.by_ref[ref])
    return {"text": target["display"]} if isinstance(target.get("display"), str) else None


def _medication_code(medication: dict[str, Any]) -> Any:
    concepts = [medication.get("code")]
    for ingredient in fhir.as_list(medication.get("ingredient")):
        concepts.append(fhir.as_dict(ingredient).get("itemCodeableConcept"))
    return [c for c in concepts if c]


def identify(concept: Any) -> Drug | None:
    """The drug of a medication concept: verified RxNorm codings (a product that fixes the form wins over
    its ingredient), else brand/generic names in the text, else the first word of the text."""
    found_all = [c for c in (term.lookup(x.get("system"), x.get("code"), "medication") for x in fhir.codings(concept)) if c]
    found = next((c for c in found_all if "+" in c.key), found_all[0] if found_all else None)
    if found is not None:
        ingredient, _, form = found.key.partition("+")
        return Drug(ingredient, form or _form_from_text(fhir.all_text(concept)), INGREDIENT_RXCUI.get(ingredient), False)
    text = fhir.all_text(concept)
    key = term.text_key(text, "medication_names")
    if key:
        ingredient, _, form = key.partition("+")
        if ingredient == "mtor_inhibitor_class":
            return Drug("mtor inhibitor", None, None, True)
        return Drug(ingredient, form or None, None, True)  # no RxNorm from text
    match = _FIRST_WORD.search(fhir.text_of(concept))
    return Drug(match.group().lower(), None, None, True) if match else None


def _form_from_text(text: str) -> str | None:
    key = term.text_key(text, "medication_names")
    return key.partition("+")[2] or None if key else None


def route_of(resource: dict[str, Any], concept: Any) -> str | None:
    dosages = fhir.as_list(resource.get("dosageInstruction")) + fhir.as_list(resource.get("dosage"))
    words = [fhir.all_text(fhir.as_dict(d).get("route")) for d in dosages]
    route = term.text_key(" | ".join(w for w in words if w), "route")
    if route is None:
        texts = [fhir.as_dict(d).get("text") for d in dosages]
        route = term.text_key(" | ".join([t for t in texts if isinstance(t, str)] + [fhir.all_text(concept)]), "route")
    return route


def dose_mg(resource: dict[str, Any]) -> float | None:
    for dosage in fhir.as_list(resource.get("dosageInstruction")) + fhir.as_list(resource.get("dosage")):
        dosage = fhir.as_dict(dosage)
        quantities = [fhir.as_dict(r).get("doseQuantity") for r in fhir.as_list(dosage.get("doseAndRate"))]
        quantities.append(dosage.get("dose"))
        for q in quantities:
            q = fhir.as_dict(q)
            unit = q.get("code") if isinstance(q.get("code"), str) else q.get("unit")
            value = fhir.number(q.get("value"))
            if value is not None and isinstance(unit, str) and unit.strip().lower() in _MG:
                return value
    return None


def period_of(resource: dict[str, Any]) -> tuple[date | None, date | None]:
    rtype = resource.get("resourceType")
    if rtype == "MedicationRequest":
        for dosage in fhir.as_list(resource.get("dosageInstruction")):
            bounds = fhir.as_dict(fhir.as_dict(fhir.as_dict(fhir.as_dict(dosage).get("timing")).get("repeat")).get("boundsPeriod"))
            if bounds:
                return fhir.parse_date(bounds.get("start")), fhir.parse_date(bounds.get("end"))
        validity = fhir.as_dict(fhir.as_dict(resource.get("dispenseRequest")).get("validityPeriod"))
        if validity:
            return fhir.parse_date(validity.get("start")), fhir.parse_date(validity.get("end"))
        return fhir.parse_date(resource.get("authoredOn")), None
    if "effectivePeriod" in resource:
        period = fhir.as_dict(resource.get("effectivePeriod"))
        return fhir.parse_date(period.get("start")), fhir.parse_date(period.get("end"))
    when = fhir.parse_date(resource.get("effectiveDateTime"))
    return when, (when if rtype == "MedicationAdministration" else None)


def _stop_reason(resource: dict[str, Any]) -> str | None:
    """Why it was stopped, from statusReason text: "progression" / "toxicity" / "completed"."""
    return term.text_key(fhir.all_text(resource.get("statusReason")), "stop_reason")


def exposure_of(ctx: Context | None, resource: dict[str, Any], today: date | None) -> Exposure | None:
    rtype = resource.get("resourceType")
    status = fhir.status_code(resource.get("status"))
    intent = resource.get("intent")
    if isinstance(intent, str) and intent in _SKIP_INTENTS:
        return None
    concept = medication_concept(ctx, resource)
    drug = identify(concept)
    if drug is None:
        return None
    start, stop = period_of(resource)
    if status == "draft":
        state = "draft"
    elif status in _NOT_TAKEN:
        state = "not-taken"
    elif status in _ACTIVE.get(rtype, set()):
        state = "past" if (stop is not None and today is not None and stop < today) else "active"
    elif status in _PAST:
        state = "past"
    else:
        return None
    return Exposure(
        ref=fhir.reference(resource) or f"{rtype}/?", resource_type=rtype, drug=drug,
        text=fhir.text_of(concept), route=route_of(resource, concept), dose_mg=dose_mg(resource),
        start=start, stop=stop, state=state, stop_reason=_stop_reason(resource),
        note=fhir.notes_text(resource) or None,
    )


def extract_medications(ctx: Context) -> None:
    in_record_order: list[Exposure] = []
    for rtype in ("MedicationRequest", "MedicationStatement", "MedicationAdministration"):
        for resource in ctx.resources(rtype):
            if fhir.is_excluded(resource):
                continue
            exposure = exposure_of(ctx, resource, ctx.today)
            if exposure is not None and exposure.state != "draft":
                in_record_order.append(exposure)
    order = {id(e): i for i, e in enumerate(in_record_order)}
    exposures = sorted(in_record_order, key=lambda e: (e.start or date.min, order[id(e)]))
    current = _mtori(ctx, exposures)
    ctx.facts.medications = tuple(
        as_medication(e) for e in in_record_order if e.state == "active" and e not in current
    )
    ctx.facts.therapy.lines = _lines(ctx, exposures)


def as_medication(exposure: Exposure, status: str = "active") -> Medication:
    return Medication(
        ingredient=exposure.drug.ingredient, rxnorm=exposure.drug.rxnorm, text=exposure.text or None,
        route=exposure.route or ({"nab": "intravenous", "oral": "oral"}.get(exposure.drug.form or "")),
        dose_mg=exposure.dose_mg, start=exposure.start, status=status, sources=(exposure.ref,), note=exposure.note,
    )


def _mtori(ctx: Context, exposures: list[Exposure]) -> list[Exposure]:
    """Therapy facts about mTOR inhibitors; returns the exposures that make up the active mTORi."""
    therapy = ctx.facts.therapy
    mtori = [e for e in exposures if e.drug.ingredient in ("sirolimus", "temsirolimus", "everolimus")]
    for e in mtori:
        if e.mtori is None and e.state != "not-taken":  # a "never taken" record needs no agent
            ctx.note("sirolimus record whose product and route do not say oral or nab-sirolimus: agent unknown")
    active = [e for e in mtori if e.state == "active" and e.mtori is not None]
    if len({e.mtori for e in active}) > 1:
        ctx.note("more than one active mTOR inhibitor in the record")
    same: list[Exposure] = []
    if active:
        current = active[-1]
        note = TEXT_NOTE if current.drug.on_text else None
        therapy.active_mtori = make_fact(current.mtori, sources=(current.ref,), when=current.start, note=note)
        if current.dose_mg is not None:
            therapy.current_dose_mg = make_fact(current.dose_mg, sources=(current.ref,), when=current.start, unit="mg")
        same = [e for e in active if e.mtori is current.mtori]
        starts = [e.start for e in same if e.start is not None]
        if starts:
            therapy.mtori_start = make_fact(min(starts), sources=tuple(e.ref for e in same), when=min(starts))
        if current.start is not None and current.mtori is MtoriAgent.ORAL_SIROLIMUS:
            # TDM input (R1/R2, oral sirolimus only): the start of the current dose record
            therapy.date_last_dose_change = make_fact(current.start, sources=(current.ref,), when=current.start)
        responses = [ctx.responses[e.ref] for e in same if e.ref in ctx.responses]
        if responses:
            when, response = max(responses, key=lambda r: r[0] or date.min)
            therapy.current_best_response = make_fact(response, sources=(current.ref,), when=when)
    ended = [e for e in mtori if e.state == "past"]
    not_taken = [e for e in exposures if e.state == "not-taken" and e.drug.ingredient in (
        "sirolimus", "temsirolimus", "everolimus", "mtor inhibitor")]
    if ended:
        therapy.prior_mtori = make_fact(True, sources=tuple(e.ref for e in ended), when=ended[0].start)
    elif not_taken:
        therapy.prior_mtori = make_fact(False, sources=tuple(e.ref for e in not_taken), note="recorded as not taken")
    progressed = [e for e in mtori if e.stop_reason == "progression"]
    if progressed:
        therapy.progressed_on_mtori = make_fact(True, sources=tuple(e.ref for e in progressed),
                                                when=progressed[-1].stop, note="stopped for progression")
        return same
    for when, status, ref in ctx.disease_status:
        if status != "worsened" or when is None:
            continue
        during = [e for e in mtori if e.state in ("active", "past") and e.start is not None and e.start <= when
                  and (e.stop is None or when <= e.stop)]
        if during:
            therapy.progressed_on_mtori = make_fact(True, sources=(ref,) + tuple(e.ref for e in during), when=when,
                                                    note="cancer disease status worsened while on an mTOR inhibitor")
            break
    return same


def _lines(ctx: Context, exposures: list[Exposure]) -> tuple[TherapyLine, ...]:
    groups: list[list[Exposure]] = []
    for e in exposures:
        if e.state not in ("active", "past") or e.drug.ingredient not in ANTICANCER:
            continue
        if groups:
            current = groups[-1]
            agents = {x.agent_label for x in current}
            same_start = e.start is not None and e.start == current[0].start
            if same_start or e.agent_label in agents:
                current.append(e)
                continue
        groups.append([e])
    lines = []
    for group in groups:
        if any(e.state == "active" for e in group):
            continue  # the ongoing regimen is read from active_mtori / medications, not as a prior line
        agents = tuple(dict.fromkeys(e.agent_label for e in group))
        starts = [e.start for e in group if e.start is not None]
        ongoing = False
        stops = [e.stop for e in group if e.stop is not None]
        last = max(group, key=lambda e: (e.stop or date.min))
        response = None
        for e in group:
            if e.ref in ctx.responses:
                response = ctx.responses[e.ref][1]
        lines.append(TherapyLine(
            agents=agents, start=min(starts) if starts else None,
            stop=None if ongoing or not stops else max(stops),
            best_response=response, reason_stopped=None if ongoing else last.stop_reason,
            sources=tuple(e.ref for e in group),
        ))
    return tuple(lines)


