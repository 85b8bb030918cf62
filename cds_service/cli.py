"""``pecoma-cds``: serve, evaluate, rules, feedback-report, demo-data, db (README §Command line)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from cds_service.config import ConfigError, load_config


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pecoma-cds", description="PEComa pathway CDS Hooks 2.0 service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service (gunicorn; --dev for the Flask development server)")
    serve.add_argument("--demo", action="store_true", help="demo mode: authentication off, CORS *, demo secret (never with real data)")
    serve.add_argument("--bind", help="host:port (default: PECOMA_BIND or 127.0.0.1:8080)")
    serve.add_argument("--workers", type=int, help="gunicorn workers (default: PECOMA_WORKERS or 2)")
    serve.add_argument("--dev", action="store_true", help="Flask development server, single process (development only)")

    ev = commands.add_parser("evaluate", help="run one CDS Hooks request or FHIR Bundle from a file through the pipeline")
    ev.add_argument("file", help="a CDS Hooks request JSON (with prefetch) or a FHIR Bundle JSON; '-' = stdin")
    ev.add_argument("--today", help="reference date YYYY-MM-DD (default: PECOMA_REFERENCE_DATE or today)")
    ev.add_argument("--hook", help="hook for a Bundle (default patient-view; a request's own hook wins)")
    ev.add_argument("--base-url", default=None, help="public base URL for rule links (default: PECOMA_PUBLIC_BASE_URL or http://127.0.0.1:8080)")

    commands.add_parser("rules", help="print the rule catalogue as JSON")
    commands.add_parser("feedback-report", help="print acceptance/override counts and override reasons per rule")
    demo = commands.add_parser("demo-data", help="write the development patients as FHIR transaction Bundles (one file each)")
    demo.add_argument("out_dir", help="folder to write V01.json ... into (created if missing)")
    demo.add_argument("--fixtures", help="folder of collection Bundles to convert (default: the repo's tests/fixtures/vignettes)")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply pending schema migrations")

    args = parser.parse_args(argv)
    try:
        return {"serve": _serve, "evaluate": _evaluate, "rules": _rules, "feedback-report": _feedback_report, "db": _db,
                "demo-data": _demo_data}[args.command](args)
    except ConfigError as exc:
        print(f"pecoma-cds: configuration error: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    if args.demo:
        os.environ["PECOMA_MODE"] = "demo"
    if args.bind:
        os.environ["PECOMA_BIND"] = args.bind
    if args.workers:
        os.environ["PECOMA_WORKERS"] = str(args.workers)
    if not args.dev:
        from cds_service.gunicorn_conf import prepare_metrics_dir  # noqa: PLC0415 - before anything imports prometheus_client

        prepare_metrics_dir()
    from cds_service.app import check_config  # noqa: PLC0415

    check_config(load_config())  # fail early with a readable message
    if args.dev:
        from cds_service.app import create_app

        host, _, port = os.environ.get("PECOMA_BIND", "127.0.0.1:8080").rpartition(":")
        create_app().run(host=host or "127.0.0.1", port=int(port), debug=False, use_reloader=False)
        return 0
    from gunicorn.app.wsgiapp import run  # noqa: PLC0415

    sys.argv = ["gunicorn", "-c", "python:cds_service.gunicorn_conf", "cds_service.wsgi:app"]
    run()
    return 0


def _demo_data(args: argparse.Namespace) -> int:
    from cds_service.demo_data import write_demo_bundles  # noqa: PLC0415

    for path in write_demo_bundles(args.out_dir, args.fixtures):
        print(path)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from cds_service.data_access import PreconditionFailed, gather  # noqa: PLC0415
    from cds_service.pipeline import evaluate, load_site_settings  # noqa: PLC0415
    from cds_service.services import SERVICES, prefetch_templates  # noqa: PLC0415
    from cds_service.validation import validate_request  # noqa: PLC0415

    overrides: dict[str, Any] = {}
    if args.today:
        overrides["PECOMA_REFERENCE_DATE"] = args.today
    config = load_config(**overrides)
    today = config["PECOMA_REFERENCE_DATE"] or date.today()
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"pecoma-cds: {args.file}: not valid JSON ({exc})", file=sys.stderr)
        return 1
    if not isinstance(body, dict):
        print(f"pecoma-cds: {args.file}: expected a JSON object", file=sys.stderr)
        return 1

    if body.get("resourceType") == "Bundle":
        hook = args.hook or "patient-view"
        resources = [e["resource"] for e in body.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        patients = [r for r in resources if r.get("resourceType") == "Patient"]
        patient_id = patients[0].get("id") if len(patients) == 1 else None
        draft_orders = selections = None
    else:
        hook = body.get("hook") or args.hook or "patient-view"
        service = next((s for s in SERVICES.values() if s["hook"] == hook), None)
        if service is None:
            print(f"pecoma-cds: no service answers the hook {hook!r}", file=sys.stderr)
            return 1
        problems = validate_request(body, service)
        if problems:
            print("pecoma-cds: invalid CDS Hooks request:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        try:
            resources = gather(body, prefetch_templates(service["id"]), config).resources
        except PreconditionFailed as failed:
            print(f"pecoma-cds: {failed.detail}", file=sys.stderr)
            return 1
        patient_id = body["context"]["patientId"]
        draft_orders = body["context"].get("draftOrders")
        selections = body["context"].get("selections")

    evaluation = evaluate(
        resources,
        hook=hook,
        patient_id=patient_id,
        today=today,
        base_url=args.base_url or config["PECOMA_PUBLIC_BASE_URL"] or "http://127.0.0.1:8080",
        draft_orders=draft_orders,
        selections=selections,
        settings=load_site_settings(config["PECOMA_SITE_SETTINGS"]),
    )
    print(json.dumps(evaluation.as_json(), indent=2, ensure_ascii=False))
    return 0


def _rules(args: argparse.Namespace) -> int:
    from cds_service.rules_docs import rules_as_json  # noqa: PLC0415

    print(json.dumps({"rules": rules_as_json()}, indent=2, ensure_ascii=False))
    return 0


def _open_store(upgrade: bool = False) -> Any:
    """The database of PECOMA_DATABASE_URL; ``upgrade`` applies pending migrations, else the start-up check runs."""
    from cds_service.config import DEFAULT_DATABASE_URL  # noqa: PLC0415
    from cds_service.storage import StorageError, Store  # noqa: PLC0415

    try:
        store = Store.from_url(os.environ.get("PECOMA_DATABASE_URL") or DEFAULT_DATABASE_URL)
        if upgrade:
            store.upgrade()
        else:
            store.open_for_service()
    except StorageError as exc:
        raise ConfigError(f"PECOMA_DATABASE_URL: {exc}") from None
    return store


def _feedback_report(args: argparse.Namespace) -> int:
    store = _open_store()
    report = store.feedback_report()
    if not report:
        print("No cards issued and no feedback recorded yet.")
        return 0
    print(f"{'rule':<36} {'issued':>7} {'accepted':>9} {'overridden':>11}")
    for rule in report:
        print(f"{rule.rule_code:<36} {rule.issued:>7} {rule.accepted:>9} {rule.overridden:>11}")
        for reason, count in sorted(rule.override_reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"    override reason: {reason}: {count}")
    return 0


def _db(args: argparse.Namespace) -> int:
    store = _open_store(upgrade=True)
    print(f"database schema at version {store.schema_version()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
