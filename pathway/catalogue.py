"""The rule catalogue: every rule_id with its title, kind, urgency and evidence.

STUB until the pathway issue lands. Served by the service (`/rules`, one page per
rule) and printed by `pecoma-cds rules`; cards use `title` as source.topic.display.
"""
from __future__ import annotations

from dataclasses import dataclass

from pathway.decision import Evidence, Kind, Urgency


@dataclass(frozen=True)
class RuleEntry:
    rule_id: str
    title: str
    kind: Kind
    urgency: Urgency  # default urgency (a rule may escalate, e.g. R5)
    description: str  # what it checks, in plain words
    evidence: tuple[Evidence, ...] = ()
    spec_section: str = ""  # e.g. "pathway-spec.md §4 R1"
    hooks: tuple[str, ...] = ("patient-view",)


RULES: dict[str, RuleEntry] = {}
