"""Risk classification (spec §2.1-§2.3, §2.7, §2.8): Folpe 2005 with its ">=" variants, WHO 2020
gynaecologic, Schoolmeester (display), Bleeker feature count (display), Garzon (display).

Missing data: a best case (every unknown input absent) and a worst case (every unknown input
present); when they differ the class is ``indeterminate`` with candidates. Nothing is imputed.
Folpe gaps (a), (b), (c) give ``undefined`` with candidates; they are surfaced, never resolved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Iterable

from pathway import knowledge as K
from pathway.decision import SchemeResult
from pathway.facts import MitoticDenominator, PatientFacts, SiteGroup

MALIGNANT = "malignant"
UMP = "uncertain_malignant_potential"
BENIGN = "benign"
UNDEFINED = "undefined"
INDETERMINATE = "indeterminate"
UNRESOLVED = "unresolved"
NOT_APPLICABLE = "not_applicable"

FOLPE = "Folpe 2005"
FOLPE_GE = "Folpe 2005 (>= variant)"
FOLPE_GE_SIZE = "Folpe 2005 (>=5 cm variant)"
FOLPE_GE_MITOSES = "Folpe 2005 (>=1/50 HPF variant)"
WHO_GYN = "WHO 2020 gynaecologic"
SCHOOLMEESTER = "Schoolmeester 2014"

GAP = "gap"  # a feature whose counting the published rule leaves open (Folpe gaps a and c)

FLAGS = ("borderline_size", "borderline_mitoses", "size_from_imaging", "mitoses_per_10hpf",
         "folpe_category_gap", "scheme_discordance", "biopsy_specimen")


@dataclass(frozen=True)
class Inputs:
    """The classification inputs of one reading (``None`` = unknown)."""

    size_cm: float | None
    mitoses_per_50hpf: float | None
    infiltrative: bool | None
    high_nuclear_grade: bool | None
    high_cellularity: bool | None
    necrosis: bool | None
    vascular_invasion: bool | None
    lymphovascular_invasion: bool | None
    pleomorphism_only: bool | None

    def with_unknowns(self, value: bool) -> "Inputs":
        """Best case (value False: unknown = absent) or worst case (value True: unknown = present)."""
        big = 10_000.0 if value else 0.0  # an unknown size / count counted as above or below every threshold
        return Inputs(
            size_cm=self.size_cm if self.size_cm is not None else big,
            mitoses_per_50hpf=self.mitoses_per_50hpf if self.mitoses_per_50hpf is not None else big,
            **{name: (getattr(self, name) if getattr(self, name) is not None else value) for name in _BOOL_INPUTS},
        )

    def unknown_names(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(n for n in names if getattr(self, n) is None)


_BOOL_INPUTS = ("infiltrative", "high_nuclear_grade", "high_cellularity", "necrosis", "vascular_invasion",
                "lymphovascular_invasion", "pleomorphism_only")
FEATURE_WORDS = {
    "size_cm": "size", "mitoses_per_50hpf": "mitotic count per 50 HPF", "infiltrative": "infiltrative growth",
    "high_nuclear_grade": "nuclear grade", "high_cellularity": "cellularity", "necrosis": "necrosis",
    "vascular_invasion": "vascular invasion", "lymphovascular_invasion": "lymphovascular invasion",
    "pleomorphism_only": "nuclear pleomorphism alone (symplastic)",
}
FOLPE_INPUTS = ("size_cm", "mitoses_per_50hpf", "infiltrative", "high_nuclear_grade", "high_cellularity",
                "necrosis", "vascular_invasion", "pleomorphism_only")
GYN_INPUTS = ("size_cm", "high_nuclear_grade", "mitoses_per_50hpf", "necrosis", "lymphovascular_invasion")


# ---------------------------------------------------------------- Folpe 2005 (§2.1)

def _above(value: float, threshold: float, ge: bool) -> bool:
    return value >= threshold if ge else value > threshold


def folpe_features(x: Inputs, *, size_ge: bool, mitoses_ge: bool) -> dict[str, bool | str]:
    """The six worrisome features of a fully known reading; GAP where the rule leaves counting open."""
    if x.size_cm == K.FOLPE_SIZE_CM and not size_ge:
        size: bool | str = GAP  # gap (a): exactly 5.0 cm is neither "<5" nor ">5"
    else:
        size = _above(x.size_cm, K.FOLPE_SIZE_CM, size_ge)
    if x.high_nuclear_grade and x.high_cellularity:
        grade_cellularity: bool | str = True
    elif x.high_nuclear_grade or x.high_cellularity:
        grade_cellularity = GAP  # gap (c): one half of "high nuclear grade and cellularity"
    else:
        grade_cellularity = False
    return {
        "size >5 cm" if not size_ge else "size >=5 cm": size,
        "infiltrative growth": x.infiltrative,
        "high nuclear grade and cellularity": grade_cellularity,
        "mitoses >1/50 HPF" if not mitoses_ge else "mitoses >=1/50 HPF": _above(x.mitoses_per_50hpf, K.FOLPE_MITOSES_PER_50HPF, mitoses_ge),
        "necrosis": x.necrosis,
        "vascular invasion": x.vascular_invasion,
    }


def _folpe_category(present: set[str], pleomorphism_only: bool) -> tuple[str, bool]:
    """(class, gap_b) for one reading with every feature counted or not."""
    if len(present) >= K.FOLPE_MALIGNANT_MIN_FEATURES:
        return MALIGNANT, False
    if len(present) == 1:
        (only,) = present
        if only.startswith("size"):
            return UMP, False  # a large tumour with no other worrisome feature
        return UMP, True  # gap (b): one worrisome feature other than size: candidates {UMP}
    return (UMP if pleomorphism_only else BENIGN), False


def folpe_reading(x: Inputs, *, size_ge: bool, mitoses_ge: bool) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(class, candidates, present features) of one fully known reading, gaps expanded (§2.1 "Gaps combine")."""
    features = folpe_features(x, size_ge=size_ge, mitoses_ge=mitoses_ge)
    certain = {name for name, state in features.items() if state is True}
    open_ = [name for name, state in features.items() if state == GAP]
    classes: set[str] = set()
    gap_b = False
    for counted in product((False, True), repeat=len(open_)):
        present = certain | {name for name, on in zip(open_, counted) if on}
        klass, b = _folpe_category(present, bool(x.pleomorphism_only))
        classes.add(klass)
        gap_b = gap_b or b
    if len(classes) > 1 or gap_b:
        return UNDEFINED, _ordered(classes), tuple(sorted(certain))
    return classes.pop(), (), tuple(sorted(certain))


# ---------------------------------------------------------------- gynaecologic schemes (§2.3)

def gyn_features(x: Inputs) -> dict[str, bool]:
    return {
        "size >=5 cm": x.size_cm >= K.WHO_GYN_SIZE_CM,
        "high-grade nuclear atypia": bool(x.high_nuclear_grade),
        "mitoses >1/50 HPF": x.mitoses_per_50hpf > K.WHO_GYN_MITOSES_PER_50HPF,
        "necrosis": bool(x.necrosis),
        "lymphovascular invasion": bool(x.lymphovascular_invasion),
    }


def gyn_reading(x: Inputs, min_features: int) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    present = tuple(sorted(n for n, on in gyn_features(x).items() if on))
    return (MALIGNANT if len(present) >= min_features else UMP), (), present


# ---------------------------------------------------------------- best / worst case (§2.8 rule 2)

_ORDER = (BENIGN, UMP, MALIGNANT)


def _ordered(classes: Iterable[str]) -> tuple[str, ...]:
    return tuple(c for c in _ORDER if c in set(classes))


def evaluate(scheme: str, inputs: Inputs, reading, names: tuple[str, ...], *, display_only: bool = False) -> SchemeResult:
    """Evaluate a scheme's reading function at the best and the worst case."""
    unknown = inputs.unknown_names(names)
    known_present = reading(inputs.with_unknowns(False))[2]
    best = reading(inputs.with_unknowns(False))
    if not unknown:
        return SchemeResult(scheme, best[0], best[1], known_present, (), display_only)
    worst = reading(inputs.with_unknowns(True))
    if best[:2] == worst[:2]:
        return SchemeResult(scheme, best[0], best[1], known_present, tuple(FEATURE_WORDS[n] for n in unknown), display_only)
    candidates = _ordered(set(best[1] or (best[0],)) | set(worst[1] or (worst[0],)))
    return SchemeResult(scheme, INDETERMINATE, candidates, known_present, tuple(FEATURE_WORDS[n] for n in unknown), display_only)


def folpe(inputs: Inputs, *, size_ge=False, mitoses_ge=False, scheme=FOLPE, display_only=False) -> SchemeResult:
    return evaluate(scheme, inputs, lambda x: folpe_reading(x, size_ge=size_ge, mitoses_ge=mitoses_ge), FOLPE_INPUTS,
                    display_only=display_only)


def who_gyn(inputs: Inputs, *, display_only=False) -> SchemeResult:
    return evaluate(WHO_GYN, inputs, lambda x: gyn_reading(x, K.WHO_GYN_MALIGNANT_MIN_FEATURES), GYN_INPUTS,
                    display_only=display_only)


def schoolmeester(inputs: Inputs) -> SchemeResult:
    return evaluate(SCHOOLMEESTER, inputs, lambda x: gyn_reading(x, K.SCHOOLMEESTER_MALIGNANT_MIN_FEATURES), GYN_INPUTS,
                    display_only=True)


# ---------------------------------------------------------------- Bleeker and Garzon (display only)

def _same_side(a: float | None, b: float | None, cut: float) -> bool:
    """Both values known and strictly on the same side of ``cut``."""
    return a is not None and b is not None and ((a > cut and b > cut) or (a < cut and b < cut))


def bleeker_features(size_cm: float | None, mitoses: float | None, *, size_reason: str | None,
                     mitoses_reason: str | None, size_conflict: str | None) -> dict:
    """{known_count, unknown[]}: features present for certain; unknown ones with the reason (§2.2, C17)."""
    count, unknown = 0, []
    if size_conflict:
        unknown.append(f"size: {size_conflict} - R13 size conflict")
    elif size_cm is None:
        unknown.append(f"size ({size_reason or 'not reported'})")
    elif size_cm == K.BLEEKER_SIZE_CM:
        unknown.append(f"size: exactly {size_cm:.1f} cm, operator unverified (>=5 cm Bleeker abstract vs >5 cm S002)")
    elif size_cm > K.BLEEKER_SIZE_CM:
        count += 1
    if mitoses is None:
        unknown.append(f"mitoses ({mitoses_reason or 'not reported'}; for Bleeker display only)")
    elif mitoses == K.BLEEKER_MITOSES_PER_50HPF:
        unknown.append(f"mitoses: exactly {mitoses:g}/50 HPF, operator unverified")
    elif mitoses > K.BLEEKER_MITOSES_PER_50HPF:
        count += 1
    return {"known_count": count, "unknown": unknown}


def garzon_display(size_cm: float | None, mitoses: float | None) -> str:
    """"not computable (base rule undefined)" plus the raw cut-off comparisons, labelled unvalidated."""
    parts = []
    if size_cm is not None:
        parts.append(f"size {size_cm:g} cm {'>=' if size_cm >= K.GARZON_SIZE_CM else '<'} {K.GARZON_SIZE_CM:g} cm")
    else:
        parts.append("size unknown")
    if mitoses is not None:
        parts.append(f"mitoses {mitoses:g}/50 HPF {'>=' if mitoses >= K.GARZON_MITOSES_PER_50HPF else '<'} "
                     f"{K.GARZON_MITOSES_PER_50HPF}/50 HPF")
    else:
        parts.append("mitoses per 50 HPF unknown")
    return "not computable (base rule undefined); unvalidated raw comparisons, display only: " + "; ".join(parts)


# ---------------------------------------------------------------- the whole classification

@dataclass(frozen=True)
class Classification:
    schemes: tuple[SchemeResult, ...]
    primary_scheme: str | None  # None when pending (R13 sex vs site) or the site group is unknown
    primary: SchemeResult | None
    flags: tuple[str, ...]
    bleeker: dict
    garzon: str | None
    provisional: bool
    size_used: float | None
    size_conflict: str | None  # "4.6 cm pathology vs 6.0 cm imaging" when R13 applies
    unknown_inputs: tuple[str, ...] = field(default=())  # words, for the data-gap card

    @property
    def primary_class(self) -> str | None:
        return self.primary.klass if self.primary else None

    @property
    def definite(self) -> bool:
        """A class that may drive recommendations: definite and neither provisional nor borderline."""
        return self.primary_class in (MALIGNANT, BENIGN, UMP) and not self.provisional and not (
            set(self.flags) & {"borderline_size", "borderline_mitoses", "folpe_category_gap", "scheme_discordance"})


def inputs_from(facts: PatientFacts, size_cm: float | None) -> Inputs:
    p = facts.pathology
    count = p.mitoses_with(MitoticDenominator.PER_50_HPF).value
    return Inputs(
        size_cm=size_cm,
        mitoses_per_50hpf=count.count if count else None,
        infiltrative=p.infiltrative_growth.value,
        high_nuclear_grade=p.high_nuclear_grade.value,
        high_cellularity=p.high_cellularity.value,
        necrosis=p.necrosis.value,
        vascular_invasion=p.vascular_invasion.value,
        lymphovascular_invasion=p.lymphovascular_invasion.value,
        pleomorphism_only=p.nuclear_pleomorphism_only.value,
    )


def size_discordance(facts: PatientFacts, fraction: float) -> str | None:
    """'4.6 cm pathology vs 6.0 cm imaging' when they differ by more than the site setting (§2.8 rule 5)."""
    path, image = facts.pathology.size_pathology_cm.value, facts.pathology.size_imaging_cm.value
    if path and image is not None and abs(image - path) / path > fraction:
        return f"{path:g} cm pathology vs {image:g} cm imaging"
    return None


def _combine(at_path: SchemeResult, at_image: SchemeResult) -> SchemeResult:
    """The same scheme at both sizes of an R13 size conflict: shown normally when equal, else unresolved."""
    if (at_path.klass, at_path.candidates) == (at_image.klass, at_image.candidates):
        return at_path
    return SchemeResult(at_path.scheme, UNRESOLVED, _ordered(set(at_path.candidates or (at_path.klass,)) |
                                                             set(at_image.candidates or (at_image.klass,))),
                        at_path.features_present, at_path.features_unknown, at_path.display_only)


def _malignant_or_not(result: SchemeResult) -> bool | None:
    if result.klass == MALIGNANT:
        return True
    if result.klass in (BENIGN, UMP) or (result.klass == UNDEFINED and MALIGNANT not in result.candidates):
        return False
    return None


def classify(facts: PatientFacts, *, sex_site_conflict: bool, size_fraction: float) -> Classification:
    p = facts.pathology
    path_size, image_size = p.size_pathology_cm.value, p.size_imaging_cm.value
    size_used = path_size if path_size is not None else image_size
    conflict = size_discordance(facts, size_fraction)
    gyn = facts.site.site_group.value is SiteGroup.GYNAECOLOGIC
    site_known = facts.site.site_group.value is not None

    def run(size):
        x = inputs_from(facts, size)
        strict = folpe(x, display_only=gyn)
        results = [strict,
                   folpe(x, size_ge=True, mitoses_ge=True, scheme=FOLPE_GE, display_only=True),
                   folpe(x, size_ge=True, scheme=FOLPE_GE_SIZE, display_only=True),
                   folpe(x, mitoses_ge=True, scheme=FOLPE_GE_MITOSES, display_only=True)]
        if gyn:
            results = [who_gyn(x), schoolmeester(x)] + results
        return results, x

    results, x = run(size_used)
    if conflict:
        results = [_combine(a, b) for a, b in zip(results, run(image_size)[0])]
    by_name = {r.scheme: r for r in results}

    flags = []
    strict = by_name[FOLPE]
    if (by_name[FOLPE_GE_SIZE].klass, by_name[FOLPE_GE_SIZE].candidates) != (strict.klass, strict.candidates):
        flags.append("borderline_size")
    if (by_name[FOLPE_GE_MITOSES].klass, by_name[FOLPE_GE_MITOSES].candidates) != (strict.klass, strict.candidates):
        flags.append("borderline_mitoses")
    if path_size is None and image_size is not None:
        flags.append("size_from_imaging")
    if (p.mitoses_with(MitoticDenominator.PER_10_HPF).known
            and not p.mitoses_with(MitoticDenominator.PER_50_HPF).known):
        flags.append("mitoses_per_10hpf")
    if strict.klass == UNDEFINED:
        flags.append("folpe_category_gap")
    if gyn:
        verdicts = {_malignant_or_not(by_name[s]) for s in (WHO_GYN, SCHOOLMEESTER, FOLPE)}
        if True in verdicts and False in verdicts:
            flags.append("scheme_discordance")
    any_feature_known = any(v is not None for v in (x.size_cm, x.mitoses_per_50hpf, x.infiltrative, x.necrosis,
                                                    x.high_nuclear_grade, x.vascular_invasion))
    spec = facts.diagnosis.specimen_type.value
    if spec is not None and spec.is_biopsy and any_feature_known:
        flags.append("biopsy_specimen")

    if sex_site_conflict or not site_known:
        primary_scheme, primary = None, None
    else:
        primary_scheme = WHO_GYN if gyn else FOLPE
        primary = by_name[primary_scheme]

    mitoses_reason = ("only per 10 HPF reported" if "mitoses_per_10hpf" in flags else "not reported")
    # A size conflict leaves Bleeker's size feature unknown only when the two sizes fall on different sides of 5 cm
    agreed = conflict and _same_side(size_used, image_size, K.BLEEKER_SIZE_CM)
    bleeker = bleeker_features(size_used if not conflict or agreed else None, x.mitoses_per_50hpf,
                               size_reason="not reported", mitoses_reason=mitoses_reason,
                               size_conflict=None if agreed else conflict)
    uterine = gyn and "uter" in str(facts.site.primary_site.value or "").lower()
    unknown = tuple(dict.fromkeys(w for r in results if not r.display_only or r.scheme == FOLPE for w in r.features_unknown))
    return Classification(
        schemes=tuple(results),
        primary_scheme=primary_scheme,
        primary=primary,
        flags=tuple(f for f in FLAGS if f in flags),
        bleeker=bleeker,
        garzon=garzon_display(size_used, x.mitoses_per_50hpf) if uterine else None,
        provisional=bool({"size_from_imaging", "biopsy_specimen"} & set(flags)),
        size_used=size_used,
        size_conflict=conflict,
        unknown_inputs=unknown,
    )
