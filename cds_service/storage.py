"""Persistence: issued cards, feedback and seen JWT ids, behind one small class.

SQLite (WAL mode) is the default; the schema is versioned by the ordered files in
``migrations/`` and the ``schema_version`` table, and upgraded at start-up. The SQL is
kept portable so that a PostgreSQL backend can reuse it. Nothing stored identifies a
patient directly: cards carry an HMAC of the patient id (:func:`patient_key`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
UNKNOWN_CARD = "(card not issued by this service)"


class StorageError(RuntimeError):
    """The database URL cannot be used."""


def patient_key(secret: str, patient_id: str) -> str:
    """Pseudonymous, stable patient key: HMAC-SHA256(secret, patient id) in hex."""
    return hmac.new(secret.encode("utf-8"), patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sqlite_path(database_url: str) -> str:
    """``sqlite:///relative/file`` (relative to the working directory) or ``sqlite:////absolute/file``."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or len(database_url) == len(prefix):
        if database_url.startswith(("postgres://", "postgresql://")):
            raise StorageError("PostgreSQL is not supported yet by this version; use a sqlite:/// URL")
        raise StorageError("PECOMA_DATABASE_URL must look like sqlite:///relative/path or sqlite:////absolute/path")
    return database_url[len(prefix):]


@dataclass
class RuleFeedback:
    """Feedback counts of one rule (``rule_code`` = card.source.topic.code)."""

    rule_code: str
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    override_reasons: dict[str, int] = field(default_factory=dict)  # "code (display)" -> count


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        found.append((int(path.name[:4]), path.name, path.read_text(encoding="utf-8")))
    return found


def _statements(sql: str) -> Iterator[str]:
    """Split a migration into statements (our migrations contain no ';' inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            yield statement.strip()


class Store:
    """The service's database. Each method opens a short connection (safe across threads and workers)."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    @classmethod
    def from_url(cls, database_url: str) -> "Store":
        return cls(sqlite_path(database_url))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- schema ---------------------------------------------------------------------------

    def upgrade(self) -> int:
        """Create the file if needed, switch to WAL, apply pending migrations; returns the version."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
        with self._transaction() as conn:  # one writer at a time: workers starting together wait here
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            for version, name, sql in migrations():
                if version <= current:
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", (version, name, utc_now()))
                current = version
        return current

    def schema_version(self) -> int:
        with self._connect() as conn:
            try:
                return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            except sqlite3.OperationalError:
                return 0

    # --- issued cards -----------------------------------------------------------------------

    def record_issued_cards(
        self, *, service_id: str, hook_instance: str, patient_key: str | None, cards: Iterable[Mapping[str, Any]], issued_at: str | None = None
    ) -> int:
        """Record each card that has a uuid (what feedback can refer to); returns how many were recorded."""
        issued_at = issued_at or utc_now()
        rows = []
        for card in cards:
            uuid = card.get("uuid")
            if not isinstance(uuid, str) or not uuid:
                continue
            topic = (card.get("source") or {}).get("topic") or {}
            rows.append((uuid, topic.get("system"), topic.get("code"), card.get("indicator"), service_id, hook_instance, issued_at, patient_key))
        if rows:
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT INTO issued_card (card_uuid, rule_system, rule_code, indicator, service_id, hook_instance, issued_at, patient_key)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid) DO NOTHING",
                    rows,
                )
        return len(rows)

    def issued_card(self, card_uuid: str) -> dict[str, Any] | None:
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM issued_card WHERE card_uuid = ?", (card_uuid,)).fetchone()
            return dict(row) if row else None

    # --- feedback ---------------------------------------------------------------------------

    def record_feedback(self, service_id: str, item: Mapping[str, Any]) -> tuple[bool, bool]:
        """Store one validated feedback item; returns (new, card_known).

        Idempotent on (card, outcome, outcomeTimestamp): a repeated post is not stored twice.
        Feedback for a card this service has no record of is stored too (never lost) and
        reported under "card not issued by this service".
        """
        reason = (item.get("overrideReason") or {}).get("reason") or {}
        accepted = item.get("acceptedSuggestions")
        row = (
            item["card"], item["outcome"], item["outcomeTimestamp"], service_id,
            json.dumps([s["id"] for s in accepted]) if accepted else None,
            reason.get("system"), reason.get("code"), reason.get("display"),
            (item.get("overrideReason") or {}).get("userComment"), utc_now(),
        )
        with self._transaction() as conn:
            inserted = conn.execute(
                "INSERT INTO feedback (card_uuid, outcome, outcome_timestamp, service_id, accepted_suggestions, override_reason_system,"
                " override_reason_code, override_reason_display, override_user_comment, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid, outcome, outcome_timestamp) DO NOTHING",
                row,
            ).rowcount
            known = conn.execute("SELECT 1 FROM issued_card WHERE card_uuid = ?", (item["card"],)).fetchone() is not None
        return inserted == 1, known

    def feedback_for_card(self, card_uuid: str) -> list[dict[str, Any]]:
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM feedback WHERE card_uuid = ? ORDER BY outcome_timestamp", (card_uuid,)).fetchall()
            return [dict(r) for r in rows]

    def feedback_report(self) -> list[RuleFeedback]:
        """Per rule: cards issued, accepted, overridden, override reasons (sorted by rule code)."""
        report: dict[str, RuleFeedback] = {}

        def entry(code: str | None) -> RuleFeedback:
            code = code or "(no rule code)"
            return report.setdefault(code, RuleFeedback(rule_code=code))

        with self._connect() as conn:
            for code, count in conn.execute("SELECT rule_code, COUNT(*) FROM issued_card GROUP BY rule_code"):
                entry(code).issued = count
            rows = conn.execute(
                "SELECT CASE WHEN c.card_uuid IS NULL THEN ? ELSE COALESCE(c.rule_code, '(no rule code)') END, f.outcome,"
                " f.override_reason_code, f.override_reason_display"
                " FROM feedback f LEFT JOIN issued_card c ON c.card_uuid = f.card_uuid",
                (UNKNOWN_CARD,),
            )
            for code, outcome, reason_code, reason_display in rows:
                rule = entry(code)
                if outcome == "accepted":
                    rule.accepted += 1
                else:
                    rule.overridden += 1
                    label = "no reason given" if not reason_code else (f"{reason_code} ({reason_display})" if reason_display else reason_code)
                    rule.override_reasons[label] = rule.override_reasons.get(label, 0) + 1
        return [report[k] for k in sorted(report)]

    # --- JWT replay protection ------------------------------------------------------------

    def remember_jti(self, jti: str, expires_at: int) -> bool:
        """Record a JWT id until ``expires_at`` (unix seconds); True the first time, False on reuse.

        Atomic across threads and processes (primary-key insert). Expired ids are purged.
        """
        with self._transaction() as conn:
            conn.execute("DELETE FROM seen_jti WHERE expires_at < ?", (int(time.time()),))
            try:
                conn.execute("INSERT INTO seen_jti (jti, expires_at) VALUES (?, ?)", (jti, int(expires_at)))
            except sqlite3.IntegrityError:
                return False
        return True
