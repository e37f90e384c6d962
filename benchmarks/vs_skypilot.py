"""gpuplan against SkyPilot's optimizer, task by task, on the same catalog.

For each task of :func:`tasks` (63 one-node tasks: GPU counts from 1 to 8 of twelve accelerators,
with and without a cloud, spot or on-demand, some with ``cpus``; and CPU-only tasks),
SkyPilot's own optimizer (``sky.optimizer.Optimizer.optimize``, minimise cost) and
gpuplan's planner (``plan_workloads``) each pick a machine from the same SkyPilot v8
catalog directory (default: the shared one). Both picks are priced from that catalog
($/h of the node, spot price where spot), so the figures compare choices, not price
sources. The report counts where gpuplan's pick is cheaper, equal or dearer, gives the
reason for every difference, and checks SkyPilot's pick against gpuplan's cloud rules
(:mod:`planner.catalog.machines`, :mod:`planner.catalog.sanity`):

* **host per GPU**: with no ``cpus``/``memory`` asked, the node has at least the default
  host per GPU (4 vCPUs / 15 GiB per T4, 5 / 48 per V100, ...);
* **arch**: x86_64 (the default image), unless asked;
* **burstable**: no AWS t*, Azure B*, GCP e2-micro/small/medium, f1, g1 family unless asked;
* **flagged price**: no row the price sanity check flags (e.g. a price under 40 % of the
  instance type's median across regions).

SkyPilot is an optional extra (``pip install -e '.[skypilot]'``, about 94 packages), never
a runtime dependency; it may live in another interpreter (``--sky-python``): the
SkyPilot half runs in a child process (``--sky-worker``) that reads the tasks as JSON
on stdin and writes its picks as JSON. It runs offline: the child's ``HOME`` is a temporary
directory holding a copy of the catalog where SkyPilot looks for it
(``~/.sky/catalogs/v8``; present, so nothing is downloaded), and the enabled clouds are set
to AWS, GCP and Azure (SkyPilot otherwise asks each cloud's credentials, which a benchmark
has none of); usage collection is off.

    python benchmarks/vs_skypilot.py [--catalog DIR] [--sky-python PATH] [--out FILE]

Prints one JSON object: counts, violations and every task's two picks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GPUPLAN_SHARED", REPO.parent / "shared"))
CATALOG = SHARED / "data" / "skypilot-catalog" / "v8"
CLOUDS = ("aws", "gcp", "azure")

GPU_REQUESTS = ["T4:1", "T4:2", "T4:4", "V100:1", "V100:4", "V100:8", "A100:1", "A100:8",
                "A100-80GB:8", "H100:8", "L4:1", "A10G:1"]
CPU_REQUESTS = [("2+", None), ("4+", None), ("8+", None), ("16+", None), ("32+", None),
                ("4+", "32+"), ("8+", "64+"), ("2", None)]


def tasks() -> list[dict[str, Any]]:
    """The task set: for each GPU request, any cloud on-demand, any cloud spot, one cloud
    in turn, and with ``cpus: 8+`` on-demand (48 tasks); CPU-only requests on any cloud,
    spot and on one cloud (14 tasks). Each is ``{name, accelerators, cloud, cpus, memory,
    use_spot}``."""
    out: list[dict[str, Any]] = []

    def add(accelerators: str | None, cloud: str | None = None, cpus: str | None = None,
            memory: str | None = None, spot: bool = False) -> None:
        name = "-".join(str(p) for p in (accelerators or "cpu", cloud or "any", cpus or "",
                                          memory or "", "spot" if spot else "od") if p)
        out.append({"name": name.lower().replace(":", "x").replace("+", "p"),
                    "accelerators": accelerators, "cloud": cloud, "cpus": cpus,
                    "memory": memory, "use_spot": spot})

    for i, acc in enumerate(GPU_REQUESTS):
        add(acc)
        add(acc, spot=True)
        add(acc, cloud=CLOUDS[i % 3])
        add(acc, cpus="8+")
    for i, (cpus, memory) in enumerate(CPU_REQUESTS):
        add(None, cpus=cpus, memory=memory)
        if i % 2 == 0:
            add(None, cpus=cpus, memory=memory, spot=True)
        if i % 3 == 0:
            add(None, cloud=CLOUDS[i // 3 % 3], cpus=cpus, memory=memory)
    return out


# -- the SkyPilot half (child process) ----------------------------------------
def sky_worker() -> None:
    """Read tasks on stdin, optimize each with SkyPilot, write the picks on stdout."""
    request = json.load(sys.stdin)
    import sky
    from sky import check as sky_check
    from sky import clouds, exceptions, optimizer
    from sky.utils import common

    enabled = [clouds.AWS(), clouds.GCP(), clouds.Azure()]

    def enabled_clouds(*_: object, **__: object) -> list[object]:
        return list(enabled)

    sky_check.get_cached_enabled_clouds_or_refresh = enabled_clouds
    optimizer.sky_check.get_cached_enabled_clouds_or_refresh = enabled_clouds  # type: ignore[attr-defined]
    picks = []
    for t in request["tasks"]:
        resources = sky.Resources(
            infra=t["cloud"], accelerators=t["accelerators"], cpus=t["cpus"],
            memory=t["memory"], use_spot=t["use_spot"])  # the cloud by name, as in YAML
        with sky.Dag() as dag:
            task = sky.Task(name=t["name"], run="true")
            task.set_resources(resources)
        try:
            optimizer.Optimizer.optimize(dag, minimize=common.OptimizeTarget.COST, quiet=True)
        except exceptions.ResourcesUnavailableError as exc:
            picks.append({"name": t["name"], "error": str(exc).splitlines()[0][:300]})
            continue
        best = dag.tasks[0].best_resources
        accs = best.accelerators or {}
        picks.append({
            "name": t["name"], "cloud": str(best.cloud).lower(), "region": best.region,
            "zone": best.zone, "instance_type": best.instance_type,
            "accelerator": next(iter(accs), None),
            "accelerator_count": float(next(iter(accs.values()), 0)),
            "use_spot": bool(best.use_spot),
            "sky_hourly": round(float(best.get_cost(3600)), 6)})
    json.dump({"version": sky.__version__, "picks": picks}, sys.stdout)


def run_skypilot(task_list: list[dict[str, Any]], catalog: Path, python: str) -> dict[str, Any]:
    """SkyPilot's picks, from a child process whose HOME holds a copy of ``catalog``."""
    with tempfile.TemporaryDirectory() as home:
        shutil.copytree(catalog, Path(home, ".sky", "catalogs", "v8"))
        env = {**os.environ, "HOME": home, "SKYPILOT_DISABLE_USAGE_COLLECTION": "1",
               "SKYPILOT_DEBUG": "0"}
        done = subprocess.run([python, __file__, "--sky-worker"], input=json.dumps(
            {"tasks": task_list}), capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"SkyPilot worker failed ({done.returncode}):\n{done.stderr[-3000:]}")
    text = done.stdout
    return dict(json.loads(text[text.index('{"version"'):]))


# -- the gpuplan half -----------------------------------------------------------
def run_gpuplan(task_list: list[dict[str, Any]], catalog: Path) -> dict[str, dict[str, Any]]:
    """gpuplan's pick per task: one batch workload of one hour on the catalog."""
    from planner.catalog.load import load_catalog
    from planner.optimize.planning import plan_workloads
    from planner.spec.model import WorkloadSet

    cat = load_catalog(catalog)
    out: dict[str, dict[str, Any]] = {}
    for t in task_list:
        resources: dict[str, Any] = {"use_spot": t["use_spot"]}
        for key in ("accelerators", "cloud", "cpus", "memory"):
            if t[key] is not None:
                resources[key] = t[key]
        ws = WorkloadSet.model_validate({"teams": {"bench": {}}, "workloads": [{
            "name": t["name"], "team": "bench", "kind": "batch", "resources": resources,
            "work": {"duration_hours": 1}}]})
        plan = plan_workloads(ws, cat, time_limit=10)
        if not plan.placements:
            reasons = "; ".join(r.detail for r in plan.unplaced[0].reasons[:3])
            out[t["name"]] = {"error": reasons}
            continue
        (p,) = plan.placements
        out[t["name"]] = {
            "cloud": p.cloud, "region": p.region, "zone": p.zone,
            "instance_type": p.instance_type, "accelerator": p.accelerator,
            "accelerator_count": plan.pool(p.pool).accelerator_count,
            "use_spot": p.capacity == "spot", "hourly": str(plan.totals.hourly),
            "host": p.host.model_dump(mode="json")}
    return out


# -- comparing -----------------------------------------------------------------
def catalog_row(cat: Any, pick: dict[str, Any]) -> Any:
    """The catalog offer of a pick (its zone where the catalog has zones, else the region's
    cheapest row of that instance type and accelerator)."""
    rows = [o for o in cat.offers_for(pick["accelerator"])
            if (o.cloud, o.region, o.instance_type) == (pick["cloud"], pick["region"],
                                                          pick["instance_type"])
            and (pick["accelerator"] is None or o.accelerator_count == pick["accelerator_count"])]
    zoned = [o for o in rows if o.zone == pick["zone"]]
    rows = zoned or rows
    if not rows:
        return None
    key = (lambda o: o.spot_price or o.price) if pick["use_spot"] else (lambda o: o.price)
    return min(rows, key=lambda o: (key(o), o.key))


def rule_violations(cat: Any, task: dict[str, Any], offer: Any, spot: bool) -> list[str]:
    """gpuplan's cloud rules that a pick on ``offer`` breaks for ``task``."""
    from planner.catalog.machines import default_host, is_burstable

    out = []
    host = default_host(offer.accelerator, float(task["accelerators"].split(":")[1])) \
        if task["accelerators"] else None
    if host and task["cpus"] is None and offer.vcpus < host[0]:
        out.append(f"host per GPU: {offer.vcpus:g} vCPUs for {task['accelerators']} "
                   f"(default host {host[0]:g}+, no cpus asked)")
    if host and task["memory"] is None and offer.memory_gib < host[1]:
        out.append(f"host per GPU: {offer.memory_gib:g} GiB for {task['accelerators']} "
                   f"(default host {host[1]:g}+ GiB, no memory asked)")
    if offer.arch != "x86_64":
        out.append(f"arch: {offer.arch}")
    if is_burstable(offer.cloud, offer.instance_type):
        out.append("burstable family")
    if (offer, spot) in cat.price_flags(offer.accelerator):
        price = offer.spot_price if spot else offer.price
        out.append(f"flagged price: ${price}/h")
    return out


def node_price(offer: Any, spot: bool) -> Decimal:
    return Decimal(offer.spot_price if spot and offer.spot_price is not None else offer.price)


def compare(task_list: list[dict[str, Any]], sky: dict[str, Any], ours: dict[str, dict[str, Any]],
            catalog: Path) -> dict[str, Any]:
    from planner.catalog.load import load_catalog

    cat = load_catalog(catalog)
    by_name = {p["name"]: p for p in sky["picks"]}
    rows, counts, violations = [], {"cheaper": 0, "equal": 0, "dearer": 0, "only_ours": 0,
                                    "only_skypilot": 0, "neither": 0}, []
    for t in task_list:
        s, g = by_name[t["name"]], ours[t["name"]]
        row: dict[str, Any] = {"task": t, "skypilot": s, "gpuplan": g}
        offer = None if "error" in s else catalog_row(cat, s)
        if offer is not None:
            row["skypilot_catalog_hourly"] = str(node_price(offer, s["use_spot"]))
            broken = rule_violations(cat, t, offer, s["use_spot"])
            if broken:
                row["skypilot_violates"] = broken
                violations.append({"task": t["name"], "pick": offer.key, "rules": broken})
        if "error" in s or "error" in g:
            verdict = ("neither" if "error" in s and "error" in g else
                       "only_ours" if "error" in s else "only_skypilot")
        else:
            mine, theirs = Decimal(g["hourly"]), Decimal(row["skypilot_catalog_hourly"])
            verdict = ("cheaper" if mine < theirs - Decimal("0.0001") else
                       "dearer" if mine > theirs + Decimal("0.0001") else "equal")
            row["delta_hourly"] = str(mine - theirs)
        counts[verdict] += 1
        row["verdict"] = verdict
        if verdict != "equal":
            row["reason"] = reason(cat, t, row, verdict)
        rows.append(row)
    return {"skypilot_version": sky["version"], "catalog": str(catalog), "tasks": len(rows),
            "counts": counts, "skypilot_rule_violations": violations, "rows": rows}


def reason(cat: Any, task: dict[str, Any], row: dict[str, Any], verdict: str) -> str:
    """Why the two picks differ, from the rules and the catalog."""
    s, g = row["skypilot"], row["gpuplan"]
    if verdict == "only_ours":
        ours = catalog_row(cat, g)
        whole = (f"; gpuplan takes {ours.accelerator_count:g}-GPU {ours.key} and pays the "
                 f"whole node, ${g['hourly']}/h" if ours is not None and ours.accelerator and
                 ours.accelerator_count > float(task["accelerators"].split(":")[1]) else "")
        return f"SkyPilot found no resources: {s['error']}{whole}"
    if verdict in ("only_skypilot", "neither"):
        broken = row.get("skypilot_violates")
        why = f"gpuplan: {g.get('error')}"
        return f"{why}; SkyPilot's pick breaks {'; '.join(broken)}" if broken else why
    if verdict == "dearer":
        broken = row.get("skypilot_violates")
        if broken:
            return "SkyPilot's pick breaks gpuplan's rules: " + "; ".join(broken)
        return "gpuplan's pick is dearer though SkyPilot's breaks no rule (see the picks)"
    return cheaper_reason(cat, task, s, g)


def cheaper_reason(cat: Any, task: dict[str, Any], s: dict[str, Any], g: dict[str, Any]) -> str:
    """Why gpuplan's pick is cheaper: SkyPilot fixes one instance type per cloud from its
    default host (GPU tasks: GCP n1 hosts with a vCPU count per GPU count, e.g. 48 for
    T4:4, and 4 GiB per vCPU unless memory is given; CPU tasks: its default families at
    4 GiB per vCPU), then takes that type's cheapest region; gpuplan ranks every machine
    that meets the request and its default host per GPU, in every region."""
    ours, theirs = catalog_row(cat, g), catalog_row(cat, s)
    if ours is None or theirs is None:
        return "a pick is not a catalog row (see the picks)"
    shape = (f"{ours.key} ({ours.vcpus:g} vCPUs, {ours.memory_gib:g} GiB) at "
             f"${node_price(ours, g['use_spot'])}/h against {theirs.key} ({theirs.vcpus:g} "
             f"vCPUs, {theirs.memory_gib:g} GiB) at ${node_price(theirs, s['use_spot'])}/h")
    if not task["accelerators"]:
        return ("CPU-only: SkyPilot takes its default families (GCP n4, AWS m6i, Azure Ds_v5/"
                "Es_v5, ...) at 4 GiB per vCPU unless memory is asked; gpuplan the cheapest "
                f"x86 machine that is not burstable and meets the request: {shape}")
    if ours.vcpus < theirs.vcpus or ours.memory_gib < theirs.memory_gib:
        return ("a smaller host that still meets the request and gpuplan's default host per "
                "GPU, where SkyPilot's default host asks more (a vCPU count per GPU count and "
                f"4 GiB per vCPU): {shape}")
    return f"the same or a larger host, cheaper: {shape}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument("--sky-python", default=sys.executable,
                        help="a Python with skypilot installed (default: this one)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--skypilot-from", type=Path,
                        help="take SkyPilot's picks from an earlier --out file")
    parser.add_argument("--sky-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sky_worker:
        sky_worker()
        return
    sys.path.insert(0, str(REPO))
    task_list = tasks()
    if args.skypilot_from:
        earlier = json.loads(args.skypilot_from.read_text())
        sky = {"version": earlier["skypilot_version"],
               "picks": [row["skypilot"] for row in earlier["rows"]]}
    else:
        sky = run_skypilot(task_list, args.catalog, args.sky_python)
    result = compare(task_list, sky, run_gpuplan(task_list, args.catalog), args.catalog)
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text)
    summary = {k: result[k] for k in ("skypilot_version", "tasks", "counts")}
    summary["skypilot_rule_violations"] = len(result["skypilot_rule_violations"])
    print(json.dumps(summary, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
