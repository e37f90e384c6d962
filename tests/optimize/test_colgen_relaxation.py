"""Column generation's LP as the search's relaxation (:class:`SearchRelaxation`): its
rounding, and the placed-set bound that leaves the free LP as it found it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from planner.optimize import colgen
from planner.optimize.candidates import CandidateBuilder
from planner.optimize.colgen import ColumnGeneration, SearchRelaxation
from planner.optimize.planning import build_model
from planner.optimize.solve import Model
from planner.spec.model import WorkloadSet
from tests.optimize.test_planner_properties import SETTINGS, workload_sets
from tests.synthetic import job, small_catalog, workload_set


def _grown(ws: WorkloadSet) -> tuple[Model, ColumnGeneration]:
    builder = CandidateBuilder(ws, small_catalog())
    model = build_model(ws, [builder.candidates(w)
                             for w in sorted(ws.workloads, key=lambda w: w.name)])
    gen = ColumnGeneration(model, builder.option_at)
    gen.set_budgets()
    gen.grow()
    return model, gen


def test_with_no_shared_row_each_workload_rounds_to_its_cheapest_offer() -> None:
    """No quota, budget or shared node: the LP puts every workload wholly on an option of
    least objective over all its offers, and the rounding takes exactly that option."""
    model, gen = _grown(workload_set([job("a", "T4:1"), job("b", "L4:1", hours=30),
                                      job("c", "A100:8", hours=5)]))
    choice = SearchRelaxation(gen).choice()
    assert sorted(choice) == ["a", "b", "c"]
    for wc in model.workloads:
        option = choice[wc.workload.name]
        assert any(option is o for o in wc.options)  # an option the search knows
        assert wc.pool is not None
        assert option.objective == pytest.approx(float(wc.pool.objective.min()), abs=1e-6)


def test_a_workload_the_lp_leaves_out_is_not_rounded_in() -> None:
    """A $20 budget fits no 8-GPU job: the LP leaves it out, and so does its rounding."""
    model, gen = _grown(workload_set([job("big", "A100:8", team="t")],
                                     teams={"t": {"monthly_budget": 20}}))
    assert SearchRelaxation(gen).choice() == {}


@SETTINGS
@given(workload_sets())
def test_the_placed_bound_leaves_the_free_lp_as_it_was(spec: dict[str, Any]) -> None:
    """After the bound of a placed set (assignment rows fixed, no unplaced columns, the
    budgets without idle reserves), the LP is free again: re-solved it has the value it
    had, and it rounds only to options of the model. The same set asked again is not
    solved again; another set is."""
    ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                      quotas=spec["quotas"])
    model, gen = _grown(ws)
    if gen.relaxation is None:
        return  # the penalties kept changing: no converged free LP to compare with
    before = gen.relaxation[0]
    relaxed = SearchRelaxation(gen)
    placed = set(relaxed.choice())
    first = gen.placed_bound(placed)
    assert gen.placed_bound(placed) is first
    assert gen.allow_unplaced and all(gen.rhs == 1.0)
    again = gen.run()
    assert again.bound == pytest.approx(before, rel=1e-7, abs=1e-6)
    names = {wc.workload.name: wc for wc in model.workloads}
    for name, option in relaxed.choice().items():
        assert any(option is o for o in names[name].options)
    if placed:
        fewer = set(sorted(placed)[1:])
        assert gen.placed_bound(fewer) is not first


@SETTINGS
@given(workload_sets())
def test_the_lp_value_does_not_depend_on_how_many_candidates_it_starts_with(
        spec: dict[str, Any]) -> None:
    """The LP starts from each workload's cheapest candidates and a basis of them; the
    others enter by pricing, so starting with one or with every candidate ends at the
    same optimum, and each rounds only to options of the model."""
    values = []
    for first in (1, 1000):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(colgen, "FIRST_COLUMNS", first)
            model, gen = _grown(workload_set([dict(w) for w in spec["workloads"]],
                                             teams=spec["teams"], quotas=spec["quotas"]))
        if gen.relaxation is None:
            return  # the penalties kept changing: no converged free LP to compare
        values.append(gen.relaxation[0])
        names = {wc.workload.name: wc for wc in model.workloads}
        for name, option in gen.choice().items():
            assert any(option is o for o in names[name].options)
    assert values[0] == pytest.approx(values[1], rel=1e-7, abs=1e-6)
