"""Two service instances (separate gunicorn masters, 2 workers each) and one PostgreSQL: one truth.

A JWT accepted by one instance is a replay at the other; 400 concurrent feedback posts over both,
a quarter of them exact duplicates, leave exactly the unique records, each tied to its issued card,
and ``pecoma-cds feedback-report`` counts each once.
"""
from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from cds_service.storage import Store
from tests.multi_instance.conftest import FEEDBACK, HOOK, PUBLIC_BASE, issue_cards, metric_value, pecoma_cds, post, replica
from tests.service.builders import feedback_item, hook_request, pecoma_prefetch


@pytest.fixture(scope="module")
def instances(tmp_path_factory, trusted_clients, database_url):
    workdir = tmp_path_factory.mktemp("two-instances")
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(replica(workdir / name, trusted_clients, database_url))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_token_accepted_by_one_instance_is_a_replay_at_the_other(instances, signer):
    a, b = instances
    token = signer.token(PUBLIC_BASE + HOOK)
    body = hook_request("patient-view", "pat-replay", pecoma_prefetch("pat-replay"))
    replays_before = metric_value(b, "pecoma_auth_failures_total", reason="replay")
    assert post(a, HOOK, body, signer, token).status_code == 200
    replayed = post(b, HOOK, body, signer, token)
    assert replayed.status_code == 401
    assert "replay" in b.log() and token not in b.log()
    assert metric_value(b, "pecoma_auth_failures_total", reason="replay") == replays_before + 1


def test_concurrent_feedback_over_both_instances_is_stored_exactly_once(instances, signer, database_url):
    a, b = instances
    issued = issue_cards(instances, signer, calls=20)  # card uuid -> rule
    rng = random.Random(10)
    cards = sorted(issued)
    unique = []
    for i in range(300):  # 300 distinct feedback items (card, outcome, outcomeTimestamp)
        card = cards[i % len(cards)]
        timestamp = f"2026-11-23T10:{i // 60:02d}:{i % 60:02d}.000Z"
        unique.append(feedback_item(card, "accepted", timestamp) if i % 3 == 0 else
                      feedback_item(card, "overridden", timestamp, overrideReason={"reason": {"system": "x", "code": "patient-declined"}}))
    posts = [(i % 2, item) for i, item in enumerate(unique)] + [((i + 1) % 2, unique[i]) for i in rng.sample(range(300), 100)]
    rng.shuffle(posts)  # a duplicate may race its original on the other instance

    def send(post_: tuple[int, dict]) -> dict:
        response = post(instances[post_[0]], FEEDBACK, {"feedback": [post_[1]]}, signer)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, posts))

    assert len(answers) == 400
    assert sum(r["stored"] for r in answers) == 300 and sum(r["duplicates"] for r in answers) == 100
    assert not any(r.get("unknownCards") for r in answers)
    store = Store.from_url(database_url)
    rows = [row for card in set(cards) for row in store.feedback_for_card(card)]
    assert len(rows) == 300 == store.counts()["feedback"]
    assert {(r["card_uuid"], r["outcome"], r["outcome_timestamp"]) for r in rows} == {
        (f["card"], f["outcome"], f["outcomeTimestamp"]) for f in unique}
    assert all(store.issued_card(r["card_uuid"])["rule_code"] == issued[r["card_uuid"]] for r in rows)  # tied to its card
    store.close()

    report = pecoma_cds(database_url, "feedback-report")
    assert report.returncode == 0, report.stderr
    expected = Counter(issued[f["card"]] for f in unique)
    counted = {}
    for line in report.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) == 4 and fields[1].isdigit():
            counted[fields[0]] = int(fields[2]) + int(fields[3])
    assert {rule: n for rule, n in counted.items() if n} == dict(expected)
    assert "card not issued" not in report.stdout
