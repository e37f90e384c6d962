"""The report's figures on hand-checkable plans: packing, groups, top N, budgets, escaping."""

from __future__ import annotations

import re
from decimal import Decimal

from planner.report.charts import Chart, Row, Segment, layout
from planner.report.html import render_html
from planner.report.view import Group, build_report, packing, top
from tests.report.plans import pool_plan


def test_one_job_on_half_a_node_is_half_packed() -> None:
    [k] = packing(pool_plan(8, 1, [("a", "ml", 4)]))
    assert (k.allocated, k.capacity, k.unit) == (Decimal(4), Decimal(8), "A100 GPUs")


def test_eight_one_gpu_jobs_fill_one_eight_gpu_node() -> None:
    [k] = packing(pool_plan(8, 1, [(f"j{i}", "ml", 1) for i in range(8)]))
    assert k.allocated == k.capacity == Decimal(8)


def test_pool_table_and_bar_say_the_same_packing() -> None:
    html = render_html(build_report(pool_plan(8, 2, [("a", "ml", 4), ("b", "ml", 8)]), "p"))
    assert "12 of 16 A100 GPUs (75.0%)" in html
    # the bar is 75 % of the plot's width (380 user units at 100 %)
    assert re.search(r'<rect class="seg" x="270.0" y="[0-9.]+" width="285.0"', html)


def test_idle_beyond_the_placements_is_its_own_segment() -> None:
    plan = pool_plan(8, 1, [("a", "ml", 4), ("b", "cv", 2)])
    report = build_report(plan, "p")
    team = next(f for s in report.sections for f in s.figures if f.key == "team")
    rows = {r[0]: r for r in team.table.rows}
    assert team.table.headers[1:3] == ("gcp", "idle")
    # one $8/h node for 10 h = $80: ml's 4 GPUs $40, cv's 2 GPUs $20, $20 idle split by
    # share-hours 4:2, so ml has $13.33 of it: $53.33
    assert rows["ml"][1:4] == ("$40.00", "$13.33", "$53.33")
    assert [s.title for s in team.chart.rows[0].segments] == ["ml: gcp", "ml: idle"]


def test_top_n_keeps_the_largest_and_merges_the_rest() -> None:
    items = [Group(f"t{i:02d}", (("gcp", Decimal(i)), ("aws", Decimal(1)))) for i in range(1, 15)]
    shown = top(items, 5)
    assert [g.name for g in shown] == ["t14", "t13", "t12", "t11", "10 others"]
    assert shown[-1].total == sum(Decimal(i + 1) for i in range(1, 11))
    assert top(items[:5], 5) == sorted(items[:5], key=lambda g: -g.total)


def test_budget_bars_mark_the_budget_and_its_warning() -> None:
    plan = pool_plan(8, 1, [("a", "ml", 8)], budgets={"ml": Decimal("50")})
    html = render_html(build_report(plan, "p"))
    # $80 spent of a $50 budget: over, and the scale runs to $80
    assert "$80.00 of $50.00 (160.0%)" in html and "over budget" in html
    budget = re.search(r'data-chart="budget".*?</figure>', html, re.S)
    assert budget is not None
    marks = re.findall(r'<line class="mark" x1="([0-9.]+)"', budget.group(0))
    assert marks == ["460.0", "507.5"]  # 270 + 380 x 40/80 and x 50/80


def test_free_text_is_escaped() -> None:
    """Names are DNS labels now, but the label, the catalog source and reasons are free text."""
    from planner.plan import CatalogInfo

    plan = pool_plan(8, 1, [("a", "ml", 8)]).model_copy(
        update={"catalog": CatalogInfo(source='<img src=x onerror="y">', date="2026-11-01")})
    html = render_html(build_report(plan, "<plan>&"))
    assert "<img" not in html and "&lt;img src=x onerror=&#34;y&#34;&gt;" in html
    assert "Plan: &lt;plan&gt;&amp;" in html


def test_negative_values_put_the_zero_line_inside_the_plot() -> None:
    chart = layout(Chart("d", (Row("a", (Segment("down", Decimal(0), Decimal(-1), "#000"),), "-1"),
                              Row("b", (Segment("up", Decimal(0), Decimal(3), "#000"),), "+3"))))
    assert chart.zero_x == "365.0"  # 270 + 380 x 1/4
    assert [(r.segments[0].x, r.segments[0].width) for r in chart.rows] == [
        ("270.0", "95.0"), ("365.0", "285.0")]


def test_a_plan_with_nothing_placed_still_renders() -> None:
    from planner.plan import Money2, Totals

    plan = pool_plan(8, 1, [("a", "ml", 8)]).model_copy(update={
        "placements": (), "pools": (), "teams": (),
        "totals": Totals(hourly=Decimal(0), monthly=Decimal(0),
                         idle=Money2(hourly=Decimal(0), monthly=Decimal(0)),
                         paid_gpu_hours=Decimal(0), used_gpu_hours=Decimal(0), by_team={},
                         by_cloud={}, by_region={}),
    })
    html = render_html(build_report(plan, "p"))
    assert html.count('class="bar"') == 0 and html.count("Nothing to draw") == 7
    assert '<div class="label">Spot share</div><div class="value">-</div>' in html
    assert "Every workload is placed." in html


def _kpi(plan_html: str, label: str) -> tuple[str, str]:
    m = re.search(rf'<div class="label">{label}</div><div class="value">([^<]*)</div>'
                  r'<div class="note">([^<]*)</div>', plan_html)
    assert m is not None, label
    return m.group(1), m.group(2)


def test_utilization_and_idle_cards_on_half_a_node() -> None:
    # 4 of 8 GPUs for 10 h on one $8/h node: 80 GPU-h paid, 40 used; $80, of which $40 idle
    html = render_html(build_report(pool_plan(8, 1, [("a", "ml", 4)]), "p"))
    assert _kpi(html, "GPU utilization") == ("50.0%",
                                             "40.0 of 80.0 paid GPU-hours a month used")
    value, note = _kpi(html, "Idle")
    assert value == "$40.00" and note.endswith("40.0 GPU-hours")
    # the pool's bar in the utilization chart is half the plot (380 user units at 100 %)
    chart = re.search(r'data-chart="utilization".*?</figure>', html, re.S)
    assert chart is not None
    assert re.search(r'<rect class="seg" x="270.0" y="[0-9.]+" width="190.0"', chart.group(0))
    assert "a lone fractional job: a is the pool&#39;s only job" in chart.group(0)


def test_utilization_and_idle_cards_on_a_full_node() -> None:
    html = render_html(build_report(pool_plan(8, 1, [(f"j{i}", "ml", 1) for i in range(8)]),
                                    "p"))
    assert _kpi(html, "GPU utilization")[0] == "100.0%"
    assert _kpi(html, "Idle")[0] == "$0.00"


def test_team_cloud_and_region_tables_carry_utilization() -> None:
    report = build_report(pool_plan(8, 2, [("a", "ml", 4), ("b", "ml", 4), ("c", "cv", 4)]), "p")
    team = next(f for s in report.sections for f in s.figures if f.key == "team")
    assert team.table.headers[-1] == "GPU utilization"
    # 1.5 nodes' worth on 2 nodes for 10 h: 120 of 160 GPU-h; idle 40 split by share-hours
    rows = {r[0]: r[-1] for r in team.table.rows}
    assert rows == {"ml": "75.0% (80.0 of 106.7 GPU-h)", "cv": "75.0% (40.0 of 53.3 GPU-h)"}
