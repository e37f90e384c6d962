"""Plans cost what their pools cost: the cases of issue 18 on the shared SkyPilot catalog."""

from __future__ import annotations

from decimal import Decimal

import yaml

from planner.optimize.planning import plan_workloads
from planner.plan import Plan
from planner.spec.load import parse_workloads


def _plan(catalog, workloads: list[dict]) -> Plan:  # type: ignore[no-untyped-def]
    text = yaml.safe_dump({"version": 1, "teams": {"ml": {}}, "workloads": workloads})
    return plan_workloads(parse_workloads(text, "t.yaml", catalog), catalog, time_limit=10)


def test_a_lone_half_node_job_pays_the_whole_node(full_catalog) -> None:  # type: ignore[no-untyped-def]
    # AWS has no 2-T4 instance: T4:2 takes half of a 4-T4 g4dn.12xlarge, and the cloud
    # bills the node. The total, the team and the pool all say the whole node.
    plan = _plan(full_catalog, [{
        "name": "t4", "team": "ml", "kind": "batch",
        "resources": {"accelerators": "T4:2", "use_spot": True, "cloud": "aws"},
        "work": {"duration_hours": 10}}])
    (pool,) = plan.pools
    (job,) = plan.placements
    assert job.node_share == 0.5 and pool.nodes == 1
    assert plan.totals.hourly == pool.node_hourly.quantize(Decimal("0.0001"))
    assert pool.node_hours == Decimal("10.0000")
    assert plan.totals.monthly == pool.monthly == pool.compute + job.monthly_lines.spot_risk
    assert plan.totals.by_team["ml"].monthly == plan.totals.monthly
    # half of it is no job's share: the idle line, attributed to the job's team
    assert pool.idle.monthly == pool.compute - job.monthly_lines.compute > 0
    assert plan.totals.by_team["ml"].idle == plan.totals.idle == pool.idle
    assert plan.solver.lower_bound <= plan.solver.objective == plan.totals.monthly
    assert (pool.paid_gpu_hours, pool.used_gpu_hours) == (Decimal("40.0000"), Decimal("20.0000"))


def test_jobs_of_different_lengths_do_not_share_a_node_they_would_pay_for(
        full_catalog) -> None:  # type: ignore[no-untyped-def]
    # Two A100:8 jobs, 24 h and 12 h, GCP us-central1. On one a2-megagpu-16g (16 GPUs)
    # the node stays up 24 h for both: dearer than two a2-highgpu-8g nodes for 24 h + 12 h,
    # though each job's share of the 16-GPU node is cheaper per hour.
    plan = _plan(full_catalog, [
        {"name": name, "team": "ml", "resources": {"accelerators": "A100:8", "cloud": "gcp",
                                                   "region": "us-central1"},
         "work": {"duration_hours": hours}} for name, hours in (("long", 24), ("short", 12))])
    assert {p.instance_type for p in plan.placements} == {"a2-highgpu-8g"}
    assert plan.totals.idle.monthly == 0
