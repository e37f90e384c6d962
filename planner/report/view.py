"""What the cost report shows, computed from a ``Plan`` (and a ``PlanDiff`` against a base).

Pure: plans in, a :class:`Report` out (KPI cards, then sections of figures,
each a bar chart with a caption and the data table under it, and plain
tables). Money is USD, ``Decimal``: ``monthly`` at the plan's
``hours_per_month``, ``hourly`` while running. Every figure is formatted here
with a fixed format (``$1,234.56``, ``12.3%``) so the page is byte-stable.

Charts show the top ``TOP_N - 1`` groups and one "other" bar when there are more
than ``TOP_N``; their tables list every group. GPU utilization (used / paid
GPU-hours a month) and why a pool is idle come from :mod:`planner.utilization`,
which reads the cost function's figures stored in the plan. Costs per team, cloud and region
are split from the placements (by cloud for teams, by capacity for clouds and
regions); what the plan's totals carry beyond its placements (idle capacity
attributed to a group) is its own grey "idle" segment, so every bar ends at
the plan's own total for that group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from planner.explain.reading import blocker, describe, number
from planner.plan import GroupCost, Plan, Pool
from planner.report.charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PALETTE,
    PURPLE,
    SKY,
    VERMILLION,
    Chart,
    Mark,
    Row,
    Segment,
    SvgChart,
    layout,
)
from planner.review.diffrender import summary, where
from planner.utilization import (
    PoolUse,
    gpu_hours,
    low_pools,
    pool_uses,
    use_text,
    utilization_text,
)

if TYPE_CHECKING:
    from planner.explain.constraintvalue import ConstraintValue
    from planner.review.diff import PlanDiff

TOP_N = 10
POOLS_SHOWN = 12
BUDGET_WARN = Decimal("0.8")
ZERO = Decimal(0)
CLOUD_COLORS = {"aws": ORANGE, "gcp": BLUE, "azure": SKY, "k8s": GREEN, "onprem": PURPLE}
CAPACITY_COLORS = {"on-demand": BLUE, "spot": ORANGE}
IDLE = "idle"


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    note: str


@dataclass(frozen=True)
class Table:
    """A data table: ``numeric[i]`` right-aligns column ``i``."""

    key: str
    caption: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A chart with its caption; ``table`` holds the same data (and more rows)."""

    key: str
    title: str
    caption: str
    chart: SvgChart
    table: Table


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    facts: tuple[str, ...]
    kpis: tuple[Kpi, ...]
    sections: tuple[Section, ...]


# -- formats -----------------------------------------------------------------------------
def usd(value: Decimal, signed: bool = False) -> str:
    """``$1,234.56`` (``-$3.00``; ``+$12.00`` when ``signed``)."""
    text = f"${abs(value):,.2f}"
    if value < 0:
        return "-" + text
    return "+" + text if signed and value > 0 else text


def percent(part: Decimal, whole: Decimal, signed: bool = False) -> str:
    """``part`` as a percentage of ``whole``, one decimal; ``-`` when ``whole`` is 0."""
    if whole == 0:
        return "-"
    value = (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{'+' if signed and value > 0 else ''}{value}%"


def ratio(part: Decimal, whole: Decimal) -> Decimal:
    return part / whole if whole else ZERO


# -- grouping --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """One bar's worth of money: a name and its monthly USD per series."""

    name: str
    parts: tuple[tuple[str, Decimal], ...]

    @property
    def total(self) -> Decimal:
        return sum((v for _, v in self.parts), ZERO)


def groups(plan: Plan, key: Callable[..., str], series: Callable[..., str],
           totals: Mapping[str, GroupCost]) -> list[Group]:
    """Placements' monthly cost by ``key`` and ``series``, plus an idle part up to ``totals``."""
    parts: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for p in plan.placements:
        parts[key(p)][series(p)] += p.monthly
    out = []
    for name in sorted(set(parts) | set(totals)):
        mine = parts.get(name, {})
        extra = (totals[name].monthly if name in totals else ZERO) - sum(mine.values(), ZERO)
        items = sorted(mine.items()) + ([(IDLE, extra)] if extra > 0 else [])
        out.append(Group(name, tuple(items)))
    return out


def top(items: Sequence[Group], n: int = TOP_N) -> list[Group]:
    """The largest ``n`` groups, or the largest ``n - 1`` and one "k others" group."""
    ranked = sorted(items, key=lambda g: (-g.total, g.name))
    if len(ranked) <= n:
        return ranked
    rest = ranked[n - 1:]
    merged: dict[str, Decimal] = defaultdict(Decimal)
    for g in rest:
        for s, v in g.parts:
            merged[s] += v
    return [*ranked[: n - 1], Group(f"{len(rest)} others", tuple(sorted(merged.items())))]


def stacked(key: str, items: Sequence[Group], colors: Mapping[str, str]) -> Chart:
    """A stacked bar per group, segments in the legend's order."""
    order = [s for s in colors if any(s == name for g in items for name, _ in g.parts)]
    rows = []
    for g in items:
        values = dict(g.parts)
        start, segments = ZERO, []
        for s in order:
            v = values.get(s, ZERO)
            if v > 0:
                segments.append(Segment(s, start, start + v, colors[s]))
                start += v
        rows.append(Row(g.name, tuple(segments), usd(g.total)))
    return Chart(key, tuple(rows), tuple((s, colors[s]) for s in order))


def series_colors(names: Iterable[str], fixed: Mapping[str, str]) -> dict[str, str]:
    """Fixed colours for known series, the palette for the rest, grey for idle (last)."""
    out: dict[str, str] = {}
    spare = [c for c in PALETTE if c not in fixed.values()] + list(PALETTE)
    for name in sorted(set(names) - {IDLE}):
        out[name] = fixed.get(name) or spare.pop(0)
    if IDLE in set(names):
        out[IDLE] = GREY
    return out


# -- the report ---------------------------------------------------------------------------
def build_report(plan: Plan, label: str, *, diff: PlanDiff | None = None,
                 values: Sequence[ConstraintValue] | None = None,
                 warn_utilization: Decimal | None = None) -> Report:
    """The whole page: KPIs, the diff (with a base), costs, budgets, pools, limits, unplaced.
    ``warn_utilization`` (0..1): the pools section lists the pools below it."""
    sections = []
    if diff is not None:
        sections.append(diff_section(diff))
    sections += [cost_section(plan), budget_section(plan), pool_section(plan, warn_utilization),
                 binding_section(plan, values), unplaced_section(plan)]
    facts = [f"Plan: {label}", f"Prices: {plan.catalog.source} ({plan.catalog.date})",
             f"{number(plan.hours_per_month)} hours per month",
             f"Solver: {plan.solver.method}, {plan.solver.status}, gap "
             f"{percent(plan.solver.gap, Decimal(1))} {plan.solver.scope_text}"]
    if diff is not None:
        facts.insert(1, f"Compared with: {diff.base.label}")
    return Report(title="gpuplan cost report", facts=tuple(facts), kpis=kpis(plan),
                  sections=tuple(sections))


def kpis(plan: Plan) -> tuple[Kpi, ...]:
    pools_monthly = sum((p.monthly for p in plan.pools), ZERO)
    spot = sum((p.monthly for p in plan.pools if p.capacity == "spot"), ZERO)
    budgeted = [t for t in plan.teams if t.budget is not None]
    budget = sum((t.budget or ZERO for t in budgeted), ZERO)
    spent = sum((t.monthly for t in budgeted), ZERO)
    over = sum(1 for t in budgeted if t.over_budget)
    return (
        Kpi("Monthly estimate", usd(plan.totals.monthly),
            f"{len(plan.placements)} placed, {len(plan.unplaced)} unplaced"),
        Kpi("While running", f"{usd(plan.totals.hourly)}/h", "every pool up at once"),
        Kpi("Spot share", percent(spot, pools_monthly), f"{usd(spot)} a month on spot"),
        Kpi("GPU utilization", utilization_text(plan.totals),
            f"{gpu_hours(plan.totals.used_gpu_hours)} of {gpu_hours(plan.totals.paid_gpu_hours)}"
            " paid GPU-hours a month used"),
        Kpi("Idle", usd(plan.totals.idle.monthly),
            "a month of whole nodes no job's share pays for: "
            f"{gpu_hours(plan.totals.paid_gpu_hours - plan.totals.used_gpu_hours)} GPU-hours"),
        Kpi("Budget use", percent(spent, budget) if budgeted else "-",
            f"{usd(spent)} of {usd(budget)}; {over} of {len(budgeted)} teams over"
            if budgeted else "no team has a budget"),
    )


def _money_table(key: str, caption: str, first: str, items: Sequence[Group],
                 totals: Mapping[str, GroupCost], series: Sequence[str], whole: Decimal) -> Table:
    rows = []
    for g in sorted(items, key=lambda g: (-g.total, g.name)):
        values = dict(g.parts)
        hourly = totals[g.name].hourly if g.name in totals else ZERO
        use = use_text(totals[g.name]) if g.name in totals else "-"
        rows.append((g.name, *(usd(values.get(s, ZERO)) for s in series), usd(g.total),
                     usd(hourly), percent(g.total, whole), use))
    headers = (first, *series, "Monthly", "$/h while running", "Share", "GPU utilization")
    return Table(key, caption, headers, (False,) + (True,) * (len(headers) - 1), tuple(rows))


def _cost_figure(plan: Plan, key: str, title: str, first: str, key_of: Callable[..., str],
                 series_of: Callable[..., str], totals: Mapping[str, GroupCost],
                 fixed: Mapping[str, str], what: str) -> Figure:
    items = groups(plan, key_of, series_of, totals)
    colors = series_colors([s for g in items for s, _ in g.parts], fixed)
    shown = top(items)
    more = f"; the top {TOP_N - 1} and the rest as one bar" if len(items) > TOP_N else ""
    caption = (f"{title}: monthly cost of each {first.lower()}, split by {what}{more}. "
               f"The table lists all {len(items)}.")
    table = _money_table(f"tbl-{key}", title, first, items, totals, list(colors),
                         plan.totals.monthly)
    return Figure(key, title, caption, layout(stacked(key, shown, colors)), table)


def cost_section(plan: Plan) -> Section:
    figures = (
        _cost_figure(plan, "team", "Cost by team", "Team", lambda p: p.team, lambda p: p.cloud,
                     plan.totals.by_team, CLOUD_COLORS, "cloud"),
        _cost_figure(plan, "cloud", "Cost by cloud", "Cloud", lambda p: p.cloud,
                     lambda p: p.capacity, plan.totals.by_cloud, CAPACITY_COLORS, "capacity type"),
        _cost_figure(plan, "region", "Cost by region", "Region", lambda p: f"{p.cloud}/{p.region}",
                     lambda p: p.capacity, plan.totals.by_region, CAPACITY_COLORS,
                     "capacity type"),
    )
    return Section("cost", "Where the money goes",
                   f"{usd(plan.totals.monthly)} a month, {usd(plan.totals.hourly)} an hour while "
                   "every pool runs.", figures)


def budget_section(plan: Plan) -> Section:
    budgeted = [t for t in plan.teams if t.budget is not None]
    rows = []
    for t in sorted(budgeted, key=lambda t: t.name):
        assert t.budget is not None
        color = VERMILLION if t.over_budget else GREEN
        rows.append(Row(t.name, (Segment("over budget" if t.over_budget else "within budget",
                                         ZERO, t.monthly, color),),
                        f"{usd(t.monthly)} of {usd(t.budget)} ({percent(t.monthly, t.budget)})",
                        marks=(Mark(t.budget * BUDGET_WARN, "80%"), Mark(t.budget, "budget"))))
    chart = Chart("budget", tuple(rows), (("within budget", GREEN), ("over budget", VERMILLION)))
    table = Table("tbl-budget", "Budgets", ("Team", "Monthly", "Budget", "Used", "Status"),
                  (False, True, True, True, False),
                  tuple((t.name, usd(t.monthly), usd(t.budget) if t.budget is not None else "-",
                         percent(t.monthly, t.budget) if t.budget is not None else "-",
                         "over budget" if t.over_budget else
                         ("within budget" if t.budget is not None else "no budget"))
                        for t in sorted(plan.teams, key=lambda t: t.name)))
    caption = ("Budgets: each team's monthly cost against its budget; the thin lines mark "
               "80% and 100% of the budget.")
    return Section("budgets", "Budgets",
                   f"{sum(1 for t in budgeted if t.over_budget)} of {len(budgeted)} teams with a "
                   "budget are over it.",
                   (Figure("budget", "Budgets", caption, layout(chart), table),))


@dataclass(frozen=True)
class Packing:
    """A pool's accelerators (or nodes, for CPU pools) allocated to jobs, and its capacity."""

    pool: Pool
    allocated: Decimal
    capacity: Decimal
    unit: str


def packing(plan: Plan) -> list[Packing]:
    """Per pool: sum of nodes x node share of its placements, against its nodes."""
    shares: dict[str, Decimal] = defaultdict(Decimal)
    for p in plan.placements:
        shares[p.pool] += Decimal(repr(p.nodes * p.node_share))
    out = []
    for pool in plan.pools:
        per_node = Decimal(repr(pool.accelerator_count)) if pool.accelerator else Decimal(1)
        unit = f"{pool.accelerator} GPUs" if pool.accelerator else "nodes"
        out.append(Packing(pool, (shares[pool.id] * per_node).quantize(Decimal("0.01")),
                           Decimal(pool.nodes) * per_node, unit))
    return out


def pool_section(plan: Plan, warn_utilization: Decimal | None = None) -> Section:
    uses = {u.pool: u for u in pool_uses(plan)}
    packed = sorted(packing(plan), key=lambda k: (-k.pool.monthly, k.pool.id))
    shown = packed if len(packed) <= POOLS_SHOWN else packed[: POOLS_SHOWN - 1]
    rows = [_packing_row(k.pool.id, k.allocated, k.capacity, k.unit) for k in shown]
    if len(shown) < len(packed):
        rest = packed[len(shown):]
        rows.append(_packing_row(f"{len(rest)} other pools", sum((k.allocated for k in rest), ZERO),
                                 sum((k.capacity for k in rest), ZERO), "units"))
    chart = Chart("pools", tuple(rows), (("allocated", BLUE), ("capacity", "#DDDDDD")),
                  hi=Decimal(100))
    table = Table("tbl-pools", "Pools",
                  ("Pool", "Where", "Instance", "Capacity type", "Nodes", "Allocated", "Capacity",
                   "Packed", "Monthly", "Teams"),
                  (False, False, False, False, True, True, True, True, True, False),
                  tuple((k.pool.id, f"{k.pool.cloud}/{k.pool.zone or k.pool.region}",
                         k.pool.instance_type, k.pool.capacity, str(k.pool.nodes),
                         f"{number(k.allocated)} {k.unit}", f"{number(k.capacity)} {k.unit}",
                         percent(k.allocated, k.capacity), usd(k.pool.monthly),
                         ", ".join(k.pool.teams)) for k in packed))
    more = (f" The {POOLS_SHOWN - 1} dearest pools are drawn, the rest as one bar."
            if len(shown) < len(packed) else "")
    caption = ("Pool packing: accelerators allocated to jobs (blue) against the accelerators "
               "of the pool's nodes (grey), at the plan's peak, as a percentage." + more)
    intro = (f"{len(plan.pools)} pools, {sum(p.nodes for p in plan.pools)} nodes at the plan's "
             f"peak; GPU utilization over the month {use_text(plan.totals)}.")
    tables: tuple[Table, ...] = ()
    if warn_utilization is not None:
        low = low_pools(uses.values(), warn_utilization)
        verb = "pool is" if len(low) == 1 else "pools are"
        intro += (f" {len(low)} {verb} below {percent(warn_utilization, Decimal(1))} GPU "
                  "utilization.")
        tables = (_low_table(low, warn_utilization),) if low else ()
    return Section("pools", "Pools", intro,
                   (Figure("pools", "Pool packing", caption, layout(chart), table),
                    utilization_figure(list(uses.values()))), tables)


def utilization_figure(uses: Sequence[PoolUse]) -> Figure:
    """Each pool's GPU utilization over the month (used / paid GPU-hours), the pools that
    leave the most GPU-hours idle first; the table says why each one is idle."""
    paid = sorted((u for u in uses if u.paid_gpu_hours > 0),
                  key=lambda u: (u.used_gpu_hours - u.paid_gpu_hours, u.pool))
    shown = paid if len(paid) <= POOLS_SHOWN else paid[: POOLS_SHOWN - 1]
    rows = [_use_row(u.pool, u.used_gpu_hours, u.paid_gpu_hours) for u in shown]
    if len(shown) < len(paid):
        rest = paid[len(shown):]
        rows.append(_use_row(f"{len(rest)} other pools",
                             sum((u.used_gpu_hours for u in rest), ZERO),
                             sum((u.paid_gpu_hours for u in rest), ZERO)))
    chart = Chart("utilization", tuple(rows), (("used", BLUE), ("paid, idle", "#DDDDDD")),
                  hi=Decimal(100))
    table = Table("tbl-utilization", "GPU utilization by pool",
                  ("Pool", "Used GPU-h", "Paid GPU-h", "Utilization", "Idle $/month", "Why idle"),
                  (False, True, True, True, True, False),
                  tuple((u.pool, gpu_hours(u.used_gpu_hours), gpu_hours(u.paid_gpu_hours),
                         utilization_text(u), usd(u.idle_monthly), _why(u))
                        for u in sorted(uses, key=lambda u: u.pool)))
    more = (f" The {POOLS_SHOWN - 1} pools with the most idle GPU-hours are drawn, the rest as "
            "one bar." if len(shown) < len(paid) else "")
    caption = ("GPU utilization by pool: GPU-hours a month used by jobs (blue) against those "
               "paid for (grey): whole nodes for the hours they are up. The table says why the "
               "rest is idle." + more)
    return Figure("utilization", "GPU utilization by pool", caption, layout(chart), table)


def _why(u: PoolUse) -> str:
    return "; ".join(f"{r.text} ({gpu_hours(r.gpu_hours)} idle GPU-h)" for r in u.reasons) or "-"


def _use_row(label: str, used: Decimal, paid: Decimal) -> Row:
    pct = min(Decimal(100), ratio(used, paid) * 100)
    return Row(label, (Segment("used", ZERO, pct, BLUE),),
               f"{gpu_hours(used)} of {gpu_hours(paid)} GPU-h ({percent(used, paid)})",
               track=Decimal(100))


def _low_table(low: Sequence[PoolUse], threshold: Decimal) -> Table:
    return Table("tbl-low-utilization",
                 f"Pools below {percent(threshold, Decimal(1))} GPU utilization",
                 ("Pool", "Utilization", "Idle GPU-h", "Idle $/month", "Why"),
                 (False, True, True, True, False),
                 tuple((u.pool, utilization_text(u),
                        gpu_hours(u.paid_gpu_hours - u.used_gpu_hours), usd(u.idle_monthly),
                        _why(u)) for u in sorted(low, key=lambda u: (u.utilization or ZERO, u.pool))))


def _packing_row(label: str, allocated: Decimal, capacity: Decimal, unit: str) -> Row:
    pct = min(Decimal(100), ratio(allocated, capacity) * 100)
    return Row(label, (Segment("allocated", ZERO, pct, BLUE),),
               f"{number(allocated)} of {number(capacity)} {unit} ({percent(allocated, capacity)})",
               track=Decimal(100))


def binding_section(plan: Plan, values: Sequence[ConstraintValue] | None) -> Section:
    worth = {v.id: v.text for v in values or ()}
    rows = tuple(Row(b.id, (Segment(b.kind, ZERO, min(Decimal(100), ratio(b.used, b.limit) * 100)
                                    if b.limit else Decimal(100), VERMILLION),),
                     f"{number(b.used)} of {number(b.limit)} {b.unit}", track=Decimal(100))
                 for b in plan.binding)
    chart = Chart("binding", rows, (("used", VERMILLION), ("limit", "#DDDDDD")), hi=Decimal(100))
    step = ("One more step" if values is not None
            else "One more step (run planner report --constraints)")
    table = Table("tbl-binding", "Binding constraints",
                  ("Constraint", "Kind", "Used", "Limit", "Unit", "What it is", "Workloads", step),
                  (False, False, True, True, False, False, True, False),
                  tuple((b.id, b.kind, number(b.used), number(b.limit), b.unit, describe(b),
                         str(len(b.workloads)), worth.get(b.id, "-")) for b in plan.binding))
    caption = ("Binding constraints: how much of each limit the plan uses, as a percentage of "
               "the limit. The table says what one more step of each would save.")
    intro = (f"{len(plan.binding)} constraints are at their limit."
             if plan.binding else "No constraint is at its limit.")
    return Section("binding", "Binding constraints", intro,
                   (Figure("binding", "Binding constraints", caption, layout(chart), table),))


def unplaced_section(plan: Plan) -> Section:
    """Each unplaced workload, why, and what would place it: any one of its minimal
    relaxation sets (each set's members all relaxed together), with what it would cost."""
    rows = tuple((u.workload, u.team,
                  "; ".join(f"{r.code}: {r.detail}" for r in u.reasons) or "-",
                  "; ".join(" + ".join(blocker(plan, cid).text for cid in x.relax)
                            + f" (then {usd(x.monthly)}/month)" for x in u.unblock) or "-")
                 for u in plan.unplaced)
    table = Table("tbl-unplaced", "Unplaced workloads",
                  ("Workload", "Team", "Why", "Relax any one of these to place it"),
                  (False, False, False, False), rows)
    intro = (f"{len(rows)} workloads could not be placed." if rows
             else "Every workload is placed.")
    return Section("unplaced", "Unplaced workloads", intro, tables=(table,) if rows else ())


def diff_section(d: PlanDiff) -> Section:
    changed = [g for g in d.by_team if g.changed]
    ranked = sorted(changed, key=lambda g: (-abs(g.delta_monthly), g.name))
    shown = ranked if len(ranked) <= TOP_N else ranked[: TOP_N - 1]
    rows = [_delta_row(g.name, g.delta_monthly, g.base_monthly) for g in shown]
    if len(shown) < len(ranked):
        rest = ranked[len(shown):]
        rows.append(_delta_row(f"{len(rest)} others", sum((g.delta_monthly for g in rest), ZERO),
                               sum((g.base_monthly for g in rest), ZERO)))
    chart = Chart("diff", tuple(rows), (("increase", VERMILLION), ("decrease", GREEN)))
    teams = Table("tbl-diff", "Change by team", ("Team", "Before", "After", "Change", "Change %"),
                  (False, True, True, True, True),
                  tuple((g.name, usd(g.base_monthly), usd(g.new_monthly),
                         usd(g.delta_monthly, signed=True),
                         percent(g.delta_monthly, g.base_monthly, signed=True) if g.base_monthly
                         else "new") for g in d.by_team))
    moves = Table("tbl-moves", "Workloads that change",
                  ("Change", "Workload", "Team", "From", "To", "Monthly change", "Why"),
                  (False, False, False, False, False, True, False),
                  tuple((w.change, w.workload, w.team, where(w.base), where(w.new),
                         usd(w.delta_monthly, signed=True), w.reason) for w in d.workloads))
    pools = Table("tbl-pool-changes", "Pools that change",
                  ("Change", "Pool", "Where", "Instance", "Nodes", "Monthly change"),
                  (False, False, False, False, True, True),
                  tuple((p.change, p.id, f"{p.cloud}/{p.zone or p.region}", p.instance_type,
                         f"{p.base_nodes} → {p.new_nodes}", usd(p.delta_monthly, signed=True))
                        for p in d.pools))
    caption = ("Change by team: the monthly cost of the new plan minus the base plan's, per team "
               "whose cost changes; increases to the right, decreases to the left.")
    intro = (f"{summary(d.total)}: {usd(d.total.base_monthly)} → {usd(d.total.new_monthly)} a "
             f"month ({usd(d.total.delta_hourly, signed=True)}/h while running).")
    return Section("diff", "What changes", intro,
                   (Figure("diff", "Change by team", caption, layout(chart), teams),),
                   tuple(t for t in (moves, pools) if t.rows))


def _delta_row(name: str, delta: Decimal, base: Decimal) -> Row:
    color, series = (VERMILLION, "increase") if delta > 0 else (GREEN, "decrease")
    pct = f" ({percent(delta, base, signed=True)})" if base else ""
    return Row(name, (Segment(series, ZERO, delta, color),), usd(delta, signed=True) + pct)
