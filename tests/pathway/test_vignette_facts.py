"""The vignette adapter: every vignette converts, explicitly and without guesses."""
import pytest

from pathway.facts import Entity, GeneStatus, MarkerResult, MitoticDenominator, MtoriAgent, Provenance, Sex
from tests.vignette_facts import load_vignettes, vignette_to_facts

VIGNETTES = {v["id"]: v for v in load_vignettes()}


def facts(vid):
    return vignette_to_facts(VIGNETTES[vid])


def test_all_forty_vignettes_convert():
    assert len(VIGNETTES) == 40
    for vignette in VIGNETTES.values():
        vignette_to_facts(vignette)


def test_unmapped_key_is_refused_not_dropped():
    with pytest.raises(KeyError):
        vignette_to_facts({"id": "X", "facts": {"shoe_size": 42}})


def test_uln_relative_values_keep_no_invented_number():
    bilirubin = facts("V24").lab("total_bilirubin")
    assert bilirubin.value is None and bilirubin.interpretation == "normal"
    mild = facts("V46").lab("total_bilirubin")
    assert mild.ratio_to_uln == pytest.approx(1.3) and mild.unit == "x ULN"


def test_hb_without_reference_range_has_no_lln():
    hb = facts("V01").lab("haemoglobin")
    assert hb.value == 10.0 and hb.reference_low is None


def test_inferred_sex_and_cohort_adult():
    f = facts("V04")
    assert f.demographics.sex.value is Sex.FEMALE and f.demographics.sex.provenance is Provenance.INFERRED
    assert f.demographics.age_years.value is None and f.demographics.adult_documented_by_source.value is True
    assert f.ihc_in_record is False


def test_per_10_hpf_count_is_kept_with_its_denominator():
    (count,) = facts("V41").pathology.mitoses
    assert count.value.count == 3 and count.value.denominator is MitoticDenominator.PER_10_HPF


def test_entities_and_markers():
    assert facts("V52").diagnosis.entity.value is Entity.EPITHELIOID_ANGIOMYOLIPOMA
    assert facts("V26").diagnosis.entity.value is Entity.OTHER
    assert facts("V16").diagnosis.entity.value is Entity.PECOMA_MALIGNANT
    assert facts("V53").ihc["HMB45"].value is MarkerResult.NEGATIVE
    assert facts("V01").ihc["TFE3"].value is None  # "not reported" is unknown, not "not tested"
    assert facts("V31").molecular.tfe3_fusion.value is GeneStatus.ALTERED
    assert facts("V31").molecular.tfe3_partner.value == "SFPQ"


def test_medications_and_active_mtori():
    (itraconazole,) = facts("V47").medications
    assert itraconazole.ingredient == "itraconazole" and "cannot be stopped" in itraconazole.note
    assert itraconazole.rxnorm is None  # never guessed
    f = facts("V50")
    assert f.therapy.active_mtori.value is MtoriAgent.ORAL_SIROLIMUS
    assert [m.ingredient for m in f.medications] == ["sirolimus", "dexamethasone", "pantoprazole"]


def test_reported_m_status_keeps_provenance():
    m = facts("V01").extent.m
    assert m.value == "M0" and m.provenance is Provenance.REPORTED


def test_grade_discrepancy_is_unknown_plus_data_quality_note():
    f = facts("V14")
    assert f.clinical.toxicity_grades["hyperglycaemia"].value is None
    assert f.clinical.toxicity_grades["hypertriglyceridaemia"].value == 3
    assert any("hyperglycaemia" in note for note in f.data_quality)
