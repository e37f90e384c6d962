"""Joint placement as a mixed-integer program, solved with HiGHS.

Sets: workloads W; options O_w of workload w (from :mod:`planner.optimize.candidates`);
pools P (cloud, region, zone, instance type, accelerator, capacity type);
quotas Q (declared limits per cloud/region/family/capacity type); existing
clusters C; teams T with a monthly budget.

Variables
    x[w,o]   in {0,1}   workload w runs on option o
    u[w]     in {0,1}   workload w is left unplaced
    S[p,l]   >= 0       share of pool p's jobs running at level l (continuous)
    n[p,l]   in Z>=0    whole nodes of pool p at level l

Levels (the plan's cost function, :mod:`planner.plancost`): option o holds
its pool p(o) in pieces (h, s): s nodes' worth for h hours a month (one piece,
runs x runtime, while that fits the month; runs that overlap add a piece of
k copies all month). The distinct piece hours of p's candidate options,
h_1 > h_2 > ... > h_L (h_{L+1} = 0), are its levels: from hour h_{l+1} to h_l
of the month the pieces with h >= h_l run, and the pool runs ceil(S_l) whole
nodes. Levels exist only where candidates do, and only in pools where a candidate
holds part of a node: where every candidate holds whole nodes, n = S at every
level, so the x column carries price x share-hours and the quota and capacity
rows take the option's share directly.

Objective (USD per month)
    min  sum_{p,l} price[p] (h_l - h_{l+1}) n[p,l]
         + sum_{w,o} (r[w,o] + v[w,o] + g[w,o]) x[w,o]
         + sum_w M_w u[w]  +  eps * sum_{w,o} rank[w,o] x[w,o]
    price[p] node $/h after discount: the pools' whole nodes for the hours they
            are up, exactly the plan's pool compute cost (idle included)
    r[w,o]  the job's own lines: spot risk and egress, runs/month x per run
    v[w,o]  value of w's time on o: time_value_per_hour x runtime x runs
            (0 unless the workload declares what an hour sooner is worth)
    g[w,o]  with a base plan (``plan --base``): the price of moving w to o, 0
            for w's option in its base pool (:mod:`planner.optimize.stability`)
    M_w     penalty for leaving w unplaced: larger than any placement cost,
            growing with priority, so higher-priority work is placed first
    rank    tiny tie-break towards preferred accelerators, then each option's
            position in its workload's sorted list (cost, accelerator rank,
            preferred region, the base plan's pools, sharing mode, offer key;
            the base option first): equal costs resolve the same way every time

Constraints
    assign    sum_o x[w,o] + u[w] = 1                               for all w
    chain     S[p,l] = S[p,l-1] + sum_{pieces (h,s) of o in p, h = h_l} s x[o]
              (S[p,0] = 0; an x column appears in one chain row per piece)
    cover     n[p,l] >= S[p,l]                                      for all p, l
              (bin-packing: eight 1-GPU jobs fit one 8-GPU node, since
              slot shares are powers of two; a multi-node job's nodes are
              all in its option's pool, so locality holds by construction)
    quota     sum_{p in q} units[p] n[p,L_p] <= limit[q]            for all q
              (the peak level L_p: every job runs at hour 0; units: vCPUs
              per node on AWS/Azure, GPUs on GCP GPU quotas)
    capacity  sum_{p in c} n[p,L_p] <= nodes[c]                     for all c
    budget    sum_{w in t, o} m[w,o] x[w,o] <= budget[t] - reserve[t] for all t
              (m: the job's own lines, its share of the nodes included. The
              idle a team is attributed (by share-hours) is a ratio, not
              linear: ``plan_workloads`` solves, prices the plan, and where
              a team's cost with idle exceeds its budget reserves that idle
              (reserve[t], 0 at first) and solves again, a few rounds at
              most; a team still over is flagged ``over_budget``)
    Deadlines, region allow/deny/prefer, pins and spot policy are already
    applied to the options.

With the cover rows relaxed (n continuous) n = S and the LP charges each job
its share-hours at the node rate: the relaxation is the cost without idle.

Which workloads are placed is decided first (the penalties dominate); the
reported ``lower_bound`` is a bound on the objective's dollars (move prices
included) of placing that same set: the larger of the LP relaxation with exactly those workloads placed and
HiGHS's MIP dual bound less the unplaced penalties. The gap is (cost -
bound) / cost. HiGHS stops when the absolute gap is within ``GAP_TARGET`` of
the greedy start's cost, or after ``max_nodes`` branch-and-bound nodes. A time
limit bounds the search (planning uses it only as a safety net:
:mod:`planner.optimize.search` chooses how to search and when to stop, on
deterministic limits); when the model is larger than ``MAX_MILP_COLUMNS`` or
HiGHS finds no integer solution, the greedy heuristic (:func:`greedy`) places
the workloads and the LP bound is still reported.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field

from planner.catalog.quotafamily import normalize_family
from planner.optimize.candidates import Option, WorkloadCandidates
from planner.optimize.progress import IncumbentWatch, Progress
from planner.plancost import (
    SHARE_TOLERANCE,
    PoolLoad,
    node_hours,
    whole_nodes,
    whole_share_hours,
)

MAX_MILP_COLUMNS = 400_000
RANK_EPS = 1e-4
TIE_EPS = 1e-6  # per position in a workload's sorted options: the documented tie-break
GAP_TARGET = 0.005


@dataclass(frozen=True)
class Limit:
    """A quota or cluster capacity: pools that draw on it, units each, the limit."""

    id: str
    kind: str
    limit: float
    unit: str


@dataclass
class Model:
    workloads: list[WorkloadCandidates]
    quotas: dict[tuple[str, str, str, str], Limit]
    capacities: dict[str, tuple[Limit, float]]  # cluster name -> (limit in nodes, gpus/node)
    budgets: dict[str, float]
    teams: dict[str, str]  # workload -> team
    priorities: dict[str, int]
    idle_reserve: dict[str, float] = field(default_factory=dict)
    penalty_base: float | None = None  # a part of a larger model keeps the whole's M (decompose)
    # id(options list) -> (that list, its dearest option's cost): see penalty_base
    dearest: dict[int, tuple[list[Option], float]] = field(
        default_factory=dict, repr=False, compare=False)

    def budget_room(self, team: str) -> float:
        """What the budget row allows a team's own lines: its budget less the part
        reserved for the idle it is attributed (see ``plan_workloads``)."""
        return self.budgets[team] - self.idle_reserve.get(team, 0.0)


@dataclass
class Solution:
    chosen: dict[str, Option]
    nodes: dict[str, int]
    method: str
    status: str
    objective: float
    lower_bound: float
    variables: int
    constraints: int
    penalties: dict[str, float] = field(default_factory=dict)
    dual: float | None = None  # HiGHS's MIP dual bound, penalties included
    cut_by_time: bool = False  # the wall-clock safety net cut the search

    @property
    def move_prices(self) -> float:
        """USD of move prices in the objective (moves away from the base plan)."""
        return sum(o.move for o in self.chosen.values())

    @property
    def unplaced_penalty(self) -> float:
        """The penalty part of the objective (workloads left unplaced); not dollars."""
        return sum(p for name, p in self.penalties.items() if name not in self.chosen)

    @property
    def cost(self) -> float:
        """The objective without unplaced penalties: dollars a month (plus tie-breaks)."""
        return self.objective - self.unplaced_penalty

    @property
    def gap(self) -> float:
        """(cost - lower_bound) / cost, 0..1: how far from optimal the dollars can be."""
        if self.cost <= 0:
            return 0.0
        return min(1.0, max(0.0, (self.cost - self.lower_bound) / self.cost))


# -- shared pieces --------------------------------------------------------
@dataclass(frozen=True)
class PoolLevels:
    """A pool's levels in the MILP: its candidates' distinct hours, longest first."""

    price: float  # node $/h after discount
    hours: tuple[float, ...]
    upper: tuple[float, ...]  # nodes at each level if every candidate were chosen

    def level_of(self, hours: float) -> int:
        return self.hours.index(hours)

    def span(self, level: int) -> float:
        below = self.hours[level + 1] if level + 1 < len(self.hours) else 0.0
        return self.hours[level] - below


def pool_levels(model: Model) -> dict[str, PoolLevels]:
    """The levels of every candidate pool where nodes can be shared (pools sorted by id).

    A pool whose candidates all hold whole nodes (integer shares) needs none: its
    running share is a whole number at every hour, so its node-hours are exactly the
    jobs' share-hours, priced on the x columns directly (fewer rows, no integrality gap).
    """
    price: dict[str, float] = {}
    shares: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    fractional: set[str] = set()
    for wc in model.workloads:
        for o in wc.options:
            price.setdefault(o.pool_id, o.node_price)
            for piece_hours, piece_share in o.pieces:
                shares[o.pool_id][piece_hours] += piece_share
                if abs(piece_share - round(piece_share)) > SHARE_TOLERANCE:
                    fractional.add(o.pool_id)
    out: dict[str, PoolLevels] = {}
    for pid in sorted(fractional):
        hours = tuple(sorted(shares[pid], reverse=True))
        upper, running = [], 0.0
        for h in hours:
            running += shares[pid][h]
            upper.append(float(whole_nodes(running)))
        out[pid] = PoolLevels(price[pid], hours, tuple(upper))
    return out


def pool_compute(loads: dict[str, PoolLoad], prices: dict[str, float]) -> float:
    """$/month of the pools' whole nodes for the hours they are up."""
    return sum(prices[p] * load.node_hours() for p, load in loads.items())


def penalties(model: Model) -> dict[str, float]:
    """M_w: twice the dearest single option of any workload (with the idle rest of the
    node it would open alone: a slot of a shared node pays for the node) plus $1,000, scaled by
    priority (x1 at 0 to x2 at 1000). Leaving a workload out then always costs more
    than running it anywhere, and more than moving another workload to any option it
    has; it is kept this small because a larger M weakens the LP relaxation."""
    base = model.penalty_base if model.penalty_base is not None else penalty_base(model)
    return {wc.workload.name: base * (1.0 + wc.workload.priority / 1000.0)
            for wc in model.workloads}


def penalty_base(model: Model) -> float:
    """M at priority 0: twice the dearest single option (idle rest of its node included)
    plus $1,000 (see :func:`penalties`). Each workload's dearest is kept with its options
    list (``Model.dearest``): lists are replaced, never changed, when options are added."""
    top = max((_dearest(model, wc.options) for wc in model.workloads), default=0.0)
    return 2.0 * top + 1000.0


def _dearest(model: Model, options: list[Option]) -> float:
    known = model.dearest.get(id(options))
    if known is not None and known[0] is options:
        return known[1]
    top = max((o.objective - o.compute + o.move + o.node_price * alone_node_hours(o.pieces)
               for o in options), default=0.0)
    model.dearest[id(options)] = (options, top)  # the list is held: its id stays its own
    return top


@functools.lru_cache(maxsize=65536)
def alone_node_hours(pieces: tuple[tuple[float, float], ...]) -> float:
    """Node-hours a month of a pool holding one job of these pieces (many options share
    them: computed once each)."""
    return node_hours(pieces)


def quota_key(o: Option) -> tuple[str, str, str, str]:
    """(cloud, region, normalized family, capacity type) of the quota ``o`` draws on."""
    return _domain_quota(o.domain)


@functools.lru_cache(maxsize=65536)
def _domain_quota(domain: tuple[str, str, str, str]) -> tuple[str, str, str, str]:
    """A quota domain with its family normalized (few domains, many options: once each)."""
    cloud, region, family, capacity = domain
    return (cloud, region, normalize_family(family), capacity)


def solve(model: Model, time_limit: float = 30.0, progress: Progress | None = None, *,
          bound: bool = True, start: Solution | None = None,
          max_nodes: int | None = None) -> Solution:
    """Solve the MILP (or fall back to greedy); see the module docstring. With ``bound``
    off the lower bound is left for :func:`attach_bound` (a solve that may be redone).
    ``start`` (default: :func:`greedy`) is the warm start and the fallback; ``max_nodes``
    caps branch-and-bound nodes.

    ``progress`` hears of every improving solution, in dollars (:class:`IncumbentWatch`).
    """
    columns = sum(len(wc.options) for wc in model.workloads)
    if columns == 0:
        return Solution({}, {}, "none", "no candidates", 0.0, 0.0, 0, 0)
    if columns > MAX_MILP_COLUMNS:
        sol = start or greedy(model)
        sol.status = f"greedy: {columns} option columns exceed {MAX_MILP_COLUMNS}"
    else:
        sol = _milp(model, time_limit, progress, start=start, max_nodes=max_nodes)
    if bound:
        attach_bound(model, sol, time_limit)
    return sol


def attach_bound(model: Model, sol: Solution, time_limit: float) -> None:
    """Set ``sol.lower_bound`` (:func:`cost_bound`, a quarter of the time limit)."""
    if sol.method != "none":
        sol.lower_bound = cost_bound(model, sol, time_limit / 4, sol.dual)


def _pools(model: Model) -> dict[str, Option]:
    pools: dict[str, Option] = {}
    for wc in model.workloads:
        for o in wc.options:
            pools.setdefault(o.pool_id, o)
    return dict(sorted(pools.items()))


@dataclass
class _Columns:
    """A HiGHS model being built column by column (rows are bounds only until the end)."""

    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    entries: dict[int, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    rows_lo: list[float] = field(default_factory=list)
    rows_hi: list[float] = field(default_factory=list)

    def row(self, lo: float, hi: float) -> int:
        self.rows_lo.append(lo)
        self.rows_hi.append(hi)
        return len(self.rows_lo) - 1

    def col(self, cost: float, hi: float, is_int: bool) -> int:
        self.cost.append(cost)
        self.upper.append(hi)
        self.integer.append(is_int)
        return len(self.cost) - 1


@dataclass
class _Layout:
    """Where each variable went: n and S per (pool, level), x per option, u per workload."""

    n: dict[tuple[str, int], int]
    s: dict[tuple[str, int], int]
    x: list[tuple[int, Option]]
    u: dict[str, int]
    levels: dict[str, PoolLevels]
    assign: dict[str, int] = field(default_factory=dict)  # each workload's assignment row


def _build(model: Model, relax: bool, placed: set[str] | None = None):
    """HiGHS model. With ``placed``, only those workloads, each forced to be placed."""
    import highspy
    import numpy as np

    pen = penalties(model)
    levels = pool_levels(model)
    m = _Columns()
    layout = _Layout({}, {}, [], {}, levels)
    chain: dict[tuple[str, int], int] = {}
    for p, pl in levels.items():
        for lv in range(len(pl.hours)):
            n = m.col(pl.price * pl.span(lv), pl.upper[lv], True)
            share = m.col(0.0, pl.upper[lv], False)
            layout.n[p, lv], layout.s[p, lv] = n, share
            chain[p, lv] = m.row(0.0, 0.0)  # S[l] - S[l-1] - sum s x = 0
            m.entries[share].append((chain[p, lv], 1.0))
            if lv > 0:
                m.entries[layout.s[p, lv - 1]].append((chain[p, lv], -1.0))
            cover = m.row(0.0, math.inf)  # n[l] - S[l] >= 0
            m.entries[n].append((cover, 1.0))
            m.entries[share].append((cover, -1.0))
    budget_row = {t: m.row(-math.inf, model.budget_room(t)) for t in sorted(model.budgets)}
    for wc in model.workloads:
        name = wc.workload.name
        if placed is not None and name not in placed:
            continue
        assign = m.row(1.0, 1.0)
        layout.assign[name] = assign
        u = m.col(pen[name], 1.0 if placed is None else 0.0, True)
        layout.u[name] = u
        m.entries[u].append((assign, 1.0))
        for position, o in enumerate(wc.options):
            tie = RANK_EPS * o.rank + TIE_EPS * position
            shared = o.pool_id in levels
            c = m.col(o.objective - (o.compute if shared else 0.0) + o.move + tie, 1.0, True)
            layout.x.append((c, o))
            m.entries[c].append((assign, 1.0))
            for piece_hours, piece_share in o.pieces if shared else ():
                level = levels[o.pool_id].level_of(piece_hours)
                m.entries[c].append((chain[o.pool_id, level], -piece_share))
            team = model.teams[name]
            if team in budget_row:
                m.entries[c].append((budget_row[team], o.monthly))
    _limit_rows(model, _pools(model), layout, m)
    lp = highspy.HighsLp()
    lp.num_col_ = len(m.cost)
    lp.num_row_ = len(m.rows_lo)
    lp.col_cost_ = np.array(m.cost)
    lp.col_lower_ = np.zeros(len(m.cost))
    lp.col_upper_ = np.array(m.upper)
    lp.row_lower_ = np.array(m.rows_lo)
    lp.row_upper_ = np.array(m.rows_hi)
    starts, index, value = [0], [], []
    for c in range(len(m.cost)):
        for r, v in sorted(m.entries.get(c, [])):
            index.append(r)
            value.append(v)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in m.integer]
    return lp, layout, pen


def _peak(layout: _Layout, pool: str) -> int:
    """The n column of the pool's peak level (its shortest hours: every job runs)."""
    return layout.n[pool, len(layout.levels[pool].hours) - 1]


def _limit_rows(model: Model, pools: dict[str, Option], layout: _Layout, m: _Columns) -> None:
    """Quota and capacity rows on each pool's peak nodes: the peak level's n where nodes
    are shared, else the options' whole-node shares on their x columns."""
    xs: dict[str, list[tuple[int, Option]]] = defaultdict(list)
    for c, o in layout.x:
        xs[o.pool_id].append((c, o))

    def add(r: int, p: str, units: float) -> None:
        if p in layout.levels:
            m.entries[_peak(layout, p)].append((r, units))
        else:
            for c, o in xs[p]:
                m.entries[c].append((r, units * o.share))

    for key, limit in sorted(model.quotas.items()):
        members = [p for p, o in pools.items() if quota_key(o) == key]
        if members:
            r = m.row(-math.inf, limit.limit)
            for p in members:
                add(r, p, pools[p].units_per_node)
    for cluster, (limit, _gpus) in sorted(model.capacities.items()):
        members = [p for p, o in pools.items() if o.offer.cloud == "k8s" and o.offer.region == cluster]
        if members:
            r = m.row(-math.inf, limit.limit)
            for p in members:
                add(r, p, 1.0)


def _quiet_highs():
    """A Highs instance; its one-time banner (printed by the C++ library on stdout) is muted."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _highs(lp, time_limit: float, warm: list[float] | None = None, abs_gap: float = 0.0,
           watch: IncumbentWatch | None = None, max_nodes: int | None = None):
    """Run HiGHS on ``lp`` repeatably: one thread, a fixed random seed."""
    import highspy

    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    # Stop at GAP_TARGET of the dollar cost: the relative gap HiGHS measures includes
    # unplaced penalties, which would make it stop far too early when any exist.
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("mip_abs_gap", max(abs_gap, 1e-6))
    h.passModel(lp)
    if warm is not None:
        sol = highspy.HighsSolution()
        sol.col_value = warm
        sol.value_valid = True
        h.setSolution(sol)
    if watch is not None:
        watch.attach(h)
    h.run()
    return h


def lp_bound(model: Model, time_limit: float, placed: set[str] | None = None) -> float | None:
    """Optimal value of the LP relaxation (optionally with exactly ``placed`` placed)."""
    import highspy

    lp, *_ = _build(model, relax=True, placed=placed)
    h = _highs(lp, time_limit)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)


class Relaxation:
    """The MILP's LP relaxation (:func:`_build`), built once and solved: its value, the
    rounding of its placement (:meth:`choice`) and then, re-solved from its basis, the
    bound of placing exactly a given set (:meth:`bound`, as :func:`lp_bound`)."""

    def __init__(self, model: Model, time_limit: float) -> None:
        import highspy

        lp, self.layout, _ = _build(model, relax=True)
        self.highs = _highs(lp, time_limit)
        self.solved = self.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def choice(self) -> dict[str, Option]:
        """Per workload the LP places by more than half, the option it gives most of that
        workload (lowest column on ties): the search's rounding start."""
        if not self.solved:
            return {}
        values = self.highs.getSolution().col_value
        best: dict[str, tuple[float, Option]] = {}
        for c, o in self.layout.x:
            v = values[c]
            if v > 1e-9 and v > best.get(o.workload, (0.0, o))[0] + 1e-9:
                best[o.workload] = (v, o)
        placed = {name for name, c in self.layout.u.items() if values[c] < 0.5}
        return {name: o for name, (_, o) in sorted(best.items()) if name in placed}

    def bound(self, placed: set[str]) -> float | None:
        """The LP's value with exactly ``placed`` placed (None if not solved to optimality):
        the others' assignment rows set to 0, no unplaced columns."""
        import highspy

        h = self.highs
        for name, u in self.layout.u.items():
            h.changeColBounds(u, 0.0, 0.0)
            if name not in placed:
                h.changeRowBounds(self.layout.assign[name], 0.0, 0.0)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(h.getInfo().objective_function_value)


def cost_bound(model: Model, sol: Solution, time_limit: float, dual: float | None) -> float:
    """Lower bound on the dollar cost of placing the workloads ``sol`` placed.

    The larger of the LP relaxation with exactly those workloads placed and the
    MIP's own dual bound less the penalties of the workloads it left out (both are
    valid; the penalty part of the full relaxation is not dollars and is weak).
    """
    restricted = lp_bound(model, time_limit, placed=set(sol.chosen))
    candidates = [b for b in (restricted, None if dual is None else dual - sol.unplaced_penalty)
                  if b is not None]
    return min(max(candidates, default=0.0), sol.cost)


def _milp(model: Model, time_limit: float, progress: Progress | None = None, *,
          start: Solution | None = None, max_nodes: int | None = None) -> Solution:
    """Solve the MILP, warm-started from ``start`` (default: the greedy placement; always
    a feasible point)."""
    import highspy

    start = start or greedy(model)
    lp, layout, pen = _build(model, relax=False)
    abs_gap = GAP_TARGET * max(start.cost, 1.0)
    watch = None if progress is None else _watch(progress, lp, layout, pen)
    h = _highs(lp, time_limit, warm=_warm_start(lp.num_col_, layout, start), abs_gap=abs_gap,
               watch=watch, max_nodes=max_nodes)
    sol = _read(h, lp, layout, pen)
    if sol is None:  # no feasible integer point, not even the start
        start.status = f"greedy: HiGHS {h.modelStatusToString(h.getModelStatus())}"
        sol = start
    sol.cut_by_time = h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    return sol


def _read(h, lp, layout: _Layout, pen: dict[str, float]) -> Solution | None:
    """HiGHS's integer solution as a :class:`Solution` (None if it has none)."""
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None
    values = h.getSolution().col_value
    chosen = {o.workload: o for c, o in layout.x if values[c] > 0.5}
    sol = Solution(chosen, peaks(chosen), "milp", h.modelStatusToString(h.getModelStatus()),
                   float(info.objective_function_value), 0.0, lp.num_col_, lp.num_row_, pen)
    sol.dual = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    return sol


def loads(chosen: dict[str, Option]) -> dict[str, PoolLoad]:
    """Each used pool's jobs, as the cost function sees them."""
    out: dict[str, PoolLoad] = defaultdict(PoolLoad)
    for o in chosen.values():
        for hours, share in o.pieces:
            out[o.pool_id].add(hours, share)
    return dict(sorted(out.items()))


def peaks(chosen: dict[str, Option]) -> dict[str, int]:
    """Peak nodes of each used pool (every job runs at hour 0)."""
    return {p: load.peak() for p, load in loads(chosen).items()}


def _watch(progress: Progress, lp, layout: _Layout, pen: dict[str, float]) -> IncumbentWatch:
    """Column weights for dollars and for unplaced penalties (see :class:`IncumbentWatch`):
    whole nodes at their price x span where nodes are shared (else the option's own
    compute, priced on x), each chosen option's own lines (spot risk, egress); not its
    time value or tie-break."""
    spend = [0.0] * lp.num_col_
    penalty = [0.0] * lp.num_col_
    for c in layout.n.values():
        spend[c] = float(lp.col_cost_[c])
    for c, o in layout.x:
        spend[c] = o.monthly - (o.compute if o.pool_id in layout.levels else 0.0)
    for name, c in layout.u.items():
        penalty[c] = pen[name]
    return IncumbentWatch(progress, spend, penalty)


def _warm_start(num_cols: int, layout: _Layout, start: Solution) -> list[float]:
    values = [0.0] * num_cols
    for c, o in layout.x:
        if start.chosen.get(o.workload) is o:
            values[c] = 1.0
    for name, c in layout.u.items():
        if name not in start.chosen:
            values[c] = 1.0
    for pid, load in loads(start.chosen).items():
        if pid not in layout.levels:
            continue
        pl = layout.levels[pid]
        running = 0.0
        for lv, hours in enumerate(pl.hours):
            running += load.by_hours.get(hours, 0.0)
            values[layout.s[pid, lv]] = running
            values[layout.n[pid, lv]] = float(whole_nodes(running))
    return values


# -- greedy ---------------------------------------------------------------
def greedy(model: Model, keep: dict[str, Option] | None = None) -> Solution:
    """Place workloads one by one (priority, then fewest options, then name) on the
    option that adds least to the plan's cost (its own lines plus the node-hours it
    adds to its pool, :class:`planner.plancost.PoolLoad`, plus its move price) and still
    fits quotas, capacities and budgets: free shares of already running nodes come
    first. Workloads in ``keep`` go first, each on its kept option if that fits (else
    with the others, on any option)."""
    pen = penalties(model)
    used_quota: dict[tuple[str, str, str, str], float] = defaultdict(float)
    used_cluster: dict[str, float] = defaultdict(float)
    spent: dict[str, float] = defaultdict(float)
    pools: dict[str, PoolLoad] = defaultdict(PoolLoad)
    nodes: dict[str, int] = defaultdict(int)
    shares: dict[str, float] = defaultdict(float)  # each pool's peak share so far
    chosen: dict[str, Option] = {}
    order = sorted(model.workloads, key=lambda wc: (-wc.workload.priority, len(wc.options),
                                                     wc.workload.name))
    keep = keep or {}
    passes = [[(wc, [keep[wc.workload.name]]) for wc in order if wc.workload.name in keep],
              [(wc, wc.options) for wc in order]]
    for wc, options in (item for one in passes for item in one):
        if wc.workload.name in chosen:
            continue
        team = model.teams[wc.workload.name]
        best: tuple[float, Option, int] | None = None
        for o in options:
            load = pools[o.pool_id]
            extra = whole_nodes(shares[o.pool_id] + o.share) - nodes[o.pool_id]
            if not _fits(model, o, extra, used_quota, used_cluster):
                continue
            if team in model.budgets and spent[team] + o.monthly > model.budget_room(team) + 1e-9:
                continue
            held = whole_share_hours(o.pieces)  # a job of whole nodes adds its own anywhere
            marginal = (o.objective - o.compute + o.move
                        + o.node_price * (held if held is not None else load.added_by(o.pieces)))
            if best is None or marginal < best[0] - 1e-9:
                best = (marginal, o, extra)
        if best is None:
            continue
        _, o, extra = best
        chosen[wc.workload.name] = o
        for hours, share in o.pieces:
            pools[o.pool_id].add(hours, share)
        shares[o.pool_id] += o.share
        nodes[o.pool_id] += extra
        used_quota[quota_key(o)] += extra * o.units_per_node
        if o.offer.cloud == "k8s":
            used_cluster[o.offer.region] += extra
        spent[team] += o.monthly
    return Solution(chosen, peaks(chosen), "greedy", "greedy", objective_of(model, chosen, pen),
                    0.0, sum(len(wc.options) for wc in model.workloads), 0, pen)


def _fits(model: Model, o: Option, extra: int,
          used_quota: dict[tuple[str, str, str, str], float],
          used_cluster: dict[str, float]) -> bool:
    if extra <= 0:
        return True
    q = model.quotas.get(quota_key(o))
    if q is not None and used_quota[quota_key(o)] + extra * o.units_per_node > q.limit + 1e-9:
        return False
    if o.offer.cloud == "k8s":
        cap = model.capacities.get(o.offer.region)
        if cap is not None and used_cluster[o.offer.region] + extra > cap[0].limit + 1e-9:
            return False
    return True


def objective_of(model: Model, chosen: dict[str, Option], pen: dict[str, float]) -> float:
    """The MILP objective of a placement (tie-breaks by rank only)."""
    total = sum(o.objective - o.compute + o.move + RANK_EPS * o.rank for o in chosen.values())
    prices = {o.pool_id: o.node_price for o in chosen.values()}
    total += pool_compute(loads(chosen), prices)
    total += sum(pen[wc.workload.name] for wc in model.workloads
                 if wc.workload.name not in chosen)
    return total
