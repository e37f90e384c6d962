"""An honest optimality gap (issue 20): the bound and the search over every feasible offer,
not only the pruned candidates (:mod:`planner.optimize.colgen`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given

import planner.optimize.candidates as candidates
from planner.catalog.model import Catalog, CatalogMeta
from planner.optimize.candidates import CandidateBuilder
from planner.optimize.planning import build_model, plan_workloads
from planner.optimize.solve import _build, _highs
from planner.plan import Plan, dumps_plan, loads_plan
from planner.spec.model import WorkloadSet
from tests.optimize.test_planner_properties import SETTINGS, workload_sets
from tests.synthetic import job, offer, small_catalog, workload_set

REGIONS = [f"r{i:02d}" for i in range(candidates.MAX_OPTIONS + 1)]


def regions_catalog() -> Catalog:
    """One A100:8 on-demand offer in each of 13 GCP regions, dearer region by region."""
    offers = [offer("gcp", region, "a2-highgpu-8g", "A100", 8, f"{29 + i / 10:.4f}",
                    zone=f"{region}-a") for i, region in enumerate(REGIONS)]
    return Catalog(CatalogMeta(source="tests: 13 regions", date="2026-11-01"), tuple(offers))


def thirteen_regions() -> WorkloadSet:
    """Every region's A100 quota holds one 8-GPU node; twelve important jobs take the
    twelve cheapest regions, so the late job's only room is the 13th-cheapest region."""
    important = [job(f"early{i:02d}", "A100:8", priority=500)
                 for i in range(candidates.MAX_OPTIONS)]
    quotas = [{"cloud": "gcp", "region": r, "family": "NVIDIA_A100_GPUS", "limit": 8}
              for r in REGIONS]
    return workload_set([*important, job("late", "A100:8", priority=0)], quotas=quotas)


def test_thirteenth_cheapest_option_in_the_only_region_with_room_is_placed() -> None:
    """Today's code (``all_offers=False``) hands the solver each job's 12 cheapest
    regions; the twelve important jobs fill them, and ``late`` stays unplaced although
    r12, its 13th-cheapest option, has room. Column generation prices r12 against the
    unplaced penalty, adds it, and the MILP places ``late`` there."""
    ws, catalog = thirteen_regions(), regions_catalog()
    late_options = CandidateBuilder(ws, catalog).candidates(ws.workloads[-1]).options
    assert "r12" not in {o.offer.region for o in late_options}

    pruned = plan_workloads(ws, catalog, time_limit=10, all_offers=False)
    assert [u.workload for u in pruned.unplaced] == ["late"]
    assert pruned.solver.bound_scope == "candidates"

    plan = plan_workloads(ws, catalog, time_limit=10)
    assert not plan.unplaced
    late = next(p for p in plan.placements if p.workload == "late")
    assert late.region == "r12"
    assert {p.region for p in plan.placements} == set(REGIONS)
    assert plan.solver.bound_scope == "all-offers"
    assert plan.solver.columns_generated >= 1
    assert plan.solver.lower_bound <= plan.totals.monthly


def full_optimum(ws: WorkloadSet, catalog: Catalog, placed: set[str],
                 monkeypatch: pytest.MonkeyPatch) -> float | None:
    """The MILP with no caps at all (every feasible offer), exactly ``placed`` placed,
    solved to optimality: $/month (the tie-break terms, < 0.01 here, included)."""
    import highspy

    with monkeypatch.context() as m:
        for cap in ("MAX_OPTIONS", "MAX_OPTIONS_SHARED", "MAX_PER_DOMAIN", "MAX_SHAPE_OPTIONS"):
            m.setattr(candidates, cap, 10_000)
        builder = CandidateBuilder(ws, catalog)
        cands = [builder.candidates(w) for w in sorted(ws.workloads, key=lambda w: w.name)]
    assert all(len(wc.options) == len(wc.pool or ()) for wc in cands)
    model = build_model(ws, cands)
    lp, _layout, _pen = _build(model, relax=False, placed=placed)
    h = _highs(lp, 60.0)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)


def placed(plan: Plan) -> set[str]:
    return {p.workload for p in plan.placements}


def test_bound_never_exceeds_the_uncapped_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small instance where pruning matters (the thirteen regions) and one where sharing
    and quotas do (the small catalog): the all-offer bound is at most the optimum of the
    model with no caps, which is at most the plan's cost."""
    cases = [(thirteen_regions(), regions_catalog()),
             (workload_set([job("a", "A100:1", 30), job("b", "A100:2", 12),
                            job("c", "T4:1", 200), job("d", "A100:8", 5, resources={"use_spot": True}),
                            job("e", "L4:1", 40)],
                           quotas=[{"cloud": "gcp", "region": "us-central1",
                                    "family": "NVIDIA_A100_GPUS", "limit": 8}]),
              small_catalog())]
    for ws, catalog in cases:
        plan = plan_workloads(ws, catalog, time_limit=10)
        best = full_optimum(ws, catalog, placed(plan), monkeypatch)
        assert best is not None
        assert float(plan.solver.lower_bound) <= best + 1e-3
        assert best <= float(plan.totals.monthly) + 0.01
        assert plan.solver.bound_scope == "all-offers" and not plan.solver.capped


@given(workload_sets())
@SETTINGS
def test_all_offer_bound_below_full_optimum_below_plan_cost(spec: dict[str, Any]) -> None:
    """On random small instances: all-offer bound <= full-model MILP optimum (no caps, the
    plan's placed set) <= the plan's cost."""
    ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                      quotas=spec["quotas"])
    plan = plan_workloads(ws, small_catalog(), time_limit=10)
    if not plan.placements:
        assert plan.solver.lower_bound == Decimal(0)
        return
    with pytest.MonkeyPatch.context() as m:
        best = full_optimum(ws, small_catalog(), placed(plan), m)
    assert best is not None
    assert float(plan.solver.lower_bound) <= best + 1e-3
    assert best <= float(plan.totals.monthly) + 0.01


def test_bound_scope_and_caps_survive_the_plan_reader() -> None:
    """plan.json carries bound_scope, columns_generated and capped; the strict reader reads
    them back, refuses an unknown scope and a cap naming no workload of the plan."""
    import json

    from planner.errors import PlanFileError

    plan = plan_workloads(thirteen_regions(), regions_catalog(), time_limit=10)
    text = dumps_plan(plan)
    assert loads_plan(text, "plan.json").solver == plan.solver
    data = json.loads(text)
    data["solver"]["bound_scope"] = "everything"
    with pytest.raises(PlanFileError, match="bound_scope"):
        loads_plan(json.dumps(data), "plan.json")
    data["solver"]["bound_scope"] = "all-offers"
    data["solver"]["capped"] = [{"workload": "ghost", "priced": 3, "left_out": 2}]
    with pytest.raises(PlanFileError):
        loads_plan(json.dumps(data), "plan.json")
