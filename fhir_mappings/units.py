"""Unit normalisation from the table in terminology/units.json (each factor with its source)."""
from __future__ import annotations

from fhir_mappings.terminology import UNITS

_MICRO = str.maketrans({"µ": "u", "μ": "u"})
#: A lab value reported as a multiple of the lab's upper limit of normal (kept as such, never converted).
ULN_RATIO = UNITS["uln_ratio"]["unit"]


def _clean(unit: str | None) -> str | None:
    if not isinstance(unit, str):
        return None
    return unit.strip().translate(_MICRO)


def _convert(value: float, unit: str | None, table: dict[str, list]) -> float | None:
    unit = _clean(unit)
    if unit is None:
        return None
    row = table.get(unit)
    if row is None:
        row = next((r for u, r in table.items() if u.lower() == unit.lower()), None)
    if row is None:
        return None
    factor, offset, _source = row
    return value * factor + offset


def to_cm(value: float, unit: str | None) -> float | None:
    """A length in cm, or None for a unit that is not a known length."""
    return _convert(value, unit, UNITS["length_cm"])


def to_lab_unit(lab_key: str, value: float, unit: str | None) -> float | None:
    """A lab value in the canonical unit of pathway.facts.LAB_UNITS, or None for an unknown unit."""
    table = UNITS["labs"].get(lab_key)
    return _convert(value, unit, table) if table else None


def is_uln_ratio(unit: str | None) -> bool:
    return _clean(unit) in UNITS["uln_ratio"]["accepted"]
