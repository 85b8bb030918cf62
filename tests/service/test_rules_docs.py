"""Rule documentation pages and code systems, generated from the rule catalogue."""
from __future__ import annotations

import html

from pathway.catalogue import RULES, RuleEntry
from pathway.decision import Evidence, Kind, Urgency

from cds_service.rules_docs import rule_code_system, rule_html, rules_as_json


def test_every_catalogue_rule_has_a_page_and_a_code(server, http):
    codes = {c["code"] for c in http.get(server.url + "/fhir/CodeSystem/pecoma-rule").json().get("concept", [])}
    assert codes == set(RULES)
    index = http.get(server.url + "/rules").text
    for rule_id, rule in RULES.items():
        page = http.get(f"{server.url}/rules/{rule_id}")
        assert page.status_code == 200
        assert f"rules/{rule_id}" in index
        for evidence in rule.evidence:
            assert html.escape(evidence.level) in page.text


def test_pages_escape_catalogue_text():
    rule = RuleEntry(rule_id="X1", title="<script>alert(1)</script>", kind=Kind.SAFETY, urgency=Urgency.CRITICAL,
                     description="a & b", evidence=(Evidence(source="P-FDA", level="[V] <label>"),), spec_section="§4", hooks=("order-sign",))
    page = rule_html(rule)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "a &amp; b" in page and "[V] &lt;label&gt;" in page and "order-sign" in page


def test_code_system_and_json_listing_match_the_catalogue():
    system = rule_code_system("https://cds.example.org/")
    assert system["url"] == "https://cds.example.org/fhir/CodeSystem/pecoma-rule"
    assert system["count"] == len(RULES)
    assert [r["rule_id"] for r in rules_as_json()] == list(RULES)
