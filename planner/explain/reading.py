"""Why each workload landed where it did, read from a ``Plan`` alone (no re-solve).

Pure: a :class:`~planner.plan.Plan` in, an :class:`Explanation` out. The
templates ``explain.txt.j2`` and ``explain.md.j2`` render it for people;
``planner explain --format json`` prints it as is. ``--what-if`` and
``--constraints`` add sections computed by :mod:`planner.explain.whatif` (they
re-solve; this module never does).

Money is USD as :class:`~decimal.Decimal` (JSON strings, 4 places):
``hourly`` is $/h while running, ``per_job`` is $ for one run, ``monthly`` is
$ per month at the plan's ``hours_per_month``. ``delta`` is always
``alternative - chosen`` (or ``new - base``), so negative means cheaper.

"Cheaper offers" come from what the plan records: its alternatives cheaper
than the choice (the top ``MAX_ALTERNATIVES`` per workload, each with the
constraint that ruled it out, or none when the solver traded it off against
the others' placements, e.g. idle capacity on shared nodes; when even the last
kept one is cheaper there may be more, flagged ``at_least``) and its rejected
offers (exact ``cheaper`` counts per reason, the cheapest few named).

JSON schema (``kind`` = ``"gpuplan/explain"``, ``version`` = 1; keys sorted):

* ``catalog``: ``{source, date}`` of the plan
* ``overview``: ``null`` when workloads are named or only a what-if /
  constraints report was asked for; else ``{hourly, monthly, placed,
  unplaced, paid_gpu_hours, used_gpu_hours, utilization, by_team: [{name, hourly,
  monthly, budget, over_budget, paid_gpu_hours, used_gpu_hours, utilization}], by_cloud /
  by_region: [{name, hourly, monthly, paid_gpu_hours, used_gpu_hours, utilization}],
  pools: [pool use], utilization_warnings: [str], placements: [{workload,
  team, cloud, region, zone, instance_type, machine, capacity, nodes, monthly}],
  binding: [constraint], unplaced: [{workload, team, unblock: [unblock],
  reasons: [{code, detail}]}], solver: {method, status, lower_bound, gap},
  worst_case, warnings}`` (``worst_case``: the plan's ``{monthly, delta, by_team,
  over_budget}`` with every workload that has fallbacks on its first one, or ``null``;
  ``warnings``: the plan's, e.g. a team whose worst case is over its budget;
  ``utilization_warnings``: a line per pool below ``--warn-utilization``, else empty)
* GPU-hours are a month's, the cost function's (:mod:`planner.utilization`);
  ``utilization`` is used / paid, 0..1 (4 places), ``null`` where nothing is paid. A
  ``pool use`` is ``{pool, cloud, region, zone, instance_type, accelerator, capacity,
  nodes, paid_gpu_hours, used_gpu_hours, utilization, idle_monthly, reasons: [{code:
  lone-fractional|rounding|long-tail, gpu_hours, workloads, text}]}``, reasons largest
  first, adding up to its idle GPU-hours
* ``workloads``: ``[workload]`` in the order named, where a workload is
  ``{workload, team, status: placed|unplaced, placement, cost, alternatives,
  cheaper, binding, unblock, reasons}``:

  - ``placement``: ``{pool, cluster, cloud, region, zone, instance_type, machine,
    capacity, accelerator, gpus_per_node, nodes, node_share}`` or ``null`` (``machine``:
    ``n1-highcpu-16 2×V100 (uses 1)``, the node's GPUs and the job's part)
  - ``pool_use``: the ``pool use`` of its pool (placed only), else ``null``
  - ``slot``: on a shared pool ``{mode, slot, slots_per_node, memory_gib, isolation,
    node_hourly, slot_hourly, whole_gpu_hourly, text, why_shared}``, else ``null``:
    "1g.10gb of an a2-ultragpu-1g, $0.52/slice-h" and why not a whole GPU
  - ``cost``: ``{compute, spot_risk, egress, discount, per_job, hourly,
    monthly, runtime_hours, runs_per_month}`` or ``null``
  - ``alternatives``: ``[{offer, cloud, region, zone, instance_type,
    capacity, accelerator, accelerator_count, runtime_hours, monthly, delta,
    delta_pct, blocked_by}]`` cheapest first
  - ``cheaper``: ``[{source: constraint|tradeoff|rejection, reason, place,
    count, at_least, examples, best_delta, constraint, text}]``
  - ``binding``: ``[constraint]``; ``unblock``: ``[unblock]`` (unplaced only): any one
    of these places it
  - ``fallbacks``: ``[{rank, pool, cluster, offer, cloud, region, zone, instance_type,
    capacity, accelerator, nodes, runtime_hours, monthly, premium, premium_pct, scope,
    why}]`` in rank order (the plan's, :class:`planner.plan.Fallback`); ``fallback_note``:
    why there are fewer than the policy asks for, or ``null``
  - ``stability``: for a plan made with ``--base``, a sentence saying why the workload
    stayed in its base pool although a cheaper option had room, or why it moved; else
    ``null``

* a ``constraint`` is ``{id, kind, used, limit, unit, workloads, text}``; a
  ``blocker`` is ``{id, text, constraint}`` (``constraint`` null when the id
  is a rejection reason rather than a limit); an ``unblock`` is ``{relax: [blocker],
  offer, monthly}``: relax all of ``relax`` together and the workload runs on ``offer``,
  the plan paying ``monthly`` $/month for it (the plan's ``unplaced[].unblock``)
* ``what_if`` and ``constraints``: see :mod:`planner.explain.whatif` (``null`` and
  ``null`` unless asked for)
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from planner.errors import UsageError
from planner.explain.constraintvalue import ConstraintValue
from planner.explain.whatif import WhatIf
from planner.optimize.planning import MAX_ALTERNATIVES, REASON_TEXT
from planner.plan import (
    Alternative,
    Binding,
    CatalogInfo,
    Fallback,
    Placement,
    Plan,
    Rejection,
    Unplaced,
    WorstCase,
    machine_text,
)
from planner.plan import GroupCost as PlanGroupCost
from planner.utilization import PoolUse, pool_use, pool_uses, utilization, utilization_warnings

EXPLAIN_KIND = "gpuplan/explain"
EXPLAIN_VERSION = 1
EXAMPLES_SHOWN = 3
TRADEOFF = "solver-tradeoff"
# How one offer fails, where the planner's REASON_TEXT speaks of all of them.
OFFER_REASON = {
    "accelerator-count": "fewer accelerators per node than asked for",
    "quota": "the declared quota is too small for even one job",
    "cpus": "not enough vCPUs for the request",
    "memory": "not enough memory for the request",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraint(_Model):
    """A binding constraint: ``used`` of ``limit`` in ``unit``, with a sentence."""

    id: str
    kind: str
    used: Decimal
    limit: Decimal
    unit: str
    workloads: tuple[str, ...]
    text: str


class Blocker(_Model):
    """One constraint keeping an unplaced workload out."""

    id: str
    text: str
    constraint: Constraint | None


class UnblockView(_Model):
    """Relax every member of ``relax`` and the workload runs on ``offer`` for
    ``monthly`` $/month (what the plan would pay)."""

    relax: tuple[Blocker, ...]
    offer: str
    monthly: Decimal


class Where(_Model):
    """Where a workload runs; ``machine``: the instance, its GPUs and the job's part
    (``n1-highcpu-16 2×V100 (uses 1)``, :func:`planner.plan.machine_text`)."""

    pool: str
    cluster: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    machine: str
    capacity: str
    accelerator: str | None
    gpus_per_node: float
    nodes: int
    node_share: float


class CostView(_Model):
    """USD: per run (compute, spot risk, egress, discount <= 0, per_job), $/h, $/month."""

    compute: Decimal
    spot_risk: Decimal
    egress: Decimal
    discount: Decimal
    per_job: Decimal
    hourly: Decimal
    monthly: Decimal
    runtime_hours: float
    runs_per_month: float


class AlternativeView(_Model):
    offer: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    capacity: str
    accelerator: str | None
    accelerator_count: float
    runtime_hours: float
    monthly: Decimal
    delta: Decimal
    delta_pct: Decimal
    blocked_by: str | None


class CheaperGroup(_Model):
    """Offers cheaper than the choice that were not taken, for one reason (and place)."""

    source: Literal["constraint", "tradeoff", "rejection"]
    reason: str
    place: str | None
    count: int
    at_least: bool
    examples: tuple[str, ...]
    best_delta: Decimal | None
    constraint: Constraint | None
    text: str


class Reason(_Model):
    code: str
    detail: str


class SlotView(_Model):
    """The slot of a shared pool a workload takes, priced: USD per slot-hour."""

    mode: str
    slot: str
    slots_per_node: int
    memory_gib: float
    isolation: str
    node_hourly: Decimal
    slot_hourly: Decimal
    whole_gpu_hourly: Decimal
    text: str
    why_shared: str


class WorkloadView(_Model):
    workload: str
    team: str
    status: Literal["placed", "unplaced"]
    placement: Where | None
    cost: CostView | None
    alternatives: tuple[AlternativeView, ...]
    cheaper: tuple[CheaperGroup, ...]
    binding: tuple[Constraint, ...]
    unblock: tuple[UnblockView, ...]
    reasons: tuple[Reason, ...]
    slot: SlotView | None = None
    fallbacks: tuple[Fallback, ...] = ()
    fallback_note: str | None = None
    pool_use: PoolUse | None = None
    stability: str | None = None  # kept or moved against the base plan (plan --base)


class GroupCost(_Model):
    """USD ($/h, $/month) and GPU-hours a month of a team, cloud or region."""

    name: str
    hourly: Decimal
    monthly: Decimal
    budget: Decimal | None = None
    over_budget: bool = False
    paid_gpu_hours: Decimal = Decimal("0.0000")
    used_gpu_hours: Decimal = Decimal("0.0000")
    utilization: Decimal | None = None


class PlacedLine(_Model):
    workload: str
    team: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    machine: str
    capacity: str
    nodes: int
    monthly: Decimal


class UnplacedView(_Model):
    workload: str
    team: str
    unblock: tuple[UnblockView, ...]
    reasons: tuple[Reason, ...]


class SolverView(_Model):
    method: str
    status: str
    lower_bound: Decimal
    gap: Decimal
    bound_scope: str
    capped: int  # workloads whose offers the bound did not all price
    scope_text: str


class Overview(_Model):
    hourly: Decimal
    monthly: Decimal
    placed: int
    unplaced_count: int
    paid_gpu_hours: Decimal
    used_gpu_hours: Decimal
    utilization: Decimal | None
    by_team: tuple[GroupCost, ...]
    by_cloud: tuple[GroupCost, ...]
    by_region: tuple[GroupCost, ...]
    placements: tuple[PlacedLine, ...]
    binding: tuple[Constraint, ...]
    unplaced: tuple[UnplacedView, ...]
    solver: SolverView
    worst_case: WorstCase | None = None
    warnings: tuple[str, ...] = ()
    pools: tuple[PoolUse, ...] = ()
    utilization_warnings: tuple[str, ...] = ()


class Explanation(_Model):
    kind: Literal["gpuplan/explain"] = "gpuplan/explain"
    version: int = EXPLAIN_VERSION
    catalog: CatalogInfo
    overview: Overview | None
    workloads: tuple[WorkloadView, ...]
    what_if: WhatIf | None = None
    constraints: tuple[ConstraintValue, ...] | None = None


# -- entry point ---------------------------------------------------------------
def explain(plan: Plan, names: Sequence[str] = (), *, overview: bool = True,
            warn_utilization: Decimal | None = None) -> Explanation:
    """Explain ``names`` (in the order given, duplicates dropped), or the whole plan.

    Raises :class:`UsageError` for a name that is neither placed nor unplaced.
    ``overview=False`` leaves the plan-wide view out (for what-if-only reports).
    ``warn_utilization`` (0..1): the overview warns about each pool below it.
    """
    known = sorted([p.workload for p in plan.placements] + [u.workload for u in plan.unplaced])
    views = tuple(explain_workload(plan, check_name(n, known)) for n in dict.fromkeys(names))
    return Explanation(
        catalog=plan.catalog,
        overview=plan_overview(plan, warn_utilization) if (overview and not names) else None,
        workloads=views,
    )


def check_name(name: str, known: Sequence[str]) -> str:
    """``name`` if the plan has it, else a UsageError with a close match."""
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (workloads: {', '.join(known)})"
    raise UsageError(f"unknown workload {name!r}{hint}")


def explain_workload(plan: Plan, name: str) -> WorkloadView:
    placed = plan.placement(name)
    if placed is not None:
        return _placed_view(plan, placed)
    for u in plan.unplaced:
        if u.workload == name:
            return _unplaced_view(plan, u)
    raise UsageError(f"unknown workload {name!r}")


# -- constraints -----------------------------------------------------------------
def number(value: Decimal | float) -> str:
    """``16.0`` -> ``16``; ``2.50`` -> ``2.5`` (plain, no exponent)."""
    d = Decimal(str(value)).normalize()
    return format(d, "f")


def describe(b: Binding, place: str | None = None) -> str:
    """One phrase naming a binding constraint and its usage (``place`` already said: omit it)."""
    kind, _, rest = b.id.partition(":")
    used, limit = number(b.used), number(b.limit)
    if kind == "quota":
        cloud, region, family, capacity = (rest.split("/") + ["", "", "", ""])[:4]
        where = "" if place == f"{cloud}/{region}" else f" in {cloud}/{region}"
        return f"quota {family}{where} ({capacity}, {used} of {limit} {b.unit} used)"
    if kind == "budget":
        return f"the budget of team {rest} (${b.used:,.2f} of ${b.limit:,.2f} per month used)"
    if kind == "capacity":
        return f"the capacity of cluster {rest} ({used} of {limit} {b.unit} used)"
    if kind == "deadline":
        return f"the deadline of {rest} (runs {used} h of {limit} h allowed)"
    if kind == "locality":
        return (f"locality of {rest} (its {limit} nodes are whole nodes of one pool; one node "
                f"its workers share would cost less)")
    return f"{b.id} ({used} of {limit} {b.unit})"


def constraint_view(b: Binding) -> Constraint:
    return Constraint(id=b.id, kind=b.kind, used=b.used, limit=b.limit, unit=b.unit,
                      workloads=b.workloads, text=describe(b))


def _bindings(plan: Plan) -> dict[str, Binding]:
    return {b.id: b for b in plan.binding}


def blocker(plan: Plan, cid: str) -> Blocker:
    """A blocking id as a sentence: a binding limit, a rejection reason, or a trade-off."""
    b = _bindings(plan).get(cid)
    if b is not None:
        return Blocker(id=cid, text=describe(b), constraint=constraint_view(b))
    if cid == TRADEOFF:
        return Blocker(id=cid, text="placing it would cost more than leaving it out "
                       "(other workloads rank higher)", constraint=None)
    kind, _, rest = cid.partition(":")
    if rest and kind in ("quota", "budget", "capacity"):
        return Blocker(id=cid, text=f"{kind} {rest} has no room for it", constraint=None)
    return Blocker(id=cid, text=REASON_TEXT.get(cid, cid), constraint=None)


def unblock_views(plan: Plan, u: Unplaced) -> tuple[UnblockView, ...]:
    """``u``'s minimal relaxation sets, each member as a sentence."""
    return tuple(UnblockView(relax=tuple(blocker(plan, cid) for cid in x.relax), offer=x.offer,
                             monthly=x.monthly) for x in u.unblock)


# -- one workload ------------------------------------------------------------
def _machine(plan: Plan, p: Placement) -> str:
    return machine_text(p, plan.pool(p.pool))


def _where(plan: Plan, p: Placement) -> Where:
    return Where(pool=p.pool, cluster=p.cluster, cloud=p.cloud, region=p.region, zone=p.zone,
                 instance_type=p.instance_type, machine=_machine(plan, p), capacity=p.capacity,
                 accelerator=p.accelerator, gpus_per_node=p.gpus_per_node, nodes=p.nodes,
                 node_share=p.node_share)


def _cost(p: Placement) -> CostView:
    c = p.cost
    return CostView(compute=c.compute, spot_risk=c.spot_risk, egress=c.egress,
                    discount=c.discount, per_job=c.total, hourly=p.hourly, monthly=p.monthly,
                    runtime_hours=p.runtime_hours, runs_per_month=p.runs_per_month)


def _alternative(a: Alternative) -> AlternativeView:
    return AlternativeView(
        offer=a.offer, cloud=a.cloud, region=a.region, zone=a.zone,
        instance_type=a.instance_type, capacity=a.capacity, accelerator=a.accelerator,
        accelerator_count=a.accelerator_count, runtime_hours=a.runtime_hours, monthly=a.cost,
        delta=a.delta, delta_pct=a.delta_pct, blocked_by=a.blocked_by)


def _placed_view(plan: Plan, p: Placement) -> WorkloadView:
    bindings = _bindings(plan)
    return WorkloadView(
        workload=p.workload, team=p.team, status="placed", placement=_where(plan, p), cost=_cost(p),
        alternatives=tuple(_alternative(a) for a in p.alternatives),
        cheaper=cheaper_groups(plan, p.alternatives, p.rejected),
        binding=tuple(constraint_view(bindings[b]) for b in p.binding if b in bindings),
        unblock=(), reasons=(), slot=slot_view(plan, p),
        fallbacks=p.fallbacks, fallback_note=p.fallback_note,
        pool_use=pool_use(plan, plan.pool(p.pool)),
        stability=stability_text(plan, p.workload),
    )


def stability_text(plan: Plan, name: str) -> str | None:
    """Why a workload stayed in or left its base-plan pool (plans made with ``--base``)."""
    if plan.stability is None:
        return None
    for k in plan.stability.kept:
        if k.workload == name:
            return (f"kept in {k.cloud}/{k.region}: moving to {k.alternative_cloud}/"
                    f"{k.alternative_region} would save ${k.saving:,.2f}/month, less than "
                    f"the move cost ${k.move_price:,.2f}")
    for m in plan.stability.moves:
        if m.workload == name:
            if m.forced:
                return f"moved from {m.from_pool}: its place in the base plan is no longer an option"
            return (f"moved from {m.from_pool}: saves ${m.saving:,.2f}/month against a move "
                    f"cost of ${m.move_price:,.2f}")
    return None


SLICE_WORD = {"mig": "slice", "mig-layout": "slice", "time-slicing": "time-slice",
              "mps": "MPS client"}


def slot_view(plan: Plan, p: Placement) -> SlotView | None:
    """"1g.10gb of an a2-ultragpu-1g, $0.52/slice-h", and why not a whole GPU."""
    pool = plan.pool(p.pool)
    sharing = pool.sharing
    if sharing is None or not pool.slots_per_node:
        return None
    per_node = pool.slots_per_node
    slot_hourly = (pool.node_hourly / per_node).quantize(Decimal("0.0001"))
    gpus = max(int(pool.accelerator_count), 1)
    whole = (pool.node_hourly / gpus).quantize(Decimal("0.0001"))
    word = SLICE_WORD[sharing.mode]
    what = sharing.slot if sharing.mode == "mig" else f"1 of {sharing.slots_per_gpu} {word}s"
    article = "an" if pool.instance_type[:1].lower() in "aeiou" else "a"
    detail = f"{sharing.slot_memory_gib:g} GiB GPU memory"
    if sharing.mode == "mig-layout" and p.slot:
        # instances of several sizes: the job's own, priced by its share of the node
        what, detail = p.slot, f"layout {sharing.name.split(':', 1)[1]}"
        slot_hourly = (pool.node_hourly * Decimal(repr(p.node_share))).quantize(Decimal("0.0001"))
    text = (f"{what} of {article} {pool.instance_type} ({per_node} a node, "
            f"{detail}, isolation {sharing.isolation}), ${slot_hourly}/{word}-h")
    why = (f"a whole {pool.accelerator or 'GPU'} of this node costs ${whole}/h, "
           f"{per_node // gpus} times the {word}; the job needs less than a GPU, and the "
           f"pool's {per_node} slots can hold {per_node} such jobs")
    return SlotView(mode=sharing.name, slot=sharing.slot, slots_per_node=per_node,
                    memory_gib=sharing.slot_memory_gib, isolation=sharing.isolation,
                    node_hourly=pool.node_hourly, slot_hourly=slot_hourly,
                    whole_gpu_hourly=whole, text=text, why_shared=why)


def _unplaced_view(plan: Plan, u: Unplaced) -> WorkloadView:
    return WorkloadView(
        workload=u.workload, team=u.team, status="unplaced", placement=None, cost=None,
        alternatives=(), cheaper=tuple(_rejection_groups(u.rejected, cheaper_only=False)),
        binding=tuple(constraint_view(b) for b in plan.binding if u.workload in b.workloads),
        unblock=unblock_views(plan, u),
        reasons=tuple(Reason(code=r.code, detail=r.detail) for r in u.reasons),
    )


def cheaper_groups(plan: Plan, alternatives: Sequence[Alternative],
                   rejected: Sequence[Rejection]) -> tuple[CheaperGroup, ...]:
    """Cheaper offers not taken: by blocking constraint and place, then by rejection reason."""
    return tuple(_alternative_groups(plan, alternatives)) + tuple(
        _rejection_groups(rejected, cheaper_only=True))


def _alternative_groups(plan: Plan, alternatives: Sequence[Alternative]) -> list[CheaperGroup]:
    groups: dict[tuple[str, str], list[Alternative]] = defaultdict(list)
    for a in alternatives:
        if a.delta < 0:
            groups[(a.blocked_by or TRADEOFF, f"{a.cloud}/{a.region}")].append(a)
    bindings = _bindings(plan)
    # The plan keeps MAX_ALTERNATIVES; when even the last is cheaper, more may be.
    more = len(alternatives) >= MAX_ALTERNATIVES and alternatives[-1].delta < 0
    out = []
    for (reason, place), alts in sorted(groups.items(), key=lambda kv: (kv[0][0] == TRADEOFF,
                                                                        kv[0])):
        b = bindings.get(reason)
        n = len(alts)
        best = min(a.delta for a in alts)
        offers = f"{n}{'+' if more else ''} cheaper offer{'s' if n != 1 or more else ''} in {place}"
        if reason == TRADEOFF:
            text = (f"{offers} not taken: cheaper alone, dearer for the plan as a whole "
                    "(shared or idle node capacity)")
        else:
            text = f"{offers} blocked by {describe(b, place) if b else reason}"
        out.append(CheaperGroup(
            source="tradeoff" if reason == TRADEOFF else "constraint", reason=reason,
            place=place, count=n, at_least=more,
            examples=tuple(_label(a) for a in alts[:EXAMPLES_SHOWN]), best_delta=best,
            constraint=constraint_view(b) if b else None,
            text=f"{text}; up to ${-best:,.2f}/month less"))
    return out


def _label(a: Alternative) -> str:
    return a.offer + (" spot" if a.capacity == "spot" else "")


def _rejection_groups(rejected: Sequence[Rejection], *, cheaper_only: bool) -> list[CheaperGroup]:
    """Rejections by reason; ``cheaper_only`` keeps those with offers cheaper than the choice."""
    out = []
    for r in sorted(rejected, key=lambda r: (-(r.cheaper if cheaper_only else r.count), r.reason)):
        n = r.cheaper if cheaper_only else r.count
        if n == 0:
            continue
        at_least = False  # the planner counts rejected offers exactly
        count = f"{n}{'+' if at_least else ''}"
        what = f"{count} {'cheaper ' if cheaper_only else ''}offer{'s' if n != 1 else ''}"
        out.append(CheaperGroup(
            source="rejection", reason=r.reason, place=None, count=n, at_least=at_least,
            examples=r.examples[:min(n, EXAMPLES_SHOWN)], best_delta=None, constraint=None,
            text=f"{what} rejected: {reason_text(r.reason)} [{r.reason}]"))
    return out


def reason_text(code: str) -> str:
    return OFFER_REASON.get(code) or REASON_TEXT.get(code, code)


# -- the whole plan ----------------------------------------------------------------
def _group(name: str, g: PlanGroupCost | None, budget: Decimal | None = None,
           over_budget: bool = False) -> GroupCost:
    """A team's, cloud's or region's money and GPU-hours (zero when it has no cost)."""
    zero = Decimal("0.0000")
    if g is None:
        return GroupCost(name=name, hourly=zero, monthly=zero, budget=budget,
                         over_budget=over_budget)
    return GroupCost(name=name, hourly=g.hourly, monthly=g.monthly, budget=budget,
                     over_budget=over_budget, paid_gpu_hours=g.paid_gpu_hours,
                     used_gpu_hours=g.used_gpu_hours, utilization=utilization(g))


def plan_overview(plan: Plan, warn_utilization: Decimal | None = None) -> Overview:
    budgets = {t.name: t for t in plan.teams}
    uses = pool_uses(plan)
    by_team = []
    for name in sorted(set(plan.totals.by_team) | set(budgets)):
        t = budgets.get(name)
        by_team.append(_group(name, plan.totals.by_team.get(name), t.budget if t else None,
                              t.over_budget if t else False))
    return Overview(
        hourly=plan.totals.hourly, monthly=plan.totals.monthly, placed=len(plan.placements),
        unplaced_count=len(plan.unplaced), paid_gpu_hours=plan.totals.paid_gpu_hours,
        used_gpu_hours=plan.totals.used_gpu_hours, utilization=utilization(plan.totals),
        by_team=tuple(by_team),
        by_cloud=tuple(_group(k, v) for k, v in sorted(plan.totals.by_cloud.items())),
        by_region=tuple(_group(k, v) for k, v in sorted(plan.totals.by_region.items())),
        placements=tuple(PlacedLine(
            workload=p.workload, team=p.team, cloud=p.cloud, region=p.region, zone=p.zone,
            instance_type=p.instance_type, machine=_machine(plan, p), capacity=p.capacity,
            nodes=p.nodes, monthly=p.monthly) for p in plan.placements),
        binding=tuple(constraint_view(b) for b in plan.binding),
        unplaced=tuple(UnplacedView(
            workload=u.workload, team=u.team,
            unblock=unblock_views(plan, u),
            reasons=tuple(Reason(code=r.code, detail=r.detail) for r in u.reasons))
            for u in plan.unplaced),
        solver=SolverView(method=plan.solver.method, status=plan.solver.status,
                          lower_bound=plan.solver.lower_bound, gap=plan.solver.gap,
                          bound_scope=plan.solver.bound_scope, capped=len(plan.solver.capped),
                          scope_text=plan.solver.scope_text),
        worst_case=plan.worst_case, warnings=plan.warnings, pools=uses,
        utilization_warnings=utilization_warnings(plan, warn_utilization, uses),
    )


def dumps_explanation(e: Explanation) -> str:
    """Canonical JSON: sorted keys, 2-space indent, trailing newline."""
    import json

    return json.dumps(e.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
