"""Planner scale benchmark: seeded synthetic workload sets over the full shared catalog.

Prints one JSON object per size (10, 100, 1,000, 5,000 workloads by default):
wall time, peak RSS, plan cost, LP/MIP lower bound, gap, and the cost of a
greedy baseline (each workload alone takes its cheapest feasible offer in
priority order, violations repaired greedily: ``planner.optimize.solve.greedy``).
Quotas and budgets are drawn so that they bind. Each size runs in a fresh
process so peak memory is its own.

    python benchmarks/plan_scale.py [--sizes 10,100,1000,5000] [--catalog DIR]
                                    [--time-limit 50] [--seed 7]

Both gaps (issue 20): ``gap`` / ``gap_all_offers`` is the plan's, its bound over every
feasible offer (column generation, :mod:`planner.optimize.colgen`); ``pruned_gap`` is what
the planner reported before, the same set planned with ``all_offers=False`` (search and
bound over the pruned candidates only), with that plan's cost and placements beside it.
``colgen_cpu_s`` is column generation's CPU time (growing the LP and the plan's bound, its
rounding cuts included: :mod:`planner.optimize.poolcuts`),
``columns_generated`` the options it gave the MILP, ``capped_workloads`` /
``offers_never_priced`` where a shape's cap still applies.

Also reports ``single_workload_cli_s``: the whole ``planner plan`` process for
one workload on the embedded catalog (start-up and catalog load included), and
per size the cost report of the plan: ``planner report plan.json --out
report.html`` as a whole process (``report_wall_s``; ``report_cpu_s`` is its
CPU time, steadier on a shared machine) and the page's size (``report_bytes``);
targets at 5,000 workloads: under 5 s and under 2 MB. ``report_read_cpu_s`` is the part
of that CPU time spent reading plan.json through the strict reader (a fresh process with
the CLI's garbage-collector setting).

``--mix sharing`` draws 35 % of the workloads as shared-GPU requests (notebooks asking
for GPU memory, quarter-A100 embedding services, MIG jobs, hard-isolated half GPUs, T4
and L4 halves) and plans the set twice: as declared (``objective``, ``gap``) and with
every shared request turned into one whole GPU of its type (``whole_gpu_objective``),
the cost before sharing; ``sharing_saving_pct`` compares the two (objective = the pools'
cost as the solver sees it, idle slots included).

``--end-to-end`` measures only what a user waits for: ``planner plan FILE --out plan.json``
as a whole process per size (wall and CPU seconds, the largest process's peak RSS, the
plan's solver status, gap and counts, and a hash of plan.json). With ``--processes
1,2,4`` each size is planned once per count, the CLI's pool sized to it instead of the
cores (issue 22: the same hash for every count).

``--fallbacks N`` gives every team a capacity-fallback policy (``count: N``, 30 %
premium, any scope) and reports, besides the plan's own figures (``wall_s`` includes
choosing the fallbacks), how many workloads got fallbacks, the fallbacks and min-0
pools, the worst-case monthly figure, the CPU time of the fallback step alone
(``fallback_step_cpu_s``), and the same set planned without fallbacks
(``no_fallbacks_wall_s``, ``no_fallbacks_plan_cpu_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GPUPLAN_SHARED", REPO.parent / "shared"))
SHAPES = [("A100:1", 14), ("A100:8", 10), ("H100:8", 6), ("L4:1", 16), ("T4:1", 14),
          ("V100:4", 4), ("A100:2", 6), ("A100-80GB:8", 4), ("T4:4", 4), ("H100:1", 6)]
A100_REGIONS = ["us-central1", "us-east1", "us-west1", "europe-west4", "asia-northeast1"]


# Shared-GPU requests of the sharing mix: resources, and the whole GPU each becomes.
SHARED_SHAPES: list[tuple[dict[str, Any], str, int]] = [
    ({"accelerators": "L4", "gpu": {"memory": "2.5GiB", "isolation": "none"}}, "L4:1", 10),
    ({"accelerators": "L4", "gpu": {"memory": "6GiB", "isolation": "none"}}, "L4:1", 5),
    ({"accelerators": "A100:0.25"}, "A100:1", 8),
    ({"accelerators": "A100", "gpu": {"mig": "1g.5gb"}}, "A100:1", 6),
    ({"accelerators": "A100-80GB", "gpu": {"mig": "1g.10gb"}}, "A100-80GB:1", 3),
    ({"accelerators": "A100", "gpu": {"fraction": 0.5, "isolation": "hard"}}, "A100:1", 4),
    ({"accelerators": "T4:0.5"}, "T4:1", 5),
    ({"accelerators": "L4:0.5", "gpu": {"isolation": "capped"}}, "L4:1", 3),
]
SHARED_SHARE = 0.35


def shared_resources(rng: random.Random) -> tuple[dict[str, Any], str]:
    shapes = [(r, whole) for r, whole, _ in SHARED_SHAPES]
    pick = rng.choices(shapes, [w for _, _, w in SHARED_SHAPES])[0]
    return json.loads(json.dumps(pick[0])), pick[1]


def with_fallbacks(spec: dict[str, Any], count: int) -> dict[str, Any]:
    """``spec`` with every team's fallback policy set (``count`` 0: as it was)."""
    if count:
        for team in spec["teams"].values():
            team["fallbacks"] = {"count": count, "max_premium": "30%"}
    return spec


def synthetic(n: int, seed: int, mix: str = "default", whole: bool = False) -> dict[str, Any]:
    """The seeded workload set; ``mix="sharing"`` makes 35 % of it shared-GPU requests,
    ``whole`` turns each of those into one whole GPU of its type (the no-sharing baseline)."""
    rng = random.Random(seed * 100_003 + n)
    teams = [f"team-{i:02d}" for i in range(max(2, min(20, n // 25 + 2)))]
    names, weights = zip(*SHAPES, strict=True)
    workloads = []
    for i in range(n):
        if mix == "sharing" and rng.random() < SHARED_SHARE:
            resources, whole_gpu = shared_resources(rng)
            kind = rng.choices(["service", "batch"], [1, 1])[0]
            w = {"name": f"w{i:05d}", "team": rng.choice(teams), "kind": kind,
                 "priority": rng.randint(0, 500),
                 "resources": {"accelerators": whole_gpu} if whole else resources}
            if kind != "service":
                w["work"] = {"duration_hours": rng.randint(1, 24),
                             "runs_per_month": rng.randint(1, 30)}
            workloads.append(w)
            continue
        acc = rng.choices(names, weights)[0]
        kind = rng.choices(["training", "batch", "service"], [6, 3, 1])[0]
        w: dict[str, Any] = {
            "name": f"w{i:05d}", "team": rng.choice(teams), "kind": kind,
            "priority": rng.randint(0, 500),
            "resources": {"accelerators": acc,
                          "use_spot": rng.choice([False, "auto", "auto"]) if kind != "service"
                          else False},
        }
        if kind != "service":
            w["work"] = {"duration_hours": rng.randint(1, 72)}
            if acc.endswith(":8") and rng.random() < 0.3:
                w["num_nodes"] = rng.randint(2, 4)
                w["topology"] = {"type": "ddp"}
        workloads.append(w)
    quotas = [{"cloud": "gcp", "region": r, "family": "NVIDIA_A100_GPUS",
               "limit": max(8, n // 10 * 8 // len(A100_REGIONS) // 8 * 8)} for r in A100_REGIONS]
    quotas += [{"cloud": "gcp", "region": r, "family": "NVIDIA_A100_GPUS", "capacity": "spot",
                "limit": max(8, n // 20)} for r in A100_REGIONS]
    quotas.append({"cloud": "aws", "region": "us-east-1", "family": "P",
                   "limit": 96 * max(1, n // 200)})
    budget = max(500, 900 * n // len(teams))
    return {
        "version": 1,
        "teams": {t: {"monthly_budget": str(budget)} for t in teams},
        "workloads": workloads, "quotas": quotas,
    }


def run_one(n: int, seed: int, catalog_dir: str, time_limit: float | None,
            mix: str = "default", fallbacks: int = 0) -> dict[str, Any]:
    import yaml

    from planner.catalog.load import load_catalog
    from planner.optimize.candidates import CandidateBuilder
    from planner.optimize.planning import build_model, plan_workloads
    from planner.optimize.solve import greedy
    from planner.spec.load import parse_workloads

    catalog = load_catalog(catalog_dir)
    ws = parse_workloads(yaml.safe_dump(with_fallbacks(synthetic(n, seed, mix), fallbacks)),
                         f"synthetic-{n}.yaml", catalog)
    colgen_cpu = time_column_generation()
    start, cpu_start = time.perf_counter(), time.process_time()
    plan = plan_workloads(ws, catalog, time_limit=time_limit)
    wall, plan_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    colgen_s = round(sum(colgen_cpu), 3)
    builder = CandidateBuilder(ws, catalog)
    cands = [builder.candidates(w) for w in sorted(ws.workloads, key=lambda w: w.name)]
    model = build_model(ws, cands)
    base = greedy(model)
    base_cost = sum(o.monthly for o in base.chosen.values())
    both = set(base.chosen) & {p.workload for p in plan.placements}
    plan_on_both = sum(float(p.monthly) for p in plan.placements if p.workload in both)
    greedy_on_both = sum(o.monthly for name, o in base.chosen.items() if name in both)
    return {
        "workloads": n, "seed": seed, "wall_s": round(wall, 3),
        "plan_cpu_s": round(plan_cpu, 3),  # steadier than wall time on a shared machine
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_s": round(time.process_time(), 3), "time_limit_s": plan.solver.time_limit_s,
        "method": plan.solver.method, "status": plan.solver.status,
        "placed": len(plan.placements), "unplaced": len(plan.unplaced),
        "plan_cost_monthly": str(plan.totals.monthly),
        "objective": str(plan.solver.objective), "lower_bound": str(plan.solver.lower_bound),
        "gap": str(plan.solver.gap),
        **gap_figures(plan, ws, catalog, time_limit, colgen_s),
        "greedy_cost_monthly": f"{base_cost:.4f}", "greedy_placed": len(base.chosen),
        # Like for like: the workloads both placed, costed by each.
        "plan_cost_on_common": f"{plan_on_both:.4f}", "greedy_cost_on_common": f"{greedy_on_both:.4f}",
        "binding_constraints": len(plan.binding),
        "variables": plan.solver.variables, "constraints": plan.solver.constraints,
        **(sharing_figures(plan, n, seed, catalog, time_limit) if mix == "sharing" else {}),
        **(fallback_figures(plan, n, seed, mix, catalog, time_limit, fallbacks,
                            fallback_step_cpu(ws, builder, catalog, cands, model, base))
           if fallbacks else {}),
        **report_figures(plan),
    }


def time_column_generation() -> list[float]:
    """Wrap column generation's two steps (growing the LP and the plan's bound) so their
    CPU seconds add up in the returned list (this process only)."""
    from planner.optimize import colgen

    spent: list[float] = []

    def timed(method: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent.append(time.process_time() - start)
        return run

    colgen.ColumnGeneration.grow = timed(colgen.ColumnGeneration.grow)  # type: ignore[method-assign]
    colgen.ColumnGeneration.placed_bound = timed(  # type: ignore[method-assign]
        colgen.ColumnGeneration.placed_bound)
    colgen.ColumnGeneration.rounding_bound = timed(  # type: ignore[method-assign]
        colgen.ColumnGeneration.rounding_bound)
    return spent


def gap_figures(plan: Any, ws: Any, catalog: Any, time_limit: float | None,
                colgen_s: float) -> dict[str, Any]:
    """Both gaps (issue 20): the plan's, over all offers, and the same set planned as before
    column generation (``all_offers=False``: the search and bound over the pruned
    candidates), with that plan's cost; column generation's CPU seconds."""
    from planner.optimize.planning import plan_workloads

    start = time.process_time()
    pruned = plan_workloads(ws, catalog, time_limit=time_limit, all_offers=False)
    return {
        "bound_scope": plan.solver.bound_scope, "gap_all_offers": str(plan.solver.gap),
        "columns_generated": plan.solver.columns_generated,
        "capped_workloads": len(plan.solver.capped),
        "offers_never_priced": sum(c.left_out for c in plan.solver.capped),
        "colgen_cpu_s": colgen_s,
        "pruned_gap": str(pruned.solver.gap), "pruned_lower_bound": str(pruned.solver.lower_bound),
        "pruned_plan_cost_monthly": str(pruned.totals.monthly),
        "pruned_placed": len(pruned.placements),
        "pruned_plan_cpu_s": round(time.process_time() - start, 3),
    }


def sharing_figures(plan: Any, n: int, seed: int, catalog: Any,
                    time_limit: float | None) -> dict[str, Any]:
    """The sharing mix against the same set on whole GPUs (see the module docstring)."""
    import yaml

    from planner.optimize.planning import plan_workloads
    from planner.spec.load import parse_workloads

    whole = parse_workloads(yaml.safe_dump(synthetic(n, seed, "sharing", whole=True)),
                            f"synthetic-{n}-whole.yaml", catalog)
    base = plan_workloads(whole, catalog, time_limit=time_limit)
    shared = sum(1 for w in plan.spec["workloads"]
                 if (w["resources"].get("gpu") or ":0." in str(w["resources"]["accelerators"])))
    saving = (1 - float(plan.solver.objective) / float(base.solver.objective)) * 100
    return {
        "mix": "sharing", "shared_workloads": shared,
        "shared_pools": sum(1 for p in plan.pools if p.sharing is not None),
        "whole_gpu_objective": str(base.solver.objective), "whole_gpu_gap": str(base.solver.gap),
        "whole_gpu_placed": len(base.placements),
        "sharing_saving_pct": round(saving, 2),
    }


def fallback_step_cpu(ws: Any, builder: Any, catalog: Any, cands: Any, model: Any,
                      sol: Any) -> float:
    """CPU seconds of the post-solve fallback step alone, on the greedy solution (the
    planner runs it on the MILP's; the work is the same kind and size)."""
    from planner.optimize.planning import choose_fallbacks

    start = time.process_time()
    choose_fallbacks(ws, builder, catalog, cands, model, sol)
    return round(time.process_time() - start, 3)


def fallback_figures(plan: Any, n: int, seed: int, mix: str, catalog: Any,
                     time_limit: float | None, count: int, step_cpu: float) -> dict[str, Any]:
    """What the fallbacks add: counts, the worst case, and the set planned without them."""
    import yaml

    from planner.optimize.planning import plan_workloads
    from planner.spec.load import parse_workloads

    ws = parse_workloads(yaml.safe_dump(synthetic(n, seed, mix)), f"synthetic-{n}-nofb.yaml",
                         catalog)
    start, cpu_start = time.perf_counter(), time.process_time()
    plan_workloads(ws, catalog, time_limit=time_limit)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "fallbacks": count,
        "with_fallbacks": sum(1 for p in plan.placements if p.fallbacks),
        "fallbacks_total": sum(len(p.fallbacks) for p in plan.placements),
        "with_fewer": sum(1 for p in plan.placements if p.fallback_note),
        "fallback_pools": sum(1 for p in plan.pools if p.fallback_for and not p.workloads),
        "worst_case_monthly": str(plan.worst_case.monthly) if plan.worst_case else None,
        "budget_warnings": len(plan.warnings),
        "fallback_step_cpu_s": step_cpu,
        "no_fallbacks_wall_s": round(wall, 3), "no_fallbacks_plan_cpu_s": round(cpu, 3),
    }


def report_figures(plan: Any) -> dict[str, Any]:
    """``planner report`` on ``plan`` as a whole process: wall and CPU seconds, page bytes."""
    from planner.plan import dumps_plan

    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "plan.json", Path(tmp) / "report.html"
        path.write_text(dumps_plan(plan))
        planner = Path(sys.executable).with_name("planner")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([str(planner), "report", str(path), "--out", str(out)], check=True,
                       capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"plan_json_bytes": path.stat().st_size, "report_wall_s": round(wall, 3),
                "report_cpu_s": round(cpu, 3), "report_read_cpu_s": read_cpu(path),
                "report_bytes": out.stat().st_size}


READ = """
import gc, sys, time
from planner.cli.app import GC_THRESHOLD
from planner.plan import read_plan
gc.set_threshold(*GC_THRESHOLD)
start = time.process_time()
read_plan(sys.argv[1])
print(time.process_time() - start)
"""


def read_cpu(path: Path) -> float:
    """CPU seconds of :func:`planner.plan.read_plan` on ``path``, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", READ, str(path)], check=True,
                         capture_output=True, text=True)
    return round(float(out.stdout), 3)


PLAN_WITH_PROCESSES = (  # the CLI with its process pool sized to argv[1], not the cores
    "import sys\n"
    "from planner.cli.app import main\n"
    "import planner.cli.plan_cmd as plan_cmd\n"
    "plan_cmd.cores = lambda: int(sys.argv[1])\n"
    "main(sys.argv[2:])\n")


def end_to_end(n: int, seed: int, catalog_dir: str, processes: int | None = None) -> dict[str, Any]:
    """``planner plan FILE --out plan.json`` as a whole process (start-up, reading,
    candidates, solving on a pool sized to the cores, or to ``processes``, writing): wall
    and CPU seconds (the process and its pool), the peak RSS of its largest process, and
    the plan's figures."""
    import hashlib

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        spec, out = Path(tmp) / f"synthetic-{n}.yaml", Path(tmp) / "plan.json"
        spec.write_text(yaml.safe_dump(synthetic(n, seed)))
        planner = Path(sys.executable).with_name("planner")
        args = ["--catalog", catalog_dir, "plan", str(spec), "--out", str(out), "--format",
                "json", "--quiet", "--max-catalog-age-days", "100000"]
        command = ([str(planner)] if processes is None
                   else [sys.executable, "-c", PLAN_WITH_PROCESSES, str(processes)])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command + args, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        plan = json.loads(out.read_text())
        solver = plan["solver"]
        return {
            "workloads": n, "seed": seed, "processes": processes or "cores",
            "end_to_end_wall_s": round(wall, 3),
            "end_to_end_cpu_s": round((after.ru_utime - before.ru_utime)
                                      + (after.ru_stime - before.ru_stime), 3),
            "peak_rss_mib_largest_process": round(after.ru_maxrss / 1024, 1),
            "method": solver["method"], "status": solver["status"], "gap": solver["gap"],
            "lower_bound": solver["lower_bound"], "monthly": plan["totals"]["monthly"],
            "placed": len(plan["placements"]), "unplaced": len(plan["unplaced"]),
            "candidates": solver["candidates"],
            "plan_json_sha256": hashlib.sha256(out.read_bytes()).hexdigest()[:16],
        }


def single_workload_cli() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "one.yaml"
        spec.write_text(json.dumps({"teams": {"ml": {}}, "workloads": [
            {"name": "one", "team": "ml", "resources": {"accelerators": "A100:8"},
             "work": {"duration_hours": 10}}]}))
        planner = Path(sys.executable).with_name("planner")
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([str(planner), "plan", str(spec), "--format", "json"], check=True,
                           capture_output=True)
            runs.append(time.perf_counter() - start)
        return round(sorted(runs)[len(runs) // 2], 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--catalog", default=str(SHARED / "data/skypilot-catalog/v8"))
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds for the MILP (default: the planner's own default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mix", choices=["default", "sharing"], default="default",
                        help="sharing: 35%% shared-GPU requests, compared with whole GPUs")
    parser.add_argument("--fallbacks", type=int, default=0,
                        help="every team keeps this many capacity fallbacks (30%% premium)")
    parser.add_argument("--end-to-end", action="store_true",
                        help="only planner plan FILE --out plan.json as a whole process per size")
    parser.add_argument("--processes", default=None,
                        help="with --end-to-end: plan each size once per count, e.g. 1,2,4")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.end_to_end and args.one is not None:
        processes = None if args.processes is None else int(args.processes)
        print(json.dumps(end_to_end(args.one, args.seed, args.catalog, processes)))
        return
    if args.end_to_end:  # each run in a fresh process: RUSAGE_CHILDREN's peak is its own
        counts = [None] if args.processes is None else args.processes.split(",")
        for n in [int(s) for s in args.sizes.split(",")]:
            for count in counts:
                more = [] if count is None else ["--processes", count]
                out = subprocess.run([sys.executable, __file__, "--one", str(n), "--end-to-end",
                                      "--seed", str(args.seed), "--catalog", args.catalog, *more],
                                     check=True, capture_output=True, text=True)
                print(out.stdout.strip(), flush=True)
        return
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.seed, args.catalog, args.time_limit, args.mix,
                                 args.fallbacks)))
        return
    print(json.dumps({"single_workload_cli_s": single_workload_cli()}), flush=True)
    for n in [int(s) for s in args.sizes.split(",")]:
        limit = [] if args.time_limit is None else ["--time-limit", str(args.time_limit)]
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed),
             "--catalog", args.catalog, "--mix", args.mix, "--fallbacks", str(args.fallbacks),
             *limit],
            check=True, capture_output=True, text=True)
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
