"""Every storage test runs on both engines: SQLite (a temporary file) and PostgreSQL (a fresh schema)."""
from __future__ import annotations

import pytest

from cds_service.storage import Store
from tests.storage.pg import fresh_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sub' / 'db.sqlite3'}"
    else:
        with fresh_schema() as url:
            yield url


@pytest.fixture
def store(database_url):
    s = Store.from_url(database_url)
    s.upgrade()
    yield s
    s.close()
