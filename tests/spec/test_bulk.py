"""Validating many workloads at once: equal parts validated once give the same WorkloadSet."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.spec.bulk import part_key, with_shared_parts
from planner.spec.model import WorkloadSet
from planner.spec.yamlsrc import load_yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in REPO.glob("examples/*/workloads.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_shared_parts_validate_to_the_same_set(path: Path) -> None:
    data, _ = load_yaml(path.read_text("utf-8"), str(path))
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    assert WorkloadSet.model_validate(with_shared_parts(data)) == WorkloadSet.model_validate(data)


def test_equal_parts_are_one_instance_and_different_types_are_not() -> None:
    work = {"duration_hours": 2}
    data = {"teams": {"ml": {}}, "workloads": [
        {"name": f"w{i}", "team": "ml", "resources": {"accelerators": "A100:8"}, "work": dict(work)}
        for i in range(3)] + [
        {"name": "f", "team": "ml", "resources": {"accelerators": "A100:8"},
         "work": {"duration_hours": 2.0}}]}
    ws = WorkloadSet.model_validate(with_shared_parts(data))
    assert len({id(w.resources) for w in ws.workloads}) == 1
    assert len({id(w.work) for w in ws.workloads}) == 2  # 2 and 2.0 are validated apart
    assert ws == WorkloadSet.model_validate(data)


@pytest.mark.parametrize(("a", "b"), [({"x": 1}, {"x": True}), ({"x": 0.0}, {"x": -0.0}),
                                      ({"x": [1]}, {"x": [1.0]}), ({"x": 1}, {"y": 1})])
def test_parts_that_validate_differently_have_different_keys(a: dict[str, object],
                                                             b: dict[str, object]) -> None:
    assert part_key(a) != part_key(b)


def test_a_bad_part_is_left_for_the_full_validation_to_report() -> None:
    data = {"teams": {"ml": {}}, "workloads": [
        {"name": "a", "team": "ml", "resources": {"accelerators": "A100:-1"}}]}
    shared = with_shared_parts(data)
    assert shared["workloads"][0]["resources"] == {"accelerators": "A100:-1"}
