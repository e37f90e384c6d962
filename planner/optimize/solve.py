"""Joint placement as a mixed-integer program, solved with HiGHS.

Sets: workloads W; options O_w of workload w (from :mod:`planner.optimize.candidates`);
pools P (cloud, region, zone, instance type, accelerator, capacity type);
quotas Q (declared limits per cloud/region/family/capacity type); existing
clusters C; teams T with a monthly budget.

Variables
    x[w,o] in {0,1}   workload w runs on option o
    u[w]   in {0,1}   workload w is left unplaced
    n[p]   in Z>=0    nodes of pool p

Objective (USD per month)
    min  sum_{w,o} (m[w,o] + v[w,o] - k[p(o)] * s[w,o]) x[w,o]  +  sum_p k[p] n[p]
         + sum_w M_w u[w]  +  eps * sum_{w,o} rank[w,o] x[w,o]
    m[w,o]  expected monthly cost of w on o (runs/month x run cost)
    v[w,o]  value of w's time on o: time_value_per_hour x runtime x runs
            (0 unless the workload declares what an hour sooner is worth)
    s[w,o]  node share the option occupies: num_nodes x share of a node
    k[p]    cost of one idle node of p for the shortest monthly runtime of
            any workload that may use p: idle capacity is paid for, so
            k[p] (n[p] - sum s x) prices the unused part of rounded-up nodes
    M_w     penalty for leaving w unplaced: larger than any placement cost,
            growing with priority, so higher-priority work is placed first
    rank    tiny tie-break towards preferred accelerators, then each option's
            position in its workload's sorted list (cost, accelerator rank,
            preferred region, offer key): equal costs resolve the same way
            every time

Constraints
    assign    sum_o x[w,o] + u[w] = 1                               for all w
    pack      sum_{(w,o) in p} s[w,o] x[w,o] <= n[p]                for all p
              (bin-packing: eight 1-GPU jobs fit one 8-GPU node; a
              multi-node job's nodes are all in its option's pool, so
              locality holds by construction)
    quota     sum_{p in q} units[p] n[p] <= limit[q]               for all q
              (units: vCPUs per node on AWS/Azure, GPUs on GCP GPU quotas)
    capacity  sum_{p in c} n[p] <= nodes[c]                         for all c
    budget    sum_{w in t, o} m[w,o] x[w,o] <= budget[t]            for all t
    Deadlines, region allow/deny/prefer, pins and spot policy are already
    applied to the options.

Which workloads are placed is decided first (the penalties dominate); the
reported ``lower_bound`` is a bound on the dollar cost of placing that same
set: the larger of the LP relaxation with exactly those workloads placed and
HiGHS's MIP dual bound less the unplaced penalties. The gap is (cost -
bound) / cost. HiGHS stops when the absolute gap is within ``GAP_TARGET`` of
the greedy start's cost. A time limit bounds the search; when the model is larger than
``MAX_MILP_COLUMNS`` or HiGHS finds no integer solution in time, the greedy
heuristic (:func:`greedy`) places the workloads and the LP bound is still
reported.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from planner.catalog.quotafamily import normalize_family
from planner.optimize.candidates import Option, WorkloadCandidates

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
def pool_idle_costs(model: Model) -> dict[str, float]:
    """k[p]: one idle node of pool p for the shortest runtime of its candidates, $/month."""
    out: dict[str, float] = {}
    for wc in model.workloads:
        for o in wc.options:
            runs = o.monthly / o.run_cost if o.run_cost else 1.0
            node_month = (o.hourly / max(o.gpu_share, 1e-9)) * o.runtime * runs
            cur = out.get(o.pool_id)
            out[o.pool_id] = node_month if cur is None else min(cur, node_month)
    return out


def idle_cost(model: Model, sol: Solution) -> float:
    """$/month the objective charges for idle slots: k[p] x (n[p] - sum of shares)."""
    idle = pool_idle_costs(model)
    share: dict[str, float] = defaultdict(float)
    for o in sol.chosen.values():
        share[o.pool_id] += o.gpu_share
    return sum(idle.get(p, 0.0) * max(0.0, n - share[p]) for p, n in sol.nodes.items())


def penalties(model: Model) -> dict[str, float]:
    """M_w: twice the dearest single option of any workload (with the idle rest of the
    node it would open alone: a slot of a shared node pays for the node) plus $1,000, scaled by
    priority (x1 at 0 to x2 at 1000). Leaving a workload out then always costs more
    than running it anywhere, and more than moving another workload to any option it
    has; it is kept this small because a larger M weakens the LP relaxation."""
    idle = pool_idle_costs(model)
    top = max((o.objective + idle.get(o.pool_id, 0.0) * (math.ceil(o.gpu_share - 1e-9)
                                                         - o.gpu_share)
               for wc in model.workloads for o in wc.options), default=0.0)
    base = 2.0 * top + 1000.0
    return {wc.workload.name: base * (1.0 + wc.workload.priority / 1000.0)
            for wc in model.workloads}


def quota_key(o: Option) -> tuple[str, str, str, str]:
    """(cloud, region, normalized family, capacity type) of the quota ``o`` draws on."""
    cloud, region, family, capacity = o.domain
    return (cloud, region, normalize_family(family), capacity)


def solve(model: Model, time_limit: float = 30.0) -> Solution:
    """Solve the MILP (or fall back to greedy); see the module docstring."""
    columns = sum(len(wc.options) for wc in model.workloads)
    if columns == 0:
        return Solution({}, {}, "none", "no candidates", 0.0, 0.0, 0, 0)
    if columns > MAX_MILP_COLUMNS:
        sol = greedy(model)
        sol.lower_bound = cost_bound(model, sol, time_limit, None)
        sol.status = f"greedy: {columns} option columns exceed {MAX_MILP_COLUMNS}"
        return sol
    return _milp(model, time_limit)


def _pools(model: Model) -> dict[str, Option]:
    pools: dict[str, Option] = {}
    for wc in model.workloads:
        for o in wc.options:
            pools.setdefault(o.pool_id, o)
    return dict(sorted(pools.items()))


def _build(model: Model, relax: bool, placed: set[str] | None = None):
    """HiGHS model. With ``placed``, only those workloads, each forced to be placed."""
    import highspy
    import numpy as np

    idle = pool_idle_costs(model)
    pen = penalties(model)
    pools = _pools(model)
    cols_cost: list[float] = []
    cols_lo: list[float] = []
    cols_hi: list[float] = []
    integer: list[bool] = []
    entries: dict[int, list[tuple[int, float]]] = defaultdict(list)  # col -> (row, coef)
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    x_cols: list[tuple[int, Option]] = []
    u_cols: dict[str, int] = {}

    def row(lo: float, hi: float) -> int:
        rows_lo.append(lo)
        rows_hi.append(hi)
        return len(rows_lo) - 1

    def col(cost: float, hi: float, is_int: bool) -> int:
        cols_cost.append(cost)
        cols_lo.append(0.0)
        cols_hi.append(hi)
        integer.append(is_int)
        return len(cols_cost) - 1

    upper = _pool_uppers(model)
    n_col = {p: col(idle.get(p, 0.0), upper[p], True) for p in pools}
    pack_row = {p: row(-math.inf, 0.0) for p in pools}
    for p in pools:
        entries[n_col[p]].append((pack_row[p], -1.0))
    budget_row = {t: row(-math.inf, b) for t, b in sorted(model.budgets.items())}
    for wc in model.workloads:
        name = wc.workload.name
        if placed is not None and name not in placed:
            continue
        assign = row(1.0, 1.0)
        u = col(pen[name], 1.0 if placed is None else 0.0, True)
        u_cols[name] = u
        entries[u].append((assign, 1.0))
        for position, o in enumerate(wc.options):
            tie = RANK_EPS * o.rank + TIE_EPS * position
            c = col(o.objective - idle.get(o.pool_id, 0.0) * o.gpu_share + tie, 1.0, True)
            x_cols.append((c, o))
            entries[c].append((assign, 1.0))
            entries[c].append((pack_row[o.pool_id], o.gpu_share))
            team = model.teams[name]
            if team in budget_row:
                entries[c].append((budget_row[team], o.monthly))
    _limit_rows(model, pools, n_col, entries, row)
    lp = highspy.HighsLp()
    lp.num_col_ = len(cols_cost)
    lp.num_row_ = len(rows_lo)
    lp.col_cost_ = np.array(cols_cost)
    lp.col_lower_ = np.array(cols_lo)
    lp.col_upper_ = np.array(cols_hi)
    lp.row_lower_ = np.array(rows_lo)
    lp.row_upper_ = np.array(rows_hi)
    starts, index, value = [0], [], []
    for c in range(len(cols_cost)):
        for r, v in sorted(entries.get(c, [])):
            index.append(r)
            value.append(v)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    return lp, n_col, x_cols, u_cols, pen


def _pool_uppers(model: Model) -> dict[str, float]:
    """Upper bound on each pool's nodes: all its candidate shares, rounded up."""
    total: dict[str, float] = defaultdict(float)
    for wc in model.workloads:
        for o in wc.options:
            total[o.pool_id] += o.gpu_share
    return {p: float(math.ceil(v - 1e-9)) for p, v in total.items()}


def _limit_rows(model: Model, pools: dict[str, Option], n_col: dict[str, int],
                entries: dict[int, list[tuple[int, float]]], row) -> None:
    for key, limit in sorted(model.quotas.items()):
        members = [p for p, o in pools.items() if quota_key(o) == key]
        if members:
            r = row(-math.inf, limit.limit)
            for p in members:
                entries[n_col[p]].append((r, pools[p].units_per_node))
    for cluster, (limit, _gpus) in sorted(model.capacities.items()):
        members = [p for p, o in pools.items() if o.offer.cloud == "k8s" and o.offer.region == cluster]
        if members:
            r = row(-math.inf, limit.limit)
            for p in members:
                entries[n_col[p]].append((r, 1.0))


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


def _highs(lp, time_limit: float, warm: list[float] | None = None, abs_gap: float = 0.0):
    import highspy

    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
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


def _milp(model: Model, time_limit: float) -> Solution:
    """Solve the MILP, warm-started from the greedy placement (always a feasible point)."""
    start = greedy(model)
    lp, n_col, x_cols, u_cols, pen = _build(model, relax=False)
    abs_gap = GAP_TARGET * max(start.cost, 1.0)
    h = _highs(lp, time_limit, warm=_warm_start(lp.num_col_, n_col, x_cols, u_cols, start),
               abs_gap=abs_gap)
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible integer point, not even the start
        start.status = f"greedy: HiGHS {h.modelStatusToString(h.getModelStatus())}"
        start.lower_bound = cost_bound(model, start, time_limit / 4, None)
        return start
    values = h.getSolution().col_value
    chosen: dict[str, Option] = {}
    for c, o in x_cols:
        if values[c] > 0.5:
            chosen[o.workload] = o
    nodes = {p: int(round(values[c])) for p, c in n_col.items() if round(values[c]) > 0}
    dual = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    sol = Solution(chosen, nodes, "milp", h.modelStatusToString(h.getModelStatus()),
                   float(info.objective_function_value), 0.0, lp.num_col_, lp.num_row_, pen)
    sol.lower_bound = cost_bound(model, sol, time_limit / 4, dual)
    return sol


def _warm_start(num_cols: int, n_col: dict[str, int], x_cols: list[tuple[int, Option]],
                u_cols: dict[str, int], start: Solution) -> list[float]:
    values = [0.0] * num_cols
    for c, o in x_cols:
        if start.chosen.get(o.workload) is o:
            values[c] = 1.0
    for name, c in u_cols.items():
        if name not in start.chosen:
            values[c] = 1.0
    for pid, c in n_col.items():
        values[c] = float(start.nodes.get(pid, 0))
    return values


# -- greedy ---------------------------------------------------------------
def greedy(model: Model) -> Solution:
    """Place workloads one by one (priority, then fewest options, then name) on their
    cheapest option that still fits quotas, capacities and budgets, filling the free
    share of already opened nodes first."""
    pen = penalties(model)
    idle = pool_idle_costs(model)
    used_quota: dict[tuple[str, str, str, str], float] = defaultdict(float)
    used_cluster: dict[str, float] = defaultdict(float)
    spent: dict[str, float] = defaultdict(float)
    pool_share: dict[str, float] = defaultdict(float)
    nodes: dict[str, int] = {}
    chosen: dict[str, Option] = {}
    order = sorted(model.workloads, key=lambda wc: (-wc.workload.priority, len(wc.options),
                                                     wc.workload.name))
    for wc in order:
        team = model.teams[wc.workload.name]
        best: tuple[float, Option, int] | None = None
        for o in wc.options:
            need = math.ceil(pool_share[o.pool_id] + o.gpu_share - 1e-9)
            extra = need - nodes.get(o.pool_id, 0)
            if not _fits(model, o, extra, used_quota, used_cluster):
                continue
            if team in model.budgets and spent[team] + o.monthly > model.budgets[team] + 1e-9:
                continue
            marginal = o.objective + idle.get(o.pool_id, 0.0) * (extra - o.gpu_share)
            if best is None or marginal < best[0] - 1e-9:
                best = (marginal, o, extra)
        if best is None:
            continue
        _, o, extra = best
        chosen[wc.workload.name] = o
        pool_share[o.pool_id] += o.gpu_share
        nodes[o.pool_id] = nodes.get(o.pool_id, 0) + extra
        used_quota[quota_key(o)] += extra * o.units_per_node
        if o.offer.cloud == "k8s":
            used_cluster[o.offer.region] += extra
        spent[team] += o.monthly
    objective = _objective(model, chosen, nodes, pen, idle)
    return Solution(chosen, {p: n for p, n in nodes.items() if n > 0}, "greedy", "greedy",
                    objective, 0.0, sum(len(wc.options) for wc in model.workloads), 0, pen)


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


def _objective(model: Model, chosen: dict[str, Option], nodes: dict[str, int],
               pen: dict[str, float], idle: dict[str, float]) -> float:
    total = sum(o.objective + RANK_EPS * o.rank for o in chosen.values())
    share: dict[str, float] = defaultdict(float)
    for o in chosen.values():
        share[o.pool_id] += o.gpu_share
    total += sum(idle.get(p, 0.0) * (n - share[p]) for p, n in nodes.items())
    total += sum(pen[wc.workload.name] for wc in model.workloads
                 if wc.workload.name not in chosen)
    return total


def solution_cost(sol: Solution, workloads: Sequence[WorkloadCandidates]) -> float:
    """Monthly cost of the placed workloads (no penalties, no idle estimate)."""
    return sum(o.monthly for o in sol.chosen.values())
