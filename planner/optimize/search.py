"""Searching the placement MILP (:mod:`planner.optimize.solve`) within deterministic limits.

Same input, same plan, on any machine at any load: every stop rule counts work,
never seconds. The search is one HiGHS MILP over every workload, warm-started
from the greedy placement (around the base plan, if any: each workload first
tries its base option). It stops at the first of

* the gap target (:data:`planner.optimize.solve.GAP_TARGET` of the start's cost);
* a branch-and-bound node budget that shrinks as the model grows:
  ``NODE_WORK`` option-column-nodes, so ``NODE_WORK / columns`` nodes, between
  ``MIN_NODES`` and ``MAX_NODES`` (most of a large model's work is the root
  node: its LP, cuts and heuristics; further nodes rarely pay for themselves).

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

from dataclasses import dataclass

from planner.optimize.progress import Progress
from planner.optimize.solve import Model, Solution, greedy, solve

NODE_WORK = 200_000  # branch-and-bound nodes x option columns, per search
MIN_NODES = 1
MAX_NODES = 1000


@dataclass(frozen=True)
class Limits:
    """When the search stops. ``safety_s`` is wall clock; the node budget counts work."""

    safety_s: float = 60.0
    node_work: int = NODE_WORK

    def nodes(self, columns: int) -> int:
        """The branch-and-bound node budget of a model with ``columns`` option columns."""
        return max(MIN_NODES, min(MAX_NODES, self.node_work // max(columns, 1)))


def search(model: Model, limits: Limits, progress: Progress | None = None) -> Solution:
    """The best placement found within ``limits`` (see the module doc); its lower bound is
    left for :func:`planner.optimize.solve.attach_bound`. ``progress`` hears of every
    improving solution in dollars."""
    columns = sum(len(wc.options) for wc in model.workloads)
    stays = {wc.workload.name: wc.stay for wc in model.workloads if wc.stay is not None}
    sol = solve(model, limits.safety_s, progress, bound=False,
                start=greedy(model, keep=stays) if columns else None,
                max_nodes=limits.nodes(columns))
    if sol.cut_by_time:
        sol.status += (f"; cut by the {limits.safety_s:g} s time-limit safety net: this "
                       "plan depends on the machine's speed")
    return sol
