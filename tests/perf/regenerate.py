"""Rewrite the golden responses (``tests/perf/golden/*.json``) from the current code.

    .venv/bin/python -m tests.perf.regenerate

Run it only when clinical output changed on purpose, and review the diff of the golden files in the commit.
"""
from __future__ import annotations

from tests.perf.golden import GOLDEN_DIR, cases, golden_path, response


def main() -> None:
    GOLDEN_DIR.mkdir(exist_ok=True)
    names = set()
    for name, body, today, settings in cases():
        golden_path(name).write_bytes(response(body, today, settings))
        names.add(name)
    for stale in GOLDEN_DIR.glob("*.json"):
        if stale.stem not in names:
            stale.unlink()
    print(f"wrote {len(names)} golden responses to {GOLDEN_DIR}")


if __name__ == "__main__":
    main()
