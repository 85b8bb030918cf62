"""How much a hook without prefetch costs: the slowest single FHIR query vs. a no-prefetch ``gather``.

Runs against a real FHIR server: ``PECOMA_TEST_FHIR_BASE``/``PECOMA_TEST_FHIR_TOKEN`` if set, else the local
sekmet-fhir started with ``scripts/fhir-server start``. Loads the data-access fixture patients (PUT, idempotent)
and prints, over N runs for one patient (default: the medium fixture, 87 resources, 70 Observations in the
prefetch), median and p99 of: each template query alone (the slowest one is the floor for a parallel gather),
``gather`` with no prefetch (one parallel query per prefetch key), and ``gather`` with a complete prefetch (our own processing).

    .venv/bin/python bench/fhir_fallback_bench.py [--runs 200] [--patient h6-dev-medium]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cds_service.data_access import FhirSettings, gather, resolve_template  # noqa: E402
from cds_service.demo_data import iter_fixture_bundles, to_transaction  # noqa: E402
from cds_service.fhir_client import FhirClient  # noqa: E402
from cds_service.services import PREFETCH  # noqa: E402

FIXTURE_DIRS = (REPO / "tests" / "data_access" / "fixtures", REPO / "tests" / "fixtures" / "vignettes")


def server() -> tuple[str, str]:
    base, token = os.environ.get("PECOMA_TEST_FHIR_BASE"), os.environ.get("PECOMA_TEST_FHIR_TOKEN")
    if base and token:
        return base.rstrip("/"), token
    out = subprocess.run([str(REPO / "scripts" / "fhir-server"), "start"], capture_output=True, text=True, check=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line)
    return values["PECOMA_TEST_FHIR_BASE"], values["PECOMA_TEST_FHIR_TOKEN"]


def load(base: str, token: str) -> None:
    for path, bundle in iter_fixture_bundles(FIXTURE_DIRS):
        reply = requests.post(base, json=to_transaction(bundle), timeout=60,
                              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
        reply.raise_for_status()


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--patient", default="h6-dev-medium")
    args = parser.parse_args()
    base, token = server()
    load(base, token)
    config = {"PECOMA_MODE": "demo"}
    settings = FhirSettings.from_config(config)
    client = FhirClient()
    context = {"patientId": args.patient, "userId": "Practitioner/bench"}
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": context, "fhirServer": base,
            "fhirAuthorization": {"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
                                  "subject": "bench"}}
    prefetch = {}
    for key, template in PREFETCH.items():  # warm-up, and the complete prefetch for the last measurement
        query = resolve_template(template, context)
        url = f"{base}/{query}" + (f"&_count={settings.page_size}" if "?" in query else "")
        prefetch[key] = client.get_json(url, token, settings.limits, time.monotonic() + 10).body
    gather(body, PREFETCH, config, client=client)

    per_query: dict[str, list[float]] = {key: [] for key in PREFETCH}
    slowest_per_run, sum_per_run, no_prefetch, with_prefetch = [], [], [], []
    for _ in range(args.runs):
        run = []
        for key, template in PREFETCH.items():
            query = resolve_template(template, context)
            url = f"{base}/{query}" + (f"&_count={settings.page_size}" if "?" in query else "")
            started = time.perf_counter()
            reply = client.get_json(url, token, settings.limits, time.monotonic() + 10)
            elapsed = time.perf_counter() - started
            assert reply.failure is None, reply.failure
            per_query[key].append(elapsed)
            run.append(elapsed)
        slowest_per_run.append(max(run))
        sum_per_run.append(sum(run))
        started = time.perf_counter()
        gathered = gather(body, PREFETCH, config, client=client)
        no_prefetch.append(time.perf_counter() - started)
        started = time.perf_counter()
        gather({**body, "prefetch": prefetch}, PREFETCH, config, client=client)
        with_prefetch.append(time.perf_counter() - started)

    print(f"FHIR server {base.split('/fhir')[0]}  patient {args.patient}  {len(gathered.resources)} resources  {args.runs} runs")
    for key, samples in per_query.items():
        print(f"  query {key:<22} {stats(samples)}")
    print(f"slowest single query (per run)   {stats(slowest_per_run)}")
    print(f"all {len(PREFETCH)} queries one after other    {stats(sum_per_run)}")
    print(f"gather, no prefetch (parallel)   {stats(no_prefetch)}")
    print(f"gather, complete prefetch        {stats(with_prefetch)}")
    print("(sekmet-fhir answers one request at a time: SQLite behind one lock, so the parallel gather cannot beat")
    print(" the sequential sum there. The stub below answers concurrently, with a fixed latency per query.)")
    stub_section(args.runs, config, client)


class _SlowFhir(BaseHTTPRequestHandler):
    """Answers every GET after LATENCY_S: a Patient for Patient/<id>, an empty searchset otherwise."""

    latency_s = 0.020

    def do_GET(self):  # noqa: N802
        time.sleep(self.latency_s)
        patient = self.path.startswith("/fhir/Patient/")
        body = b'{"resourceType": "Patient", "id": "p1"}' if patient else b'{"resourceType": "Bundle", "type": "searchset"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve_slow(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), _SlowFhir).serve_forever()


def stub_section(runs: int, config: dict, client: FhirClient) -> None:
    """The same gather against a concurrent stub (its own process) whose every query takes 20 ms."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = multiprocessing.Process(target=_serve_slow, args=(port,), daemon=True)
    process.start()
    try:
        base = f"http://127.0.0.1:{port}/fhir"
        settings = FhirSettings.from_config(config)
        for _ in range(50):
            if client.get_json(f"{base}/Patient/p1", None, settings.limits, time.monotonic() + 1).failure is None:
                break
            time.sleep(0.1)
        body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"patientId": "p1", "userId": "Practitioner/b"},
                "fhirServer": base, "fhirAuthorization": {"access_token": "bench"}}
        single, samples = [], []
        for _ in range(min(runs, 100)):
            started = time.perf_counter()
            client.get_json(f"{base}/Observation?patient=p1", "bench", settings.limits, time.monotonic() + 10)
            single.append(time.perf_counter() - started)
            started = time.perf_counter()
            gather(body, PREFETCH, config, client=client)
            samples.append(time.perf_counter() - started)
        latency = _SlowFhir.latency_s * 1000
        print(f"concurrent stub (own process) answering each query after {latency:.0f} ms "
              f"({len(PREFETCH)} in a row would take {len(PREFETCH) * latency:.0f} ms):")
        print(f"  one query                      {stats(single)}")
        print(f"  gather, no prefetch (parallel) {stats(samples)}")
    finally:
        process.terminate()
        process.join(5)


if __name__ == "__main__":
    main()
