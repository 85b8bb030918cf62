"""Development patients as FHIR R4 transaction Bundles, ready to load into any FHIR server.

:func:`write_demo_bundles` reads the vignette fixtures (collection Bundles, ``tests/fixtures/vignettes/Vxx.json``,
one patient each) and writes one transaction Bundle per patient (``PUT Type/id`` per resource, so loading twice
is harmless). Load them with ``curl -X POST -H 'Content-Type: application/fhir+json' --data-binary @V01.json
$FHIR_BASE`` (docs/configuration-fhir.md §Demo data).
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "vignettes"


def to_transaction(bundle: dict[str, Any]) -> dict[str, Any]:
    """A transaction Bundle that PUTs every resource of ``bundle`` by its id, Patient first.

    References to other entries by ``fullUrl`` (e.g. ``urn:uuid:...``) are rewritten to ``Type/id``;
    a resource without an id gets a stable one (the uuid of its fullUrl, else a hash of its content).
    """
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    resources, local = [], {}
    for entry in entries:
        resource = copy.deepcopy(entry["resource"])
        if not resource.get("id"):
            full_url = str(entry.get("fullUrl") or "")
            resource["id"] = full_url.removeprefix("urn:uuid:") if full_url.startswith("urn:uuid:") else _content_id(resource)
        if entry.get("fullUrl"):
            local[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
        resources.append(resource)
    resources.sort(key=lambda r: r["resourceType"] != "Patient")
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": _rewrite(r, local), "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in resources
        ],
    }


def write_demo_bundles(out_dir: str | Path, fixtures_dir: str | Path | None = None) -> list[Path]:
    """Write ``<name>.json`` transaction Bundles for every ``*.json`` fixture; returns the files written."""
    source = Path(fixtures_dir) if fixtures_dir else DEFAULT_FIXTURES
    files = sorted(source.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no fixture Bundles (*.json) in {source}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in files:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        if bundle.get("resourceType") != "Bundle":
            continue
        target = out / path.name
        transaction = to_transaction(bundle)
        _name_unnamed_patients(transaction, path.stem)
        target.write_text(json.dumps(transaction, indent=1) + "\n", encoding="utf-8")
        written.append(target)
    return written


def _name_unnamed_patients(transaction: dict[str, Any], label: str) -> None:
    """A Patient without a name gets an anonymous one, 'Vignette V04', so a client (the CDS Hooks Sandbox's banner
    reads name[0].given and .family) shows which development patient is open instead of 'Unknown'."""
    for entry in transaction["entry"]:
        patient = entry["resource"]
        if patient["resourceType"] == "Patient" and not patient.get("name"):
            patient["name"] = [{"use": "anonymous", "text": f"Vignette {label} (synthetic development patient)",
                                "family": label, "given": ["Vignette"]}]


def _rewrite(value: Any, local: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: (local.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite(v, local)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, local) for v in value]
    return value


def _content_id(resource: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest()[:32]


def iter_fixture_bundles(dirs: Iterable[str | Path]) -> Iterable[tuple[Path, dict[str, Any]]]:
    """(path, Bundle) for every ``*.json`` Bundle in ``dirs`` (missing folders are skipped)."""
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("resourceType") == "Bundle":
                yield path, data
