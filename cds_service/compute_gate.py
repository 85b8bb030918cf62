"""One hook request computes at a time in a worker process (docs/performance.md, "The compute gate").

Mapping, pathway and rendering are CPU-bound Python. With gunicorn's gthread workers, requests computing at once
only take turns on the GIL (a forced switch every 5 ms), so each of them finishes later. Requests queue on the
gate instead; one that waits on the EHR's FHIR server releases it (``released``), so a slow fallback query still
never blocks the worker's other threads. Measured (medium requests, concurrency 8, median of 5 interleaved runs):
134 vs 124 req/s, p99 93 vs 123 ms. The body is parsed inside the gate, so a worker also holds one request's
parsed record at a time (large requests, concurrency 8: largest worker about 150 MB without the gate, 109 MB with it).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class ComputeGate:
    """A lock around a request's computing; ``released`` while it waits on the network."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> "ComputeGate":
        self._lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Let other requests compute while this one waits (e.g. on a FHIR server)."""
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
