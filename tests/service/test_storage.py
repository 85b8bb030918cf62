"""The SQLite store: versioned schema, WAL, issued cards, feedback, jti replay protection."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from cds_service.storage import Store, StorageError, migrations, patient_key, sqlite_path


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "sub" / "db.sqlite3")
    s.upgrade()
    return s


def card(uuid: str, rule: str) -> dict:
    return {"uuid": uuid, "summary": "s", "indicator": "warning",
            "source": {"label": "l", "topic": {"system": "http://x/fhir/CodeSystem/pecoma-rule", "code": rule}}}


def test_upgrade_applies_every_migration_once_and_uses_wal(store):
    latest = migrations()[-1][0]
    assert store.schema_version() == latest
    assert store.upgrade() == latest  # idempotent
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(migrations())


def test_database_urls():
    assert sqlite_path("sqlite:///var/x.sqlite3") == "var/x.sqlite3"
    assert sqlite_path("sqlite:////tmp/x.sqlite3") == "/tmp/x.sqlite3"
    with pytest.raises(StorageError, match="PostgreSQL"):
        sqlite_path("postgresql://u:p@localhost/db")
    with pytest.raises(StorageError):
        sqlite_path("mysql://x")


def test_issued_cards_store_a_pseudonymous_patient_key_never_the_id(store):
    key = patient_key("secret", "patient-123")
    assert key != patient_key("other-secret", "patient-123") and len(key) == 64
    assert store.record_issued_cards(service_id="pecoma-patient-view", hook_instance="h-1", patient_key=key,
                                     cards=[card("c-1", "R7"), {"summary": "no uuid", "indicator": "info", "source": {"label": "l"}}]) == 1
    row = store.issued_card("c-1")
    assert row["rule_code"] == "R7" and row["patient_key"] == key and row["hook_instance"] == "h-1"
    raw = open(store.path, "rb").read() + (open(store.path + "-wal", "rb").read() if __import__("os").path.exists(store.path + "-wal") else b"")
    assert b"patient-123" not in raw


def test_feedback_report_ties_feedback_to_the_rule_of_the_card(store):
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=[card("c-1", "R7"), card("c-2", "R7"), card("c-3", "S4")])
    reason = {"reason": {"system": "x", "code": "patient-declined", "display": "Patient declined"}}
    assert store.record_feedback("s", {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z", "overrideReason": reason}) == (True, True)
    assert store.record_feedback("s", {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z", "overrideReason": reason}) == (False, True)
    store.record_feedback("s", {"card": "c-2", "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z", "acceptedSuggestions": [{"id": "sg"}]})
    store.record_feedback("s", {"card": "zzz", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z"})
    report = {r.rule_code: r for r in store.feedback_report()}
    assert (report["R7"].issued, report["R7"].accepted, report["R7"].overridden) == (2, 1, 1)
    assert report["R7"].override_reasons == {"patient-declined (Patient declined)": 1}
    assert (report["S4"].issued, report["S4"].accepted, report["S4"].overridden) == (1, 0, 0)
    unknown = report["(card not issued by this service)"]
    assert unknown.overridden == 1 and unknown.override_reasons == {"no reason given": 1}


def test_remember_jti_is_true_once_even_under_concurrency(store):
    results: list[bool] = []
    lock = threading.Lock()

    def attempt():
        ok = Store(store.path).remember_jti("jti-race", 4_000_000_000)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 15 + [True]
    assert store.remember_jti("jti-other", 4_000_000_000) is True


def test_expired_jtis_are_purged(store):
    assert store.remember_jti("old", 1) is True
    store.remember_jti("trigger-purge", 4_000_000_000)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM seen_jti WHERE jti = 'old'").fetchone()[0] == 0
