"""Where ``planner plan``'s CPU goes, stage by stage, on plan_scale's synthetic sets.

Prints one JSON object per size: CPU seconds of loading the catalog, reading and
validating the declaration, building candidates, the solver (everything between
candidates and assembling: column generation, the search, bounds, fallbacks),
assembling the plan, writing its JSON text (``dumps_plan``) and the file, in a fresh
process per size with CPython's cycle collector off, as ``planner plan`` runs; with
plan.json's size and hash (the same bytes as ``planner plan FILE --out``).

    python benchmarks/plan_stages.py [--sizes 1000,20000] [--catalog DIR] [--seed 7]
                                     [--file workloads.yaml]

CPU seconds (``time.process_time``) are steadier than wall time on a shared machine;
the stages add up to ``total_cpu_s`` but for imports.
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def stages(file: Path, catalog_dir: Path, out: Path) -> dict[str, Any]:
    """Plan ``file`` in this process, timing each stage (CPU seconds); write plan.json."""
    gc.disable()
    start = time.process_time()
    from planner.catalog.load import load_catalog
    from planner.optimize import planning
    from planner.plan import dumps_plan
    from planner.spec.load import load_workloads

    spent: dict[str, float] = {"candidates": 0.0, "assemble": 0.0}
    builder = planning.CandidateBuilder
    builder.candidates = _timed(builder.candidates, spent, "candidates")  # type: ignore[method-assign]
    planning.assemble = _timed(planning.assemble, spent, "assemble")  # type: ignore[assignment]
    marks = [time.process_time()]
    catalog = load_catalog(catalog_dir)
    marks.append(time.process_time())
    workloads = load_workloads(file, catalog)
    marks.append(time.process_time())
    plan = planning.plan_workloads(workloads, catalog)
    marks.append(time.process_time())
    text = dumps_plan(plan)
    marks.append(time.process_time())
    out.write_text(text, encoding="utf-8")
    marks.append(time.process_time())
    planned = marks[3] - marks[2]
    return {
        "workloads": len(workloads.workloads),
        "catalog_cpu_s": round(marks[1] - marks[0], 2),
        "read_cpu_s": round(marks[2] - marks[1], 2),
        "candidates_cpu_s": round(spent["candidates"], 2),
        "solver_cpu_s": round(planned - spent["candidates"] - spent["assemble"], 2),
        "assemble_cpu_s": round(spent["assemble"], 2),
        "dumps_plan_cpu_s": round(marks[4] - marks[3], 2),
        "write_cpu_s": round(marks[5] - marks[4], 2),
        "total_cpu_s": round(marks[5] - start, 2),
        "plan_json_bytes": len(text),
        "plan_json_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "method": plan.solver.method, "gap": str(plan.solver.gap),
    }


def _timed(func: Callable[..., Any], spent: dict[str, float], stage: str) -> Callable[..., Any]:
    """``func``, adding its CPU seconds to ``spent[stage]``."""
    @functools.wraps(func)
    def timed(*args: Any, **kwargs: Any) -> Any:
        begin = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent[stage] += time.process_time() - begin
    return timed


def run_size(n: int, seed: int, catalog_dir: Path, file: Path | None) -> dict[str, Any]:
    """One size in a fresh process (its own imports and memory)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = file
        if spec is None:
            import yaml

            sys.path.insert(0, str(REPO))
            from tests.scaleset import synthetic

            spec = Path(tmp) / f"synthetic-{n}.yaml"
            spec.write_text(yaml.safe_dump(synthetic(n, seed)))
        command = [sys.executable, __file__, "--one", str(spec), "--catalog", str(catalog_dir),
                   "--out", str(Path(tmp) / "plan.json")]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000")
    parser.add_argument("--catalog", default=str(SHARED / "data/skypilot-catalog/v8"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--file", type=Path, help="plan this declaration instead")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(stages(args.one, Path(args.catalog), args.out)))
        return
    sizes = [0] if args.file is not None else [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        print(json.dumps(run_size(n, args.seed, Path(args.catalog), args.file)), flush=True)


if __name__ == "__main__":
    main()
