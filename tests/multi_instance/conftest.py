"""Several real service processes (gunicorn, production mode, trusted EHR key) sharing one PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.auth.tokens import EHR_ISS, Signer, new_private_key
from tests.service.builders import hook_request, pecoma_prefetch
from tests.service.live import REPO, LiveServer
from tests.storage.pg import fresh_schema

PUBLIC_BASE = "https://cds.example.org"  # what the EHR calls: the load balancer in front of every replica
HOOK = "/cds-services/pecoma-patient-view"
FEEDBACK = HOOK + "/feedback"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(new_private_key("ES384"), "ES384", kid="ehr-ec-multi")


@pytest.fixture(scope="module")
def trusted_clients(tmp_path_factory, signer) -> Path:
    path = tmp_path_factory.mktemp("trust") / "trusted-clients.json"
    path.write_text(json.dumps({"clients": [{"iss": EHR_ISS, "jwks": signer.jwks()}]}))
    return path


@pytest.fixture(scope="module")
def database_url():
    with fresh_schema() as url:
        upgraded = pecoma_cds(url, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        yield url


def pecoma_cds(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}, "PECOMA_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "cds_service.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def replica(workdir: Path, trusted_clients: Path, database_url: str, **extra: str) -> LiveServer:
    """One service instance as deployed: its own gunicorn master with 2 workers, the shared database."""
    return LiveServer(workdir, **{
        "PECOMA_MODE": "production",
        "PECOMA_TRUSTED_CLIENTS": str(trusted_clients),
        "PECOMA_PUBLIC_BASE_URL": PUBLIC_BASE,
        "PECOMA_PATIENT_KEY_SECRET": "multi-instance-secret-" + "x" * 32,
        "PECOMA_DATABASE_URL": database_url,
        "PECOMA_WORKERS": "2",
        **extra,
    }).start()


def post(server: LiveServer, path: str, body: Any, signer: Signer, token: str | None = None) -> requests.Response:
    token = token or signer.token(PUBLIC_BASE + path)
    return requests.post(server.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def issue_cards(servers: list[LiveServer], signer: Signer, calls: int) -> dict[str, str]:
    """Hook calls spread over ``servers``; returns card uuid -> rule code of every card issued."""
    def one(i: int) -> list[dict]:
        response = post(servers[i % len(servers)], HOOK, hook_request("patient-view", f"pat-{i}", pecoma_prefetch(f"pat-{i}")), signer)
        assert response.status_code == 200, response.text
        return response.json()["cards"]

    with ThreadPoolExecutor(8) as pool:
        cards = [card for batch in pool.map(one, range(calls)) for card in batch]
    assert cards
    return {card["uuid"]: card["source"]["topic"]["code"] for card in cards}


def metric_value(server: LiveServer, name: str, **labels: str) -> float:
    """Sum of a metric's samples on /metrics (from the loopback: allowed by default) matching ``labels``."""
    text = requests.get(server.url + "/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
