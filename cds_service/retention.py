"""Background upkeep of each worker process, off every hook's critical path.

A daemon thread per process (started on the first request after the fork) does two things:
- every ``PECOMA_SPOOL_REPLAY_INTERVAL_S`` (default 5 s): replays the card records spooled while
  the database was unavailable (:mod:`cds_service.spool`);
- every ``PECOMA_RETENTION_INTERVAL_S`` (default 300 s): expires, in batches of
  ``PECOMA_RETENTION_BATCH`` rows (default 500), each in its own short transaction,
  JWT ids past their ``exp`` + leeway (always), card records older than
  ``PECOMA_RETENTION_CARDS_DAYS`` and feedback older than ``PECOMA_RETENTION_FEEDBACK_DAYS``
  (``0`` or unset = kept; these are audit records, the site decides).
Whatever fails is logged and retried on the next tick; a hook never waits for any of it.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

from cds_service.jsonlog import log_event
from cds_service.spool import Spool
from cds_service.storage import DatabaseUnavailable, Store, retention_cutoff

MAX_BATCHES_PER_TICK = 20  # at most 20 x batch rows per table per tick: the rest waits for the next tick


@dataclass(frozen=True)
class RetentionSettings:
    cards_days: float = 0.0
    feedback_days: float = 0.0
    interval_s: float = 300.0
    batch: int = 500
    replay_interval_s: float = 5.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "RetentionSettings":
        return cls(
            cards_days=_number(config, "PECOMA_RETENTION_CARDS_DAYS", cls.cards_days, allow_zero=True),
            feedback_days=_number(config, "PECOMA_RETENTION_FEEDBACK_DAYS", cls.feedback_days, allow_zero=True),
            interval_s=_number(config, "PECOMA_RETENTION_INTERVAL_S", cls.interval_s),
            batch=int(_number(config, "PECOMA_RETENTION_BATCH", cls.batch)),
            replay_interval_s=_number(config, "PECOMA_SPOOL_REPLAY_INTERVAL_S", cls.replay_interval_s),
        )


def _number(config: Mapping[str, Any], name: str, default: float, allow_zero: bool = False) -> float:
    value = config.get(name)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, not {str(value)[:40]!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'zero or ' if allow_zero else ''}positive")
    return number


def expire(store: Store, settings: RetentionSettings, *, now: float | None = None) -> dict[str, int]:
    """One retention step: expired rows deleted per table, in batches (bounded per call)."""
    now = time.time() if now is None else now
    cutoffs: dict[str, Any] = {"seen_jti": int(now)}
    if settings.cards_days:
        cutoffs["issued_card"] = retention_cutoff(settings.cards_days)
    if settings.feedback_days:
        cutoffs["feedback"] = retention_cutoff(settings.feedback_days)
    deleted = {}
    for table, cutoff in cutoffs.items():
        total = 0
        for _ in range(MAX_BATCHES_PER_TICK):
            gone = store.expire_batch(table, cutoff, settings.batch)
            total += gone
            if gone < settings.batch:
                break
        deleted[table] = total
    return deleted


def replay_spool(store: Store, spool: Spool) -> int:
    """Write the spooled card records to the database (idempotent: keyed by card uuid)."""
    return spool.replay(lambda rows: store.insert_card_rows(rows, probe=True))


class Maintenance:
    """The per-process upkeep thread; :meth:`ensure_started` is cheap and safe to call on every request."""

    def __init__(self, store: Store, spool: Spool, settings: RetentionSettings):
        self.store = store
        self.spool = spool
        self.settings = settings
        self._pid = 0
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="pecoma-maintenance", daemon=True).start()

    def _run(self) -> None:
        jitter = random.Random()  # its own generator: the global one belongs to the application (and to tests)
        next_expiry = time.monotonic() + jitter.uniform(0, min(self.settings.interval_s, 30))  # workers spread out
        while True:
            time.sleep(self.settings.replay_interval_s * jitter.uniform(0.8, 1.2))
            self.tick(expire_now=time.monotonic() >= next_expiry)
            if time.monotonic() >= next_expiry:
                next_expiry = time.monotonic() + self.settings.interval_s

    def tick(self, expire_now: bool = True) -> None:
        """Replay the spool if it holds records; expire old rows if ``expire_now``. Never raises."""
        try:
            if self.spool.size_bytes():
                replay_spool(self.store, self.spool)
        except DatabaseUnavailable:
            pass  # still down: next tick
        except Exception:  # noqa: BLE001
            log_event("spool_replay_failed", logging.ERROR, exc_info=True)
        if not expire_now:
            return
        try:
            deleted = expire(self.store, self.settings)
            if any(deleted.values()):
                log_event("retention_expired", **deleted)
        except DatabaseUnavailable:
            pass
        except Exception:  # noqa: BLE001
            log_event("retention_failed", logging.ERROR, exc_info=True)
