"""Retention: configurable ages, small batches, jti entries gone after exp + leeway (both engines)."""
from __future__ import annotations

import time

import pytest

from cds_service.retention import Maintenance, RetentionSettings, expire
from cds_service.spool import Spool
from cds_service.storage import Store


def cards(prefix: str, n: int) -> list[dict]:
    return [{"uuid": f"{prefix}-{i}", "indicator": "info", "source": {"topic": {"code": "MDT"}}} for i in range(n)]


def test_settings_from_the_environment():
    settings = RetentionSettings.from_config({"PECOMA_RETENTION_CARDS_DAYS": "3650", "PECOMA_RETENTION_FEEDBACK_DAYS": "0",
                                              "PECOMA_RETENTION_BATCH": "200"})
    assert (settings.cards_days, settings.feedback_days, settings.batch) == (3650, 0, 200)
    for bad in ({"PECOMA_RETENTION_CARDS_DAYS": "-1"}, {"PECOMA_RETENTION_BATCH": "lots"}, {"PECOMA_RETENTION_INTERVAL_S": "0"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            RetentionSettings.from_config(bad)


def test_records_are_kept_unless_a_retention_is_configured(store):
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=cards("old", 3), issued_at="2000-01-01T00:00:00.000Z")
    store.record_feedback("s", {"card": "old-0", "outcome": "accepted", "outcomeTimestamp": "2000-01-01T00:00:00Z"})
    assert expire(store, RetentionSettings()) == {"seen_jti": 0}
    assert store.counts()["issued_card"] == 3 and store.counts()["feedback"] == 1


def test_expiry_runs_in_batches_and_leaves_recent_records(store):
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=cards("old", 7), issued_at="2000-01-01T00:00:00.000Z")
    store.record_issued_cards(service_id="s", hook_instance="h", patient_key="k", cards=cards("new", 2))
    now = int(time.time())
    store.remember_jti("spent", now - 1)
    store.remember_jti("live", now + 300)
    deleted = expire(store, RetentionSettings(cards_days=365, feedback_days=365, batch=2))
    assert deleted == {"seen_jti": 1, "issued_card": 7, "feedback": 0}
    assert store.issued_card_uuids() == ["new-0", "new-1"]
    assert store.remember_jti("live", now + 300) is False  # still remembered


def test_the_upkeep_tick_replays_the_spool_and_expires(store, tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(Store.card_rows(service_id="s", hook_instance="h", patient_key="k", cards=cards("spooled", 2)))
    store.remember_jti("spent", int(time.time()) - 1)
    Maintenance(store, spool, RetentionSettings()).tick()
    assert store.issued_card_uuids() == ["spooled-0", "spooled-1"] and spool.depth() == 0
    assert store.counts()["seen_jti"] == 0


def test_the_upkeep_tick_never_raises_while_the_database_is_down(tmp_path):
    from cds_service.storage import PoolSettings

    down = Store.from_url("postgresql://pecoma:pecoma@127.0.0.1:1/none", PoolSettings(max_size=1, timeout_s=0.3))
    spool = Spool(tmp_path / "spool")
    spool.append(Store.card_rows(service_id="s", hook_instance="h", patient_key="k", cards=cards("kept", 1)))
    Maintenance(down, spool, RetentionSettings()).tick()
    assert spool.depth() == 1  # kept for the next tick
    down.close()
