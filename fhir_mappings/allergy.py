"""AllergyIntolerance -> mTOR-inhibitor contraindication (hypersensitivity to sirolimus or a rapamycin derivative,
pathway-spec §1 Therapy row). The agent is read from RxNorm (✅/☑ rows) or, failing that, from text."""
from __future__ import annotations

from fhir_mappings import fhir
from fhir_mappings import terminology as term
from fhir_mappings.context import TEXT_NOTE, Context, make_fact

_MTORI = frozenset({"sirolimus", "temsirolimus", "everolimus", "mtor_inhibitor_class"})
_INACTIVE = frozenset({"inactive", "resolved"})


def extract_allergies(ctx: Context) -> None:
    for allergy in ctx.resources("AllergyIntolerance"):
        if fhir.is_excluded(allergy) or fhir.status_code(allergy.get("clinicalStatus")) in _INACTIVE:
            continue
        concept = fhir.code_of(allergy.get("code"), "medication")
        key = concept.key.partition("+")[0] if concept else term.text_key(fhir.all_text(allergy.get("code")), "medication_names")
        ingredient = key.partition("+")[0] if key else None
        if ingredient not in _MTORI:
            continue
        agent = "an mTOR inhibitor" if ingredient == "mtor_inhibitor_class" else ingredient
        ctx.facts.therapy.mtori_contraindication = make_fact(
            f"hypersensitivity to {agent} (allergy record)", allergy,
            when=fhir.parse_date(allergy.get("recordedDate")), note=None if concept else TEXT_NOTE)
