"""The responses the golden files pin: every vignette fixture and the benchmark bodies, through the service's code path.

Each case goes through ``data_access.gather`` (complete prefetch: no network) and ``pipeline.evaluate`` with the
vignette's ``reference_date`` as today and its site settings, and is serialised like the hook endpoint does
(``orjson.dumps({"cards": ...})``). Only card/suggestion uuids and timestamps are normalised.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import orjson

from bench.bodies import REFERENCE_DATE, SIZES, request_body
from cds_service import data_access
from cds_service.pipeline import evaluate
from cds_service.services import PREFETCH, SERVICES
from pathway.settings import SiteSettings
from tests.data_access.oracle import full_prefetch
from tests.fixtures import VIGNETTE_DIR, bundle_resources, load_vignette_bundle, vignette_patient_id

GOLDEN_DIR = Path(__file__).with_name("golden")
VIGNETTES_FILE = Path(__file__).resolve().parents[3] / "shared" / "clinical" / "vignettes-dev.json"
BASE_URL = "https://cds.example.org"
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIMESTAMP = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
_HOOK_SERVICE = {entry["hook"]: entry for entry in SERVICES.values()}


def normalise(response: bytes) -> bytes:
    return _TIMESTAMP.sub(b"<timestamp>", _UUID.sub(b"<uuid>", response))


def _vignettes() -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in json.loads(VIGNETTES_FILE.read_text(encoding="utf-8")) if "id" in v}


def cases() -> Iterator[tuple[str, dict[str, Any], date, SiteSettings | None]]:
    """(name, request body, today, site settings) for every vignette fixture and every benchmark size."""
    vignettes = _vignettes()
    for path in sorted(VIGNETTE_DIR.glob("V*.json")):
        vignette = vignettes[path.stem]
        patient_id = vignette_patient_id(path.stem)
        context = {"userId": "Practitioner/golden", "patientId": patient_id}
        body = {"hook": vignette.get("hook", "patient-view"), "hookInstance": "00000000-0000-4000-8000-000000000000",
                "context": context, "prefetch": full_prefetch(bundle_resources(load_vignette_bundle(path.stem)), PREFETCH, context)}
        settings = vignette.get("site_settings")
        settings = SiteSettings.from_mapping({k: v for k, v in settings.items() if k != "note"}) if settings else None
        yield path.stem, body, date.fromisoformat(vignette["reference_date"]), settings
    for size in SIZES:
        yield f"bench-{size}", request_body(size), REFERENCE_DATE, None


def response(body: dict[str, Any], today: date, settings: SiteSettings | None) -> bytes:
    """The normalised hook response body for ``body`` (what the endpoint sends, uuids/timestamps masked)."""
    gathered = data_access.gather(body, PREFETCH, {"PECOMA_MODE": "production"})
    context = body["context"]
    evaluation = evaluate(gathered.resources, hook=body["hook"], patient_id=context["patientId"], today=today,
                          base_url=BASE_URL, draft_orders=context.get("draftOrders"), settings=settings,
                          data_notes=gathered.notes)
    assert not evaluation.degraded, "the pipeline degraded: fix that before pinning output"
    return normalise(orjson.dumps({"cards": evaluation.cards}))


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"
