"""Hypothesis invariants of the planner on a small catalog."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.catalog.quotafamily import quota_units_per_node
from planner.optimize.planning import plan_workloads
from planner.plan import Plan, dumps_plan, money
from planner.plancost import reprice
from tests.synthetic import small_catalog, workload_set

ACCELS = ["A100:1", "A100:8", "T4:1", "L4:1", "A100:2", "T4:4"]


@st.composite
def workload_sets(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 7))
    workloads = []
    for i in range(n):
        w: dict[str, Any] = {
            "name": f"w{i}", "team": draw(st.sampled_from(["a", "b"])),
            "priority": draw(st.integers(0, 3)),
            "resources": {"accelerators": draw(st.sampled_from(ACCELS)),
                          "use_spot": draw(st.sampled_from([False, True, "auto"]))},
            "work": {"duration_hours": draw(st.integers(1, 40))},
        }
        if draw(st.booleans()) and w["resources"]["accelerators"].endswith(":8"):
            w["num_nodes"] = draw(st.integers(2, 3))
            w["topology"] = {"type": "ddp"}
        workloads.append(w)
    teams = {t: ({"monthly_budget": str(draw(st.integers(5, 2000)))} if draw(st.booleans())
                 else {}) for t in ("a", "b")}
    quotas = []
    for region in ("us-central1", "us-east1"):
        if draw(st.booleans()):
            quotas.append({"cloud": "gcp", "region": region, "family": "NVIDIA_A100_GPUS",
                           "capacity": draw(st.sampled_from(["on-demand", "spot"])),
                           "limit": draw(st.sampled_from([0, 4, 8, 16]))})
    if draw(st.booleans()):
        quotas.append({"cloud": "aws", "region": "us-east-1", "family": "P",
                       "limit": draw(st.sampled_from([0, 96, 192]))})
    return {"workloads": workloads, "teams": teams, "quotas": quotas}


def _plan(spec: dict[str, Any]) -> Plan:
    ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                      quotas=spec["quotas"])
    return plan_workloads(ws, small_catalog(), time_limit=10)


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(workload_sets())
def test_limits_never_exceeded(spec: dict[str, Any]) -> None:
    plan = _plan(spec)
    used: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for pool in plan.pools:
        units = quota_units_per_node(pool.cloud, pool.vcpus, pool.accelerator_count)
        used[(pool.cloud, pool.region, pool.quota_family, pool.capacity)] += pool.nodes * units
        # pool capacity: the planned jobs fit the nodes (shares are power-of-two slots)
        share = sum(p.nodes * p.node_share for p in plan.placements if p.pool == pool.id)
        assert share <= pool.nodes + 1e-9
        assert pool.nodes == max(1, math.ceil(share - 1e-9))
    for q in spec["quotas"]:
        family = q["family"] if q["cloud"] != "aws" else "P"
        key = (q["cloud"], q["region"], family, q.get("capacity", "on-demand"))
        assert used.get(key, 0.0) <= q["limit"], (key, used)
    for team in plan.teams:
        if team.budget is not None:
            assert team.monthly <= team.budget
            assert not team.over_budget


@SETTINGS
@given(workload_sets())
def test_every_workload_placed_or_explained(spec: dict[str, Any]) -> None:
    plan = _plan(spec)
    placed = {p.workload for p in plan.placements}
    unplaced = {u.workload for u in plan.unplaced}
    assert placed | unplaced == {w["name"] for w in spec["workloads"]}
    assert not placed & unplaced
    for u in plan.unplaced:
        assert u.reasons
        for x in u.unblock:  # each way to place it is minimal and names what it costs
            assert x.relax and x.offer and x.monthly >= 0
            assert not any(y.relax != x.relax and set(y.relax) <= set(x.relax)
                           for y in u.unblock)


@SETTINGS
@given(workload_sets())
def test_totals_are_sums_and_bound_holds(spec: dict[str, Any]) -> None:
    plan = _plan(spec)
    zero = Decimal(0)
    # the plan costs what its pools cost, and every grouping adds up to it
    assert plan.totals.monthly == sum((p.monthly for p in plan.pools), zero)
    assert plan.totals.hourly == sum((p.hourly for p in plan.pools), zero)
    for groups in (plan.totals.by_team, plan.totals.by_cloud, plan.totals.by_region):
        assert sum((g.monthly for g in groups.values()), zero) == plan.totals.monthly
        assert sum((g.hourly for g in groups.values()), zero) == plan.totals.hourly
        assert sum((g.idle.monthly for g in groups.values()), zero) == plan.totals.idle.monthly
        assert sum((g.paid_gpu_hours for g in groups.values()), zero) == \
            plan.totals.paid_gpu_hours
    assert sum((t.monthly for t in plan.teams), zero) == plan.totals.monthly
    for pool in plan.pools:
        mine = [p for p in plan.placements if p.pool == pool.id]
        # a pool's bill is whole nodes for the hours they are up: its jobs' shares + idle
        assert pool.compute == money(pool.node_hourly * pool.node_hours)
        assert pool.compute == sum((p.monthly_lines.compute for p in mine), zero) + \
            pool.idle.monthly
        assert pool.monthly == pool.compute + sum(
            (p.monthly_lines.spot_risk + p.monthly_lines.egress for p in mine), zero)
        assert pool.idle.monthly >= 0 and pool.used_gpu_hours <= pool.paid_gpu_hours
    for p in plan.placements:
        c = p.cost
        assert c.total == c.compute + c.spot_risk + c.egress + c.discount
        lines = p.monthly_lines
        assert p.monthly == lines.compute + lines.spot_risk + lines.egress
    assert reprice(plan).totals == plan.totals
    assert plan.solver.objective == plan.totals.monthly
    assert plan.solver.lower_bound <= plan.solver.objective


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workload_sets(), st.integers(0, 10_000))
def test_shuffled_input_gives_identical_bytes(spec: dict[str, Any], seed: int) -> None:
    shuffled = dict(spec, workloads=list(spec["workloads"]), quotas=list(spec["quotas"]))
    random.Random(seed).shuffle(shuffled["workloads"])
    random.Random(seed + 1).shuffle(shuffled["quotas"])
    assert dumps_plan(_plan(spec)) == dumps_plan(_plan(shuffled))
