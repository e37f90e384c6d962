"""Marginal prices (:class:`planner.optimize.facts.Marginal`) work each pool's figures out
once: they must equal the cost function's (:class:`planner.plancost.PoolLoad`) to the bit,
and stay those of the placement it was built from."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.optimize.candidates import Option, Variant
from planner.optimize.facts import Held, Marginal
from planner.plancost import PoolLoad, pieces

MONTH = 730.0
POOLS = ["p1", "p2", "p3"]  # p3: no one holds it


@st.composite
def helds(draw: Any) -> Held:
    share = draw(st.sampled_from([1.0, 0.5, 0.25, 0.071429, 0.333333, 2.0]))
    hours = draw(st.one_of(st.sampled_from([730.0, 100.0, 1460.0]),
                           st.floats(0.5, 2000.0).map(lambda h: round(h, 4))))
    return Held(pool=draw(st.sampled_from(POOLS[:2])), pieces=tuple(pieces(share, hours, MONTH)),
                share_hours=share * hours, node_price=draw(st.sampled_from([1.5, 3.2, 40.0])),
                own=draw(st.sampled_from([0.0, 12.5])))


def option(workload: str, pool: str, job: Held) -> Option:
    """An option of ``workload`` on ``pool`` holding ``job``'s pieces (what dollars reads)."""
    return Option(workload=workload, variant=cast(Variant, None), nodes=1, runtime=1.0,
                  rework=0.0, run_cost=0.0, monthly=250.0, objective=260.0, hourly=1.0,
                  run_share=job.pieces[-1][1], run_hours=job.share_hours / job.pieces[-1][1],
                  pieces=job.pieces, node_price=job.node_price, pool_id=pool,
                  domain=("aws", "r", "f", "on-demand"), units_per_node=1.0, rank=0,
                  preferred=False)


def expected(held: dict[str, Held]) -> dict[str, list[float]]:
    """Each workload's leaving, charged and dollars on every pool, from fresh pool loads
    (the cost function's definitions)."""
    loads: dict[str, PoolLoad] = {pool: PoolLoad() for pool in POOLS}
    total = dict.fromkeys(POOLS, 0.0)
    for h in held.values():
        total[h.pool] += h.share_hours
        for hours, share in h.pieces:
            loads[h.pool].add(hours, share)
    out = {}
    for name, h in held.items():
        load = loads[h.pool]
        saved = load.node_hours() - load.without_all(h.pieces).node_hours()
        part = h.share_hours / total[h.pool] if total[h.pool] > 0 else 0.0
        figures = [h.own + h.node_price * saved,
                   h.own + h.node_price * load.node_hours() * part]
        for pool in POOLS:
            there = loads[pool].without_all(h.pieces) if pool == h.pool else loads[pool]
            o = option(name, pool, h)
            figures.append(o.monthly - o.compute + o.node_price * there.added_by(h.pieces))
        out[name] = figures
    return out


def figures(m: Marginal, held: dict[str, Held]) -> dict[str, list[float]]:
    return {name: [m.leaving(name), m.charged(name),
                   *(m.dollars(option(name, pool, h)) for pool in POOLS)]
            for name, h in held.items()}


@settings(max_examples=150, deadline=None)
@given(st.lists(helds(), min_size=1, max_size=20), helds())
def test_marginal_prices_are_the_cost_functions_and_stay_those_of_its_placement(
        jobs: list[Held], newcomer: Held) -> None:
    held = {f"w{i}": h for i, h in enumerate(jobs)}
    want = expected(held)
    m = Marginal(held)
    assert repr(figures(m, held)) == repr(want)
    assert repr(figures(m, held)) == repr(want)  # remembered figures are the same
    original = dict(held)
    held["w0"] = newcomer  # the caller's placement changes after the prices were made
    held["late"] = newcomer
    assert repr(figures(m, original)) == repr(want)
    assert repr(figures(Marginal(held), held)) == repr(expected(held))


@settings(max_examples=100, deadline=None)
@given(st.lists(helds(), min_size=1, max_size=12))
def test_prices_in_one_loop_are_each_options_dollars_and_objective(jobs: list[Held]) -> None:
    held = {f"w{i}": h for i, h in enumerate(jobs)}
    m = Marginal(held)
    for name, h in held.items():
        options = [option(name, pool, h) for pool in POOLS]  # its own pool among them
        assert repr(m.prices(options)) == repr([m.dollars(o) for o in options])
        assert repr(m.objectives(options)) == repr([m.objective(o) for o in options])
