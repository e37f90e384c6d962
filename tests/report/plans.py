"""Small hand-checkable plans for the report's tests: one pool, jobs of known shares, every
cost figure from the plan's own cost function (:func:`tests.priced.priced`)."""

from __future__ import annotations

from decimal import Decimal

from planner.plan import (
    CatalogInfo,
    ClusterRef,
    Cost,
    Placement,
    Plan,
    Pool,
    SolverInfo,
    money,
)
from tests.priced import UNPRICED_JOB, UNPRICED_POOL, priced
from tests.priced import teams as team_summaries

HOURS = 730.0
NODE_HOURLY = Decimal("8.0000")


def pool_plan(gpus_per_node: int, nodes: int, jobs: list[tuple[str, str, int]], *,
              budgets: dict[str, Decimal] | None = None, capacity: str = "on-demand",
              runtime_hours: float = 10.0, hours: dict[str, float] | None = None) -> Plan:
    """One ``gpus_per_node``-GPU pool (at most ``nodes`` nodes) running ``jobs`` (name, team,
    GPUs) for ``runtime_hours`` each (or ``hours[name]``), all starting together; what no
    job's share pays for of the whole nodes is the pool's idle, attributed to the teams by
    share-hours."""
    pid = f"gcp-us-central1-a2-{gpus_per_node}g-{'spot' if capacity == 'spot' else 'od'}"
    placements = []
    for name, team, gpus in sorted(jobs):
        share = gpus / gpus_per_node
        runtime = (hours or {}).get(name, runtime_hours)
        compute = money(NODE_HOURLY * Decimal(repr(share)) * Decimal(repr(runtime)))
        placements.append(Placement(
            workload=name, team=team, namespace=team, kind="training", priority=100, pool=pid,
            cluster="gke", cloud="gcp", region="us-central1", zone="us-central1-a",
            instance_type=f"a2-{gpus_per_node}g", capacity=capacity, accelerator="A100",
            gpus_per_node=gpus, cpus_per_node=8, memory_gib_per_node=64, nodes=1,
            node_share=share, pool_share=share, monthly_hours=runtime, topology="single",
            runtime_hours=runtime, runs_per_month=1, **UNPRICED_JOB, image="img",
            cost=Cost(compute=compute, spot_risk=money(0), egress=money(0), discount=money(0),
                      total=compute)))
    pool = Pool(
        id=pid, cluster="gke", cloud="gcp", region="us-central1", zone="us-central1-a",
        instance_type=f"a2-{gpus_per_node}g", accelerator="A100",
        accelerator_count=gpus_per_node, vcpus=96, memory_gib=1000, capacity=capacity,
        nodes=0, min_nodes=0, max_nodes=nodes, node_hourly=NODE_HOURLY, **UNPRICED_POOL,
        quota_family="NVIDIA_A100_GPUS", workloads=tuple(p.workload for p in placements),
        teams=tuple(sorted({p.team for p in placements})))
    pools, priced_placements, totals = priced([pool], placements, HOURS)
    budgets = budgets or {}
    names = sorted({p.team for p in placements})
    teams = team_summaries(totals, {t: budgets.get(t) for t in names}, priced_placements, names)
    return Plan(
        catalog=CatalogInfo(source="hand-made", date="2026-11-01"), hours_per_month=HOURS,
        clusters=(ClusterRef(name="gke", cloud="gcp", region="us-central1", existing=False),),
        pools=pools, placements=priced_placements, unplaced=(), binding=(),
        teams=teams, totals=totals,
        solver=SolverInfo(method="milp", status="optimal", objective=totals.monthly,
                          lower_bound=totals.monthly, gap=Decimal(0), time_limit_s=5.0,
                          variables=0, constraints=0, candidates=0),
        spec={})
