"""Solving in parts: the same plan as the whole MILP, whatever the number of processes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

from planner.optimize import decompose
from planner.optimize.candidates import CandidateBuilder
from planner.optimize.planning import build_model, plan_workloads
from planner.optimize.solve import solve
from planner.plan import Plan, dumps_plan
from planner.spec.load import parse_workloads
from planner.spec.model import WorkloadSet
from tests.optimize.test_planner_properties import SETTINGS, workload_sets
from tests.optimize.test_progress import Recorder
from tests.scaleset import synthetic
from tests.synthetic import job, small_catalog, workload_set
from tests.underload import plans_under_load


def _split(monkeypatch: pytest.MonkeyPatch, chunk: int | None = None) -> None:
    """Decompose every model (and roll components above ``chunk`` columns)."""
    monkeypatch.setattr(decompose, "DECOMPOSE_COLUMNS", 0)
    if chunk is not None:
        monkeypatch.setattr(decompose, "CHUNK_COLUMNS", chunk)


def _without_solver(plan: Plan) -> dict[str, Any]:
    """The plan without the solver's own figures (parts count variables differently)."""
    data = json.loads(dumps_plan(plan))
    data.pop("solver")
    return data  # type: ignore[no-any-return]


def _four_parts() -> WorkloadSet:
    """Team a (budget) on A100 slots; an A100 quota in us-central1 shared by c's whole-node
    jobs and a's slots; b's A100 slots outside us-central1 (joined by their shared pools);
    whole-node T4, L4 and A100 jobs on their own."""
    jobs = [job(f"a{i}", "A100:1", hours=20 + 7 * i, team="a",
                regions={"allow": ["us-central1"]}) for i in range(5)]
    jobs += [job(f"b{i}", "A100:1", hours=30 + 5 * i, team="b",
                 regions={"deny": ["us-central1"]}) for i in range(3)]
    jobs += [job("t0", "T4:1", hours=5, team="b"), job("t1", "L4:1", hours=8, team="b")]
    jobs += [job(f"c{i}", "A100:8", hours=12 + i, team="c",
                 regions={"allow": ["us-central1"]}) for i in range(4)]
    jobs += [job("d0", "A100:8", hours=40, team="d", resources={"use_spot": True}),
             job("e0", "T4:4", hours=9, team="e")]
    quotas = [{"cloud": "gcp", "region": "us-central1", "family": "NVIDIA_A100_GPUS",
               "limit": 16}]
    teams = {"a": {"monthly_budget": "3000"}, "b": {}, "c": {}, "d": {}, "e": {}}
    return workload_set(jobs, teams=teams, quotas=quotas)


def test_components_are_the_rows_workloads_share() -> None:
    ws = _four_parts()
    builder = CandidateBuilder(ws, small_catalog())
    model = build_model(ws, [builder.candidates(w) for w in sorted(ws.workloads,
                                                                   key=lambda w: w.name)])
    parts = [sorted(wc.workload.name for wc in p.workloads)
             for p in decompose.components(model)]
    assert sorted(n for p in parts for n in p) == sorted(w.name for w in ws.workloads)
    by_name = {n: tuple(p) for p in parts for n in p}
    assert by_name["a0"] == by_name["a4"] == by_name["c0"]  # budget, quota
    assert by_name["b0"] == by_name["b1"] == by_name["b2"] != by_name["a0"]  # shared pools
    assert by_name["t0"] == ("t0",) and by_name["t1"] == ("t1",)  # whole nodes, no rows
    assert by_name["d0"] == ("d0",)  # spot A100 nodes: pools no one else can take
    assert len(parts) >= 4
    assert [p[0] for p in parts] == sorted(p[0] for p in parts)


def test_split_plan_is_the_whole_milps_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = plan_workloads(_four_parts(), small_catalog(), time_limit=20)
    _split(monkeypatch)
    split = plan_workloads(_four_parts(), small_catalog(), time_limit=20)
    assert "independent parts" in split.solver.status
    assert _without_solver(split) == _without_solver(whole)
    assert split.solver.lower_bound <= split.totals.monthly


@SETTINGS
@given(workload_sets())
def test_split_plans_equal_whole_plans(spec: dict[str, Any]) -> None:
    def plan() -> Plan:
        ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                          quotas=spec["quotas"])
        return plan_workloads(ws, small_catalog(), time_limit=10)

    whole = plan()
    with pytest.MonkeyPatch.context() as patch:
        _split(patch)
        split = plan()
    assert _without_solver(split) == _without_solver(whole)


@pytest.mark.parametrize("chunk", [None, 30])
def test_same_bytes_for_one_two_and_four_processes(monkeypatch: pytest.MonkeyPatch,
                                                   chunk: int | None) -> None:
    _split(monkeypatch, chunk)
    plans = {n: dumps_plan(plan_workloads(_four_parts(), small_catalog(), time_limit=20,
                                          processes=n)) for n in (1, 2, 4)}
    assert plans[1] == plans[2] == plans[4]


def test_rolling_chunks_are_feasible_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few columns: every quota and budget holds, and the Lagrangian bound is at
    most the whole MILP's optimum, which is at most the rolling plan's cost."""
    ws = _four_parts()
    whole = plan_workloads(ws, small_catalog(), time_limit=20)
    _split(monkeypatch, chunk=12)
    rolled = plan_workloads(ws, small_catalog(), time_limit=20)
    assert "rolling fix-and-optimize over" in rolled.solver.status
    a100 = sum(p.nodes * p.accelerator_count for p in rolled.pools
               if p.cloud == "gcp" and p.region == "us-central1" and p.accelerator == "A100"
               and p.capacity == "on-demand")
    assert a100 <= 16
    team_a = next(t for t in rolled.teams if t.name == "a")
    assert team_a.monthly <= 3000
    if {u.workload for u in rolled.unplaced} == {u.workload for u in whole.unplaced}:
        assert rolled.solver.lower_bound <= whole.totals.monthly <= rolled.totals.monthly


def test_lagrangian_bound_is_below_the_optimum_and_at_least_the_plain_one() -> None:
    ws = _four_parts()
    builder = CandidateBuilder(ws, small_catalog())
    model = build_model(ws, [builder.candidates(w) for w in sorted(ws.workloads,
                                                                   key=lambda w: w.name)])
    sol = solve(model, 20)
    with_rows = decompose.lagrangian_bound(model, sol)
    plain = decompose.lagrangian_bound(model, sol, steps=1)  # lam = 0: each job's cheapest
    assert 0 < plain <= with_rows <= sol.cost + 1e-6
    assert with_rows <= sol.lower_bound + 1e-6 or sol.gap > 0


def _fields(o: Any) -> tuple[Any, ...]:
    return tuple(getattr(o, f) for f in o.__slots__ if f != "workload")


def test_twins_share_one_computation_and_get_their_own_options() -> None:
    """Workloads differing only in name, team and priority: the same options as computed
    alone, on their own objects, named for them."""
    twins = [job("x", "A100:1", hours=30, team="a", priority=5),
             job("y", "A100:1", hours=30, team="b", priority=9), job("z", "A100:1", hours=31)]
    ws = workload_set(twins, teams={"a": {}, "b": {}, "ml": {}})
    shared = CandidateBuilder(ws, small_catalog())
    got = {w.name: shared.candidates(w) for w in ws.workloads}
    assert len(shared._computed) == 2
    for w in ws.workloads:
        alone = CandidateBuilder(ws, small_catalog()).candidates(w)
        mine = got[w.name]
        assert [_fields(o) for o in mine.options] == [_fields(o) for o in alone.options]
        assert [_fields(o) for o in mine.alternatives] == [_fields(o) for o in alone.alternatives]
        assert {o.workload for o in mine.options + mine.alternatives} == {w.name}
    assert not {id(o) for o in got["x"].options} & {id(o) for o in got["y"].options}


def _independent_fleet(n: int = 200) -> dict[str, Any]:
    """plan_scale's set of ``n`` workloads without team budgets: workloads then meet only
    through the quotas, so the model falls apart into components (19 at 200 with the
    shared catalog), each a MILP of its own."""
    data = synthetic(n)
    data["teams"] = {team: {} for team in data["teams"]}
    return data


def _fleet_plan(data: dict[str, Any], catalog: Any, processes: int = 1,
                progress: Any = None) -> str:
    ws = parse_workloads(yaml.safe_dump(data), "workloads.yaml", catalog)
    return dumps_plan(plan_workloads(ws, catalog, processes=processes, progress=progress))


@pytest.mark.parametrize(("chunk", "counts"), [(None, (1, 2, 4)), (800, (1, 4))])
def test_a_split_fleet_is_the_same_bytes_for_one_two_and_four_processes(
        monkeypatch: pytest.MonkeyPatch, full_catalog: Any, chunk: int | None,
        counts: tuple[int, ...]) -> None:
    """Forced to decompose (and, with ``chunk``, to roll the largest components in chunks):
    the parts are searched on work limits, so the process count cannot change a byte; nor
    can listening to the progress (this process's parts report to it, the pool's do not)."""
    _split(monkeypatch, chunk)
    data = _independent_fleet()
    plans = {n: _fleet_plan(data, full_catalog, processes=n) for n in counts}
    assert len(set(plans.values())) == 1, "the plan depends on the number of processes"
    status = json.loads(plans[1])["solver"]["status"]
    assert re.match(r"\d+ independent parts: ", status) and int(status.split()[0]) >= 5
    assert ("rolling fix-and-optimize" in status) == (chunk is not None)
    assert '"cut_by_time_limit": false' in plans[1]
    if chunk is None:
        assert _fleet_plan(data, full_catalog, progress=Recorder()) == plans[1]


def test_a_split_fleet_is_the_same_bytes_on_a_busy_machine(full_catalog: Any,
                                                            skypilot_dir: Path) -> None:
    """The split fleet planned in this process (2 processes) and in another one (4
    processes), both while a third keeps a core busy: identical plan.json bytes."""
    data = _independent_fleet()
    with pytest.MonkeyPatch.context() as patch:
        _split(patch)
        first, second = plans_under_load(
            data, skypilot_dir, lambda: _fleet_plan(data, full_catalog, processes=2),
            setup="decompose.DECOMPOSE_COLUMNS = 0\n", processes=4)
    assert second == first
    assert "independent parts" in first and '"cut_by_time_limit": false' in first


def test_a_part_cut_by_the_safety_net_is_reported(monkeypatch: pytest.MonkeyPatch,
                                                   full_catalog: Any) -> None:
    """A part whose search the wall clock cuts: the plan says so, as a whole model's does
    (solver.cut_by_time_limit, and the status counts the cut parts)."""
    from planner.optimize import search as search_module

    real = search_module.search

    def cut_one(model: Any, limits: Any, progress: Any = None, hint: Any = None,
                relaxed: Any = None) -> Any:
        sol = real(model, limits, progress, hint, relaxed)
        if any(wc.workload.name == "w00000" for wc in model.workloads):
            sol.cut_by_time = True
        return sol

    _split(monkeypatch)
    monkeypatch.setattr(decompose, "search", cut_one)
    plan = json.loads(_fleet_plan(_independent_fleet(), full_catalog))
    assert plan["solver"]["cut_by_time_limit"] is True
    assert plan["solver"]["status"].endswith(
        f"1 cut by the {plan['solver']['time_limit_s']:g} s time-limit safety net: this plan "
        "depends on the machine's speed")


@pytest.mark.parametrize("processes", [1, 2])
def test_split_solves_report_cost_bound_and_gap(monkeypatch: pytest.MonkeyPatch,
                                                processes: int) -> None:
    """Issue 22's progress while a split model is solved: running totals of the parts so
    far with a bound and gap, ending at the plan's objective (in this process every part's
    incumbents; with a pool each part as it finishes)."""
    _split(monkeypatch)
    rec = Recorder()
    plan = plan_workloads(_four_parts(), small_catalog(), time_limit=20, processes=processes,
                          progress=rec)
    assert "independent parts" in plan.solver.status
    reports = rec.of("incumbent")
    assert len(reports) >= 4
    bounded = [r for r in reports if r[2] is not None]
    assert bounded, "no report carried a bound"
    for _, dollars, bound, gap in bounded:
        assert 0 <= bound <= dollars + 1e-6 and 0 <= gap <= 1
        assert gap == pytest.approx(0.0 if dollars <= 0 else (dollars - bound) / dollars)
    last = reports[-1]
    assert last[2] is not None
    assert float(plan.solver.objective) == pytest.approx(last[1], abs=0.5)


def test_a_hint_reaches_every_part_in_any_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle budget round's hint (the previous placement) is kept by each part's greedy
    start: passed across processes by position, the same solution for 1 and 2 processes,
    and a hint that is itself a solution comes back no dearer."""
    from planner.optimize.search import Limits

    _split(monkeypatch)
    ws = _four_parts()
    builder = CandidateBuilder(ws, small_catalog())
    model = build_model(ws, [builder.candidates(w) for w in sorted(ws.workloads,
                                                                   key=lambda w: w.name)])
    first = decompose.solve_parts(model, Limits(safety_s=20))
    again = {n: decompose.solve_parts(model, Limits(safety_s=20), processes=n,
                                      hint=first.chosen) for n in (1, 2)}
    assert again[1].chosen == again[2].chosen
    assert again[1].objective <= first.objective + 1e-6
    assert set(again[1].chosen) == set(first.chosen)
