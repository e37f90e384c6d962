"""``planner explain WORKLOAD`` on a plan with fallbacks: each fallback with its premium and
why it ranks ahead of the next candidate; the overview's worst case and budget warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.optimize.planning import plan_workloads
from planner.plan import Plan, dumps_plan
from tests.cli import run_cli
from tests.synthetic import fallback_catalog, fallback_policy, job, workload_set


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Plan]:
    # us-east1 (+6.2%) then AWS (+11.5%); Azure is +53%. The first fallbacks cross the budget.
    rule = fallback_policy(2, "30%", ["region", "cloud"])
    teams = {"ml": {"monthly_budget": "360", "fallbacks": rule}}
    ws = workload_set([job("train", "A100:8", 10), job("small", "A100:8", 2)], teams=teams)
    plan = plan_workloads(ws, fallback_catalog(), time_limit=5)
    path = tmp_path_factory.mktemp("plans") / "plan.json"
    path.write_text(dumps_plan(plan), encoding="utf-8")
    return path, plan


def _explain(path: Path, *args: str) -> str:
    r = run_cli("explain", str(path), *args)
    assert r.code == 0, r.err
    return r.out


def test_text_lists_fallbacks_with_premium_and_why(plan_file: tuple[Path, Plan]) -> None:
    path, plan = plan_file
    p = plan.placement("train")
    assert p is not None and len(p.fallbacks) == 2
    out = _explain(path, "train")
    assert "Fallbacks if the choice has no capacity" in out
    first, second = p.fallbacks
    for f in p.fallbacks:
        assert f"{f.rank}. {f.offer}" in out and f.why in out
    # why each ranks where it does: against the next candidate, by name and premium
    assert f"ahead of {second.offer} at {second.premium_pct:+.1f}%" in first.why
    assert "the next, azure/eastus/-/Standard_ND96asr_v4+A100:8 at +53.1%, is over the 30% " \
           "premium" in second.why


def test_json_and_markdown_carry_the_same_fallbacks(plan_file: tuple[Path, Plan]) -> None:
    path, plan = plan_file
    doc = json.loads(_explain(path, "train", "-f", "json"))
    (view,) = doc["workloads"]
    p = plan.placement("train")
    assert p is not None
    assert view["fallbacks"] == [f.model_dump(mode="json") for f in p.fallbacks]
    assert view["fallback_note"] is None
    md = _explain(path, "train", "-f", "md")
    assert "**Fallbacks**" in md
    assert all(f"| {f.rank} | `{f.offer}` |" in md for f in p.fallbacks)


def test_overview_shows_worst_case_and_budget_warning(plan_file: tuple[Path, Plan]) -> None:
    path, plan = plan_file
    assert plan.worst_case is not None and plan.warnings
    out = _explain(path)
    assert "worst case, every workload with fallbacks on its first:" in out
    assert f"WARNING: {plan.warnings[0]}" in out
    doc = json.loads(_explain(path, "-f", "json"))
    assert doc["overview"]["worst_case"]["monthly"] == str(plan.worst_case.monthly)
    assert doc["overview"]["warnings"] == list(plan.warnings)
