"""Profile of one hook request (issue #8 point 3): where the time of a medium patient-view goes.

The production app (``PECOMA_MODE=production``, an ES384 trusted client generated here, a temporary SQLite
database) answers the benchmark body of ``bench/bodies.py`` through Flask's test client, so what is measured is
the whole request path of one worker (JWT verification, body parsing, request schema, prefetch resolution,
extract -> decide -> render, response checks, card records) without the HTTP server and the load generator.

Printed: the median time per request, then the same time split by stage, each stage timed on its own over the
same body (median of ``--runs``), then each stage timed inside further whole requests (its function wrapped while
they run), and, with ``--tree``, pyinstrument's call tree (``pip install pyinstrument``).

    .venv/bin/python bench/profile_hook.py [--size medium] [--runs 200] [--tree]
"""
from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bodies import REFERENCE_DATE, SIZES, request_body, resource_count  # noqa: E402
from bench.service_bench import HOOK_PATH, ISSUER, Tokens, _key_and_jwks  # noqa: E402

BASE = "http://localhost"


def median_ms(step: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


IN_EVALUATE = "  "  # stages inside pipeline.evaluate (indented; not added to the rest)
WHOLE = "whole request"


def stage_times_in_request(request: Callable[[], None], runs: int) -> dict[str, float]:
    """Median ms per request of each stage, timed by wrapping its function while whole requests run."""
    import cards
    import fhir_mappings
    import pathway
    from cds_service import app as app_module, auth, data_access, metrics

    stages = [  # (module, attribute, label): the names the request path looks up at call time
        (auth, "authenticate", "JWT verification (ES384, jti insert)"),
        (app_module, "_parse_json", "JSON parse (orjson)"),
        (app_module, "validate_request", "request schema (jsonschema)"),
        (data_access, "gather", "prefetch resolution (data_access.gather)"),
        (app_module, "evaluate", "pipeline.evaluate"),
        (fhir_mappings, "extract", IN_EVALUATE + "fhir_mappings.extract"),
        (pathway, "decide", IN_EVALUATE + "pathway.decide"),
        (cards, "render", IN_EVALUATE + "cards.render"),
        (app_module, "validate_response", "response checks"),
        (app_module, "_record_cards", "card records (SQLite)"),
        (app_module, "_read_body", "body read"),
        (metrics, "hook_answered", "metrics"),
        (app_module, "log_event", "log line"),
    ]
    spent: dict[str, float] = {}
    originals = [(module, name, getattr(module, name)) for module, name, _ in stages]

    def timed(function: Callable, label: str) -> Callable:
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
        return wrapper

    per_request: dict[str, list[float]] = {label: [] for _, _, label in stages}
    per_request[WHOLE] = []
    try:
        for module, name, label in stages:
            setattr(module, name, timed(getattr(module, name), label))
        for _ in range(runs):
            spent.clear()
            started = time.perf_counter()
            request()
            spent[WHOLE] = time.perf_counter() - started
            for label in per_request:
                per_request[label].append(spent.get(label, 0.0))
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
    return {label: statistics.median(times) * 1000 for label, times in per_request.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="medium")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree of the requests")
    args = parser.parse_args()

    import cards
    import fhir_mappings
    import pathway
    from cds_service import auth
    from cds_service.app import create_app
    from cds_service.config import load_config
    from cds_service.pipeline import evaluate
    from cds_service.services import SERVICES
    from cds_service.validation import validate_request, validate_response

    workdir = Path(tempfile.mkdtemp(prefix="pecoma-profile-"))
    pem, jwks = _key_and_jwks()
    (workdir / "clients.json").write_text(json.dumps({"clients": [{"iss": ISSUER, "jwks": jwks}]}))
    config = load_config({}, PECOMA_MODE="production", PECOMA_TRUSTED_CLIENTS=str(workdir / "clients.json"),
                         PECOMA_DATABASE_URL=f"sqlite:///{workdir / 'p.sqlite3'}", PECOMA_PUBLIC_BASE_URL=BASE,
                         PECOMA_PATIENT_KEY_SECRET=secrets.token_urlsafe(32),
                         PECOMA_REFERENCE_DATE=REFERENCE_DATE.isoformat(), PECOMA_MAX_BODY_BYTES=str(8 << 20))
    app = create_app(config)
    client = app.test_client()
    import gc

    from cds_service.gunicorn_conf import GC_THRESHOLDS

    gc.set_threshold(*GC_THRESHOLDS)  # as in the production server (cds_service/gunicorn_conf.py)
    gc.freeze()
    body_dict = request_body(args.size)
    body = orjson.dumps(body_dict)
    tokens = iter(Tokens(pem, BASE + HOOK_PATH).pool(5 * args.runs + 20))

    def request() -> None:
        reply = client.post(HOOK_PATH, data=body, content_type="application/json",
                            headers={"Authorization": f"Bearer {next(tokens)}"})
        assert reply.status_code == 200, reply.status_code

    for _ in range(10):
        request()
    whole = median_ms(request, args.runs)
    in_request = stage_times_in_request(request, args.runs)

    resources = [entry["resource"] for value in body_dict["prefetch"].values() if value
                 for entry in (value.get("entry") or []) if "resource" in entry]
    patient_id = body_dict["context"]["patientId"]
    facts = fhir_mappings.extract(resources, today=REFERENCE_DATE, patient_id=patient_id)
    decision = pathway.decide(facts, today=REFERENCE_DATE, hook="patient-view")
    context = cards.RenderContext(hook="patient-view", patient_ref=f"Patient/{patient_id}", base_url=BASE)
    rendered = evaluate(resources, hook="patient-view", patient_id=patient_id, today=REFERENCE_DATE, base_url=BASE).cards
    with app.app_context():
        guard = app.extensions["pecoma_jti_guard"]
        stages = {
            "JWT verification (ES384, jti insert)": lambda: auth.authenticate(
                f"Bearer {next(tokens)}", BASE + HOOK_PATH, app.config, guard),
            "JSON parse (orjson)": lambda: orjson.loads(body),
            "request schema (jsonschema)": lambda: validate_request(body_dict, SERVICES["pecoma-patient-view"]),
            "fhir_mappings.extract": lambda: fhir_mappings.extract(resources, today=REFERENCE_DATE, patient_id=patient_id),
            "pathway.decide": lambda: pathway.decide(facts, today=REFERENCE_DATE, hook="patient-view"),
            "cards.render": lambda: cards.render(decision, context),
            "response checks": lambda: validate_response({"cards": rendered}),
            "JSON dump (orjson)": lambda: orjson.dumps({"cards": rendered}),
        }
        timed = {name: median_ms(step, args.runs) for name, step in stages.items()}

    print(f"{args.size} patient-view: {resource_count(body_dict)} resources, {len(body) / 1024:.0f} KB, "
          f"{len(rendered)} cards; median of {args.runs} runs")
    print(f"\nwhole request through the app (test client, no HTTP server): {whole:.2f} ms\n")
    print("| stage (timed alone) | median ms | share of the request |")
    print("|---|---|---|")
    for name, ms in timed.items():
        print(f"| {name} | {ms:.2f} | {ms / whole:.0%} |")
    rest = whole - sum(timed.values())
    print(f"| rest (not timed alone: prefetch resolution, card records; Flask, logging; see below) | {rest:.2f} | {rest / whole:.0%} |")
    whole_in = in_request.pop(WHOLE)
    print(f"\nThe same stages timed inside {args.runs} more requests (median per request: {whole_in:.2f} ms; a stage runs "
          "slower among the others than alone, with colder caches):\n")
    print("| stage (in the request) | median ms | share of the request |")
    print("|---|---|---|")
    for name, ms in in_request.items():
        print(f"| {name} | {ms:.2f} | {ms / whole_in:.0%} |")
    rest = whole_in - sum(ms for name, ms in in_request.items() if not name.startswith(IN_EVALUATE))
    print(f"| rest (Flask and the test client; freeing the request's objects, cache-cold by then) | {rest:.2f} | {rest / whole_in:.0%} |")

    if args.tree:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        with profiler:
            for _ in range(args.runs):
                request()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
