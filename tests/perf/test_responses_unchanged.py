"""Issue #8 point 5: optimisations change no response. Every vignette fixture and the three benchmark bodies give,
byte for byte (uuids and timestamps masked), the hook response pinned in ``tests/perf/golden/``.

When clinical output changes on purpose (a rule, a text, a mapping), regenerate and review the diff:

    .venv/bin/python -m tests.perf.regenerate
"""
from __future__ import annotations

import orjson
import pytest

from bench.bodies import REFERENCE_DATE, VIGNETTE
from cds_service.services import PREFETCH
from tests.data_access.oracle import full_prefetch
from tests.fixtures import bundle_resources, load_vignette_bundle, vignette_patient_id
from tests.perf.golden import cases, golden_path, response

CASES = list(cases())


@pytest.mark.parametrize("name, body, today, settings", CASES, ids=[c[0] for c in CASES])
def test_response_is_byte_for_byte_the_pinned_one(name, body, today, settings):
    path = golden_path(name)
    assert path.exists(), f"no golden response for {name}: run python -m tests.perf.regenerate"
    assert response(body, today, settings) == path.read_bytes()


def test_benchmark_noise_changes_no_card():
    """The noise of the benchmark bodies (vitals, unrelated labs, other conditions/medications) is skipped:
    the small, medium and large bodies answer exactly like the vignette record alone (same settings)."""
    patient_id = vignette_patient_id(VIGNETTE)
    context = {"userId": "Practitioner/golden", "patientId": patient_id}
    alone = {"hook": "patient-view", "hookInstance": "00000000-0000-4000-8000-000000000000", "context": context,
             "prefetch": full_prefetch(bundle_resources(load_vignette_bundle(VIGNETTE)), PREFETCH, context)}
    expected = response(alone, REFERENCE_DATE, None)
    assert orjson.loads(expected)["cards"], "the benchmark vignette must produce cards for the comparison to mean something"
    for size in ("small", "medium", "large"):
        assert golden_path(f"bench-{size}").read_bytes() == expected, size
