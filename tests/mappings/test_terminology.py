"""Terminology as data (issue #3 point 2): tables with marks and sources, aliases, ⚠ never matched."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fhir_mappings import extract
from fhir_mappings import terminology as term
from pathway.facts import Entity

TERMINOLOGY_MD = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "terminology.md"
SOURCE_KEYS = {"MCODE", "MCODE-PKG", "MCODE-STU3", "GR2", "GR-HEAD", "HL7TERM", "MONDO", "DO", "ICDO32", "CIBMTR",
               "CPIC", "R4OBS", "R2BO", "DICOM", "CODEXRT", "MII", "IDEA4RC", "PCDC", "CTMS-TJ", "unsourced"}
GROUPS = json.loads((Path(term.__file__).parent / "codes.json").read_text(encoding="utf-8"))["groups"]


def all_rows():
    for group, table in GROUPS.items():
        for row in table["rows"]:
            yield group, row


@pytest.mark.parametrize("group,row", list(all_rows()), ids=lambda x: x if isinstance(x, str) else x[1])
def test_every_code_has_a_mark_and_a_source_and_appears_in_the_reference(group, row):
    system, code, display, mark, source, key = row
    assert mark in ("✅", "☑", "⚠")
    assert source in SOURCE_KEYS or source.startswith("terminology.md §")
    reference = TERMINOLOGY_MD.read_text(encoding="utf-8")
    bare = code.split(":")[-1]
    # ICD-10-CM rows listed there as ranges ("C78.00–.02", "C54.0–C54.9", "C64.1/.2/.9") match on their stem
    assert bare in reference or (system == "icd10cm" and bare[:-1] in reference), f"{code} is not in terminology.md"


def test_unverified_codes_are_never_matched():
    unverified = [c for g in GROUPS for c in term.concepts(g) if c.mark == "⚠"]
    assert {c.code for c in unverified} >= {"388601000", "44", "157033002"}
    for concept in unverified:
        assert term.lookup(concept.system, concept.code, concept.group) is None


def test_a_pecoma_condition_coded_only_with_the_unverified_snomed_id_is_read_on_text():
    condition = {"resourceType": "Condition", "id": "c1",
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "388601000"}],
                          "text": "Perivascular epithelioid cell tumour"}}
    facts = extract([condition], today=date(2026, 11, 22))
    assert facts.diagnosis.entity.value is Entity.PECOMA_NOS
    assert "matched on text" in facts.diagnosis.entity.note
    coded_only = {"resourceType": "Condition", "id": "c2",
                  "code": {"coding": [{"system": "http://snomed.info/sct", "code": "388601000"}]}}
    assert extract([coded_only], today=date(2026, 11, 22)).diagnosis.entity.value is None


@pytest.mark.parametrize("system", ["http://www.genenames.org", "http://www.genenames.org/geneId"])
def test_hgnc_is_matched_under_both_system_uris(system):
    assert term.lookup(system, "HGNC:12363", "gene").key == "TSC2"


@pytest.mark.parametrize("system", ["http://www.sequenceontology.org", "http://www.sequenceontology.org/"])
def test_sequence_ontology_with_and_without_trailing_slash(system):
    assert term.lookup(system, "SO:0001565", "value").key == "fusion"


@pytest.mark.parametrize("system", ["http://hl7.org/fhir/sid/icd-10-cm", "http://terminology.hl7.org/CodeSystem/icd10CM"])
def test_icd10cm_both_uris(system):
    assert term.lookup(system, "C48.0", "primary_site").key == "retroperitoneum"


def test_rxnorm_products_map_to_their_ingredient():
    assert term.lookup(term.SYSTEM["rxnorm"], "2586868", "medication").key == "sirolimus+nab"  # Fyarro SBD
    assert term.lookup(term.SYSTEM["rxnorm"], "258355", "medication").key == "sirolimus+oral"  # Rapamune BN
    assert term.lookup(term.SYSTEM["rxnorm"], "35302", "medication").key == "sirolimus"


def test_unit_factors_each_name_a_source():
    units = term.UNITS
    for table in [units["length_cm"], *units["labs"].values()]:
        for unit, (factor, offset, source) in table.items():
            assert source in units["sources"], (unit, source)
