"""Solving a large model in parts: independent components, then rolling chunks.

**Components.** Two workloads meet in the MILP (:mod:`planner.optimize.solve`) only
through a row they share: a declared quota, an existing cluster's capacity, their
team's budget, or the level rows of a pool where nodes are shared (a pool where some
candidate holds part of a node). Whole-node pools are priced on the x columns and
couple no one. Union-find over those keys splits the model into components with no
row in common, so the MILP is the sum of the components' MILPs: each is solved on
its own with the whole model's unplaced penalties (``Model.penalty_base``), the
union of their optima is an optimum of the whole, and the sum of their lower bounds
is a lower bound of the whole.

**Order, processes and stop rules.** Components are ordered by their first workload's
name and each is solved by the deterministic search
(:func:`planner.optimize.search.search`: HiGHS single-threaded, seed 0, warm-started
from the greedy, stopped by the gap target or a node budget sized to the part's own
columns), in a process pool of ``processes`` (fork) or in this process when it is 1;
results are taken in component order. Every stop rule counts work, never seconds, so
the plan is the same bytes for any number of processes and on any machine at any load
(same HiGHS version and CPU architecture: see :mod:`planner.optimize.search`).
The wall clock is only the search's safety net (``Limits.safety_s``, each part the
whole of it, as a model solved whole): a part it cuts makes the plan say so
(``solver.cut_by_time_limit`` and the status), as for a whole model.

**Too large a component** (more than :data:`CHUNK_COLUMNS` option columns) is solved
by *rolling fix-and-optimize*: its workloads sorted by priority (highest first),
then by the pool of their cheapest option (jobs that could share nodes stay
together), then by name, cut into consecutive chunks of at most
:data:`CHUNK_COLUMNS` columns; each chunk is a MILP over its own workloads with what
the earlier chunks left of every quota and cluster capacity (their pools' peak
nodes) and team budget (their monthly lines), the earlier choices fixed, searched
like a component (the same stop rules, its node budget sized to the chunk). The union is
feasible: a pool's peak with two chunks' jobs is at most the sum of each chunk's
peaks (``ceil(a + b) <= ceil(a) + ceil(b)``) and budget lines add up. Its lower
bound is the Lagrangian relaxation of the quota, capacity and budget rows over the
workloads it placed (:func:`lagrangian_bound`), maximized by subgradient steps: a
valid bound at every multiplier. A chunk whose MILP finds no integer point is placed
by the greedy heuristic, and the plan's solver status says so.

Small models (at most :data:`DECOMPOSE_COLUMNS` columns) are searched whole: a process
pool would cost more than it saves.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from planner.optimize.candidates import Option, WorkloadCandidates
from planner.optimize.progress import Progress
from planner.optimize.search import Limits, RelaxedLP, search
from planner.optimize.solve import (
    RANK_EPS,
    TIE_EPS,
    Model,
    Solution,
    attach_bound,
    peaks,
    penalties,
    penalty_base,
    quota_key,
)
from planner.plancost import SHARE_TOLERANCE

DECOMPOSE_COLUMNS = 20_000  # at most this many option columns: one MILP, as before
# A component larger than this is solved in rolling chunks of at most this many columns.
# Chunks lose quality (a chunk cannot see the room later ones need), so components are
# searched whole as far as memory allows: from 10,000 columns the search is the rounded LP
# relaxation plus local search (planner.optimize.search), near linear in the columns.
# Measured on plan_scale's 10,000-workload set (one component, ~160,000 columns): whole,
# 20 s of CPU for the two searches (the idle budget round included), gap 0.13 %, 9,990
# placed; in two chunks of 120,000 columns, 36 s, gap 0.68 %, 9,983 placed. 50,000
# workloads (600,000 columns) whole: gap 0.03 % against 0.91 % in two chunks, 1,959 MiB
# peak for `planner plan` end to end (the search reuses column generation's LP).
CHUNK_COLUMNS = 1_000_000
SUBGRADIENT_STEPS = 60

Key = tuple[str, object]


def decomposed(model: Model) -> bool:
    """Whether :func:`solve_parts` splits ``model`` (else it is one MILP, bound later)."""
    return _columns(model.workloads) > DECOMPOSE_COLUMNS


def solve_parts(model: Model, limits: Limits, progress: Progress | None = None, *,
                processes: int = 1, bound: bool = True,
                hint: dict[str, Option] | None = None,
                relaxed: RelaxedLP | None = None) -> Solution:
    """Search ``model`` whole or in parts (module docstring), within ``limits``. With
    ``bound`` the solution carries its lower bound (a split model's: the sum of its parts'),
    else none: a whole model's is left for :func:`attach_parts_bound`, and a split model
    solved without one needs another (the bound over all offers,
    :func:`planner.optimize.colgen.all_offer_bound`). ``hint``: a previous solve's
    placement, kept by each search's greedy start where it fits
    (:func:`planner.optimize.search.search`). ``relaxed``: the whole model's solved LP
    relaxation (column generation's), for a search over the whole model: the model
    itself, or its one part."""
    if not decomposed(model):
        sol = search(model, limits, progress, hint, relaxed)
        if bound:
            attach_bound(model, sol, limits.safety_s)
        return sol
    model = replace(model, penalty_base=penalty_base(model))
    parts = [part for part in components(model) if _columns(part.workloads)]
    whole = relaxed if len(parts) == 1 else None
    solved = _run_parts(parts, limits, progress, processes, bound, hint or {}, whole)
    return _merge(model, parts, solved, limits)


def attach_parts_bound(model: Model, sol: Solution, time_limit: float) -> None:
    """The lower bound of a whole-model solution (``time_limit``: the safety net); a split
    one has its parts' already (:func:`solve_parts` with ``bound``)."""
    if not decomposed(model):
        attach_bound(model, sol, time_limit)


# -- components ---------------------------------------------------------------
def components(model: Model) -> list[Model]:
    """The model's independent parts, each a Model with its own rows, ordered by their
    first workload's name (workloads keep the model's order within a part)."""
    shared = _shared_pools(model.workloads)
    parent = list(range(len(model.workloads)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[Key, int] = {}
    for i, wc in enumerate(model.workloads):
        for key in _keys(model, wc, shared):
            j = owner.setdefault(key, i)
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[WorkloadCandidates]] = defaultdict(list)
    for i, wc in enumerate(model.workloads):
        groups[root(i)].append(wc)
    ordered = sorted(groups.values(), key=lambda g: min(wc.workload.name for wc in g))
    return [_sub_model(model, group) for group in ordered]


def _keys(model: Model, wc: WorkloadCandidates, shared: set[str]) -> Iterable[Key]:
    team = model.teams[wc.workload.name]
    if team in model.budgets:
        yield ("budget", team)
    for o in wc.options:
        if o.pool_id in shared:
            yield ("pool", o.pool_id)
        q = quota_key(o)
        if q in model.quotas:
            yield ("quota", q)
        if o.offer.cloud == "k8s" and o.offer.region in model.capacities:
            yield ("capacity", o.offer.region)


def _shared_pools(workloads: Sequence[WorkloadCandidates]) -> set[str]:
    """Pools where some candidate holds part of a node: their level rows couple jobs."""
    return {o.pool_id for wc in workloads for o in wc.options
            if any(abs(s - round(s)) > SHARE_TOLERANCE for _, s in o.pieces)}


def _sub_model(model: Model, group: list[WorkloadCandidates]) -> Model:
    names = [wc.workload.name for wc in group]
    teams = {model.teams[n] for n in names}
    return Model(group, dict(model.quotas), dict(model.capacities),
                 {t: b for t, b in model.budgets.items() if t in teams},
                 {n: model.teams[n] for n in names}, {n: model.priorities[n] for n in names},
                 {t: r for t, r in model.idle_reserve.items() if t in teams},
                 model.penalty_base)


def _columns(workloads: Sequence[WorkloadCandidates]) -> int:
    return sum(len(wc.options) for wc in workloads)


# -- running the parts ---------------------------------------------------------
@dataclass(frozen=True)
class PartResult:
    """A part's solution without its Option objects (cheap to send between processes):
    each placed workload's position in its options list."""

    chosen: dict[str, int]
    method: str
    status: str
    objective: float
    lower_bound: float
    variables: int
    constraints: int
    cut_by_time: bool = False
    progress_bound: float | None = None  # a bound on the part's cost, for progress reports


def _run_parts(parts: list[Model], limits: Limits, progress: Progress | None,
               processes: int, bound: bool, hint: dict[str, Option],
               relaxed: RelaxedLP | None = None) -> list[PartResult]:
    """Each part's result, in part order, in this process or a pool of ``processes``
    (``relaxed``: the LP relaxation of a lone part, which is searched here)."""
    hints = [_positions(part, hint) for part in parts]
    if processes <= 1 or len(parts) <= 1:
        out: dict[int, PartResult] = {}
        for i, part in enumerate(parts):
            here = _Offset(progress, *_so_far(parts, out)) if progress else None
            out[i] = solve_part(part, limits, here, bound=bound, hint=hints[i], relaxed=relaxed)
        return [out[i] for i in range(len(parts))]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(processes, len(parts)), mp_context=context) as pool:
        futures = {pool.submit(solve_part, part, limits, None, bound=bound, hint=hints[i]): i
                   for i, part in enumerate(parts)}
        done: dict[int, PartResult] = {}
        for future in as_completed(futures):  # reported as they finish, taken in part order
            done[futures[future]] = future.result()
            if progress is not None:
                _report(progress, *_so_far(parts, done))
        return [done[i] for i in range(len(parts))]


def _positions(part: Model, hint: dict[str, Option]) -> dict[str, int]:
    """``hint`` within ``part`` as positions in each workload's options (Option objects do
    not keep their identity across processes)."""
    out = {}
    for wc in part.workloads:
        kept = hint.get(wc.workload.name)
        at = next((i for i, o in enumerate(wc.options) if o is kept), None)
        if at is not None:
            out[wc.workload.name] = at
    return out


def solve_part(part: Model, limits: Limits, progress: Progress | None = None, *,
               bound: bool = True, hint: dict[str, int] | None = None,
               relaxed: RelaxedLP | None = None) -> PartResult:
    """One component: searched whole, or in rolling chunks when too large; with its lower
    bound when ``bound`` (the LP's, or the Lagrangian one for rolling chunks). ``hint``:
    a previous placement, each workload's position in its options. ``relaxed``: the
    part's LP relaxation when one is solved already (a part searched whole uses it)."""
    options = {wc.workload.name: wc.options for wc in part.workloads}
    kept = {name: options[name][i] for name, i in sorted((hint or {}).items())}
    if _columns(part.workloads) > CHUNK_COLUMNS:
        sol = rolling(part, limits, progress, kept)
        if bound:
            sol.lower_bound = lagrangian_bound(part, sol)
        known = sol.lower_bound if bound else None  # the chunks' own bounds do not add up
    else:
        sol = search(part, limits, progress, kept or None, relaxed)
        if bound:
            attach_bound(part, sol, limits.safety_s)
        known = sol.lower_bound if bound else (
            None if sol.dual is None else min(sol.cost, max(0.0, sol.dual - sol.unplaced_penalty)))
    return _result(part, sol, known)


def _result(part: Model, sol: Solution, progress_bound: float | None) -> PartResult:
    position = {id(o): i for wc in part.workloads for i, o in enumerate(wc.options)}
    return PartResult({name: position[id(o)] for name, o in sorted(sol.chosen.items())},
                      sol.method, sol.status, sol.objective, sol.lower_bound, sol.variables,
                      sol.constraints, sol.cut_by_time, progress_bound)


def _so_far(parts: list[Model], done: dict[int, PartResult]) -> tuple[float, float | None]:
    """The cost of the parts solved so far (``done``, by position; without unplaced
    penalties) and a bound on it (None while some part has none)."""
    cost = sum(r.objective - _unplaced(parts[i], r) for i, r in sorted(done.items()))
    bounds = [r.progress_bound for _, r in sorted(done.items())]
    return cost, None if None in bounds else sum(b for b in bounds if b is not None)


def _unplaced(part: Model, result: PartResult) -> float:
    pen = penalties(part)
    return sum(p for name, p in pen.items() if name not in result.chosen)


def _merge(model: Model, parts: list[Model], results: list[PartResult],
           limits: Limits) -> Solution:
    chosen: dict[str, Option] = {}
    for part, result in zip(parts, results, strict=True):
        options = {wc.workload.name: wc.options for wc in part.workloads}
        for name, i in result.chosen.items():
            chosen[name] = options[name][i]
    pen = penalties(model)
    optionless = sum(pen[wc.workload.name] for wc in model.workloads if not wc.options)
    methods = {r.method for r in results}
    method = _method_of(methods)
    sol = Solution(dict(sorted(chosen.items())), peaks(chosen), method,
                   _status(results, limits), sum(r.objective for r in results) + optionless,
                   0.0, sum(r.variables for r in results), sum(r.constraints for r in results),
                   pen, cut_by_time=any(r.cut_by_time for r in results))
    sol.lower_bound = min(sum(r.lower_bound for r in results), sol.cost)
    return sol


def _method_of(methods: set[str]) -> str:
    """The plan's method from its parts': the strongest any part used."""
    return next((m for m in ("milp", "lp-rounding", "greedy") if m in methods), "none")


def _status(results: list[PartResult], limits: Limits) -> str:
    """One part: its status. Several: how many parts ended how (greedy ones named), the
    parts the safety net cut counted apart (their plan depends on the machine)."""
    if len(results) == 1:
        return results[0].status
    return f"{len(results)} independent parts: " + _tally(
        [r.status for r in results], [r.cut_by_time for r in results], limits)


def _tally(statuses: list[str], cut: list[bool], limits: Limits) -> str:
    """``"3 Optimal, 1 greedy: ..."``: how many ended with each status, those ``cut`` by the
    safety net counted as such, last."""
    counts = Counter(s for s, c in zip(statuses, cut, strict=True) if not c)
    text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if any(cut):
        text += (f"{', ' if counts else ''}{sum(cut)} cut by the {limits.safety_s:g} s "
                 "time-limit safety net: this plan depends on the machine's speed")
    return text


class _Offset:
    """Reports a part's incumbents as running totals with the parts before it: dollars,
    and the bound and gap while every part so far has a bound (issue 22's progress)."""

    def __init__(self, progress: Progress, before: float, before_bound: float | None) -> None:
        self.progress, self.before, self.before_bound = progress, before, before_bound

    def stage(self, name: str, total: int = 0) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def incumbent(self, dollars: float, bound: float | None, gap: float | None) -> None:
        _report(self.progress, self.before + dollars,
                None if self.before_bound is None or bound is None else self.before_bound + bound)


def _report(progress: Progress, cost: float, bound: float | None) -> None:
    """``cost`` so far, with ``bound`` and the gap between them when the bound is known."""
    if bound is None:
        progress.incumbent(cost, None, None)
        return
    lower = min(cost, bound)
    progress.incumbent(cost, lower, 0.0 if cost <= 0 else (cost - lower) / cost)


# -- rolling fix-and-optimize ---------------------------------------------------
def rolling(model: Model, limits: Limits, progress: Progress | None = None,
            hint: dict[str, Option] | None = None) -> Solution:
    """Chunks of the model searched in turn, each within what the earlier ones left
    (``hint``: a previous placement, as for :func:`planner.optimize.search.search`)."""
    chunks = _chunks(model)
    used_quota: dict[tuple[str, str, str, str], float] = defaultdict(float)
    used_cluster: dict[str, float] = defaultdict(float)
    spent: dict[str, float] = defaultdict(float)
    chosen: dict[str, Option] = {}
    statuses: list[str] = []
    methods: set[str] = set()
    cut: list[bool] = []
    variables = constraints = 0
    for chunk in chunks:
        part = _residual(model, chunk, used_quota, used_cluster, spent)
        before = sum(o.monthly for o in chosen.values())
        mine = {wc.workload.name: hint[wc.workload.name] for wc in chunk
                if hint and wc.workload.name in hint}
        sol = search(part, limits, _Offset(progress, before, None) if progress else None,
                     mine or None)
        statuses.append(sol.status)
        methods.add(sol.method)
        cut.append(sol.cut_by_time)
        variables += sol.variables
        constraints += sol.constraints
        for name, o in sol.chosen.items():
            spent[model.teams[name]] += o.monthly
        reps = {o.pool_id: o for _, o in sorted(sol.chosen.items())}
        for pool, nodes in peaks(sol.chosen).items():
            o = reps[pool]
            used_quota[quota_key(o)] += nodes * o.units_per_node
            if o.offer.cloud == "k8s":
                used_cluster[o.offer.region] += nodes
        chosen.update(sol.chosen)
    pen = penalties(model)
    status = (f"rolling fix-and-optimize over {len(chunks)} chunks: "
              + _tally(statuses, cut, limits))
    method = _method_of(methods)
    objective = _objective(model, chosen, pen)
    return Solution(dict(sorted(chosen.items())), peaks(chosen), method, status, objective, 0.0,
                    variables, constraints, pen, cut_by_time=any(cut))


def _chunks(model: Model) -> list[list[WorkloadCandidates]]:
    order = sorted(model.workloads, key=lambda wc: (
        -wc.workload.priority, wc.options[0].pool_id if wc.options else "", wc.workload.name))
    chunks: list[list[WorkloadCandidates]] = [[]]
    size = 0
    for wc in order:
        if chunks[-1] and size + len(wc.options) > CHUNK_COLUMNS:
            chunks.append([])
            size = 0
        chunks[-1].append(wc)
        size += len(wc.options)
    return chunks


def _residual(model: Model, chunk: list[WorkloadCandidates],
              used_quota: dict[tuple[str, str, str, str], float],
              used_cluster: dict[str, float], spent: dict[str, float]) -> Model:
    """A chunk's Model: the limits less what earlier chunks use."""
    part = _sub_model(model, chunk)
    part.quotas = {k: replace(q, limit=max(0.0, q.limit - used_quota.get(k, 0.0)))
                   for k, q in model.quotas.items()}
    part.capacities = {c: (replace(lim, limit=max(0.0, lim.limit - used_cluster.get(c, 0.0))), g)
                       for c, (lim, g) in model.capacities.items()}
    part.budgets = {t: b - spent.get(t, 0.0) for t, b in part.budgets.items()}
    return part


def _objective(model: Model, chosen: dict[str, Option], pen: dict[str, float]) -> float:
    """The MILP objective of a placement: own lines, whole nodes, tie-breaks, penalties."""
    from planner.optimize.solve import loads, pool_compute

    prices = {o.pool_id: o.node_price for o in chosen.values()}
    total = pool_compute(loads(chosen), prices)
    for wc in model.workloads:
        o = chosen.get(wc.workload.name)
        if o is None:
            total += pen[wc.workload.name]
            continue
        position = next(i for i, other in enumerate(wc.options) if other is o)
        total += o.objective - o.compute + RANK_EPS * o.rank + TIE_EPS * position
    return total


# -- Lagrangian bound --------------------------------------------------------------
def lagrangian_bound(model: Model, sol: Solution, steps: int = SUBGRADIENT_STEPS) -> float:
    """A lower bound on the cost of placing the workloads ``sol`` placed.

    Relax the whole-node rows (nodes = the jobs' shares, the LP's cost: each option its
    own lines plus its share-hours at the node price, with its tie-break) and move the
    quota, capacity and budget rows into the objective with multipliers ``lam >= 0``:
    ``L(lam) = sum_w min_o (c_o + lam . a_o) - lam . limits`` is at most the optimum
    for every ``lam`` (weak duality). Subgradient steps (Polyak, towards ``sol.cost``)
    raise it; the best value seen is returned (at most ``sol.cost``).
    """
    import numpy as np

    arrays = _relaxed_arrays(model, set(sol.chosen))
    if arrays is None:
        return 0.0
    cost, rows, coefs, starts, limits = arrays
    lam = np.zeros(len(limits) + 1)  # the last row is "none": its multiplier stays 0
    best, theta, stale = -math.inf, 1.0, 0
    target = sol.cost
    for _ in range(steps):
        adjusted = cost + (lam[rows] * coefs).sum(axis=1)
        mins = np.minimum.reduceat(adjusted, starts)
        value = float(mins.sum() - lam[:-1] @ limits)
        if value > best + 1e-9:
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 5:
                theta, stale = theta / 2, 0
        picked = _first_minima(adjusted, mins, starts)
        usage = np.bincount(rows[picked].ravel(), weights=coefs[picked].ravel(),
                            minlength=len(lam))[:-1]
        grad = usage - limits
        norm = float(grad @ grad)
        if norm <= 1e-12 or target - value <= 1e-9:
            break
        lam[:-1] = np.maximum(0.0, lam[:-1] + theta * (target - value) / norm * grad)
    return min(max(best, 0.0), sol.cost)


def _relaxed_arrays(model: Model, placed: set[str]) -> tuple[Any, ...] | None:
    """Per option of the placed workloads (contiguous per workload): relaxed cost, its
    three rows (quota, capacity, budget; "none" = the last) and coefficients; each
    workload's first option; and the rows' limits."""
    import numpy as np

    shared = _shared_pools(model.workloads)
    quota_rows = {k: i for i, k in enumerate(sorted(model.quotas))}
    cluster_rows = {c: len(quota_rows) + i for i, c in enumerate(sorted(model.capacities))}
    budget_rows = {t: len(quota_rows) + len(cluster_rows) + i
                   for i, t in enumerate(sorted(model.budgets))}
    limits = ([model.quotas[k].limit for k in sorted(model.quotas)]
              + [model.capacities[c][0].limit for c in sorted(model.capacities)]
              + [model.budget_room(t) for t in sorted(model.budgets)])
    none = len(limits)
    cost: list[float] = []
    rows: list[tuple[int, int, int]] = []
    coefs: list[tuple[float, float, float]] = []
    starts: list[int] = []
    for wc in model.workloads:
        if wc.workload.name not in placed or not wc.options:
            continue
        starts.append(len(cost))
        budget = budget_rows.get(model.teams[wc.workload.name], none)
        for position, o in enumerate(wc.options):
            tie = RANK_EPS * o.rank + TIE_EPS * position
            own = o.objective
            if o.pool_id in shared:
                own += o.node_price * sum(h * s for h, s in o.pieces) - o.compute
            cost.append(own + tie)
            q = quota_rows.get(quota_key(o), none)
            c = cluster_rows.get(o.offer.region, none) if o.offer.cloud == "k8s" else none
            rows.append((q, c, budget))
            coefs.append((o.units_per_node * o.share, o.share, o.monthly))
    if not starts:
        return None
    return (np.array(cost), np.array(rows, dtype=np.int64), np.array(coefs),
            np.array(starts, dtype=np.int64), np.array(limits, dtype=float))


def _first_minima(adjusted: Any, mins: Any, starts: Any) -> Any:
    """Index of each workload's first cheapest option."""
    import numpy as np

    owner = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(adjusted))))
    at_min = np.flatnonzero(adjusted <= mins[owner] + 1e-9)
    _, first = np.unique(owner[at_min], return_index=True)
    return at_min[first]

