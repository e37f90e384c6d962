"""Local search (planner.optimize.improve) and the rounded-LP start of large models
(planner.optimize.search.rounded): checked against brute force on small models."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.optimize import improve as improve_module
from planner.optimize import search
from planner.optimize.candidates import CandidateBuilder, Option
from planner.optimize.improve import _Pool, improve
from planner.optimize.planning import build_model, plan_workloads
from planner.optimize.search import fits
from planner.optimize.solve import Model, Solution, greedy, objective_of, peaks, penalties
from planner.plancost import node_hours as exact_node_hours
from planner.spec.model import WorkloadSet
from tests.optimize.test_planner_properties import SETTINGS, workload_sets
from tests.synthetic import job, small_catalog, workload_set

EPS = 1e-6


def _model(ws: WorkloadSet) -> Model:
    builder = CandidateBuilder(ws, small_catalog())
    return build_model(ws, [builder.candidates(w) for w in sorted(ws.workloads,
                                                                  key=lambda w: w.name)])


def _spec_model(spec: dict[str, Any]) -> Model:
    return _model(workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                               quotas=spec["quotas"]))


def _placed(model: Model, chosen: dict[str, Option]) -> Solution:
    pen = penalties(model)
    return Solution(dict(chosen), peaks(chosen), "greedy", "by hand",
                    objective_of(model, chosen, pen), 0.0, 0, 0, pen)


def _better_single_move(model: Model, chosen: dict[str, Option]) -> tuple[str, Option] | None:
    """Brute force: a workload and an option (another pool) that keeps every row and
    lowers the objective, priced from scratch."""
    pen = penalties(model)
    now = objective_of(model, chosen, pen)
    for wc in model.workloads:
        current = chosen.get(wc.workload.name)
        for o in wc.options:
            if current is not None and o.pool_id == current.pool_id:
                continue
            trial = {**chosen, wc.workload.name: o}
            if objective_of(model, trial, pen) < now - 1e-4 and fits(model, trial):
                return wc.workload.name, o
    return None


@SETTINGS
@given(workload_sets())
def test_local_search_keeps_rows_lowers_cost_and_ends_at_a_local_optimum(
        spec: dict[str, Any]) -> None:
    model = _spec_model(spec)
    start = greedy(model)
    better = improve(model, start)
    assert fits(model, better.chosen)
    assert better.objective <= start.objective + EPS
    # its objective is the placement's, priced from scratch (the incremental books agree)
    assert better.objective == pytest.approx(
        objective_of(model, better.chosen, penalties(model)), abs=1e-6)
    assert _better_single_move(model, better.chosen) is None
    assert improve(model, start).chosen == better.chosen  # deterministic


def test_jobs_leave_a_node_together_when_no_single_move_pays() -> None:
    """Two 1-GPU A100 jobs of 10 h placed by hand as slots of 8-GPU nodes in two
    regions: a whole node each. Joining the other's node is a single move that pays
    ($294 or $312 saved); then neither alone can leave the shared node (it runs
    anyway), but both leaving together for 1-GPU nodes ($36.73 each in us-central1)
    pays: the cheapest placement of all, found by trying every combination."""
    ws = workload_set([job("a", "A100:1", regions={"allow": ["us-central1", "us-east1"]}),
                       job("b", "A100:1", regions={"allow": ["us-central1", "us-east1"]})])
    model = _model(ws)
    a, b = (next(o for o in wc.options if o.pool_id.startswith(f"gcp-{region}")
                 and "8g" in o.pool_id and not o.spot)
            for wc, region in zip(model.workloads, ("us-central1", "us-east1"), strict=True))
    start = _placed(model, {"a": a, "b": b})
    better = improve(model, start)
    pen = penalties(model)
    best = min(objective_of(model, {"a": x, "b": y}, pen)
               for x in model.workloads[0].options for y in model.workloads[1].options)
    assert better.objective == pytest.approx(best, abs=1e-6)
    assert better.objective < start.objective - 500.0
    assert {o.pool_id for o in better.chosen.values()} == {
        "gcp-us-central1-a-a2-highgpu-1g-a100x1-od"}


def test_one_dear_job_makes_way_for_two_cheap_ones_in_its_teams_budget() -> None:
    """On demand only. Team t's $300 budget holds the 8-GPU job (at least $271.97 for
    10 h, on Azure) or the two 1-GPU jobs ($36.73 each on 1-GPU nodes), not the dear one
    with a cheap one. Placed by hand with the dear one in, no single move places
    anything (no room); the exchange drops it for the two cheap ones: two placements
    beat one (every unplaced workload costs its penalty)."""
    on_demand = {"use_spot": False}
    jobs = [job("dear", "A100:8", team="t", resources=on_demand),
            job("cheap1", "A100:1", team="t", resources=on_demand),
            job("cheap2", "A100:1", team="t", resources=on_demand)]
    ws = workload_set(jobs, teams={"t": {"monthly_budget": "300"}})
    model = _model(ws)
    dear = next(wc for wc in model.workloads if wc.workload.name == "dear")
    start = _placed(model, {"dear": dear.options[0]})
    assert fits(model, start.chosen)
    assert _better_single_move(model, start.chosen) is None
    better = improve(model, start)
    assert sorted(better.chosen) == ["cheap1", "cheap2"]
    assert fits(model, better.chosen)


@SETTINGS
@given(workload_sets())
def test_a_rounded_plan_is_within_its_gap_of_the_searched_plans_bound(
        spec: dict[str, Any]) -> None:
    ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                      quotas=spec["quotas"])
    searched = plan_workloads(ws, small_catalog(), time_limit=10)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(search, "ROUNDING_FROM", 0)
        rounded = plan_workloads(workload_set([dict(w) for w in spec["workloads"]],
                                              teams=spec["teams"], quotas=spec["quotas"]),
                                 small_catalog(), time_limit=10)
    if rounded.solver.method != "lp-rounding":
        return  # not within its gap: searched by HiGHS from the rounded start instead
    cost, bound = float(rounded.solver.objective), float(rounded.solver.lower_bound)
    assert bound <= cost + 1e-6
    assert "branch-and-bound was not run" in rounded.solver.status
    if {p.workload for p in rounded.placements} == {p.workload for p in searched.placements}:
        # the same workloads placed: each plan's bound holds for the other plan too
        assert bound <= float(searched.solver.objective) + 0.02
        assert float(searched.solver.lower_bound) <= cost + 0.02


_SHARES = st.sampled_from([0.125, 0.25, 0.5, 1.0, 2.0, 0.375])
_HOURS = st.sampled_from([3.0, 10.0, 24.5, 100.0, 730.0])


@given(st.lists(st.tuples(_HOURS, _SHARES), max_size=8), st.tuples(_HOURS, _SHARES),
       st.booleans(), st.booleans())
def test_node_hours_a_job_adds_or_frees_are_the_difference_of_the_pools_node_hours(
        jobs: list[tuple[float, float]], job_: tuple[float, float], two_pieces: bool,
        arrays: bool) -> None:
    """The levels' shortcut (one piece; in a loop, or on numpy arrays as for a pool of
    many levels) and the copy (several pieces) agree with recomputing the pool's
    node-hours from scratch (:func:`planner.plancost.node_hours`, exact)."""
    with pytest.MonkeyPatch.context() as m:
        if arrays:
            m.setattr(improve_module, "ARRAY_LEVELS", 0)
        _check_added_and_freed(jobs, job_, two_pieces)


def _check_added_and_freed(jobs: list[tuple[float, float]], job_: tuple[float, float],
                           two_pieces: bool) -> None:
    pieces = ((730.0, job_[1]), job_) if two_pieces else (job_,)
    pool = _Pool(1.0, 8.0, ("gcp", "r", "f", "on-demand"), None)
    for hours, share in jobs:
        pool.by_hours[hours] += share
    pool.refresh()
    before = exact_node_hours(list(pool.by_hours.items()))
    assert pool.hours == pytest.approx(before, abs=1e-9)
    with_job = [*pool.by_hours.items(), *pieces]
    assert pool.added_hours(pieces) == pytest.approx(exact_node_hours(with_job) - before,
                                                     abs=1e-9)
    for hours, share in pieces:
        pool.by_hours[hours] += share
    pool.refresh()
    assert pool.freed_hours(pieces) == pytest.approx(exact_node_hours(with_job) - before,
                                                     abs=1e-9)


@SETTINGS
@given(workload_sets())
def test_above_the_search_size_the_rounded_plan_is_the_plan_and_says_how_far_off(
        spec: dict[str, Any]) -> None:
    """With every model above ``SEARCH_UP_TO`` columns, HiGHS's MILP search never runs:
    the rounded plan is the plan, within the gap target or saying it missed it."""
    def no_search(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("branch-and-bound ran")

    ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                      quotas=spec["quotas"])
    with pytest.MonkeyPatch.context() as m:
        m.setattr(search, "ROUNDING_FROM", 0)
        m.setattr(search, "SEARCH_UP_TO", -1)
        m.setattr(search, "solve", no_search)
        plan = plan_workloads(ws, small_catalog(), time_limit=10)
    assert plan.solver.method in ("lp-rounding", "none")
    if plan.solver.method == "lp-rounding" and plan.placements:
        assert "branch-and-bound was not run" in plan.solver.status
        assert plan.solver.lower_bound <= plan.solver.objective
