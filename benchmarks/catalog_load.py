"""Benchmark: how long ``load_catalog`` takes, each run in a fresh Python process.

Usage::

    python benchmarks/catalog_load.py [--runs 7] [--skypilot-dir ../shared/data/skypilot-catalog/v8]

Prints one JSON document: per catalog (the embedded default snapshot, and the
full three-cloud SkyPilot v8 directory when present) the number of offers and
the median / min / max seconds of the ``load_catalog`` call, plus the median
time to import the package first (paid once per process, not part of the
load). Every run is a new interpreter, so no cache of an earlier run helps.

Targets (issue 2): full shared catalog < 1 s, embedded default < 0.2 s.
This is a benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GPUPLAN_SHARED", REPO.parent / "shared"))
DEFAULT_SKYPILOT = SHARED / "data" / "skypilot-catalog" / "v8"

# Runs inside the fresh interpreter: time the import, then the load; print JSON.
CHILD = """
import json, sys, time
t0 = time.perf_counter()
from planner.catalog.load import load_catalog
t1 = time.perf_counter()
catalog = load_catalog(None if sys.argv[1] == "-" else sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "rows": len(catalog)}))
"""


def one_run(path: str | None) -> dict[str, float]:
    """Load ``path`` (None = embedded) in a new interpreter; its timings in seconds."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, path or "-"],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    timing: dict[str, float] = json.loads(result.stdout)
    return timing


def measure(name: str, path: str | None, runs: int, target_s: float) -> dict[str, object]:
    """Median, min and max of ``runs`` fresh-process loads of one catalog."""
    samples = [one_run(path) for _ in range(runs)]
    loads = [s["load_s"] for s in samples]
    median = statistics.median(loads)
    return {
        "catalog": name,
        "path": path or "embedded",
        "rows": int(samples[0]["rows"]),
        "runs": runs,
        "load_seconds_median": round(median, 4),
        "load_seconds_min": round(min(loads), 4),
        "load_seconds_max": round(max(loads), 4),
        "import_seconds_median": round(statistics.median(s["import_s"] for s in samples), 4),
        "target_seconds": target_s,
        "within_target": median < target_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skypilot-dir", type=Path, default=DEFAULT_SKYPILOT)
    args = parser.parse_args()
    results = [measure("embedded", None, args.runs, 0.2)]
    if (args.skypilot_dir / "gcp" / "vms.csv").is_file():
        results.append(measure("skypilot-v8-full", str(args.skypilot_dir.resolve()), args.runs, 1.0))
    report = {
        "benchmark": "catalog_load",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
