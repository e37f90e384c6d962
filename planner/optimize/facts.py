"""Facts about a solution that explain it: what each constraint uses, what binds, what blocks.

A constraint **binds** when some workload would be cheaper on an option that
the constraint rules out given everyone else's placement: a quota or cluster
capacity without room for the extra nodes, or a team budget without room for
the cost. A workload that could not be placed is **blocked** by the
smallest set of constraints that rule out its least-blocked option.
Deadline and locality bind when an offer cheaper than the chosen one was
rejected for being too slow, or for needing to split a multi-node job.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from planner.optimize.candidates import Option, WorkloadCandidates, _unit_cost
from planner.optimize.solve import Model, Solution, quota_key
from planner.plan import Binding, money

EPS = 1e-6


@dataclass
class Usage:
    quota: dict[tuple[str, str, str, str], float]
    cluster: dict[str, float]
    spent: dict[str, float]
    share: dict[str, float]


def usage(model: Model, sol: Solution) -> Usage:
    reps: dict[str, Option] = {}
    for wc in model.workloads:
        for o in wc.options:
            reps.setdefault(o.pool_id, o)
    quota: dict[tuple[str, str, str, str], float] = defaultdict(float)
    cluster: dict[str, float] = defaultdict(float)
    for pid, n in sol.nodes.items():
        o = reps[pid]
        quota[quota_key(o)] += n * o.units_per_node
        if o.offer.cloud == "k8s":
            cluster[o.offer.region] += n
    spent: dict[str, float] = defaultdict(float)
    share: dict[str, float] = defaultdict(float)
    for name, o in sol.chosen.items():
        spent[model.teams[name]] += o.monthly
        share[o.pool_id] += o.gpu_share
    return Usage(quota, cluster, spent, share)


def violations(model: Model, sol: Solution, use: Usage, o: Option) -> list[str]:
    """Constraint ids that stop ``o``'s workload from moving to ``o``."""
    current = sol.chosen.get(o.workload)
    out = []
    share = use.share[o.pool_id] - (current.gpu_share if current and current.pool_id == o.pool_id
                                    else 0.0)
    extra = math.ceil(share + o.gpu_share - 1e-9) - sol.nodes.get(o.pool_id, 0)
    if extra > 0:
        q = model.quotas.get(quota_key(o))
        if q is not None and use.quota[quota_key(o)] + extra * o.units_per_node > q.limit + EPS:
            out.append(q.id)
        cap = model.capacities.get(o.offer.region) if o.offer.cloud == "k8s" else None
        if cap is not None and use.cluster[o.offer.region] + extra > cap[0].limit + EPS:
            out.append(cap[0].id)
    team = model.teams[o.workload]
    if team in model.budgets:
        spent = use.spent[team] - (current.monthly if current else 0.0) + o.monthly
        if spent > model.budgets[team] + EPS:
            out.append(f"budget:{team}")
    return sorted(out)


def blocked_by(model: Model, sol: Solution, o: Option, use: Usage | None = None) -> str | None:
    """The first constraint id (sorted) stopping ``o``; pass ``use`` to reuse one usage()."""
    found = violations(model, sol, use or usage(model, sol), o)
    return found[0] if found else None


def blocking_for_unplaced(model: Model, sol: Solution, wc: WorkloadCandidates) -> tuple[str, ...]:
    """Smallest set of constraints (given everyone else's placement) that rules out
    every option of ``wc``: a minimum hitting set of each option's violations."""
    from planner.optimize.candidates import hitting_set

    use = usage(model, sol)
    sets = {frozenset(violations(model, sol, use, o)) for o in wc.options}
    if not sets or frozenset() in sets:
        return ("solver-tradeoff",)
    return hitting_set(sets)


def binding_constraints(model: Model, sol: Solution) -> list[Binding]:
    use = usage(model, sol)
    hits: dict[str, set[str]] = defaultdict(set)
    for wc in model.workloads:
        name = wc.workload.name
        current = sol.chosen.get(name)
        for o in wc.options:
            if current is not None and o.objective >= current.objective - EPS:
                continue
            for cid in violations(model, sol, use, o):
                hits[cid].add(name)
    out = [_limit_binding(model, use, cid, names) for cid, names in hits.items()]
    out.extend(_rejection_bindings(model, sol))
    return sorted(out, key=lambda b: b.id)


def _limit_binding(model: Model, use: Usage, cid: str, names: set[str]) -> Binding:
    if cid.startswith("budget:"):
        team = cid.split(":", 1)[1]
        return Binding(id=cid, kind="budget", used=money(round(use.spent[team], 4)),
                       limit=money(model.budgets[team]), unit="USD/month",
                       workloads=tuple(sorted(names)))
    for key, q in model.quotas.items():
        if q.id == cid:
            return Binding(id=cid, kind="quota", used=Decimal(repr(round(use.quota[key], 3))),
                           limit=Decimal(repr(q.limit)), unit=q.unit, workloads=tuple(sorted(names)))
    for cluster, (limit, _) in model.capacities.items():
        if limit.id == cid:
            return Binding(id=cid, kind="capacity", used=Decimal(repr(use.cluster[cluster])),
                           limit=Decimal(repr(limit.limit)), unit="nodes",
                           workloads=tuple(sorted(names)))
    raise KeyError(cid)


def _rejection_bindings(model: Model, sol: Solution) -> list[Binding]:
    out = []
    for wc in model.workloads:
        w, o = wc.workload, sol.chosen.get(wc.workload.name)
        if o is None:
            continue
        unit = _unit_cost(w, o.variant)
        for reason, kind in (("deadline", "deadline"), ("multi-node-whole-nodes", "locality")):
            r = wc.rejected.get(reason)
            if r and r.cheaper_than(unit) > 0:
                limit = w.deadline_hours if kind == "deadline" else float(w.num_nodes)
                used = o.runtime if kind == "deadline" else float(w.num_nodes)
                out.append(Binding(
                    id=f"{kind}:{w.name}", kind=kind,
                    used=Decimal(repr(round(used, 3))), limit=Decimal(repr(limit or 0)),
                    unit="hours" if kind == "deadline" else "nodes in one pool",
                    workloads=(w.name,)))
    return out
