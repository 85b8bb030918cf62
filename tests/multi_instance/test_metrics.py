"""GET /metrics: Prometheus text summed over all gunicorn workers, bounded labels, restricted access."""
from __future__ import annotations

import pytest
import requests

from cds_service import metrics
from cds_service.app import create_app
from cds_service.config import load_config
from tests.multi_instance.conftest import metric_value
from tests.service.builders import feedback_item, hook_request, pecoma_prefetch
from tests.service.live import LiveServer

HOOK = "/cds-services/pecoma-patient-view"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("metrics"), PECOMA_WORKERS="2", PECOMA_THREADS="1").start()  # demo mode, SQLite
    yield live
    live.stop()


def test_metrics_count_every_worker_with_bounded_labels(server):
    calls = 12
    cards = []
    for i in range(calls):  # sync workers, one request at a time: both workers answer some of them
        response = requests.post(server.url + HOOK, json=hook_request("patient-view", f"secret-patient-{i}", pecoma_prefetch(f"secret-patient-{i}")), timeout=30)
        assert response.status_code == 200
        cards += response.json()["cards"]
    card = next(c for c in cards if c["source"]["topic"]["code"] == "MDT")
    feedback = {"feedback": [
        feedback_item(card["uuid"], "overridden", overrideReason={"reason": {"system": "x", "code": "patient-declined"}, "userComment": "private words"}),
        feedback_item(card["uuid"], "overridden", "2026-11-23T11:00:00.000Z", overrideReason={"reason": {"system": "x", "code": "made-up-code"}}),
    ]}
    assert requests.post(server.url + HOOK + "/feedback", json=feedback, timeout=30).status_code == 200
    assert requests.post(server.url + HOOK, headers={"Authorization": "Bearer not.a.jwt"}, json={}, timeout=30).status_code == 401

    response = requests.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    assert metric_value(server, "pecoma_hook_duration_seconds_count", service="pecoma-patient-view") == calls + 1  # + the refused call
    assert metric_value(server, "pecoma_cards_issued_total", rule="MDT") == calls
    assert metric_value(server, "pecoma_cards_issued_total") == len(cards)
    assert metric_value(server, "pecoma_feedback_total", rule="MDT", outcome="overridden") == 2
    assert metric_value(server, "pecoma_feedback_override_reasons_total", rule="MDT", reason="patient-declined") == 1
    assert metric_value(server, "pecoma_feedback_override_reasons_total", rule="MDT", reason="other") == 1
    assert metric_value(server, "pecoma_auth_failures_total", reason="malformed") == 1
    assert "pecoma_spool_records 0.0" in text
    for private in ("secret-patient", "private words", "made-up-code", "not.a.jwt", card["uuid"]):
        assert private not in text


def app(tmp_path, **extra):
    config = load_config({}, PECOMA_MODE="demo", PECOMA_DATABASE_URL=f"sqlite:///{tmp_path}/m.sqlite3", **extra)
    return create_app(config).test_client()


@pytest.mark.parametrize("extra, peer, headers, allowed", [
    ({}, "127.0.0.1", {}, True),
    ({}, "::1", {}, True),
    ({}, "10.1.2.3", {}, False),
    ({}, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, False),  # through a proxy on the same host
    ({"PECOMA_METRICS_ALLOW": "10.0.0.0/8"}, "10.1.2.3", {}, True),
    ({"PECOMA_METRICS_ALLOW": "10.0.0.0/8"}, "127.0.0.1", {}, False),
    ({"PECOMA_METRICS_ALLOW": "", "PECOMA_METRICS_TOKEN": "t0ken"}, "203.0.113.9", {"Authorization": "Bearer t0ken"}, True),
    ({"PECOMA_METRICS_ALLOW": "", "PECOMA_METRICS_TOKEN": "t0ken"}, "127.0.0.1", {"Authorization": "Bearer wrong"}, False),
])
def test_metrics_access(tmp_path, extra, peer, headers, allowed):
    response = app(tmp_path, **extra).get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == (200 if allowed else 404)


def test_a_bad_allow_list_stops_the_service_naming_the_variable(tmp_path):
    from cds_service.config import ConfigError

    with pytest.raises(ConfigError, match="PECOMA_METRICS_ALLOW"):
        app(tmp_path, PECOMA_METRICS_ALLOW="localhost")


@pytest.mark.parametrize("reason, category", [
    ("no Authorization header", "missing-token"),
    ("jti 'x' of iss 'y' was already used (replay)", "replay"),
    ("ExpiredSignatureError: Signature has expired", "expired"),
    ("aud does not contain the invoked URL 'u' (check PECOMA_PUBLIC_BASE_URL)", "audience"),
    ("iss 'https://evil' is not a trusted client", "untrusted-issuer"),
    ("no ES384 key with kid 'k' for iss 'i'", "unknown-key"),
    ("InvalidSignatureError: Signature verification failed", "signature"),
    ("alg 'none' is not an allowed asymmetric algorithm", "algorithm"),
    ("token is not a compact JWS (three base64url parts)", "malformed"),
    ("malformed token header (DecodeError)", "malformed"),
    ("something new", "other"),
])
def test_authentication_failures_are_counted_by_category_never_by_text(reason, category):
    assert metrics.auth_category(reason) == category


@pytest.mark.parametrize("status, failure, outcome", [
    (200, None, "ok"), (None, "timeout", "timeout"), (404, "not-found", "4xx"), (401, "unauthorized", "4xx"),
    (503, "server-error", "5xx"), (None, "unreachable", "error"), (200, "not-json", "error"),
])
def test_fhir_fallback_outcomes(status, failure, outcome):
    before = metrics.metrics().fhir.labels(outcome=outcome)._value.get()
    metrics.fhir_request(status, failure)
    assert metrics.metrics().fhir.labels(outcome=outcome)._value.get() == before + 1
