"""Emergencies mentioned only in free text (spec §4 R12 text fallback): surfaced for verification, never acted on."""
from __future__ import annotations

from datetime import date

from fhir_mappings import extract
from pathway.decide import decide
from tests.fixtures import bundle_resources, load_vignette_bundle, vignette_patient_id

TODAY = date(2026, 11, 22)


def record(vid: str, *extra: dict) -> list[dict]:
    return bundle_resources(load_vignette_bundle(vid)) + list(extra)


def imaging_note(pid: str, text: str) -> dict:
    return {"resourceType": "Observation", "id": "mri-1", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "imaging"}]}],
            "code": {"text": "MRI spine report"}, "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2026-11-20", "valueString": text}


def mentions(facts) -> list[str]:
    return [n for n in facts.data_quality if "in free text" in n]


def test_a_report_mentioning_cord_compression_asks_for_verification_but_raises_no_r12():
    pid = vignette_patient_id("V45")
    facts = extract(record("V45", imaging_note(pid, "Findings: new epidural mass at T4 with cord compression.")),
                    today=TODAY, patient_id=pid)
    (note,) = mentions(facts)
    assert "Observation/mri-1 (2026-11-20)" in note and "cord compression" in note and "verify" in note
    assert not facts.clinical.emergencies
    assert "R12" not in decide(facts, today=TODAY).rule_ids()


def test_negated_or_questioned_mentions_are_not_reported():
    pid = vignette_patient_id("V45")
    for text in ("No evidence of cord compression.", "Cord compression ruled out on MRI.", "?SVC syndrome",
                 "History of hypercalcaemia in 2019."):
        facts = extract(record("V45", imaging_note(pid, text)), today=TODAY, patient_id=pid)
        assert not mentions(facts), text


def test_an_emergency_already_on_the_problem_list_is_not_repeated():
    pid = vignette_patient_id("V50")  # cord compression recorded as a Condition (R12 fires)
    facts = extract(record("V50", imaging_note(pid, "Severe cord compression T1-T4.")), today=TODAY, patient_id=pid)
    assert not mentions(facts) and facts.clinical.emergencies["spinal_cord_compression"].value is True
