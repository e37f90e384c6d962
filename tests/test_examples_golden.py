"""Every example's plan (examples/<name>/plan.json) and its text and markdown renderings
are golden: `pytest --update-golden` rewrites them and the diff is reviewed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.golden import check_golden

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/workloads.yaml"))


def test_all_examples_found() -> None:
    assert {"quickstart", "multi-team", "burst", "deadline"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_plan_json(name: str, update_golden: bool, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = run_cli("plan", str(EXAMPLES / name / "workloads.yaml"), "--out", str(out),
                     "--format", "json")
    assert result.code == 0, result.err
    assert out.read_text() == result.out
    expected = EXAMPLES / name / "plan.json"
    if update_golden:
        expected.write_text(result.out)
    assert expected.exists(), f"{expected} missing; run pytest --update-golden"
    assert result.out == expected.read_text(), f"{name}: plan changed; review, --update-golden"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", ["table", "md"])
def test_example_plan_renderings(name: str, fmt: str, update_golden: bool) -> None:
    result = run_cli("plan", str(EXAMPLES / name / "workloads.yaml"), "--format", fmt)
    assert result.code == 0, result.err
    check_golden(f"plan/{name}.{'txt' if fmt == 'table' else 'md'}", result.out, update_golden)


def test_skypilot_task_plans() -> None:
    result = run_cli("plan", str(EXAMPLES / "skypilot-task" / "task.yaml"), "--format", "json")
    assert result.code == 0, result.err
    assert '"workload": "bert-finetune"' in result.out
    assert '"capacity": "spot"' in result.out  # use_spot: true means spot only
