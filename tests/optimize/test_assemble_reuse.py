"""Assembling a plan reuses what it already knows (issue 22): the cost of the solution
plan_workloads priced, and the alternatives and rejections of workloads whose candidates
are copies of the same ones. The plan must be what working each out afresh gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from planner.catalog.model import Catalog
from planner.optimize import planning
from planner.optimize.facts import Marginal
from planner.plan import dumps_plan, money
from planner.spec.load import parse_workloads
from tests.scaleset import synthetic


@pytest.fixture(scope="module")
def assembled(full_catalog: Catalog) -> tuple[tuple[Any, ...], dict[str, Any], Any]:
    """assemble's arguments when planning synthetic(200) (over its candidates: column
    generation is not what is tested here), and the plan it made."""
    ws = parse_workloads(yaml.safe_dump(synthetic(200)), "synthetic-200.yaml", full_catalog)
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    real = planning.assemble

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    planning.assemble = spy  # type: ignore[assignment]
    try:
        plan = planning.plan_workloads(ws, full_catalog, all_offers=False)
    finally:
        planning.assemble = real  # type: ignore[assignment]
    return seen[0][0], seen[0][1], plan


def cheapest_pools(wc: Any, chosen: Any, marginal: Marginal) -> list[tuple[str, Decimal]]:
    """The README's alternatives, restated: other pools by what the plan would pay a
    month (4 places), ties by offer key, the first of each pool, at most 5."""
    ranked = sorted(((money(round(marginal.dollars(o), 4)), o.offer.key, o)
                     for o in wc.alternatives if o.pool_id != chosen.pool_id),
                    key=lambda t: (t[0], t[1]))
    out, pools = [], set()
    for cost, key, o in ranked:
        if o.pool_id not in pools and len(out) < planning.MAX_ALTERNATIVES:
            pools.add(o.pool_id)
            mode = o.variant.mode
            out.append((key + (f" {mode}" if mode.shared else ""), cost))
    return out


def test_plan_workloads_hands_its_priced_solution_to_assemble(assembled: Any) -> None:
    args, kwargs, plan = assembled
    priced = kwargs["priced"]
    assert priced is not None and priced.chosen == args[4].chosen
    fresh = planning.assemble(*args, **{**kwargs, "priced": None})
    assert dumps_plan(fresh) == dumps_plan(plan)


def test_a_different_placement_is_priced_anew(assembled: Any) -> None:
    args, kwargs, _ = assembled
    ws, model, sol, priced = args[0], args[3], args[4], kwargs["priced"]
    assert priced.cost_of(ws, model, sol) is priced.cost
    other = planning.Priced({**priced.chosen, "w00000": None}, priced.cost)
    fresh = other.cost_of(ws, model, sol)
    assert fresh is not priced.cost and fresh.totals == priced.cost.totals


def test_alternatives_are_each_workloads_own_even_when_shared(assembled: Any) -> None:
    args, _, plan = assembled
    cands, sol = args[2], args[4]
    assert sum(wc.copy_of is not None for wc in cands) >= 10  # copies share results
    by_name = {wc.workload.name: wc for wc in cands}
    marginal = Marginal.of_solution(sol)
    for p in plan.placements:
        chosen = sol.chosen[p.workload]
        want = cheapest_pools(by_name[p.workload], chosen, marginal)
        assert [(a.offer, a.cost) for a in p.alternatives] == want
        saved = money(round(marginal.leaving(p.workload), 4))
        assert all(a.delta == a.cost - saved for a in p.alternatives)


def test_rejections_count_cheaper_offers_against_each_workloads_own_cost(
        assembled: Any) -> None:
    args, _, plan = assembled
    cands, sol = args[2], args[4]
    by_name = {wc.workload.name: wc for wc in cands}
    marginal = Marginal.of_solution(sol)
    for p in plan.placements:
        wc = by_name[p.workload]
        limit = planning.charged_unit_cost(wc.workload, sol.chosen[p.workload], marginal)
        assert {r.reason: r.cheaper for r in p.rejected} == \
            {reason: r.cheaper_than(limit) for reason, r in wc.rejected.items()}


def test_run_costs_and_machine_requests_are_each_workloads_own(assembled: Any) -> None:
    args, _, plan = assembled
    ws, cands, sol = args[0], args[2], args[4]
    by_name = {wc.workload.name: wc.workload for wc in cands}
    for p in plan.placements:
        w, o = by_name[p.workload], sol.chosen[p.workload]
        assert p.cost == planning._cost(ws, w, o)
        machine = planning._machine(w, o)
        assert (p.cpus_per_node, p.memory_gib_per_node, p.host) == \
            (machine["cpus_per_node"], machine["memory_gib_per_node"], machine["host"])
