"""The test PostgreSQL (``scripts/postgres start``): a fresh schema per test, failing loudly in CI when absent.

``PECOMA_TEST_DATABASE_URL`` (exported by ``scripts/test``) names the database; without it the
URL that ``scripts/postgres`` creates is tried. When PostgreSQL cannot be reached, the tests that
need it FAIL when ``CI`` is set and are skipped (with the reason) on a developer machine.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator
from urllib.parse import quote

import pytest

DEFAULT_URL = "postgresql://pecoma:pecoma@127.0.0.1:5432/pecoma_test"


def admin_url() -> str:
    return os.environ.get("PECOMA_TEST_DATABASE_URL") or DEFAULT_URL


@lru_cache(maxsize=1)
def _unreachable_reason() -> str | None:
    import psycopg

    try:
        with psycopg.connect(admin_url(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {admin_url().split('@')[-1]} unreachable ({type(exc).__name__}); start it with `sudo scripts/postgres start`"
    return None


def require_postgres() -> None:
    """Fail (CI) or skip (developer machine) when the test PostgreSQL cannot be reached."""
    reason = _unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def can_restart_postgres() -> bool:
    return os.geteuid() == 0 and subprocess.run(["which", "pg_ctlcluster"], capture_output=True).returncode == 0


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A database URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    import psycopg

    require_postgres()
    schema = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in admin_url() else "?"
    try:
        yield f"{admin_url()}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(admin_url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
