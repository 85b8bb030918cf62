"""pathway Decision -> CDS Hooks 2.0 cards (plain JSON-ready dicts).

One card per Recommendation, critical -> warning -> info (stable within a level); on
patient-view an assessment card comes first for in-scope patients. Everything clinical comes
from the Decision and the rule catalogue: this module only lays it out. ``render`` never raises:
a card that cannot be laid out becomes a minimal card pointing to the rule page.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import quote

from pathway.catalogue import RULES, RuleEntry
from pathway.decision import (
    Assessment,
    DataGap,
    Decision,
    Evidence,
    Kind,
    Recommendation,
    SchemeResult,
    ScopeStatus,
    Stage,
    Urgency,
)
from cards import markdown as md
from cards.suggestions import build_offer
from cards.tables import (
    CLASS_NAMES,
    FLAG_NAMES,
    OVERRIDE_REASON_CODE_SYSTEM_PATH,
    OVERRIDE_REASONS,
    RULE_CODE_SYSTEM_PATH,
    RULE_PAGE_PATH,
    SETTING_NAMES,
    basis_names,
    source_entry,
)

log = logging.getLogger(__name__)

#: source.topic.code of the assessment card (patient-view); the catalogue may describe it.
ASSESSMENT_TOPIC = "ASSESSMENT"
MAX_SUMMARY = 139  # CDS Hooks: "<140-character"
_DIAGNOSIS_HEAD = re.compile(r"\s*[,;(]")  # where a diagnosis text's qualifiers begin
_URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.WARNING: 1, Urgency.INFO: 2}
_ACTIONABLE_KINDS = (Kind.TREATMENT, Kind.SAFETY)
_CODE_SYSTEM_ROOT = "/fhir/CodeSystem"


@dataclass(frozen=True)
class RenderContext:
    hook: str  # patient-view / order-select / order-sign
    patient_ref: str  # "Patient/123"
    base_url: str  # public base URL of this service, for absolute links to rule documentation
    smart_app_url: str | None = None  # a site's SMART app link, if configured
    code_system_base: str | None = None  # default f"{base_url}/fhir/CodeSystem"
    pecoma_condition_ref: str | None = None  # PatientFacts.pecoma_condition_ref: reasonReference of draft orders
    smart_app_label: str = "Open the PEComa app"
    draft_order_names: tuple[tuple[str, str], ...] = ()  # (reference, text) of the request's draft orders

    def order_label(self, reference: str) -> str:
        """'Sirolimus 1 MG Oral Tablet (MedicationRequest/123)': the name a clinician recognises, with its id."""
        name = dict(self.draft_order_names).get(reference)
        return f"{name} ({reference})" if name else reference

    def __post_init__(self) -> None:
        base = str(self.base_url or "").rstrip("/")
        object.__setattr__(self, "base_url", base)
        systems = str(self.code_system_base or f"{base}{_CODE_SYSTEM_ROOT}").rstrip("/")
        object.__setattr__(self, "code_system_base", systems)

    @property
    def rule_system(self) -> str:
        return self.code_system_base + RULE_CODE_SYSTEM_PATH.removeprefix(_CODE_SYSTEM_ROOT)

    @property
    def override_reason_system(self) -> str:
        return self.code_system_base + OVERRIDE_REASON_CODE_SYSTEM_PATH.removeprefix(_CODE_SYSTEM_ROOT)

    def rule_page(self, rule_id: str) -> str:
        return self.base_url + RULE_PAGE_PATH.format(rule_id=quote(str(rule_id), safe=""))


def render(decision: Decision, context: RenderContext) -> list[dict[str, Any]]:
    """Cards in CDS Hooks 2.0 JSON (plain dicts), ordered critical -> warning -> info."""
    assessment = getattr(decision, "assessment", None)
    scope = getattr(assessment, "scope", None)
    if scope is ScopeStatus.NOT_PECOMA:
        return []
    cards: list[dict[str, Any]] = []
    given = [r for r in (getattr(decision, "recommendations", None) or ()) if isinstance(r, Recommendation)]
    # The assessment is one card built from decision.assessment (patient-view, in scope only);
    # an assessment-kind recommendation only adds its facts, evidence and caveats to it.
    about = [r for r in given if _is_assessment(r)]
    recommendations = [r for r in given if not _is_assessment(r)]
    if scope is ScopeStatus.IN_SCOPE and context.hook == "patient-view":
        cards.append(_safely(ASSESSMENT_TOPIC, Urgency.INFO, None,
                             lambda: assessment_card(decision, context, about), context))
    for rec in sorted(recommendations, key=lambda r: _URGENCY_RANK[_urgency(r.urgency)]):
        cards.append(_safely(rec.rule_id, _urgency(rec.urgency), rec.summary, lambda: recommendation_card(rec, context),
                             context))
    return [prune(card) for card in cards]


# --------------------------------------------------------------------------- recommendation cards


def recommendation_card(rec: Recommendation, context: RenderContext) -> dict[str, Any]:
    entry = RULES.get(rec.rule_id)
    offer = build_offer(rec, hook=context.hook, patient_ref=context.patient_ref,
                        condition_ref=context.pecoma_condition_ref)
    summary = _summary(rec.summary, fallback=entry.title if entry else f"PEComa pathway rule {rec.rule_id}")
    if rec.pending_resolution and "pending" not in summary.lower():
        summary = _summary(f"Pending resolution: {summary}", fallback=summary)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": _urgency(rec.urgency).value,
        "detail": recommendation_detail(rec, entry, offer.not_offered, full_summary=_words(rec.summary),
                                        order_label=context.order_label),
        "source": _source(rec.rule_id, entry, _all_evidence(rec) or _entry_evidence(entry), context),
    }
    if offer.suggestions:
        card["suggestions"] = offer.suggestions
        card["selectionBehavior"] = offer.selection_behavior
    if offer.suggestions or _kind(rec.kind) in _ACTIONABLE_KINDS:
        card["overrideReasons"] = override_reasons(context)
    card["links"] = _links(rec.rule_id, context)
    return card


def recommendation_detail(
    rec: Recommendation, entry: RuleEntry | None, not_offered: Iterable[str] = (), *, full_summary: str = "",
    order_label: Callable[[str], str] = str,
) -> str:
    lead = []
    if len(full_summary) > MAX_SUMMARY:
        lead.append(md.text(full_summary))
    if rec.pending_resolution:
        lead.append("**Pending resolution of a data conflict (R13)**: the values below are candidates, "
                    "not conclusions; no order is offered until the conflict is resolved.")
    if rec.about_order:
        replaced = " (the suggestions replace it)" if rec.replaces_order == rec.about_order else ""
        lead.append(f"**Order under review**: {md.text(order_label(rec.about_order))}{replaced}")
    if rec.replaces_order and rec.replaces_order != rec.about_order:
        lead.append(f"**Draft order the suggestions replace**: {md.text(order_label(rec.replaces_order))}")

    why = [md.fact_line(u.label, u.fact, u.display) for u in (rec.facts_used or ())]
    what = [md.text(a) for a in (rec.actions or ()) if _words(a)]
    for option in rec.options or ():
        line = f"**{md.text(option.label) or 'Option'}**"
        if option.preferred:
            line += " (preferred by the pathway)"
        if _words(option.detail):
            line += f": {md.text(option.detail)}"
        if _words(option.received):
            line += f" — already {md.text(option.received)}" if not _words(option.received).lower().startswith(
                "received") else f" — {md.text(option.received)}"
        what.append(line)
    for order in rec.orders or ():
        what.append(f"Order: {md.text(order.text or order.resource_type)}")

    evidence = [_evidence_line(e) for e in (rec.evidence or ())]
    for option in rec.options or ():
        evidence += [_evidence_line(e, prefix=option.label) for e in (option.evidence or ())
                     if e not in (rec.evidence or ())]
    if not evidence:
        evidence = [_evidence_line(e) for e in _entry_evidence(entry)]
    if not evidence:
        evidence = ["No evidence recorded for this rule: see the rule page."]

    caveats = [md.text(c) for c in (rec.caveats or ()) if _words(c)]
    caveats += [f"Could not offer a valid draft order for {md.text(name)}: order it manually if intended."
                for name in not_offered]

    return md.join_sections(
        "\n\n".join(lead),
        md.section("Why", why),
        md.section("What", what),
        md.section("Evidence", evidence),
        md.section("Caveats", caveats),
    )


def _evidence_line(e: Evidence, prefix: str | None = None) -> str:
    entry = source_entry(str(e.source))
    name = entry["citation"] if entry else str(e.source)
    line = md.text(name)
    if _words(e.level):
        line += f" — {md.text(e.level)}"
    if _words(e.statement):
        line += f": {md.text(e.statement)}"
    if prefix and _words(prefix):
        line = f"{md.text(prefix)}: {line}"
    return line


# --------------------------------------------------------------------------- assessment card


def assessment_card(decision: Decision, context: RenderContext,
                    about: Iterable[Recommendation] = ()) -> dict[str, Any]:
    a = decision.assessment
    entry = RULES.get(ASSESSMENT_TOPIC)
    gaps = tuple(g for g in (decision.data_gaps or ()) if isinstance(g, DataGap))
    about = tuple(about)
    evidence = [e for r in about for e in _all_evidence(r)] or _entry_evidence(entry)
    extra = md.join_sections(
        md.section("Why", [md.fact_line(u.label, u.fact, u.display) for r in about for u in (r.facts_used or ())]),
        md.section("Evidence", [_evidence_line(e) for e in evidence]),
        md.section("Caveats", [md.text(c) for r in about for c in (r.caveats or ()) if _words(c)]),
    )
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": assessment_summary(a, len(gaps)),
        "indicator": Urgency.INFO.value,
        "detail": md.join_sections(assessment_detail(a, gaps, decision.notes or ()), extra),
        "source": _source(ASSESSMENT_TOPIC, entry, evidence, context,
                          display="PEComa assessment: class, stage, setting"),
    }
    links = _links(ASSESSMENT_TOPIC, context)
    if entry is None:  # no page for the assessment itself: link the catalogued settings instead
        settings = [s for s in (a.setting_primary, *(a.setting_modifiers or ())) if s and s in RULES]
        links = [{"label": f"About setting {s}", "url": context.rule_page(s), "type": "absolute"}
                 for s in settings] + links[1:]
    card["links"] = links
    return card


def assessment_summary(a: Assessment, gap_count: int) -> str:
    """Diagnosis · class · stage · setting · line · data gaps. When that is too long, the diagnosis is cut to
    its head ('malignant PEComa, confirmed on …' -> 'malignant PEComa'; the detail keeps it whole), then the
    setting loses its modifiers, then an indeterminate class its '(missing data)', so the line of therapy and
    the gap count stay in the card's header."""
    parts = [_words(a.diagnosis) or "PEComa"]
    if a.primary_scheme and a.primary_class:
        parts.append(f"{a.primary_scheme}: {_class_words(a.primary_class)}")
    elif a.schemes:
        parts.append("class not asserted")
    if a.stage is not None:
        parts.append(_stage_short(a.stage))
    if a.setting_primary:
        setting = a.setting_primary + "".join(f"+{m}" for m in a.setting_modifiers or ())
        parts.append(f"setting {setting}")
    if a.line_of_therapy:
        parts.append(f"line {a.line_of_therapy}")
    parts.append(f"{gap_count} data gap{'s' if gap_count != 1 else ''}" if gap_count else "no data gaps")
    text = " · ".join(parts)
    if len(text) > MAX_SUMMARY:
        parts[0] = _DIAGNOSIS_HEAD.split(parts[0], maxsplit=1)[0].strip() or parts[0]
        text = " · ".join(parts)
    if len(text) > MAX_SUMMARY and a.setting_primary:  # the modifiers are named in the detail
        parts = [f"setting {a.setting_primary}" if p.startswith("setting ") else p for p in parts]
        text = " · ".join(parts)
    if len(text) > MAX_SUMMARY:  # 'indeterminate (missing data)': the gap count that follows says it
        text = " · ".join(p.replace(" (missing data)", "") for p in parts)
    return _summary(text, fallback="PEComa assessment")


def assessment_detail(a: Assessment, gaps: tuple[DataGap, ...], notes: Iterable[str]) -> str:
    head = f"**Diagnosis**: {md.text(a.diagnosis) or 'PEComa'}"
    if a.provisional:
        head += " (classification provisional)"

    classes = [_scheme_line(s, primary=s.scheme == a.primary_scheme) for s in (a.schemes or ())]
    if a.primary_scheme and not a.primary_class:
        classes.insert(0, f"No primary class asserted ({md.text(a.primary_scheme)}): see the MDT card")
    if a.flags:
        classes.append("Flags: " + md.text("; ".join(FLAG_NAMES.get(f, f) for f in a.flags)))
    if a.bleeker:
        known = a.bleeker.get("known_count") if isinstance(a.bleeker, dict) else None
        unknown = a.bleeker.get("unknown") if isinstance(a.bleeker, dict) else None
        line = f"Bleeker (display only): {md.text(md.value_words(known))} feature(s) known"
        if unknown:
            line += f"; unknown: {md.text(md.value_words(unknown))}"
        classes.append(line)
    if _words(a.garzon):
        classes.append(f"Garzon (display only, unvalidated): {md.text(a.garzon)}")

    stage = _stage_lines(a.stage) if a.stage is not None else ["AJCC stage: not staged"]

    setting = []
    if a.setting_primary:
        setting.append(f"Primary: {md.text(a.setting_primary)} — {md.text(_setting_name(a.setting_primary))}")
    if a.setting_modifiers:
        setting.append("Modifiers: " + md.text(
            "; ".join(f"{m} — {_setting_name(m)}" for m in a.setting_modifiers)))
    if a.line_of_therapy:
        setting.append(f"Line of therapy (advanced disease): {md.text(a.line_of_therapy)}")
    if a.surveillance_risk:
        setting.append(f"Surveillance risk: {md.text(a.surveillance_risk)}")
    if a.dfi_months is not None:
        setting.append(f"Disease-free interval: {md.text(a.dfi_months)} months")

    gap_lines = []
    for gap in gaps:
        line = md.text(gap.field) or "unnamed field"
        if _words(gap.reason):
            line += f" — {md.text(gap.reason)}"
        if gap.display_only:
            line += " (display only)"
        gap_lines.append(line)

    return md.join_sections(
        head,
        md.section("Risk class", classes),
        md.section("Stage", stage),
        md.section("Disease setting", setting),
        md.section(f"Data gaps ({len(gaps)})", gap_lines),
        md.section("Notes", [md.text(n) for n in notes if _words(n)]),
    )


def _scheme_line(s: SchemeResult, *, primary: bool) -> str:
    line = f"{md.text(s.scheme) or 'Scheme'}"
    line += " (primary)" if primary else (" (display only)" if s.display_only else "")
    line += f": **{md.text(_class_words(s.klass))}**"
    if s.candidates:
        line += f"; candidates: {md.text(', '.join(_class_words(c) for c in s.candidates))}"
    if s.features_present:
        line += f"; present: {md.text(', '.join(map(str, s.features_present)))}"
    if s.features_unknown:
        line += f"; unknown: {md.text(', '.join(map(str, s.features_unknown)))}"
    return line


def _stage_lines(stage: Stage) -> list[str]:
    line = f"AJCC 8th: **{md.text(stage.stage.replace('_', ' ')) or 'not staged'}**"
    tnm = " ".join(str(x) for x in (stage.t, stage.n, stage.m, stage.grade) if x)
    if tnm:
        line += f" ({md.text(tnm)})"
    lines = [line]
    if stage.fnclcc_components:
        d, m, n = (tuple(stage.fnclcc_components) + (None, None, None))[:3]
        lines.append(f"FNCLCC scores: differentiation {md.text(d)}, mitotic {md.text(m)}, necrosis {md.text(n)}")
    if _words(stage.as_reported):
        lines.append(f"As reported by a source (not asserted): {md.text(stage.as_reported)}")
    return lines


def _stage_short(stage: Stage) -> str:
    text = _words(stage.stage).replace("_", " ")
    low = text.lower()
    if low.startswith("not applicable"):
        return "stage not applicable"
    if low.startswith("not staged"):
        return "not staged"
    if low.startswith("not assigned"):
        return "stage not assigned"
    if low.startswith("unresolved"):
        return "stage unresolved"
    return f"AJCC {text.split(' (')[0]}" if text else "not staged"


def _class_words(klass: str | None) -> str:
    return CLASS_NAMES.get(str(klass), str(klass).replace("_", " ")) if klass else "not asserted"


def _setting_name(setting: str) -> str:
    entry = RULES.get(setting)
    return entry.title if entry and _words(entry.title) else SETTING_NAMES.get(setting, setting)


# --------------------------------------------------------------------------- shared parts


def override_reasons(context: RenderContext) -> list[dict[str, str]]:
    return [
        {"system": context.override_reason_system, "code": r["code"], "display": r["display"]}
        for r in OVERRIDE_REASONS
    ]


def _source(rule_id: str, entry: RuleEntry | None, evidence: Iterable[Evidence], context: RenderContext,
            display: str | None = None) -> dict[str, Any]:
    names = basis_names(str(getattr(e, "source", "")) for e in evidence)
    basis = f" ({'; '.join(names)})" if names else ""
    title = (entry.title if entry and _words(entry.title) else None) or display or f"PEComa pathway rule {rule_id}"
    return {
        "label": f"PEComa pathway{basis} — not clinically validated",
        "topic": {"system": context.rule_system, "code": _code(rule_id), "display": _words(title)},
    }


def _links(rule_id: str, context: RenderContext) -> list[dict[str, str]]:
    links = [{"label": "About this rule", "url": context.rule_page(_code(rule_id)), "type": "absolute"}]
    if _words(context.smart_app_url):
        links.append({
            "label": _words(context.smart_app_label) or "Open the PEComa app",
            "url": _words(context.smart_app_url),
            "type": "smart",
            "appContext": json.dumps({"rule_id": _code(rule_id)}),
        })
    return links


def _all_evidence(rec: Recommendation) -> list[Evidence]:
    evidence = list(rec.evidence or ())
    for option in rec.options or ():
        evidence += list(option.evidence or ())
    return [e for e in evidence if isinstance(e, Evidence)]


def _entry_evidence(entry: RuleEntry | None) -> list[Evidence]:
    return list(entry.evidence) if entry else []


def _summary(value: Any, *, fallback: str) -> str:
    """One line under 140 characters; truncated at a word with an ellipsis only as a last resort."""
    text = _words(value) or _words(fallback) or "PEComa pathway"
    if len(text) <= MAX_SUMMARY:
        return text
    cut = text[: MAX_SUMMARY - 1]
    space = cut.rfind(" ")
    if space > MAX_SUMMARY // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-·") + "…"


def _urgency(value: Any) -> Urgency:
    try:
        return Urgency(value)
    except ValueError:
        return Urgency.WARNING  # unknown urgency: never shown as mere information


def _kind(value: Any) -> Kind | None:
    try:
        return Kind(value)
    except ValueError:
        return None


def _is_assessment(rec: Recommendation) -> bool:
    return _kind(rec.kind) is Kind.ASSESSMENT or _words(rec.rule_id) == ASSESSMENT_TOPIC


def _code(rule_id: Any) -> str:
    """The rule id as a code: one line, never empty."""
    return _words(rule_id) or "unknown"


def _words(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _safely(rule_id: str, urgency: Urgency, summary: Any, build: Any, context: RenderContext) -> dict[str, Any]:
    """Build a card; on any error, a minimal card that still names the rule and links its page."""
    try:
        return build()
    except Exception as exc:  # never a 500 for a Decision the pathway produced
        log.warning("card for rule %s could not be laid out: %s", rule_id, type(exc).__name__)
        card = {
            "uuid": str(uuid.uuid4()),
            "summary": _summary(summary, fallback=f"PEComa pathway rule {rule_id}: open the rule page"),
            "indicator": urgency.value,
            "detail": "This card could not be displayed in full. Open the rule page for what it checks.",
            "source": {
                "label": "PEComa pathway — not clinically validated",
                "topic": {"system": context.rule_system, "code": _code(rule_id),
                          "display": f"PEComa pathway rule {rule_id}"},
            },
            "links": _links(rule_id, context),
        }
        return card


def prune(value: Any) -> Any:
    """Drop None, '', [] and {} recursively (CDS Hooks: optional values are omitted, never empty)."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        out_list = [prune(v) for v in value]
        return [v for v in out_list if v not in (None, "", [], {})]
    return value
