"""Re-planning benchmark: how many workloads a small change moves, with and without ``--base``.

Base sets are ``plan_scale.py``'s (seed 7, full shared catalog). Each is planned
once (the base plan), then perturbed four ways and planned again, afresh and
against the base plan (``plan --base``, default ``stability`` policy: restart
cost 0.5 h, min saving 5 %):

* ``add``: one L4:1 training job added;
* ``remove``: one workload (the 18th by name) removed;
* ``price``: every offer in gcp/us-central1 10 % cheaper (same catalog source);
* ``quota``: the gcp/us-central1 on-demand A100 quota halved.

Prints one JSON object per size and perturbation: ``moves`` (workloads placed on
both sides whose pool changed) without and with the base, how many of the
moves against the base were forced (their base pool is no longer an option),
moves whose own saving is below ``min_saving`` (``under_min_saving``), moves out
of the cut quota (``quota``), the dollars a month given up for stability (plan
cost against the base minus plan cost afresh) and the wall and CPU time of each plan
(``*_s``, ``*_cpu_s``). Moves and dollars are deterministic; times depend on the
machine's load.

    python benchmarks/replan.py [--sizes 200,1000,5000] [--catalog DIR] [--seed 7]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GPUPLAN_SHARED", REPO.parent / "shared"))
PRICE_REGION = ("gcp", "us-central1")
CUT_QUOTA = ("gcp", "us-central1", "NVIDIA_A100_GPUS", "on-demand")
NEW_JOB = {"name": "zz-added", "team": "team-00", "kind": "training", "priority": 100,
           "resources": {"accelerators": "L4:1", "use_spot": False},
           "work": {"duration_hours": 10}}


def perturbations(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The changed declarations (the price change is made on the catalog instead)."""
    added = copy.deepcopy(data)
    added["workloads"].append(dict(NEW_JOB, team=data["workloads"][0]["team"]))
    removed = copy.deepcopy(data)
    removed["workloads"] = sorted(removed["workloads"], key=lambda w: w["name"])
    del removed["workloads"][17]
    cut = copy.deepcopy(data)
    for q in cut["quotas"]:
        if (q["cloud"], q["region"], q["family"], q.get("capacity", "on-demand")) == CUT_QUOTA:
            q["limit"] = q["limit"] // 16 * 8
    return {"add": added, "remove": removed, "price": data, "quota": cut}


def cheaper_region(catalog: Any, factor: Decimal) -> Any:
    """``catalog`` with every price in PRICE_REGION times ``factor`` (same source and date)."""
    from planner.catalog.model import Catalog, Offer

    def scaled(o: Offer) -> Offer:
        if (o.cloud, o.region) != PRICE_REGION:
            return o
        return Offer(o.cloud, o.region, o.zone, o.instance_type, o.accelerator,
                     o.accelerator_count, o.accelerator_memory_gib, o.vcpus, o.memory_gib,
                     o.price * factor, o.spot_price * factor if o.spot_price else None,
                     o.quota_family, o.interruption_bucket, o.arch)

    return Catalog(catalog.meta, tuple(scaled(o) for o in catalog.offers))


def moved(base: Any, new: Any) -> list[str]:
    before = {p.workload: p.pool for p in base.placements}
    return sorted(p.workload for p in new.placements
                  if p.workload in before and before[p.workload] != p.pool)


def timed_plan(text: str, catalog: Any, base: Any = None) -> tuple[Any, dict[str, float]]:
    """The plan, and its wall and CPU seconds (CPU is steadier on a shared machine)."""
    from planner.optimize.planning import plan_workloads
    from planner.spec.load import parse_workloads

    ws = parse_workloads(text, "workloads.yaml", catalog)
    start, cpu = time.perf_counter(), time.process_time()
    plan = plan_workloads(ws, catalog, base=base)
    return plan, {"s": round(time.perf_counter() - start, 2),
                  "cpu_s": round(time.process_time() - cpu, 2)}


def run_one(n: int, seed: int, catalog_dir: str) -> list[dict[str, Any]]:
    import yaml

    from planner.catalog.load import load_catalog

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from plan_scale import synthetic

    catalog = load_catalog(catalog_dir)
    data = synthetic(n, seed)
    base, base_s = timed_plan(yaml.safe_dump(data), catalog)
    rows = []
    for name, changed in perturbations(data).items():
        cat = cheaper_region(catalog, Decimal("0.9")) if name == "price" else catalog
        text = yaml.safe_dump(changed)
        fresh, fresh_s = timed_plan(text, cat)
        anchored, anchored_s = timed_plan(text, cat, base)
        assert anchored.stability is not None
        moves = anchored.stability.moves
        under = [m for m in moves
                 if not m.forced and m.saving < _min_saving(anchored, base, m.workload)]
        cut_pools = {p.id for p in base.pools if (p.cloud, p.region, p.capacity) ==
                     (CUT_QUOTA[0], CUT_QUOTA[1], CUT_QUOTA[3]) and p.accelerator in
                     ("A100", "A100-80GB")}
        rows.append({
            "workloads": n, "seed": seed, "perturbation": name,
            "moves_without_base": len(moved(base, fresh)),
            "moves_with_base": len(moved(base, anchored)),
            "forced_moves": sum(m.forced for m in moves),
            "moves_from_cut_quota": sum(m.from_pool in cut_pools for m in moves),
            "under_min_saving": len(under),
            "kept": len(anchored.stability.kept),
            "saving_given_up_monthly": str(anchored.stability.saving_given_up),
            "stability_cost_monthly": str(anchored.totals.monthly - fresh.totals.monthly),
            "placed_without_base": len(fresh.placements),
            "placed_with_base": len(anchored.placements),
            **{f"{side}_{k}": v for side, t in (("base_plan", base_s), ("without_base", fresh_s),
                                                ("with_base", anchored_s)) for k, v in t.items()},
            "status_with_base": anchored.solver.status,
            "cut_by_time_limit": anchored.solver.cut_by_time_limit or fresh.solver.cut_by_time_limit,
        })
    return rows


def _min_saving(plan: Any, base: Any, workload: str) -> Decimal:
    """The min_saving part of a move of ``workload`` (the set's policy, 5 % by default, of
    what it cost in the base plan)."""
    from planner.spec.model import parse_saving

    spec = next(w for w in plan.spec["workloads"] if w["name"] == workload)
    own = (spec.get("stability") or {}).get("min_saving")
    kind, value = parse_saving(own or plan.spec["stability"]["min_saving"])
    if kind == "usd":
        return value
    staying = next(p.monthly for p in base.placements if p.workload == workload)
    return value / 100 * staying


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000,5000")
    parser.add_argument("--catalog", default=str(SHARED / "data/skypilot-catalog/v8"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        for row in run_one(args.one, args.seed, args.catalog):
            print(json.dumps(row), flush=True)
        return
    for n in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed),
                              "--catalog", args.catalog], check=True, capture_output=True,
                             text=True)
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
