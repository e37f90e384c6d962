"""``PlanDiff``: what changes, and what it costs, between a base plan and a new one.

Pure: two :class:`~planner.plan.Plan` objects in, one :class:`PlanDiff` out.
Money is USD as :class:`~decimal.Decimal` (serialized as strings, 4 places);
``hourly`` is $/h while running, ``monthly`` is $ per month at each plan's
``hours_per_month``. Every ``delta`` is signed: ``new - base``.

JSON schema (``planner diff --format json``; keys sorted, lists ordered):

* ``kind`` = ``"gpuplan/plan-diff"``, ``version`` = 1
* ``base`` / ``new``: ``{label, catalog, hours_per_month, pools, placements, unplaced}``
* ``total``: a *delta* ``{base_hourly, new_hourly, delta_hourly, base_monthly,
  new_monthly, delta_monthly, delta_pct}`` (``delta_pct`` is percent of the
  base monthly, 1 place, ``null`` when the base is $0)
* ``by_team`` / ``by_cloud`` / ``by_region``: ``[{name, ...delta}]`` by name
* ``pools``: ``[{id, change: added|removed|resized|repriced|reassigned|replaced, cloud,
  region, zone, instance_type, accelerator, accelerator_count, capacity, base_nodes,
  new_nodes, base_max_nodes, new_max_nodes, base_sharing, new_sharing, replaces,
  ...delta}]`` by id; unchanged pools are left out. A pool whose sharing mode changed
  (``mig:1g.5gb`` -> ``mig:2g.10gb``) has a new id, since the mode is part of it: it is
  ``replaced``, naming the pool it ``replaces`` (that one is not listed again). GKE
  recreates a node pool whose partition size changes, and AKS cannot change a GPU
  instance profile at all: either way the cloud builds a new pool.
* ``workloads``: ``[{workload, team, change: added|removed|moved|placed|
  unplaced|cost, base, new, reason, ...delta}]`` by name, where ``base`` and
  ``new`` are ``{pool, cloud, region, instance_type, capacity}`` or ``null``
* ``budgets``: ``[{team, base_budget, new_budget, base_monthly, new_monthly,
  base_over, new_over, crossed: over|under|null}]`` by team
* ``fallbacks``, ``worst_case``, ``warnings``: capacity fallbacks added or removed, the
  worst-case monthly figure of both plans, the new plan's warnings
  (:mod:`planner.review.fallbackdiff`)
* ``policies``: guardrail results ``[{name, passed, message}]`` (filled by
  :mod:`planner.review.guardrails`; empty when none were asked for)
* ``utilization``: ``{total, by_team}``, each ``{name, base_paid_gpu_hours,
  base_used_gpu_hours, base_utilization, new_paid_gpu_hours, new_used_gpu_hours,
  new_utilization}`` (GPU-hours a month; utilization = used / paid, 0..1, ``null``
  where nothing is paid; ``total``'s name is ``plan``; teams by name);
  ``utilization_warnings``: the new plan's pools below ``--warn-utilization``, one line
  each (:mod:`planner.utilization`; empty unless asked for)
* ``stability``: ``null`` unless NEW was planned against a base plan (``plan
  --base``); else ``{moves, move_saving, kept, saving_given_up, missing}``: the
  workloads moved between pools and what they save per month (``base - new``),
  the workloads kept although a cheaper option had room and the monthly saving
  so given up for stability, and the base workloads no longer declared
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from planner.plan import Binding, GroupCost, Money2, Placement, Plan, Pool, Unplaced, money
from planner.review.fallbackdiff import (
    FallbackChange,
    WorstCaseChange,
    fallback_changes,
    worst_case_change,
)
from planner.utilization import GpuHours, utilization

DIFF_KIND = "gpuplan/plan-diff"
DIFF_VERSION = 1
ZERO = Decimal(0)

PoolChangeKind = Literal["added", "removed", "resized", "repriced", "reassigned", "replaced"]
WorkloadChangeKind = Literal["added", "removed", "moved", "placed", "unplaced", "cost"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Delta(_Model):
    """Base and new cost with their signed difference (USD; $/h and $/month)."""

    base_hourly: Decimal
    new_hourly: Decimal
    delta_hourly: Decimal
    base_monthly: Decimal
    new_monthly: Decimal
    delta_monthly: Decimal
    delta_pct: Decimal | None

    @property
    def changed(self) -> bool:
        return self.delta_hourly != ZERO or self.delta_monthly != ZERO


class GroupDelta(Delta):
    """The delta of one team, cloud or region."""

    name: str


class PlanRef(_Model):
    """What one side of the diff was: its label (file or git ref) and size."""

    label: str
    catalog: str
    hours_per_month: float
    pools: int
    placements: int
    unplaced: int


class PoolChange(Delta):
    """A pool that appeared, disappeared, changed node counts or price."""

    id: str
    change: PoolChangeKind
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None
    accelerator_count: float
    capacity: str
    base_nodes: int
    new_nodes: int
    base_max_nodes: int
    new_max_nodes: int
    base_sharing: str | None = None  # "exclusive", "mig:1g.5gb", ...; None where absent
    new_sharing: str | None = None
    replaces: str | None = None  # the pool id a "replaced" pool takes over from


class Where(_Model):
    """Where a workload runs: its pool and the pool's place."""

    pool: str
    cloud: str
    region: str
    instance_type: str
    capacity: str


class WorkloadChange(Delta):
    """One workload whose placement or cost changed, with the likely reason."""

    workload: str
    team: str
    change: WorkloadChangeKind
    base: Where | None
    new: Where | None
    reason: str


class BudgetChange(_Model):
    """A team's budget position on both sides; ``crossed`` if it went over or back under."""

    team: str
    base_budget: Decimal | None
    new_budget: Decimal | None
    base_monthly: Decimal
    new_monthly: Decimal
    base_over: bool
    new_over: bool
    crossed: Literal["over", "under"] | None


class UseChange(_Model):
    """GPU-hours a month, used and paid, and utilization (0..1 or None) on both sides."""

    name: str
    base_paid_gpu_hours: Decimal
    base_used_gpu_hours: Decimal
    base_utilization: Decimal | None
    new_paid_gpu_hours: Decimal
    new_used_gpu_hours: Decimal
    new_utilization: Decimal | None

    @property
    def changed(self) -> bool:
        return self.base_utilization != self.new_utilization


class UtilizationChange(_Model):
    total: UseChange
    by_team: tuple[UseChange, ...]


class StabilitySummary(_Model):
    """Moves against the base plan and the saving given up for stability (USD/month)."""

    moves: int
    move_saving: Decimal
    kept: int
    saving_given_up: Decimal
    missing: tuple[str, ...]


class PolicyResult(_Model):
    """One guardrail: passed or not, and why, in one line."""

    name: str
    passed: bool
    message: str


class PlanDiff(_Model):
    kind: Literal["gpuplan/plan-diff"] = "gpuplan/plan-diff"
    version: int = DIFF_VERSION
    base: PlanRef
    new: PlanRef
    total: Delta
    by_team: tuple[GroupDelta, ...]
    by_cloud: tuple[GroupDelta, ...]
    by_region: tuple[GroupDelta, ...]
    pools: tuple[PoolChange, ...]
    workloads: tuple[WorkloadChange, ...]
    budgets: tuple[BudgetChange, ...]
    policies: tuple[PolicyResult, ...] = ()
    fallbacks: tuple[FallbackChange, ...] = ()
    worst_case: WorstCaseChange | None = None
    warnings: tuple[str, ...] = ()
    utilization: UtilizationChange | None = None
    utilization_warnings: tuple[str, ...] = ()
    stability: StabilitySummary | None = None

    @property
    def empty(self) -> bool:
        """True when nothing a reviewer cares about changed."""
        return not (self.total.changed or self.pools or self.workloads or self.fallbacks
                    or any(b.crossed or b.base_budget != b.new_budget for b in self.budgets))

    @property
    def failed(self) -> tuple[PolicyResult, ...]:
        return tuple(p for p in self.policies if not p.passed)


def pct(delta: Decimal, base: Decimal) -> Decimal | None:
    """``delta`` as percent of ``base``, 1 decimal place; None when base is 0."""
    if base == ZERO:
        return None
    return (delta * 100 / base).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def delta_fields(base_h: Decimal, new_h: Decimal, base_m: Decimal, new_m: Decimal) -> dict[str, Any]:
    """The keyword arguments of a :class:`Delta` from base and new hourly/monthly."""
    base_h, new_h, base_m, new_m = money(base_h), money(new_h), money(base_m), money(new_m)
    return {
        "base_hourly": base_h, "new_hourly": new_h, "delta_hourly": new_h - base_h,
        "base_monthly": base_m, "new_monthly": new_m, "delta_monthly": new_m - base_m,
        "delta_pct": pct(new_m - base_m, base_m),
    }


def _groups(base: Mapping[str, Money2], new: Mapping[str, Money2]) -> tuple[GroupDelta, ...]:
    zero = Money2(hourly=ZERO, monthly=ZERO)
    out = []
    for name in sorted(set(base) | set(new)):
        b, n = base.get(name, zero), new.get(name, zero)
        out.append(GroupDelta(name=name, **delta_fields(b.hourly, n.hourly, b.monthly, n.monthly)))
    return tuple(out)


def _pool_changes(base: Plan, new: Plan) -> tuple[PoolChange, ...]:
    old = {p.id: p for p in base.pools}
    cur = {p.id: p for p in new.pools}
    replaced = _replacements(old, cur)
    gone = set(replaced.values())
    out = []
    for pid in sorted(set(old) | set(cur)):
        if pid in gone:
            continue  # reported as the pool that replaces it
        b, n = old.get(replaced.get(pid, pid)), cur.get(pid)
        change = "replaced" if pid in replaced else _pool_change_kind(b, n)
        if change is None:
            continue
        shape = n if n is not None else b
        assert shape is not None
        out.append(PoolChange(
            id=pid, change=change, cloud=shape.cloud, region=shape.region, zone=shape.zone,
            instance_type=shape.instance_type, accelerator=shape.accelerator,
            accelerator_count=shape.accelerator_count, capacity=shape.capacity,
            base_nodes=b.nodes if b else 0, new_nodes=n.nodes if n else 0,
            base_max_nodes=b.max_nodes if b else 0, new_max_nodes=n.max_nodes if n else 0,
            base_sharing=sharing_name(b), new_sharing=sharing_name(n),
            replaces=replaced.get(pid),
            **delta_fields(b.hourly if b else ZERO, n.hourly if n else ZERO,
                           b.monthly if b else ZERO, n.monthly if n else ZERO),
        ))
    return tuple(out)


def sharing_name(p: Pool | None) -> str | None:
    """``exclusive``, ``mig:1g.5gb``, ``time-slicing:4``, ``mps:4``; None for no pool."""
    if p is None:
        return None
    return p.sharing.name if p.sharing else "exclusive"


def _machine(p: Pool) -> tuple[object, ...]:
    """A pool without its sharing mode: the same nodes in the same place."""
    return (p.cluster, p.cloud, p.region, p.zone, p.instance_type, p.accelerator,
            p.accelerator_count, p.capacity)


def _replacements(old: dict[str, Pool], cur: dict[str, Pool]) -> dict[str, str]:
    """New pool id -> the removed pool of the same machines in another sharing mode (each
    removed pool pairs with at most one new one, in id order)."""
    removed: dict[tuple[object, ...], list[str]] = {}
    for pid in sorted(set(old) - set(cur)):
        removed.setdefault(_machine(old[pid]), []).append(pid)
    out = {}
    for pid in sorted(set(cur) - set(old)):
        candidates = removed.get(_machine(cur[pid]), [])
        match = next((o for o in candidates
                      if sharing_name(old[o]) != sharing_name(cur[pid])), None)
        if match is not None:
            candidates.remove(match)
            out[pid] = match
    return out


def _pool_change_kind(b: Pool | None, n: Pool | None) -> PoolChangeKind | None:
    if b is None:
        return "added"
    if n is None:
        return "removed"
    if (b.nodes, b.min_nodes, b.max_nodes) != (n.nodes, n.min_nodes, n.max_nodes):
        return "resized"
    if b.node_hourly != n.node_hourly:
        return "repriced"
    if b.workloads != n.workloads or (b.hourly, b.monthly) != (n.hourly, n.monthly):
        return "reassigned"  # same nodes and price, other workloads (or hours) on them
    return None


def _where(p: Placement) -> Where:
    return Where(pool=p.pool, cloud=p.cloud, region=p.region, instance_type=p.instance_type,
                 capacity=p.capacity)


@dataclass(frozen=True)
class _Side:
    """What the reason-finder needs from one plan, indexed once (diffs can be 5,000 rows)."""

    plan: Plan
    workloads: dict[str, dict[str, Any]]
    quotas: dict[tuple[Any, ...], Any]
    families: dict[str, str]
    bindings: dict[str, list[Binding]]

    @classmethod
    def of(cls, plan: Plan) -> _Side:
        items = plan.spec.get("workloads") or []
        quotas = {}
        for q in plan.spec.get("quotas") or []:
            if isinstance(q, dict):
                key = (q.get("cloud"), q.get("region"), q.get("family"),
                       q.get("capacity", "on-demand"))
                quotas[key] = q.get("limit")
        bindings: dict[str, list[Binding]] = {}
        for c in plan.binding:
            for w in c.workloads:
                bindings.setdefault(w, []).append(c)
        return cls(plan, {w["name"]: w for w in items if isinstance(w, dict) and "name" in w},
                   quotas, {p.id: p.quota_family for p in plan.pools}, bindings)

    def budget(self, team: str) -> Any:
        t = (self.plan.spec.get("teams") or {}).get(team)
        return t.get("monthly_budget") if isinstance(t, dict) else None


def _workload_changes(base: Plan, new: Plan) -> tuple[WorkloadChange, ...]:
    old = {p.workload: p for p in base.placements}
    cur = {p.workload: p for p in new.placements}
    old_un = {u.workload: u for u in base.unplaced}
    cur_un = {u.workload: u for u in new.unplaced}
    sides = (_Side.of(base), _Side.of(new))
    out = []
    for name in sorted(set(old) | set(cur) | set(old_un) | set(cur_un)):
        change = _workload_change(name, sides, old.get(name), cur.get(name),
                                  old_un.get(name), cur_un.get(name))
        if change is not None:
            out.append(change)
    return tuple(out)


def _workload_change(name: str, sides: tuple[_Side, _Side], b: Placement | None,
                     n: Placement | None, bu: Unplaced | None,
                     nu: Unplaced | None) -> WorkloadChange | None:
    team = (n or b or nu or bu).team  # type: ignore[union-attr]
    kind: WorkloadChangeKind
    if b is None and n is None:
        if bu is not None and nu is not None:
            return None  # unplaced on both sides: reported by the plan itself
        kind = "added" if nu is not None else "removed"
        reason = _unplaced_reason(nu) if nu else "removed from the workloads"
    elif b is None:
        kind = "placed" if bu is not None else "added"
        reason = "now placed: " + _why(name, sides, None) if bu else "new workload"
    elif n is None:
        kind = "unplaced" if nu is not None else "removed"
        reason = _unplaced_reason(nu) if nu else "removed from the workloads"
    elif b.pool != n.pool:
        kind, reason = "moved", _moved_why(name, sides, b)
    elif (b.hourly, b.monthly) != (n.hourly, n.monthly):
        kind, reason = "cost", _why(name, sides, b)
    else:
        return None
    return WorkloadChange(
        workload=name, team=team, change=kind,
        base=_where(b) if b else None, new=_where(n) if n else None, reason=reason,
        **delta_fields(b.hourly if b else ZERO, n.hourly if n else ZERO,
                       b.monthly if b else ZERO, n.monthly if n else ZERO),
    )


def _moved_why(name: str, sides: tuple[_Side, _Side], b: Placement) -> str:
    """Why a workload moved: the new plan's own account when it was planned against a
    base plan (the saving cleared the move's price, or its place is gone), then the
    changes in the declaration that explain it."""
    why = _why(name, sides, b)
    record = sides[1].plan.stability
    move = next((m for m in record.moves if m.workload == name), None) if record else None
    if move is None:
        return why
    head = ("its place in the base plan is no longer an option" if move.forced else
            f"moved to save ${move.saving:,.2f}/month at a move cost of ${move.move_price:,.2f}")
    return head if why.startswith("re-planned together") else f"{head}; {why}"


def _unplaced_reason(u: Unplaced) -> str:
    if not u.reasons:
        return "unplaced"
    return "unplaced: " + "; ".join(f"{r.code}: {r.detail}" for r in u.reasons)


def _why(name: str, sides: tuple[_Side, _Side], b: Placement | None) -> str:
    """The most likely reasons a workload moved or changed cost, from the two specs."""
    base, new = sides
    reasons: list[str] = []
    bw, nw = base.workloads.get(name), new.workloads.get(name)
    if bw is not None and nw is not None and bw != nw:
        reasons.extend(_spec_reasons(bw, nw, b))
    if b is not None:
        reasons.extend(_quota_reasons(sides, b))
    team = (nw or bw or {}).get("team") or (b.team if b else None)
    if team is not None and base.budget(team) != new.budget(team):
        reasons.append(f"budget of team {team} changed {_fmt_budget(base.budget(team))} -> "
                       f"{_fmt_budget(new.budget(team))}")
    before = {c.id for c in base.bindings.get(name, ())}
    reasons.extend(f"constraint {c.id} binds ({c.used} of {c.limit} {c.unit})"
                   for c in new.bindings.get(name, ()) if c.id not in before)
    if base.plan.catalog != new.plan.catalog:
        reasons.append(f"catalog changed ({base.plan.catalog.date} -> {new.plan.catalog.date})")
    if (base.plan.spec.get("pricing") or {}) != (new.plan.spec.get("pricing") or {}):
        reasons.append("pricing settings changed")
    return "; ".join(reasons) if reasons else "re-planned together with the other changes"


def _spec_reasons(bw: Mapping[str, Any], nw: Mapping[str, Any], b: Placement | None) -> list[str]:
    """A newly denied region by name; otherwise the workload fields that changed."""
    reasons = []
    old_deny = (bw.get("regions") or {}).get("deny") or ()
    new_deny = (nw.get("regions") or {}).get("deny") or ()
    old_allow = (bw.get("regions") or {}).get("allow") or ()
    new_allow = (nw.get("regions") or {}).get("allow") or ()
    if b is not None and b.region in new_deny and b.region not in old_deny:
        reasons.append(f"region {b.region} denied")
    elif b is not None and new_allow and b.region not in new_allow and (
            not old_allow or b.region in old_allow):
        reasons.append(f"region {b.region} no longer allowed")
    fields = sorted(k for k in set(bw) | set(nw) if bw.get(k) != nw.get(k))
    if fields != ["regions"] or not reasons:
        reasons.append("workload changed (" + ", ".join(fields) + ")")
    return reasons


def _quota_reasons(sides: tuple[_Side, _Side], b: Placement) -> list[str]:
    base, new = sides
    family = base.families.get(b.pool)
    if family is None:
        return []
    key = (b.cloud, b.region, family, b.capacity)
    before, after = base.quotas.get(key), new.quotas.get(key)
    if before == after:
        return []
    label = f"quota {b.cloud}/{b.region}/{family} ({b.capacity})"
    return [f"{label} {_fmt_limit(before)} -> {_fmt_limit(after)}"]


def _fmt_limit(value: Any) -> str:
    return "unset" if value is None else str(value)


def _fmt_budget(value: Any) -> str:
    return "none" if value is None else f"${Decimal(str(value)):,.0f}"


def _budgets(base: Plan, new: Plan) -> tuple[BudgetChange, ...]:
    old = {t.name: t for t in base.teams}
    cur = {t.name: t for t in new.teams}
    out = []
    for name in sorted(set(old) | set(cur)):
        b, n = old.get(name), cur.get(name)
        base_over, new_over = bool(b and b.over_budget), bool(n and n.over_budget)
        crossed: Literal["over", "under"] | None = None
        if new_over and not base_over:
            crossed = "over"
        elif base_over and not new_over and n is not None:
            crossed = "under"
        out.append(BudgetChange(
            team=name, base_budget=b.budget if b else None, new_budget=n.budget if n else None,
            base_monthly=money(b.monthly if b else ZERO), new_monthly=money(n.monthly if n else ZERO),
            base_over=base_over, new_over=new_over, crossed=crossed,
        ))
    return tuple(out)


def _use(name: str, base: GpuHours | None, new: GpuHours | None) -> UseChange:
    zero = money(0)
    return UseChange(
        name=name,
        base_paid_gpu_hours=base.paid_gpu_hours if base else zero,
        base_used_gpu_hours=base.used_gpu_hours if base else zero,
        base_utilization=utilization(base) if base else None,
        new_paid_gpu_hours=new.paid_gpu_hours if new else zero,
        new_used_gpu_hours=new.used_gpu_hours if new else zero,
        new_utilization=utilization(new) if new else None)


def _utilization(base: Plan, new: Plan) -> UtilizationChange:
    teams: dict[str, tuple[GroupCost | None, GroupCost | None]] = {
        name: (base.totals.by_team.get(name), new.totals.by_team.get(name))
        for name in sorted(set(base.totals.by_team) | set(new.totals.by_team))}
    return UtilizationChange(total=_use("plan", base.totals, new.totals),
                             by_team=tuple(_use(name, b, n) for name, (b, n) in teams.items()))


def with_utilization_warnings(diff: PlanDiff, warnings: Iterable[str]) -> PlanDiff:
    """The same diff carrying the new plan's low-utilization warnings."""
    return diff.model_copy(update={"utilization_warnings": tuple(warnings)})


def _ref(plan: Plan, label: str) -> PlanRef:
    return PlanRef(label=label, catalog=f"{plan.catalog.source} ({plan.catalog.date})",
                   hours_per_month=plan.hours_per_month, pools=len(plan.pools),
                   placements=len(plan.placements), unplaced=len(plan.unplaced))


def diff_plans(base: Plan, new: Plan, base_label: str = "base", new_label: str = "new") -> PlanDiff:
    """Compare two plans: pools, workloads, cost per team/cloud/region, budgets."""
    bt, nt = base.totals, new.totals
    workloads = _workload_changes(base, new)
    return PlanDiff(
        base=_ref(base, base_label), new=_ref(new, new_label),
        total=Delta(**delta_fields(bt.hourly, nt.hourly, bt.monthly, nt.monthly)),
        by_team=_groups(bt.by_team, nt.by_team),
        by_cloud=_groups(bt.by_cloud, nt.by_cloud),
        by_region=_groups(bt.by_region, nt.by_region),
        pools=_pool_changes(base, new),
        workloads=workloads,
        budgets=_budgets(base, new),
        fallbacks=fallback_changes(base, new),
        worst_case=worst_case_change(base, new),
        warnings=new.warnings,
        utilization=_utilization(base, new),
        stability=_stability(new, workloads),
    )


def _stability(new: Plan, changes: tuple[WorkloadChange, ...]) -> StabilitySummary | None:
    if new.stability is None:
        return None
    moved = [c for c in changes if c.change == "moved"]
    return StabilitySummary(
        moves=len(moved), move_saving=money(-sum((c.delta_monthly for c in moved), ZERO)),
        kept=len(new.stability.kept), saving_given_up=new.stability.saving_given_up,
        missing=new.stability.missing)


def with_policies(diff: PlanDiff, policies: Iterable[PolicyResult]) -> PlanDiff:
    """The same diff carrying guardrail results."""
    return diff.model_copy(update={"policies": tuple(policies)})


def diff_json(diff: PlanDiff) -> str:
    """Canonical JSON of a diff: sorted keys, 2-space indent, trailing newline."""
    import json

    return json.dumps(diff.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
