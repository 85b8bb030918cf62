"""Patient facts: the pathway core's input (pathway-spec.md §1, the data dictionary).

Every scalar is a :class:`Fact`: a value with its unit, the references of the
resources it came from, its effective date and how it was obtained. ``value is
None`` means *unknown*; it is never the same as a negative finding ("absent"
is ``False``, a marker tested negative is ``MarkerResult.NEGATIVE``).

The core never sees FHIR JSON: ``fhir_mappings`` builds these objects from
resources, the tests build them from the development vignettes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from enum import Enum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Provenance(str, Enum):
    DOCUMENTED = "documented"  # stated in a resource
    INFERRED = "inferred"  # derived (e.g. sex from a gynaecologic primary); never overrides a documented value
    REPORTED = "reported"  # stated by a source but explicitly "as reported" (e.g. an author's stage)


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One value with provenance. ``value is None`` = unknown."""

    value: T | None = None
    unit: str | None = None
    sources: tuple[str, ...] = ()  # e.g. ("Observation/123",) or a document citation
    date: date | None = None  # effective date of the finding
    provenance: Provenance = Provenance.DOCUMENTED
    note: str | None = None  # free text kept verbatim (e.g. "M0 (per authors)")

    @property
    def known(self) -> bool:
        return self.value is not None


UNKNOWN: Fact[Any] = Fact()


class Sex(str, Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Entity(str, Enum):
    """What the diagnosis is (scope gate, spec §3 and R14)."""

    PECOMA_NOS = "pecoma_nos"
    PECOMA_MALIGNANT = "pecoma_malignant"
    PECOMA_BENIGN = "pecoma_benign"
    ANGIOMYOLIPOMA = "angiomyolipoma"
    EPITHELIOID_ANGIOMYOLIPOMA = "epithelioid_angiomyolipoma"
    LAM = "lymphangioleiomyomatosis"
    OTHER = "other"  # another histology (e.g. leiomyosarcoma): no cards at all

    @property
    def is_pecoma(self) -> bool:
        return self in (Entity.PECOMA_NOS, Entity.PECOMA_MALIGNANT, Entity.PECOMA_BENIGN)


class SpecimenType(str, Enum):
    CORE_BIOPSY = "core_biopsy"
    INCISIONAL_BIOPSY = "incisional_biopsy"
    RESECTION = "resection"  # excision or resection

    @property
    def is_biopsy(self) -> bool:
        return self in (SpecimenType.CORE_BIOPSY, SpecimenType.INCISIONAL_BIOPSY)


class SiteGroup(str, Enum):
    GYNAECOLOGIC = "gynaecologic"  # uterus, cervix, vagina, vulva, adnexa, broad ligament
    NON_GYNAECOLOGIC = "non_gynaecologic"


class AjccSiteGroup(str, Enum):
    TRUNK_EXTREMITY = "trunk_extremity"
    RETROPERITONEUM = "retroperitoneum"
    HEAD_NECK = "head_neck"
    ABDOMINAL_THORACIC_VISCERAL = "abdominal_thoracic_visceral"
    UTERINE_GYN = "uterine_gyn"
    OUTSIDE_STS_TABLES = "outside_sts_tables"  # e.g. a bone primary


class MitoticDenominator(str, Enum):
    PER_50_HPF = "per_50_hpf"
    PER_10_HPF = "per_10_hpf"
    PER_MM2 = "per_mm2"


@dataclass(frozen=True)
class MitoticCount:
    """A count with its explicit denominator. Never converted between denominators."""

    count: float
    denominator: MitoticDenominator


class Margin(str, Enum):
    R0 = "margin R0"
    R1 = "margin R1"
    R2 = "margin R2"


class MarkerResult(str, Enum):
    POSITIVE = "pos"
    NEGATIVE = "neg"
    NOT_TESTED = "not_tested"  # explicitly not done; "not reported" is Fact(None)


class GeneStatus(str, Enum):
    ALTERED = "altered"  # mutation / fusion / rearrangement present
    NOT_ALTERED = "not_altered"  # tested, wild-type / no rearrangement
    NOT_TESTED = "not_tested"


class MtoriAgent(str, Enum):
    ORAL_SIROLIMUS = "oral_sirolimus"
    NAB_SIROLIMUS = "nab_sirolimus"  # FYARRO, IV
    TEMSIROLIMUS = "temsirolimus"
    EVEROLIMUS = "everolimus"


class Haemorrhage(str, Enum):
    NONE = "none"
    INTRATUMORAL = "intratumoral"  # e.g. on imaging
    CLINICALLY_EVIDENT = "clinically_evident"
    LIFE_THREATENING = "life_threatening"


@dataclass(frozen=True)
class PdL1:
    status: str | None = None  # "positive" / "negative" as reported
    assay: str | None = None  # clone, e.g. "22C3"
    score: str | None = None  # e.g. "TPS 5%"
    cutoff: str | None = None  # the cut-off used for "positive"; None = not reported


@dataclass(frozen=True)
class LabResult:
    """One laboratory value in canonical units (see ``LAB_UNITS``), with the lab's reference range."""

    value: float | None
    unit: str  # canonical unit after normalisation
    date: date | None = None
    reference_low: float | None = None  # the lab's LLN, in the same unit
    reference_high: float | None = None  # the lab's ULN, in the same unit
    interpretation: str | None = None  # "normal" / "low" / "high" as reported (HL7 N/L/H)
    sources: tuple[str, ...] = ()

    @property
    def ratio_to_uln(self) -> float | None:
        if self.value is None or not self.reference_high:
            return None
        return self.value / self.reference_high


#: Canonical unit per lab key (fhir_mappings normalises into these).
LAB_UNITS: dict[str, str] = {
    "sirolimus_trough": "ng/mL",
    "total_bilirubin": "mg/dL",
    "ast": "U/L",
    "creatinine": "mg/dL",
    "anc": "10*9/L",
    "platelets": "10*9/L",
    "haemoglobin": "g/dL",
    "potassium": "mmol/L",
    "phosphate": "mg/dL",
    "triglycerides": "mg/dL",
    "total_cholesterol": "mg/dL",
    "glucose": "mg/dL",
    "hba1c": "%",
}


@dataclass(frozen=True)
class LabSeries:
    """All valid results for one lab key, oldest first; ``latest`` is what rules read."""

    results: tuple[LabResult, ...] = ()

    @property
    def latest(self) -> LabResult | None:
        return self.results[-1] if self.results else None


@dataclass(frozen=True)
class TroughSample:
    """Sirolimus trough context (R1/R2)."""

    assay: str | None = None  # "LC-MS/MS" / "immunoassay"; displayed, never converted
    pre_dose: bool | None = None  # confirmed true pre-dose trough


@dataclass(frozen=True)
class Medication:
    """An active or ordered medication, identified by ingredient name (lower case)."""

    ingredient: str  # e.g. "itraconazole", "sirolimus"
    rxnorm: str | None = None  # ingredient RxCUI where verified
    text: str | None = None  # as written in the record
    route: str | None = None  # "oral" / "intravenous"
    dose_mg: float | None = None
    start: date | None = None
    status: str = "active"  # active / draft (an order under review)
    sources: tuple[str, ...] = ()
    note: str | None = None  # e.g. "cannot be stopped (infectious-diseases team)"


@dataclass(frozen=True)
class DraftOrder:
    """An order under review on order-select / order-sign (from the request's draftOrders)."""

    reference: str  # "MedicationRequest/abc": how the request's selections and the cards name it
    resource_type: str  # MedicationRequest / ServiceRequest / ...
    category: str  # "medication" / "surgery" / "vaccine" / "imaging" / "laboratory" / "other"
    medication: Medication | None = None  # for medication orders: ingredient, route, dose as drafted
    text: str | None = None  # display / text of the order
    live_vaccine: bool = False
    selected: bool = True  # order-select: among context.selections (the others are context, not judged again)
    defects: tuple[str, ...] = ()  # what could not be read (invalid R4 shapes are read leniently)


@dataclass(frozen=True)
class TherapyLine:
    """A line of systemic therapy for advanced disease."""

    agents: tuple[str, ...]  # ingredient names, e.g. ("gemcitabine", "docetaxel")
    start: date | None = None
    stop: date | None = None
    best_response: str | None = None  # CR / PR / SD / PD as reported
    reason_stopped: str | None = None  # e.g. "progression", "toxicity"
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """Two sources disagree on something outputs depend on (R13)."""

    kind: str  # e.g. "sex_vs_gynaecologic_site", "size_discordance", "localised_vs_metastatic", "margin_r0_vs_unresectable", "date_in_future"
    fields: tuple[str, ...]
    description: str
    sources: tuple[str, ...] = ()


@dataclass
class Demographics:
    age_years: Fact[int] = UNKNOWN
    adult_documented_by_source: Fact[bool] = UNKNOWN  # e.g. a series of adults (S003: 26-63)
    sex: Fact[Sex] = UNKNOWN  # provenance INFERRED when derived from a gynaecologic primary


@dataclass
class Diagnosis:
    entity: Fact[Entity] = UNKNOWN
    text: Fact[str] = UNKNOWN  # the diagnosis as written
    specimen_type: Fact[SpecimenType] = UNKNOWN
    expert_review: Fact[bool] = UNKNOWN  # central / expert sarcoma pathology review done
    tuberous_sclerosis: Fact[bool] = UNKNOWN


@dataclass
class Site:
    primary_site: Fact[str] = UNKNOWN  # text (and code in the sources)
    site_group: Fact[SiteGroup] = UNKNOWN
    ajcc_site_group: Fact[AjccSiteGroup] = UNKNOWN  # unknown when ambiguous: see candidates
    ajcc_site_group_candidates: tuple[AjccSiteGroup, ...] = ()


@dataclass
class Pathology:
    size_pathology_cm: Fact[float] = UNKNOWN  # greatest dimension, 1 dp
    size_imaging_cm: Fact[float] = UNKNOWN  # imaging or clinical exam
    mitoses: tuple[Fact[MitoticCount], ...] = ()  # every count with an explicit denominator
    necrosis: Fact[bool] = UNKNOWN
    necrosis_percent: Fact[float] = UNKNOWN
    vascular_invasion: Fact[bool] = UNKNOWN
    lymphovascular_invasion: Fact[bool] = UNKNOWN
    infiltrative_growth: Fact[bool] = UNKNOWN
    high_nuclear_grade: Fact[bool] = UNKNOWN
    high_cellularity: Fact[bool] = UNKNOWN
    nuclear_pleomorphism_only: Fact[bool] = UNKNOWN
    fnclcc_grade_reported: Fact[int] = UNKNOWN  # 1-3
    fnclcc_differentiation_score: Fact[int] = UNKNOWN  # 1-3, pathologist-supplied only
    margins: Fact[Margin] = UNKNOWN

    def mitoses_with(self, denominator: MitoticDenominator) -> Fact[MitoticCount]:
        """The latest count with this denominator, or UNKNOWN."""
        for fact in reversed(self.mitoses):
            if fact.value is not None and fact.value.denominator is denominator:
                return fact
        return UNKNOWN


#: IHC marker keys used across the product (fhir_mappings maps codes and text to them).
MELANOCYTIC_MARKERS = ("HMB45", "MelanA")
SMOOTH_MUSCLE_MARKERS = ("SMA", "desmin")


@dataclass
class Molecular:
    tsc1: Fact[GeneStatus] = UNKNOWN
    tsc2: Fact[GeneStatus] = UNKNOWN
    tfe3_fusion: Fact[GeneStatus] = UNKNOWN
    tfe3_partner: Fact[str] = UNKNOWN  # e.g. "SFPQ"
    ps6: Fact[MarkerResult] = UNKNOWN
    pdl1: Fact[PdL1] = UNKNOWN


@dataclass
class Extent:
    t: Fact[str] = UNKNOWN  # "T1".."T4" (AJCC), as documented
    n: Fact[str] = UNKNOWN  # "N0" / "N1"
    m: Fact[str] = UNKNOWN  # "M0" / "M1"
    reported_stage: Fact[str] = UNKNOWN  # a stage as reported by a source, shown "as reported" only
    metastatic_sites: tuple[Fact[str], ...] = ()  # e.g. "lung", "liver", "bone", "peritoneum"
    n_lung_mets: Fact[int] = UNKNOWN
    extrapulmonary_disease: Fact[bool] = UNKNOWN
    indeterminate_lung_nodules: Fact[bool] = UNKNOWN  # nodules under evaluation (M status unsettled)
    date_resection: Fact[date] = UNKNOWN  # resection of the primary
    date_first_metastasis: Fact[date] = UNKNOWN
    primary_controlled: Fact[bool] = UNKNOWN  # no local recurrence of the primary (MDT)
    resectable_primary: Fact[bool] = UNKNOWN  # MDT-determined, never inferred
    complete_excision_of_mets_feasible: Fact[bool] = UNKNOWN  # MDT-determined
    planned_surgery_date: Fact[date] = UNKNOWN


@dataclass
class Therapy:
    lines: tuple[TherapyLine, ...] = ()  # lines for advanced disease, oldest first
    active_mtori: Fact[MtoriAgent] = UNKNOWN  # UNKNOWN value None = none active
    current_dose_mg: Fact[float] = UNKNOWN  # of the active oral sirolimus
    mtori_start: Fact[date] = UNKNOWN
    date_last_dose_change: Fact[date] = UNKNOWN
    prior_mtori: Fact[bool] = UNKNOWN
    progressed_on_mtori: Fact[bool] = UNKNOWN
    current_best_response: Fact[str] = UNKNOWN  # on the current line, as reported (e.g. "SD")
    mtori_available: Fact[bool] = UNKNOWN
    mtori_contraindication: Fact[str] = UNKNOWN  # reason text when contraindicated
    clinician_confirmed_heavily_pretreated: Fact[bool] = UNKNOWN  # S8 line-count trigger confirmation


@dataclass
class Status:
    ecog: Fact[int] = UNKNOWN
    pregnant: Fact[bool] = UNKNOWN
    breastfeeding: Fact[bool] = UNKNOWN
    childbearing_potential: Fact[bool] = UNKNOWN
    menopausal_status: Fact[str] = UNKNOWN


@dataclass
class Clinical:
    """Symptoms, toxicities and emergencies (R3, R5, R6, R11, R12, R16)."""

    new_cough: Fact[bool] = UNKNOWN
    dyspnoea: Fact[bool] = UNKNOWN
    new_infiltrates: Fact[bool] = UNKNOWN
    hypoxia: Fact[bool] = UNKNOWN  # clinician-documented only; SpO2 is displayed, never thresholded
    spo2_percent: Fact[float] = UNKNOWN
    pneumonitis_grade: Fact[int] = UNKNOWN
    infection_excluded: Fact[bool] = UNKNOWN
    stomatitis_grade: Fact[int] = UNKNOWN
    haemorrhage: Fact[Haemorrhage] = UNKNOWN
    #: CTCAE grades as reported, keyed e.g. "hypertriglyceridaemia", "hypercholesterolaemia", "hyperglycaemia"
    toxicity_grades: dict[str, Fact[int]] = field(default_factory=dict)
    #: keyed "spinal_cord_compression", "airway_compromise", "svc_syndrome", "haemorrhage_life_threatening", "hypercalcaemia", "other"
    emergencies: dict[str, Fact[bool]] = field(default_factory=dict)
    grapefruit: Fact[bool] = UNKNOWN


@dataclass
class PatientFacts:
    """Everything the pathway may read about one patient."""

    patient_ref: str | None = None  # e.g. "Patient/123" (never logged; cards reference it)
    pecoma_condition_ref: str | None = None  # the Condition to cite as reasonReference
    demographics: Demographics = field(default_factory=Demographics)
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
    site: Site = field(default_factory=Site)
    pathology: Pathology = field(default_factory=Pathology)
    ihc: dict[str, Fact[MarkerResult]] = field(default_factory=dict)  # marker key -> result
    ihc_in_record: bool = False  # any IHC result present at all
    molecular: Molecular = field(default_factory=Molecular)
    extent: Extent = field(default_factory=Extent)
    therapy: Therapy = field(default_factory=Therapy)
    status: Status = field(default_factory=Status)
    clinical: Clinical = field(default_factory=Clinical)
    labs: dict[str, LabSeries] = field(default_factory=dict)  # keys of LAB_UNITS
    trough: TroughSample = field(default_factory=TroughSample)
    medications: tuple[Medication, ...] = ()  # active medications (not draft orders)
    conflicts: tuple[Conflict, ...] = ()  # detected while mapping (source-level disagreements)
    data_quality: tuple[str, ...] = ()  # notes: skipped resources, unknown units, discrepancies
    #: what is known to be missing from the record as received (cut-off searches ...): absent is not "none"
    data_incomplete: tuple[str, ...] = ()

    def lab(self, key: str) -> LabResult | None:
        series = self.labs.get(key)
        return series.latest if series else None


def summary(obj: Any) -> Any:
    """Values only, without provenance: what two routes to the same facts must agree on.

    Used by tests to compare facts extracted from FHIR with facts written by hand
    (the vignettes). Facts become their value; labs become value, unit and ratio
    to ULN; empty containers and unknowns are dropped.
    """
    if isinstance(obj, Fact):
        return summary(obj.value)
    if isinstance(obj, LabSeries):
        return summary(obj.latest)
    if isinstance(obj, LabResult):
        ratio = obj.ratio_to_uln
        return {
            "value": obj.value,
            "unit": obj.unit,
            "ratio_to_uln": round(ratio, 2) if ratio is not None else None,
            "interpretation": obj.interpretation,
        }
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, date):
        return obj.isoformat()
    if is_dataclass(obj):
        out = {}
        for f in fields(obj):
            if f.name in ("sources", "data_quality", "patient_ref", "pecoma_condition_ref"):
                continue
            value = summary(getattr(obj, f.name))
            if value not in (None, (), [], {}):
                out[f.name] = value
        return out
    if isinstance(obj, dict):
        out = {k: summary(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, (), [], {})}
    if isinstance(obj, (list, tuple)):
        return [summary(v) for v in obj]
    return obj
