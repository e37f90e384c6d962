"""The multi-team example with the llm team's fallbacks on (its committed plan.json): flavor
order, min-0 pools and premiums recomputed from the catalog, independently of the planner.

Every fallback there is an on-demand or spot GCP offer without discounts, so one run costs
$/h (the capacity's catalog price) x nodes x node share x hours (spot rework included in
the hours) plus egress of the data set (2,000 GB at GCP's $0.02/GB between regions)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from components.builders.k8s_objects import plan_objects
from components.builders.pool_args import gcp_node_pool_args
from components.builders.specs import plan_specs
from planner.catalog.load import load_catalog
from planner.plan import Plan, read_plan, stable_id

PLAN = Path(__file__).resolve().parent.parent / "examples" / "multi-team" / "plan.json"
DATA = ("gcp", "us-central1", Decimal(2000))
GCP_INTER_REGION = Decimal("0.02")


def _plan() -> Plan:
    plan = read_plan(PLAN)
    assert any(p.fallbacks for p in plan.placements), "the example lost its fallbacks"
    return plan


def _monthly(offer_key: str, spot: bool, nodes: int, share: float, hours: float,
             runs: float, region: str) -> Decimal:
    offer = next(o for o in load_catalog(None) if o.key == offer_key)
    price = offer.spot_price if spot else offer.price
    assert price is not None
    run = price * nodes * Decimal(repr(share)) * Decimal(repr(hours))
    if region != DATA[1]:
        run += DATA[2] * GCP_INTER_REGION
    return (run * Decimal(repr(runs))).quantize(Decimal("0.0001"))


def test_premiums_come_from_the_catalog() -> None:
    plan = _plan()
    checked = 0
    for p in plan.placements:
        if not p.fallbacks:
            continue
        pool = plan.pool(p.pool)
        key = next(o.key for o in load_catalog(None) if o.cloud == pool.cloud and
                   o.zone == pool.zone and o.instance_type == pool.instance_type)
        choice = _monthly(key, p.capacity == "spot", p.nodes, p.node_share, p.runtime_hours,
                          p.runs_per_month, p.region)
        assert abs(choice - p.monthly) <= Decimal("0.0002"), p.workload
        for f in p.fallbacks:
            there = _monthly(f.offer, f.capacity == "spot", f.nodes, 1.0, f.runtime_hours,
                             p.runs_per_month, f.region)
            assert abs(there - f.monthly) <= Decimal("0.0002"), (p.workload, f.offer)
            assert f.premium == f.monthly - p.monthly
            checked += 1
    assert checked >= 4


def test_fallback_pools_are_min_zero_everywhere() -> None:
    plan = _plan()
    specs = plan_specs(plan)
    fallback_only = [p for p in plan.pools if p.fallback_for and not p.workloads]
    assert fallback_only
    for pool in fallback_only:
        assert (pool.nodes, pool.min_nodes, pool.hourly) == (0, 0, 0)
        args = gcp_node_pool_args(specs.pool(stable_id(pool.id)))
        assert args["initial_node_count"] == 0
        assert args["autoscaling"]["total_min_node_count"] == 0
        assert args["autoscaling"]["total_max_node_count"] == pool.max_nodes


def test_queue_flavor_order_is_each_jobs_ranking() -> None:
    plan = _plan()
    specs = plan_specs(plan)
    objs = plan_objects(specs)
    checked = 0
    for p in plan.placements:
        ranking = [stable_id(p.pool), *(stable_id(f.pool) for f in p.fallbacks)]
        for cluster, items in objs.items():
            local = [n for n in ranking if specs.pool(n).cluster == cluster]
            if not local or not p.fallbacks:
                continue
            cq = next(o for o in items if o["kind"] == "ClusterQueue"
                      and o["metadata"]["name"] == stable_id(p.team))
            order = [f["name"] for g in cq["spec"]["resourceGroups"] for f in g["flavors"]]
            assert [n for n in order if n in local] == local, (p.workload, cluster)
            checked += 1
    assert checked >= 5


def test_fallback_pools_get_labels_and_taints_like_primary_pools() -> None:
    """A fallback-only pool is labelled with its own id, capacity and accelerator and the
    teams whose jobs list it, and tainted like the primary GPU pools (GKE args)."""
    plan = _plan()
    specs = plan_specs(plan)
    team_of = {p.workload: p.team for p in plan.placements}

    def config(pool_id: str) -> dict[str, object]:
        node_config: dict[str, object] = gcp_node_pool_args(
            specs.pool(stable_id(pool_id)))["node_config"]
        return node_config

    primary = [p for p in plan.pools if p.cloud == "gcp" and p.workloads]
    fallback_only = [p for p in plan.pools if p.cloud == "gcp" and p.fallback_for
                     and not p.workloads]
    assert primary and fallback_only
    (taints,) = {str(config(p.id)["taints"]) for p in primary}
    assert "nvidia.com/gpu" in taints
    for pool in fallback_only:
        cfg = config(pool.id)
        assert str(cfg["taints"]) == taints
        labels = cfg["labels"]
        assert isinstance(labels, dict)
        assert labels["gpuplan.io/pool"] == stable_id(pool.id)
        assert labels["gpuplan.io/capacity"] == pool.capacity
        assert labels["gpuplan.io/accelerator"] == str(pool.accelerator).lower()
        teams = {team_of[w] for w in pool.fallback_for}
        assert {k for k in labels if k.startswith("gpuplan.io/team-")} == {
            f"gpuplan.io/team-{stable_id(t)}" for t in teams}
