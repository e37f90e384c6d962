"""Re-planning benchmark: how many workloads a small change moves, with and without ``--base``.

Base sets are ``plan_scale.py``'s (seed 7, full shared catalog). Each is planned
once (the base plan), then perturbed four ways and planned again, afresh and
against the base plan (``plan --base``, default ``stability`` policy: restart
cost 0.5 h, min saving 5 %):

* ``add``: one L4:1 training job added;
* ``remove``: one workload (the 18th by name) removed;
* ``price``: every offer in gcp/us-central1 10 % cheaper (same catalog source);
* ``quota``: the quota domain holding most of the base plan's workloads (cloud, region,
  family, capacity type) limited to half of what the base plan uses there, so the cut
  binds: at least one of its pools no longer fits.

Prints one JSON object per size and perturbation:

* ``moves_without_base`` / ``moves_with_base``: workloads placed on both sides whose
  pool changed, planned afresh / against the base;
* from the plan's ``stability.moves``: ``forced_moves`` (the workload could not stay: its
  base pool is no longer an option, or staying breaks a row such as the cut quota), and of
  the others ``moves_clearing_price`` (saving >= ``move_price``, the
  move cost plus ``min_saving``) and ``moves_not_clearing_price`` (the solver made them
  to make room or to fit the rest, e.g. under a quota; listed with saving and price in
  ``moves_not_clearing``); ``under_min_saving``: moves saving less than ``min_saving``
  alone;
* ``kept``, ``saving_given_up_monthly`` (the plan's), ``stability_cost_monthly`` (plan
  cost against the base minus plan cost afresh), placed counts, and the wall and CPU
  time of each plan (``*_s``, ``*_cpu_s``);
* the quota row also: ``quota_domain`` (the cut), ``quota_base_use`` (what the base plan
  uses there, in the quota's unit: GPUs on GCP, else vCPUs), ``quota_limit``, what each
  new plan uses there (``quota_use_without_base`` / ``quota_use_with_base``),
  ``moves_from_cut_quota`` (moves out of the domain's pools) and
  ``moves_not_clearing_outside_cut_quota`` (moves elsewhere that do not clear their price).

Targets (issue 14): ``add`` and ``remove`` move no other workload; ``price`` moves only
where the saving clears the price (``moves_not_clearing_price`` 0); ``quota`` moves only
what no longer fits plus what that forces (``moves_not_clearing_outside_cut_quota`` 0).
Moves and dollars are deterministic; times depend on the machine's load.

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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GPUPLAN_SHARED", REPO.parent / "shared"))
PRICE_REGION = ("gcp", "us-central1")
CENT = Decimal("0.0001")  # saving and move_price are each rounded to 4 places
NEW_JOB = {"name": "zz-added", "team": "team-00", "kind": "training", "priority": 100,
           "resources": {"accelerators": "L4:1", "use_spot": False},
           "work": {"duration_hours": 10}}


def perturbations(data: dict[str, Any], cut: Cut) -> dict[str, dict[str, Any]]:
    """The changed declarations (the price change is made on the catalog instead)."""
    added = copy.deepcopy(data)
    added["workloads"].append(dict(NEW_JOB, team=data["workloads"][0]["team"]))
    removed = copy.deepcopy(data)
    removed["workloads"] = sorted(removed["workloads"], key=lambda w: w["name"])
    del removed["workloads"][17]
    return {"add": added, "remove": removed, "price": data, "quota": cut.applied(data)}


Domain = tuple[str, str, str, str]


def pool_domain(pool: Any) -> Domain:
    """The quota a plan's pool draws on (cloud, region, normalized family, capacity type)."""
    from planner.optimize.candidates import quota_key_of

    return quota_key_of(pool.cloud, pool.region, pool.quota_family, pool.capacity)


def quota_use(plan: Any) -> dict[Domain, float]:
    """Quota units each domain's pools use at their peak node count (as the solver counts)."""
    from planner.catalog.quotafamily import quota_units_per_node

    use: dict[Domain, float] = {}
    for pool in plan.pools:
        if pool.existing_cluster:
            continue  # an existing cluster's GPUs, not a cloud quota
        units = quota_units_per_node(pool.cloud, pool.vcpus, pool.accelerator_count)
        use[pool_domain(pool)] = use.get(pool_domain(pool), 0.0) + pool.nodes * units
    return use


@dataclass(frozen=True)
class Cut:
    """The quota cut: ``domain`` limited to ``limit``, half of ``base_use``."""

    domain: Domain
    family: str  # as the base plan's pools name it (the declaration's spelling)
    base_use: float
    limit: int

    def applied(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with this domain's quota set to ``limit`` (added if it had none)."""
        from planner.optimize.candidates import quota_key_of

        cut = copy.deepcopy(data)
        same = [q for q in cut["quotas"] if quota_key_of(
            q["cloud"], q["region"], q["family"], q.get("capacity", "on-demand")) == self.domain]
        for q in same:
            q["limit"] = self.limit
        if not same:
            cloud, region, _, capacity = self.domain
            cut["quotas"].append({"cloud": cloud, "region": region, "family": self.family,
                                  "capacity": capacity, "limit": self.limit})
        return cut

    @property
    def label(self) -> str:
        return "/".join(self.domain)


def binding_cut(base: Any) -> Cut:
    """Half the quota the base plan uses in the domain holding most of its workloads
    (ties: more units used, then the domain's name), so the cut must move some of them."""
    workloads: dict[Domain, int] = {}
    family: dict[Domain, str] = {}
    for pool in base.pools:
        if not pool.existing_cluster:
            workloads[pool_domain(pool)] = workloads.get(pool_domain(pool), 0) + len(pool.workloads)
            family.setdefault(pool_domain(pool), pool.quota_family)
    use = quota_use(base)
    domain = max(workloads, key=lambda d: (workloads[d], use[d], d))
    return Cut(domain, family[domain], use[domain], int(use[domain] // 2))


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
    cut = binding_cut(base)
    rows = []
    for name, changed in perturbations(data, cut).items():
        cat = cheaper_region(catalog, Decimal("0.9")) if name == "price" else catalog
        text = yaml.safe_dump(changed)
        fresh, fresh_s = timed_plan(text, cat)
        anchored, anchored_s = timed_plan(text, cat, base)
        assert anchored.stability is not None
        moves = anchored.stability.moves
        priced = [m for m in moves if not m.forced]
        short = [m for m in priced if m.saving + CENT < m.move_price]
        under = [m for m in priced if m.saving < _min_saving(anchored, base, m.workload)]
        row = {
            "workloads": n, "seed": seed, "perturbation": name,
            "moves_without_base": len(moved(base, fresh)),
            "moves_with_base": len(moved(base, anchored)),
            "forced_moves": sum(m.forced for m in moves),
            "moves_clearing_price": len(priced) - len(short),
            "moves_not_clearing_price": len(short),
            "moves_not_clearing": [{"workload": m.workload, "saving": str(m.saving),
                                    "move_price": str(m.move_price)} for m in short],
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
        }
        if name == "quota":
            row.update(quota_figures(cut, base, fresh, anchored, short))
        rows.append(row)
    return rows


def quota_figures(cut: Cut, base: Any, fresh: Any, anchored: Any,
                  short: list[Any]) -> dict[str, Any]:
    """Whether the cut bound, and which moves it caused: out of the cut domain's pools, and
    those elsewhere that do not clear their price (target 0)."""
    cut_pools = {p.id for p in base.pools if not p.existing_cluster and pool_domain(p) == cut.domain}
    return {
        "quota_domain": cut.label, "quota_base_use": cut.base_use, "quota_limit": cut.limit,
        "quota_use_without_base": quota_use(fresh).get(cut.domain, 0.0),
        "quota_use_with_base": quota_use(anchored).get(cut.domain, 0.0),
        "moves_from_cut_quota": sum(m.from_pool in cut_pools for m in anchored.stability.moves),
        "moves_not_clearing_outside_cut_quota": sum(m.from_pool not in cut_pools for m in short),
    }


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
