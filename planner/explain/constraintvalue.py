"""What each binding limit is worth: relax it by one natural step and re-solve.

For every binding quota, budget or cluster capacity of a plan (in the plan's
binding order), :func:`constraint_values` sizes a step, writes it as the
``--what-if`` change that makes it (so a user can re-run exactly that), applies
it alone to the plan's workloads and re-solves:

* quota / capacity: the smallest whole-node step that lets one blocked option
  in, where a blocked option is one of the affected workloads' candidates
  inside the limit and cheaper than its placement (any, if it is unplaced):
  one node's worth of units (GPUs on GCP and clusters, vCPUs on AWS/Azure),
  or what the option needs beyond the slack;
* budget: 10% of the budget, or what the cheapest blocked option needs if
  that is more, rounded up to whole dollars.

Options are priced at what the plan would pay for them (:class:`Marginal`:
own lines plus the whole-node hours they add), never at a slot's share.

Money is USD per month (``Decimal``, JSON strings); ``saving`` is ``base -
new`` (negative when the step places a workload that was left out).

JSON (``constraints`` in ``gpuplan/explain``): ``[{id, kind, binding, change,
step, base_monthly, new_monthly, saving, moved, text}]`` with ``binding`` the
plan's Binding, ``moved`` as in :mod:`planner.explain.whatif`, and ``change``, ``step``,
``new_monthly``, ``saving`` null when no blocked option was found to size a step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from pydantic import BaseModel, ConfigDict

from planner.catalog.model import Catalog
from planner.catalog.quotafamily import GCP_GPU_FAMILY
from planner.explain.whatif import Move, apply_changes, moves, parse_change, resolve, spec_of
from planner.optimize.candidates import CandidateBuilder, Option, quota_key_of
from planner.optimize.facts import Marginal
from planner.plan import Binding, Plan
from planner.spec.model import WorkloadSet

BUDGET_STEP = Decimal("0.10")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConstraintValue(_Model):
    """A binding limit relaxed by ``change`` and re-solved; ``saving`` = base - new, $/month."""

    id: str
    kind: str
    binding: Binding
    change: str | None
    step: str | None
    base_monthly: Decimal
    new_monthly: Decimal | None
    saving: Decimal | None
    moved: tuple[Move, ...]
    text: str


@dataclass(frozen=True)
class Step:
    change: str
    text: str


def constraint_values(plan: Plan, base: Plan, catalog: Catalog, *, time_limit: float,
                      anchor: Plan | None = None) -> tuple[ConstraintValue, ...]:
    """Relax each binding quota, budget or cluster capacity in turn and re-solve (against
    ``anchor``, if given: ``explain --base``)."""
    ws = spec_of(plan)
    builder = CandidateBuilder(ws, catalog)
    out = []
    for b in plan.binding:
        if b.kind not in ("quota", "budget", "capacity"):
            continue
        step = relax_step(plan, ws, builder, b)
        if step is None:
            out.append(ConstraintValue(
                id=b.id, kind=b.kind, binding=b, change=None, step=None,
                base_monthly=base.totals.monthly, new_monthly=None, saving=None, moved=(),
                text=f"{b.id}: no option it blocks could be found to size a step"))
            continue
        new = resolve(apply_changes(ws, [parse_change(step.change)], catalog), catalog,
                      time_limit, anchor)
        found = moves(base, new)
        saving = base.totals.monthly - new.totals.monthly
        out.append(ConstraintValue(
            id=b.id, kind=b.kind, binding=b, change=step.change, step=step.text,
            base_monthly=base.totals.monthly, new_monthly=new.totals.monthly, saving=saving,
            moved=found, text=_value_text(step.text, saving, found)))
    return tuple(out)


def _value_text(step: str, saving: Decimal, found: Sequence[Move]) -> str:
    placed = [m.workload for m in found if m.change == "placed"]
    if placed:
        text = f"{step} would place {', '.join(placed)} ({_signed(-saving)} per month)"
    elif saving > 0:
        text = f"{step} would save ${saving:,.2f} per month"
    else:
        return f"{step} would not lower the cost"
    return text + move_note(found)


def move_note(found: Sequence[Move]) -> str:
    """``; moves a, b (c at equal cost)``: workloads that change pool, ties said apart."""
    moved = [m.workload for m in found if m.change == "moved" and m.delta != 0]
    ties = [m.workload for m in found if m.change == "moved" and m.delta == 0]
    note = f"; moves {', '.join(moved)}" if moved else ""
    if ties:
        note += f"{' (' if moved else '; '}{', '.join(ties)} {'also ' if moved else ''}" \
                f"re-placed at equal cost{')' if moved else ''}"
    return note


def _signed(d: Decimal) -> str:
    return f"{'+' if d >= 0 else '-'}${abs(d):,.2f}"


def _affected(plan: Plan, b: Binding) -> list[str]:
    blocked = [u.workload for u in plan.unplaced if any(b.id in x.relax for x in u.unblock)]
    return sorted(set(b.workloads) | set(blocked))


def _blocked_options(plan: Plan, ws: WorkloadSet, builder: CandidateBuilder, b: Binding,
                     inside: Callable[[Option], bool]) -> list[Option]:
    """Options inside ``b``, over the workloads it touches, that the plan would pay less
    for than the workload is charged now (:class:`planner.optimize.facts.Marginal`)."""
    out: list[Option] = []
    names = {w.name for w in ws.workloads}
    marginal = Marginal.of_plan(plan)
    for name in _affected(plan, b):
        if name not in names:
            continue
        now = marginal.charged(name) if plan.placement(name) is not None else math.inf
        out.extend(o for o in builder.candidates(ws.workload(name)).options
                   if inside(o) and marginal.dollars(o) < now - 1e-6)
    return out


def relax_step(plan: Plan, ws: WorkloadSet, builder: CandidateBuilder, b: Binding) -> Step | None:
    """The natural step that relaxes ``b``, as a what-if change, or None if none is found.

    Quotas and capacities: the smallest whole-node step that lets one blocked option in
    (ties: the cheaper option). Budgets: see :func:`_budget_step`.
    """
    kind, _, rest = b.id.partition(":")
    if kind == "quota":
        cloud, region, family, capacity = rest.split("/")
        key = quota_key_of(cloud, region, family, capacity)
        options = _blocked_options(plan, ws, builder, b, lambda o: quota_key_of(*o.domain) == key)
        if not options:
            return None
        units = min((_units_needed(o.units_per_node, o.share, b), o.monthly, o.offer.key)
                    for o in options)[0]
        return Step(f"quota:{rest}=+{units}", _quota_text(units, b.unit, cloud, region, family,
                                                           capacity))
    if kind == "capacity":
        cluster = next(c for c in ws.clusters if c.name == rest)
        options = _blocked_options(plan, ws, builder, b,
                                   lambda o: o.offer.cloud == "k8s" and o.offer.region == rest)
        if not options:
            return None
        nodes = min(_units_needed(1, o.share, b) for o in options)
        gpus = nodes * cluster.gpus_per_node
        return Step(f"capacity:{rest}=+{gpus}",
                    f"+{gpus} GPUs ({nodes} node{'s' if nodes != 1 else ''}) in cluster {rest}")
    if kind == "budget":
        return _budget_step(plan, ws, builder, b, rest)
    return None


def _units_needed(per_node: float, share: float, b: Binding) -> int:
    """Whole nodes' worth of units the option needs beyond the slack, at least one node."""
    need = math.ceil(share - 1e-9) * per_node - float(b.limit - b.used)
    nodes = max(1, math.ceil(need / per_node - 1e-9))
    return int(nodes * per_node)


def _quota_text(units: int, unit: str, cloud: str, region: str, family: str,
                capacity: str) -> str:
    spot = " spot" if capacity == "spot" else ""
    accelerators = {v.upper(): k for k, v in GCP_GPU_FAMILY.items()}
    if unit == "GPUs":
        name = accelerators.get(family.upper()) or re.sub(r"^NVIDIA_|_GPUS$", "", family)
        return f"+{units}{spot} {name} GPUs in {cloud}/{region}"
    return f"+{units}{spot} vCPUs of quota {family} in {cloud}/{region}"


def _budget_step(plan: Plan, ws: WorkloadSet, builder: CandidateBuilder, b: Binding,
                 team: str) -> Step:
    """10% of the budget, or what the cheapest blocked option needs if that is more ($):
    the option at what the plan would pay for it (a slot alone costs its node)."""
    options = _blocked_options(plan, ws, builder, b, lambda o: True)
    need = Decimal(0)
    if options:
        marginal = Marginal.of_plan(plan)
        o = min(options, key=lambda o: (marginal.dollars(o), o.offer.key))
        current = plan.placement(o.workload)
        spent = b.used - (current.monthly if current else Decimal(0))
        need = spent + Decimal(repr(round(marginal.dollars(o), 4))) - b.limit
    amount = max(b.limit * BUDGET_STEP, need, Decimal(1)).quantize(Decimal(1), ROUND_CEILING)
    return Step(f"budget:{team}=+{amount}", f"+${amount:,} on the budget of team {team}")
