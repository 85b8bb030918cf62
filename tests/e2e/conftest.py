"""End-to-end fixtures: the real service (gunicorn, demo mode) on a loopback port, one per set of
site settings, with ``PECOMA_REFERENCE_DATE`` = the vignettes' reference date.

The server process is the service tests' ``LiveServer`` (tests/service/live.py); no shared
tests/conftest.py exists, so the servers of these tests are started here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.service.live import LiveServer


class Servers:
    """Starts a server on first use for each (reference date, site settings) and stops them all at the end."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.running: dict[tuple[str, str], LiveServer] = {}

    def get(self, reference_date: str, site_settings: dict | None = None) -> LiveServer:
        settings = {k: v for k, v in (site_settings or {}).items() if k != "note"}  # "note" documents the vignette
        key = (reference_date, json.dumps(settings, sort_keys=True))
        if key not in self.running:
            workdir = self.workdir / f"server{len(self.running)}"
            workdir.mkdir(parents=True)
            env = {"PECOMA_REFERENCE_DATE": reference_date}
            if settings:
                path = workdir / "site-settings.json"
                path.write_text(json.dumps(settings), encoding="utf-8")
                env["PECOMA_SITE_SETTINGS"] = str(path)
            self.running[key] = LiveServer(workdir, **env).start()
        return self.running[key]

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    pool = Servers(tmp_path_factory.mktemp("e2e"))
    yield pool
    pool.stop()
