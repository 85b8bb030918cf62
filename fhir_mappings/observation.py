"""Observation -> pathology, IHC, molecular, staging, performance status, labs, status and clinical findings.

Each Observation is classified once (verified code first, then ``code.text``), then read by one
small handler per kind. Observations are visited oldest first, so the latest valid value wins
(``put_latest``) while labs and mitotic counts keep their history.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any, Callable

import orjson

from fhir_mappings import fhir, units, values
from fhir_mappings import terminology as term
from fhir_mappings.context import TEXT_NOTE, Context, joined_note, make_fact, put_latest
from pathway.facts import (
    LAB_UNITS, Entity, GeneStatus, LabResult, LabSeries, Margin, MarkerResult, MitoticCount,
    MitoticDenominator, PdL1, Provenance, TroughSample,
)

_DENOMINATORS = (
    (re.compile(r"50\s*\.?\s*\[?(hpf|high[- ]power)", re.I), MitoticDenominator.PER_50_HPF),
    (re.compile(r"10\s*\.?\s*\[?(hpf|high[- ]power)", re.I), MitoticDenominator.PER_10_HPF),
    (re.compile(r"mm2|mm\^2|mm²|square mm|mm\*2", re.I), MitoticDenominator.PER_MM2),
)
_CLONE_RE = re.compile(r"\b(22C3|28-8|SP142|SP263|73-10)\b", re.I)
_CUTOFF_RE = re.compile(r"cut-?off\s*[:=]?\s*([^;|]+)", re.I)
_INTERPRETATION = {"N": "normal", "L": "low", "LL": "low", "H": "high", "HH": "high", "A": "abnormal"}
_PATHOLOGY_WORDS = re.compile(r"patholog|gross|specimen|resect|excis|macroscop", re.I)
_IMAGING_WORDS = re.compile(r"\b(ct|mri|pet|imaging|radiolog|ultrasound|sonograph|tomograph|magnetic resonance|exam)", re.I)
_ASSAY = ((re.compile(r"lc-?ms|mass spectrom", re.I), "LC-MS/MS"), (re.compile(r"immunoassay|cmia|emit|elisa", re.I), "immunoassay"))
_PRE_DOSE = re.compile(r"pre-?dose|trough|before (the )?(morning )?dose", re.I)
_NOT_PRE_DOSE = re.compile(r"post-?dose|random|peak|not (a )?(pre-?dose|trough)", re.I)
_RESPONSE = (
    (re.compile(r"(?i:complete response)|\bCR\b"), "CR"),
    (re.compile(r"(?i:partial response)|\bPR\b"), "PR"),
    (re.compile(r"(?i:stable disease)|\bSD\b"), "SD"),
    (re.compile(r"(?i:progressive disease|progression)|\bPD\b"), "PD"),
)
_FINAL = frozenset({"final", "amended", "corrected", "preliminary", None})  # "registered" has no result yet


def kind_of(obs: dict[str, Any]) -> tuple[str | None, bool]:
    """(kind, matched on text) from a verified code, else from the code's text."""
    code = obs.get("code")
    try:
        return _kind_of_json(orjson.dumps(code))  # the same code JSON recurs throughout a record
    except TypeError:  # not JSON-serialisable (not from a parsed request): read it directly
        return _kind_of_concept(code)


@lru_cache(maxsize=4096)
def _kind_of_json(code_json: bytes) -> tuple[str | None, bool]:
    return _kind_of_concept(orjson.loads(code_json))


def _kind_of_concept(code: Any) -> tuple[str | None, bool]:
    codings = tuple(
        (c.get("system"), c.get("code"), c.get("display")) for c in fhir.codings(code)
        if isinstance(c.get("system"), (str, type(None))) and isinstance(c.get("code"), (str, type(None)))
        and isinstance(c.get("display"), (str, type(None)))
    )
    text = code.get("text") if isinstance(code, dict) and isinstance(code.get("text"), str) else None
    return _kind_of_code(codings, text)


@lru_cache(maxsize=4096)
def _kind_of_code(codings: tuple[tuple[str | None, str | None, str | None], ...], text: str | None) -> tuple[str | None, bool]:
    """Cached by the code's codings and text: an EHR sends the same few codes over and over."""
    for group, prefix in (("observation", ""), ("lab", "lab:")):
        for system, code, _display in codings:
            concept = term.lookup(system, code, group)
            if concept is not None:
                return prefix + concept.key, False
    words = " | ".join([text or ""] + [d for _s, _c, d in codings if d])
    return term.text_key(words, "observation"), True


def extract_observations(ctx: Context) -> None:
    """Classify by code first (a long record is mostly vitals and labs the pathway does not read), then keep
    the usable ones and read them oldest first, so that the latest result wins."""
    relevant = []
    for index, obs in enumerate(ctx.resources("Observation")):
        kind, on_text = kind_of(obs)
        if kind is None or kind.split(":")[0] not in _HANDLERS:
            continue
        if fhir.is_excluded(obs) or fhir.status_code(obs.get("status")) not in _FINAL:
            continue
        relevant.append((fhir.effective_date(obs) or date.min, index, obs, kind, on_text))
    relevant.sort(key=lambda item: item[:2])
    for _, _, obs, kind, on_text in relevant:
        try:
            _HANDLERS[kind.split(":")[0]](ctx, obs, kind, on_text)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            ctx.note(f"skipped an unreadable {kind} Observation")
    for key, series in list(ctx.facts.labs.items()):
        ctx.facts.labs[key] = LabSeries(tuple(sorted(series.results, key=lambda r: r.date or date.min)))


def _fact(obs: dict[str, Any], value: Any, on_text: bool, **kw: Any):
    return make_fact(value, obs, when=fhir.effective_date(obs), note=joined_note(TEXT_NOTE if on_text else None, kw.pop("note", None)), **kw)


# --- pathology ---------------------------------------------------------------------------
def _tumour_size(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    element = obs
    for component in fhir.as_list(obs.get("component")):
        concept = fhir.code_of(fhir.as_dict(component).get("code"), "observation")
        if concept is not None and concept.key == "tumour_size_longest":
            element = component
            break
    value, unit = values.quantity(element)
    if value is None:
        return
    cm = units.to_cm(value, unit)
    if cm is None:
        ctx.note(f"tumour size with unknown unit {unit!r}: not used")
        return
    source = _size_source(obs)
    if source is None:
        ctx.note("tumour size without a pathology/imaging source: not used")
        return
    put_latest(ctx.facts.pathology, f"size_{source}_cm", _fact(obs, round(cm, 1), on_text, unit="cm"))


def _size_source(obs: dict[str, Any]) -> str | None:
    """'pathology' (specimen, gross examination) or 'imaging' (CT/MRI/PET method, imaging category)."""
    if fhir.as_dict(obs.get("specimen")).get("reference"):
        return "pathology"
    method = obs.get("method")
    concept = fhir.code_of(method, "value")
    if concept is not None and concept.key == "imaging":
        return "imaging"
    words = " | ".join((fhir.all_text(method), fhir.all_text(obs.get("category")), fhir.all_text(obs.get("code"))))
    if _PATHOLOGY_WORDS.search(words):
        return "pathology"
    if _IMAGING_WORDS.search(words):
        return "imaging"
    return None


def _mitoses(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    count = values.read_number(obs)
    ratio = fhir.as_dict(obs.get("valueRatio"))
    words = [fhir.all_text(obs.get("code")), values.value_text(obs)]
    if ratio:
        count = fhir.number(fhir.as_dict(ratio.get("numerator")).get("value"))
        denominator = fhir.as_dict(ratio.get("denominator"))
        words.append(f"{denominator.get('value')} {denominator.get('unit') or denominator.get('code')}")
    q = fhir.as_dict(obs.get("valueQuantity"))
    words.extend(str(q.get(k)) for k in ("unit", "code") if q.get(k))
    text = " | ".join(w for w in words if w)
    denominator = next((d for pattern, d in _DENOMINATORS if pattern.search(text)), None)
    if count is None:
        return
    if denominator is None:
        ctx.note("mitotic count without an explicit denominator (per 50 HPF / 10 HPF / mm²): not used")
        return
    fact = _fact(obs, MitoticCount(count=count, denominator=denominator), on_text)
    ctx.facts.pathology.mitoses = ctx.facts.pathology.mitoses + (fact,)


def _bool_feature(attr: str, target: str = "pathology", reader: Callable[[dict[str, Any]], bool | None] = values.read_bool):
    def handler(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
        value = reader(obs)
        if value is not None:
            put_latest(getattr(ctx.facts, target), attr, _fact(obs, value, on_text))
    return handler


def _necrosis_percent(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    value = values.read_number(obs)
    if value is None:
        return
    put_latest(ctx.facts.pathology, "necrosis_percent", _fact(obs, value, on_text, unit="%"))
    put_latest(ctx.facts.pathology, "necrosis", _fact(obs, value > 0, on_text, note="from the necrosis percentage"))


def _fnclcc_grade(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    grade = values.grade(values.value_text(obs)) or values.read_int(obs)
    if grade in (1, 2, 3):
        put_latest(ctx.facts.pathology, "fnclcc_grade_reported", _fact(obs, grade, on_text))


def _histologic_grade(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    """mCODE histologic grade (NCIt C18000): read only when the method says FNCLCC."""
    if "fnclcc" in fhir.all_text(obs.get("method")).lower():
        _fnclcc_grade(ctx, obs, kind, on_text)


def _differentiation(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    score = values.read_int(obs)
    if score in (1, 2, 3):
        put_latest(ctx.facts.pathology, "fnclcc_differentiation_score", _fact(obs, score, on_text))


def _margin(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    found = values.margin(values.value_text(obs))
    if found:
        put_latest(ctx.facts.pathology, "margins", _fact(obs, Margin(f"margin {found}"), on_text))


def _histologic_behavior(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    """mCODE histologic behavior and type (LOINC 31206-6, ICD-O-3 value) sets or refines the entity."""
    concept = fhir.code_of(obs.get("valueCodeableConcept"), "diagnosis")
    if concept is None:
        return
    entity = Entity(concept.key)
    current = ctx.facts.diagnosis.entity.value
    if current is None or (current is Entity.PECOMA_NOS and entity.is_pecoma):
        ctx.facts.diagnosis.entity = _fact(obs, entity, False)


# --- IHC, molecular ---------------------------------------------------------------------------
def _ihc(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    marker = kind.split(":", 1)[1] if ":" in kind else None
    marker_on_text = False
    if marker is None:
        marker = term.text_key(fhir.all_text(obs.get("code")), "ihc_markers")
        marker_on_text = True
    if marker is None:
        ctx.note("an immunostain result without a readable marker name")
        return
    result = values.read_marker(obs)
    if result is None:
        return
    ctx.facts.ihc[marker] = _fact(obs, result, on_text or marker_on_text)
    if result in (MarkerResult.POSITIVE, MarkerResult.NEGATIVE):
        ctx.facts.ihc_in_record = True
    if marker == "pS6":
        ctx.facts.molecular.ps6 = _fact(obs, result, True)


def _pdl1(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    if kind == "pdl1_tps":
        return  # read as a component of the presence observation
    clone = kind.split(":", 1)[1] if ":" in kind else None
    words = " | ".join((fhir.all_text(obs.get("code")), fhir.all_text(obs.get("method")), fhir.notes_text(obs)))
    if clone is None:
        match = _CLONE_RE.search(words)
        clone = match.group(1).upper() if match else None
    if values.not_performed(obs):
        ctx.note("PD-L1 recorded as not tested: PD-L1 status unknown")
        return
    else:
        positive = values.read_bool(obs)
        status = None if positive is None else ("positive" if positive else "negative")
    score = None
    for component in fhir.as_list(obs.get("component")):
        component = fhir.as_dict(component)
        concept = fhir.code_of(component.get("code"), "observation")
        value, unit = values.quantity(component)
        if concept is not None and concept.key == "pdl1_tps" and value is not None:
            score = f"TPS {value:g}%"
        elif isinstance(component.get("valueString"), str):
            score = component["valueString"]
    cutoff = None
    match = _CUTOFF_RE.search(" | ".join([fhir.notes_text(obs)] + [
        r.get("text") for r in fhir.as_list(obs.get("referenceRange")) if isinstance(r, dict) and isinstance(r.get("text"), str)
    ]))
    if match:
        cutoff = match.group(1).strip()
    put_latest(ctx.facts.molecular, "pdl1", _fact(obs, PdL1(status=status, assay=clone, score=score, cutoff=cutoff), on_text))


def _tfe3_fish(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    status = values.read_gene_status(obs)
    if status is not None:
        put_latest(ctx.facts.molecular, "tfe3_fusion", _fact(obs, status, on_text, note="FISH"))


def _genes(obs: dict[str, Any]) -> tuple[list[str], bool]:
    """(gene symbols studied, whether any was matched on text only)."""
    genes: list[str] = []
    on_text = False
    for component in fhir.as_list(obs.get("component")):
        component = fhir.as_dict(component)
        concept = fhir.code_of(component.get("code"), "observation")
        if concept is None or concept.key != "gene_studied":
            continue
        value = component.get("valueCodeableConcept")
        gene = fhir.code_of(value, "gene")
        if gene is not None:
            genes.append(gene.key)
            continue
        value = fhir.as_dict(value)
        displays = [c.get("display") for c in fhir.codings(value) if isinstance(c.get("display"), str)]
        label = value.get("text") if isinstance(value.get("text"), str) else (displays[0] if displays else "")
        label = re.split(r"[\s;,(]", label.strip().upper())[0] if label.strip() else ""
        if label:
            genes.append(label)
            on_text = True
    return genes, on_text


def _is_fusion(obs: dict[str, Any]) -> bool:
    words = [fhir.all_text(obs.get("code")), values.value_text(obs)]
    for component in fhir.as_list(obs.get("component")):
        component = fhir.as_dict(component)
        concept = fhir.code_of(component.get("code"), "observation")
        value = component.get("valueCodeableConcept")
        if concept is not None and concept.key == "dna_change_type":
            found = fhir.code_of(value, "value")
            if found is not None and found.key == "fusion":
                return True
        words.append(fhir.all_text(value))
        if isinstance(component.get("valueString"), str):
            words.append(component["valueString"])
    return bool(re.search(r"fusion|rearrang|translocation|::", " | ".join(words), re.I))


def _genomic_variant(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    genes, genes_on_text = _genes(obs)
    status = values.read_gene_status(obs)
    if not genes or status is None:
        return
    on_text = on_text or genes_on_text
    molecular = ctx.facts.molecular
    if "TFE3" in genes and (_is_fusion(obs) or len(genes) > 1):  # a fusion, per terminology.md §1.4
        put_latest(molecular, "tfe3_fusion", _fact(obs, status, on_text))
        partners = [g for g in genes if g != "TFE3"]
        if partners and status is GeneStatus.ALTERED:
            put_latest(molecular, "tfe3_partner", _fact(obs, partners[0], genes_on_text))
    for gene, attr in (("TSC1", "tsc1"), ("TSC2", "tsc2")):
        if gene in genes:
            put_latest(molecular, attr, _fact(obs, status, on_text))


# --- staging, performance status ---------------------------------------------------------------
def _stage_value_text(obs: dict[str, Any]) -> tuple[str, bool]:
    concept = fhir.code_of(obs.get("valueCodeableConcept"), "value")
    if concept is not None and concept.key.startswith("stage:"):
        return concept.key.split(":", 1)[1], False
    ajcc = term.SYSTEM["ajcc"]
    for coding in fhir.codings(obs.get("valueCodeableConcept")):
        if term.canonical_system(coding.get("system")) == ajcc and isinstance(coding.get("code"), str):
            display = coding.get("display")
            return (display if isinstance(display, str) and display else coding["code"]), False
    return values.value_text(obs), True


def _staging_method(obs: dict[str, Any]) -> str | None:
    """The staging system (e.g. "AJCC 8th") from mcode-tnm-staging-method-vs, else the method text."""
    concept = fhir.code_of(obs.get("method"), "value")
    if concept is not None and concept.key.startswith("method:"):
        return concept.key.split(":", 1)[1]
    return fhir.text_of(obs.get("method")) or None


def _tnm(attr: str):
    def handler(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
        text, value_on_text = _stage_value_text(obs)
        category = values.tnm_category(text)
        if category and category[0] == attr.upper():
            written = values.value_text(obs)
            note = "; ".join(p for p in (written, _staging_method(obs)) if p) or None
            reported = Provenance.REPORTED if re.search(r"per authors?|as reported", written, re.I) else Provenance.DOCUMENTED
            put_latest(ctx.facts.extent, attr, _fact(obs, category, on_text or value_on_text, note=note, provenance=reported))
    return handler


def _tnm_group(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    text, value_on_text = _stage_value_text(obs)
    if text:
        put_latest(ctx.facts.extent, "reported_stage", _fact(
            obs, text, on_text or value_on_text, provenance=Provenance.REPORTED, note=_staging_method(obs)))


def _ecog(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    score = obs.get("valueInteger") if isinstance(obs.get("valueInteger"), int) else None
    concept = fhir.code_of(obs.get("valueCodeableConcept"), "value")
    if score is None and concept is not None and concept.key.startswith("ecog:"):
        score = int(concept.key.split(":")[1])
    if score is None:
        score = values.read_int(obs)
    if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 5:
        put_latest(ctx.facts.status, "ecog", _fact(obs, score, on_text))


def _disease_status(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    concept = fhir.code_of(obs.get("valueCodeableConcept"), "value")
    if concept is not None and concept.key.startswith("status:"):
        ctx.disease_status.append((fhir.effective_date(obs), concept.key.split(":")[1], fhir.reference(obs) or ""))


# --- labs ---------------------------------------------------------------------------------------
def _lab(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    key = kind.split(":", 1)[1]
    if key not in LAB_UNITS:
        return
    value, unit = values.quantity(obs)
    interpretation = None
    code = fhir.status_code(next(iter(fhir.as_list(obs.get("interpretation"))), None))
    if code:
        interpretation = _INTERPRETATION.get(code)
    canonical = LAB_UNITS[key]
    if value is None:
        if interpretation is None:
            if obs.get("valueQuantity") is not None or obs.get("valueString") is not None:
                ctx.note(f"{key}: value not numeric: not used")
            return
        converted = None  # only the lab's interpretation is recorded (e.g. "within reference range")
    elif units.is_uln_ratio(unit):
        converted, canonical = value, units.ULN_RATIO  # a value reported as a multiple of the ULN
    else:
        converted = units.to_lab_unit(key, value, unit)
        if converted is None:
            ctx.note(f"{key}: unknown unit {unit!r}: value not used")
            return
    low = high = None
    for rng in fhir.as_list(obs.get("referenceRange"))[:1]:
        rng = fhir.as_dict(rng)
        low = _range_bound(key, rng.get("low"), canonical)
        high = _range_bound(key, rng.get("high"), canonical)
    result = LabResult(
        value=round(converted, 6) if converted is not None else None, unit=canonical, date=fhir.effective_date(obs),
        reference_low=low, reference_high=high, interpretation=interpretation,
        sources=tuple(s for s in (fhir.reference(obs),) if s),
    )
    series = ctx.facts.labs.get(key, LabSeries())
    ctx.facts.labs[key] = LabSeries(series.results + (result,))
    if on_text:
        ctx.note(f"{key}: lab identified on text (no verified code)")
    if key == "sirolimus_trough":
        _trough(ctx, obs)


def _range_bound(key: str, quantity: Any, canonical: str) -> float | None:
    q = fhir.as_dict(quantity)
    value = fhir.number(q.get("value"))
    if value is None:
        return None
    unit = q.get("code") if isinstance(q.get("code"), str) else q.get("unit")
    if canonical == units.ULN_RATIO:
        return value if units.is_uln_ratio(unit) else None
    converted = units.to_lab_unit(key, value, unit)
    return round(converted, 6) if converted is not None else None


def _trough(ctx: Context, obs: dict[str, Any]) -> None:
    words = " | ".join((fhir.all_text(obs.get("method")), fhir.all_text(obs.get("code")), fhir.notes_text(obs)))
    assay = fhir.text_of(obs.get("method")) or next((name for pattern, name in _ASSAY if pattern.search(words)), None)
    pre_dose = None
    if _NOT_PRE_DOSE.search(words):
        pre_dose = False
    elif _PRE_DOSE.search(fhir.notes_text(obs) + " | " + fhir.text_of(obs.get("code"))):
        pre_dose = True
    ctx.facts.trough = TroughSample(assay=assay, pre_dose=pre_dose)


# --- status, extent, therapy context recorded as observations -------------------------------------
def _int_feature(target: str, attr: str, low: int, high: int):
    def handler(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
        value = values.read_int(obs)
        if value is not None and low <= value <= high:
            put_latest(getattr(ctx.facts, target), attr, _fact(obs, value, on_text))
    return handler


def _resectability(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    text = values.value_text(obs).lower()
    value = values.read_bool(obs) if "resectab" not in text else not re.search(r"\b(un|not |non-?)resectab", text)
    if value is not None:
        put_latest(ctx.facts.extent, "resectable_primary", _fact(obs, value, on_text, note="MDT-determined as recorded"))


def _local_recurrence(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    recurrence = values.read_bool(obs)
    if recurrence is not None:
        put_latest(ctx.facts.extent, "primary_controlled", _fact(obs, not recurrence, on_text, note="from a local-recurrence finding"))


def _best_response(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    text = values.value_text(obs)
    response = next((label for pattern, label in _RESPONSE if pattern.search(text)), None)
    if response is None:
        return
    targets = [fhir.ref_target(f) for f in fhir.as_list(obs.get("focus"))]
    targets = [t for t in targets if t and t.split("/")[0].startswith("Medication")]
    when = fhir.effective_date(obs)
    for target in targets:
        ctx.responses[target] = (when, response)
    if not targets:
        put_latest(ctx.facts.therapy, "current_best_response", _fact(obs, response, on_text, note=text))


def _menopausal(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    text = values.value_text(obs).strip().lower()
    if text:
        put_latest(ctx.facts.status, "menopausal_status", _fact(obs, text, on_text))


def _spo2(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    value, unit = values.quantity(obs)
    if value is not None and unit in ("%", None) and 0 <= value <= 100:
        put_latest(ctx.facts.clinical, "spo2_percent", _fact(obs, value, on_text, unit="%"))


def _adult(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    value = values.read_bool(obs)
    if value is not None:
        put_latest(ctx.facts.demographics, "adult_documented_by_source",
                   _fact(obs, value, on_text, note=fhir.notes_text(obs) or None))


def _mtori_available(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
    value = values.read_bool(obs)
    if value is not None:
        put_latest(ctx.facts.therapy, "mtori_available", _fact(obs, value, on_text, note=fhir.notes_text(obs) or None))


def _grade_feature(target: str, attr: str):
    def handler(ctx: Context, obs: dict[str, Any], kind: str, on_text: bool) -> None:
        grade = values.ctcae_grade(values.value_text(obs))
        if grade is None:
            grade = values.read_int(obs)
        if grade is not None and 0 <= grade <= 5:
            put_latest(getattr(ctx.facts, target), attr, _fact(obs, grade, on_text))
    return handler


_HANDLERS: dict[str, Callable[[Context, dict[str, Any], str, bool], None]] = {
    "tumour_size": _tumour_size,
    "mitoses": _mitoses,
    "necrosis": _bool_feature("necrosis"),
    "necrosis_percent": _necrosis_percent,
    "vascular_invasion": _bool_feature("vascular_invasion"),
    "lymphovascular_invasion": _bool_feature("lymphovascular_invasion"),
    "infiltrative_growth": _bool_feature("infiltrative_growth"),
    "high_nuclear_grade": _bool_feature("high_nuclear_grade", reader=values.read_high),
    "high_cellularity": _bool_feature("high_cellularity", reader=values.read_high),
    "nuclear_pleomorphism_only": _bool_feature("nuclear_pleomorphism_only"),
    "fnclcc_grade": _fnclcc_grade,
    "histologic_grade": _histologic_grade,
    "fnclcc_differentiation_score": _differentiation,
    "margin": _margin,
    "histologic_behavior": _histologic_behavior,
    "ihc": _ihc,
    "pdl1": _pdl1,
    "pdl1_tps": _pdl1,
    "tfe3_fish": _tfe3_fish,
    "genomic_variant": _genomic_variant,
    "tnm_group": _tnm_group,
    "tnm_t": _tnm("t"),
    "tnm_n": _tnm("n"),
    "tnm_m": _tnm("m"),
    "ecog": _ecog,
    "disease_status": _disease_status,
    "lab": _lab,
    "adult_documented": _adult,
    "resectability": _resectability,
    "excision_of_mets_feasible": _bool_feature("complete_excision_of_mets_feasible", "extent"),
    "local_recurrence": _local_recurrence,
    "n_lung_mets": _int_feature("extent", "n_lung_mets", 0, 1000),
    "extrapulmonary_disease": _bool_feature("extrapulmonary_disease", "extent"),
    "indeterminate_lung_nodules": _bool_feature("indeterminate_lung_nodules", "extent"),
    "mtori_available": _mtori_available,
    "best_response": _best_response,
    "pregnant": _bool_feature("pregnant", "status"),
    "breastfeeding": _bool_feature("breastfeeding", "status"),
    "childbearing_potential": _bool_feature("childbearing_potential", "status"),
    "menopausal_status": _menopausal,
    "grapefruit": _bool_feature("grapefruit", "clinical"),
    "spo2_percent": _spo2,
    "hypoxia": _bool_feature("hypoxia", "clinical"),
    "infection_excluded": _bool_feature("infection_excluded", "clinical"),
    "pneumonitis_grade": _grade_feature("clinical", "pneumonitis_grade"),
    "stomatitis_grade": _grade_feature("clinical", "stomatitis_grade"),
    "new_infiltrates": _bool_feature("new_infiltrates", "clinical", values.read_finding),
    "tuberous_sclerosis": _bool_feature("tuberous_sclerosis", "diagnosis"),
}
