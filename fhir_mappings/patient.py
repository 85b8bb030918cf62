"""Patient -> demographics (age on the reference date, administrative sex)."""
from __future__ import annotations

from datetime import date
from typing import Any

from fhir_mappings import fhir
from fhir_mappings.context import Context, make_fact
from pathway.facts import Sex

_SEX = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.OTHER}  # "unknown" stays unknown


def choose_patient(ctx: Context, patient_id: str | None) -> dict[str, Any] | None:
    patients = ctx.resources("Patient")
    if patient_id:
        for p in patients:
            if p.get("id") == patient_id:
                return p
        if patients:
            ctx.note("Patient resource(s) present but none with the requested id: demographics not read")
        return None
    if len(patients) > 1:
        ctx.note("several Patient resources: the first was used")
    return patients[0] if patients else None


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def extract_patient(ctx: Context, patient: dict[str, Any]) -> None:
    demo = ctx.facts.demographics
    birth = fhir.parse_date(patient.get("birthDate"))
    if birth is not None:
        if birth > ctx.today:
            ctx.note("Patient.birthDate is after the reference date: age unknown")
        else:
            note = "birthDate is partial (year or month only)" if len(str(patient.get("birthDate"))) < 10 else None
            demo.age_years = make_fact(age_on(birth, ctx.today), patient, when=ctx.today, unit="a", note=note)
    elif "birthDate" in patient:
        ctx.note("Patient.birthDate unreadable: age unknown")
    gender = patient.get("gender")
    if isinstance(gender, str) and gender in _SEX:
        demo.sex = make_fact(_SEX[gender], patient)
