"""The ``pecoma-cds`` command line, run as a user runs it (a subprocess of the installed entry point)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from cds_service.pipeline import UNAVAILABLE_SUMMARY
from tests.service.builders import hook_request, non_pecoma_prefetch, pecoma_prefetch, searchset


def run(*args: str, cwd, **env: str) -> subprocess.CompletedProcess:
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}, **env}
    return subprocess.run([sys.executable, "-m", "cds_service.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_evaluate_a_cds_hooks_request_prints_assessment_and_cards(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(hook_request("patient-view", "cli-1", pecoma_prefetch("cli-1"))))
    result = run("evaluate", str(path), "--today", "2026-11-22", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert isinstance(output["assessment"], dict) and output["assessment"]["scope"]
    assert isinstance(output["cards"], list)
    assert all(c["summary"] != UNAVAILABLE_SUMMARY for c in output["cards"])


def test_evaluate_a_fhir_bundle_of_a_patient_without_pecoma(tmp_path):
    prefetch = non_pecoma_prefetch("cli-2")
    resources = [prefetch["patient"]] + [e["resource"] for e in prefetch["conditions"]["entry"]]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(searchset(*resources)))
    result = run("evaluate", str(path), "--today", "2026-11-22", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["cards"] == []
    assert output["assessment"]["scope"] == "not_pecoma"


def test_evaluate_refuses_an_invalid_request_with_the_reason(tmp_path):
    body = hook_request("order-select", "cli-3")
    body["context"]["selections"] = ["MedicationRequest/elsewhere"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    result = run("evaluate", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "not an entry of context.draftOrders" in result.stderr


def test_rules_prints_the_catalogue_as_json(tmp_path):
    from pathway.catalogue import RULES

    result = run("rules", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)["rules"]
    assert [r["rule_id"] for r in printed] == list(RULES)


def test_feedback_report_on_an_empty_database(tmp_path):
    result = run("feedback-report", cwd=tmp_path, PECOMA_DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "No cards issued" in result.stdout


def test_production_mode_without_a_patient_key_secret_refuses_to_start(tmp_path):
    result = run("serve", "--dev", cwd=tmp_path, PECOMA_MODE="production")
    assert result.returncode == 2
    assert "PECOMA_PATIENT_KEY_SECRET" in result.stderr


def test_demo_data_writes_one_transaction_bundle_per_development_patient(tmp_path):
    result = run("demo-data", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted((tmp_path / "demo").glob("*.json"))
    assert len(written) == 40 and [str(p) for p in written] == sorted(result.stdout.split())
    bundle = json.loads((tmp_path / "demo" / "V01.json").read_text())
    assert bundle["type"] == "transaction"
    assert bundle["entry"][0]["request"] == {"method": "PUT", "url": "Patient/pecoma-v01"}
