"""Human and machine documentation of the rules: HTML pages and FHIR CodeSystems.

Generated from ``pathway.catalogue.RULES`` (the rule catalogue) and the override reasons
of ``cards``. Cards link to ``{base}/rules/{rule_id}``; their ``source.topic.system`` is
``{base}/fhir/CodeSystem/pecoma-rule``. Every text is HTML-escaped.
"""
from __future__ import annotations

from enum import Enum
from html import escape
from typing import Any

from pathway.catalogue import RULES, RuleEntry

try:  # H4's tables (cards/tables.py); the fallbacks keep the service up while cards/ evolves
    from cards import tables as _card_tables
except ImportError:  # pragma: no cover
    _card_tables = None  # type: ignore[assignment]

RULE_CODE_SYSTEM_PATH = getattr(_card_tables, "RULE_CODE_SYSTEM_PATH", "/fhir/CodeSystem/pecoma-rule")
OVERRIDE_REASON_CODE_SYSTEM_PATH = getattr(_card_tables, "OVERRIDE_REASON_CODE_SYSTEM_PATH", "/fhir/CodeSystem/pecoma-override-reason")

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;line-height:1.45}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
)


def _text(value: Any) -> str:
    return escape(value.value if isinstance(value, Enum) else str(value))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def rules_index_html() -> str:
    rows = "".join(
        f"<tr><td><a href=\"rules/{escape(rule.rule_id)}\">{escape(rule.rule_id)}</a></td><td>{escape(rule.title)}</td>"
        f"<td>{_text(rule.kind)}</td><td>{_text(rule.urgency)}</td></tr>\n"
        for rule in RULES.values()
    )
    table = (
        "<table><thead><tr><th>Rule</th><th>Title</th><th>Kind</th><th>Default urgency</th></tr></thead>\n"
        f"<tbody>\n{rows}</tbody></table>"
        if rows
        else "<p>The rule catalogue is empty in this version.</p>"
    )
    return _page("PEComa CDS rules", f"<h1>PEComa CDS rules</h1>\n<p>Every rule the service can fire, from its rule catalogue.</p>\n{table}")


def rule_html(rule: RuleEntry) -> str:
    evidence = "".join(
        f"<li>{escape(ev.source)} — {escape(ev.level)}" + (f": {escape(ev.statement)}" if ev.statement else "") + "</li>\n"
        for ev in rule.evidence
    ) or "<li>none listed</li>"
    hooks = ", ".join(escape(h) for h in rule.hooks) or "none"
    body = (
        f"<p><a href=\"../rules\">All rules</a></p>\n<h1>{escape(rule.rule_id)}: {escape(rule.title)}</h1>\n"
        "<table>"
        f"<tr><th>What it checks</th><td>{escape(rule.description)}</td></tr>"
        f"<tr><th>Kind</th><td>{_text(rule.kind)}</td></tr>"
        f"<tr><th>Default urgency</th><td>{_text(rule.urgency)}</td></tr>"
        f"<tr><th>Specification</th><td>{escape(rule.spec_section) or 'not given'}</td></tr>"
        f"<tr><th>Hooks</th><td>{hooks}</td></tr>"
        "</table>\n"
        f"<h2>Evidence</h2>\n<ul>\n{evidence}</ul>"
    )
    return _page(f"{rule.rule_id}: {rule.title}", body)


def rules_as_json() -> list[dict[str, Any]]:
    """The catalogue as plain JSON (``pecoma-cds rules``)."""
    return [
        {
            "rule_id": r.rule_id,
            "title": r.title,
            "kind": _text(r.kind),
            "urgency": _text(r.urgency),
            "description": r.description,
            "evidence": [{k: v for k, v in {"source": e.source, "level": e.level, "statement": e.statement}.items() if v} for e in r.evidence],
            "spec_section": r.spec_section,
            "hooks": list(r.hooks),
        }
        for r in RULES.values()
    ]


def rule_code_system(base_url: str) -> dict[str, Any]:
    """The rule ids as a FHIR R4 CodeSystem (the system of every card's ``source.topic``)."""
    base = base_url.rstrip("/")
    concepts = [
        {k: v for k, v in {"code": r.rule_id, "display": r.title, "definition": r.description}.items() if v}
        for r in RULES.values()
    ]
    system: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": "pecoma-rule",
        "url": f"{base}{RULE_CODE_SYSTEM_PATH}",
        "name": "PecomaRule",
        "title": "PEComa CDS: rules of the pathway",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "count": len(concepts),
    }
    if concepts:
        system["concept"] = concepts
    return system


def override_reason_code_system(base_url: str) -> dict[str, Any] | None:
    """The override reasons as a FHIR CodeSystem, from ``cards`` (None when cards has none yet)."""
    build = getattr(_card_tables, "override_reason_code_system", None)
    return build(base_url) if build else None
