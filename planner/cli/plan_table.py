"""The plan as rich tables for a terminal."""

from __future__ import annotations

from planner.cli.output import console, fmt_money
from planner.plan import Placement, Plan


def _gpus(p: Placement) -> str:
    return f" {p.accelerator}:{p.gpus_per_node:g}" if p.accelerator else ""


def print_plan(plan: Plan) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"Placement ({len(plan.placements)} placed, {len(plan.unplaced)} unplaced)")
    for col in ("workload", "team", "cloud", "region / zone", "instance", "nodes", "capacity",
                "$/hour", "$/run", "$/month"):
        table.add_column(col, justify="right" if col.startswith("$") or col == "nodes" else "left")
    for p in plan.placements:
        instance = p.instance_type + _gpus(p) + (
            f" ({p.node_share:.0%} of node)" if p.node_share < 1 else "")
        table.add_row(p.workload, p.team, p.cloud, p.zone or p.region, instance, str(p.nodes),
                      p.capacity, fmt_money(p.hourly), fmt_money(p.cost.total, 2),
                      fmt_money(p.monthly, 2))
    idle = [pool for pool in plan.pools if pool.idle.monthly > 0]
    if idle:
        table.add_section()
    for pool in idle:
        table.add_row("idle on shared nodes", ", ".join(sorted(pool.by_team)), pool.cloud,
                      pool.zone or pool.region, pool.instance_type, str(pool.nodes),
                      pool.capacity, fmt_money(pool.idle.hourly), "",
                      fmt_money(pool.idle.monthly, 2))
    table.add_section()
    table.add_row("total", "", "", "", "", "", "", fmt_money(plan.totals.hourly), "",
                  fmt_money(plan.totals.monthly, 2))
    out.print(table)
    for t in plan.teams:
        budget = f" of {fmt_money(t.budget, 2)} budget" if t.budget is not None else ""
        flag = "  [bold red]OVER BUDGET[/]" if t.over_budget else ""
        out.print(f"team {t.name}: {fmt_money(t.monthly, 2)}/month{budget}{flag}")
    print_fallbacks(plan)
    for u in plan.unplaced:
        why = "; ".join(r.detail for r in u.reasons[:3])
        out.print(f"[bold red]unplaced[/] {u.workload} ({u.team}): blocked by "
                  f"{', '.join(u.blocking)} — {why}")
    for b in plan.binding:
        out.print(f"binding {b.id}: {b.used} of {b.limit} {b.unit} ({', '.join(b.workloads)})")
    s = plan.solver
    out.print(f"[dim]catalog {plan.catalog.date}; solver {s.method} ({s.status}), "
              f"bound {fmt_money(s.lower_bound, 2)}, gap {float(s.gap):.2%}[/]")


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
