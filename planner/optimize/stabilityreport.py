"""What re-planning against a base plan did: moves, workloads kept for stability, savings.

Money is USD (``Decimal``, 4 places): ``saving`` is $ per month (positive:
cheaper), ``move_price`` is $ once, as the solver charged it (see
:mod:`planner.optimize.stability`). A workload is **kept** when it stayed in
its base pool although one of its options was cheaper and had room given
everyone else's placement (no quota, capacity or budget ruled it out), and
the saving did not clear the move's price: that saving is given up for
stability. A move is **forced** when the workload could not have stayed: its base
pool is no longer one of its options, or staying would break a quota, capacity or
budget row given the rest of the plan (a quota cut). Moves and kept workloads are
sorted by workload name.
"""

from __future__ import annotations

from planner.optimize.candidates import Option, WorkloadCandidates
from planner.optimize.facts import Usage, violations
from planner.optimize.solve import Model, Solution
from planner.optimize.stability import Base
from planner.plan import Kept, Move, Stability, money

EPS = 1e-6


def stability_report(base: Base, cands: list[WorkloadCandidates], model: Model, sol: Solution,
                     use: Usage) -> Stability:
    by_name = {wc.workload.name: wc for wc in cands}
    moves: list[Move] = []
    kept: list[Kept] = []
    for name in sorted(base.pool_of):
        wc, now = by_name.get(name), sol.chosen.get(name)
        if wc is None or now is None:
            continue
        pool = base.pool_of[name]
        stay = next((o for o in wc.options if o.pool_id == pool), None)
        if now.pool_id != pool:
            staying = stay.monthly if stay is not None else float(base.monthly_of[name])
            moves.append(Move(workload=name, team=wc.workload.team, from_pool=pool,
                              to_pool=now.pool_id, saving=money(round(staying - now.monthly, 4)),
                              move_price=money(round(now.move_price, 4)),
                              forced=stay is None or bool(violations(model, sol, use, stay))))
        else:
            held = _kept(model, sol, use, wc, now)
            if held is not None:
                kept.append(held)
    return Stability(
        base_placements=len(base.pool_of), moves=tuple(moves), kept=tuple(kept),
        missing=tuple(sorted(base.workloads - set(by_name))),
        move_saving=sum((m.saving for m in moves), money(0)),
        saving_given_up=sum((k.saving for k in kept), money(0)),
    )


def _kept(model: Model, sol: Solution, use: Usage, wc: WorkloadCandidates,
          now: Option) -> Kept | None:
    """The cheapest option with room that the move price alone kept ``now``'s workload from."""
    for o in sorted(wc.options, key=lambda o: (o.monthly, o.pool_id)):
        if o.monthly >= now.monthly - EPS:
            return None
        if o.pool_id == now.pool_id or violations(model, sol, use, o):
            continue
        saving = now.monthly - o.monthly
        if saving > o.move_price + EPS:
            return None  # not held back by its price (the solver traded it off otherwise)
        return Kept(workload=wc.workload.name, team=wc.workload.team, pool=now.pool_id,
                    cloud=now.offer.cloud, region=now.offer.region, alternative=o.pool_id,
                    alternative_cloud=o.offer.cloud, alternative_region=o.offer.region,
                    saving=money(round(saving, 4)), move_price=money(round(o.move_price, 4)))
    return None
