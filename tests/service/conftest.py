"""Fixtures of the service tests: one real server for the session, and an HTTP session that
checks every answer it receives (valid CDS Hooks response on 200 from a hook; an
OperationOutcome on every 4xx/5xx)."""
from __future__ import annotations

import re

import pytest
import requests

from cds_service.validation import validate_response
from tests.service.live import LiveServer

HOOK_PATH = re.compile(r"/cds-services/[^/]+$")


def check_every_answer(response: requests.Response, *args, **kwargs) -> None:
    """requests response hook: the invariants every answer of the service must keep."""
    path = requests.utils.urlparse(response.url).path
    assert response.status_code < 500, f"{response.request.method} {path} -> {response.status_code}: {response.text[:500]}"
    if response.status_code >= 400 and response.request.method != "OPTIONS":
        body = response.json()
        assert body.get("resourceType") == "OperationOutcome", body
        assert body.get("issue"), body
    if response.request.method == "POST" and HOOK_PATH.search(path) and response.status_code == 200:
        problems = validate_response(response.json())
        assert problems == [], problems


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> LiveServer:
    live = LiveServer(tmp_path_factory.mktemp("live"), PECOMA_MAX_BODY_BYTES="300000").start()
    yield live
    live.stop()


@pytest.fixture
def http() -> requests.Session:
    """Use this session for every request to the service: it validates each answer."""
    session = requests.Session()
    session.hooks["response"].append(check_every_answer)
    yield session
    session.close()
