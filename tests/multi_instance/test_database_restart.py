"""PostgreSQL stops and restarts in the middle of a load of hooks and feedback on two instances.

Hooks keep answering with cards (their records are spooled locally and replayed once the
database is back); feedback that cannot be stored gets 503 + Retry-After + OperationOutcome
instead of an acknowledgement. Afterwards every acknowledged feedback item and every issued
card record is in the database exactly once.
"""
from __future__ import annotations

import itertools
import os
import random
import subprocess
import threading
import time

import pytest

from cds_service.storage import Store
from tests.multi_instance.conftest import FEEDBACK, HOOK, issue_cards, metric_value, post, replica
from tests.service.builders import feedback_item, hook_request, pecoma_prefetch
from tests.storage.pg import can_restart_postgres, require_postgres

PG_CTL = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main"]


def postgres(action: str) -> None:
    subprocess.run([*PG_CTL, action], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def instances(tmp_path_factory, trusted_clients, database_url):
    require_postgres()
    if not can_restart_postgres():
        message = "stopping/starting PostgreSQL needs root and pg_ctlcluster"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    workdir = tmp_path_factory.mktemp("restart")
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(replica(workdir / name, trusted_clients, database_url,
                                   PECOMA_SPOOL_REPLAY_INTERVAL_S="0.5", PECOMA_DB_POOL_TIMEOUT_S="1"))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_database_restart_under_load_loses_nothing_acknowledged(instances, signer, database_url):
    warm_cards = sorted(issue_cards(instances, signer, calls=4))
    issued: set[str] = set(warm_cards)
    hook_statuses: list[int] = []
    acknowledged: list[dict] = []
    refused: list[tuple[dict, object]] = []
    lock = threading.Lock()
    stop = threading.Event()
    stamps = itertools.count()

    def load(worker: int) -> None:
        rng = random.Random(worker)
        while not stop.is_set():
            server = instances[rng.randrange(2)]
            if rng.random() < 0.5:
                response = post(server, HOOK, hook_request("patient-view", f"pat-{worker}", pecoma_prefetch(f"pat-{worker}")), signer)
                with lock:
                    hook_statuses.append(response.status_code)
                    if response.status_code == 200:
                        issued.update(card["uuid"] for card in response.json()["cards"])
            else:
                n = next(stamps)
                item = feedback_item(rng.choice(warm_cards), "overridden", f"2026-11-23T11:{n // 60 % 60:02d}:{n % 60:02d}.{n // 3600:03d}Z")
                response = post(server, FEEDBACK, {"feedback": [item]}, signer)
                with lock:
                    (acknowledged if response.status_code == 200 else refused).append((item, response))

    threads = [threading.Thread(target=load, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        postgres("stop")
        time.sleep(3)
    finally:
        postgres("start")  # always: the rest of the suite needs it
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    # a clinician was never blocked: every hook answered with cards, also while the database was down
    assert hook_statuses and set(hook_statuses) == {200}
    # feedback that could not be stored was refused, retriable, with an OperationOutcome
    assert refused, "the load never hit the outage"
    for _, response in refused:
        assert response.status_code == 503 and response.headers.get("Retry-After")
        assert response.json()["resourceType"] == "OperationOutcome"
    assert sum(metric_value(s, "pecoma_card_records_spooled_total") for s in instances) > 0

    store = Store.from_url(database_url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and set(store.issued_card_uuids()) != issued:
        time.sleep(0.5)  # the spools are replayed by the workers' upkeep threads
    assert set(store.issued_card_uuids()) == issued  # every card record once (the card uuid is the key), none missing
    assert store.counts()["issued_card"] == len(issued)
    for item, response in acknowledged:
        rows = [r for r in store.feedback_for_card(item["card"]) if r["outcome_timestamp"] == item["outcomeTimestamp"]]
        assert len(rows) == 1, item
    assert store.counts()["feedback"] >= len(acknowledged)
    # the EHR retries what was refused: now stored (or found already stored), each exactly once
    for item, _ in refused:
        assert post(instances[0], FEEDBACK, {"feedback": [item]}, signer).status_code == 200
    assert store.counts()["feedback"] == len(acknowledged) + len(refused)
    for server in instances:
        assert server.workdir.joinpath("var", "spool").exists()
        assert not [p for p in server.workdir.joinpath("var", "spool").iterdir() if p.stat().st_size], "spool not replayed"
    store.close()
