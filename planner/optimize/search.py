"""Searching the placement MILP (:mod:`planner.optimize.solve`) within deterministic limits.

Same input, same plan, on any machine at any load: every stop rule counts work,
never seconds.

A large model (at least ``ROUNDING_FROM`` option columns) starts from its LP
relaxation (:func:`rounded`; column generation's, already solved, when the plan
prices all offers): each workload the LP places by more than half goes on
the option the LP gives most of it, the greedy heuristic completes that (a base
plan's options and a previous round's placement go first), and local search
(:mod:`planner.optimize.improve`: single moves, exchanges that place unplaced
workloads, shrinking pools with idle) lowers the cost. When that placement's dollars
are within ``ROUNDED_GAP`` of the LP bound of placing the same workloads, the
search ends there (``solver.method: lp-rounding``): branch-and-bound could gain at
most that much, and on such models its root node alone takes seconds to minutes
(measured: 11-14 s of CPU at 1,000 workloads, nothing found below the rounded
start). Otherwise that placement is the warm start of the MILP below, up to
``SEARCH_UP_TO`` columns or with a base plan; above, it is the plan (its status says
it missed the target, and the plan's gap says by how much).

The MILP search is one HiGHS run over every workload, warm-started from the greedy
placement (around the base plan, if any: each workload first tries its base
option) or the rounded one. It stops at the first of

* the gap target (:data:`planner.optimize.solve.GAP_TARGET` of the start's cost);
* a branch-and-bound node budget that shrinks as the model grows:
  ``NODE_WORK`` option-column-nodes, so ``NODE_WORK / columns`` nodes, between
  ``MIN_NODES`` and ``MAX_NODES`` (most of a large model's work is the root
  node: its LP, cuts and heuristics; further nodes rarely pay for themselves).

With a base plan, every move the search made that does not pay for itself is
then undone (:func:`back_to_base`): the search stops at a gap, so it may carry a
move whose saving is below its price.

HiGHS runs single-threaded with a fixed random seed (``threads=1``,
``random_seed=0``), which makes it repeat its path exactly. The wall-clock
limit (``Limits.safety_s``) is only a safety net, far above what the node budget
takes on an ordinary machine. When it does cut the search, the solution says so
(``Solution.cut_by_time``; the plan's ``solver.status`` and
``solver.cut_by_time_limit``) and ``planner plan --strict`` fails, because that
plan depends on the machine.

Deterministic: candidates, the greedy start, the search above and the bounds
(the LP relaxation solves to optimality); hence ``plan.json``, byte for byte,
for the same declaration, base plan, catalog, gpuplan version and HiGHS version
(tested: the 1,000-workload set planned twice, once with another process keeping
a core busy). Not deterministic: a plan cut by the safety net; and another
HiGHS version or CPU architecture may take another (equally valid) path to a
different plan of about the same cost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from planner.optimize.candidates import Option
from planner.optimize.improve import improve
from planner.optimize.progress import Progress
from planner.optimize.solve import (
    RANK_EPS,
    Model,
    Relaxation,
    Solution,
    greedy,
    loads,
    peaks,
    pool_compute,
    quota_key,
    solve,
)

NODE_WORK = 200_000  # branch-and-bound nodes x option columns, per search
MIN_NODES = 1
MAX_NODES = 1000
# From this many option columns the search starts from the rounded LP relaxation
# (:func:`rounded`), and stops there when that is within ROUNDED_GAP of its LP bound:
# measured on plan_scale's 1,000-workload set (~23,000 columns), HiGHS's root node
# alone took 11-14 s of CPU and its node budget found nothing below that start.
ROUNDING_FROM = 10_000
ROUNDED_GAP = 0.01
# Above this many option columns, a rounded plan over ROUNDED_GAP is the plan all the
# same: HiGHS's root node alone took 30 s of CPU on the 1,000-workload sharing mix
# (35,000 columns; heuristics off, one node) and found nothing below the rounded plan.
# Not with a base plan: there the move prices make the LP bound weak (a workload can stay
# fractionally) and the search does find better: re-planning plan_scale's 1,000 after a
# quota cut, 56 moves and $102 below planning afresh, against 121 moves and $3,005 above
# for the rounded plan alone.
SEARCH_UP_TO = 20_000
ROUNDED = "lp-rounding"


class RelaxedLP(Protocol):
    """An LP relaxation of the model, solved: where it puts each workload and the bound
    of placing exactly a set. :class:`planner.optimize.solve.Relaxation` builds its own;
    :class:`planner.optimize.colgen.SearchRelaxation` is column generation's, already
    solved over the same columns."""

    solved: bool

    def choice(self) -> dict[str, Option]: ...

    def bound(self, placed: set[str]) -> float | None: ...


@dataclass(frozen=True)
class Limits:
    """When the search stops. ``safety_s`` is wall clock; the node budget counts work."""

    safety_s: float = 60.0
    node_work: int = NODE_WORK

    def nodes(self, columns: int) -> int:
        """The branch-and-bound node budget of a model with ``columns`` option columns."""
        return max(MIN_NODES, min(MAX_NODES, self.node_work // max(columns, 1)))


def search(model: Model, limits: Limits, progress: Progress | None = None,
           hint: dict[str, Option] | None = None,
           relaxed: RelaxedLP | None = None) -> Solution:
    """The best placement found within ``limits`` (see the module doc); its lower bound is
    left for :func:`planner.optimize.solve.attach_bound`. ``progress`` hears of every
    improving solution in dollars. ``hint``: a placement of a previous solve of this model
    (the idle budget rounds re-solve with tighter budgets): the greedy start keeps each of
    its options that still fits, before the base plan's. ``relaxed``: the model's LP
    relaxation, when one is already solved (else :func:`rounded` solves its own)."""
    columns = sum(len(wc.options) for wc in model.workloads)
    stays = {wc.workload.name: wc.stay for wc in model.workloads if wc.stay is not None}
    keep = {**stays, **(hint or {})}
    if columns >= ROUNDING_FROM:
        start = rounded(model, keep, limits.safety_s,
                        searched=columns <= SEARCH_UP_TO or bool(stays), relaxed=relaxed)
        if start.method == ROUNDED:
            sol = start
        else:
            sol = solve(model, limits.safety_s, progress, bound=False, start=start,
                        max_nodes=limits.nodes(columns))
    else:
        sol = solve(model, limits.safety_s, progress, bound=False,
                    start=greedy(model, keep=keep) if columns else None,
                    max_nodes=limits.nodes(columns))
    if stays and sol.chosen:
        sol = back_to_base(model, sol, stays)
    if sol.cut_by_time:
        sol.status += (f"; cut by the {limits.safety_s:g} s time-limit safety net: this "
                       "plan depends on the machine's speed")
    return sol


def rounded(model: Model, keep: dict[str, Option], time_limit: float,
            searched: bool = True, relaxed: RelaxedLP | None = None) -> Solution:
    """The large model's start: the LP relaxation's placement rounded (each workload it
    places by more than half on the option it gives most), completed greedily (``keep``,
    the base plan and a previous round's placement, before the LP's choice), then
    improved by local search (:mod:`planner.optimize.improve`).

    Its method is :data:`ROUNDED` when its dollars are within :data:`ROUNDED_GAP` of the
    LP bound of placing the same workloads: branch-and-bound has at most that to gain
    and is not run. Otherwise it is the warm start of the search; or, when ``searched``
    is off (above :data:`SEARCH_UP_TO` columns without a base plan), the plan all the
    same, its status saying it missed the target. ``relaxed``: the model's solved LP
    relaxation, if there is one (default: :class:`Relaxation` builds and solves it)."""
    relaxed = relaxed or Relaxation(model, time_limit)
    start = improve(model, greedy(model, keep={**relaxed.choice(), **keep}))
    bound = relaxed.bound(set(start.chosen)) if start.chosen and relaxed.solved else None
    within = bound is not None and start.cost - bound <= ROUNDED_GAP * start.cost
    if within or not searched:
        start.method = ROUNDED
        start.status = _rounded_status(start, bound, within)
    return start


def _rounded_status(start: Solution, bound: float | None, within: bool) -> str:
    """What a rounded plan's search did, for ``solver.status``."""
    done = "LP relaxation rounded, then local search"
    if not start.chosen:
        return f"{done}: no workload fits anywhere"
    skipped = f"branch-and-bound was not run (model above {SEARCH_UP_TO:,} option columns)"
    if bound is None:
        return f"{done}; the LP bound of its placement was not solved, and {skipped}"
    gap = max(0.0, start.cost - bound) / max(start.cost, 1e-9)
    if within:
        return (f"{done}: {gap:.2%} above the LP bound (target {ROUNDED_GAP:.0%}), so "
                "branch-and-bound was not run")
    return f"{done}: {gap:.2%} above the LP bound, over the {ROUNDED_GAP:.0%} target; {skipped}"


def back_to_base(model: Model, sol: Solution, stays: dict[str, Option]) -> Solution:
    """``sol`` with the moves that do not pay for themselves undone.

    The search stops at a gap, so its placement can carry moves whose saving is less
    than their price (HiGHS took them together with a real gain), or swaps of equal
    jobs between two pools. Each moved workload, by name, then each group of moves
    between the same two pools (all of them, then each pair), goes back to its base
    option where everything still fits and the objective (dollars, move prices,
    tie-breaks) does not rise: ties go to the base.
    """
    chosen = dict(sol.chosen)
    value = _value(chosen)
    for group in _revert_groups(chosen, stays):
        trial = {**chosen, **{name: stays[name] for name in group}}
        trial_value = _value(trial)
        if trial_value <= value + 1e-9 and fits(model, trial):
            chosen, value = trial, trial_value
    if chosen == sol.chosen:
        return sol
    undone = sum(chosen[n] is not sol.chosen[n] for n in chosen)
    return Solution(chosen, peaks(chosen), sol.method, f"{sol.status}; {undone} move(s) that "
                    "did not pay for themselves undone", sol.objective - _value(sol.chosen)
                    + value, 0.0, sol.variables, sol.constraints, sol.penalties, sol.dual,
                    sol.cut_by_time)


PAIRS_UP_TO = 12  # moves between two pools; above this only the whole group is tried


def _revert_groups(chosen: dict[str, Option], stays: dict[str, Option]) -> list[list[str]]:
    """What :func:`back_to_base` tries to undo, in order: each move alone (by name), then
    the moves between each two pools (pools by id): all together, then each pair."""
    moved = sorted(n for n, o in chosen.items() if n in stays and o is not stays[n])
    by_pools: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name in moved:
        ends = sorted((stays[name].pool_id, chosen[name].pool_id))
        by_pools[ends[0], ends[1]].append(name)
    groups: list[list[str]] = [[n] for n in moved]
    for _, names in sorted(by_pools.items()):
        if len(names) > 1:
            groups.append(names)
        if 2 < len(names) <= PAIRS_UP_TO:
            groups.extend([a, b] for i, a in enumerate(names) for b in names[i + 1:])
    return groups


def _value(chosen: dict[str, Option]) -> float:
    """The objective of a placement without unplaced penalties (as the MILP counts it)."""
    own = sum(o.objective - o.compute + o.move + RANK_EPS * o.rank for o in chosen.values())
    return own + pool_compute(loads(chosen), {o.pool_id: o.node_price for o in chosen.values()})


def fits(model: Model, chosen: dict[str, Option]) -> bool:
    """Whether a placement keeps every quota, cluster capacity and budget row."""
    reps = {o.pool_id: o for o in chosen.values()}
    quota: dict[tuple[str, str, str, str], float] = defaultdict(float)
    cluster: dict[str, float] = defaultdict(float)
    for pool, n in peaks(chosen).items():
        o = reps[pool]
        quota[quota_key(o)] += n * o.units_per_node
        if o.offer.cloud == "k8s":
            cluster[o.offer.region] += n
    spent: dict[str, float] = defaultdict(float)
    for name, o in chosen.items():
        spent[model.teams[name]] += o.monthly
    return (all(quota[k] <= q.limit + 1e-9 for k, q in model.quotas.items())
            and all(cluster[c] <= cap[0].limit + 1e-9 for c, cap in model.capacities.items())
            and all(spent[t] <= model.budget_room(t) + 1e-9 for t in model.budgets))
