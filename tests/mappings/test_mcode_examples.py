"""Data no one here wrote (issue #3 point 7): the published mCODE STU4 examples map to the facts they state."""
from __future__ import annotations

import copy
from datetime import date

from fhir_mappings import extract
from pathway.decide import decide
from pathway.facts import Entity, GeneStatus
from tests.fixtures import bundle_resources, load_mcode_example

TODAY = date(2026, 11, 22)


def facts_of(*names: str):
    return extract([load_mcode_example(n) for n in names], today=TODAY)


def test_stu4_tnm_stage_group_and_categories_in_snomed():
    facts = facts_of(
        "Observation-tnm-clinical-stage-group-3c",
        "Observation-tnm-clinical-primary-tumor-category-cT3",
        "Observation-tnm-clinical-regional-nodes-category-cN3",
        "Observation-tnm-clinical-distant-metastases-category-cM0",
    )
    extent = facts.extent
    assert (extent.t.value, extent.n.value, extent.m.value) == ("T3", "N3", "M0")
    assert extent.reported_stage.value == "IIIC"  # SNOMED 1222806003
    assert extent.t.sources == ("Observation/tnm-clinical-primary-tumor-category-cT3",)
    assert extent.t.date == date(2019, 4, 1)
    assert extent.reported_stage.note == "AJCC 8th"  # staging method SNOMED 897275008


def test_stu3_style_staging_in_loinc_with_ajcc_values():
    facts = extract(bundle_resources(load_mcode_example("stu3-style-staging")), today=TODAY)
    assert (facts.extent.t.value, facts.extent.n.value, facts.extent.m.value) == ("T2", "N1", "M0")
    assert facts.extent.reported_stage.value == "IIB"


def test_tumour_size_from_a_specimen_is_a_pathology_size_in_cm():
    facts = facts_of("Observation-tumor-size-jenny-m")  # 2.5 cm, specimen reference
    assert facts.pathology.size_pathology_cm.value == 2.5
    assert facts.pathology.size_pathology_cm.sources == ("Observation/tumor-size-jenny-m",)
    assert facts.pathology.size_imaging_cm.value is None


def test_tumour_size_by_gross_examination_is_a_pathology_size():
    facts = facts_of("Observation-tumor-size-pathology")  # 1.2 cm, method "Gross examination ... specimen"
    assert facts.pathology.size_pathology_cm.value == 1.2


def test_genomic_variant_present_and_absent_are_read_for_the_genes_studied():
    variant = load_mcode_example("Observation-genomic-variant-jenny-m")  # PALB2, LA9633-4 Present
    assert extract([variant], today=TODAY).molecular.tsc2.value is None  # PALB2 is not a pathway gene
    as_tsc2 = copy.deepcopy(variant)  # the same resource, edited to the PEComa gene (HGNC:12363)
    as_tsc2["component"][0]["valueCodeableConcept"]["coding"][0].update(code="HGNC:12363", display="TSC2")
    assert extract([as_tsc2], today=TODAY).molecular.tsc2.value is GeneStatus.ALTERED
    negative = load_mcode_example("Observation-gx-genomic-variant-pertinent-negative-nras-kit-braf")
    negative["component"][0]["valueCodeableConcept"]["coding"][0].update(code="HGNC:12362", display="TSC1")
    assert extract([negative], today=TODAY).molecular.tsc1.value is GeneStatus.NOT_ALTERED  # LA9634-2 "Absent"


def test_fusion_example_maps_to_a_tfe3_fusion_when_tfe3_is_a_partner():
    fusion = load_mcode_example("Observation-gx-genomic-variant-fusion-met-alk")  # SO:0002062, SO URI with slash
    assert extract([fusion], today=TODAY).molecular.tfe3_fusion.value is None
    fusion["component"][0]["valueCodeableConcept"]["coding"] = [
        {"system": "http://www.genenames.org/geneId", "code": "HGNC:11752", "display": "TFE3"}]
    facts = extract([fusion], today=TODAY)
    assert facts.molecular.tfe3_fusion.value is GeneStatus.ALTERED
    assert facts.molecular.tfe3_partner.value == "ALK"


def test_ecog_value_integer():
    facts = facts_of("Observation-ecog-performance-status-jenny-m")
    assert facts.status.ecog.value == 0
    assert facts.status.ecog.sources == ("Observation/ecog-performance-status-jenny-m",)


def test_doxorubicin_request_is_an_active_medication_with_its_rxnorm_ingredient():
    facts = facts_of("MedicationRequest-cancer-related-medication-request-doxorubicin-jenny-m")
    [medication] = facts.medications
    assert (medication.ingredient, medication.rxnorm, medication.route) == ("doxorubicin", "3639", "intravenous")
    assert medication.start == date(2018, 4, 1)
    assert facts.therapy.active_mtori.value is None


def test_doxorubicin_administration_by_clinical_drug_code_is_a_completed_line():
    facts = facts_of("MedicationAdministration-cancer-related-medication-admin-doxorubicin-jenny-m")  # SCD 1790099
    [line] = facts.therapy.lines
    assert line.agents == ("doxorubicin",) and line.start == line.stop == date(2018, 4, 22)
    assert facts.medications == ()


def test_breast_cancer_patient_is_not_pecoma_and_gets_no_cards():
    facts = facts_of("Patient-cancer-patient-eve-anyperson", "Condition-primary-cancer-condition-breast")
    assert facts.diagnosis.entity.value is Entity.OTHER
    assert facts.pecoma_condition_ref is None
    assert facts.demographics.sex.value.value == "female"
    decision = decide(facts, today=TODAY)
    assert decision.recommendations == ()


def test_breast_cancer_with_snomed_histology_extension_is_other():
    facts = facts_of("Patient-cancer-patient-jenny-m", "Condition-primary-cancer-condition-jenny-m",
                     "Condition-secondary-cancer-condition-brain-mets")
    assert facts.diagnosis.entity.value is Entity.OTHER
    assert [s.value for s in facts.extent.metastatic_sites] == ["brain"]
    assert facts.extent.date_first_metastasis.value == date(2019, 5, 1)


def test_disease_status_worsened_during_an_mtori_counts_as_progression():
    status = load_mcode_example("Observation-cancer-disease-status-jenny-m")
    status["valueCodeableConcept"]["coding"][0].update(code="271299001", display="Patient's condition worsened")
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "completed",
                 "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                           "code": "2586868"}]},
                 "effectivePeriod": {"start": "2018-06-01", "end": "2019-01-31"}}
    facts = extract([status, statement], today=TODAY)  # worsened on 2018-11-01, Fyarro Jun 2018 - Jan 2019
    assert facts.therapy.progressed_on_mtori.value is True
    assert facts.therapy.prior_mtori.value is True
    assert facts.therapy.lines[0].agents == ("nab-sirolimus",)
