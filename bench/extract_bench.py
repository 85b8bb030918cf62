"""Benchmark: fhir_mappings.extract on a ~500-resource prefetch (issue #3 point 9). Prints median and p99.

The prefetch is one vignette's FHIR record (tests/fixtures/vignettes) plus noise the pathway ignores or
only keeps as history: vital signs, lab series, other conditions and medications, as an EHR sends them.
Run: ``.venv/bin/python bench/extract_bench.py [--runs N] [--resources N]``
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fhir_mappings import extract  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "vignettes" / "V38.json"
TODAY = date(2026, 11, 22)


def noise(patient: str, count: int) -> list[dict]:
    """Observations (vitals with unverified/unknown codes, lab series), conditions and medications."""
    out: list[dict] = []
    kinds = [
        ({"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Heart rate"}, 72, "/min"),
        ({"coding": [{"system": "http://loinc.org", "code": "8310-5"}], "text": "Body temperature"}, 36.8, "Cel"),
        ({"coding": [{"system": "http://loinc.org", "code": "29463-7"}], "text": "Body weight"}, 70.2, "kg"),
        ({"coding": [{"system": "http://loinc.org", "code": "2571-8"}]}, 160, "mg/dL"),
        ({"coding": [{"system": "http://loinc.org", "code": "777-3"}]}, 210, "10*3/uL"),
        ({"coding": [{"system": "http://loinc.org", "code": "2345-7"}]}, 5.4, "mmol/L"),
        ({"text": "Sodium [Moles/volume] in Serum or Plasma"}, 139, "mmol/L"),
    ]
    for i in range(count):
        when = (TODAY - timedelta(days=i)).isoformat()
        if i % 10 == 8:
            out.append({"resourceType": "Condition", "id": f"noise-c{i}", "subject": {"reference": f"Patient/{patient}"},
                        "code": {"text": "Essential hypertension"}, "clinicalStatus": {"coding": [{"code": "active"}]}})
        elif i % 10 == 9:
            out.append({"resourceType": "MedicationStatement", "id": f"noise-m{i}", "status": "completed",
                        "subject": {"reference": f"Patient/{patient}"}, "medicationCodeableConcept": {"text": "Paracetamol 500 mg"},
                        "effectivePeriod": {"start": when, "end": when}})
        else:
            code, value, unit = kinds[i % len(kinds)]
            out.append({"resourceType": "Observation", "id": f"noise-o{i}", "status": "final", "code": code,
                        "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": when,
                        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
                        "category": [{"coding": [{"code": "vital-signs" if i % 7 < 3 else "laboratory"}]}]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--resources", type=int, default=500)
    args = parser.parse_args()
    bundle = json.loads(FIXTURE.read_text(encoding="utf-8"))
    record = [e["resource"] for e in bundle["entry"]]
    patient = record[0]["id"]
    prefetch = [{"resourceType": "Bundle", "type": "searchset",
                 "entry": [{"resource": r} for r in record + noise(patient, max(0, args.resources - len(record)))]}]
    size = len(prefetch[0]["entry"])
    for _ in range(20):  # warm-up
        extract(prefetch, today=TODAY, patient_id=patient)
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        extract(prefetch, today=TODAY, patient_id=patient)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(round(0.99 * len(timings))) - 1)]
    print(f"extract: {size} resources, {args.runs} runs: median {statistics.median(timings):.2f} ms, "
          f"p99 {p99:.2f} ms, min {timings[0]:.2f} ms, max {timings[-1]:.2f} ms")


if __name__ == "__main__":
    main()
