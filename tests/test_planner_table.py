"""Table-driven solver behaviour on a small hand-made catalog."""

from __future__ import annotations

from decimal import Decimal

from planner.catalog.quotafamily import azure_family
from planner.optimize.planning import plan_workloads
from tests.synthetic import job, small_catalog, workload_set


def plan(workloads, **extra):  # type: ignore[no-untyped-def]
    return plan_workloads(workload_set(workloads, **extra), small_catalog(), time_limit=10)


def test_cheapest_offer_wins_alone() -> None:
    p = plan([job("a", "A100:8")])
    [pl] = p.placements
    assert (pl.cloud, pl.instance_type, pl.capacity) == ("azure", "Standard_ND96asr_v4", "on-demand")
    assert pl.hourly == Decimal("27.1970")
    assert pl.cost.total == Decimal("271.9700")


def test_quota_binds_next_region() -> None:
    quotas = [{"cloud": "azure", "region": "eastus", "family": azure_family("Standard_ND96asr_v4"),
               "limit": 0},
              {"cloud": "gcp", "region": "us-central1", "family": "NVIDIA_A100_GPUS", "limit": 8}]
    p = plan([job("a", "A100:8", priority=2), job("b", "A100:8", priority=1)], quotas=quotas)
    regions = sorted((pl.cloud, pl.region) for pl in p.placements)
    assert regions == [("gcp", "us-central1"), ("gcp", "us-east1")]
    [binding] = [b for b in p.binding if b.kind == "quota"]
    assert binding.id == "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand"
    assert (binding.used, binding.limit) == (Decimal("8.0"), Decimal("8.0"))


def test_budget_binds_takes_spot() -> None:
    spot_ok = {"use_spot": "auto"}
    free = plan([job("a", "A100:8", resources=spot_ok)])
    assert free.placements[0].capacity == "spot"  # spot is cheaper anyway
    on_demand_cost = plan([job("a", "A100:8")]).placements[0].monthly
    p = plan([job("a", "A100:8", hours=10, resources={"use_spot": "auto"}),
              job("b", "A100:8", hours=10)],
             teams={"ml": {"monthly_budget": str(on_demand_cost + 80)}})
    assert {pl.workload for pl in p.placements} == {"a", "b"}
    assert p.placement("a").capacity == "spot"  # type: ignore[union-attr]
    assert p.teams[0].monthly <= p.teams[0].budget  # type: ignore[operator]


def test_budget_binds_cheaper_gpu() -> None:
    # An hour sooner is worth $5: the A100 (2 h) beats the cheaper T4 (9.6 h)...
    w = {"name": "a", "resources": {"accelerators": {"A100": 1, "T4": 1}},
         "work": {"gpu_hours": 2, "reference": "A100"}, "time_value_per_hour": "5"}
    fast = plan([dict(w)])
    assert fast.placements[0].accelerator == "A100"
    assert fast.placements[0].monthly == Decimal("7.3468")
    # ...until a $6 budget binds: then the cheaper, slower GPU.
    p = plan([dict(w)], teams={"ml": {"monthly_budget": "6"}})
    assert p.placements[0].accelerator == "T4"
    assert p.placements[0].monthly <= Decimal(6)
    assert any(b.id == "budget:ml" for b in p.binding)


def test_deadline_excludes_slow_gpu() -> None:
    w = {"name": "a", "resources": {"accelerators": {"A100": 1, "T4": 1}},
         "work": {"gpu_hours": 2, "reference": "A100"}}
    cheap = plan([dict(w)], teams={"ml": {"monthly_budget": "6"}})
    assert cheap.placements[0].accelerator == "T4"
    p = plan([{**w, "deadline_hours": 5}])
    assert p.placements[0].accelerator == "A100"
    assert p.placements[0].runtime_hours <= 5


def test_multi_node_stays_in_one_pool() -> None:
    p = plan([{**job("ddp", "A100:8"), "num_nodes": 3, "topology": {"type": "ddp"}}])
    [pl] = p.placements
    [pool] = p.pools
    assert pl.nodes == 3 and pool.nodes == 3 and pool.id == pl.pool
    assert pool.placement_group


def test_eight_one_gpu_jobs_pack_on_one_node() -> None:
    jobs = [job(f"j{i}", "A100:1", resources={"cloud": "gcp", "region": "us-central1"})
            for i in range(8)]
    p = plan(jobs, quotas=[{"cloud": "gcp", "region": "us-central1",
                            "family": "NVIDIA_A100_GPUS", "limit": 8}])
    assert len(p.placements) == 8
    pools = {pl.pool for pl in p.placements}
    assert len(pools) == 1
    [pool] = p.pools
    assert pool.instance_type == "a2-highgpu-8g" and pool.nodes == 1
    assert all(pl.node_share == 0.125 for pl in p.placements)


def test_one_gpu_job_pays_whole_node_when_alone() -> None:
    # Only 8-GPU A100 nodes exist off GCP; a lone 1-GPU job on them must not look cheap.
    p = plan([job("j", "A100:1", resources={"cloud": "azure"})])
    [pool] = p.pools
    assert pool.nodes == 1
    assert p.solver.objective >= Decimal("27.197") * 10 - Decimal("0.01")


def test_infeasible_names_blocking_constraint() -> None:
    p = plan([job("big", "A100:8", resources={"cloud": "gcp"})],
             quotas=[{"cloud": "gcp", "region": r, "family": "NVIDIA_A100_GPUS", "limit": 4}
                     for r in ("us-central1", "us-east1")])
    assert not p.placements
    [u] = p.unplaced
    assert u.workload == "big"
    # more quota in either region, spot, or another cloud: each alone would place it
    sets = {x.relax for x in u.unblock}
    assert {("quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand",),
            ("quota:gcp/us-east1/NVIDIA_A100_GPUS/on-demand",)} <= sets
    assert all(len(s) == 1 for s in sets)
    assert any(r.code == "quota" for r in u.reasons)


def test_unplaced_by_budget_names_budget() -> None:
    p = plan([job("a", "A100:8", priority=5), job("b", "A100:8", priority=1)],
             teams={"ml": {"monthly_budget": "300"}})
    assert [pl.workload for pl in p.placements] == ["a"]
    [u] = p.unplaced
    assert u.workload == "b" and {x.relax for x in u.unblock} == {("budget:ml",)}
    assert u.unblock[0].monthly > 0 and [r.code for r in u.reasons] == ["budget"]


def test_unknown_shape_lists_reasons() -> None:
    p = plan([job("x", "T4:8")])
    [u] = p.unplaced
    # No offer has eight T4s; the smaller ones also lack the default host for eight.
    # Only a different request would run: nothing to relax, the reasons say why.
    assert u.unblock == ()
    assert [r.code for r in u.reasons][:3] == ["accelerator-count", "cpus", "memory"]


def test_spot_risk_and_egress_in_cost() -> None:
    data = {"d": {"cloud": "aws", "region": "us-east-1", "size_gb": 1000}}
    p = plan([{**job("a", "T4:1", resources={"use_spot": True, "cloud": "gcp"}), "data": "d"}],
             data=data)
    [pl] = p.placements
    assert pl.capacity == "spot"
    assert pl.cost.egress == Decimal("90.0000")  # 1000 GB out of AWS at $0.09/GB
    # rate 0.02/h x 10 h x (1 h / 2 + 0.25 h) = 0.15 h of rework at $0.17/h
    assert pl.cost.spot_risk == Decimal("0.0255")
    assert pl.cost.total == pl.cost.compute + pl.cost.spot_risk + pl.cost.egress + pl.cost.discount


def test_discount_applies() -> None:
    p = plan([job("a", "A100:8", resources={"cloud": "aws"})],
             pricing={"discounts": {"aws": "0.5"}})
    [pl] = p.placements
    assert pl.cost.discount == -pl.cost.compute / 2
    assert pl.hourly == Decimal("16.3863")


def test_greedy_fallback_for_models_too_large(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import planner.optimize.solve

    quotas = [{"cloud": "gcp", "region": "us-central1", "family": "NVIDIA_A100_GPUS", "limit": 8}]
    jobs = [job("a", "A100:8", priority=2, resources={"cloud": "gcp"}),
            job("b", "A100:8", priority=1, resources={"cloud": "gcp"})]
    milp = plan([dict(j) for j in jobs], quotas=quotas)
    monkeypatch.setattr(planner.optimize.solve, "MAX_MILP_COLUMNS", 1)
    p = plan([dict(j) for j in jobs], quotas=quotas)
    assert (milp.solver.method, p.solver.method) == ("milp", "greedy")
    assert "exceed" in p.solver.status
    assert sorted(pl.region for pl in p.placements) == ["us-central1", "us-east1"]
    # the higher-priority job gets the cheaper region; the bound still holds
    assert p.placement("a").region == "us-central1"  # type: ignore[union-attr]
    assert Decimal(0) < p.solver.lower_bound <= p.solver.objective
    assert milp.totals.monthly <= p.totals.monthly


def test_hand_edited_plan_with_unknown_pool_is_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.cli import run_cli

    good = plan([job("a", "A100:8")])
    data = json.loads(__import__("planner.plan").plan.dumps_plan(good))
    data["placements"][0]["pool"] = "nosuch"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    for args in (["render", "k8s", str(path), "--out", str(tmp_path / "k")],
                 ["render", "terraform", str(path), "--out", str(tmp_path / "t")],
                 ["explain", str(path)]):
        result = run_cli(*args)
        assert result.code == 2, (args, result.err)
        assert "unknown pool 'nosuch'" in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "k").exists() and not (tmp_path / "t").exists()
