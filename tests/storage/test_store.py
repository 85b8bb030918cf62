"""The store on both engines: versioned schema, issued cards, feedback, jti replay protection, retention."""
from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest

from cds_service.storage import (
    DatabaseUnavailable, PoolSettings, SchemaMismatch, Store, StorageError, engine_of, latest_version, migrations,
    patient_key, retention_cutoff, sqlite_path,
)


def card(uuid: str, rule: str) -> dict:
    return {"uuid": uuid, "summary": "s", "indicator": "warning",
            "source": {"label": "l", "topic": {"system": "http://x/fhir/CodeSystem/pecoma-rule", "code": rule}}}


def overridden(card_uuid: str, when: str = "2026-01-01T00:00:00Z", reason: str | None = "patient-declined") -> dict:
    item = {"card": card_uuid, "outcome": "overridden", "outcomeTimestamp": when}
    if reason:
        item["overrideReason"] = {"reason": {"system": "x", "code": reason, "display": "Patient declined"}, "userComment": "free text"}
    return item


def test_upgrade_applies_every_migration_once(store):
    latest = latest_version()
    assert store.schema_version() == latest
    assert store.upgrade() == latest  # idempotent
    assert store.open_for_service() == latest
    with store.engine.schema_connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(migrations(store.engine_name))


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    store.upgrade()
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_engine_specific_migrations_only_for_their_engine():
    sqlite_names = " ".join(name for _, name, _ in migrations("sqlite"))
    postgres_names = " ".join(name for _, name, _ in migrations("postgresql"))
    assert ".postgresql.sql" not in sqlite_names and ".postgresql.sql" in postgres_names
    assert [v for v, _, _ in migrations("sqlite")] == [v for v, _, _ in migrations("postgresql")]


def test_database_urls():
    assert sqlite_path("sqlite:///var/x.sqlite3") == "var/x.sqlite3"
    assert sqlite_path("sqlite:////tmp/x.sqlite3") == "/tmp/x.sqlite3"
    assert engine_of("postgresql://u:p@localhost/db") == engine_of("postgres://u:p@localhost/db") == "postgresql"
    assert Store.from_url("postgresql://u:p@localhost:5432/db").engine_name == "postgresql"  # no connection yet
    for bad in ("mysql://x", "sqlite:///", "sqlite://relative"):
        with pytest.raises(StorageError):
            Store.from_url(bad)
    with pytest.raises(StorageError, match="PECOMA_DB_POOL_SIZE"):
        PoolSettings.from_config({"PECOMA_DB_POOL_SIZE": "many"})


def test_a_database_of_the_first_schema_version_is_upgraded_without_losing_data(database_url):
    old = Store.from_url(database_url)
    assert old.upgrade(to_version=1) == 1
    old.record_issued_cards(service_id="pecoma-patient-view", hook_instance="h-1", patient_key="k", cards=[card("c-1", "R7")],
                            issued_at="2026-01-01T00:00:00.000Z")
    with old._transaction() as conn:  # as the code of schema version 1 stored feedback (no item_key yet)
        conn.execute("INSERT INTO feedback (card_uuid, outcome, outcome_timestamp, service_id, override_reason_system,"
                     " override_reason_code, override_reason_display, override_user_comment, received_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     ("c-1", "overridden", "2026-01-01T00:00:00Z", "pecoma-patient-view", "x", "patient-declined",
                      "Patient declined", "free text", "2026-01-01T00:00:01.000Z"))
    assert old.remember_jti("jti-1", int(time.time()) + 3600)  # 0001 on PostgreSQL: 32-bit expires_at (0002 widens it)

    assert old.upgrade() == latest_version() > 1
    upgraded = Store.from_url(database_url)
    assert upgraded.issued_card("c-1")["rule_code"] == "R7"
    assert upgraded.issued_card("c-1")["issued_at"] == "2026-01-01T00:00:00.000Z"
    [feedback] = upgraded.feedback_for_card("c-1")
    assert feedback["override_reason_code"] == "patient-declined" and feedback["override_user_comment"] == "free text"
    assert upgraded.remember_jti("jti-1", int(time.time()) + 3600) is False  # still remembered
    assert upgraded.counts() == {"issued_card": 1, "feedback": 1, "seen_jti": 1}
    assert upgraded.record_feedback("pecoma-patient-view", overridden("c-1", reason="contraindicated")).new  # a new item
    old.close()
    upgraded.close()


def test_a_failing_migration_is_named_and_leaves_the_database_as_it_was(database_url, tmp_path, monkeypatch):
    import shutil

    from cds_service import storage

    migrations_dir = tmp_path / "migrations"
    migrations_dir.mkdir()
    shutil.copy(storage.MIGRATIONS_DIR / "0001_initial.sql", migrations_dir)
    (migrations_dir / "0002_broken.sql").write_text("CREATE TABLE extra (id INTEGER);\nALTER TABLE no_such_table ADD COLUMN x INTEGER;\n")
    monkeypatch.setattr(storage, "MIGRATIONS_DIR", migrations_dir)
    store = Store.from_url(database_url)
    with pytest.raises(StorageError, match=r"migration 0002 \(.*broken.*\) failed: .*nothing was applied"):
        store.upgrade()
    assert store.schema_version() == 0  # 0001 was pending too: one transaction, all or nothing
    assert store.upgrade(to_version=1) == 1
    store.close()


def test_start_up_upgrades_old_sqlite_but_refuses_old_postgresql_naming_the_command(database_url):
    store = Store.from_url(database_url)
    store.upgrade(to_version=1)
    if store.engine_name == "sqlite":
        assert store.open_for_service() == latest_version()
    else:
        with pytest.raises(SchemaMismatch, match="pecoma-cds db upgrade"):
            store.open_for_service()
        assert store.schema_version() == 1  # nothing changed
    store.close()


def test_an_empty_postgresql_database_is_refused_at_start_up(database_url):
    store = Store.from_url(database_url)
    if store.engine_name == "postgresql":
        with pytest.raises(SchemaMismatch, match="version 0.*pecoma-cds db upgrade"):
            store.open_for_service()
    store.close()


def test_a_newer_schema_is_refused(store):
    with store.engine.transaction() as conn:
        conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", (999, "9999_future.sql", "x"))
    with pytest.raises(SchemaMismatch, match="newer"):
        store.open_for_service()
    with pytest.raises(SchemaMismatch, match="newer"):
        store.upgrade()


def test_issued_cards_store_a_pseudonymous_patient_key_never_the_id(store):
    key = patient_key("secret", "patient-123")
    assert key != patient_key("other-secret", "patient-123") and len(key) == 64
    assert store.record_issued_cards(service_id="pecoma-patient-view", hook_instance="h-1", patient_key=key,
                                     cards=[card("c-1", "R7"), {"summary": "no uuid", "indicator": "info", "source": {"label": "l"}}]) == 1
    row = store.issued_card("c-1")
    assert row["rule_code"] == "R7" and row["patient_key"] == key and row["hook_instance"] == "h-1"
    with store.engine.connection() as conn:
        stored = repr(conn.execute("SELECT * FROM issued_card").fetchall())
    assert "patient-123" not in stored
    if store.path:  # SQLite: not in the file either
        raw = open(store.path, "rb").read() + (open(store.path + "-wal", "rb").read() if os.path.exists(store.path + "-wal") else b"")
        assert b"patient-123" not in raw


def test_a_card_record_is_stored_once_however_often_it_is_written(store):
    rows = Store.card_rows(service_id="s", hook_instance="h", patient_key="k", cards=[card("c-1", "R7"), card("c-2", "S4")])
    store.insert_card_rows(rows)
    store.insert_card_rows(rows)  # a replayed spool
    assert store.issued_card_uuids() == ["c-1", "c-2"]


def test_feedback_report_ties_feedback_to_the_rule_of_the_card(store):
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=[card("c-1", "R7"), card("c-2", "R7"), card("c-3", "S4")])
    assert store.record_feedback("s", overridden("c-1")) == (True, True, "R7")
    assert store.record_feedback("s", overridden("c-1")) == (False, True, "R7")
    store.record_feedback("s", {"card": "c-2", "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z", "acceptedSuggestions": [{"id": "sg"}]})
    assert store.record_feedback("s", overridden("zzz", reason=None)) == (True, False, None)
    report = {r.rule_code: r for r in store.feedback_report()}
    assert (report["R7"].issued, report["R7"].accepted, report["R7"].overridden) == (2, 1, 1)
    assert report["R7"].override_reasons == {"patient-declined (Patient declined)": 1}
    assert (report["S4"].issued, report["S4"].accepted, report["S4"].overridden) == (1, 0, 0)
    unknown = report["(card not issued by this service)"]
    assert unknown.overridden == 1 and unknown.override_reasons == {"no reason given": 1}


def test_remember_jti_is_true_once_even_under_concurrency(store, database_url):
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def attempt():
        own = Store.from_url(database_url)  # its own connections, as another worker would have
        barrier.wait()
        ok = own.remember_jti("jti-race", 4_000_000_000)
        own.close()
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.remember_jti("jti-other", 4_000_000_000) is True


def test_a_jti_never_outlives_its_expiry(store):
    now = int(time.time())
    assert store.remember_jti("expired", now - 1) is True
    assert store.remember_jti("expired", now + 60) is True  # its entry had expired: it is no replay protection any more
    assert store.remember_jti("expired", now + 60) is False
    assert store.remember_jti("old", now - 5) is True
    assert store.expire_batch("seen_jti", now) == 1
    assert store.counts()["seen_jti"] == 1


def test_retention_expires_old_records_in_small_batches(store):
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", issued_at="2020-01-01T00:00:00.000Z",
                              cards=[card(f"old-{i}", "R7") for i in range(7)])
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=[card("new", "R7")])
    store.record_feedback("s", overridden("new"))
    cutoff = retention_cutoff(days=365)
    assert [store.expire_batch("issued_card", cutoff, batch=3) for _ in range(4)] == [3, 3, 1, 0]
    assert store.expire_batch("feedback", cutoff, batch=3) == 0
    assert store.issued_card_uuids() == ["new"] and len(store.feedback_for_card("new")) == 1


def test_an_unreachable_postgresql_fails_fast_as_unavailable():
    store = Store.from_url("postgresql://pecoma:pecoma@127.0.0.1:1/none", PoolSettings(max_size=1, timeout_s=0.5))
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=[card("c", "R7")])
    with pytest.raises(DatabaseUnavailable):  # the second call does not wait again
        store.record_feedback("s", overridden("c"))
    assert time.monotonic() - started < 3
    with pytest.raises(DatabaseUnavailable):
        store.schema_version()
    store.close()


def test_feedback_items_are_told_apart_by_content_and_repeats_by_the_instant(store):
    """Never lose a feedback record: two distinct items for one card at one instant are both kept; the same item
    re-sent with its time zone written differently is stored once."""
    at = "2026-11-23T10:00:00Z"
    first = {"card": "c-9", "outcome": "accepted", "outcomeTimestamp": at, "acceptedSuggestions": [{"id": "s-1"}]}
    second = {**first, "acceptedSuggestions": [{"id": "s-2"}]}
    assert store.record_feedback("pecoma-patient-view", first).new
    assert store.record_feedback("pecoma-patient-view", second).new
    assert not store.record_feedback("pecoma-patient-view", {**first, "outcomeTimestamp": "2026-11-23T10:00:00.000+00:00"}).new
    assert not store.record_feedback("pecoma-patient-view", {**first, "outcomeTimestamp": "2026-11-23T11:00:00+01:00"}).new
    assert len(store.feedback_for_card("c-9")) == 2
