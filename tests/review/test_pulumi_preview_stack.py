"""``planner preview``: the stack program under Pulumi mocks, its node pools priced."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from planner.plan import read_plan
from tests.cli import run_cli
from tests.golden import check_golden

pytest.importorskip("pulumi")
pytest.importorskip("components.program.mocks")

REPO = Path(__file__).resolve().parents[2]
PLAN = REPO / "examples" / "multi-team" / "plan.json"


@pytest.fixture(autouse=True)
def _in_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_every_pool_of_the_plan_is_created_and_priced_like_the_plan() -> None:
    r = run_cli("preview", "--plan", str(PLAN), "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    plan = read_plan(PLAN)
    assert {res["op"] for res in doc["resources"]} == {"create"}
    pools = {p["name"]: p for p in doc["cost"]["pools"]}
    assert set(pools) == {p.id for p in plan.pools}
    for pool in plan.pools:
        after = pools[pool.id]["after"]
        assert pools[pool.id]["status"] == "priced"
        # the catalog's exact price, as the plan keeps it (no discounts in this example)
        assert Decimal(after["node_hourly"]) == pool.node_hourly
        assert (after["cloud"], after["instance_type"]) == (pool.cloud, pool.instance_type)
        assert after["capacity"] == pool.capacity and after["max_nodes"] == pool.max_nodes


def test_text_golden(update_golden: bool) -> None:
    r = run_cli("preview", "--plan", str(PLAN))
    assert r.code == 0, r.err
    check_golden("preview/stack-multi-team.txt", r.out.replace(str(REPO) + os.sep, ""),
                 update_golden)


def test_against_a_base_plan_pools_change_as_the_plan_diff_says(tmp_path: Path) -> None:
    lowered = tmp_path / "lowered.json"
    variant = REPO / "tests" / "fixtures" / "diff" / "multi-team" / "quota-lowered.yaml"
    assert run_cli("plan", str(variant), "--out", str(lowered), "--format", "json").code == 0
    diff = json.loads(run_cli("diff", str(PLAN), str(lowered), "-f", "json",
                              "--allow-over-budget").out)
    r = run_cli("preview", "--plan", str(lowered), "--base", str(PLAN), "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    pool_ops = {(p["name"], p["op"]) for p in doc["cost"]["pools"] if p["op"] != "same"}
    expected = {(p["id"], {"added": "create", "removed": "delete"}.get(p["change"], "update"))
                for p in diff["pools"]}
    assert pool_ops == expected
    assert all(p["status"] == "priced" for p in doc["cost"]["pools"])
    assert "same" not in {res["op"] for res in doc["resources"]}  # hidden without --show-same


def test_unknown_stack_and_missing_plan_exit_2() -> None:
    r = run_cli("preview", "--stack", "nope")
    assert r.code == 2 and r.err == "error: --stack nope: no stack config stacks/Pulumi.nope.yaml\n"
    r = run_cli("preview", "--plan", "missing.json")
    assert (r.code, r.err) == (2, "error: missing.json: file not found\n")
