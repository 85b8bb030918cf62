"""Benchmark: median and p99 of pathway.decide over all development vignettes (prints numbers; not a test)."""
from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pathway.decide import decide  # noqa: E402
from pathway.settings import SiteSettings  # noqa: E402
from tests.vignette_facts import load_vignettes, vignette_to_facts  # noqa: E402


def main(rounds: int = 200) -> None:
    cases = []
    for v in load_vignettes():
        settings = SiteSettings.from_mapping(v["site_settings"]) if "site_settings" in v else None
        cases.append((vignette_to_facts(v), date.fromisoformat(v["reference_date"]), settings))
    timings = []
    for _ in range(rounds):
        for facts, today, settings in cases:
            start = time.perf_counter()
            decide(facts, today=today, settings=settings)
            timings.append(time.perf_counter() - start)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"decide over {len(cases)} vignettes x {rounds}: median {statistics.median(timings) * 1e6:.0f} us, "
          f"p99 {p99 * 1e6:.0f} us")


if __name__ == "__main__":
    main()
