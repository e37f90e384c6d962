"""What would place an unplaced workload: its minimal relaxation sets, each priced.

Every way the workload could have run gives one set of constraints that stood in its way:

* an option the solver had: the quota, cluster capacity or team budget it would break,
  everyone else where they are (:func:`planner.optimize.facts.violations`);
* for each set of reasons an offer was rejected for, the cheapest such offer: those
  reasons (``region-not-allowed``, ``spot-not-allowed``, ``deadline``, ...; ``quota`` is
  named by the quota's id when the declaration sets one), plus what it would break then.

Relaxing every member of one set places the workload there. A set is kept when it is
**minimal** (no other set is contained in it), at its cheapest offer; the sets are ordered
by size, then by what the plan would pay a month for the workload there (its own lines
plus the node-hours it adds: :class:`planner.optimize.facts.Marginal`). A job that any one
of three relaxations would place has three one-member sets ("any one of: ...").

An offer failing a fact that no limit of the declaration sets (``FIXED_REASONS``: the
accelerator count, vCPUs, memory, no spot price, no MIG, ...) gives no set: only a
different request would run there, and pricing the request on it would be a price for
something else. So a workload whose every offer fails such a fact has no sets (its
reasons say why), and neither has one with an option that breaks nothing (the solver left
it out to place others: there is nothing to relax). The exception is a workload the
budget's last resort left out (:func:`left_out_for_budget`): its team's budget is what
relaxing would place it.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.optimize.candidates import CandidateBuilder, Option, WorkloadCandidates
from planner.optimize.facts import Marginal, Usage, violations
from planner.optimize.solve import Model, Solution

MAX_SETS = 8

# Facts about an offer that no limit of the declaration sets (only a different request
# changes them): sets holding one are a last resort.
FIXED_REASONS = frozenset({"accelerator-count", "multi-node-whole-nodes", "cpus", "memory",
                           "no-spot-price", "no-throughput-data", "no-mig", "slot-memory",
                           "isolation", "compute"})


@dataclass(frozen=True)
class Relaxation:
    """Relax every member of ``relax`` and the workload runs on ``offer`` for
    ``monthly`` $/month (what the plan would pay)."""

    relax: tuple[str, ...]
    offer: str
    monthly: float


@dataclass(frozen=True)
class Unblocking:
    """The minimal relaxations of a workload, and the solver-level constraints its
    options broke (``limits``); ``tradeoff``: an option broke none; ``budget_team``: the
    team whose budget it was left out for after the solve (:func:`left_out_for_budget`)."""

    sets: tuple[Relaxation, ...]
    limits: tuple[str, ...]
    tradeoff: bool
    budget_team: str | None = None


def left_out_for_budget(team: str, had: Option, marginal: Marginal) -> Unblocking:
    """A workload the budget's last resort left out of a solution to keep ``team`` within
    its budget (the idle on shared nodes the budget row could not see): relaxing
    ``budget:<team>`` alone places it back on ``had``, the option it had (its quota and
    capacity held it there), for what the plan would then pay."""
    limit = f"budget:{team}"
    return Unblocking((_priced([limit], had, marginal),), (limit,), False, team)


def unblocking(wc: WorkloadCandidates, builder: CandidateBuilder, model: Model, sol: Solution,
               use: Usage, marginal: Marginal) -> Unblocking:
    """The minimal relaxation sets that would place ``wc``'s workload (see module doc)."""
    found: list[Relaxation] = []
    limits: set[str] = set()
    tradeoff = False
    for o in wc.options:
        broken = violations(model, sol, use, o)
        limits.update(broken)
        tradeoff = tradeoff or not broken
        found.append(_priced(broken, o, marginal))
    if tradeoff:
        return Unblocking((), tuple(sorted(limits)), True)
    for (reasons, _), variant in sorted(wc.relaxable.items(),
                                        key=lambda kv: (sorted(kv[0][0]), kv[0][1])):
        relaxed = builder.relaxed_option(wc.workload, variant)
        if relaxed is None:
            continue
        broken = violations(model, sol, use, relaxed)
        static = set(reasons)
        if any(b.startswith("quota:") for b in broken):
            static.discard("quota")  # the same limit, named by its id
        found.append(_priced([*static, *broken], relaxed, marginal))
    return Unblocking(minimal(found), tuple(sorted(limits)), False)


def _priced(relax: list[str] | set[str], o: Option, marginal: Marginal) -> Relaxation:
    return Relaxation(tuple(sorted(set(relax))), o.offer.key + (" spot" if o.spot else ""),
                      round(marginal.dollars(o), 4))


def minimal(found: list[Relaxation], limit: int = MAX_SETS) -> tuple[Relaxation, ...]:
    """The minimal sets of ``found`` at their cheapest, fewest members first, then cheapest;
    never a set with a fixed fact; at most ``limit``."""
    best: dict[frozenset[str], Relaxation] = {}
    for r in found:
        if not r.relax or FIXED_REASONS.intersection(r.relax):
            continue
        key = frozenset(r.relax)
        cur = best.get(key)
        if cur is None or (r.monthly, r.offer) < (cur.monthly, cur.offer):
            best[key] = r
    kept = [r for key, r in best.items() if not any(other < key for other in best)]
    kept.sort(key=lambda r: (len(r.relax), r.monthly, r.relax))
    return tuple(kept[:limit])
