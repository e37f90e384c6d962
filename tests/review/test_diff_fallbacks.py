"""``planner diff`` with capacity fallbacks: fallbacks added or removed, the worst-case
change in the PR comment, and a team whose worst case crosses its budget warned (not
failed)."""

from __future__ import annotations

from typing import Any

from planner.optimize.planning import plan_workloads
from planner.plan import Plan
from planner.review.diff import diff_plans
from planner.review.diffrender import render_markdown, render_text, usd
from planner.review.guardrails import check_budgets
from tests.synthetic import fallback_catalog, fallback_policy, job, workload_set


def _plan(rule: dict[str, Any] | None, budget: str = "1000") -> Plan:
    team: dict[str, Any] = {"monthly_budget": budget}
    if rule:
        team["fallbacks"] = rule
    ws = workload_set([job("train", "A100:8", 10), job("small", "A100:8", 2)],
                      teams={"ml": team})
    return plan_workloads(ws, fallback_catalog(), time_limit=5)


def test_fallbacks_added_and_removed() -> None:
    none, two = _plan(None), _plan(fallback_policy(2, "30%", ["region", "cloud"]))
    added = diff_plans(none, two)
    assert [f.workload for f in added.fallbacks] == ["small", "train"]
    train = next(f for f in added.fallbacks if f.workload == "train")
    placed = two.placement("train")
    assert placed is not None
    assert train.added == tuple(f.pool for f in placed.fallbacks) and train.removed == ()
    assert not added.empty  # the cost is the same, the fallbacks are not
    back = diff_plans(two, none)
    assert [f.removed for f in back.fallbacks] == [f.added for f in added.fallbacks]
    assert diff_plans(two, two).fallbacks == ()


def test_worst_case_change_and_budget_warning_in_the_pr_comment() -> None:
    base = _plan(None, budget="360")
    new = _plan(fallback_policy(1, "30%", ["region", "cloud"]), budget="360")
    assert new.worst_case is not None and new.warnings
    d = diff_plans(base, new)
    assert d.worst_case is not None
    assert (d.worst_case.base_monthly, d.worst_case.new_monthly) == (
        base.totals.monthly, new.worst_case.monthly)
    assert d.worst_case.crossed == ("ml",)
    md = render_markdown(d)
    wc = d.worst_case
    assert (f"Worst case, every workload with fallbacks on its first: {usd(wc.base_monthly)} → "
            f"{usd(wc.new_monthly)} per month ({usd(wc.delta, signed=True)}") in md
    assert f"> ⚠️ {new.warnings[0]}" in md
    assert "**Fallbacks**" in md
    text = render_text(d)
    assert "worst case, every workload with fallbacks on its first" in text
    # a warning, not a failure: the over-budget guardrail looks at the plan, not the worst case
    assert check_budgets(d).passed


def test_no_fallbacks_no_worst_case() -> None:
    d = diff_plans(_plan(None), _plan(None))
    assert d.worst_case is None and d.fallbacks == () and d.warnings == ()
    assert "Worst case" not in render_markdown(d)
