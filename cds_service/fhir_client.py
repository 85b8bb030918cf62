"""A small, defensive FHIR REST client for the EHR's ``fhirServer`` (CDS Hooks 2.0 §FHIR Resource Access).

One :class:`FhirClient` per process (:func:`shared_client`) holds one pooled ``requests.Session``.
:meth:`FhirClient.get_json` performs one GET and never raises: every way a server can misbehave
(refused, slow, down, junk, too big) comes back as a :class:`Reply` with a ``failure`` code that
``data_access`` maps to a 412 or a data-quality note (table in docs/configuration-fhir.md).

The bearer token is passed per call, goes only into the ``Authorization`` header of that request
and is never logged, stored on the client, or put in a ``Reply``/exception text.
"""
from __future__ import annotations

import http.cookiejar
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

ACCEPT = "application/fhir+json, application/json;q=0.9"
# urllib3 logs every request line at DEBUG; our URLs carry patient ids, which never go to logs.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
CHUNK_BYTES = 64 * 1024

# failure codes (stable strings; docs/configuration-fhir.md explains each)
UNAUTHORIZED = "unauthorized"  # 401/403
NOT_FOUND = "not-found"  # 404/410
RATE_LIMITED = "rate-limited"  # 429
SERVER_ERROR = "server-error"  # 5xx
HTTP_ERROR = "http-error"  # any other non-200 (3xx redirects are not followed, 400, ...)
TIMEOUT = "timeout"  # connect/read timeout or the total time budget ran out
UNREACHABLE = "unreachable"  # connection refused/reset, DNS, TLS, after the allowed retries
TRUNCATED = "truncated"  # connection closed before the announced body was complete
NOT_JSON = "not-json"  # body is not (complete) JSON
NOT_FHIR = "not-fhir"  # JSON, but not a FHIR resource object
TOO_LARGE = "too-large"  # body larger than the byte cap


@dataclass(frozen=True)
class Reply:
    """Outcome of one GET: ``body`` (a JSON object) when ``failure`` is None."""

    status: int | None  # HTTP status, None when no HTTP answer arrived
    body: dict[str, Any] | None = None
    failure: str | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Limits:
    connect_timeout_s: float
    read_timeout_s: float
    max_reply_bytes: int
    connect_retries: int = 1


class FhirClient:
    """Pooled HTTP access to FHIR servers; thread-safe for concurrent GETs."""

    def __init__(self, pool_size: int = 32):  # per host: gunicorn threads x parallel fetches
        session = requests.Session()
        session.trust_env = False  # no .netrc credentials or environment proxies slipped into EHR calls
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))  # no cookies across users
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool_size, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self._session = session

    def __repr__(self) -> str:
        return "FhirClient()"

    def close(self) -> None:
        self._session.close()

    def get_json(self, url: str, token: str | None, limits: Limits, deadline: float) -> Reply:
        """GET ``url`` (Bearer ``token`` if given) and parse a JSON object, finishing by ``deadline``
        (a ``time.monotonic()`` value). Retries only connection failures, while time remains."""
        started = time.monotonic()
        headers = {"Accept": ACCEPT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        attempts = 1 + max(0, limits.connect_retries)
        for attempt in range(attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply(None, failure=TIMEOUT, elapsed_s=time.monotonic() - started)
            timeout = (min(limits.connect_timeout_s, remaining), min(limits.read_timeout_s, remaining))
            try:
                response = self._session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
            except requests.exceptions.Timeout:  # ConnectTimeout/ReadTimeout: not retried (the budget is spent)
                return Reply(None, failure=TIMEOUT, elapsed_s=time.monotonic() - started)
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError):
                if attempt + 1 < attempts and deadline - time.monotonic() > limits.connect_timeout_s:
                    continue  # idempotent GET: safe to try once more on a fresh connection
                return Reply(None, failure=UNREACHABLE, elapsed_s=time.monotonic() - started)
            except requests.exceptions.RequestException:  # invalid URL and the like
                return Reply(None, failure=UNREACHABLE, elapsed_s=time.monotonic() - started)
            with response:
                reply = _read_reply(response, limits, deadline)
            return Reply(reply.status, reply.body, reply.failure, time.monotonic() - started)
        return Reply(None, failure=UNREACHABLE, elapsed_s=time.monotonic() - started)  # pragma: no cover


def _read_reply(response: requests.Response, limits: Limits, deadline: float) -> Reply:
    status = response.status_code
    if status != 200:
        return Reply(status, failure=_status_failure(status))
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_reply_bytes:
        return Reply(status, failure=TOO_LARGE)
    body = bytearray()
    try:
        raw = response.raw
        while True:
            if time.monotonic() > deadline:
                return Reply(status, failure=TIMEOUT)
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)  # returns as soon as some bytes arrived
            if not chunk:
                break
            body += chunk
            if len(body) > limits.max_reply_bytes:
                return Reply(status, failure=TOO_LARGE)
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return Reply(status, failure=TIMEOUT)
    except urllib3.exceptions.ProtocolError:  # incl. IncompleteRead: fewer bytes than Content-Length
        return Reply(status, failure=TRUNCATED)
    except urllib3.exceptions.DecodeError:  # broken gzip/deflate
        return Reply(status, failure=NOT_JSON)
    except (urllib3.exceptions.HTTPError, OSError):
        return Reply(status, failure=UNREACHABLE)
    try:
        parsed = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        return Reply(status, failure=NOT_JSON)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("resourceType"), str):
        return Reply(status, failure=NOT_FHIR)
    return Reply(status, body=parsed)


def _status_failure(status: int) -> str:
    if status in (401, 403):
        return UNAUTHORIZED
    if status in (404, 410):
        return NOT_FOUND
    if status == 429:
        return RATE_LIMITED
    if 500 <= status <= 599:
        return SERVER_ERROR
    return HTTP_ERROR


_shared: tuple[int, FhirClient] | None = None
_shared_lock = threading.Lock()


def shared_client() -> FhirClient:
    """The process-wide client (created on first use; recreated after a fork, e.g. gunicorn --preload)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid():
            _shared = (os.getpid(), FhirClient())
        return _shared[1]
