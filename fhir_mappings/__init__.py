"""FHIR R4 (plain, US Core, mCODE STU3/STU4) -> pathway.facts.PatientFacts."""
from fhir_mappings.extract import extract, read_draft_orders

__all__ = ["extract", "read_draft_orders"]
