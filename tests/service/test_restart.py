"""Feedback survives a restart and is still there once (the new-user check of issue #2)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import requests

from cds_service.storage import Store
from tests.service.builders import feedback_item
from tests.service.live import LiveServer


def test_feedback_posted_twice_is_there_once_after_a_restart(tmp_path):
    server = LiveServer(tmp_path).start()
    try:
        rule_card = str(uuid.uuid4())
        # a card as the hook endpoint records it (the pathway may not fire this rule for any fixture yet)
        Store(server.db_path).record_issued_cards(
            service_id="pecoma-patient-view", hook_instance=str(uuid.uuid4()), patient_key="k",
            cards=[{"uuid": rule_card, "summary": "s", "indicator": "warning", "source": {"label": "l", "topic": {"system": "x", "code": "R7"}}}],
        )
        body = {"feedback": [feedback_item(rule_card, "overridden", overrideReason={"reason": {"system": "x", "code": "patient-declined", "display": "Patient declined"}})]}
        url = f"{server.url}/cds-services/pecoma-patient-view/feedback"
        assert requests.post(url, json=body, timeout=10).json()["stored"] == 1
        assert requests.post(url, json=body, timeout=10).json()["duplicates"] == 1
        server.restart()
        assert requests.post(url, json=body, timeout=10).json()["duplicates"] == 1
    finally:
        server.stop()
    assert len(Store(server.db_path).feedback_for_card(rule_card)) == 1
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}, "PECOMA_DATABASE_URL": f"sqlite:///{server.db_path}"}
    report = subprocess.run([sys.executable, "-m", "cds_service.cli", "feedback-report"], env=env, capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    line = next(l for l in report.stdout.splitlines() if l.startswith("R7"))
    assert line.split()[1:] == ["1", "0", "1"]  # issued, accepted, overridden
    assert "patient-declined (Patient declined): 1" in report.stdout
