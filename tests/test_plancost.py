"""The one cost function (:mod:`planner.plancost`): whole nodes for the hours they are up."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.plan import money
from planner.plancost import (
    FixedLoad,
    Hold,
    PoolLoad,
    Rate,
    apportion,
    levels,
    node_hours,
    pieces,
    price_plan,
    reprice,
)
from tests.plan_factory import make_plan

ZERO = Decimal(0)
SLOTS = [1.0, 0.5, 0.25, 0.125, 2.0, 3.0]  # power-of-two slots and whole multi-node jobs


def brute_node_hours(jobs: list[tuple[float, float]], month: float) -> float:
    """Hour by hour (integer hours): whole nodes for the shares still running."""
    total = 0.0
    for t in range(int(month)):
        running = sum(s for h, s in jobs if h > t)
        total += math.ceil(running - 1e-9)
    return total


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from(SLOTS)), max_size=12))
def test_node_hours_are_whole_nodes_while_any_job_runs(jobs: list[tuple[int, float]]) -> None:
    as_float = [(float(h), s) for h, s in jobs]
    assert node_hours(as_float) == brute_node_hours(as_float, 40)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from(SLOTS)), max_size=10),
       st.integers(1, 40), st.sampled_from(SLOTS))
def test_added_node_hours_is_the_difference(jobs: list[tuple[int, float]], hours: int,
                                            share: float) -> None:
    load = PoolLoad()
    for h, s in jobs:
        load.add(float(h), s)
    before = load.node_hours()
    added = load.added_node_hours(float(hours), share)
    load.add(float(hours), share)
    assert added == load.node_hours() - before
    assert load.without_all([(float(hours), share)]).node_hours() == before


STORED_SHARES = [1.0, 0.5, 0.25, 0.071429, 0.333333, 0.142857, 0.041667, 2.0, 3.0]
Job = tuple[tuple[float, float], ...]


@st.composite
def job_pieces(draw: Any) -> Job:
    """A job's pieces in a 730-hour month: shares as plans store them (6 places), hours
    often shared with other jobs, sometimes beyond the month (overlapping copies)."""
    hours = draw(st.one_of(st.sampled_from([730.0, 365.0, 100.0, 12.5, 1460.0]),
                           st.floats(0.25, 2500.0).map(lambda h: round(h, 4))))
    return tuple(pieces(draw(st.sampled_from(STORED_SHARES)), hours, 730.0))


@settings(max_examples=300, deadline=None)
@given(st.lists(job_pieces(), max_size=25), st.lists(job_pieces(), min_size=1, max_size=4))
def test_a_fixed_load_gives_the_pool_loads_figures_to_the_bit(held: list[Job],
                                                              others: list[Job]) -> None:
    load = PoolLoad()
    for job in held:
        for hours, share in job:
            load.add(hours, share)
    fixed = FixedLoad(load.by_hours)
    assert repr(fixed.node_hours()) == repr(load.node_hours())
    for job in [*others, *held[:3]]:
        for _ in range(2):  # the second answer is the remembered one
            assert repr(fixed.added_by(job)) == repr(load.added_by(job))
            assert repr(fixed.without_node_hours(job)) == repr(load.without_all(job).node_hours())
    assert repr(fixed.node_hours()) == repr(load.node_hours())  # the load is left as it was


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 48), st.sampled_from([1, 2, 3, 4, 8, 16]), st.integers(1, 40),
       st.integers(0, 1))
def test_slots_stored_to_six_places_fill_whole_nodes(clients: int, gpus: int, nodes: int,
                                                     extra: int) -> None:
    """A shared node of ``gpus`` GPUs at ``clients`` slots each: its jobs' shares are
    stored rounded to 6 places (1/14 as 0.071429, fourteen of which add up to 1.000006),
    yet exactly ``nodes`` full nodes' worth of slots is ``nodes`` nodes, one slot more is
    one node more."""
    slots = clients * gpus
    share = round(1 / slots, 6)
    jobs = [(730.0, share)] * (slots * nodes + extra)
    [level] = levels(jobs)
    assert level.nodes == nodes + extra
    assert node_hours(jobs) == 730.0 * (nodes + extra)


def test_levels_of_a_half_node_job_and_a_long_quarter() -> None:
    # 0.5 for 10 h and 0.25 for 30 h: one node for 30 h (never more than 0.75 running)
    found = levels([(10.0, 0.5), (30.0, 0.25)])
    assert [(lv.hours, lv.span, lv.share, lv.nodes) for lv in found] == [
        (30.0, 20.0, 0.25, 1), (10.0, 10.0, 0.75, 1)]
    # two whole nodes for 10 h, one of them stays for 30 h: 2x10 + 1x20 node-hours
    assert node_hours([(10.0, 1.0), (30.0, 1.0)]) == 40.0


def test_runs_beyond_the_month_overlap() -> None:
    assert pieces(1.0, 700.0, 730.0) == [(700.0, 1.0)]
    # 1,600 h of runs in a 730 h month: two copies all month, a third for 140 h
    assert pieces(0.5, 1600.0, 730.0) == [(730.0, 1.0), (140.0, 0.5)]
    assert pieces(1.0, 1460.0, 730.0) == [(730.0, 2.0)]


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_apportion_adds_up_and_stays_within_a_cent(total_units: int, weights: list[int]) -> None:
    total = Decimal(total_units) * Decimal("0.0001")
    named = {f"k{i}": Decimal(w) for i, w in enumerate(weights)}
    parts = apportion(total, named)
    assert sum(parts.values(), ZERO) == total
    weight = sum(named.values(), ZERO)
    for k, part in parts.items():
        if named[k] == 0 and weight > 0:
            assert part == 0
        if weight > 0:
            assert abs(part - total * named[k] / weight) < Decimal("0.0001")


@st.composite
def arbitrary_plans(draw: Any) -> tuple[list[Rate], list[Hold], float]:
    month = draw(st.sampled_from([730.0, 720.0, 744.0]))
    rates = []
    for i in range(draw(st.integers(1, 4))):
        cloud = draw(st.sampled_from(["aws", "gcp", "azure", "k8s"]))
        rates.append(Rate(
            pool=f"p{i}", cloud=cloud, region=draw(st.sampled_from(["r1", "r2"])),
            node_hourly=Decimal(draw(st.integers(0, 5_000_000))) / Decimal(100_000),
            gpus_per_node=float(draw(st.sampled_from([0, 1, 4, 8])))))
    holds = []
    for j in range(draw(st.integers(0, 10))):
        holds.append(Hold(
            workload=f"w{j}", team=draw(st.sampled_from(["a", "b", "c"])),
            pool=draw(st.sampled_from([r.pool for r in rates])),
            share=draw(st.sampled_from(SLOTS)),
            hours=draw(st.one_of(st.floats(0.5, 900.0).map(lambda h: round(h, 4)),
                                 st.just(month))),
            spot_risk=money(Decimal(draw(st.integers(0, 10**6))) / 1000),
            egress=money(Decimal(draw(st.integers(0, 10**6))) / 1000)))
    return rates, holds, month


@settings(max_examples=300, deadline=None)
@given(arbitrary_plans())
def test_every_sum_equals_the_total_and_the_total_is_the_pools(
        plan: tuple[list[Rate], list[Hold], float]) -> None:
    rates, holds, month = plan
    cost = price_plan(rates, holds, month)
    t = cost.totals
    # the total is the pools' cost: whole nodes for the hours they are up, plus lines
    assert t.monthly == sum((p.monthly for p in cost.pools.values()), ZERO)
    assert t.hourly == sum((p.hourly for p in cost.pools.values()), ZERO)
    for rate in rates:
        p = cost.pools[rate.pool]
        mine = [h for h in holds if h.pool == rate.pool]
        jobs = [piece for h in mine for piece in pieces(h.share, h.hours, month)]
        assert abs(p.node_hours - Decimal(repr(node_hours(jobs)))) <= Decimal("0.0001")
        assert p.compute == money(rate.node_hourly * p.node_hours)
        assert p.hourly == money(rate.node_hourly * math.ceil(sum(s for _, s in jobs) - 1e-9))
        assert p.compute == sum((cost.jobs[h.workload].compute for h in mine), ZERO) + \
            p.idle.monthly
        assert p.monthly == p.compute + sum((h.spot_risk + h.egress for h in mine), ZERO)
        assert p.idle.monthly >= 0 and p.idle.hourly >= 0
        assert p.used_gpu_hours <= p.paid_gpu_hours
        assert sum((s.idle.monthly for s in p.by_team.values()), ZERO) == p.idle.monthly
    # every grouping sums to the total, idle and GPU-hours too
    for groups in (t.by_team, t.by_cloud, t.by_region):
        assert sum((g.monthly for g in groups.values()), ZERO) == t.monthly
        assert sum((g.hourly for g in groups.values()), ZERO) == t.hourly
        assert sum((g.idle.monthly for g in groups.values()), ZERO) == t.idle.monthly
        assert sum((g.idle.hourly for g in groups.values()), ZERO) == t.idle.hourly
        assert sum((g.paid_gpu_hours for g in groups.values()), ZERO) == t.paid_gpu_hours
        assert sum((g.used_gpu_hours for g in groups.values()), ZERO) == t.used_gpu_hours
    # a team pays its jobs' lines and its part of idle
    for team, g in t.by_team.items():
        own = sum((cost.jobs[h.workload].monthly for h in holds if h.team == team), ZERO)
        idle = sum((p.by_team[team].idle.monthly for p in cost.pools.values()
                    if team in p.by_team), ZERO)
        assert g.monthly == own + idle and g.idle.monthly == idle


def test_idle_goes_to_teams_by_share_hours() -> None:
    # one 8-GPU node for 20 h; team a uses 1/2 of it for 20 h, team b 1/4 for 10 h
    rate = Rate(pool="p", cloud="gcp", region="r", node_hourly=Decimal("10"), gpus_per_node=8)
    holds = [Hold("a1", "a", "p", 0.5, 20.0, ZERO, ZERO), Hold("b1", "b", "p", 0.25, 10.0, ZERO,
                                                                ZERO)]
    cost = price_plan([rate], holds, 730.0)
    pool = cost.pools["p"]
    assert pool.node_hours == Decimal("20.0000") and pool.compute == Decimal("200.0000")
    assert (cost.jobs["a1"].compute, cost.jobs["b1"].compute) == (Decimal("100.0000"),
                                                                  Decimal("25.0000"))
    assert pool.idle.monthly == Decimal("75.0000")
    # share-hours 10 (a) and 2.5 (b): idle splits 60 / 15
    assert pool.by_team["a"].idle.monthly == Decimal("60.0000")
    assert pool.by_team["b"].idle.monthly == Decimal("15.0000")
    assert cost.totals.by_team["a"].monthly == Decimal("160.0000")
    assert (pool.paid_gpu_hours, pool.used_gpu_hours) == (Decimal("160.0000"), Decimal("100.0000"))


def test_a_hand_built_plan_stores_what_the_function_gives() -> None:
    plan = make_plan()
    cost = reprice(plan)
    assert cost.totals == plan.totals
    for pool in plan.pools:
        assert (pool.monthly, pool.hourly, pool.idle) == (
            cost.pools[pool.id].monthly, cost.pools[pool.id].hourly, cost.pools[pool.id].idle)
