"""Loading workload files: line numbers in errors, SkyPilot tasks, the examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import SpecError
from planner.spec.load import load_workloads, parse_workloads, task_field
from planner.spec.resources import AcceleratorChoice, AmountRequest
from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

THREE = """\
version: 1
teams:
  ml: {}
workloads:
  - name: one
    team: ml
    resources: {accelerators: T4:1}
    work: {duration_hours: 1}
  - name: two
    team: ml
    resources: {accelerators: L4:1}
    work: {duration_hours: 1}
  - name: three
    team: ml
    resources:
      cpus: 8+
      accelerators: A1OO:8
    work:
      gpu_hours: 10
"""


def _error(text: str, catalog=None) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as info:
        parse_workloads(text, "workloads.yaml", catalog)
    return str(info.value)


def test_design_example_error_line(embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    assert _error(THREE, embedded_catalog) == (
        "workloads.yaml:17: workloads[2].resources.accelerators: "
        "unknown accelerator 'A1OO' (did you mean 'A100'?)")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      cpus: 8+", "      cpus: eight", "workloads.yaml:16: workloads[2].resources.cpus: "),
    ("      gpu_hours: 10", "      gpu_hours: -1", "workloads.yaml:19: workloads[2].work.gpu_hours: "),
    ("  - name: two", "  - name: one", "workloads.yaml:9: workloads[1].name: duplicate workload"),
    ("    team: ml\n    resources: {accelerators: L4:1}",
     "    team: ops\n    resources: {accelerators: L4:1}",
     "workloads.yaml:10: workloads[1].team: unknown team 'ops'"),
    ("    work: {duration_hours: 1}\n  - name: two",
     "    work: {duration_hours: 1, gpu_hour: 2}\n  - name: two",
     "workloads.yaml:8: workloads[0].work.gpu_hour: unknown field 'gpu_hour' "
     "(did you mean 'gpu_hours'?)"),
])
def test_errors_name_the_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in THREE
    assert _error(THREE.replace(old, new, 1)).startswith(expected)


def test_x_keys_hold_anchors_that_merge_keys_reuse() -> None:
    text = """\
teams: {ml: {}}
x-gpu8: &gpu8
  team: ml
  resources: {accelerators: A100:8}
  work: {duration_hours: 4}
workloads:
  - <<: *gpu8
    name: a
  - <<: *gpu8
    name: b
    work: {duration_hours: 2}
"""
    ws = parse_workloads(text, "w.yaml")
    a, b = ws.workloads
    assert a.resources.choices == b.resources.choices == (AcceleratorChoice(0, "A100", 8.0),)
    assert a.work is not None and a.work.duration_hours == 4
    assert b.work is not None and b.work.duration_hours == 2


def test_skypilot_task_example_becomes_one_workload() -> None:
    ws = load_workloads(EXAMPLES / "skypilot-task" / "task.yaml")
    [w] = ws.workloads
    assert (w.name, w.team, w.kind, w.num_nodes, w.topology.type) == (
        "bert-finetune", "default", "training", 1, "single")
    assert list(ws.teams) == ["default"]
    assert w.resources.choices == (AcceleratorChoice(0, "A100", 1.0), AcceleratorChoice(0, "V100", 1.0))
    assert w.resources.cpu_request == AmountRequest(8.0, at_least=True)
    assert w.resources.spot_policy == "only"
    assert w.env == {"MODEL": "bert-large-uncased", "EPOCHS": "3"}
    assert w.command == ("bash", "-c", "pip install -r requirements.txt\n"
                         "python finetune.py --model $MODEL --epochs $EPOCHS")
    assert w.work is not None and w.work.duration_hours == 4


def test_skypilot_multi_node_task_is_ddp_with_default_work() -> None:
    ws = parse_workloads("name: big\nnum_nodes: 4\nresources: {accelerators: H100:8}\n"
                         "run: torchrun train.py\n", "task.yaml")
    [w] = ws.workloads
    assert (w.num_nodes, w.topology.type) == (4, "ddp")
    assert w.work is not None and w.work.duration_hours == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("name: t\nresources:\n  accelerators: A100:1\n  cpus: many\nrun: x\n",
     "task.yaml:4: resources.cpus: cpus must look like 8 or 8+"),
    ("name: t\nresources: {accelerators: A100:1}\nenvs: {A: 1}\nworkload:\n  deadline_hours: -3\n"
     "run: x\n", "task.yaml:5: workload.deadline_hours: must be greater than 0"),
    ("name: Bad_Name\nresources: {accelerators: A100:1}\nrun: x\n",
     "task.yaml:1: name: must be lowercase letters"),
    ("name: t\nnum_nodes: 0\nrun: x\n", "task.yaml:2: num_nodes: must be at least 1"),
])
def test_skypilot_task_errors_use_the_task_paths(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_workloads(text, "task.yaml")
    assert str(info.value).startswith(expected), str(info.value)


@pytest.mark.parametrize(("inner", "outer"), [
    ("workloads[0].resources.cpus", "resources.cpus"),
    ("workloads[0].env.A", "envs.A"),
    ("workloads[0].work.gpu_hours", "workload.work.gpu_hours"),
    ("workloads[0].num_nodes", "num_nodes"),
    ("teams", "teams"),
    (None, None),
])
def test_task_field_mapping(inner: str | None, outer: str | None) -> None:
    assert task_field(inner) == outer


def _example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*/workloads.yaml")) + [EXAMPLES / "skypilot-task" / "task.yaml"]


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.parent.name)
def test_validate_examples(path: Path) -> None:
    result = run_cli("validate", str(path))
    assert (result.code, result.err) == (0, "")
    ws = load_workloads(path)
    assert result.out == (f"{path}: ok ({len(ws.workloads)} workloads, {len(ws.teams)} teams, "
                          f"{len(ws.quotas)} quotas, {len(ws.clusters)} clusters)\n")


def test_validate_quickstart_counts() -> None:
    result = run_cli("validate", str(EXAMPLES / "quickstart" / "workloads.yaml"))
    assert result.code == 0
    assert "ok (5 workloads, 2 teams, 0 quotas, 0 clusters)" in result.out
