"""The seeded synthetic fleets of ``benchmarks/plan_scale.py``, for tests that need one.

Loaded from the benchmark file itself, so tests and figures plan the same sets.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "plan_scale.py"


@cache
def _module() -> Any:
    spec = importlib.util.spec_from_file_location("gpuplan_plan_scale", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic(n: int, seed: int = 7) -> dict[str, Any]:
    """``plan_scale.py``'s workload set of ``n`` workloads (a workloads.yaml as data)."""
    data: dict[str, Any] = _module().synthetic(n, seed)
    return data
