"""Orderable codes as data (``data/orderables.json``): loaded once at import, never typed into rules.

Only ✅/☑ rows of shared/reference/terminology.md are in the table; the loader refuses any
other mark, so a ⚠ code can never be emitted.
"""
from __future__ import annotations

import json
from importlib import resources

from pathway.decision import Coding, ProposedOrder

_EMITTABLE_MARKS = ("✅", "☑")


def _load() -> dict[str, dict]:
    table = json.loads(resources.files("pathway").joinpath("data/orderables.json").read_text(encoding="utf-8"))
    systems = table["systems"]
    orders = {}
    for key, row in table["orders"].items():
        for coding in row["codings"]:
            if coding["mark"] not in _EMITTABLE_MARKS:
                raise ValueError(f"orderables.json: {key} carries a non-emittable code {coding['code']}")
        orders[key] = {**row, "codings": tuple(Coding(systems[c["system"]], c["code"], c["display"]) for c in row["codings"])}
    return orders


ORDERABLES: dict[str, dict] = _load()


def proposed_order(key: str, *, dosage_text: str | None = None, recommended: bool = False,
                   note: str | None = None) -> ProposedOrder:
    """A draft order for the clinician to accept or not (never placed automatically)."""
    row = ORDERABLES[key]
    return ProposedOrder(resource_type=row["resource_type"], codings=row["codings"], text=row["text"],
                         dosage_text=dosage_text, category=row.get("category"), recommended=recommended, note=note)
