"""Small hand-checkable plans for the report's tests: one pool, jobs of known shares."""

from __future__ import annotations

from decimal import Decimal

from planner.plan import (
    CatalogInfo,
    ClusterRef,
    Cost,
    Money2,
    Placement,
    Plan,
    Pool,
    SolverInfo,
    TeamSummary,
    Totals,
    money,
)

HOURS = 730.0
NODE_HOURLY = Decimal("8.0000")


def pool_plan(gpus_per_node: int, nodes: int, jobs: list[tuple[str, str, int]], *,
              pool_monthly: Decimal | None = None, team_extra: dict[str, Decimal] | None = None,
              budgets: dict[str, Decimal] | None = None, capacity: str = "on-demand",
              runtime_hours: float = 10.0) -> Plan:
    """One ``gpus_per_node``-GPU pool of ``nodes`` nodes running ``jobs`` (name, team, GPUs)
    for ``runtime_hours`` each; ``team_extra`` adds money to a team's total beyond its
    placements (idle attributed to it), ``pool_monthly`` overrides the pool's cost."""
    pid = f"gcp-us-central1-a2-{gpus_per_node}g-{'spot' if capacity == 'spot' else 'od'}"
    placements = []
    for name, team, gpus in sorted(jobs):
        share = gpus / gpus_per_node
        hourly = money(NODE_HOURLY * Decimal(repr(share)))
        compute = money(hourly * Decimal(repr(runtime_hours)))
        placements.append(Placement(
            workload=name, team=team, namespace=team, kind="training", priority=100, pool=pid,
            cluster="gke", cloud="gcp", region="us-central1", zone="us-central1-a",
            instance_type=f"a2-{gpus_per_node}g", capacity=capacity, accelerator="A100",
            gpus_per_node=gpus, cpus_per_node=8, memory_gib_per_node=64, nodes=1,
            node_share=share, topology="single", runtime_hours=runtime_hours, runs_per_month=1,
            hourly=hourly, monthly=compute, image="img",
            cost=Cost(compute=compute, spot_risk=money(0), egress=money(0), discount=money(0),
                      total=compute)))
    placed = sum((p.monthly for p in placements), Decimal(0))
    pool = Pool(
        id=pid, cluster="gke", cloud="gcp", region="us-central1", zone="us-central1-a",
        instance_type=f"a2-{gpus_per_node}g", accelerator="A100",
        accelerator_count=gpus_per_node, vcpus=96, memory_gib=1000, capacity=capacity,
        nodes=nodes, min_nodes=0, max_nodes=nodes, node_hourly=NODE_HOURLY,
        hourly=money(NODE_HOURLY * nodes), monthly=money(pool_monthly or placed),
        quota_family="NVIDIA_A100_GPUS", workloads=tuple(p.workload for p in placements),
        teams=tuple(sorted({p.team for p in placements})))
    extra = team_extra or {}
    by_team: dict[str, Money2] = {}
    for team in sorted({p.team for p in placements} | set(extra)):
        mine = [p for p in placements if p.team == team]
        by_team[team] = Money2(hourly=sum((p.hourly for p in mine), Decimal(0)),
                               monthly=sum((p.monthly for p in mine), Decimal(0))
                               + extra.get(team, Decimal(0)))
    total = sum((m.monthly for m in by_team.values()), Decimal(0))
    hourly = sum((m.hourly for m in by_team.values()), Decimal(0))
    budgets = budgets or {}
    teams = tuple(TeamSummary(name=t, namespace=t, budget=budgets.get(t), hourly=m.hourly,
                              monthly=m.monthly, priorities=(100,),
                              over_budget=t in budgets and m.monthly > budgets[t])
                  for t, m in by_team.items())
    return Plan(
        catalog=CatalogInfo(source="hand-made", date="2026-11-01"), hours_per_month=HOURS,
        clusters=(ClusterRef(name="gke", cloud="gcp", region="us-central1", existing=False),),
        pools=(pool,), placements=tuple(placements), unplaced=(), binding=(),
        teams=teams,
        totals=Totals(hourly=hourly, monthly=total, by_team=by_team,
                      by_cloud={"gcp": Money2(hourly=hourly, monthly=total)},
                      by_region={"gcp/us-central1": Money2(hourly=hourly, monthly=total)}),
        solver=SolverInfo(method="milp", status="optimal", objective=total, lower_bound=total,
                          gap=Decimal(0), time_limit_s=5.0, variables=0, constraints=0,
                          candidates=0),
        spec={})
