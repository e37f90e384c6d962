"""Hand-built plans priced by the plan's own cost function (:mod:`planner.plancost`).

Factories build pools and placements from their inputs (node $/h, shares,
hours, per-run lines) with the cost fields left at :data:`UNPRICED_POOL` /
:data:`UNPRICED_JOB`; :func:`priced` fills them and returns the totals, so a
fixture plan costs what a planned one would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from planner.plan import Money2, MonthlyLines, Placement, Pool, TeamSummary, Totals, money
from planner.plancost import apply

_ZERO = money(0)
_ZERO2 = Money2(hourly=_ZERO, monthly=_ZERO)
UNPRICED_POOL: dict[str, object] = {
    "hourly": _ZERO, "node_hours": _ZERO, "compute": _ZERO, "idle": _ZERO2, "monthly": _ZERO,
    "paid_gpu_hours": _ZERO, "used_gpu_hours": _ZERO, "by_team": {}}
UNPRICED_JOB: dict[str, object] = {
    "hourly": _ZERO, "monthly": _ZERO,
    "monthly_lines": MonthlyLines(compute=_ZERO, spot_risk=_ZERO, egress=_ZERO)}


def priced(pools: Sequence[Pool], placements: Sequence[Placement], hours_per_month: float = 730.0
           ) -> tuple[tuple[Pool, ...], tuple[Placement, ...], Totals]:
    """Pools (with ``nodes``/``max_nodes`` at least their peak) and placements priced."""
    out_pools, out_placements, totals = apply(pools, placements, hours_per_month)
    out_pools = tuple(p.model_copy(update={"max_nodes": max(p.max_nodes, p.nodes),
                                           "min_nodes": min(p.min_nodes, p.nodes)})
                      for p in out_pools)
    return out_pools, out_placements, totals


def teams(totals: Totals, budgets: Mapping[str, Decimal | None], placements: Sequence[Placement],
          names: Sequence[str] | None = None) -> tuple[TeamSummary, ...]:
    """Team summaries from the totals, as the planner writes them."""
    out = []
    for t in sorted(names if names is not None else budgets):
        group = totals.by_team.get(t)
        monthly = group.monthly if group else _ZERO
        budget = budgets.get(t)
        out.append(TeamSummary(
            name=t, namespace=t, budget=budget, hourly=group.hourly if group else _ZERO,
            monthly=monthly, over_budget=budget is not None and monthly > budget,
            priorities=tuple(sorted({p.priority for p in placements if p.team == t})) or (100,)))
    return tuple(out)
