"""Facts about a solution that explain it: what each constraint uses, what binds, what blocks.

A constraint **binds** when some workload would cost the plan less on an option
that the constraint rules out, given everyone else's placement, than it is
charged now (:class:`Marginal`: the option at its marginal price, whole-node
hours included; the workload at its share of its pool's nodes and idle): a quota or cluster
capacity without room for the extra nodes, or a team budget without room for
the cost. What would place a workload that could not be placed is
:mod:`planner.optimize.unblock`'s: its minimal relaxation sets.
Deadline and locality bind when an offer cheaper than the chosen one was
rejected for that reason alone: too slow, or a node its multi-node job's workers would
share (a 16-GPU node for both of a 2-node A100:8 job's workers), cheaper whole.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from planner.optimize.candidates import Option, _unit_cost
from planner.optimize.solve import Model, Solution, quota_key
from planner.plan import Binding, Plan, money
from planner.plancost import FixedLoad, PoolLoad, pieces
from planner.spec.model import Workload

EPS = 1e-6


@dataclass
class Usage:
    quota: dict[tuple[str, str, str, str], float]
    cluster: dict[str, float]
    spent: dict[str, float]
    share: dict[str, float]


def usage(model: Model, sol: Solution) -> Usage:
    reps: dict[str, Option] = {o.pool_id: o for o in sol.chosen.values()}  # merged pools too
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
        share[o.pool_id] += o.share
    return Usage(quota, cluster, spent, share)


@dataclass(frozen=True)
class Held:
    """A placed workload as the cost function sees it: pool, pieces, share-hours, the
    node $/h and its own lines ($/month, its share of the nodes excluded)."""

    pool: str
    pieces: tuple[tuple[float, float], ...]
    share_hours: float
    node_price: float
    own: float


class Marginal:
    """Prices against everyone else's placement (:mod:`planner.plancost`).

    * :meth:`dollars`: what the plan would pay a month for a workload on an option: its
      own lines plus the node-hours it adds to that pool (a slot on a node no one else
      uses costs the node);
    * :meth:`leaving`: what the plan would save if a placed workload left its pool;
    * :meth:`charged`: what a placed workload is charged: its own lines, its share of
      the nodes and its part of the pool's idle (by share-hours, as teams are).
    """

    def __init__(self, held: dict[str, Held]) -> None:
        self.held = dict(held)  # fixed from here on: the pools' figures below are kept
        loads: dict[str, PoolLoad] = defaultdict(PoolLoad)
        self.share_hours: dict[str, float] = defaultdict(float)
        for h in self.held.values():
            self.share_hours[h.pool] += h.share_hours
            for hours, share in h.pieces:
                loads[h.pool].add(hours, share)
        self._loads = dict(loads)
        self.loads = {pool: FixedLoad(load.by_hours) for pool, load in loads.items()}
        self._empty = FixedLoad({})
        self._moved: dict[tuple[str, tuple[tuple[float, float], ...],
                                tuple[tuple[float, float], ...]], float] = {}

    @classmethod
    def of_solution(cls, sol: Solution) -> Marginal:
        return cls({name: Held(o.pool_id, o.pieces, o.run_share * o.run_hours, o.node_price,
                               o.monthly - o.compute) for name, o in sol.chosen.items()})

    @classmethod
    def of_plan(cls, plan: Plan) -> Marginal:
        return cls({p.workload: Held(
            p.pool, tuple(pieces(p.pool_share, p.monthly_hours, plan.hours_per_month)),
            p.pool_share * p.monthly_hours, float(plan.pool(p.pool).node_hourly),
            float(p.monthly - p.monthly_lines.compute)) for p in plan.placements})

    def added_node_hours(self, o: Option) -> float:
        current = self.held.get(o.workload)
        if current is not None and current.pool == o.pool_id:
            return self._moved_within(o.pool_id, current.pieces, o.pieces)
        return self.loads.get(o.pool_id, self._empty).added_by(o.pieces)

    def _moved_within(self, pool: str, held: tuple[tuple[float, float], ...],
                      job: tuple[tuple[float, float], ...]) -> float:
        """Node-hours ``job`` adds to ``pool`` once the ``held`` pieces have left it."""
        key = (pool, held, job)
        found = self._moved.get(key)
        if found is None:
            found = self._moved[key] = (self._loads.get(pool, PoolLoad()).without_all(held)
                                          .added_by(job))
        return found

    def dollars(self, o: Option) -> float:
        """$/month the plan would pay for the workload on ``o``."""
        return o.monthly - o.compute + o.node_price * self.added_node_hours(o)

    def objective(self, o: Option) -> float:
        """As :meth:`dollars`, with the time value the solver weighs too."""
        return o.objective - o.compute + o.node_price * self.added_node_hours(o)

    def prices(self, options: list[Option]) -> list[float]:
        """:meth:`dollars` of each of ``options`` (all of one workload) in one loop: a plan
        prices some 25 alternatives a workload, 500,000 at 20,000 workloads."""
        return [o.monthly - o.compute + o.node_price * added
                for o, added in zip(options, self._added_many(options), strict=True)]

    def objectives(self, options: list[Option]) -> list[float]:
        """:meth:`objective` of each of ``options`` (all of one workload) in one loop."""
        return [o.objective - o.compute + o.node_price * added
                for o, added in zip(options, self._added_many(options), strict=True)]

    def _added_many(self, options: list[Option]) -> list[float]:
        """:meth:`added_node_hours` of each of ``options``, all of one workload."""
        if not options:
            return []
        current = self.held.get(options[0].workload)
        within = current.pool if current is not None else None
        loads, empty = self.loads, self._empty
        return [self.added_node_hours(o) if o.pool_id == within
                else loads.get(o.pool_id, empty).added_by(o.pieces) for o in options]

    def leaving(self, workload: str) -> float:
        """$/month the plan would save if ``workload`` left its pool."""
        h = self.held[workload]
        load = self.loads.get(h.pool, self._empty)
        saved = load.node_hours() - load.without_node_hours(h.pieces)
        return h.own + h.node_price * saved

    def charged(self, workload: str) -> float:
        """$/month ``workload`` is charged: own lines + share-hours' part of its pool."""
        h = self.held[workload]
        total = self.share_hours[h.pool]
        part = h.share_hours / total if total > 0 else 0.0
        return h.own + h.node_price * self.loads.get(h.pool, self._empty).node_hours() * part


def violations(model: Model, sol: Solution, use: Usage, o: Option) -> list[str]:
    """Constraint ids that stop ``o``'s workload from moving to ``o``."""
    current = sol.chosen.get(o.workload)
    out = []
    share = use.share[o.pool_id] - (current.share if current and current.pool_id == o.pool_id
                                    else 0.0)
    extra = math.ceil(share + o.share - 1e-9) - sol.nodes.get(o.pool_id, 0)
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
        if spent > model.budget_room(team) + EPS:
            out.append(f"budget:{team}")
    return sorted(out)


def blocked_by(model: Model, sol: Solution, o: Option, use: Usage | None = None) -> str | None:
    """The first constraint id (sorted) stopping ``o``; pass ``use`` to reuse one usage()."""
    found = violations(model, sol, use or usage(model, sol), o)
    return found[0] if found else None


def binding_constraints(model: Model, sol: Solution) -> list[Binding]:
    """Constraints that stop a workload from an option the plan would pay less for
    than the workload is charged now (:class:`Marginal`: charged includes its part of
    idle, so two jobs that could only leave a shared node together both count)."""
    use = usage(model, sol)
    marginal = Marginal.of_solution(sol)
    hits: dict[str, set[str]] = defaultdict(set)
    for wc in model.workloads:
        name = wc.workload.name
        current = sol.chosen.get(name)
        now = math.inf
        if current is not None:
            now = marginal.charged(name) + current.objective - current.monthly
        for o, value in zip(wc.options, marginal.objectives(wc.options), strict=True):
            if value >= now - EPS:
                continue
            for cid in violations(model, sol, use, o):
                hits[cid].add(name)
    out = [_limit_binding(model, use, cid, names) for cid, names in hits.items()]
    out.extend(_rejection_bindings(model, sol, marginal))
    return sorted(out, key=lambda b: b.id)


def _limit_binding(model: Model, use: Usage, cid: str, names: set[str]) -> Binding:
    if cid.startswith("budget:"):
        team = cid.split(":", 1)[1]
        used = use.spent[team] + model.idle_reserve.get(team, 0.0)
        return Binding(id=cid, kind="budget", used=money(round(used, 4)),
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


def charged_unit_cost(w: Workload, o: Option, marginal: Marginal) -> float:
    """$ per unit of work of ``w`` on its option ``o`` at what it is charged (its share
    of the nodes scaled up by its part of idle), to compare with rejected offers."""
    unit = _unit_cost(w, o.variant)
    share_compute = o.compute
    if share_compute <= 0:
        return unit
    charged_compute = marginal.charged(o.workload) - marginal.held[o.workload].own
    return unit * max(1.0, charged_compute / share_compute)


def _rejection_bindings(model: Model, sol: Solution, marginal: Marginal) -> list[Binding]:
    out = []
    for wc in model.workloads:
        w, o = wc.workload, sol.chosen.get(wc.workload.name)
        if o is None:
            continue
        unit = charged_unit_cost(w, o, marginal)
        for reason, kind in (("deadline", "deadline"), ("multi-node-whole-nodes", "locality")):
            # Only an offer rejected for this reason alone: relaxing it would open that one
            # (a spot offer that also breaks use_spot: false would stay closed).
            alone = wc.relaxable.get((frozenset([reason]), ""))
            if alone is not None and _unit_cost(w, alone, alone=True) < unit - 1e-12:
                limit = w.deadline_hours if kind == "deadline" else float(w.num_nodes)
                used = o.runtime if kind == "deadline" else float(w.num_nodes)
                out.append(Binding(
                    id=f"{kind}:{w.name}", kind=kind,
                    used=Decimal(repr(round(used, 3))), limit=Decimal(repr(limit or 0)),
                    unit="hours" if kind == "deadline" else "nodes in one pool",
                    workloads=(w.name,)))
    return out
