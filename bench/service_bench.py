"""Service benchmark (issue #8): the production server against a floor app, under the same load generator.

One run starts, on loopback ports, with the production gunicorn settings of ``cds_service/gunicorn_conf.py``:

* the **service**: ``PECOMA_MODE=production``, a trusted-clients file with an ES384 key this script generates, a
  temporary SQLite database and patient-key secret; every request carries a JWT signed here (unique ``jti``,
  ``aud`` = the exact hook URL; replayed ``jti``s are refused, so each request gets its own token);
* the **floor**: ``bench/floor_app.py``, a bare Flask app that parses the same body and returns one fixed card.

Both are driven at concurrency 1 and 8 with small (~20), medium (~500) and large (~5,000 resources) patient-view
requests (``bench/bodies.py``: a vignette record plus vitals/labs/conditions the pathway skips). Printed: req/s,
p50, p99 per case, the service/floor ratios, start-up time (process start to first answered hook request), RSS
per worker after the large run, and PASS/FAIL per target of issue #8. Every answer must be 200 and the first
answer of each size must equal the in-process pipeline's answer (as in ``tests/perf``), else the run stops.

Load generator: ``wrk`` (Debian: ``apt-get install -y wrk``; this script installs nothing), driven by a Lua
script that gives every request the next token of a pre-signed pool larger than the request cap and stops the
thread when its share is used. Without wrk a bounded Python generator with the same semantics (c keep-alive
connections, a duration and a request cap) is used, and the output says so. Everything targets 127.0.0.1.

    .venv/bin/python bench/service_bench.py            # full run, ~4 minutes on the 2-core machine
    .venv/bin/python bench/service_bench.py --quick    # ~1 minute, one repeat, shorter runs
    .venv/bin/python bench/service_bench.py --fhir     # adds the FHIR-fallback run (local sekmet-fhir)
    .venv/bin/python bench/service_bench.py --postgres # adds the service on PostgreSQL (issue #10: medium c=8
                                                       # within 10% of SQLite in the same run)

``--baseline DIR`` also serves the code of another checkout with the same settings (before/after in one run):

    git worktree add /tmp/before <commit> && .venv/bin/python bench/service_bench.py --baseline /tmp/before

``--postgres`` runs a third server, identical to the service but with ``PECOMA_DATABASE_URL`` on the local
PostgreSQL (``PECOMA_TEST_DATABASE_URL``, else ``scripts/postgres start``), in a new schema dropped afterwards.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bodies import REFERENCE_DATE, SIZES, request_body, resource_count  # noqa: E402

HOOK_PATH = "/cds-services/pecoma-patient-view"
ISSUER = "https://bench-ehr.example.org/cds"
KID = "bench-es384"
GOLDEN_DIR = REPO / "tests" / "perf" / "golden"
GOLDEN_BASE = b"https://cds.example.org"
# per size: run duration (s) and request cap per run (full, quick)
GUNICORN_OVERRIDES: dict[str, str] = {}  # --workers/--threads: PECOMA_WORKERS/PECOMA_THREADS for every server
FLOOR_CAP = 100_000  # the floor reuses tokens: bounded by the duration and this count
PLAN = {"small": ((5, 4000), (2, 1500)), "medium": ((5, 1500), (2, 600)), "large": ((6, 400), (3, 150))}
TARGETS_TEXT = {
    "throughput": "medium c=8: service req/s >= 0.8 x floor",
    "p99": "medium c=8: service p99 <= 1.5 x floor p99",
    "linear": "large/medium time per request (c=1 p50) <= 12",
    "startup": "process start to first answered request < 2 s",
    "rss": "RSS per worker after the large run < 200 MB",
    "postgres": "medium c=8: service on PostgreSQL within 10% of SQLite (req/s and p50, same run)",
}


# ------------------------------------------------------------------ tokens


def _key_and_jwks():
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": KID, "use": "sig", "alg": "ES384"})
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, {"keys": [jwk]}


def _sign(args: tuple[bytes, str, int]) -> list[str]:
    import jwt
    from cryptography.hazmat.primitives import serialization

    pem, audience, count = args
    key = serialization.load_pem_private_key(pem, password=None)
    now = int(time.time())
    return [jwt.encode({"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 1800, "jti": str(uuid.uuid4())},
                       key, algorithm="ES384", headers={"kid": KID, "typ": "JWT"}) for _ in range(count)]


class Tokens:
    """Pre-signed ES384 JWTs for one audience; each handed out once."""

    def __init__(self, pem: bytes, audience: str):
        self.pem, self.audience = pem, audience

    def pool(self, count: int) -> list[str]:
        workers = 2 if count >= 400 else 1
        share = [count // workers + (i < count % workers) for i in range(workers)]
        if workers == 1:
            return _sign((self.pem, self.audience, count))
        with ProcessPoolExecutor(workers) as pool:
            return [t for part in pool.map(_sign, [(self.pem, self.audience, n) for n in share]) for t in part]

    def one(self) -> str:
        return _sign((self.pem, self.audience, 1))[0]


# ------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app: str  # gunicorn app spec
    env: dict[str, str]
    workdir: Path
    repo: Path = REPO  # the checkout whose code is served (--baseline: another one)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    started_at: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}
        env.update(self.env, PECOMA_BIND=f"127.0.0.1:{self.port}", **GUNICORN_OVERRIDES)
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:cds_service.gunicorn_conf", self.app],
            cwd=self.repo, env=env, stdout=log, stderr=subprocess.STDOUT)

    def first_answer(self, body: bytes, token: callable, timeout_s: float = 30.0) -> float:
        """Seconds from process start to the first 200 answer to a hook request (polled every 10 ms)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.workdir / (self.name + '.log')}")
            try:
                status, _ = post(self.port, body, token())
                if status == 200:
                    return time.perf_counter() - self.started_at
                raise RuntimeError(f"{self.name} answered {status} to the first hook request")
            except (ConnectionError, OSError):
                time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not answer within {timeout_s} s")

    def worker_rss_mb(self) -> list[float]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [_rss_mb(int(child)) for child in children]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(port: int, body: bytes, token: str | None, timeout_s: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request("POST", HOOK_PATH, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


# ------------------------------------------------------------------ load generators


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_200: int
    errors: int
    capped: bool = False  # stopped at the request cap before the duration (wrk: req/s is then a lower bound)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_LUA = r"""
-- one token per request from a pre-signed pool (one line per token), split between the threads
local threads, next_id = {}, 1
function setup(thread)
  thread:set("id", next_id); next_id = next_id + 1
  table.insert(threads, thread)
end
local tokens, sent, done_count, cap, rotate = {}, 0, 0, 0, false
bad, capped = 0, 0  -- globals: done() reads them with thread:get
function init(args)
  local nthreads = tonumber(args[3])
  local f = io.open(args[1], "rb"); local body = f:read("*a"); f:close()
  local i = 0
  for line in io.lines(args[2]) do
    if i % nthreads == id - 1 then table.insert(tokens, line) end
    i = i + 1
  end
  cap = tonumber(args[4])
  rotate = args[5] == "rotate"  -- the floor verifies no token: reuse the pool
  wrk.method = "POST"; wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  sent = sent + 1
  local token = rotate and tokens[(sent - 1) % #tokens + 1] or tokens[sent] or tokens[#tokens]
  return wrk.format(nil, nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, nil)
end
function response(status, headers, body)
  done_count = done_count + 1
  if status ~= 200 then bad = bad + 1 end
  if done_count >= cap then capped = 1; wrk.thread:stop() end
end
function done(summary, latency, requests)
  local non200, hit = 0, 0
  for _, t in ipairs(threads) do non200 = non200 + (t:get("bad") or 0); hit = hit + (t:get("capped") or 0) end
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_200": %d, "errors": %d, "capped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), non200,
    e.connect + e.read + e.write + e.timeout, hit))
end
"""


def run_wrk(workdir: Path, port: int, body_file: Path, tokens: list[str], concurrency: int, seconds: float, cap: int,
            rotate: bool = False) -> Result:
    """wrk for ``seconds`` or until ``cap`` answers (a thread stops at its share; wrk then still reports the full
    duration, so such a run is marked capped and its req/s is a lower bound)."""
    threads = 1 if concurrency == 1 else 2
    token_file = workdir / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    script = workdir / "bench.lua"
    script.write_text(WRK_LUA)
    per_thread_cap = max(1, cap // threads)  # wrk takes whole seconds ("30.0s" is refused)
    command = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
               f"http://127.0.0.1:{port}{HOOK_PATH}", "--", str(body_file), str(token_file), str(threads), str(per_thread_cap),
               "rotate" if rotate else "once"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    data = json.loads(line.removeprefix("BENCHJSON "))
    return Result(data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000, data["p99_us"] / 1000,
                  data["non_200"], data["errors"], bool(data["capped"]))


def run_python(port: int, body: bytes, tokens: list[str], concurrency: int, seconds: float, cap: int) -> Result:
    """The fallback generator: ``concurrency`` keep-alive connections in threads, until the duration or the cap."""
    lock = threading.Lock()
    issued = iter(range(cap))
    latencies: list[float] = []
    failures = {"non_200": 0, "errors": 0}
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                index = next(issued, None)
            if index is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", HOOK_PATH, body=body, headers={"Content-Type": "application/json",
                                                                     "Authorization": f"Bearer {tokens[index]}"})
                reply = conn.getresponse()
                reply.read()
                status = reply.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    failures["errors"] += 1
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures["non_200"] += status != 200
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(seconds + 60)
    duration = time.perf_counter() - started
    latencies.sort()
    pct = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (lambda q: float("nan"))
    return Result(len(latencies), duration, pct(0.50), pct(0.99), failures["non_200"], failures["errors"])


# ------------------------------------------------------------------ the benchmark


def check_answer(server: Server, size: str, body: bytes, token: str) -> None:
    """The service's answer for ``size`` must be what the pipeline gives in-process for the same body (the code
    path of ``tests/perf``; uuids/timestamps masked), else the numbers are void."""
    from tests.perf.golden import normalise, response

    status, reply = post(server.port, body, token)
    expected = response(orjson.loads(body), REFERENCE_DATE, None)
    got = normalise(reply.replace(server.base.encode(), GOLDEN_BASE))
    if status != 200 or got != expected:
        raise RuntimeError(f"service answer for {size} (HTTP {status}) differs from the in-process pipeline's")
    if got != (GOLDEN_DIR / f"bench-{size}.json").read_bytes():
        print(f"NOTE: the {size} answer differs from tests/perf/golden/bench-{size}.json: clinical output changed "
              "since the golden files were written (python -m tests.perf.regenerate if intended)", file=sys.stderr)


FHIR_PATIENT = "bench-h8-fhir"  # its own patient on the shared test server: fixture patients stay untouched


def start_fhir_server() -> tuple[str, str] | None:
    """(base, token) of the local sekmet-fhir (``scripts/fhir-server start``, idempotent), or None with a note."""
    try:
        out = subprocess.run([str(REPO / "scripts" / "fhir-server"), "start"], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"NOTE: FHIR fallback skipped: scripts/fhir-server start failed ({exc.__class__.__name__})", file=sys.stderr)
        return None
    values = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    if out.returncode or "PECOMA_TEST_FHIR_BASE" not in values:
        print(f"NOTE: FHIR fallback skipped: scripts/fhir-server start: {out.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    base = values["PECOMA_TEST_FHIR_BASE"]
    if not base.startswith("http://127.0.0.1:"):
        raise RuntimeError("the benchmark only targets loopback; PECOMA_TEST_FHIR_BASE is elsewhere")
    return base, values["PECOMA_TEST_FHIR_TOKEN"]


def fhir_fallback(args: argparse.Namespace, workdir: Path, service: Server, tokens: Tokens, use_wrk: bool) -> dict | None:
    """Patient-view without prefetch (the service queries the FHIR server) vs the slowest single query."""
    import requests

    from cds_service.data_access import FhirSettings, resolve_template
    from cds_service.demo_data import to_transaction
    from cds_service.fhir_client import FhirClient
    from cds_service.services import PREFETCH
    from bench.bodies import record

    server = start_fhir_server()
    if server is None:
        return None
    base, fhir_token = server
    patient_id, resources = record("medium", patient_id=FHIR_PATIENT)
    reply = requests.post(base, json=to_transaction({"resourceType": "Bundle", "type": "collection",
                                                     "entry": [{"resource": r} for r in resources]}),
                          headers={"Authorization": f"Bearer {fhir_token}", "Content-Type": "application/fhir+json"}, timeout=120)
    reply.raise_for_status()
    context = {"userId": "Practitioner/bench-clinician", "patientId": patient_id}
    body = orjson.dumps({"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": context, "fhirServer": base,
                         "fhirAuthorization": {"access_token": fhir_token, "token_type": "Bearer", "expires_in": 3600,
                                               "scope": "patient/*.read", "subject": "bench"}})
    (workdir / "fhir.json").write_bytes(body)
    # each prefetch query alone, all its pages, as the service reads them (same client, same page size)
    settings, client = FhirSettings(), FhirClient()
    per_key: dict[str, list[float]] = {key: [] for key in PREFETCH}
    for _ in range(5 if args.quick else 20):
        for key, template in PREFETCH.items():
            query = resolve_template(template, context)
            url = f"{base}/{query}" + (f"&_count={settings.page_size}" if "?" in query else "")
            started = time.perf_counter()
            while url:
                page = client.get_json(url, fhir_token, settings.limits, time.monotonic() + 10)
                if page.failure:
                    raise RuntimeError(f"FHIR query {key} failed: {page.failure}")
                url = next((l.get("url") for l in page.body.get("link") or [] if l.get("relation") == "next"), None)
            per_key[key].append(time.perf_counter() - started)
    medians = {key: statistics.median(v) * 1000 for key, v in per_key.items()}
    out: dict = {"resources": len(resources), "slowest_key": max(medians, key=medians.get),
                 "slowest_ms": max(medians.values()), "sum_ms": sum(medians.values()), "runs": {}}
    status, _ = post(service.port, body, tokens.one())
    if status != 200:
        raise RuntimeError(f"no-prefetch request answered {status}; see {workdir / 'service.log'}")
    for concurrency in args.concurrency:
        seconds, cap = (2, 60) if args.quick else (5, 300)
        pool = tokens.pool(cap + 2 * concurrency)
        result = (run_wrk(workdir, service.port, workdir / "fhir.json", pool, concurrency, seconds, cap) if use_wrk
                  else run_python(service.port, body, pool, concurrency, seconds, cap))
        if result.non_200 or result.errors:
            raise RuntimeError(f"FHIR fallback c={concurrency}: {result.non_200} non-200, {result.errors} errors")
        out["runs"][concurrency] = result
        print(f"  fhir-fallback c={concurrency} service {result.rate:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
              f"p99 {result.p99_ms:7.2f} ms ({result.requests} requests)", file=sys.stderr)
    return out


@contextlib.contextmanager
def postgres_schema():
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped afterwards), as the storage tests do."""
    import psycopg
    from urllib.parse import quote

    url = os.environ.get("PECOMA_TEST_DATABASE_URL")
    if not url:
        out = subprocess.run([str(REPO / "scripts" / "postgres"), "start"], capture_output=True, text=True, timeout=120)
        if out.returncode:
            raise RuntimeError(f"--postgres: scripts/postgres start failed: {out.stderr.strip()[-300:]}")
        url = out.stdout.strip().split("=", 1)[1]
    if "@127.0.0.1" not in url and "@localhost" not in url:
        raise RuntimeError("the benchmark only targets loopback; the PostgreSQL URL is elsewhere")
    schema = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def measure(args: argparse.Namespace) -> dict:
    use_wrk = shutil.which("wrk") is not None and not args.python_generator
    if not use_wrk:
        print("NOTE: wrk not found (apt-get install -y wrk): using the bounded Python load generator, which shares the"
              " CPU with the servers; compare ratios only.", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="pecoma-bench-"))
    pem, jwks = _key_and_jwks()
    (workdir / "trusted-clients.json").write_text(json.dumps({"clients": [{"iss": ISSUER, "jwks": jwks}]}))
    service_env = {
        "PECOMA_MODE": "production",
        "PECOMA_TRUSTED_CLIENTS": str(workdir / "trusted-clients.json"),
        "PECOMA_DATABASE_URL": f"sqlite:///{workdir / 'service.sqlite3'}",
        "PECOMA_PATIENT_KEY_SECRET": secrets.token_urlsafe(32),
        "PECOMA_REFERENCE_DATE": REFERENCE_DATE.isoformat(),  # so answers can be checked against the golden files
        "PECOMA_MAX_BODY_BYTES": str(8 * 1024 * 1024),
        "PECOMA_FHIR_HTTP_ALLOWLIST": "http://127.0.0.1:*",  # the local FHIR server of --fhir (loopback, plain http)
    }
    service = Server("service", "cds_service.wsgi:app", service_env, workdir)
    floor = Server("floor", "bench.floor_app:app", {"BENCH_FLOOR_PARSER": args.floor_parser}, workdir)
    tokens = Tokens(pem, f"{service.base}{HOOK_PATH}")
    exits = contextlib.ExitStack()
    services = [service]
    if args.postgres:
        pg_env = dict(service_env, PECOMA_DATABASE_URL=exits.enter_context(postgres_schema()))
        # as in a deployment: the schema is created by `pecoma-cds db upgrade`, never implicitly at start
        subprocess.run([sys.executable, "-m", "cds_service.cli", "db", "upgrade"], cwd=REPO, check=True,
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}, **pg_env},
                       stdout=subprocess.DEVNULL)
        services.append(Server("service-pg", "cds_service.wsgi:app", pg_env, workdir))
    if args.baseline:
        baseline_env = dict(service_env, PECOMA_DATABASE_URL=f"sqlite:///{workdir / 'baseline.sqlite3'}")
        services.append(Server("baseline", "cds_service.wsgi:app", baseline_env, workdir, repo=args.baseline))
    signer = {server.name: Tokens(pem, f"{server.base}{HOOK_PATH}") for server in services}
    signer["floor"] = tokens
    bodies = {size: orjson.dumps(request_body(size)) for size in args.sizes}
    counts = {size: resource_count(orjson.loads(data)) for size, data in bodies.items()}
    for size, data in bodies.items():
        (workdir / f"{size}.json").write_bytes(data)
    results: dict[tuple[str, int, str], list[Result]] = {}
    report: dict = {"generator": "wrk" if use_wrk else "python", "bodies": {s: (counts[s], len(b)) for s, b in bodies.items()},
                    "load_before": os.getloadavg()}
    try:
        small = bodies.get("small") or orjson.dumps(request_body("small"))
        service.start()
        report["startup_s"] = service.first_answer(small, tokens.one)
        floor.start()
        report["floor_startup_s"] = floor.first_answer(small, lambda: None)
        for extra in services[1:]:
            extra.start()
            report[f"{extra.name}_startup_s"] = extra.first_answer(small, signer[extra.name].one)
        for server in services:
            for size in args.sizes:
                check_answer(server, size, bodies[size], signer[server.name].one())
        for repeat in range(args.repeat):
            for size in args.sizes:
                seconds, cap = PLAN[size][1 if args.quick else 0]
                seconds = args.seconds or seconds
                for concurrency in args.concurrency:
                    for server in [floor] + services:  # interleaved: all see the same machine load
                        pool = signer[server.name].pool(cap + 2 * concurrency + 8)
                        for token in pool[-8:]:  # warm-up (floor ignores tokens; service gets unused ones)
                            post(server.port, bodies[size], token)
                        work = pool[:-8]
                        if use_wrk:
                            floor_run = server is floor
                            result = run_wrk(workdir, server.port, workdir / f"{size}.json", work, concurrency, seconds,
                                             FLOOR_CAP if floor_run else cap, rotate=floor_run)
                        else:
                            result = run_python(server.port, bodies[size], work, concurrency, seconds, cap)
                        if result.non_200 or result.errors:
                            raise RuntimeError(f"{server.name} {size} c={concurrency}: {result.non_200} non-200 answers, "
                                               f"{result.errors} socket errors; see {workdir}")
                        results.setdefault((size, concurrency, server.name), []).append(result)
                        print(f"  run {repeat + 1}/{args.repeat} {size:<6} c={concurrency} {server.name:<7} "
                              f"{result.rate:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms "
                              f"({result.requests} requests{', CAPPED: req/s is a lower bound' if result.capped else ''})",
                              file=sys.stderr)
                if size == "large" and repeat == 0:
                    report["rss_mb"] = service.worker_rss_mb()
                    report["floor_rss_mb"] = floor.worker_rss_mb()
        if args.fhir:
            report["fhir"] = fhir_fallback(args, workdir, service, tokens, use_wrk)
        report["load_after"] = os.getloadavg()
    finally:
        for server in services + [floor]:
            server.stop()
        exits.close()
    report["results"] = results
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def fhir_keys() -> list[str]:
    from cds_service.services import PREFETCH

    return list(PREFETCH)


def _median_run(runs: list[Result]) -> Result:
    """The run with the median throughput (its own p50/p99): one coherent run, robust to one disturbed repeat."""
    ordered = sorted(runs, key=lambda r: r.rate)
    return ordered[(len(ordered) - 1) // 2]


def print_report(report: dict, args: argparse.Namespace) -> bool:
    results = {key: _median_run(runs) for key, runs in report["results"].items()}
    print(f"\nservice benchmark  generator={report['generator']}  repeats={args.repeat}  cpus={os.cpu_count()}  "
          f"gunicorn {GUNICORN_OVERRIDES or 'production settings'}  load avg before {report['load_before'][0]:.2f}, after {report.get('load_after', (float('nan'),))[0]:.2f}")
    print("bodies: " + ", ".join(f"{s} {n} resources {b / 1024:.0f} KB" for s, (n, b) in report["bodies"].items()))
    print("\n| size | c | floor req/s | service req/s | ratio | floor p50 | service p50 | floor p99 | service p99 | p99 ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for c in args.concurrency:
            f, s = results.get((size, c, "floor")), results.get((size, c, "service"))
            if not f or not s:
                continue
            mark = lambda r: ">=" if r.capped else ""  # noqa: E731
            print(f"| {size} | {c} | {mark(f)}{f.rate:.0f} | {mark(s)}{s.rate:.0f} | {s.rate / f.rate:.2f} | {f.p50_ms:.1f} ms | {s.p50_ms:.1f} ms "
                  f"| {f.p99_ms:.1f} ms | {s.p99_ms:.1f} ms | {s.p99_ms / f.p99_ms:.2f} |")
    print(f"\nstart-up (process start -> first answered hook request): service {report['startup_s']:.2f} s, "
          f"floor {report['floor_startup_s']:.2f} s")
    if "rss_mb" in report:
        print("RSS per worker after the large run: service " + ", ".join(f"{m:.0f} MB" for m in report["rss_mb"])
              + "; floor " + ", ".join(f"{m:.0f} MB" for m in report["floor_rss_mb"]))
    for other, title in (("service-pg", "service on PostgreSQL (B) vs on SQLite (A), same run"),
                         ("baseline", f"before (A: the code in {args.baseline}) vs after (B: this checkout), same run")):
        rows = [(size, c, results.get((size, c, "baseline" if other == "baseline" else "service")),
                 results.get((size, c, "service" if other == "baseline" else other)))
                for size in args.sizes for c in args.concurrency]
        if not any(a and b for _, _, a, b in rows):
            continue
        print(f"\n{title}; start-up of the {other} server {report[f'{other}_startup_s']:.2f} s")
        print("| size | c | A req/s | B req/s | B/A | A p50 | B p50 | A p99 | B p99 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for size, c, a, b in rows:
            if a and b:
                print(f"| {size} | {c} | {a.rate:.0f} | {b.rate:.0f} | {b.rate / a.rate:.2f} | {a.p50_ms:.1f} ms "
                      f"| {b.p50_ms:.1f} ms | {a.p99_ms:.1f} ms | {b.p99_ms:.1f} ms |")
    fhir = report.get("fhir")
    if fhir:
        print(f"\nFHIR fallback (patient-view without prefetch, {fhir['resources']} resources on the local sekmet-fhir): "
              f"slowest single query {fhir['slowest_key']} {fhir['slowest_ms']:.1f} ms (all pages), all {len(fhir_keys())} "
              f"queries one after the other {fhir['sum_ms']:.1f} ms")
        with_prefetch = results.get(("medium", 1, "service"))
        for c, r in fhir["runs"].items():
            extra = f"; with prefetch (medium c=1) p50 {with_prefetch.p50_ms:.1f} ms" if with_prefetch and c == 1 else ""
            print(f"  c={c}: {r.rate:.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{extra}")
    checks: dict[str, tuple[bool | None, str]] = {}
    f, s = results.get(("medium", 8, "floor")), results.get(("medium", 8, "service"))
    if f and s:
        checks["throughput"] = (s.rate >= 0.8 * f.rate, f"{s.rate / f.rate:.2f} x floor")
        checks["p99"] = (s.p99_ms <= 1.5 * f.p99_ms, f"{s.p99_ms / f.p99_ms:.2f} x floor p99")
    m, l = results.get(("medium", 1, "service")), results.get(("large", 1, "service"))
    if m and l:
        checks["linear"] = (l.p50_ms / m.p50_ms <= 12, f"{l.p50_ms / m.p50_ms:.1f} (sizes {report['bodies']['large'][0] / report['bodies']['medium'][0]:.1f}x)")
    lite, pg = results.get(("medium", 8, "service")), results.get(("medium", 8, "service-pg"))
    if lite and pg:
        checks["postgres"] = (pg.rate >= 0.9 * lite.rate and pg.p50_ms <= 1.1 * lite.p50_ms,
                              f"req/s {pg.rate / lite.rate:.2f} x, p50 {pg.p50_ms / lite.p50_ms:.2f} x, "
                              f"p99 {pg.p99_ms / lite.p99_ms:.2f} x SQLite")
    checks["startup"] = (report["startup_s"] < 2.0, f"{report['startup_s']:.2f} s")
    if "rss_mb" in report:
        checks["rss"] = (max(report["rss_mb"]) < 200, f"max {max(report['rss_mb']):.0f} MB")
    print()
    for name, text in TARGETS_TEXT.items():
        if name in checks:
            ok, shown = checks[name]
            print(f"{'PASS' if ok else 'FAIL'}  {text}: {shown}")
        else:
            print(f"n/a   {text}: case not run")
    return all(ok for ok, _ in checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, one repeat (about a minute)")
    parser.add_argument("--repeat", type=int, help="repeats of every case (default 3, quick 1); the median run is shown")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--concurrency", nargs="+", type=int, choices=[1, 8], default=[1, 8])
    parser.add_argument("--seconds", type=float, help="duration of each run (default per size)")
    parser.add_argument("--floor-parser", choices=["json", "orjson"], default="json")
    parser.add_argument("--python-generator", action="store_true", help="use the Python generator even if wrk exists")
    parser.add_argument("--fhir", action="store_true", help="also patient-view without prefetch against the local FHIR "
                        "server (scripts/fhir-server start; a patient of its own is loaded)")
    parser.add_argument("--workers", type=int, help="gunicorn workers of every server (default: the production setting)")
    parser.add_argument("--threads", type=int, help="threads per worker of every server (default: the production setting)")
    parser.add_argument("--baseline", type=Path, help="also serve the code of another checkout (e.g. a git worktree of "
                        "an older commit) with the same settings: a before/after table from one run")
    parser.add_argument("--postgres", action="store_true", help="also the service on the local PostgreSQL (issue #10)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 3)
    if args.seconds is not None and not 0 < args.seconds <= 30:
        parser.error("--seconds must be in (0, 30]")
    if not 1 <= args.repeat <= 5:
        parser.error("--repeat must be 1..5")
    GUNICORN_OVERRIDES.update({name: str(value) for name, value in
                               (("PECOMA_WORKERS", args.workers), ("PECOMA_THREADS", args.threads)) if value})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers (finally) when killed
    started = time.monotonic()
    report = measure(args)
    ok = print_report(report, args)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
