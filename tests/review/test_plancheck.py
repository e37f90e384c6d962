"""``planner plan --check``: a committed plan passes only if its declaration gives it (issue 19)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from planner.plan import Plan, dumps_plan, loads_plan
from planner.review.plancheck import check_plan, differences
from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/plan.json"))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
    return path


def test_the_examples_are_found() -> None:
    assert {"quickstart", "multi-team", "burst", "deadline"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_committed_examples_pass(name: str) -> None:
    example = REPO / "examples" / name
    r = run_cli("plan", str(example / "workloads.yaml"), "--check", str(example / "plan.json"))
    assert r.code == 0, r.out + r.err
    assert r.out.endswith("gives (compared byte for byte)\n")


def test_a_hand_lowered_price_fails_with_a_short_diff(tmp_path: Path) -> None:
    data = json.loads((REPO / "examples" / "burst" / "plan.json").read_text())
    pool = data["pools"][0]
    real = pool["node_hourly"]
    pool["node_hourly"] = "1.0000"
    plan = _write(tmp_path, data)
    r = run_cli("plan", "--check", str(plan))
    assert r.code == 3
    assert r.out == (f"  pools[{pool['id']}].node_hourly: {plan} has \"1.0000\", its declaration "
                     f"gives \"{real}\"\n")
    assert r.err.count("\n") == 1 and "is not what its declaration gives (1 difference" in r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # nothing written


def test_a_plan_made_from_another_declaration_fails(tmp_path: Path) -> None:
    """The plan is honest about its own declaration, but not the one in the pull request."""
    example = REPO / "examples" / "burst"
    changed = tmp_path / "workloads.yaml"
    changed.write_text((example / "workloads.yaml").read_text().replace(
        'monthly_budget: "20000"', 'monthly_budget: "25000"'))
    assert changed.read_text() != (example / "workloads.yaml").read_text()
    r = run_cli("plan", str(changed), "--check", str(example / "plan.json"))
    assert r.code == 3, r.err
    assert r.out.strip() == (f"spec.teams.research.monthly_budget: {example / 'plan.json'} has "
                             f"\"20000\", {changed} gives \"25000\"")


def test_a_hand_edited_declaration_inside_the_plan_is_checked_like_a_file(tmp_path: Path) -> None:
    data = json.loads((REPO / "examples" / "burst" / "plan.json").read_text())
    data["spec"]["workloads"][0]["name"] = "../x"
    r = run_cli("plan", "--check", str(_write(tmp_path, data)))
    assert r.code == 2 and r.err.count("\n") == 1
    assert ": spec.workloads[0].name: must be lowercase letters" in r.err


def test_another_catalog_cannot_prove_anything(tmp_path: Path, skypilot_dir: Path) -> None:
    plan = REPO / "examples" / "burst" / "plan.json"
    r = run_cli("--catalog", str(skypilot_dir), "plan", "--check", str(plan))
    assert r.code == 4 and "was made on the catalog" in r.err and r.err.count("\n") == 1


def test_check_writes_nothing_and_refuses_out(tmp_path: Path) -> None:
    plan = REPO / "examples" / "burst" / "plan.json"
    r = run_cli("plan", "--check", str(plan), "--out", str(tmp_path / "x.json"))
    assert r.code == 2 and "--check writes nothing" in r.err
    assert run_cli("plan").code == 2


# --- the rule, on plans built by hand -------------------------------------------------------
def _burst() -> tuple[str, Plan]:
    text = (REPO / "examples" / "burst" / "plan.json").read_text()
    return text, loads_plan(text)


def _stopped_early(plan: Plan, gap: str) -> Plan:
    """``plan`` as a search stopped at ``gap`` would report it."""
    objective = plan.solver.objective
    bound = (objective * (1 - Decimal(gap))).quantize(Decimal("0.0001"))
    return plan.model_copy(update={"solver": plan.solver.model_copy(
        update={"gap": Decimal(gap), "lower_bound": bound})})


def test_same_bytes_match_and_any_change_fails_when_the_search_is_proven() -> None:
    text, plan = _burst()
    assert check_plan(text, plan, plan).matches
    reformatted = json.dumps(json.loads(text))
    result = check_plan(reformatted, plan, plan)
    assert not result.matches and "not as 'planner plan --out' writes it" in result.lines[0]


def test_within_the_gap_another_choice_passes_but_a_cheaper_price_does_not() -> None:
    _, plan = _burst()
    fresh = _stopped_early(plan, "0.05")
    # The committed plan differs from the fresh run only in what the search chooses.
    first = plan.placements[0].model_copy(update={"alternatives": ()})
    other_choice = plan.model_copy(update={"placements": (first, *plan.placements[1:])})
    other_choice_text = dumps_plan(other_choice)
    result = check_plan(other_choice_text, other_choice, fresh)
    assert result.matches and result.rule == "gap", result.lines
    # A price lowered on a pool both plans use is caught by the price.
    pools = list(plan.pools)
    pools[0] = pools[0].model_copy(update={"node_hourly": Decimal("1.0000")})
    lowered = plan.model_copy(update={"pools": tuple(pools)})
    result = check_plan(dumps_plan(lowered), lowered, fresh)
    assert not result.matches and result.lines[0].startswith(f"pools[{pools[0].id}].node_hourly")
    # A plan cheaper than the fresh run's lower bound cannot exist.
    cheap = plan.model_copy(update={"solver": plan.solver.model_copy(
        update={"objective": fresh.solver.lower_bound - 1})})
    result = check_plan(dumps_plan(cheap), cheap, fresh)
    assert not result.matches and result.lines[0].startswith("solver.objective:")


def test_differences_align_records_by_id_and_stop_at_twenty_lines() -> None:
    old = {"pools": [{"id": "a", "n": 1}, {"id": "b", "n": 2}]}
    new = {"pools": [{"id": "b", "n": 3}]}
    assert differences(old, new) == ["pools[a]: only in plan.json",
                                     "pools[b].n: plan.json has 2, the declaration gives 3"]
    many = differences({"x": list(range(30))}, {"x": list(range(1, 31))})
    assert len(many) == 21 and many[-1] == "... and 10 more"
