"""What a plan costs: whole nodes for the hours they are up. The one cost function.

The solver's objective (:mod:`planner.optimize.solve`), the plan's pools,
placements, ``totals`` and team budgets (:mod:`planner.optimize.planning`),
and everything that re-prices a plan call this module; everything else
(diff, PR comment, explain, preview, Terraform and Pulumi outputs) reads the
figures it stored in ``plan.json``.

The rule (README, "What a plan costs")
    A job j holds ``share`` s_j of its pool (nodes x node share) while a run
    runs, and its runs take R_j hours a month (runs/month x runtime; rework
    after spot interruptions excluded: it is the job's spot-risk line;
    services R = the whole month). Where R_j exceeds the month's H hours,
    runs overlap: the job holds k = floor(R/H) copies all month and one more
    for the remaining R - kH hours (its *pieces*, :func:`pieces`), so its
    share-hours are always s_j x R_j.

    Jobs of a pool start together at the start of the month and run their
    hours in one block. At hour t the pool runs ceil(S(t)) whole nodes, S(t)
    the total share of its jobs still running (the autoscaler releases a node
    when the last job on it ends; the scheduler keeps longer jobs together).
    A node is up while any job on it runs.

    With the pool's distinct piece hours h_1 > h_2 > ... > h_L (h_{L+1} = 0)
    and S_l the total share of its pieces with h >= h_l:

        node_hours = sum_l (h_l - h_{l+1}) x ceil(S_l)
        compute    = node $/h (after discount) x node_hours          $/month
        peak nodes = ceil(S_L)  (autoscaler max, quota and capacity use)

    Idle on shared nodes = compute - sum_j s_j x R_j x node $/h: the part of
    whole nodes no job's share pays for. It is attributed to the pool's teams
    in proportion to their share-hours (Kubecost's "share idle"), so the sums
    per team, cloud, region and pool all equal the total.

    Per job: compute (its share-hours at the node rate), spot risk and egress
    (its own lines, per run x runs). A pool's monthly cost is its compute plus
    its jobs' spot risk and egress; the plan's total is the sum of its pools.
    Hourly figures are the peak hour, when every job of the pool runs: a pool
    costs peak nodes x node $/h.

    GPU-hours: ``paid_gpu_hours`` = node_hours x GPUs per node,
    ``used_gpu_hours`` = sum_j s_j x R_j x GPUs per node; utilization is
    used / paid.

Money is exact ``Decimal`` until one final rounding to 4 places, and every
split of a rounded amount (a pool's compute into jobs and idle, idle into
teams) is a largest-remainder apportionment, so the parts add up to the
whole exactly.

May import: ``planner.plan``, ``planner.errors``.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import TypeVar

from planner.plan import (
    CENT,
    GroupCost,
    Money2,
    MonthlyLines,
    Placement,
    Plan,
    Pool,
    TeamShare,
    Totals,
    money,
)

SHARE_TOLERANCE = 1e-9  # a share sum this close above an integer is that integer
# The most slots one node offers (48 clients x 16 GPUs): every node share is a whole
# number of 1/d with d at most this. Shares are stored to 6 places (1/14 as 0.071429), so
# fourteen of them add up to 1.000006 and would open a second node; the levels add the
# exact fractions instead (:func:`exact_share`).
SLOT_DENOMINATOR = 768
ZERO = Decimal(0)
K = TypeVar("K", bound=Hashable)


# -- node counts over the month (floats: the solver and the plan share these) --
def whole_nodes(share: float) -> int:
    """Whole nodes that hold ``share`` nodes' worth of jobs."""
    return max(0, math.ceil(share - SHARE_TOLERANCE))


@functools.lru_cache(maxsize=65536)
def whole_share_hours(pieces: tuple[tuple[float, float], ...]) -> float | None:
    """Share-hours of a job whose every piece holds whole nodes (None if one does not):
    exactly the node-hours it adds to or frees from any pool."""
    held = [(h, s) for h, s in pieces if h > 0 and s > 0]
    if not all(s.is_integer() for _, s in held):
        return None
    return sum(h * s for h, s in held)


@functools.lru_cache(maxsize=4096)
def exact_share(share: float) -> Fraction:
    """The fraction of a node a stored share stands for: the nearest p/q with q at most
    :data:`SLOT_DENOMINATOR` (6-place rounding moves a share by at most 5e-7; two such
    fractions lie at least 1/768**2 = 1.7e-6 apart, so the nearest is the one meant)."""
    return Fraction(share).limit_denominator(SLOT_DENOMINATOR)


@dataclass(frozen=True, slots=True)
class Level:
    """From ``hours - span`` to ``hours`` into the month the pool runs ``nodes`` nodes
    for jobs of total ``share``."""

    hours: float
    span: float
    share: float
    nodes: int


def pieces(share: float, hours: float, hours_per_month: float) -> list[tuple[float, float]]:
    """``(hours, share)`` a job holds its pool within one month: one piece while its runs
    fit the month, else k = floor(hours / month) overlapping copies all month and one
    more for the rest (share-hours always ``share x hours``)."""
    if hours <= hours_per_month:
        return [(hours, share)]
    copies = math.floor(hours / hours_per_month + 1e-12)
    rest = hours - copies * hours_per_month
    out = [(hours_per_month, share * copies)]
    if rest > 1e-9:
        out.append((rest, share))
    return out


def peak_share(share: float, hours: float, hours_per_month: float) -> float:
    """Nodes' worth a job holds at the peak hour (all its pieces run at hour 0)."""
    return sum(s for _, s in pieces(share, hours, hours_per_month))


def levels(jobs: Iterable[tuple[float, float]]) -> list[Level]:
    """The pool's levels from its jobs' ``(hours, share)``, longest hours first."""
    by_hours: dict[float, Fraction] = defaultdict(Fraction)
    for hours, share in jobs:
        if hours > 0 and share > 0:
            by_hours[hours] += exact_share(share)
    out: list[Level] = []
    running = Fraction(0)
    distinct = sorted(by_hours, reverse=True)
    for i, hours in enumerate(distinct):
        running += by_hours[hours]
        below = distinct[i + 1] if i + 1 < len(distinct) else 0.0
        out.append(Level(hours, hours - below, float(running), math.ceil(running)))
    return out


def node_hours(jobs: Iterable[tuple[float, float]]) -> float:
    """Node-hours a month of a pool running ``jobs`` (``(hours, share)`` pairs)."""
    return sum(level.span * level.nodes for level in levels(jobs))


def peak_nodes(jobs: Iterable[tuple[float, float]]) -> int:
    """Nodes when every job runs (hour 0): the autoscaler maximum and the quota use."""
    return math.ceil(sum((exact_share(share) for hours, share in jobs if hours > 0 and share > 0),
                         Fraction(0)))


@dataclass
class PoolLoad:
    """A pool's jobs as they are added one by one (the greedy placement and
    marginal prices): what one more job would add to its node-hours."""

    by_hours: dict[float, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, hours: float, share: float) -> None:
        self.by_hours[hours] += share

    def remove(self, hours: float, share: float) -> None:
        self.by_hours[hours] -= share
        if self.by_hours[hours] <= SHARE_TOLERANCE:
            del self.by_hours[hours]

    def node_hours(self) -> float:
        return node_hours(self.by_hours.items())


    def peak(self) -> int:
        return peak_nodes(self.by_hours.items())

    def added_by(self, job: Sequence[tuple[float, float]]) -> float:
        """Node-hours a job of these ``(hours, share)`` pieces adds."""
        if len(job) == 1:
            return self.added_node_hours(*job[0])
        other = PoolLoad(defaultdict(float, self.by_hours))
        added = 0.0
        for hours, share in job:
            added += other.added_node_hours(hours, share)
            other.add(hours, share)
        return added

    def without_all(self, job: Sequence[tuple[float, float]]) -> PoolLoad:
        """A copy with a job's pieces taken out."""
        other = PoolLoad(defaultdict(float, self.by_hours))
        for hours, share in job:
            other.remove(hours, share)
        return other

    def added_node_hours(self, hours: float, share: float) -> float:
        """Node-hours a job of ``share`` for ``hours`` adds: over each interval of the
        month before ``hours``, the whole nodes it pushes the running share over."""
        added, running, top = 0.0, 0.0, math.inf
        for h in sorted(self.by_hours, reverse=True):
            if h < hours:
                lo, hi = h, min(top, hours)
                added += (hi - lo) * (whole_nodes(running + share) - whole_nodes(running))
            running += self.by_hours[h]
            top = h
        hi = min(top, hours)
        added += hi * (whole_nodes(running + share) - whole_nodes(running))
        return added


class FixedLoad:
    """A pool's load that no longer changes (a solution's, explained after the solve),
    with its levels worked out once: its node-hours, what a job would add and what one
    of its jobs would free then cost a pass over the levels at or below that job's hours
    instead of a fresh exact sum each. Every figure equals :class:`PoolLoad`'s to the bit
    (the same float terms, summed in the same order)."""

    def __init__(self, by_hours: Mapping[float, float]) -> None:
        self._load = PoolLoad(defaultdict(float, by_hours))
        self._by_hours = dict(by_hours)
        # every key, longest first, and the running share above each (PoolLoad.added_node_hours)
        self._keys = sorted(self._by_hours, reverse=True)
        self._above: list[float] = []
        running = 0.0
        for h in self._keys:
            self._above.append(running)
            running += self._by_hours[h]
        self._total = running
        # the levels (:func:`levels`): hours, exact share, exact share above each (and
        # below the last), node-hours terms
        self._hours = [h for h in self._keys if h > 0 and self._by_hours[h] > 0]
        self._exact = {h: exact_share(self._by_hours[h]) for h in self._hours}
        self._level_above: list[Fraction] = []
        self._running: list[tuple[int, int]] = []  # the exact share up to each level, p/q
        self._terms: list[float] = []
        exact = Fraction(0)
        for i, h in enumerate(self._hours):
            self._level_above.append(exact)
            exact += self._exact[h]
            self._running.append((exact.numerator, exact.denominator))
            below = self._hours[i + 1] if i + 1 < len(self._hours) else 0.0
            self._terms.append((h - below) * math.ceil(exact))
        self._level_above.append(exact)
        self._node_hours = sum(self._terms)
        self._added: dict[tuple[tuple[float, float], ...], float] = {}
        self._without: dict[tuple[tuple[float, float], ...], float] = {}

    def node_hours(self) -> float:
        """As :meth:`PoolLoad.node_hours`."""
        return self._node_hours

    def added_by(self, job: tuple[tuple[float, float], ...]) -> float:
        """As :meth:`PoolLoad.added_by` (remembered per job)."""
        found = self._added.get(job)
        if found is None:
            found = (self._added_node_hours(*job[0]) if len(job) == 1
                     else self._load.added_by(job))
            self._added[job] = found
        return found

    def without_node_hours(self, job: tuple[tuple[float, float], ...]) -> float:
        """As ``without_all(job).node_hours()`` of :class:`PoolLoad` (remembered per job):
        only the levels at and below the job's longest piece (and the one above, whose
        span ends there) are summed anew."""
        found = self._without.get(job)
        if found is None:
            found = self._without_node_hours(job)
            self._without[job] = found
        return found

    def _added_node_hours(self, hours: float, share: float) -> float:
        """:meth:`PoolLoad.added_node_hours` over the keys below ``hours`` only (those
        above add nothing there)."""
        keys, above = self._keys, self._above
        first = bisect.bisect_right(keys, -hours, key=lambda h: -h)  # the first key < hours
        added, top = 0.0, math.inf if first == 0 else keys[first - 1]
        for i in range(first, len(keys)):
            lo, hi = keys[i], min(top, hours)
            added += (hi - lo) * (whole_nodes(above[i] + share) - whole_nodes(above[i]))
            top = keys[i]
        top = keys[-1] if keys else math.inf
        hi = min(top, hours)
        added += hi * (whole_nodes(self._total + share) - whole_nodes(self._total))
        return added

    def _without_node_hours(self, job: tuple[tuple[float, float], ...]) -> float:
        if not job:
            return self._node_hours
        left: dict[float, float] = {}
        for hours, share in job:  # as PoolLoad.remove: a key down to the tolerance goes
            rest = left.get(hours, self._by_hours.get(hours, 0.0)) - share
            left[hours] = rest if rest > SHARE_TOLERANCE else 0.0
        # a key still held is a level (one not held, or no level, ends at or below 0)
        start = bisect.bisect_left(self._hours, -max(left), key=lambda h: -h)
        start = max(start - 1, 0)  # the level above the longest piece: its span ends there
        freed = [Fraction(0)]  # the exact share gone from the levels up to each one
        for h in self._hours[start:]:
            gone = self._exact[h] - exact_share(left[h]) if h in left else Fraction(0)
            freed.append(freed[-1] + gone if gone else freed[-1])
        kept = [i for i in range(start, len(self._hours)) if left.get(self._hours[i], 1.0) > 0]
        terms = self._terms[:start]
        for n, i in enumerate(kept):
            below = self._hours[kept[n + 1]] if n + 1 < len(kept) else 0.0
            terms.append((self._hours[i] - below) * self._nodes_less(i, freed[i - start + 1]))
        return sum(terms)

    def _nodes_less(self, level: int, freed: Fraction) -> int:
        """Whole nodes at ``level`` with ``freed`` (exact) share gone from it: the ceiling
        of (p/q - a/b) in integers, without building a Fraction per level."""
        p, q = self._running[level]
        if not freed:
            return -(-p // q)
        a, b = freed.numerator, freed.denominator
        return -((a * q - p * b) // (q * b))

# -- money --------------------------------------------------------------------
def dec(value: float | int | Decimal) -> Decimal:
    """Exact decimal of a stored number (floats by their shortest repr)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def apportion(total: Decimal, weights: Mapping[K, Decimal], quantum: Decimal = CENT) -> dict[K, Decimal]:
    """Split ``total`` (a multiple of ``quantum``) in proportion to ``weights``, each part a
    multiple of ``quantum``, the parts adding up to ``total`` exactly (largest remainder;
    ties to the earlier key). A zero weight gets zero."""
    keys = list(weights)
    weight = sum((max(weights[k], ZERO) for k in keys), ZERO)
    if not keys:
        return {}
    if weight == 0:
        return {k: (total if i == 0 else ZERO) for i, k in enumerate(keys)}
    units = (total / quantum).to_integral_value()
    exact = {k: units * max(weights[k], ZERO) / weight for k in keys}
    floors = {k: exact[k].to_integral_value(rounding=ROUND_FLOOR) for k in keys}
    left = int(units - sum(floors.values(), ZERO))
    order = sorted(range(len(keys)), key=lambda i: (-(exact[keys[i]] - floors[keys[i]]), i))
    for i in order[:max(left, 0)]:
        floors[keys[i]] += 1
    return {k: (floors[k] * quantum).quantize(quantum) for k in keys}


@dataclass(frozen=True)
class Hold:
    """One placed job's hold on its pool (``share`` while a run runs, runs taking
    ``hours`` a month) and its own monthly lines (USD)."""

    workload: str
    team: str
    pool: str
    share: float
    hours: float
    spot_risk: Decimal
    egress: Decimal


@dataclass(frozen=True)
class Rate:
    """What the cost function needs of a pool: where it is and what a node costs."""

    pool: str
    cloud: str
    region: str
    node_hourly: Decimal
    gpus_per_node: float


@dataclass(frozen=True)
class JobCost:
    """A job's own lines: its share of the nodes (compute), spot risk, egress."""

    hourly: Decimal
    compute: Decimal
    spot_risk: Decimal
    egress: Decimal

    @property
    def monthly(self) -> Decimal:
        return self.compute + self.spot_risk + self.egress


@dataclass(frozen=True)
class PoolCost:
    nodes: int
    node_hours: Decimal
    hourly: Decimal
    compute: Decimal
    monthly: Decimal
    idle: Money2
    paid_gpu_hours: Decimal
    used_gpu_hours: Decimal
    by_team: dict[str, TeamShare]


_ZERO2 = Money2(hourly=money(0), monthly=money(0))
EMPTY_POOL = PoolCost(nodes=0, node_hours=money(0), hourly=money(0), compute=money(0),
                      monthly=money(0), idle=_ZERO2, paid_gpu_hours=money(0),
                      used_gpu_hours=money(0), by_team={})
"""A pool no job runs on (e.g. a min-0 fallback pool): no nodes, no cost."""


@dataclass(frozen=True)
class PlanCost:
    pools: dict[str, PoolCost]
    jobs: dict[str, JobCost]
    totals: Totals

    def team_monthly(self, team: str) -> Decimal:
        group = self.totals.by_team.get(team)
        return group.monthly if group else money(0)


def price_pool(rate: Rate, holds: Sequence[Hold], hours_per_month: float
               ) -> tuple[PoolCost, dict[str, JobCost]]:
    """The pool's bill and its jobs' lines; see the module docstring."""
    parts = {h.workload: pieces(h.share, h.hours, hours_per_month) for h in holds}
    jobs = [piece for h in holds for piece in parts[h.workload]]
    nodes = peak_nodes(jobs)
    exact_hours = ZERO
    found = levels(jobs)
    for i, level in enumerate(found):
        below = dec(found[i + 1].hours) if i + 1 < len(found) else ZERO
        exact_hours += (dec(level.hours) - below) * level.nodes
    used = {h.workload: dec(h.share) * dec(h.hours) for h in holds}
    held = {h.workload: sum((dec(s) for _, s in parts[h.workload]), ZERO) for h in holds}
    idle_hours = max(exact_hours - sum(used.values(), ZERO), ZERO)
    idle_share = max(dec(nodes) - sum(held.values(), ZERO), ZERO)
    exact_hours = money(exact_hours)  # the plan keeps hours to 4 places; price what it keeps
    nh, gpus = rate.node_hourly, dec(rate.gpus_per_node)
    compute = money(nh * exact_hours)
    hourly = money(nh * nodes)
    idle = "\0idle"  # a key no workload name can be (names are DNS labels)
    monthly_split = apportion(compute, {**used, idle: idle_hours})
    hourly_split = apportion(hourly, {**held, idle: idle_share})
    paid_gpu = money(exact_hours * gpus)
    gpu_split = apportion(paid_gpu, {**used, idle: idle_hours})
    job_costs = {h.workload: JobCost(hourly=hourly_split[h.workload],
                                     compute=monthly_split[h.workload],
                                     spot_risk=h.spot_risk, egress=h.egress) for h in holds}
    by_team = _team_shares(holds, used, held, Money2(hourly=hourly_split[idle],
                                                     monthly=monthly_split[idle]),
                           gpu_split, idle)
    lines = sum((h.spot_risk + h.egress for h in holds), ZERO)
    pool = PoolCost(
        nodes=nodes, node_hours=money(exact_hours), hourly=hourly, compute=compute,
        monthly=compute + lines,
        idle=Money2(hourly=hourly_split[idle], monthly=monthly_split[idle]),
        paid_gpu_hours=paid_gpu, used_gpu_hours=paid_gpu - gpu_split[idle], by_team=by_team)
    return pool, job_costs


def _team_shares(holds: Sequence[Hold], used: dict[str, Decimal], held: dict[str, Decimal],
                 idle: Money2, gpu_split: dict[str, Decimal], idle_key: str) -> dict[str, TeamShare]:
    """Idle money and GPU-hours of a pool split over its teams by share-hours
    (hourly idle by share: at the peak hour every job runs)."""
    team_used: dict[str, Decimal] = defaultdict(Decimal)
    team_held: dict[str, Decimal] = defaultdict(Decimal)
    team_gpu: dict[str, Decimal] = defaultdict(Decimal)
    for h in holds:
        team_used[h.team] += used[h.workload]
        team_held[h.team] += held[h.workload]
        team_gpu[h.team] += gpu_split[h.workload]
    teams = sorted(team_used)
    monthly = apportion(idle.monthly, {t: team_used[t] for t in teams})
    hourly = apportion(idle.hourly, {t: team_held[t] for t in teams})
    idle_gpu = apportion(gpu_split[idle_key], {t: team_used[t] for t in teams})
    return {t: TeamShare(idle=Money2(hourly=hourly[t], monthly=monthly[t]),
                         used_gpu_hours=team_gpu[t],
                         paid_gpu_hours=team_gpu[t] + idle_gpu[t]) for t in teams}


def price_plan(rates: Sequence[Rate], holds: Sequence[Hold], hours_per_month: float) -> PlanCost:
    """Every pool's bill, every job's lines and the plan's totals."""
    members: dict[str, list[Hold]] = defaultdict(list)
    for h in holds:
        members[h.pool].append(h)
    pools: dict[str, PoolCost] = {}
    jobs: dict[str, JobCost] = {}
    for rate in sorted(rates, key=lambda r: r.pool):
        pools[rate.pool], mine = price_pool(
            rate, sorted(members[rate.pool], key=lambda h: h.workload), hours_per_month)
        jobs.update(mine)
    return PlanCost(pools, jobs, _totals(rates, holds, pools, jobs))


@dataclass
class _Group:
    hourly: Decimal = ZERO
    monthly: Decimal = ZERO
    idle_hourly: Decimal = ZERO
    idle_monthly: Decimal = ZERO
    paid: Decimal = ZERO
    used: Decimal = ZERO

    def add(self, hourly: Decimal, monthly: Decimal, idle: Money2, paid: Decimal,
            used: Decimal) -> None:
        self.hourly += hourly
        self.monthly += monthly
        self.idle_hourly += idle.hourly
        self.idle_monthly += idle.monthly
        self.paid += paid
        self.used += used

    def cost(self) -> GroupCost:
        return GroupCost(hourly=self.hourly, monthly=self.monthly,
                         idle=Money2(hourly=self.idle_hourly, monthly=self.idle_monthly),
                         paid_gpu_hours=self.paid, used_gpu_hours=self.used)


def _totals(rates: Sequence[Rate], holds: Sequence[Hold], pools: dict[str, PoolCost],
            jobs: dict[str, JobCost]) -> Totals:
    plan = _Group()
    clouds: dict[str, _Group] = defaultdict(_Group)
    regions: dict[str, _Group] = defaultdict(_Group)
    teams: dict[str, _Group] = defaultdict(_Group)
    for rate in rates:
        p = pools[rate.pool]
        if not p.by_team:
            continue  # no job runs on it: it costs nothing and is in no group
        for group in (plan, clouds[rate.cloud], regions[f"{rate.cloud}/{rate.region}"]):
            group.add(p.hourly, p.monthly, p.idle, p.paid_gpu_hours, p.used_gpu_hours)
        for team, share in p.by_team.items():
            teams[team].add(share.idle.hourly, share.idle.monthly, share.idle,
                            share.paid_gpu_hours, share.used_gpu_hours)
    for h in holds:
        j = jobs[h.workload]
        teams[h.team].add(j.hourly, j.monthly, Money2(hourly=ZERO, monthly=ZERO), ZERO, ZERO)
    done = plan.cost()
    return Totals(hourly=done.hourly, monthly=done.monthly, idle=done.idle,
                  paid_gpu_hours=done.paid_gpu_hours, used_gpu_hours=done.used_gpu_hours,
                  by_team={k: teams[k].cost() for k in sorted(teams)},
                  by_cloud={k: clouds[k].cost() for k in sorted(clouds)},
                  by_region={k: regions[k].cost() for k in sorted(regions)})


def reprice(plan: Plan) -> PlanCost:
    """The cost function applied to a plan's own stored inputs (shares, hours, node
    rates, per-run spot risk and egress): what its stored figures must equal."""
    return price_plan(rates_of(plan.pools), holds_of(plan.placements), plan.hours_per_month)


def rates_of(pools: Iterable[Pool]) -> list[Rate]:
    return [Rate(pool=p.id, cloud=p.cloud, region=p.region, node_hourly=p.node_hourly,
                 gpus_per_node=p.accelerator_count if p.accelerator else 0.0) for p in pools]


def holds_of(placements: Iterable[Placement]) -> list[Hold]:
    return [hold_of(p.workload, p.team, p.pool, p.pool_share, p.monthly_hours, p.cost.spot_risk,
                    p.cost.egress, p.runs_per_month) for p in placements]


def hold_of(workload: str, team: str, pool: str, share: float, hours: float,
            spot_risk_per_run: Decimal, egress_per_run: Decimal, runs: float) -> Hold:
    """A job's hold with its monthly lines from the per-run figures the plan stores."""
    return Hold(workload=workload, team=team, pool=pool, share=share, hours=hours,
                spot_risk=money(spot_risk_per_run * dec(runs)),
                egress=money(egress_per_run * dec(runs)))


def apply(pools: Sequence[Pool], placements: Sequence[Placement], hours_per_month: float
          ) -> tuple[tuple[Pool, ...], tuple[Placement, ...], Totals]:
    """Pools and placements with every cost figure set by the cost function from their
    inputs (for plans built by hand, e.g. tests and fixtures), and the totals."""
    cost = price_plan(rates_of(pools), holds_of(placements), hours_per_month)
    out_pools = tuple(p.model_copy(update=pool_fields(cost.pools[p.id])) for p in pools)
    out_placements = tuple(p.model_copy(update=job_fields(cost.jobs[p.workload]))
                           for p in placements)
    return out_pools, out_placements, cost.totals


def pool_fields(c: PoolCost) -> dict[str, object]:
    """The Pool fields the cost function decides."""
    return {"nodes": c.nodes, "hourly": c.hourly, "node_hours": c.node_hours,
            "compute": c.compute, "idle": c.idle, "monthly": c.monthly,
            "paid_gpu_hours": c.paid_gpu_hours, "used_gpu_hours": c.used_gpu_hours,
            "by_team": c.by_team}


def job_fields(j: JobCost) -> dict[str, object]:
    """The Placement fields the cost function decides."""
    return {"hourly": j.hourly, "monthly": j.monthly,
            "monthly_lines": MonthlyLines(compute=j.compute, spot_risk=j.spot_risk,
                                          egress=j.egress)}
