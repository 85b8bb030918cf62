"""extract(): provenance, unknowns, exclusions, latest-wins with history, units, conflicts, therapy (issue #3 points 1-5)."""
from __future__ import annotations

from datetime import date

import pytest

from fhir_mappings import extract
from pathway.facts import (
    Entity, Margin, MitoticDenominator, MtoriAgent, SiteGroup, Sex, SpecimenType, summary,
)
from tests.fixtures import bundle_resources, load_vignette_bundle
from tests.fixtures.fhir_builders import LOINC, RXNORM, SCT, Record, cc

TODAY = date(2026, 11, 22)


def lab(code: str, value, unit: str, when: str, **extra) -> dict:
    obs = {"resourceType": "Observation", "id": f"{code}-{when}-{value}", "status": "final",
           "code": {"coding": [{"system": LOINC, "code": code}]}, "effectiveDateTime": when,
           "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}
    obs.update(extra)
    return obs


# --- provenance, unknown vs absent, exclusions -------------------------------------------------------
def test_every_fact_cites_its_resource_and_date():
    facts = extract(bundle_resources(load_vignette_bundle("V19")), today=TODAY)
    assert facts.pathology.size_pathology_cm.sources[0].startswith("Observation/pecoma-v19-obs-")
    assert facts.pathology.size_pathology_cm.date == date(2026, 10, 14)
    assert facts.extent.date_resection.sources[0].startswith("Procedure/")
    assert facts.diagnosis.entity.sources[0].startswith("Condition/")
    assert facts.pecoma_condition_ref == facts.diagnosis.entity.sources[0]


def test_unknown_is_distinct_from_absent():
    facts = extract(bundle_resources(load_vignette_bundle("V18")), today=TODAY)
    assert facts.pathology.necrosis.value is False  # "Not identified" in the report
    assert facts.pathology.lymphovascular_invasion.value is None  # not in the record
    assert facts.pathology.margins.value is None


def test_entered_in_error_cancelled_and_refuted_resources_are_ignored():
    good = lab("89247-1", 1, "1", "2026-10-01")
    good.pop("valueQuantity")
    good["valueInteger"] = 1
    wrong = {**good, "id": "e2", "effectiveDateTime": "2026-11-01", "valueInteger": 4, "status": "entered-in-error"}
    cancelled = {**good, "id": "e3", "effectiveDateTime": "2026-11-02", "valueInteger": 3, "status": "cancelled"}
    refuted = {"resourceType": "Condition", "id": "c1", "code": {"text": "malignant PEComa"},
               "verificationStatus": {"coding": [{"code": "refuted"}]}}
    facts = extract([good, wrong, cancelled, refuted], today=TODAY)
    assert facts.status.ecog.value == 1
    assert facts.diagnosis.entity.value is None


def test_latest_valid_measurement_wins_and_history_is_kept():
    resources = [lab("2571-8", 150, "mg/dL", "2026-11-01"), lab("2571-8", 180, "mg/dL", "2026-09-01"),
                 lab("2571-8", 3.0, "mmol/L", "2026-10-01")]
    series = extract(resources, today=TODAY).labs["triglycerides"]
    assert [r.date for r in series.results] == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert series.latest.value == 150
    assert series.results[1].value == pytest.approx(265.6, abs=0.1)  # 3.0 mmol/L x 88.54 (triolein)


# --- units ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("code,value,unit,key,expected", [
    ("2093-3", 5.0, "mmol/L", "total_cholesterol", 193.35),
    ("2345-7", 5.5, "mmol/L", "glucose", 99.088),
    ("2160-0", 88.4, "umol/L", "creatinine", 1.0),
    ("777-3", 150000, "/uL", "platelets", 150.0),
    ("777-3", 150, "10*3/uL", "platelets", 150.0),
    ("718-7", 95, "g/L", "haemoglobin", 9.5),
    ("29247-4", 12.0, "ug/L", "sirolimus_trough", 12.0),
    ("29247-4", 12.0, "µg/L", "sirolimus_trough", 12.0),
    ("4548-4", 53, "mmol/mol", "hba1c", 7.0),
])
def test_units_are_normalised_into_the_canonical_unit(code, value, unit, key, expected):
    result = extract([lab(code, value, unit, "2026-11-01")], today=TODAY).labs[key].latest
    assert result.value == pytest.approx(expected, abs=0.01)


def test_reference_range_is_converted_with_the_value():
    obs = lab("2160-0", 100, "umol/L", "2026-11-01",
              referenceRange=[{"high": {"value": 110, "unit": "umol/L", "code": "umol/L"}}])
    result = extract([obs], today=TODAY).labs["creatinine"].latest
    assert result.ratio_to_uln == pytest.approx(100 / 110, rel=1e-4)


def test_unknown_unit_makes_the_value_unusable_with_a_note():
    facts = extract([lab("2093-3", 5.0, "mg/L", "2026-11-01")], today=TODAY)
    assert "total_cholesterol" not in facts.labs
    assert any("unknown unit" in note for note in facts.data_quality)


@pytest.mark.parametrize("value,unit,expected", [(45, "mm", 4.5), (4.5, "cm", 4.5), (44.96, "mm", 4.5)])
def test_tumour_size_mm_or_cm_to_cm_one_decimal(value, unit, expected):
    rec = Record("p")
    spec = rec.specimen("Surgical resection", "2026-10-01")
    rec.tumour_size(value, unit, "pathology", specimen=spec, when="2026-10-01")
    assert extract(rec.resources, today=TODAY).pathology.size_pathology_cm.value == expected


def test_tumour_size_in_an_unknown_unit_is_not_used():
    rec = Record("p")
    rec.tumour_size(3, "in", "imaging", when="2026-10-01")
    facts = extract(rec.resources, today=TODAY)
    assert facts.pathology.size_imaging_cm.value is None
    assert any("unknown unit" in note for note in facts.data_quality)


# --- pathology details -------------------------------------------------------------------------------
@pytest.mark.parametrize("unit,denominator", [
    ("mitoses/50 HPF", MitoticDenominator.PER_50_HPF), ("/10 HPF", MitoticDenominator.PER_10_HPF),
    ("/mm2", MitoticDenominator.PER_MM2), ("per 10 high-power fields", MitoticDenominator.PER_10_HPF),
])
def test_mitoses_keep_their_explicit_denominator(unit, denominator):
    rec = Record("p")
    rec.obs({"text": "Mitotic count"}, when="2026-10-01", valueQuantity={"value": 3, "unit": unit})
    [fact] = extract(rec.resources, today=TODAY).pathology.mitoses
    assert (fact.value.count, fact.value.denominator) == (3, denominator)
    assert fact.note == "matched on text"


def test_mitoses_without_a_denominator_are_not_used():
    rec = Record("p")
    rec.obs({"text": "Mitotic count"}, when="2026-10-01", valueInteger=3)
    facts = extract(rec.resources, today=TODAY)
    assert facts.pathology.mitoses == ()
    assert any("denominator" in note for note in facts.data_quality)


def test_diagnosis_encodings_agree():
    for encoding, expected in (("icdo3:8714/3", Entity.PECOMA_MALIGNANT), ("icdo3:8714/0", Entity.PECOMA_BENIGN),
                               ("ncit:C38150", Entity.PECOMA_NOS), ("ncit:C121791", Entity.PECOMA_BENIGN),
                               ("icdo3:8860/1", Entity.EPITHELIOID_ANGIOMYOLIPOMA)):
        rec = Record("p")
        rec.primary("tumour", encoding=encoding)
        assert extract(rec.resources, today=TODAY).diagnosis.entity.value is expected, encoding
    rec = Record("p")
    rec.primary("PEComa", encoding="ncit:C38150", icd10="C48.0")  # ICD-10-CM C-chapter: malignant
    assert extract(rec.resources, today=TODAY).diagnosis.entity.value is Entity.PECOMA_MALIGNANT


def test_sex_is_inferred_from_a_gynaecologic_primary_only_when_not_documented():
    rec = Record("p")
    rec.patient(50, None, TODAY)
    rec.primary("PEComa", encoding="ncit:C40180", site="uterine corpus")
    facts = extract(rec.resources, today=TODAY)
    assert facts.site.site_group.value is SiteGroup.GYNAECOLOGIC
    assert (facts.demographics.sex.value, facts.demographics.sex.provenance.value) == (Sex.FEMALE, "inferred")
    rec.resources[0]["gender"] = "male"  # documented sex is never overridden (the core reports the conflict)
    facts = extract(rec.resources, today=TODAY)
    assert (facts.demographics.sex.value, facts.demographics.sex.provenance.value) == (Sex.MALE, "documented")


def test_specimen_type_comes_from_the_specimen():
    rec = Record("p")
    rec.specimen("Incisional biopsy", "2026-10-01")
    assert extract(rec.resources, today=TODAY).diagnosis.specimen_type.value is SpecimenType.INCISIONAL_BIOPSY


# --- conflicts ---------------------------------------------------------------------------------------
def test_localised_staging_versus_metastatic_condition_is_a_conflict():
    rec = Record("p")
    primary = rec.primary("malignant PEComa", encoding="icdo3:8714/3")
    rec.secondary("Liver metastases", primary=primary, icd10="C78.7", onset="2026-09-01")
    rec.tnm("M", "M0", focus=primary, when="2026-10-01")
    facts = extract(rec.resources, today=TODAY)
    [conflict] = facts.conflicts
    assert conflict.kind == "localised_vs_metastatic"
    assert any(s.startswith("Condition/") for s in conflict.sources)
    rec.resources[-1]["effectiveDateTime"] = "2026-08-01"  # M0 before the metastasis: no conflict
    assert extract(rec.resources, today=TODAY).conflicts == ()


def test_r0_resection_versus_unresectable_statement_is_a_conflict():
    rec = Record("p")
    primary = rec.primary("malignant PEComa", encoding="icdo3:8714/3")
    rec.procedure("Resection of primary tumour", performed="2026-10-10", reason=primary)
    rec.obs(cc(SCT, "396631001", "Surgical margin observable"), when="2026-10-10", valueCodeableConcept={"text": "R0"})
    rec.finding("resectability", "Resectability (MDT)", "Unresectable", when="2026-09-01")
    facts = extract(rec.resources, today=TODAY)
    assert facts.pathology.margins.value is Margin.R0
    assert [c.kind for c in facts.conflicts] == ["margin_r0_vs_unresectable"]


def test_pathology_and_imaging_sizes_are_kept_separately_for_the_core():
    facts = extract(bundle_resources(load_vignette_bundle("V44")), today=TODAY)
    assert (facts.pathology.size_pathology_cm.value, facts.pathology.size_imaging_cm.value) == (4.6, 6.0)
    assert facts.conflicts == ()  # the discordance itself is computed by the pathway core


# --- therapy -------------------------------------------------------------------------------------------
def test_route_decides_oral_versus_nab_sirolimus_when_the_product_does_not():
    for route, agent in (("Oral", MtoriAgent.ORAL_SIROLIMUS), ("Intravenous", MtoriAgent.NAB_SIROLIMUS)):
        rec = Record("p")
        rec.med(cc(RXNORM, "35302", "sirolimus"), kind="MedicationRequest", route=route, start="2026-10-01")
        assert extract(rec.resources, today=TODAY).therapy.active_mtori.value is agent
    rec = Record("p")
    rec.med(cc(RXNORM, "35302", "sirolimus"), start="2026-10-01")
    facts = extract(rec.resources, today=TODAY)
    assert facts.therapy.active_mtori.value is None
    assert any("oral or nab-sirolimus" in note for note in facts.data_quality)


def test_therapy_lines_group_regimens_with_dates_reason_and_response():
    facts = extract(bundle_resources(load_vignette_bundle("V32")), today=TODAY)
    first, second = facts.therapy.lines
    assert (first.agents, first.best_response, first.reason_stopped) == (("nab-sirolimus",), "PR", "progression")
    assert (second.agents, second.start, second.stop) == (("gemcitabine", "docetaxel"), date(2026, 1, 5), date(2026, 8, 17))
    assert facts.therapy.prior_mtori.value is True and facts.therapy.progressed_on_mtori.value is True


def test_active_medications_for_interaction_checks_use_rxnorm_only_when_verified():
    rec = Record("p")
    rec.med(cc(RXNORM, "83367", "atorvastatin"))
    rec.med({"text": "Itraconazole 200 mg capsule"}, dose_mg=200)
    meds = extract(rec.resources, today=TODAY).medications
    assert [(m.ingredient, m.rxnorm) for m in meds] == [("atorvastatin", "83367"), ("itraconazole", None)]


def test_ended_medication_is_not_active():
    rec = Record("p")
    rec.med(cc(RXNORM, "83367", "atorvastatin"), start="2026-01-01", end="2026-06-01")
    assert extract(rec.resources, today=TODAY).medications == ()


# --- patient scoping -------------------------------------------------------------------------------------
def test_resources_about_another_patient_are_skipped():
    mine = Record("me")
    mine.patient(40, "F", TODAY)
    mine.ecog(1)
    other = Record("other")
    other.ecog(3, when="2026-11-20")
    facts = extract(mine.resources + other.resources, today=TODAY, patient_id="me")
    assert facts.status.ecog.value == 1
    assert facts.patient_ref == "Patient/me"
    assert any("another patient" in note for note in facts.data_quality)


def test_bundles_are_unwrapped_and_duplicates_read_once():
    bundle = load_vignette_bundle("V45")
    once = summary(extract([bundle], today=TODAY))
    twice = summary(extract([bundle, bundle_resources(bundle)[0], {"resourceType": "Bundle", "entry": [bundle]}],
                            today=TODAY))
    assert once == twice and once["extent"]["metastatic_sites"] == ["lung"]


def test_notes_never_carry_patient_data():
    rec = Record("secret-id-123")
    rec.patient(40, "F", TODAY)
    rec.obs({"text": "Mitotic count"}, valueInteger=3)
    rec.lab(cc(LOINC, "2093-3"), value=5, unit="furlongs")
    notes = " ".join(extract(rec.resources, today=TODAY).data_quality)
    assert notes and "secret-id-123" not in notes


def test_hypersensitivity_to_an_mtor_inhibitor_is_a_contraindication():
    allergy = {"resourceType": "AllergyIntolerance", "id": "a1", "clinicalStatus": {"coding": [{"code": "active"}]},
               "code": {"coding": [{"system": RXNORM, "code": "657797", "display": "temsirolimus"}]}}
    penicillin = {"resourceType": "AllergyIntolerance", "id": "a2", "code": {"text": "Penicillin"}}
    facts = extract([allergy, penicillin], today=TODAY)
    assert facts.therapy.mtori_contraindication.value == "hypersensitivity to temsirolimus (allergy record)"
    assert facts.therapy.mtori_contraindication.sources == ("AllergyIntolerance/a1",)
    refuted = {**allergy, "verificationStatus": {"coding": [{"code": "refuted"}]}}
    assert extract([refuted], today=TODAY).therapy.mtori_contraindication.value is None


@pytest.mark.parametrize("answer,expected", [
    ("Present", True), ("Not identified", False), ("No evidence of necrosis", False), ("Present (focal)", True),
    ("Yes", True), ("Absent", False), ("Equivocal", None), ("Not detected", False),
])
def test_present_absent_answers(answer, expected):
    rec = Record("p")
    rec.obs({"text": "Tumour necrosis"}, when="2026-10-01", valueCodeableConcept={"text": answer})
    assert extract(rec.resources, today=TODAY).pathology.necrosis.value is expected


def test_an_mtor_inhibitor_recorded_as_never_taken_is_prior_mtori_false_without_noise():
    statement = {"resourceType": "MedicationStatement", "id": "never-1", "status": "not-taken",
                 "subject": {"reference": "Patient/p1"},
                 "medicationCodeableConcept": {"text": "mTOR inhibitor (sirolimus, everolimus, temsirolimus): never taken"}}
    facts = extract([{"resourceType": "Patient", "id": "p1"}, statement], today=TODAY, patient_id="p1")
    assert facts.therapy.prior_mtori.value is False
    assert facts.therapy.active_mtori.value is None
    assert not any("agent unknown" in note for note in facts.data_quality)
