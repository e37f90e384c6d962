"""Plans cost what their pools cost: the cases of issue 18 on the shared SkyPilot catalog."""

from __future__ import annotations

from decimal import Decimal

import pytest
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


def _v100_catalog():  # type: ignore[no-untyped-def]
    """One V100 on a 1-GPU GCP host at $3.00/h; four on an AWS p3.8xlarge-like node at
    $9.60/h: $2.40 a GPU, 20 % less per GPU, but only if the node is full."""
    from planner.catalog.model import Catalog, CatalogMeta
    from tests.synthetic import offer

    return Catalog(CatalogMeta(source="tests", date="2026-11-01"), (
        offer("gcp", "us-central1", "n1-highmem-8", "V100", 1, "3.00", zone="us-central1-a",
              vcpus=8, mem=52),
        offer("aws", "us-east-1", "p3.8xlarge", "V100", 4, "9.60", vcpus=32, mem=244)))


def test_an_alternative_slot_is_priced_at_the_node_the_plan_would_pay_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Issue 18: explain showed p3.8xlarge "-$0.21, -19.9%" for a shared slot the plan
    # could only take by paying the whole node. A lone V100:1 there pays the node.
    from planner.plan import dumps_plan
    from tests.cli import run_cli
    from tests.synthetic import job, workload_set

    ws = workload_set([job("v1", "V100:1", resources={"use_spot": False})])
    plan = plan_workloads(ws, _v100_catalog(), time_limit=10)
    (p,) = plan.placements
    assert p.instance_type == "n1-highmem-8" and p.monthly == Decimal("30.0000")
    (alt,) = [a for a in p.alternatives if a.instance_type == "p3.8xlarge"]
    assert alt.cost == Decimal("96.0000")  # 4 GPUs x $2.40 x 10 h, not 1 x $2.40 x 10 h
    assert alt.delta == Decimal("66.0000") and alt.delta_pct == Decimal("220.00")
    assert all(r.cheaper == 0 for r in p.rejected)
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(plan))
    text = run_cli("explain", str(path), "v1").out
    assert "aws/us-east-1/-/p3.8xlarge+V100:4" in text and "+$66.00" in text
    assert "No cheaper offer was passed over." in text


def test_an_alternative_on_a_node_the_plan_pays_for_costs_only_its_own_lines() -> None:
    # A V100:2 job holds the p3.8xlarge-like node 10 h with two GPUs free: a V100:1 job of
    # 10 h adds no node-hours there, so it joins (the plan pays $96, not $96 + $30), and
    # its 1-GPU alternative is priced at its own node: +$30.
    from tests.synthetic import job, workload_set

    ws = workload_set([job("v2", "V100:2", resources={"use_spot": False}),
                       job("v1", "V100:1", resources={"use_spot": False})])
    plan = plan_workloads(ws, _v100_catalog(), time_limit=10)
    assert {p.instance_type for p in plan.placements} == {"p3.8xlarge"}
    assert plan.totals.monthly == Decimal("96.0000")
    v1 = plan.placement("v1")
    assert v1 is not None
    (alt,) = [a for a in v1.alternatives if a.instance_type == "n1-highmem-8"]
    assert alt.cost == Decimal("30.0000") and alt.delta == Decimal("30.0000")


def test_the_table_and_explain_show_the_nodes_gpus_and_the_jobs_share(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Issue 18: the table said "n1-highcpu-16 V100:1" for a node with two V100s.
    from planner.catalog.model import CatalogMeta
    from planner.catalog.snapshot import write_snapshot
    from tests.cli import run_cli
    from tests.synthetic import offer

    snap = tmp_path / "catalog"
    write_snapshot(snap, [offer("gcp", "us-central1", "n1-highcpu-16", "V100", 2, "5.00",
                                zone="us-central1-a", vcpus=16, mem=14.4)],
                   CatalogMeta(source="test", date="2026-11-01"))
    spec = tmp_path / "w.yaml"
    spec.write_text(yaml.safe_dump({"version": 1, "teams": {"ml": {}}, "workloads": [{
        "name": "v1", "team": "ml", "kind": "batch",
        "resources": {"accelerators": "V100:1", "cpus": "1+", "memory": "1+"},
        "work": {"duration_hours": 10}}]}))
    machine = "n1-highcpu-16 2×V100 (uses 1)"
    r = run_cli("--catalog", str(snap), "plan", str(spec), "--out", str(tmp_path / "p.json"))
    assert r.code == 0, r.err
    assert machine in r.out
    md = run_cli("--catalog", str(snap), "plan", str(spec), "--format", "md").out
    assert f"| {machine} |" in md
    text = run_cli("explain", str(tmp_path / "p.json"), "v1").out
    assert f"v1 [ml]: gcp/us-central1-a {machine}, 1 node, on-demand" in text
    overview = run_cli("explain", str(tmp_path / "p.json")).out
    assert machine in overview


@pytest.mark.parametrize("sixteen,binds", [("25.00", False), ("18.00", True)])
def test_locality_binds_only_where_relaxing_it_alone_would_save(sixteen: str,
                                                                 binds: bool) -> None:
    # A 2-node A100:8 DDP job on two $10/h 8-GPU nodes. A 16-GPU node its two workers would
    # share is rejected (multi-node jobs take whole nodes); at $25/h on-demand it saves
    # nothing, and its $15/h spot price is closed anyway (use_spot: false): locality is not
    # binding, it only restates the request. At $18/h on-demand relaxing it would save.
    from planner.catalog.model import Catalog, CatalogMeta
    from tests.synthetic import job, offer, workload_set

    catalog = Catalog(CatalogMeta(source="tests", date="2026-11-01"), (
        offer("gcp", "us-central1", "a2-highgpu-8g", "A100", 8, "10.00", "9.00",
              zone="us-central1-a", vcpus=96, mem=680),
        offer("gcp", "us-central1", "a2-megagpu-16g", "A100", 16, sixteen, "15.00",
              zone="us-central1-a", vcpus=96, mem=1360)))
    ws = workload_set([job("ddp", "A100:8", num_nodes=2, topology={"type": "ddp"},
                           resources={"use_spot": False})])
    plan = plan_workloads(ws, catalog, time_limit=10)
    (p,) = plan.placements
    assert (p.instance_type, p.nodes) == ("a2-highgpu-8g", 2)
    assert [b.id for b in plan.binding] == (["locality:ddp"] if binds else [])
