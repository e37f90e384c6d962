"""Utilization (used / paid GPU-hours, :mod:`planner.utilization`) on hand-checkable plans.

Every plan here is one pool of 8-GPU (or 4-GPU) nodes at $8/h, jobs starting together
(``tests.report.plans.pool_plan``), priced by the plan's own cost function; the expected
figures are worked out by hand in each test.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import UsageError
from planner.plan import Plan, dumps_plan
from planner.utilization import (
    low_pools,
    parse_threshold,
    pool_uses,
    utilization,
    utilization_text,
    utilization_warnings,
)
from tests.cli import run_cli
from tests.report.plans import pool_plan

HALF = Decimal("0.5")


def test_one_job_on_half_a_node_is_50_percent() -> None:
    # 4 of 8 GPUs for 10 h: 80 GPU-h paid (the whole node), 40 used
    plan = pool_plan(8, 1, [("half", "ml", 4)])
    (use,) = pool_uses(plan)
    assert (use.paid_gpu_hours, use.used_gpu_hours) == (Decimal("80.0000"), Decimal("40.0000"))
    assert use.utilization == Decimal("0.5000") == utilization(plan.totals)
    assert utilization(plan.totals.by_team["ml"]) == utilization(plan.totals.by_cloud["gcp"]) \
        == Decimal("0.5000")
    (reason,) = use.reasons
    assert (reason.code, reason.gpu_hours, reason.workloads) == (
        "lone-fractional", Decimal("40.0000"), ("half",))
    assert "uses 4 of the node's 8 A100 GPUs; the whole node is paid" in reason.text


def test_eight_one_gpu_jobs_on_one_eight_gpu_node_are_100_percent() -> None:
    plan = pool_plan(8, 1, [(f"job{i}", "ml", 1) for i in range(8)])
    (use,) = pool_uses(plan)
    assert plan.pools[0].nodes == 1
    assert (use.paid_gpu_hours, use.used_gpu_hours) == (Decimal("80.0000"), Decimal("80.0000"))
    assert use.utilization == Decimal("1.0000") and use.reasons == ()
    assert utilization_text(plan.totals) == "100.0%"
    assert utilization_warnings(plan, Decimal("0.99")) == ()


def test_rounding_whole_nodes_for_fractional_need() -> None:
    # three 4-GPU jobs need 1.5 nodes for 10 h: 2 nodes run, 160 GPU-h paid, 120 used
    plan = pool_plan(8, 2, [("a", "ml", 4), ("b", "ml", 4), ("c", "ml", 4)])
    (use,) = pool_uses(plan)
    assert use.utilization == Decimal("0.7500")
    (reason,) = use.reasons
    assert (reason.code, reason.gpu_hours) == ("rounding", Decimal("40.0000"))
    assert reason.workloads == ("a", "b", "c")
    assert "they need 1.5 nodes' worth and 2 whole nodes run" in reason.text


def test_a_long_tail_job_holding_a_node() -> None:
    # a and b take half a node each; a ends after 10 h, b runs 100 h: the node is up 100 h
    # (800 GPU-h paid), used 4 x 10 + 4 x 100 = 440 GPU-h; idle 4 GPUs x 90 h = 360
    plan = pool_plan(8, 1, [("a", "ml", 4), ("b", "ml", 4)], hours={"b": 100.0})
    (use,) = pool_uses(plan)
    assert (use.paid_gpu_hours, use.used_gpu_hours) == (Decimal("800.0000"), Decimal("440.0000"))
    assert use.utilization == Decimal("0.5500")
    (reason,) = use.reasons
    assert (reason.code, reason.gpu_hours, reason.workloads) == (
        "long-tail", Decimal("360.0000"), ("b",))
    assert reason.text == "a long tail: b keeps 1 node up for 90 h after the pool's shortest " \
        "job ends"


def test_rounding_and_a_long_tail_together_add_up_to_the_idle() -> None:
    # 4-GPU nodes. a (2 GPUs, 10 h), b (4 GPUs, 10 h), c (2 GPUs, 40 h).
    # 0-10 h: 2 nodes' worth, 2 nodes, no idle; 10-40 h: c alone, 0.5 of a node for 30 h:
    # 2 idle GPUs x 30 h = 60 GPU-h of long tail. Then d (1 GPU, 10 h) makes 0-10 h
    # 2.25 nodes' worth on 3 nodes: 3 idle GPUs x 10 h = 30 GPU-h of rounding.
    plan = pool_plan(4, 3, [("a", "ml", 2), ("b", "ml", 4), ("c", "ml", 2), ("d", "ops", 1)],
                     hours={"c": 40.0})
    (use,) = pool_uses(plan)
    assert [(r.code, r.gpu_hours) for r in use.reasons] == [
        ("long-tail", Decimal("60.0000")), ("rounding", Decimal("30.0000"))]
    assert use.paid_gpu_hours - use.used_gpu_hours == Decimal("90.0000")


def test_a_warning_names_the_pool_its_figure_and_why() -> None:
    plan = pool_plan(8, 1, [("half", "ml", 4)])
    (line,) = utilization_warnings(plan, parse_threshold("60%"))
    assert line.startswith(f"pool {plan.pools[0].id}: GPU utilization 50.0% (40.0 of 80.0 GPU-h)"
                           " is below 60.0%: a lone fractional job: half")
    assert line.endswith("(40.0 idle GPU-h)")
    # exactly at the threshold is not below it; no threshold, no warnings
    assert utilization_warnings(plan, parse_threshold("50%")) == ()
    assert utilization_warnings(plan, None) == ()


def test_pools_without_paid_gpu_hours_have_no_utilization() -> None:
    plan = pool_plan(8, 1, [("half", "ml", 4)])
    empty = plan.pools[0].model_copy(update={"paid_gpu_hours": Decimal(0),
                                             "used_gpu_hours": Decimal(0)})
    assert utilization(empty) is None
    assert low_pools([u.model_copy(update={"paid_gpu_hours": Decimal(0),
                                          "used_gpu_hours": Decimal(0)})
                      for u in pool_uses(plan)], Decimal(1)) == ()


@pytest.mark.parametrize(("text", "expected"), [
    ("50%", HALF), ("50", HALF), (" 12.5 % ", Decimal("0.125")), ("0%", Decimal(0)),
    ("100%", Decimal(1))])
def test_threshold_is_a_percent(text: str, expected: Decimal) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize("text", ["", "half", "-5%", "150%", "0.5.1", "$50"])
def test_a_bad_threshold_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--warn-utilization"):
        parse_threshold(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2, 4, 8]), st.integers(1, 800)),
                min_size=1, max_size=8))
def test_reasons_add_up_to_paid_minus_used(jobs: list[tuple[int, int]]) -> None:
    named = [(f"j{i}", "ml", gpus) for i, (gpus, _) in enumerate(jobs)]
    hours = {f"j{i}": float(h) for i, (_, h) in enumerate(jobs)}
    plan = pool_plan(8, 64, named, hours=hours)
    (use,) = pool_uses(plan)
    idle = use.paid_gpu_hours - use.used_gpu_hours
    explained = sum((r.gpu_hours for r in use.reasons), Decimal(0))
    assert abs(idle - explained) <= Decimal("0.001")
    assert use.used_gpu_hours <= use.paid_gpu_hours
    if len(jobs) == 1:
        assert {r.code for r in use.reasons} <= {"lone-fractional"}
    else:
        assert "lone-fractional" not in {r.code for r in use.reasons}


# --- in every output: plan, explain, diff (the PR comment), report ---------------------------
BURST = Path(__file__).resolve().parent.parent / "examples" / "burst"


def _plan_file(tmp_path: Path, name: str, plan: Plan) -> Path:
    path = tmp_path / name
    path.write_text(dumps_plan(plan), "utf-8")
    return path


def test_plan_warns_about_the_burst_pool_and_says_why() -> None:
    # the on-prem pool: 3 jobs on two 8-GPU nodes, one of them a 730 h notebook
    table = run_cli("plan", str(BURST / "workloads.yaml"), "--warn-utilization", "50%")
    assert table.code == 0, table.err
    text = " ".join(table.out.split())
    assert ("warning pool k8s-onprem-a100-a100x8: GPU utilization 16.2% (970.0 of 6,000.0 GPU-h)"
            " is below 50.0%: a long tail: notebook-gpus keeps 1 node up for 710 h") in text
    assert "the gcp" not in text and text.count("warning pool") == 1
    md = run_cli("plan", str(BURST / "workloads.yaml"), "--format", "md",
                 "--warn-utilization", "50%")
    assert "> ⚠️ pool k8s-onprem-a100-a100x8: GPU utilization 16.2%" in md.out
    # json: stdout is the plan, byte for byte; the warning goes to stderr
    js = run_cli("plan", str(BURST / "workloads.yaml"), "--format", "json",
                 "--warn-utilization", "50%")
    assert js.out == (BURST / "plan.json").read_text("utf-8")
    assert "warning: pool k8s-onprem-a100-a100x8" in js.err
    quiet = run_cli("plan", str(BURST / "workloads.yaml"), "--warn-utilization", "10%")
    assert "warning pool" not in quiet.out


def test_explain_shows_utilization_per_pool_team_and_plan(tmp_path: Path) -> None:
    path = _plan_file(tmp_path, "plan.json", pool_plan(8, 1, [("half", "ml", 4)]))
    data = json.loads(run_cli("explain", str(path), "--format", "json",
                              "--warn-utilization", "60%").out)
    o = data["overview"]
    assert (o["paid_gpu_hours"], o["used_gpu_hours"], o["utilization"]) == (
        "80.0000", "40.0000", "0.5000")
    assert o["by_team"][0]["utilization"] == o["by_cloud"][0]["utilization"] == "0.5000"
    (pool,) = o["pools"]
    assert pool["reasons"][0]["code"] == "lone-fractional"
    assert o["utilization_warnings"][0].startswith("pool gcp-us-central1-a2-8g-od: GPU utiliz")
    text = run_cli("explain", str(path), "--warn-utilization", "60%").out
    assert "GPU utilization 50.0%: 40.0 of 80.0 paid GPU-hours a month used" in text
    assert "WARNING: pool gcp-us-central1-a2-8g-od: GPU utilization 50.0%" in text
    one = run_cli("explain", str(path), "half", "--format", "md").out
    assert "GPU utilization 50.0% (40.0 of 80.0 GPU-h a month): a lone fractional job" in one


def test_the_pr_comment_shows_utilization_and_warns(tmp_path: Path) -> None:
    base = _plan_file(tmp_path, "base.json", pool_plan(8, 1, [(f"j{i}", "ml", 1)
                                                               for i in range(8)]))
    new = _plan_file(tmp_path, "new.json", pool_plan(8, 1, [("j0", "ml", 4)]))
    md = run_cli("diff", str(base), str(new), "--format", "md", "--warn-utilization", "50.1%")
    assert md.code == 0, md.err
    assert "GPU utilization 100.0% → 50.0% (40.0 of 80.0 paid GPU-hours a month used)." in md.out
    assert "| 100.0% → 50.0% |" in md.out  # the team's column
    assert "> ⚠️ pool gcp-us-central1-a2-8g-od: GPU utilization 50.0%" in md.out
    data = json.loads(run_cli("diff", str(base), str(new), "--format", "json").out)
    assert data["utilization"]["total"]["base_utilization"] == "1.0000"
    assert data["utilization"]["total"]["new_utilization"] == "0.5000"
    assert data["utilization_warnings"] == []


def test_the_report_lists_pools_below_the_threshold(tmp_path: Path) -> None:
    path = _plan_file(tmp_path, "plan.json", pool_plan(8, 1, [("half", "ml", 4)]))
    out = tmp_path / "r.html"
    assert run_cli("report", str(path), "--out", str(out), "--warn-utilization", "60%").code == 0
    html = out.read_text("utf-8")
    assert 'id="tbl-low-utilization"' in html and "1 pool is below 60.0% GPU utilization" in html
    assert run_cli("report", str(path), "--out", str(out)).code == 0
    assert 'id="tbl-low-utilization"' not in out.read_text("utf-8")


@pytest.mark.parametrize("command", [
    ["plan", str(BURST / "workloads.yaml"), "--out", "OUT"],
    ["explain", str(BURST / "plan.json")],
    ["diff", str(BURST / "plan.json"), str(BURST / "plan.json")],
    ["report", str(BURST / "plan.json"), "--out", "OUT"],
])
def test_a_bad_threshold_is_one_line_exit_2_and_nothing_written(
        command: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_cli(*[str(out) if a == "OUT" else a for a in command], "--warn-utilization", "150%")
    assert r.code == 2 and r.out == ""
    assert r.err == ("error: --warn-utilization: expected a percent from 0% to 100% like 50%, "
                     "got '150%'\n")
    assert not out.exists()
