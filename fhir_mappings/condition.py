"""Condition -> diagnosis, primary site, metastatic sites, tuberous sclerosis, symptoms, emergencies, toxicities.

One small predicate per question (after mcode-extraction-framework's conditionUtils):
``is_secondary``, ``diagnosis_of`` (entity from the mCODE histology extension, the code, or text).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_mappings import fhir, sites
from fhir_mappings import terminology as term
from fhir_mappings.context import TEXT_NOTE, Context, joined_note, make_fact, put_latest
from fhir_mappings.values import ctcae_grade
from pathway.facts import Entity, Haemorrhage, Provenance

HISTOLOGY_EXT = ("mcode-histology-morphology-behavior",)
PRIMARY_PROFILE = "mcode-primary-cancer-condition"
SECONDARY_PROFILE = "mcode-secondary-cancer-condition"
INACTIVE_CLINICAL = frozenset({"resolved", "inactive", "remission"})
UNCONFIRMED = frozenset({"provisional", "differential", "unconfirmed"})
_RANK = {
    Entity.PECOMA_MALIGNANT: 6, Entity.PECOMA_BENIGN: 5, Entity.PECOMA_NOS: 4,
    Entity.EPITHELIOID_ANGIOMYOLIPOMA: 3, Entity.ANGIOMYOLIPOMA: 2, Entity.LAM: 2, Entity.OTHER: 1,
}


@dataclass(frozen=True)
class DiagnosisReading:
    entity: Entity
    on_text: bool
    code_note: str | None = None


def _has_profile(resource: dict[str, Any], suffix: str) -> bool:
    return any(p.rstrip("/").split("|")[0].endswith(suffix) for p in fhir.profiles(resource))


def _histology_concepts(cond: dict[str, Any]) -> list[Any]:
    return [e.get("valueCodeableConcept") for e in fhir.extensions(cond, HISTOLOGY_EXT)]


def icd10_codes(cond: dict[str, Any]) -> list[str]:
    return fhir.has_code(cond.get("code"), "icd10cm")


def is_secondary(cond: dict[str, Any]) -> bool:
    """mCODE secondary profile or ICD-10-CM C77-C79; text ('metastasis') only when nothing is coded."""
    if _has_profile(cond, SECONDARY_PROFILE):
        return True
    if any(code.startswith(term.SECONDARY_ICD10_PREFIXES) for code in icd10_codes(cond)):
        return True
    if _has_profile(cond, PRIMARY_PROFILE) or diagnosis_of(cond, text=False):
        return False
    return bool(term.TEXT_RE["secondary_text"].search(fhir.all_text(cond.get("code"))))


def _entity_from_codes(concepts: list[Any]) -> tuple[Entity | None, bool]:
    """(entity, another ICD-O-3 malignant morphology seen)."""
    other_malignant = False
    for concept in concepts:
        found = fhir.code_of(concept, "diagnosis")
        if found is not None:
            return Entity(found.key), False
        for code in fhir.has_code(concept, "icdo3"):
            other_malignant = other_malignant or code.strip().endswith("/3")
    return None, other_malignant


def diagnosis_of(cond: dict[str, Any], *, text: bool = True) -> DiagnosisReading | None:
    """What the condition says the tumour is: codes first (histology extension, then code), text last."""
    histology = _histology_concepts(cond)
    entity, other_malignant = _entity_from_codes(histology + [cond.get("code")])
    if entity is None and text:
        words = " | ".join(fhir.all_text(c) for c in histology + [cond.get("code")])
        key = term.text_key(words, "diagnosis")
        if key:
            entity = Entity(key)
            if entity is Entity.PECOMA_NOS and _malignant_by_icd10(cond):
                return DiagnosisReading(Entity.PECOMA_MALIGNANT, True, "malignant from the ICD-10-CM C-chapter code")
            return DiagnosisReading(entity, True)
    if entity is not None:
        if entity is Entity.PECOMA_NOS and _malignant_by_icd10(cond):
            return DiagnosisReading(Entity.PECOMA_MALIGNANT, False, "malignant from the ICD-10-CM C-chapter code")
        if entity is Entity.PECOMA_NOS:  # a code without behaviour (NCIt C38150): the text may give it
            words = " | ".join(fhir.all_text(c) for c in histology + [cond.get("code")])
            key = term.text_key(words, "diagnosis")
            if key in ("pecoma_malignant", "pecoma_benign"):
                return DiagnosisReading(Entity(key), False, "behaviour (malignant/benign) matched on text")
        return DiagnosisReading(entity, False)
    if other_malignant or histology or _has_profile(cond, PRIMARY_PROFILE) or _malignant_by_icd10(cond):
        return DiagnosisReading(Entity.OTHER, False)
    if text and term.TEXT_RE["cancer_words"].search(fhir.all_text(cond.get("code"))):
        return DiagnosisReading(Entity.OTHER, True)
    return None


def _malignant_by_icd10(cond: dict[str, Any]) -> bool:
    return any(
        code.startswith(term.MALIGNANT_ICD10_PREFIX) and not code.startswith(term.SECONDARY_ICD10_PREFIXES)
        for code in icd10_codes(cond)
    )


def _site_text(cond: dict[str, Any]) -> tuple[str, str]:
    """(site as written, text used for grouping: bodySite text + ICD-10-CM site phrase)."""
    written = fhir.text_of(cond.get("bodySite"))
    site_key = fhir.code_of(cond.get("code"), "primary_site")
    coded = site_key.key if site_key else ""
    if not written and site_key:
        written = site_key.display
    return written, " ; ".join(p for p in (written, coded) if p)


def _recorded(cond: dict[str, Any]) -> date | None:
    return fhir.onset(cond) or fhir.parse_date(cond.get("recordedDate"))


def extract_conditions(ctx: Context) -> None:
    candidates: list[tuple[dict[str, Any], DiagnosisReading]] = []
    secondaries: list[dict[str, Any]] = []
    for cond in ctx.resources("Condition"):
        if fhir.is_excluded(cond):
            continue
        if is_secondary(cond):
            secondaries.append(cond)
            continue
        reading = diagnosis_of(cond)
        if reading is not None:
            candidates.append((cond, reading))
            continue
        _other_condition(ctx, cond)
    if candidates:
        _primary(ctx, candidates)
    _metastases(ctx, secondaries)


def _primary(ctx: Context, candidates: list[tuple[dict[str, Any], DiagnosisReading]]) -> None:
    def rank(item: tuple[dict[str, Any], DiagnosisReading]) -> tuple[int, int, date]:
        cond, reading = item
        return (_RANK[reading.entity], 0 if reading.on_text else 1, _recorded(cond) or date.min)

    cond, reading = max(candidates, key=rank)
    facts = ctx.facts
    ref = fhir.reference(cond)
    if ref:
        ctx.primary_refs.add(ref)
    when = _recorded(cond)
    note = joined_note(TEXT_NOTE if reading.on_text else None, reading.code_note)
    facts.diagnosis.entity = make_fact(reading.entity, cond, when=when, note=note)
    if reading.entity.is_pecoma:
        facts.pecoma_condition_ref = ref
    written = fhir.text_of(cond.get("code"))
    if written:
        facts.diagnosis.text = make_fact(written, cond, when=when)
    if term.TEXT_RE["expert_review"].search(" | ".join((written, fhir.notes_text(cond)))):
        facts.diagnosis.expert_review = make_fact(True, cond, when=when, note=TEXT_NOTE)
    site_written, site_words = _site_text(cond)
    if site_written:
        facts.site.primary_site = make_fact(site_written, cond, when=when)
        reading_site = sites.read_primary_site(site_words)
        if reading_site.site_group is not None:
            facts.site.site_group = make_fact(reading_site.site_group, cond, when=when)
        if len(reading_site.ajcc_candidates) == 1:
            facts.site.ajcc_site_group = make_fact(reading_site.ajcc_candidates[0], cond, when=when)
        elif len(reading_site.ajcc_candidates) > 1:
            facts.site.ajcc_site_group_candidates = reading_site.ajcc_candidates
    others = [c for c, r in candidates if c is not cond and r.entity.is_pecoma != reading.entity.is_pecoma]
    if others:
        ctx.note("several cancer diagnoses in the record: the PEComa-family one was used")


def _metastases(ctx: Context, secondaries: list[dict[str, Any]]) -> None:
    found: dict[str, Any] = {}
    first: tuple[date, dict[str, Any]] | None = None
    ordered = sorted(enumerate(secondaries), key=lambda item: (fhir.onset(item[1]) or date.max, item[0]))
    for _, cond in ordered:
        ref = fhir.reference(cond)
        if ref:
            ctx.secondary_refs.add(ref)
        concept = fhir.code_of(cond.get("code"), "secondary_site")
        on_text = concept is None
        label = concept.key if concept else sites.metastatic_site_label(
            " | ".join((fhir.text_of(cond.get("bodySite")), fhir.all_text(cond.get("code"))))
        )
        started = fhir.onset(cond)
        if started is not None and (first is None or started < first[0]):
            first = (started, cond)
        if label is None:
            ctx.note("a secondary cancer condition without a readable site")
            continue
        if label not in found:  # dated by onset, else by when it was recorded
            found[label] = make_fact(label, cond, when=started or fhir.parse_date(cond.get("recordedDate")),
                                     note=TEXT_NOTE if on_text else None)
    ctx.facts.extent.metastatic_sites = tuple(found.values())
    if first is not None:
        ctx.facts.extent.date_first_metastasis = make_fact(first[0], first[1], when=first[0])


def _other_condition(ctx: Context, cond: dict[str, Any]) -> None:
    """Non-cancer conditions: tuberous sclerosis, indeterminate nodules, symptoms, emergencies, toxicities."""
    text = " | ".join((fhir.all_text(cond.get("code")), fhir.notes_text(cond)))
    code_text = fhir.all_text(cond.get("code"))
    when = _recorded(cond)
    clinical = fhir.status_code(cond.get("clinicalStatus"))
    active = clinical not in INACTIVE_CLINICAL
    facts = ctx.facts
    tsc = fhir.code_of(cond.get("code"), "tuberous_sclerosis")
    if tsc is not None or term.TEXT_RE["tuberous_sclerosis"].search(code_text):
        put_latest(facts.diagnosis, "tuberous_sclerosis",
                   make_fact(True, cond, when=when, note=None if tsc else TEXT_NOTE))
        return
    verification = fhir.status_code(cond.get("verificationStatus"))
    if term.TEXT_RE["nodule_text"].search(code_text) and sites.metastatic_site_label(code_text) == "lung":
        if verification in UNCONFIRMED or "indeterminate" in text.lower():
            put_latest(facts.extent, "indeterminate_lung_nodules", make_fact(True, cond, when=when, note=TEXT_NOTE))
        return
    if not active:
        return
    clin = facts.clinical
    for key in term.text_keys(code_text, "symptoms"):
        put_latest(clin, key, make_fact(True, cond, when=when, note=TEXT_NOTE))
    for key in term.text_keys(code_text, "emergencies"):
        clin.emergencies[key] = make_fact(True, cond, when=when, note=TEXT_NOTE)
    haem = term.text_key(code_text, "haemorrhage")
    if haem:
        put_latest(clin, "haemorrhage", make_fact(Haemorrhage(haem), cond, when=when, note=TEXT_NOTE))
    grade_text = " | ".join((fhir.all_text(cond.get("severity")), text))
    grade = ctcae_grade(grade_text)
    if term.TEXT_RE["pneumonitis"].search(code_text) and grade is not None:
        put_latest(clin, "pneumonitis_grade", make_fact(grade, cond, when=when, note=TEXT_NOTE))
    if term.text_key(code_text, "observation") == "stomatitis_grade" and grade is not None:
        put_latest(clin, "stomatitis_grade", make_fact(grade, cond, when=when, note=TEXT_NOTE))
    for key in term.text_keys(code_text, "toxicities"):
        if grade is None:
            continue
        existing = clin.toxicity_grades.get(key)
        fact = make_fact(grade, cond, when=when, note=joined_note(TEXT_NOTE, "CTCAE grade as reported"),
                         provenance=Provenance.REPORTED)
        if existing is not None and existing.value != grade:
            # sources disagree: the grade is unknown (not silently resolved), both sources cited
            ctx.note(f"{key}: CTCAE grades differ between sources: grade unknown")
            fact = make_fact(None, sources=existing.sources + fact.sources, when=when,
                             note=f"CTCAE grades differ between sources: {existing.value or existing.note} vs {grade}")
        clin.toxicity_grades[key] = fact
