"""The local spool of card records: durable appends, bounded size, replay exactly once (both engines)."""
from __future__ import annotations

import json
import logging
import multiprocessing
import threading

from cds_service.jsonlog import LOGGER_NAME
from cds_service.retention import replay_spool
from cds_service.spool import Spool
from cds_service.storage import Store


def rows(prefix: str, n: int) -> list[dict]:
    return Store.card_rows(service_id="pecoma-patient-view", hook_instance=f"h-{prefix}", patient_key="k",
                           cards=[{"uuid": f"{prefix}-{i}", "indicator": "info", "source": {"topic": {"code": "MDT"}}} for i in range(n)])


def _append_many(directory: str, prefix: str) -> None:
    spool = Spool(directory)
    for i in range(40):
        assert spool.append(rows(f"{prefix}-{i}", 2))


def test_spooled_records_are_replayed_into_the_database_once(store, tmp_path):
    spool = Spool(tmp_path / "spool")
    assert spool.append(rows("a", 3)) and spool.append(rows("b", 2))
    assert spool.depth() == 5
    assert json.loads(spool.path.read_text().splitlines()[0])["card_uuid"] == "a-0"
    assert replay_spool(store, spool) == 5
    assert spool.depth() == 0 and spool.size_bytes() == 0
    assert replay_spool(store, spool) == 0
    assert store.issued_card("b-1")["hook_instance"] == "h-b"
    assert len(store.issued_card_uuids()) == 5


def test_a_replay_interrupted_after_the_insert_is_repeated_without_duplicates(store, tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(rows("a", 3))
    written = []

    def crash_after_write(batch):
        store.insert_card_rows(batch)
        written.extend(batch)
        raise OSError("killed before the spool file was deleted")

    try:
        spool.replay(crash_after_write)
    except OSError:
        pass
    assert len(written) == 3 and spool.depth() == 3  # still spooled
    assert replay_spool(store, spool) == 3
    assert store.issued_card_uuids() == ["a-0", "a-1", "a-2"] and spool.depth() == 0


def test_concurrent_writers_and_replays_lose_and_duplicate_nothing(store, tmp_path):
    directory = str(tmp_path / "spool")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_append_many, args=(directory, f"p{n}")) for n in range(3)]
    for writer in writers:
        writer.start()
    replayed = 0
    while any(w.is_alive() for w in writers):
        replayed += replay_spool(store, Spool(directory))
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    replayed += replay_spool(store, Spool(directory))
    assert replayed == 3 * 40 * 2
    assert len(store.issued_card_uuids()) == 240


def test_a_full_spool_refuses_and_says_so_loudly(tmp_path):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        spool = Spool(tmp_path / "spool", max_bytes=600)
        assert spool.append(rows("a", 2))
        assert not spool.append(rows("b", 5))
    finally:
        logger.removeHandler(handler)
    assert spool.depth() == 2
    assert [r.levelno for r in records if r.getMessage() == "spool_full"] == [logging.ERROR]


def test_a_torn_last_line_is_skipped_and_reported(store, tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(rows("a", 2))
    with spool.path.open("ab") as f:
        f.write(b'{"card_uuid": "torn')  # a crash in the middle of a write: that hook had not answered
    assert replay_spool(store, spool) == 2
    assert store.issued_card_uuids() == ["a-0", "a-1"]


def test_appends_wait_for_a_rotation_and_land_in_the_next_file(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(rows("a", 1))
    threads = [threading.Thread(target=spool.append, args=(rows(f"t{i}", 1),)) for i in range(20)]
    for thread in threads:
        thread.start()
    seen: list[str] = []
    spool.replay(lambda batch: seen.extend(r["card_uuid"] for r in batch))
    for thread in threads:
        thread.join()
    spool.replay(lambda batch: seen.extend(r["card_uuid"] for r in batch))
    assert sorted(seen) == sorted(["a-0"] + [f"t{i}-0" for i in range(20)])
