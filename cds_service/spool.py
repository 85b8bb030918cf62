"""A bounded, local, append-only spool for card records the database could not take.

A hook never waits on the audit store: when the database is down, the records of the cards just
issued go here (one JSON object per line, appended under an exclusive ``flock`` and fsync'd
before the hook answers) and :meth:`Spool.replay` writes them to the database once it is back.
Inserts are keyed by card uuid (``ON CONFLICT DO NOTHING``), so a replay that is interrupted and
repeated still leaves each record exactly once.

Files in ``PECOMA_SPOOL_DIR`` (default ``var/spool``, one directory per host, shared by the
workers): ``issued-cards.jsonl`` takes appends; a replay first renames it to
``replay-<unique>.jsonl`` (under the lock, so no append is lost), then replays and deletes each
``replay-*.jsonl`` it can lock. ``PECOMA_SPOOL_MAX_BYTES`` (default 64 MiB) bounds all of them:
past it a record is dropped and logged at ERROR (``spool_full``), loudly, every time.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

from cds_service.jsonlog import log_event

DEFAULT_DIR = "var/spool"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
ACTIVE = "issued-cards.jsonl"
REPLAY_GLOB = "replay-*.jsonl"
REPLAY_CHUNK = 500


class Spool:
    def __init__(self, directory: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.path = self.directory / ACTIVE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Spool":
        max_bytes = str(config.get("PECOMA_SPOOL_MAX_BYTES") or DEFAULT_MAX_BYTES).strip()
        if not max_bytes.isdigit() or int(max_bytes) <= 0:
            raise ValueError("PECOMA_SPOOL_MAX_BYTES must be a positive whole number of bytes")
        return cls(str(config.get("PECOMA_SPOOL_DIR") or DEFAULT_DIR), int(max_bytes))

    def _files(self) -> list[Path]:
        return [p for p in [self.path, *sorted(self.directory.glob(REPLAY_GLOB))] if p.exists()]

    def size_bytes(self) -> int:
        total = 0
        for path in self._files():
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                pass
        return total

    def depth(self) -> int:
        """Records waiting to be replayed (lines in the spool files)."""
        count = 0
        for path in self._files():
            try:
                with path.open("rb") as f:
                    count += sum(1 for line in f if line.strip())
            except FileNotFoundError:
                pass
        return count

    def append(self, records: list[Mapping[str, Any]]) -> bool:
        """Append ``records`` durably (fsync); False (and an ERROR log) when the spool is full."""
        if not records:
            return True
        data = b"".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for r in records)
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            with self.path.open("ab") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    if not _same_file(f, self.path):  # renamed for a replay while we waited: append to the new file
                        continue
                    if self.size_bytes() + len(data) > self.max_bytes:
                        log_event("spool_full", logging.ERROR, spool_dir=str(self.directory), max_bytes=self.max_bytes,
                                  dropped_records=len(records))
                        return False
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                    return True
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)

    def replay(self, write: Callable[[list[dict[str, Any]]], Any]) -> int:
        """Hand every spooled record to ``write`` (in chunks) and delete what was written; returns how many.

        ``write`` must be idempotent (it may see a record twice after a crash). If it raises,
        the records stay spooled for the next replay and the exception propagates.
        """
        if not self.directory.exists():
            return 0
        self._rotate()
        replayed = 0
        for path in sorted(self.directory.glob(REPLAY_GLOB)):
            try:
                f = path.open("rb")
            except FileNotFoundError:
                continue
            with f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # another process is replaying it
                if not _same_file(f, path):
                    continue  # replayed and deleted by another process meanwhile
                records, bad = [], 0
                for line in f.read().splitlines():
                    if not line.strip():
                        continue
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        bad += 1  # a torn last line after a crash: its hook had not answered yet
                if bad:
                    log_event("spool_unreadable_lines", logging.ERROR, file=path.name, lines=bad)
                for start in range(0, len(records), REPLAY_CHUNK):
                    write(records[start:start + REPLAY_CHUNK])
                path.unlink()
                replayed += len(records)
        if replayed:
            _fsync_dir(self.directory)
            log_event("spool_replayed", logging.WARNING, records=replayed)
        return replayed

    def _rotate(self) -> None:
        """Move the active file aside for replay (under its lock, so appends go to a fresh file)."""
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            return
        with f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                if _same_file(f, self.path) and os.fstat(f.fileno()).st_size > 0:
                    os.rename(self.path, self.directory / f"replay-{uuid.uuid4().hex}.jsonl")
                    _fsync_dir(self.directory)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def _same_file(f: Any, path: Path) -> bool:
    try:
        return os.fstat(f.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
