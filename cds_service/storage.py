"""Persistence: issued cards, feedback and seen JWT ids, behind one small class, on two engines.

``PECOMA_DATABASE_URL`` chooses the engine: ``sqlite:///file`` (the embedded default, WAL mode)
or ``postgresql://user:password@host:port/db`` (psycopg 3 with a connection pool per worker
process, created lazily after gunicorn forks). The SQL is written once with ``?`` placeholders;
:class:`_Postgres` turns them into ``%s``. Only the DDL that the dialects force differs
(``migrations/NNNN_name.<engine>.sql`` files, applied after the common ``NNNN_name.sql``).

The schema is versioned by the ordered files in ``migrations/`` and the ``schema_version``
table. :meth:`Store.open_for_service` upgrades an older SQLite file at start-up but refuses an
older PostgreSQL schema (shared by many replicas: ``pecoma-cds db upgrade`` is run once, on
purpose, before the new version is rolled out); a newer schema than the code knows is refused.

A database that cannot be reached raises :class:`DatabaseUnavailable`; the callers decide
(cards go to the local spool, feedback gets 503). Nothing stored identifies a patient
directly: cards carry an HMAC of the patient id (:func:`patient_key`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from cds_service.validation import parse_timestamp

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
UNKNOWN_CARD = "(card not issued by this service)"
ENGINES = ("sqlite", "postgresql")
#: After a failed database call, calls fail fast for this long (a hook never waits on a dead database twice).
BREAKER_SECONDS = 2.0
CARD_COLUMNS = ("card_uuid", "rule_system", "rule_code", "indicator", "service_id", "hook_instance", "issued_at", "patient_key")
_INSERT_CARD = (
    f"INSERT INTO issued_card ({', '.join(CARD_COLUMNS)}) VALUES ({', '.join('?' * len(CARD_COLUMNS))})"
    " ON CONFLICT (card_uuid) DO NOTHING"
)
#: Expiry in small batches (portable: a keyed sub-select with LIMIT); the cutoff and the batch size are parameters.
_EXPIRE = {
    "seen_jti": "DELETE FROM seen_jti WHERE jti IN (SELECT jti FROM seen_jti WHERE expires_at < ? LIMIT ?)",
    "issued_card": "DELETE FROM issued_card WHERE card_uuid IN (SELECT card_uuid FROM issued_card WHERE issued_at < ? LIMIT ?)",
    "feedback": "DELETE FROM feedback WHERE (card_uuid, outcome, outcome_timestamp) IN"
                " (SELECT card_uuid, outcome, outcome_timestamp FROM feedback WHERE received_at < ? LIMIT ?)",
}


class StorageError(RuntimeError):
    """The database URL or settings cannot be used."""


class SchemaMismatch(StorageError):
    """The database schema is not the one this code needs (the message says what to do)."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or is busy right now (transient)."""


def patient_key(secret: str, patient_id: str) -> str:
    """Pseudonymous, stable patient key: HMAC-SHA256(secret, patient id) in hex."""
    return hmac.new(secret.encode("utf-8"), patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


def feedback_key(item: Mapping[str, Any]) -> str:
    """The identity of a feedback item: SHA-256 of its content, the timestamp in UTC (so "Z" and "+00:00" agree)."""
    stamp = item["outcomeTimestamp"]
    try:
        stamp = utc_iso(parse_timestamp(stamp))
    except (TypeError, ValueError):
        pass  # validated before it gets here; kept as sent otherwise
    reason = item.get("overrideReason") or {}
    content = {"card": item["card"], "outcome": item["outcome"], "at": stamp,
               "accepted": sorted(s["id"] for s in item.get("acceptedSuggestions") or []),
               "reason": [(reason.get("reason") or {}).get(k) for k in ("system", "code")],
               "comment": reason.get("userComment")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def utc_now() -> str:
    return utc_iso(datetime.now(timezone.utc))


def utc_iso(moment: datetime) -> str:
    """The one time format stored (sorts as text): ``2026-11-23T10:00:00.000Z``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def engine_of(database_url: str) -> str:
    if database_url.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    if database_url.startswith("sqlite:///"):
        return "sqlite"
    raise StorageError("PECOMA_DATABASE_URL must look like sqlite:///relative/path, sqlite:////absolute/path "
                       "or postgresql://user:password@host:5432/database")


def sqlite_path(database_url: str) -> str:
    """``sqlite:///relative/file`` (relative to the working directory) or ``sqlite:////absolute/file``."""
    prefix = "sqlite:///"
    if engine_of(database_url) != "sqlite" or len(database_url) == len(prefix):
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


class FeedbackStored(NamedTuple):
    """What :meth:`Store.record_feedback` did: ``new`` (False = a duplicate), whether the card is known, its rule."""

    new: bool
    card_known: bool
    rule_code: str | None = None


@dataclass(frozen=True)
class PoolSettings:
    """PostgreSQL connection pool of one worker process (``PECOMA_DB_POOL_SIZE``, ``PECOMA_DB_POOL_TIMEOUT_S``)."""

    max_size: int = 4
    timeout_s: float = 2.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PoolSettings":
        return cls(max_size=int(_number(config, "PECOMA_DB_POOL_SIZE", cls.max_size, integer=True)),
                   timeout_s=_number(config, "PECOMA_DB_POOL_TIMEOUT_S", cls.timeout_s))


def _number(config: Mapping[str, Any], name: str, default: float, *, integer: bool = False, minimum: float = 0.0, allow_zero: bool = False) -> float:
    value = config.get(name)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip()) if integer else float(str(value).strip())
    except ValueError:
        raise StorageError(f"{name} must be a {'whole ' if integer else ''}number, not {str(value)[:40]!r}") from None
    if number < minimum or (number == 0 and not allow_zero):
        raise StorageError(f"{name} must be {'zero or ' if allow_zero else ''}positive")
    return number


def migrations(engine: str = "sqlite") -> list[tuple[int, str, str]]:
    """(version, file names, SQL) of every migration for ``engine``, in order.

    ``NNNN_name.sql`` applies to every engine; ``NNNN_name.<engine>.sql`` adds the DDL that only
    that engine needs, in the same version (and transaction), after the common file.
    """
    if engine not in ENGINES:
        raise StorageError(f"unknown database engine {engine!r}")
    by_version: dict[int, list[Path]] = {}
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        parts = path.name.split(".")
        if len(parts) == 3 and parts[1] not in ENGINES:
            raise StorageError(f"migration {path.name}: unknown engine {parts[1]!r}")
        if len(parts) == 2 or parts[1] == engine:
            by_version.setdefault(int(path.name[:4]), []).append(path)
    found = []
    for version in sorted(by_version):
        paths = sorted(by_version[version], key=lambda p: (p.name.count("."), p.name))  # common file first
        found.append((version, " + ".join(p.name for p in paths), "\n;\n".join(p.read_text(encoding="utf-8") for p in paths)))
    return found


def latest_version() -> int:
    return migrations()[-1][0]


def _statements(sql: str) -> Iterator[str]:
    """Split a migration into statements (our migrations contain no ';' inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            yield statement.strip()


# --- engines ----------------------------------------------------------------------------------

class _Sqlite:
    """One connection per thread and process, kept open (safe across threads and worker processes); WAL mode.

    Kept open because closing the last connection to a WAL database checkpoints and removes the WAL file:
    a fresh connection per call cost ~1 ms per write instead of ~0.2 ms (docs/performance.md). Commits stay
    fully synchronous (``synchronous = FULL``): an acknowledged record survives a power loss.
    """

    name = "sqlite"

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        # Threads of one process queue here for the write lock instead of in SQLite's busy handler, whose
        # sleep-and-retry backoff (up to 100 ms per retry) made p99 latency under load reach ~1 s.
        self._write_lock = threading.RLock()

    def prepare(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.connection() as conn:
            conn.execute("PRAGMA journal_mode = WAL")

    def _open(self) -> sqlite3.Connection:
        cached = getattr(self._local, "conn", None)
        if cached is not None and self._local.pid == os.getpid():
            return cached
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = FULL")
        self._local.conn, self._local.pid = conn, os.getpid()  # a connection inherited over fork is never used
        return conn

    def _discard(self) -> None:
        conn, self._local.conn = getattr(self._local, "conn", None), None
        if conn is not None and self._local.pid == os.getpid():
            conn.close()

    @contextmanager
    def connection(self) -> Iterator["_Connection"]:
        try:
            conn = self._open()
        except sqlite3.OperationalError as exc:
            self._discard()
            raise DatabaseUnavailable(f"SQLite: {exc}") from exc
        try:
            yield _Connection(conn, "?")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.rollback()
            if "no such table" in str(exc):
                raise
            self._discard()  # the next call opens afresh (the file may have been replaced or repaired)
            raise DatabaseUnavailable(f"SQLite: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    schema_connection = connection

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator["_Connection"]:
        with self._write_lock, self.connection() as conn:  # an exception here rolls back there
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time across processes: other workers wait here
            yield conn
            conn.execute("COMMIT")

    @staticmethod
    def missing_table(exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)

    def close(self) -> None:
        """Close this thread's connection (other threads' connections close with their threads)."""
        self._discard()


class _Postgres:
    """psycopg 3: a pool per worker process, created on first use (never inherited across a fork).

    Schema work (start-up check, upgrade) uses one direct connection, so the gunicorn master
    that builds the app before forking holds no pool.
    """

    name = "postgresql"
    _UPGRADE_LOCK = 7_345_112_010  # pg_advisory_xact_lock key: one upgrade at a time

    def __init__(self, url: str, pool: PoolSettings):
        import psycopg  # noqa: PLC0415 - only PostgreSQL deployments need it

        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise StorageError("PECOMA_DATABASE_URL is not a valid postgresql:// URL") from None
        self.url = url
        self.settings = pool
        self._pool: Any = None
        self._pool_pid = 0
        self._lock = threading.Lock()

    def prepare(self) -> None:
        pass

    def _get_pool(self) -> Any:
        if self._pool is None or self._pool_pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pool_pid != os.getpid():
                    from psycopg_pool import ConnectionPool  # noqa: PLC0415

                    self._pool = ConnectionPool(
                        self.url, min_size=1, max_size=self.settings.max_size, timeout=self.settings.timeout_s,
                        kwargs={"autocommit": True, "connect_timeout": max(1, int(self.settings.timeout_s))},
                        check=ConnectionPool.check_connection,  # a connection broken by a database restart is replaced
                        reconnect_timeout=0,  # no background back-off: a new attempt on the next demand, so calls resume as soon as the database is back
                        name="pecoma", open=True,
                    )
                    self._pool_pid = os.getpid()
        return self._pool

    @contextmanager
    def connection(self) -> Iterator["_Connection"]:
        import psycopg  # noqa: PLC0415
        from psycopg_pool import PoolTimeout  # noqa: PLC0415

        try:
            with self._get_pool().connection() as conn:
                yield _Connection(conn, "%s")
        except PoolTimeout as exc:
            raise DatabaseUnavailable("PostgreSQL: no connection within PECOMA_DB_POOL_TIMEOUT_S") from exc
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"PostgreSQL: {type(exc).__name__}") from exc

    @contextmanager
    def schema_connection(self) -> Iterator["_Connection"]:
        import psycopg  # noqa: PLC0415

        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(2, int(self.settings.timeout_s)))
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"PostgreSQL: cannot connect ({type(exc).__name__})") from exc
        with conn:
            yield _Connection(conn, "%s")

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator["_Connection"]:
        with (self.schema_connection() if exclusive else self.connection()) as conn:
            with conn.raw.transaction():
                if exclusive:
                    conn.execute(f"SELECT pg_advisory_xact_lock({self._UPGRADE_LOCK})")
                yield conn

    @staticmethod
    def missing_table(exc: BaseException) -> bool:
        import psycopg  # noqa: PLC0415

        return isinstance(exc, psycopg.errors.UndefinedTable)

    def close(self) -> None:
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close()
        self._pool = None


class _Connection:
    """The few calls the store makes, the same on both engines (``?`` placeholders in the SQL)."""

    def __init__(self, raw: Any, placeholder: str):
        self.raw = raw
        self._placeholder = placeholder

    def _sql(self, sql: str) -> str:
        return sql if self._placeholder == "?" else sql.replace("?", self._placeholder)

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        if self._placeholder == "?":
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)

    def dicts(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- the store ----------------------------------------------------------------------------------

class Store:
    """The service's database: ``Store(path)`` for a SQLite file, :meth:`from_url` for either engine."""

    def __init__(self, path: str | Path | None = None, *, engine: Any = None):
        if engine is None:
            if path is None:
                raise StorageError("Store needs a SQLite path or an engine")
            engine = _Sqlite(str(path))
        self.engine = engine
        self.path = getattr(engine, "path", None)  # the SQLite file (None for PostgreSQL)
        self._down_until = 0.0

    @classmethod
    def from_url(cls, database_url: str, pool: PoolSettings | None = None) -> "Store":
        if engine_of(database_url) == "postgresql":
            return cls(engine=_Postgres(database_url, pool or PoolSettings()))
        return cls(sqlite_path(database_url))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Store":
        """The store of ``PECOMA_DATABASE_URL`` with the pool settings of ``config``; raises StorageError."""
        return cls.from_url(str(config.get("PECOMA_DATABASE_URL") or ""), PoolSettings.from_config(config))

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def close(self) -> None:
        self.engine.close()

    # --- availability (fail fast after a failure) -----------------------------------------------

    @contextmanager
    def _connection(self, *, probe: bool = False) -> Iterator[_Connection]:
        self._check_breaker(probe)
        try:
            with self.engine.connection() as conn:
                yield conn
        except DatabaseUnavailable:
            self._down_until = time.monotonic() + BREAKER_SECONDS
            raise
        self._down_until = 0.0

    @contextmanager
    def _transaction(self, *, probe: bool = False) -> Iterator[_Connection]:
        self._check_breaker(probe)
        try:
            with self.engine.transaction() as conn:
                yield conn
        except DatabaseUnavailable:
            self._down_until = time.monotonic() + BREAKER_SECONDS
            raise
        self._down_until = 0.0

    def _check_breaker(self, probe: bool) -> None:
        if not probe and time.monotonic() < self._down_until:
            raise DatabaseUnavailable("database unavailable a moment ago; not retried yet")

    # --- schema ---------------------------------------------------------------------------

    def upgrade(self, to_version: int | None = None) -> int:
        """Create what is missing and apply pending migrations (``pecoma-cds db upgrade``); returns the version.

        ``to_version`` stops there (tests build an old schema with it).

        Serialised across processes (SQLite: the write lock; PostgreSQL: an advisory lock). All pending
        migrations and their ``schema_version`` rows run in one transaction: all or nothing. Refuses a
        newer schema; a failing migration raises :class:`StorageError` naming it (nothing is applied).
        """
        self.engine.prepare()
        with self.engine.transaction(exclusive=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            self._refuse_newer(current)
            for version, name, sql in migrations(self.engine_name):
                if version <= current or (to_version is not None and version > to_version):
                    continue
                for statement in _statements(sql):
                    try:
                        conn.execute(statement)
                    except StorageError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - the engine's own error: name the migration instead
                        detail = (str(exc).splitlines() or [""])[0][:200]
                        raise StorageError(f"migration {version:04d} ({name}) failed: {type(exc).__name__}: {detail}; "
                                           "nothing was applied (rolled back)") from exc
                conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", (version, name, utc_now()))
                current = version
        return current

    def schema_version(self) -> int:
        """The version of the schema in the database (0 = none yet)."""
        with self.engine.schema_connection() as conn:
            try:
                return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            except Exception as exc:  # noqa: BLE001 - only "no such table" means version 0
                if self.engine.missing_table(exc):
                    return 0
                raise

    def open_for_service(self) -> int:
        """Start-up check: the schema must be the one this code knows; returns its version.

        SQLite (one host, embedded): an older schema is upgraded here. PostgreSQL (shared by
        replicas): an older schema is refused with the command to run; nothing is changed.
        """
        latest = latest_version()
        if self.engine_name == "sqlite":
            return self.upgrade()
        current = self.schema_version()
        self._refuse_newer(current)
        if current < latest:
            raise SchemaMismatch(
                f"the PostgreSQL database schema is at version {current}, this version of the service needs {latest}: "
                "run `pecoma-cds db upgrade` (with the same PECOMA_DATABASE_URL) once, then start the service"
            )
        return current

    @staticmethod
    def _refuse_newer(current: int) -> None:
        latest = latest_version()
        if current > latest:
            raise SchemaMismatch(
                f"the database schema is at version {current}, newer than this version of the service knows ({latest}): "
                "run the newer service version (never downgrade a database)"
            )

    def ping(self) -> int:
        """Schema version through the service's own connections (health check; fails fast while down)."""
        with self._connection(probe=True) as conn:
            return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    # --- issued cards -----------------------------------------------------------------------

    @staticmethod
    def card_rows(
        *, service_id: str, hook_instance: str, patient_key: str | None, cards: Iterable[Mapping[str, Any]], issued_at: str | None = None
    ) -> list[dict[str, Any]]:
        """The records of the cards that have a uuid (what feedback can refer to), as stored."""
        issued_at = issued_at or utc_now()
        rows = []
        for card in cards:
            uuid = card.get("uuid")
            if not isinstance(uuid, str) or not uuid:
                continue
            topic = (card.get("source") or {}).get("topic") or {}
            rows.append({"card_uuid": uuid, "rule_system": topic.get("system"), "rule_code": topic.get("code"),
                         "indicator": card.get("indicator"), "service_id": service_id, "hook_instance": hook_instance,
                         "issued_at": issued_at, "patient_key": patient_key})
        return rows

    def insert_card_rows(self, rows: list[Mapping[str, Any]], *, probe: bool = False) -> int:
        """Insert card records; a record already stored (same card uuid) is left as it is. Returns len(rows)."""
        if rows:
            with self._transaction(probe=probe) as conn:
                conn.executemany(_INSERT_CARD, [tuple(row.get(c) for c in CARD_COLUMNS) for row in rows])
        return len(rows)

    def record_issued_cards(
        self, *, service_id: str, hook_instance: str, patient_key: str | None, cards: Iterable[Mapping[str, Any]], issued_at: str | None = None
    ) -> int:
        """Record each card that has a uuid; returns how many were recorded."""
        return self.insert_card_rows(self.card_rows(service_id=service_id, hook_instance=hook_instance, patient_key=patient_key,
                                                    cards=cards, issued_at=issued_at))

    def issued_card(self, card_uuid: str) -> dict[str, Any] | None:
        with self._connection() as conn:
            rows = conn.dicts("SELECT * FROM issued_card WHERE card_uuid = ?", (card_uuid,))
            return rows[0] if rows else None

    def issued_card_uuids(self) -> list[str]:
        with self._connection() as conn:
            return [row[0] for row in conn.execute("SELECT card_uuid FROM issued_card ORDER BY card_uuid").fetchall()]

    def counts(self) -> dict[str, int]:
        """Rows per table (issued_card, feedback, seen_jti)."""
        with self._connection() as conn:
            return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("issued_card", "feedback", "seen_jti")}

    # --- feedback ---------------------------------------------------------------------------

    def record_feedback(self, service_id: str, item: Mapping[str, Any]) -> FeedbackStored:
        """Store one validated feedback item.

        Idempotent on the item's content (:func:`feedback_key`): a repeated post is not stored twice, two
        distinct items are never merged.
        Feedback for a card this service has no record of is stored too (never lost) and
        reported under "card not issued by this service".
        """
        reason = (item.get("overrideReason") or {}).get("reason") or {}
        accepted = item.get("acceptedSuggestions")
        row = (
            feedback_key(item), item["card"], item["outcome"], item["outcomeTimestamp"], service_id,
            json.dumps([s["id"] for s in accepted]) if accepted else None,
            reason.get("system"), reason.get("code"), reason.get("display"),
            (item.get("overrideReason") or {}).get("userComment"), utc_now(),
        )
        with self._transaction() as conn:
            inserted = conn.execute(
                "INSERT INTO feedback (item_key, card_uuid, outcome, outcome_timestamp, service_id, accepted_suggestions,"
                " override_reason_system, override_reason_code, override_reason_display, override_user_comment, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_key) DO NOTHING",
                row,
            ).rowcount
            card = conn.execute("SELECT rule_code FROM issued_card WHERE card_uuid = ?", (item["card"],)).fetchone()
        return FeedbackStored(inserted == 1, card is not None, card[0] if card else None)

    def feedback_for_card(self, card_uuid: str) -> list[dict[str, Any]]:
        with self._connection() as conn:
            return conn.dicts("SELECT * FROM feedback WHERE card_uuid = ? ORDER BY outcome_timestamp", (card_uuid,))

    def feedback_report(self) -> list[RuleFeedback]:
        """Per rule: cards issued, accepted, overridden, override reasons (sorted by rule code)."""
        report: dict[str, RuleFeedback] = {}

        def entry(code: str | None) -> RuleFeedback:
            code = code or "(no rule code)"
            return report.setdefault(code, RuleFeedback(rule_code=code))

        with self._connection() as conn:
            for code, count in conn.execute("SELECT rule_code, COUNT(*) FROM issued_card GROUP BY rule_code").fetchall():
                entry(code).issued = count
            rows = conn.execute(
                "SELECT CASE WHEN c.card_uuid IS NULL THEN ? ELSE COALESCE(c.rule_code, '(no rule code)') END, f.outcome,"
                " f.override_reason_code, f.override_reason_display"
                " FROM feedback f LEFT JOIN issued_card c ON c.card_uuid = f.card_uuid",
                (UNKNOWN_CARD,),
            ).fetchall()
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
        """Record a JWT id until ``expires_at`` (unix seconds, = exp + leeway); True the first time, False on reuse.

        Atomic across threads, processes and replicas: one insert on the primary key. An entry
        that has already expired (not yet purged by the retention step) counts as absent.
        """
        with self._transaction() as conn:
            changed = conn.execute(
                "INSERT INTO seen_jti (jti, expires_at) VALUES (?, ?)"
                " ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_jti.expires_at < ?",
                (jti, int(expires_at), int(time.time())),
            ).rowcount
        return changed == 1

    # --- retention --------------------------------------------------------------------------

    def expire_batch(self, table: str, cutoff: str | int, batch: int = 500) -> int:
        """Delete at most ``batch`` rows of ``table`` older than ``cutoff``; returns how many went.

        ``seen_jti``: ``expires_at`` before ``cutoff`` (unix seconds); ``issued_card``: ``issued_at``,
        ``feedback``: ``received_at`` before ``cutoff`` (the stored ISO text).
        """
        with self._transaction(probe=True) as conn:
            return conn.execute(_EXPIRE[table], (cutoff, int(batch))).rowcount


def retention_cutoff(days: float, now: datetime | None = None) -> str:
    return utc_iso((now or datetime.now(timezone.utc)) - timedelta(days=days))


class JtiGuard:
    """The replay check the service uses: the shared database, and while it is unavailable a local fallback.

    ``PECOMA_JTI_WHEN_DATABASE_DOWN``: ``local`` (default) checks the ids in this process's memory
    (a clinician is never blocked by the database; a replay to *another* worker or replica during
    the outage goes unseen) and writes them to the database once it is back; ``refuse`` raises
    :class:`DatabaseUnavailable` (the service answers 503: no call passes without the shared check).
    """

    MODES = ("local", "refuse")

    def __init__(self, store: Store, mode: str = "local"):
        if mode not in self.MODES:
            raise StorageError("PECOMA_JTI_WHEN_DATABASE_DOWN must be 'local' or 'refuse'")
        self.store = store
        self.mode = mode
        self._local: dict[str, int] = {}  # jti -> expires_at, seen while the database was down
        self._unsynced: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, store: Store, config: Mapping[str, Any]) -> "JtiGuard":
        return cls(store, str(config.get("PECOMA_JTI_WHEN_DATABASE_DOWN") or "local").strip().lower())

    def remember_jti(self, jti: str, expires_at: int) -> bool:
        try:
            self.flush()
            first = self.store.remember_jti(jti, expires_at)
        except DatabaseUnavailable:
            if self.mode == "refuse":
                raise
            return self._remember_locally(jti, expires_at, unsynced=True)
        with self._lock:
            seen_locally = self._local.get(jti, 0) >= time.time()
        return first and not seen_locally

    def _remember_locally(self, jti: str, expires_at: int, unsynced: bool) -> bool:
        now = time.time()
        with self._lock:
            if len(self._local) > 10_000:
                self._local = {k: v for k, v in self._local.items() if v >= now}
            if self._local.get(jti, 0) >= now:
                return False
            self._local[jti] = int(expires_at)
            if unsynced:
                self._unsynced[jti] = int(expires_at)
        return True

    def flush(self) -> None:
        """Write the ids seen during an outage to the database (so a later replay anywhere is refused)."""
        if not self._unsynced:
            return
        with self._lock:
            pending, self._unsynced = self._unsynced, {}
        try:
            for jti, expires_at in pending.items():
                if expires_at >= time.time():
                    self.store.remember_jti(jti, expires_at)
        except DatabaseUnavailable:
            with self._lock:
                self._unsynced.update(pending)
            raise
