"""The plan as rich tables for a terminal.

``GPU util`` is the utilization of the job's pool (used / paid GPU-hours a month,
:mod:`planner.utilization`); the total row has the plan's, the team lines each
team's and one line each cloud's.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.cli.output import console, fmt_money
from planner.plan import Plan, machine_text, unblock_text
from planner.utilization import use_text, utilization_text

NUMERIC = ("nodes", "GPU util")


def print_plan(plan: Plan, warnings: Sequence[str] = ()) -> None:
    """The placements, idle lines and totals, then teams, clouds, fallbacks, ``warnings``
    (e.g. pools below ``--warn-utilization``), unplaced and binding constraints."""
    from rich.markup import escape
    from rich.table import Table

    out = console()
    table = Table(title=f"Placement ({len(plan.placements)} placed, {len(plan.unplaced)} unplaced)",
                  caption="GPU util: used / paid GPU-hours a month of the job's pool")
    for col in ("workload", "team", "cloud", "region / zone", "instance", "nodes", "capacity",
                "$/hour", "$/run", "$/month", "GPU util"):
        table.add_column(col, justify="right" if col.startswith("$") or col in NUMERIC
                         else "left")
    pools = {pool.id: pool for pool in plan.pools}
    for p in plan.placements:
        instance = machine_text(p, pools[p.pool])
        table.add_row(p.workload, p.team, p.cloud, p.zone or p.region, instance, str(p.nodes),
                      p.capacity, fmt_money(p.hourly), fmt_money(p.cost.total, 2),
                      fmt_money(p.monthly, 2), utilization_text(pools[p.pool]))
    idle = [pool for pool in plan.pools if pool.idle.monthly > 0]
    if idle:
        table.add_section()
    for pool in idle:
        table.add_row("idle on shared nodes", ", ".join(sorted(pool.by_team)), pool.cloud,
                      pool.zone or pool.region, pool.instance_type, str(pool.nodes),
                      pool.capacity, fmt_money(pool.idle.hourly), "",
                      fmt_money(pool.idle.monthly, 2), utilization_text(pool))
    table.add_section()
    table.add_row("total", "", "", "", "", "", "", fmt_money(plan.totals.hourly), "",
                  fmt_money(plan.totals.monthly, 2), utilization_text(plan.totals))
    out.print(table)
    for t in plan.teams:
        budget = f" of {fmt_money(t.budget, 2)} budget" if t.budget is not None else ""
        flag = "  [bold red]OVER BUDGET[/]" if t.over_budget else ""
        group = plan.totals.by_team.get(t.name)
        use = f"; GPU util {use_text(group)}" if group is not None else ""
        out.print(f"team {t.name}: {fmt_money(t.monthly, 2)}/month{budget}{use}{flag}")
    clouds = "; ".join(f"{name} {use_text(g)}" for name, g in sorted(plan.totals.by_cloud.items()))
    out.print(f"GPU util: plan {use_text(plan.totals)}" + (f"; {clouds}" if clouds else ""))
    print_fallbacks(plan)
    for warning in warnings:
        out.print(f"[bold yellow]warning[/] {escape(warning)}")
    for u in plan.unplaced:
        why = "; ".join(r.detail for r in u.reasons[:3])
        out.print(f"[bold red]unplaced[/] {u.workload} ({u.team}): {why}; to place it: "
                  f"{escape(unblock_text(u))}")
    for b in plan.binding:
        out.print(f"binding {b.id}: {b.used} of {b.limit} {b.unit} ({', '.join(b.workloads)})")
    s = plan.solver
    out.print(f"[dim]catalog {plan.catalog.date}; solver {s.method} ({s.status}), "
              f"bound {fmt_money(s.lower_bound, 2)}, gap {float(s.gap):.2%} {s.scope_text}[/]")


def print_fallbacks(plan: Plan) -> None:
    """Each workload's fallbacks with their premium, the worst case, and the warnings."""
    out = console()
    for p in plan.placements:
        if p.fallbacks:
            ranked = "; ".join(f"{f.rank}. {f.cloud}/{f.zone or f.region} {f.instance_type} "
                               f"{f.capacity} {f.premium_pct:+}%" for f in p.fallbacks)
            out.print(f"fallbacks {p.workload}: {ranked}")
        if p.fallback_note:
            out.print(f"[dim]fallbacks {p.workload}: {p.fallback_note}[/]")
    if plan.worst_case is not None:
        w = plan.worst_case
        out.print(f"worst case, every workload with fallbacks on its first: "
                  f"{fmt_money(w.monthly, 2)}/month ({'+' if w.delta >= 0 else '-'}"
                  f"{fmt_money(abs(w.delta), 2)})")
    for warning in plan.warnings:
        out.print(f"[bold yellow]warning[/] {warning}")
