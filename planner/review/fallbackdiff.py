"""What a diff says about capacity fallbacks: fallbacks added or removed per workload, the
worst-case monthly figure on both sides, and the new plan's warnings.

Pure: two :class:`~planner.plan.Plan` objects in. Money is USD (``Decimal``, JSON
strings); ``delta`` is ``new - base``. The worst case of a plan is every workload with
fallbacks on its first one (:attr:`planner.plan.Plan.worst_case`); a plan without
fallbacks has its own monthly cost as its worst case.

JSON (in ``gpuplan/plan-diff``): ``fallbacks: [{workload, team, base: [pool], new: [pool],
added: [pool], removed: [pool]}]`` by workload (pools in rank order);
``worst_case: {base_monthly, new_monthly, delta, delta_pct, new_over_budget, crossed}``
or ``null`` when neither plan has fallbacks (``crossed``: teams whose worst case went over
their budget); ``warnings``: the new plan's warnings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import BaseModel, ConfigDict

from planner.plan import Plan, money


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FallbackChange(_Model):
    """A workload whose fallback pools (in rank order) differ between the plans."""

    workload: str
    team: str
    base: tuple[str, ...]
    new: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


class WorstCaseChange(_Model):
    """The worst-case monthly figure of both plans ($/month) and who crossed a budget."""

    base_monthly: Decimal
    new_monthly: Decimal
    delta: Decimal
    delta_pct: Decimal | None
    new_over_budget: tuple[str, ...]
    crossed: tuple[str, ...]


def _ranked(plan: Plan) -> dict[str, tuple[tuple[str, ...], str]]:
    return {p.workload: (tuple(f.pool for f in p.fallbacks), p.team) for p in plan.placements}


def fallback_changes(base: Plan, new: Plan) -> tuple[FallbackChange, ...]:
    """Workloads whose fallbacks changed (placed on both sides or not), by name."""
    old, cur = _ranked(base), _ranked(new)
    out = []
    for name in sorted(set(old) | set(cur)):
        before, team = old.get(name, ((), ""))
        after, team = cur.get(name, ((), team))
        if before == after:
            continue
        out.append(FallbackChange(
            workload=name, team=team, base=before, new=after,
            added=tuple(p for p in after if p not in before),
            removed=tuple(p for p in before if p not in after)))
    return tuple(out)


def _worst(plan: Plan) -> Decimal:
    return plan.worst_case.monthly if plan.worst_case else plan.totals.monthly


def _over(plan: Plan) -> tuple[str, ...]:
    return plan.worst_case.over_budget if plan.worst_case else ()


def worst_case_change(base: Plan, new: Plan) -> WorstCaseChange | None:
    """Both plans' worst case, or None when neither has fallbacks."""
    if base.worst_case is None and new.worst_case is None:
        return None
    b, n = money(_worst(base)), money(_worst(new))
    pct = None if b == 0 else ((n - b) * 100 / b).quantize(Decimal("0.1"),
                                                          rounding=ROUND_HALF_EVEN)
    return WorstCaseChange(base_monthly=b, new_monthly=n, delta=n - b, delta_pct=pct,
                           new_over_budget=_over(new),
                           crossed=tuple(t for t in _over(new) if t not in _over(base)))
