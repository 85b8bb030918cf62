"""Prometheus metrics (``GET /metrics``), counted across all gunicorn workers.

Multiprocess mode: ``gunicorn_conf`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory
before the workers fork and marks each exited worker dead; the exposition then merges every
worker's values. Without that variable (Flask development server, tests in one process) the
ordinary in-process registry is used.

Labels are bounded, known values only: service ids, rule ids of the catalogue, outcome words,
override-reason codes of our code system, failure categories. Never a patient identifier, a
token or free text ("other" stands for anything unexpected).

Access (``PECOMA_METRICS_ALLOW``, ``PECOMA_METRICS_TOKEN``): a scrape is allowed from a peer
address in the allow-list (default loopback only) when the request did not come through a proxy
(no ``Forwarded``/``X-Forwarded-For`` header), or with ``Authorization: Bearer <token>`` when a
token is configured. Anything else gets 404, so the endpoint is not advertised.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import re
import threading
from typing import Any, Iterable, Mapping

from cds_service.spool import Spool

DEFAULT_ALLOW = "127.0.0.0/8,::1/128"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)

# Authentication failures by category: the first pattern found in the trust module's reason text wins.
_AUTH_CATEGORIES = (  # first match wins
    ("missing-token", r"^no Authorization header"),
    ("malformed", r"^malformed token"),  # e.g. 'malformed token header (DecodeError)': not a signature failure
    ("replay", r"already used \(replay\)"),
    ("expired", r"ExpiredSignature|ImmatureSignature|exp and iat"),
    ("lifetime", r"token lifetime"),
    ("audience", r"^aud |InvalidAudience"),
    ("untrusted-issuer", r"is not a trusted client|InvalidIssuer"),
    ("unknown-key", r"^no \w+ key with kid"),
    ("signature", r"InvalidSignature|DecodeError|InvalidKey"),
    ("algorithm", r"^alg "),
    ("tenant", r"^tenant "),
    ("malformed", r"malformed|Bearer|compact JWS|longer than|typ must|kid missing|crit header|jku must|jti must|MissingRequiredClaim"),
    ("configuration", r"trust configuration"),
)
_FHIR_OUTCOMES = ("ok", "timeout", "4xx", "5xx", "error")


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram, values  # noqa: PLC0415

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            values.ValueClass = values.get_value_class()  # in case prometheus_client was imported before the variable was set
        self.hook_seconds = Histogram("pecoma_hook_duration_seconds", "Hook call latency, by CDS service", ["service"], buckets=HOOK_BUCKETS)
        self.cards = Counter("pecoma_cards_issued_total", "Cards issued, by rule (card.source.topic.code)", ["rule"])
        self.feedback = Counter("pecoma_feedback_total", "New feedback items stored, by rule and outcome", ["rule", "outcome"])
        self.override_reasons = Counter("pecoma_feedback_override_reasons_total", "Override reasons, by rule and reason code", ["rule", "reason"])
        self.fhir = Counter("pecoma_fhir_fallback_requests_total", "FHIR fallback requests, by outcome (ok, timeout, 4xx, 5xx, error)", ["outcome"])
        self.auth_failures = Counter("pecoma_auth_failures_total", "Refused authentications (401), by reason category", ["reason"])
        self.spooled = Counter("pecoma_card_records_spooled_total", "Card records written to the local spool (database unavailable)")
        self.dropped = Counter("pecoma_card_records_dropped_total", "Card records lost because the spool was full")
        self.feedback_unavailable = Counter("pecoma_feedback_unavailable_total", "Feedback posts answered 503 (database unavailable)")


_metrics: _Metrics | None = None
_lock = threading.Lock()
_known_rules: frozenset[str] | None = None
_known_reasons: frozenset[str] | None = None


def metrics() -> _Metrics:
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = _Metrics()
    return _metrics


def _rule_label(code: Any) -> str:
    global _known_rules
    if _known_rules is None:
        from pathway.catalogue import RULES  # noqa: PLC0415

        _known_rules = frozenset(RULES)
    return code if isinstance(code, str) and code in _known_rules else "other"


def _reason_label(code: Any) -> str:
    global _known_reasons
    if code is None:
        return "none"
    if _known_reasons is None:
        try:
            from cards import OVERRIDE_REASONS  # noqa: PLC0415

            _known_reasons = frozenset(reason["code"] for reason in OVERRIDE_REASONS)
        except Exception:  # noqa: BLE001 - no reason list: every code is "other"
            _known_reasons = frozenset()
    return code if code in _known_reasons else "other"


# --- what the service counts -----------------------------------------------------------------------

def hook_answered(service_id: str, seconds: float) -> None:
    metrics().hook_seconds.labels(service=service_id).observe(seconds)


def cards_issued(cards: Iterable[Mapping[str, Any]]) -> None:
    for card in cards:
        code = ((card.get("source") or {}).get("topic") or {}).get("code")
        metrics().cards.labels(rule=_rule_label(code) if code else "none").inc()


def feedback_stored(rule_code: str | None, known: bool, item: Mapping[str, Any]) -> None:
    rule = _rule_label(rule_code) if known else "unknown-card"
    outcome = item.get("outcome") if item.get("outcome") in ("accepted", "overridden") else "other"
    metrics().feedback.labels(rule=rule, outcome=outcome).inc()
    if outcome == "overridden":
        reason = ((item.get("overrideReason") or {}).get("reason") or {}).get("code")
        metrics().override_reasons.labels(rule=rule, reason=_reason_label(reason)).inc()


def feedback_unavailable() -> None:
    metrics().feedback_unavailable.inc()


def fhir_request(status: int | None, failure: str | None) -> None:
    """One FHIR fallback request (``fhir_client.Reply``): ok, timeout, 4xx, 5xx or error (connection, body)."""
    if failure is None:
        outcome = "ok"
    elif failure == "timeout":
        outcome = "timeout"
    elif status and 400 <= status <= 499:
        outcome = "4xx"
    elif status and 500 <= status <= 599:
        outcome = "5xx"
    else:
        outcome = "error"
    metrics().fhir.labels(outcome=outcome).inc()


def auth_category(reason: str | None) -> str:
    for category, pattern in _AUTH_CATEGORIES:
        if reason and re.search(pattern, reason):
            return category
    return "other"


def auth_failed(reason: str | None) -> None:
    metrics().auth_failures.labels(reason=auth_category(reason)).inc()


def card_records_spooled(count: int, kept: bool) -> None:
    (metrics().spooled if kept else metrics().dropped).inc(count)


# --- exposition and access -------------------------------------------------------------------------

def check_config(config: Mapping[str, Any]) -> None:
    """Raise ValueError naming the variable when the metrics access settings are unusable."""
    allowed_networks(config)


def allowed_networks(config: Mapping[str, Any]) -> list[Any]:
    text = str(config.get("PECOMA_METRICS_ALLOW") if config.get("PECOMA_METRICS_ALLOW") is not None else DEFAULT_ALLOW)
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"PECOMA_METRICS_ALLOW: {part[:60]!r} is not an IP address or CIDR network") from None
    return networks


def scrape_allowed(config: Mapping[str, Any], peer: str | None, headers: Mapping[str, str]) -> bool:
    token = str(config.get("PECOMA_METRICS_TOKEN") or "")
    if token:
        presented = headers.get("Authorization") or ""
        if hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            return True
    if headers.get("Forwarded") or headers.get("X-Forwarded-For"):
        return False  # came through a proxy: the peer address says nothing about the client
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    return any(address in network for network in allowed_networks(config))


def exposition(spool: Spool | None) -> bytes:
    """The Prometheus text of every worker (multiprocess) or of this process, plus the spool depth."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest  # noqa: PLC0415
    from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415

    metrics()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess  # noqa: PLC0415

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if spool is not None:
        extra = CollectorRegistry()

        class _SpoolDepth:
            def collect(self):
                yield GaugeMetricFamily("pecoma_spool_records", "Card records waiting in the local spool for the database", value=spool.depth())
                yield GaugeMetricFamily("pecoma_spool_bytes", "Size of the local spool files", value=spool.size_bytes())

        extra.register(_SpoolDepth())
        text += generate_latest(extra)
    return text
