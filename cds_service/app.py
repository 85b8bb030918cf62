"""The Flask application: discovery, hooks, feedback, rules, code systems, health, CORS.

Request flow of a hook call (DESIGN.md §One request): 404 unknown service -> 401 authenticate ->
415 content type -> 413 size -> 400 empty body -> then one request per process at a time
(``compute_gate``): 400 JSON -> 400 schema + semantics -> 412 data (the gate is released while the
FHIR server is queried) -> extract/decide/render (``pipeline.evaluate``) -> response check ->
record cards -> 200.
Every non-2xx answer carries a FHIR OperationOutcome; 401 carries no details.
"""
from __future__ import annotations

import logging
import re
import time
from datetime import date
from typing import Any, Mapping

import orjson
from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from cds_service import auth, data_access, metrics
from cds_service.compute_gate import ComputeGate
from cds_service.config import ConfigError, is_demo, load_config, require_service_settings
from cds_service.jsonlog import configure as configure_logging, log_event
from cds_service.outcome import operation_outcome
from cds_service.pipeline import evaluate, load_site_settings, unavailable_card
from cds_service.rules_docs import RULES, override_reason_code_system, rule_code_system, rule_html, rules_index_html
from cds_service.services import SERVICES, discovery_document, prefetch_templates
from cds_service.retention import Maintenance, RetentionSettings
from cds_service.spool import Spool
from cds_service.storage import DatabaseUnavailable, JtiGuard, StorageError, Store, patient_key
from cds_service.validation import check_feedback, validate_request, validate_response

JSON_TYPES = ("application/json", "application/fhir+json")
UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DRAIN_LIMIT = 64 * 1024 * 1024  # bytes read and discarded from an oversized body before answering 413


class RequestRefused(Exception):
    """A client error: answered with ``status`` and an OperationOutcome listing ``messages``."""

    def __init__(self, status: int, *messages: str, headers: Mapping[str, str] | None = None, log_reason: str | None = None):
        super().__init__(messages[0] if messages else str(status))
        self.status = status
        self.messages = list(messages)
        self.headers = dict(headers or {})
        self.log_reason = log_reason


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``config`` (default: environment variables, see ``config.load_config``)."""
    config = dict(config) if config is not None else load_config()
    check_config(config)
    configure_logging(config.get("PECOMA_LOG_LEVEL", "INFO"))
    app = Flask(__name__)
    app.config.update(config)
    store = Store.from_config(config)
    try:
        version = store.open_for_service()  # SQLite: upgraded here; PostgreSQL: refused unless `pecoma-cds db upgrade` ran
    except StorageError as exc:
        raise ConfigError(f"PECOMA_DATABASE_URL: {exc}") from None
    app.extensions["pecoma_store"] = store
    app.extensions["pecoma_jti_guard"] = JtiGuard.from_config(store, config)
    app.extensions["pecoma_spool"] = spool = Spool.from_config(config)
    app.extensions["pecoma_maintenance"] = Maintenance(store, spool, RetentionSettings.from_config(config))
    app.extensions["pecoma_settings"] = load_site_settings(config.get("PECOMA_SITE_SETTINGS"))
    app.extensions["pecoma_compute_gate"] = ComputeGate()  # one hook computes at a time per process
    if is_demo(config):
        log_event(
            "DEMO MODE: CORS allows any origin unless PECOMA_CORS_ORIGINS is set, patient keys use a public demo "
            "secret unless PECOMA_PATIENT_KEY_SECRET is set. Never use demo mode with real patient data.",
            logging.WARNING,
        )
    for level, message in _auth_startup_messages(config):
        log_event(message, getattr(logging, level, logging.WARNING))
    log_event("service_started", mode=config["PECOMA_MODE"], schema_version=version, services=len(SERVICES))
    _register(app)
    return app


def _auth_startup_messages(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The trust module's start-up report (its mode, loudly when authentication is off); fails fast on a bad trust set-up."""
    report = getattr(auth, "startup_messages", None)
    if report is None:
        return []
    try:
        return report(config)
    except getattr(auth, "TrustConfigError", ValueError) as exc:
        raise ConfigError(f"trust configuration: {exc}") from None


def check_config(config: Mapping[str, Any]) -> None:
    """Everything the service needs to start safely; raises ConfigError naming the variable."""
    require_service_settings(config)
    _check_data_access_config(config)
    try:
        auth.load_trust(config)
    except auth.TrustConfigError as exc:
        raise ConfigError(f"trust configuration: {exc}") from None
    try:
        JtiGuard.from_config(Store.from_config(config), config)
        Spool.from_config(config)
        RetentionSettings.from_config(config)
        metrics.check_config(config)
    except (StorageError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    try:
        load_site_settings(config.get("PECOMA_SITE_SETTINGS"))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"PECOMA_SITE_SETTINGS: cannot use {config.get('PECOMA_SITE_SETTINGS')!r} ({exc.__class__.__name__})") from None


def _check_data_access_config(config: Mapping[str, Any]) -> None:
    """Fail fast on bad ``PECOMA_FHIR_*`` variables (the data-access module names the variable)."""
    try:
        data_access.check_config(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def store() -> Store:
    return current_app.extensions["pecoma_store"]


# --- helpers ----------------------------------------------------------------------------------

def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None, mimetype: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=mimetype, headers=dict(headers or {}))


def _outcome_response(status: int, messages: list[str], headers: Mapping[str, str] | None = None,
                      information: list[str] | None = None) -> Response:
    return json_response(operation_outcome(status, messages, information=information or ()), status, headers,
                         mimetype="application/fhir+json")


def _public_url(path: str | None = None) -> str:
    """The URL the client called, as it sees it (used for the JWT ``aud``)."""
    base = current_app.config.get("PECOMA_PUBLIC_BASE_URL")
    if base:
        return base + (path if path is not None else request.path)
    return request.base_url if path is None else request.host_url.rstrip("/") + path


def _public_base() -> str:
    return current_app.config.get("PECOMA_PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def _authenticate() -> auth.Caller:
    try:
        return auth.authenticate(request.headers.get("Authorization"), _public_url(), current_app.config,
                                 current_app.extensions["pecoma_jti_guard"])
    except DatabaseUnavailable:  # PECOMA_JTI_WHEN_DATABASE_DOWN=refuse
        raise RequestRefused(503, "the replay check is unavailable (database unavailable); retry later", headers={"Retry-After": "5"}) from None
    except auth.Unauthorized as refused:
        metrics.auth_failed(refused.reason)
        raise RequestRefused(401, headers={"WWW-Authenticate": "Bearer"}, log_reason=refused.reason) from None


def _read_json_body() -> Any:
    """415 / 413 / 400 checks, in that order; returns the parsed JSON."""
    return _parse_json(_read_body())


def _read_body() -> bytes:
    """415 / 413 / 400 (empty) checks, in that order; returns the body's bytes."""
    mimetype = (request.mimetype or "").lower()
    if mimetype not in JSON_TYPES:
        raise RequestRefused(415, f"Content-Type must be application/json, not {mimetype or 'missing'}")
    limit = current_app.config["PECOMA_MAX_BODY_BYTES"]
    declared = request.content_length
    if declared is not None and declared > limit:
        _drain(declared)
        raise RequestRefused(413, f"request body of {declared} bytes exceeds the limit of {limit} bytes (PECOMA_MAX_BODY_BYTES)")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        _drain(DRAIN_LIMIT)
        raise RequestRefused(413, f"request body exceeds the limit of {limit} bytes (PECOMA_MAX_BODY_BYTES)")
    if not data.strip():
        raise RequestRefused(400, "request body is empty; a JSON object is required")
    return data


def _parse_json(data: bytes) -> Any:
    """The parsed body; 400 when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RequestRefused(400, f"request body is not valid JSON: {str(exc)[:200]}") from None


def _drain(limit: int) -> None:
    """Read and discard the rest of an oversized body (so the client can read our 413)."""
    remaining = min(limit, DRAIN_LIMIT)
    while remaining > 0:
        chunk = request.stream.read(min(65536, remaining))
        if not chunk:
            return
        remaining -= len(chunk)


def _service_or_404(service_id: str) -> dict[str, Any]:
    service = SERVICES.get(service_id)
    if service is None:
        raise RequestRefused(404, f"no CDS service with id {service_id[:100]!r}; GET /cds-services lists them")
    return service


def _today() -> date:
    return current_app.config.get("PECOMA_REFERENCE_DATE") or date.today()


# --- routes -----------------------------------------------------------------------------------

def _register(app: Flask) -> None:
    @app.before_request
    def start() -> Response | None:
        g.started = time.perf_counter()
        g.log = {}
        current_app.extensions["pecoma_maintenance"].ensure_started()  # spool replay + retention, once per process
        if request.method == "OPTIONS":  # CORS preflight: every path, never authenticated
            return Response(status=204)
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        _add_cors_headers(response)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        duration = round(elapsed * 1000, 2)
        if request.endpoint == "hook" and "service" in g.get("log", {}):
            metrics.hook_answered(g.log["service"], elapsed)
        log_event("http_request", method=request.method, path=request.path[:200], status=response.status_code, duration_ms=duration, **g.get("log", {}))
        return response

    @app.errorhandler(RequestRefused)
    def refused(error: RequestRefused) -> Response:
        if error.log_reason:
            g.log["reason"] = error.log_reason
        if error.status == 401:  # no details to the caller (CDS Hooks best practice)
            return json_response(operation_outcome(401, []), 401, error.headers, mimetype="application/fhir+json")
        return _outcome_response(error.status, error.messages, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        allow = {k: v for k, v in error.get_headers() if k.lower() == "allow"}  # 405 must name the methods (RFC 9110)
        return _outcome_response(error.code or 400, [error.description or error.name], allow or None)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:  # a bug of ours: log the type, never the data
        log_event("unexpected_error", logging.ERROR, exc_info=True)
        return _outcome_response(500, ["internal error; it has been logged"])

    @app.get("/")
    def index() -> Response:
        return json_response({
            "service": "PEComa pathway CDS Hooks 2.0 service",
            "discovery": "/cds-services",
            "rules": "/rules",
            "health": "/healthz",
        })

    @app.get("/metrics")
    def metrics_text() -> Response:
        if not metrics.scrape_allowed(current_app.config, request.remote_addr, request.headers):
            raise RequestRefused(404, "not found")
        return Response(metrics.exposition(current_app.extensions["pecoma_spool"]), mimetype=None,
                        content_type=metrics.CONTENT_TYPE)

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            version = store().ping()
        except DatabaseUnavailable:  # hooks still answer (card records are spooled): degraded, not down
            spool = current_app.extensions["pecoma_spool"]
            return json_response({"status": "degraded", "database": "unavailable", "spooledRecords": spool.depth(),
                                  "mode": current_app.config["PECOMA_MODE"]})
        except Exception:  # noqa: BLE001
            log_event("healthz_database_error", logging.ERROR, exc_info=True)
            return _outcome_response(503, ["database unavailable"])
        return json_response({"status": "ok", "schemaVersion": version, "mode": current_app.config["PECOMA_MODE"]})

    @app.get("/cds-services")
    def discovery() -> Response:
        _authenticate()
        return json_response(discovery_document())

    @app.post("/cds-services/<service_id>")
    def hook(service_id: str) -> Response:
        service = _service_or_404(service_id)
        g.log["service"] = service_id
        _authenticate()  # before the body is read: an unknown caller learns nothing about our validation
        data = _read_body()  # outside the gate: a slow upload never holds it
        gate = current_app.extensions["pecoma_compute_gate"]
        with gate:
            return _answer_hook(service_id, service, _parse_json(data), gate)

    @app.post("/cds-services/<service_id>/feedback")
    def feedback(service_id: str) -> Response:
        _service_or_404(service_id)
        g.log["service"] = service_id
        _authenticate()
        body = _read_json_body()
        check = check_feedback(body)
        if check.refused:
            raise RequestRefused(400, *check.refused)
        # A malformed item is refused alone: the valid items of its batch are stored, never lost with it.
        items = [item for i, item in enumerate(body["feedback"]) if i not in check.bad_items]
        new = duplicate = unknown = 0
        for item in items:
            try:
                stored, known, rule = store().record_feedback(service_id, item)
            except DatabaseUnavailable:  # never acknowledge what was not stored: the EHR retries (idempotent)
                metrics.feedback_unavailable()
                log_event("feedback_database_unavailable", logging.ERROR, service=service_id)
                raise RequestRefused(503, "feedback cannot be stored right now (database unavailable); retry later",
                                     headers={"Retry-After": "5"}) from None
            if stored:
                metrics.feedback_stored(rule, known, item)
            new += stored
            duplicate += not stored
            if not known:
                unknown += 1
        if unknown:
            log_event("feedback_for_unknown_card", logging.WARNING, service=service_id, count=unknown)
        g.log.update(feedback_items=len(body["feedback"]), new=new, duplicate=duplicate)
        if check.bad_items:
            g.log["refused_items"] = len(check.bad_items)
            return _outcome_response(400, check.problems(), information=[
                f"{len(items)} of {len(body['feedback'])} feedback item(s) were stored ({new} new, {duplicate} "
                f"already stored); the {len(check.bad_items)} item(s) listed were refused. Resending the whole "
                "batch is safe: an item is stored once."])
        result = {"received": len(body["feedback"]), "stored": new, "duplicates": duplicate}
        if unknown:
            result["unknownCards"] = unknown
        return json_response(result)

    @app.get("/rules")
    def rules_index() -> Response:
        return Response(rules_index_html(), mimetype="text/html")

    @app.get("/rules/<rule_id>")
    def rule_page(rule_id: str) -> Response:
        rule = RULES.get(rule_id)
        if rule is None:
            raise RequestRefused(404, f"no rule with id {rule_id[:100]!r}; GET /rules lists them")
        return Response(rule_html(rule), mimetype="text/html")

    @app.get("/fhir/CodeSystem/pecoma-rule")
    def rule_codes() -> Response:
        return json_response(rule_code_system(_public_base()), mimetype="application/fhir+json")

    @app.get("/fhir/CodeSystem/pecoma-override-reason")
    def override_reason_codes() -> Response:
        system = override_reason_code_system(_public_base())
        if system is None:
            raise RequestRefused(404, "override reasons are not defined in this version")
        return json_response(system, mimetype="application/fhir+json")


def _answer_hook(service_id: str, service: Mapping[str, Any], body: Any, gate: ComputeGate) -> Response:
    """Validate a parsed hook request, gather its data (``gate`` released while a FHIR server is queried),
    run the pipeline, check and record the cards."""
    if isinstance(body, dict) and isinstance(body.get("hookInstance"), str) and UUID_PATTERN.match(body["hookInstance"]):
        g.log["hookInstance"] = body["hookInstance"]  # a UUID: safe to log, also for refused requests
    problems = validate_request(body, service)
    if problems:
        raise RequestRefused(400, *problems)
    try:
        gathered = data_access.gather(body, prefetch_templates(service_id), current_app.config, while_waiting=gate.released)
    except data_access.PreconditionFailed as failed:
        g.log["missing_keys"] = list(failed.keys)
        return _outcome_response(412, [failed.detail], {"X-Missing-Prefetch": ",".join(failed.keys)})
    except Exception:  # noqa: BLE001 - a data-access bug degrades like a pipeline failure
        log_event("data_access_error", logging.ERROR, exc_info=True, hookInstance=body["hookInstance"])
        return _cards_response([unavailable_card()], degraded=True)
    context = body["context"]
    evaluation = evaluate(
        gathered.resources,
        hook=service["hook"],
        patient_id=context["patientId"],
        today=_today(),
        base_url=_public_base(),
        draft_orders=context.get("draftOrders"),
        selections=context.get("selections"),
        settings=current_app.extensions["pecoma_settings"],
        smart_app_url=current_app.config.get("PECOMA_SMART_APP_URL") or None,
        data_notes=gathered.notes,
        data_incomplete=gathered.incomplete,
    )
    cards = evaluation.cards
    problems = validate_response({"cards": cards})
    if problems:  # never emit an invalid response: degrade and log what was wrong (no content)
        log_event("invalid_response_suppressed", logging.ERROR, hookInstance=body["hookInstance"], problems=problems[:5])
        cards = [unavailable_card()]
    _record_cards(service_id, body["hookInstance"], context["patientId"], cards)
    return _cards_response(cards, degraded=evaluation.degraded or bool(problems))


def _record_cards(service_id: str, hook_instance: str, patient_id: str, cards: list[dict[str, Any]]) -> None:
    """Record the issued cards; while the database is unavailable, in the local spool (replayed later)."""
    rows = Store.card_rows(service_id=service_id, hook_instance=hook_instance, cards=cards,
                           patient_key=patient_key(current_app.config["PECOMA_PATIENT_KEY_SECRET"], patient_id))
    metrics.cards_issued(cards)
    try:
        store().insert_card_rows(rows)
        return
    except DatabaseUnavailable:
        pass
    except Exception:  # noqa: BLE001 - cards still go out; the records are spooled below
        log_event("record_cards_failed", logging.ERROR, exc_info=True, hookInstance=hook_instance)
    try:
        kept = current_app.extensions["pecoma_spool"].append(rows)
    except OSError:
        kept = False
        log_event("spool_write_failed", logging.ERROR, exc_info=True, hookInstance=hook_instance)
    metrics.card_records_spooled(len(rows), kept)
    log_event("card_records_spooled" if kept else "card_records_lost", logging.WARNING if kept else logging.ERROR,
              hookInstance=hook_instance, records=len(rows))


def _cards_response(cards: list[dict[str, Any]], degraded: bool = False) -> Response:
    g.log["cards"] = len(cards)
    if degraded:
        g.log["degraded"] = True
    return json_response({"cards": cards})


def _add_cors_headers(response: Response) -> None:
    origin = request.headers.get("Origin")
    allowed = current_app.config.get("PECOMA_CORS_ORIGINS") or ()
    if not origin or not allowed:
        return
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin.rstrip("/") in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    else:
        return
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Accept"
        response.headers["Access-Control-Max-Age"] = "600"
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            # Chrome's Private Network Access: a page on a public origin (e.g. the hosted Sandbox)
            # calling this service on a private/loopback address; only for allowed origins
            response.headers["Access-Control-Allow-Private-Network"] = "true"
