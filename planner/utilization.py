"""How full a plan's pools are, and why not: used against paid GPU-hours.

The figures are the cost function's (:mod:`planner.plancost`), read from
``plan.json``, never recomputed: every pool and every group of the totals (per
team, cloud, region and the plan) stores ``paid_gpu_hours`` (its whole nodes'
node-hours x GPUs per node) and ``used_gpu_hours`` (its jobs' share-hours x GPUs
per node), both GPU-hours a month. **Utilization = used / paid**; it is undefined
(``None``, shown as ``-``) where nothing is paid: CPU pools and min-0 fallback
pools.

Why a pool is under-used comes from the cost function's levels
(:func:`planner.plancost.levels`): at level l the pool runs ``ceil(S_l)`` whole
nodes for ``S_l`` nodes' worth of jobs over ``span_l`` hours, so its idle
node-hours are ``sum_l span_l x (ceil(S_l) - S_l)`` and each level's part has
one reason:

* ``lone-fractional``: the pool holds a single job, so all its idle is that job
  on part of a node (a lone ``T4:2`` on a 4-GPU node pays the node);
* ``rounding``: the level where every job of the pool runs (from the start of
  the month to the end of the shortest job): the jobs' shares add up to
  ``S_L`` nodes' worth and ``ceil(S_L)`` whole nodes run;
* ``long-tail``: the levels after the shortest job has ended: the longer jobs
  keep whole nodes up for less than those nodes' worth.

Each reason carries its idle GPU-hours (idle node-hours x GPUs per node, 4
places), so a pool's reasons add up to ``paid - used`` (to the plan's rounding).
``--warn-utilization 50%`` turns every pool below the threshold into one warning
line naming its reasons, largest first.

May import: ``planner.plan``, ``planner.plancost``, ``planner.errors``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from planner.errors import UsageError
from planner.plan import Placement, Plan, Pool, money
from planner.plancost import Level, dec, levels, pieces

ZERO = Decimal(0)
RATIO_PLACES = Decimal("0.0001")
NAMES_SHOWN = 3

IdleCode = Literal["lone-fractional", "rounding", "long-tail"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GpuHours(Protocol):
    """Anything that stores the cost function's GPU-hours (a pool, a group, the totals)."""

    @property
    def paid_gpu_hours(self) -> Decimal: ...

    @property
    def used_gpu_hours(self) -> Decimal: ...


# -- figures -----------------------------------------------------------------------
def utilization(x: GpuHours) -> Decimal | None:
    """used / paid, 0..1 to 4 places; None when nothing is paid."""
    if x.paid_gpu_hours <= 0:
        return None
    return (x.used_gpu_hours / x.paid_gpu_hours).quantize(RATIO_PLACES, rounding=ROUND_HALF_EVEN)


def percent(ratio: Decimal | None) -> str:
    """``0.5`` -> ``50.0%``; ``-`` for None."""
    if ratio is None:
        return "-"
    return f"{(ratio * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def utilization_text(x: GpuHours) -> str:
    """``50.0%`` (or ``-``) of the pool, group or plan."""
    return percent(utilization(x))


def gpu_hours(value: Decimal) -> str:
    """``1,234.5`` GPU-hours (one decimal)."""
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN):,}"


def use_text(x: GpuHours) -> str:
    """``50.0% (4.0 of 8.0 GPU-h)``: the figure with what it is made of."""
    return (f"{utilization_text(x)} ({gpu_hours(x.used_gpu_hours)} of "
            f"{gpu_hours(x.paid_gpu_hours)} GPU-h)")


# -- why a pool is idle ------------------------------------------------------------------
class IdleReason(_Model):
    """One reason for a pool's idle GPU-hours, with the jobs it concerns."""

    code: IdleCode
    gpu_hours: Decimal
    workloads: tuple[str, ...]
    text: str


class PoolUse(_Model):
    """A pool's GPU-hours a month, its utilization (0..1 or None) and why it is idle."""

    pool: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None
    capacity: str
    nodes: int
    paid_gpu_hours: Decimal
    used_gpu_hours: Decimal
    utilization: Decimal | None
    idle_monthly: Decimal
    reasons: tuple[IdleReason, ...]


def idle_reasons(pool: Pool, jobs: Sequence[Placement], hours_per_month: float
                 ) -> tuple[IdleReason, ...]:
    """The pool's idle GPU-hours by reason (module docstring), largest first."""
    gpus = dec(pool.accelerator_count) if pool.accelerator else ZERO
    held = {p.workload: pieces(p.pool_share, p.monthly_hours, hours_per_month) for p in jobs}
    found = levels(piece for parts in held.values() for piece in parts)
    if gpus <= 0 or not found:
        return ()
    idle = []
    for i, level in enumerate(found):
        below = dec(found[i + 1].hours) if i + 1 < len(found) else ZERO
        idle.append((dec(level.hours) - below) * (level.nodes - dec(level.share)))
    if len(jobs) == 1:
        return _kept([_lone(pool, jobs[0], sum(idle, ZERO) * gpus)])
    peak = found[-1]
    tail = found[:-1]
    reasons = [_rounding(jobs, peak.share, peak.nodes, idle[-1] * gpus)]
    if tail:
        longest = {name: max(h for h, _ in parts) for name, parts in held.items()}
        outliving = sorted((n for n, h in longest.items() if h > peak.hours),
                           key=lambda n: (-longest[n], n))
        reasons.append(_long_tail(outliving, found[0].hours - peak.hours, tail,
                                  sum(idle[:-1], ZERO) * gpus))
    return _kept(reasons)


def _kept(reasons: Iterable[IdleReason]) -> tuple[IdleReason, ...]:
    """Reasons with idle GPU-hours (at the plan's 4 places), largest first."""
    return tuple(sorted((r for r in reasons if r.gpu_hours > 0),
                        key=lambda r: (-r.gpu_hours, r.code)))


def _lone(pool: Pool, p: Placement, idle_gpu_hours: Decimal) -> IdleReason:
    node = "the node's" if p.nodes == 1 else "each node's"
    if pool.sharing is not None and pool.slots_per_node:
        used = round(p.node_share * pool.slots_per_node, 4)
        what = f"{used:g} of {node} {pool.slots_per_node} {pool.sharing.slot} slots"
    else:
        used = round(p.node_share * pool.accelerator_count, 4)
        what = f"{used:g} of {node} {pool.accelerator_count:g} {pool.accelerator} GPUs"
    paid = "the whole node is" if p.nodes == 1 else f"{p.nodes} whole nodes are"
    return IdleReason(code="lone-fractional", gpu_hours=money(idle_gpu_hours),
                      workloads=(p.workload,),
                      text=f"a lone fractional job: {p.workload} is the pool's only job and uses "
                      f"{what}; {paid} paid")


def _rounding(jobs: Sequence[Placement], share: float, nodes: int,
              idle_gpu_hours: Decimal) -> IdleReason:
    worth = f"{round(share, 4):g}"
    return IdleReason(code="rounding", gpu_hours=money(idle_gpu_hours),
                      workloads=tuple(sorted(p.workload for p in jobs)),
                      text=f"rounding: while all {len(jobs)} jobs run they need {worth} nodes' "
                      f"worth and {nodes} whole node{'s' if nodes != 1 else ''} run")


def _long_tail(names: Sequence[str], hours: float, tail: Sequence[Level],
               idle_gpu_hours: Decimal) -> IdleReason:
    """The jobs that outlive the pool's shortest one, the most nodes they keep up and for how
    long after it ends (``hours``; "up to" when they end at different times)."""
    shown = ", ".join(names[:NAMES_SHOWN]) + (
        f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")
    verb = "keeps" if len(names) == 1 else "keep"
    most = max(level.nodes for level in tail)
    nodes = "1 node" if most == 1 else f"{'up to ' if len(tail) > 1 else ''}{most} nodes"
    upto = "up to " if len(tail) > 1 else ""
    return IdleReason(code="long-tail", gpu_hours=money(idle_gpu_hours), workloads=tuple(names),
                      text=f"a long tail: {shown} {verb} {nodes} up for {upto}{round(hours, 2):g} h "
                      "after the pool's shortest job ends")


def pool_use(plan: Plan, pool: Pool, jobs: Sequence[Placement] | None = None) -> PoolUse:
    """One pool's use; ``jobs`` are its placements (found in ``plan`` when not given)."""
    mine = jobs if jobs is not None else [p for p in plan.placements if p.pool == pool.id]
    return PoolUse(
        pool=pool.id, cloud=pool.cloud, region=pool.region, zone=pool.zone,
        instance_type=pool.instance_type, accelerator=pool.accelerator, capacity=pool.capacity,
        nodes=pool.nodes, paid_gpu_hours=pool.paid_gpu_hours, used_gpu_hours=pool.used_gpu_hours,
        utilization=utilization(pool), idle_monthly=pool.idle.monthly,
        reasons=idle_reasons(pool, mine, plan.hours_per_month))


def pool_uses(plan: Plan) -> tuple[PoolUse, ...]:
    """Every pool's use, in the plan's pool order (by id)."""
    members: dict[str, list[Placement]] = defaultdict(list)
    for p in plan.placements:
        members[p.pool].append(p)
    return tuple(pool_use(plan, pool, members[pool.id]) for pool in plan.pools)


# -- the threshold ---------------------------------------------------------------------
_THRESHOLD = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*$")


def parse_threshold(text: str, flag: str = "--warn-utilization") -> Decimal:
    """``"50%"`` or ``"50"`` -> 0.5 (a utilization, 0..1); UsageError otherwise."""
    m = _THRESHOLD.match(text)
    try:
        value = Decimal(m.group(1)) / 100 if m else None
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        value = None
    if value is None or value > 1:
        raise UsageError(f"expected a percent from 0% to 100% like 50%, got {text!r}",
                         field=flag)
    return value


def low_pools(uses: Iterable[PoolUse], threshold: Decimal) -> tuple[PoolUse, ...]:
    """Pools with paid GPU-hours whose utilization is below ``threshold`` (0..1), exactly."""
    return tuple(u for u in uses if u.paid_gpu_hours > 0
                 and u.used_gpu_hours < threshold * u.paid_gpu_hours)


def warning_line(u: PoolUse, threshold: Decimal) -> str:
    """One line: the pool, its figure, the threshold and its reasons, largest first."""
    why = "; ".join(f"{r.text} ({gpu_hours(r.gpu_hours)} idle GPU-h)" for r in u.reasons)
    return (f"pool {u.pool}: GPU utilization {use_text(u)} is below {percent(threshold)}: "
            f"{why or 'its nodes are idle part of the time'}")


def utilization_warnings(plan: Plan, threshold: Decimal | None,
                         uses: Sequence[PoolUse] | None = None) -> tuple[str, ...]:
    """The warning lines of ``plan``'s pools below ``threshold`` (none without one);
    ``uses``: the plan's :func:`pool_uses`, when already computed."""
    if threshold is None:
        return ()
    found = uses if uses is not None else pool_uses(plan)
    return tuple(warning_line(u, threshold) for u in low_pools(found, threshold))

