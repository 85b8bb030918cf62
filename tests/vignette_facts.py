"""Development vignettes -> typed ``PatientFacts`` (explicit, deterministic, no guesses).

``load_vignettes()`` reads ``../shared/clinical/vignettes-dev.json`` (element 0, the schema
note, is skipped) and ``vignette_to_facts(v)`` turns one vignette's semi-structured ``facts``
into :class:`pathway.facts.PatientFacts` through a per-key table of small parsers
(``_PARSERS``). Keys consciously not mapped are listed in ``_IGNORED`` with the reason;
an unexpected key raises ``KeyError`` so a new vignette key is never silently dropped.

Conventions a FHIR fixture must follow to extract to the same ``summary()`` (for H3):

* Unknown stays unknown: ``null``, "not reported", "unknown (...)", "not documented (...)"
  become ``Fact(None)`` (the verbatim text kept in ``note``). "not tested" is
  ``MarkerResult.NOT_TESTED`` / ``GeneStatus.NOT_TESTED``; "wild-type" is ``NOT_ALTERED``.
* yes/no strings ("yes (positive serum hCG ...)") become ``True``/``False``; the text after
  the yes/no is kept in ``note``.
* Lab values relative to the ULN (``lfts`` and the S002 "within reference range" text):
  ``"<= ULN"`` or "within reference range" -> ``LabResult(value=None, interpretation="normal")``
  in the key's canonical unit (no number invented). ``"1.3 x ULN"`` -> ``LabResult(value=1.3,
  unit="x ULN", reference_high=1.0, interpretation="high")``: the value *is* the ratio to the
  ULN (so ``ratio_to_uln == 1.3``); the unit "x ULN" marks it as such. A FHIR Observation that
  carries a real value and the lab's ULN gives the same ``ratio_to_uln`` in ``summary()``
  but a different value/unit; fixtures for V46 should therefore use value 1.3, unit "x ULN"
  and referenceRange.high 1.0, or compare ``ratio_to_uln`` only.
* Platelets "563000 per uL" -> 563 x10^9/L (exact unit change, LAB_UNITS).
  Hb without a reference range -> no LLN (``reference_low=None``).
* ``size_cm`` is mapped through ``size_source``: "pathology" -> pathology size;
  "imaging ..." -> imaging size; explicit ``size_pathology_cm`` / ``size_imaging_cm`` win.
  A ``size_cm`` without any source (V26, V27: both out of scope) is NOT mapped: whether it
  is a pathology or an imaging size is unknown.
* ``disease_extent`` "metastatic" -> ``extent.m = "M1"`` (note = the text) only when no ``M``
  key exists; "unresectable" in it -> ``resectable_primary = False``; "nodules indeterminate"
  -> ``indeterminate_lung_nodules = True``. ``metastatic_sites`` are kept as listed (the core,
  not this adapter, reads them as M1 evidence).
* ``M``/``N`` strings keep the category only ("M0 (per authors)" -> "M0", provenance REPORTED
  when the text says "per authors"). ``fnclcc_grade`` "G3 (reported)" -> 3.
* ``current_drug`` sirolimus + route oral -> ``MtoriAgent.ORAL_SIROLIMUS``; temsirolimus ->
  ``TEMSIROLIMUS``. ``meds`` strings -> ``Medication(ingredient=<first word, lower case>,
  text=<verbatim>, note=<parenthesis>, start=<"started YYYY-MM-DD">)``; no RxNorm code is
  guessed. An oral-sirolimus entry in ``meds`` duplicates the active mTORi and is kept.
* V14's hyperglycaemia grade "2 (text) vs 3/4 (Table III)" is a source discrepancy: grade
  unknown (``Fact(None)`` with the text in ``note``) plus a ``data_quality`` note.
"""
from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from pathway.facts import (
    AjccSiteGroup,
    Clinical,
    Demographics,
    Diagnosis,
    Entity,
    Extent,
    Fact,
    GeneStatus,
    LabResult,
    LabSeries,
    LAB_UNITS,
    Margin,
    MarkerResult,
    Medication,
    MitoticCount,
    MitoticDenominator,
    Molecular,
    MtoriAgent,
    Pathology,
    PatientFacts,
    PdL1,
    Provenance,
    Sex,
    Site,
    SiteGroup,
    SpecimenType,
    Status,
    TherapyLine,
    Therapy,
    TroughSample,
)

VIGNETTES_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "clinical" / "vignettes-dev.json"


def load_vignettes() -> list[dict]:
    """Every vignette (elements with an ``id``), in file order."""
    return [dict(v) for v in _load_raw() if "id" in v]


@lru_cache(maxsize=1)
def _load_raw() -> tuple:
    return tuple(json.loads(VIGNETTES_PATH.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- small parsers

def _note(text: Any) -> str | None:
    """The parenthesised or trailing explanation of a string value, verbatim."""
    if not isinstance(text, str):
        return None
    match = re.search(r"\((.*)\)\s*$", text)
    return match.group(1) if match else None


def _yes_no(value: Any) -> Fact[bool]:
    """true/false/"yes (...)"/"no (...)"; anything else (null, "unknown", "not documented") = unknown."""
    if isinstance(value, bool):
        return Fact(value)
    if isinstance(value, str):
        word = value.strip().split(" ", 1)[0].lower().rstrip(",;")
        if word == "yes":
            return Fact(True, note=_note(value) or None)
        if word == "no":
            return Fact(False, note=_note(value) or None)
        return Fact(None, note=value)
    return Fact(None)


def _date(value: Any) -> Fact[date]:
    return Fact(date.fromisoformat(value)) if value else Fact(None)


def _number(value: Any, unit: str | None = None) -> Fact:
    return Fact(value, unit=unit) if isinstance(value, (int, float)) and not isinstance(value, bool) else Fact(None)


def _entity(text: str) -> Entity:
    low = text.lower()
    if "pecoma" in low or "perivascular epithelioid" in low:
        return Entity.PECOMA_MALIGNANT if "malignant pecoma" in low else Entity.PECOMA_NOS
    if "epithelioid angiomyolipoma" in low:
        return Entity.EPITHELIOID_ANGIOMYOLIPOMA
    if "angiomyolipoma" in low:
        return Entity.ANGIOMYOLIPOMA
    if "lymphangioleiomyomatosis" in low or re.search(r"\bLAM\b", text):
        return Entity.LAM
    return Entity.OTHER


_SPECIMENS = (("core", SpecimenType.CORE_BIOPSY), ("incisional", SpecimenType.INCISIONAL_BIOPSY),
              ("resection", SpecimenType.RESECTION), ("excision", SpecimenType.RESECTION))


def _specimen(text: str) -> Fact[SpecimenType]:
    low = text.lower()
    for word, kind in _SPECIMENS:
        if low.startswith(word):
            return Fact(kind, note=text)
    return Fact(None, note=text)


def _ajcc_group(text: str) -> AjccSiteGroup | None:
    token = text.split(" ", 1)[0]
    if token == "unknown":
        return None
    if token == "bone":  # "bone primary (Table II: outside the STS tables)"
        return AjccSiteGroup.OUTSIDE_STS_TABLES
    return AjccSiteGroup(token)


def _marker(value: str) -> Fact[MarkerResult]:
    low = value.lower()
    if low.startswith("pos"):
        return Fact(MarkerResult.POSITIVE, note=value if value != "pos" else None)
    if low.startswith("neg"):
        return Fact(MarkerResult.NEGATIVE)
    if low.startswith("not tested"):
        return Fact(MarkerResult.NOT_TESTED)
    return Fact(None, note=value)  # "not reported"


def _gene(value: Any) -> Fact[GeneStatus]:
    if value is None:
        return Fact(None)
    low = value.lower()
    if low.startswith("not tested"):
        return Fact(GeneStatus.NOT_TESTED)
    if low.startswith("wild-type") or low.startswith("no "):
        return Fact(GeneStatus.NOT_ALTERED, note=value)
    return Fact(GeneStatus.ALTERED, note=value)


def _category(value: str, prefix: str) -> Fact[str]:
    match = re.match(rf"({prefix}\d[a-c]?)", value)
    provenance = Provenance.REPORTED if "per authors" in value else Provenance.DOCUMENTED
    return Fact(match.group(1) if match else None, provenance=provenance, note=value if value != (match and match.group(1)) else None)


def _grade(value: Any) -> Fact[int]:
    if not value:
        return Fact(None)
    match = re.match(r"G([123])", value)
    provenance = Provenance.REPORTED if "per authors" in value else Provenance.DOCUMENTED
    return Fact(int(match.group(1)) if match else None, provenance=provenance, note=value)


def _uln_lab(key: str, text: str) -> LabResult:
    """"<= ULN"/"within reference range" -> normal without a number; "1.3 x ULN" -> ratio (docstring)."""
    ratio = re.match(r"\s*([\d.]+)\s*x\s*ULN", text)
    if ratio:
        return LabResult(value=float(ratio.group(1)), unit="x ULN", reference_high=1.0, interpretation="high")
    if "<= ULN" in text or "within reference range" in text:
        return LabResult(value=None, unit=LAB_UNITS[key], interpretation="normal")
    raise ValueError(f"unreadable ULN-relative value {text!r}")


_LFT_KEYS = {"total_bilirubin": "total_bilirubin", "bilirubin": "total_bilirubin", "AST": "ast"}


def _medication(text: str) -> Medication:
    started = re.search(r"started (\d{4}-\d{2}-\d{2})", text)
    dose = re.search(r"(\d+(?:\.\d+)?) mg", text)
    return Medication(
        ingredient=text.split(" ", 1)[0].lower(),
        text=text,
        start=date.fromisoformat(started.group(1)) if started else None,
        dose_mg=float(dose.group(1)) if dose else None,
        note=_note(text),
    )


#: combination regimens written with a hyphen -> their agents ("nab-sirolimus" is one agent)
_REGIMENS = {"gemcitabine-docetaxel": ("gemcitabine", "docetaxel")}
_RESPONSES = {"partial response": "PR", "complete response": "CR", "stable disease": "SD", "progressive disease": "PD"}


def _response(text: str) -> Fact[str]:
    for words, code in _RESPONSES.items():
        if text.lower().startswith(words):
            return Fact(code, note=text if text.lower() != words else None)
    return Fact(None, note=text)


# ---------------------------------------------------------------- the builder

class _Builder:
    """Collects the groups of PatientFacts while the per-key parsers run."""

    def __init__(self, facts: dict[str, Any]):
        self.raw = facts
        self.demographics: dict[str, Any] = {}
        self.diagnosis: dict[str, Any] = {}
        self.site: dict[str, Any] = {}
        self.pathology: dict[str, Any] = {}
        self.molecular: dict[str, Any] = {}
        self.extent: dict[str, Any] = {}
        self.therapy: dict[str, Any] = {}
        self.status: dict[str, Any] = {}
        self.clinical: dict[str, Any] = {"toxicity_grades": {}, "emergencies": {}}
        self.ihc: dict[str, Fact[MarkerResult]] = {}
        self.ihc_in_record = False
        self.labs: dict[str, LabSeries] = {}
        self.trough: dict[str, Any] = {}
        self.medications: list[Medication] = []
        self.data_quality: list[str] = []

    def lab(self, key: str, result: LabResult) -> None:
        self.labs[key] = LabSeries((result,))


def _p_age(b, v):
    b.demographics["age_years"] = Fact(v, unit="a", note=b.raw.get("age_note")) if v is not None else Fact(None, note=b.raw.get("age_note"))


def _p_adult(b, v):
    b.demographics["adult_documented_by_source"] = _yes_no(v)


def _p_sex(b, v):
    prov_text = str(b.raw.get("sex_provenance", ""))
    provenance = Provenance.INFERRED if prov_text.startswith("inferred") else Provenance.DOCUMENTED
    if v is None or prov_text.startswith("unknown"):
        b.demographics["sex"] = Fact(None, note=b.raw.get("sex_note"))
        return
    b.demographics["sex"] = Fact({"F": Sex.FEMALE, "M": Sex.MALE}[v], provenance=provenance,
                                 note=b.raw.get("sex_note") or (prov_text or None))


def _p_diagnosis(b, v):
    source = b.raw.get("diagnosis_source")
    sources = (source,) if source else ()
    b.diagnosis["entity"] = Fact(_entity(v), sources=sources)
    b.diagnosis["text"] = Fact(v, sources=sources)
    if "central review" in v.lower():
        b.diagnosis["expert_review"] = Fact(True, sources=sources, note=v)


def _p_specimen(b, v):
    b.diagnosis["specimen_type"] = _specimen(v)


def _p_ts(b, v):
    b.diagnosis["tuberous_sclerosis"] = _yes_no(v)


def _p_primary_site(b, v):
    b.site["primary_site"] = Fact(v)


def _p_site_group(b, v):
    b.site["site_group"] = Fact(SiteGroup(v))


def _p_ajcc_group(b, v):
    b.site["ajcc_site_group"] = Fact(_ajcc_group(v))


def _p_ajcc_candidates(b, v):
    b.site["ajcc_site_group_candidates"] = tuple(g for g in (_ajcc_group(c) for c in v) if g is not None)


def _p_size(b, v):
    if v is None:
        return
    source = str(b.raw.get("size_source", ""))
    if source.startswith("pathology") and "size_pathology_cm" not in b.raw:
        b.pathology["size_pathology_cm"] = Fact(float(v), unit="cm", note=source)
    elif source.startswith("imaging") and "size_imaging_cm" not in b.raw:
        b.pathology["size_imaging_cm"] = Fact(float(v), unit="cm", note=source)
    # no source: not mapped (module docstring)


def _p_size_pathology(b, v):
    if v is not None:
        b.pathology["size_pathology_cm"] = Fact(float(v), unit="cm", note=b.raw.get("size_source"))


def _p_size_imaging(b, v):
    if v is not None:
        b.pathology["size_imaging_cm"] = Fact(float(v), unit="cm",
                                              note=b.raw.get("size_imaging_source") or b.raw.get("size_source"))


def _p_mitoses(b, v):
    denominator = b.raw.get("mitoses_denominator")
    if v is None or denominator is None:
        return
    kind = {"per_50_HPF": MitoticDenominator.PER_50_HPF, "per_10_HPF": MitoticDenominator.PER_10_HPF,
            "per_mm2": MitoticDenominator.PER_MM2}[denominator]
    b.pathology["mitoses"] = (Fact(MitoticCount(count=v, denominator=kind)),)


def _bool_into(group: str, field_name: str) -> Callable:
    def parse(b, v):
        getattr(b, group)[field_name] = _yes_no(v)
    return parse


def _p_necrosis_percent(b, v):
    b.pathology["necrosis_percent"] = _number(v, "%")


def _p_fnclcc_grade(b, v):
    b.pathology["fnclcc_grade_reported"] = _grade(v)


def _p_fnclcc_diff(b, v):
    source = b.raw.get("fnclcc_differentiation_source")
    b.pathology["fnclcc_differentiation_score"] = Fact(v, note=source) if v is not None else Fact(None)


def _p_margins(b, v):
    b.pathology["margins"] = Fact(Margin(v))


def _p_primary_class(b, v):
    # "malignant (WHO-gyn), margin R0 resection": the class itself is a reported class (the core
    # computes classes from features only); the margin is a fact.
    match = re.search(r"margin R[012]", v)
    if match and "margins" not in b.raw:
        b.pathology["margins"] = Fact(Margin(match.group(0)), note=v)


def _p_ihc(b, v):
    if not isinstance(v, dict):  # "not reported (S003 gives no IHC per patient)"
        return
    b.ihc_in_record = True
    source = b.raw.get("ihc_source")
    for marker, result in v.items():
        fact = _marker(result)
        b.ihc[marker] = Fact(fact.value, sources=(source,) if source else (), note=fact.note)


def _p_ihc_cathepsin(b, v):
    b.ihc_in_record = True
    b.ihc.setdefault("cathepsinK", _marker(v))


def _gene_into(field_name: str) -> Callable:
    def parse(b, v):
        b.molecular[field_name] = _gene(v)
        if field_name == "tfe3_fusion" and isinstance(v, str) and "::" in v:
            partners = [p for p in re.split(r"::|\s", v) if p and p != "TFE3" and not p.startswith("(")]
            b.molecular["tfe3_partner"] = Fact(partners[0]) if partners else Fact(None)
    return parse


def _p_pdl1(b, v):
    if not isinstance(v, dict):
        b.molecular["pdl1"] = Fact(None, note=v)
        return
    cutoff = v.get("cutoff")
    b.molecular["pdl1"] = Fact(PdL1(status=v.get("status"), assay=v.get("assay"), score=v.get("score"),
                                    cutoff=None if cutoff is None or "not reported" in cutoff else cutoff),
                               note=f"cut-off: {cutoff}" if cutoff else None)


def _p_t(b, v):
    b.extent["t"] = _category(v, "T")


def _p_n(b, v):
    b.extent["n"] = _category(v, "N")


def _p_m(b, v):
    b.extent["m"] = _category(v, "M")


def _p_reported_stage(b, v):
    b.extent["reported_stage"] = Fact(v, provenance=Provenance.REPORTED)


def _p_lung(b, v):
    if "indeterminate" in v:
        b.extent["indeterminate_lung_nodules"] = Fact(True, note=v)


def _p_disease_extent(b, v):
    low = v.lower()
    if low.startswith("metastatic") and "M" not in b.raw:
        b.extent["m"] = Fact("M1", note=v)
    if "unresectable" in low and "resectable" not in b.raw:
        b.extent["resectable_primary"] = Fact(False, note=v)
    if "nodules indeterminate" in low:
        b.extent["indeterminate_lung_nodules"] = Fact(True, note=v)


def _p_met_sites(b, v):
    b.extent["metastatic_sites"] = tuple(Fact(s) for s in v)


def _p_n_lung(b, v):
    b.extent["n_lung_mets"] = _number(v)


def _p_resectable(b, v):
    b.extent["resectable_primary"] = Fact(v, note=b.raw.get("resectability_reason"))


def _date_into(group: str, field_name: str) -> Callable:
    def parse(b, v):
        getattr(b, group)[field_name] = _date(v)
    return parse


def _p_ecog(b, v):
    b.status["ecog"] = _number(v)


def _p_prior_lines(b, v):
    # A count without agents: only 0 occurs in the vignettes, which is exactly "no lines" (lines = ()).
    if v:
        raise ValueError("a prior-line count > 0 without the lines themselves cannot be mapped")


def _p_lines(b, v):
    lines = []
    dates = {d["agent"]: d for d in b.raw.get("line_dates", [])}
    for entry in v:
        item = entry if isinstance(entry, dict) else {"agent": entry, **dates.get(entry, {})}
        agent = item["agent"]
        stop_reason = item.get("stop")
        lines.append(TherapyLine(
            agents=_REGIMENS.get(agent, (agent,)),
            start=date.fromisoformat(item["start"]) if item.get("start") else None,
            stop=date.fromisoformat(item.get("stop_date") or stop_reason) if (item.get("stop_date") or (stop_reason and stop_reason[:1].isdigit())) else None,
            best_response=item.get("best_response"),
            reason_stopped=stop_reason if stop_reason and not stop_reason[:1].isdigit() else None,
        ))
    b.therapy["lines"] = tuple(lines)


def _p_current_drug(b, v):
    route = b.raw.get("current_drug_route")
    agent = {("sirolimus", "oral"): MtoriAgent.ORAL_SIROLIMUS, ("temsirolimus", None): MtoriAgent.TEMSIROLIMUS,
             ("temsirolimus", "intravenous"): MtoriAgent.TEMSIROLIMUS,
             ("nab-sirolimus", None): MtoriAgent.NAB_SIROLIMUS, ("everolimus", None): MtoriAgent.EVEROLIMUS,
             ("everolimus", "oral"): MtoriAgent.EVEROLIMUS}[(v, route)]
    b.therapy["active_mtori"] = Fact(agent, note=b.raw.get("current_regimen"))


def _p_current_dose(b, v):
    b.therapy["current_dose_mg"] = _number(v, "mg")


def _p_best_response(b, v):
    b.therapy["current_best_response"] = _response(v)


def _p_mtori_available(b, v):
    b.therapy["mtori_available"] = Fact(v, note=b.raw.get("mtori_unavailable_reason"))


def _bool_plain(group: str, field_name: str) -> Callable:
    def parse(b, v):
        getattr(b, group)[field_name] = Fact(v) if isinstance(v, bool) else _yes_no(v)
    return parse


def _p_trough(b, v):
    if v is None:
        return
    b.lab("sirolimus_trough", LabResult(value=float(v), unit="ng/mL", date=_date(b.raw.get("trough_sample_date")).value))


def _p_assay(b, v):
    b.trough["assay"] = v


def _p_sample_timing(b, v):
    b.trough["pre_dose"] = True if v.lower().startswith("pre-dose") else None


def _p_menopausal(b, v):
    b.status["menopausal_status"] = Fact(v)


def _p_labs(b, v):
    if not isinstance(v, dict):
        return  # "not reported" / "normal" / "within normal limits": no analyte, no value
    if "Hb_g_dl" in v:
        b.lab("haemoglobin", LabResult(value=float(v["Hb_g_dl"]), unit="g/dL"))  # no reference range -> no LLN
    if "platelets_per_ul" in v:
        b.lab("platelets", LabResult(value=v["platelets_per_ul"] / 1000, unit="10*9/L"))  # /uL -> 10^9/L exact
    for key in ("bilirubin", "AST"):
        if key in v:
            b.lab(_LFT_KEYS[key], _uln_lab(_LFT_KEYS[key], v[key]))
    # MCV (no LAB_UNITS key) and "CMP unremarkable" (no analyte) are not mapped.


def _p_lfts(b, v):
    for key, text in v.items():
        b.lab(_LFT_KEYS[key], _uln_lab(_LFT_KEYS[key], text))


def _p_meds(b, v):
    b.medications.extend(_medication(m) for m in v)


def _p_tox(b, v):
    for key, grade in v.items():
        name = key.removesuffix("_ctcae")
        if isinstance(grade, int):
            b.clinical["toxicity_grades"][name] = Fact(grade)
        else:
            b.clinical["toxicity_grades"][name] = Fact(None, note=str(grade))
            b.data_quality.append(f"{name} grade: {grade} (source discrepancy)")


def _p_symptoms(b, v):
    for text in v:
        low = text.lower()
        if "cough" in low:
            b.clinical["new_cough"] = Fact(True, note=text)
        if "dyspnoea" in low or "dyspnea" in low:
            b.clinical["dyspnoea"] = Fact(True, note=text)
    # other symptoms (radiculopathy, weight loss) have no field in PatientFacts


def _p_ct_chest(b, v):
    low = v.lower()
    if low.startswith("new") and ("opacit" in low or "infiltrat" in low):
        b.clinical["new_infiltrates"] = Fact(True, note=v)


def _p_spo2(b, v):
    b.clinical["spo2_percent"] = _number(v, "%")


def _p_pneumonitis_grade(b, v):
    b.clinical["pneumonitis_grade"] = _number(v)


def _p_emergencies(b, v):
    for key, text in v.items():
        b.clinical["emergencies"][key] = _yes_no(text)


_PARSERS: dict[str, Callable[[_Builder, Any], None]] = {
    "age": _p_age,
    "adult_documented_by_source": _p_adult,
    "sex": _p_sex,
    "diagnosis": _p_diagnosis,
    "specimen_type": _p_specimen,
    "tuberous_sclerosis": _p_ts,
    "primary_site": _p_primary_site,
    "site_group": _p_site_group,
    "ajcc_site_group": _p_ajcc_group,
    "ajcc_site_group_candidates": _p_ajcc_candidates,
    "size_cm": _p_size,
    "size_pathology_cm": _p_size_pathology,
    "size_imaging_cm": _p_size_imaging,
    "mitoses": _p_mitoses,
    "necrosis": _bool_into("pathology", "necrosis"),
    "necrosis_percent": _p_necrosis_percent,
    "vascular_invasion": _bool_into("pathology", "vascular_invasion"),
    "lymphovascular_invasion": _bool_into("pathology", "lymphovascular_invasion"),
    "infiltrative_growth": _bool_into("pathology", "infiltrative_growth"),
    "high_nuclear_grade": _bool_into("pathology", "high_nuclear_grade"),
    "high_cellularity": _bool_into("pathology", "high_cellularity"),
    "nuclear_pleomorphism_only": _bool_into("pathology", "nuclear_pleomorphism_only"),
    "fnclcc_grade": _p_fnclcc_grade,
    "fnclcc_differentiation_score": _p_fnclcc_diff,
    "margins": _p_margins,
    "primary_class": _p_primary_class,
    "ihc": _p_ihc,
    "ihc_cathepsinK": _p_ihc_cathepsin,
    "tsc1": _gene_into("tsc1"),
    "tsc2": _gene_into("tsc2"),
    "tfe3_fusion": _gene_into("tfe3_fusion"),
    "pdl1": _p_pdl1,
    "T": _p_t,
    "N": _p_n,
    "M": _p_m,
    "reported_stage": _p_reported_stage,
    "lung": _p_lung,
    "disease_extent": _p_disease_extent,
    "metastatic_sites": _p_met_sites,
    "n_lung_mets": _p_n_lung,
    "extrapulmonary_disease": _bool_plain("extent", "extrapulmonary_disease"),
    "complete_excision_feasible": _bool_plain("extent", "complete_excision_of_mets_feasible"),
    "primary_controlled": _bool_plain("extent", "primary_controlled"),
    "resectable": _p_resectable,
    "date_resection": _date_into("extent", "date_resection"),
    "date_first_metastasis": _date_into("extent", "date_first_metastasis"),
    "ecog": _p_ecog,
    "prior_lines": _p_prior_lines,
    "prior_lines_advanced": _p_prior_lines,
    "lines": _p_lines,
    "prior_mtori": _bool_plain("therapy", "prior_mtori"),
    "progressed_on_mtori": _bool_plain("therapy", "progressed_on_mtori"),
    "mtori_available": _p_mtori_available,
    "current_drug": _p_current_drug,
    "current_dose_mg": _p_current_dose,
    "start_date": _date_into("therapy", "mtori_start"),
    "date_last_dose_change": _date_into("therapy", "date_last_dose_change"),
    "best_response": _p_best_response,
    "response": _p_best_response,
    "sirolimus_trough_ng_ml": _p_trough,
    "assay": _p_assay,
    "sample_timing": _p_sample_timing,
    "menopausal_status": _p_menopausal,
    "labs": _p_labs,
    "lfts": _p_lfts,
    "meds": _p_meds,
    "tox": _p_tox,
    "symptoms": _p_symptoms,
    "ct_chest": _p_ct_chest,
    "spo2_percent": _p_spo2,
    "hypoxia": _bool_plain("clinical", "hypoxia"),
    "pneumonitis_grade": _p_pneumonitis_grade,
    "infection_excluded": _bool_plain("clinical", "infection_excluded"),
    "emergencies": _p_emergencies,
    "grapefruit": _bool_plain("clinical", "grapefruit"),
    "pregnant": _bool_plain("status", "pregnant"),
    "breastfeeding": _bool_plain("status", "breastfeeding"),
    "childbearing_potential": _bool_plain("status", "childbearing_potential"),
}

#: Keys read by another key's parser, or consciously not mapped (with the reason).
_IGNORED: dict[str, str] = {
    "age_note": "kept as the note of the age fact",
    "sex_note": "kept as the note of the sex fact",
    "sex_provenance": "read by the sex parser (documented / inferred / unknown)",
    "diagnosis_source": "kept as the source of the diagnosis facts",
    "ihc_source": "kept as the source of each IHC fact",
    "size_source": "read by the size parsers",
    "size_imaging_source": "kept as the note of the imaging size",
    "mitoses_denominator": "read by the mitoses parser",
    "fnclcc_differentiation_source": "kept as the note of the differentiation score",
    "resectability_reason": "kept as the note of resectable_primary",
    "mtori_unavailable_reason": "kept as the note of mtori_available",
    "current_drug_route": "read by the current_drug parser",
    "current_regimen": "kept as the note of active_mtori",
    "trough_sample_date": "read by the trough parser (sample date)",
    "line_dates": "read by the lines parser",
    "source_patient_no": "provenance of the S003 patient (not a clinical fact)",
    "prior_treatment": "surgery/RT history; no systemic line for advanced disease (lines stay empty)",
    "surgery": "procedure name; the resection date is in date_resection",
    "days_on_treatment": "a pre-computed interval (C16: the core computes intervals from dates)",
    "weeks_on_treatment": "a pre-computed interval (C16)",
    "lab_values": "null in V14 (no values; grades are in tox)",
    "fever": "no PatientFacts field; infection_excluded carries the work-up state",
}


def vignette_to_facts(vignette: dict) -> PatientFacts:
    """The vignette's ``facts`` as typed PatientFacts (see the module docstring for conventions)."""
    raw = vignette["facts"]
    builder = _Builder(raw)
    for key, value in raw.items():
        if key in _IGNORED:
            continue
        _PARSERS[key](builder, value)  # KeyError on an unmapped key: decide consciously
    b = builder
    return PatientFacts(
        patient_ref=f"Patient/{vignette['id']}",
        demographics=Demographics(**b.demographics),
        diagnosis=Diagnosis(**b.diagnosis),
        site=Site(**b.site),
        pathology=Pathology(**b.pathology),
        ihc=b.ihc,
        ihc_in_record=b.ihc_in_record,
        molecular=Molecular(**b.molecular),
        extent=Extent(**b.extent),
        therapy=Therapy(**b.therapy),
        status=Status(**b.status),
        clinical=Clinical(**b.clinical),
        labs=b.labs,
        trough=TroughSample(**b.trough),
        medications=tuple(b.medications),
        data_quality=tuple(b.data_quality),
    )
