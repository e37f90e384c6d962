"""GPU sharing in the declaration: every form resolves to one SharedRequest; bad input is
one line, exit 2, and ``planner plan --out`` writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from planner.errors import SpecError
from planner.spec.load import parse_workloads
from planner.spec.sharing import parse_gpu_memory
from tests.cli import run_cli

CORPUS = Path(__file__).resolve().parents[1] / "bad_input"


def _one(resources: str, extra: str = "", top: str = "") -> str:
    return (f"teams: {{a: {{}}}}\n{top}workloads:\n"
            f"  - {{name: w, team: a, kind: service, resources: {resources}{extra}}}\n")


@pytest.mark.parametrize(("resources", "extra", "expected"), [
    ('{accelerators: "A100:0.25"}', "", (None, None, None, "none")),
    ("{accelerators: A100, gpu: {fraction: 0.5, isolation: hard, compute: hard}}", "",
     (0.5, None, None, "hard")),
    ("{gpu: {memory: 8GiB, isolation: none}}", "", (None, 8.0, None, "none")),
    ("{gpu: {memory: 512MiB}}", "", (None, 0.5, None, "none")),
    ("{gpu: {mig: 1g.10gb}}", "", (None, None, "1g.10gb", "none")),
    ("{accelerators: A100}", ", gpu_fraction: 0.25", (0.25, None, None, "none")),
    ("{accelerators: A100}", ", mig_profile: 1g.5gb", (None, None, "1g.5gb", "none")),
])
def test_every_form_resolves_to_one_request(resources: str, extra: str,
                                            expected: tuple[object, ...]) -> None:
    ws = parse_workloads(_one(resources, extra), "w.yaml")
    req = ws.workloads[0].shared
    assert req is not None
    assert (req.fraction, req.memory_gib, req.mig, req.isolation) == expected


def test_a_count_below_one_is_that_choices_fraction() -> None:
    ws = parse_workloads(_one('{accelerators: {"A100": 0.25, "L4": 0.5}}'), "w.yaml")
    req = ws.workloads[0].shared
    assert req is not None
    assert [req.fraction_for(c.count) for c in ws.workloads[0].resources.choices] == [0.25, 0.5]


def test_whole_gpus_are_not_shared() -> None:
    ws = parse_workloads(_one("{accelerators: A100:2}"), "w.yaml")
    assert ws.workloads[0].shared is None


def test_sharing_off_lets_hard_isolation_take_whole_gpus() -> None:
    """``allow: []`` switches sharing off: no mode is missing, so no error."""
    ws = parse_workloads(_one("{accelerators: A100, gpu: {fraction: 0.5, isolation: hard}}",
                              top="sharing: {allow: []}\n"), "w.yaml")
    assert ws.sharing.allow == ()


TS_ONLY = "sharing: {allow: [time-slicing]}\n"


@pytest.mark.parametrize(("resources", "extra", "top", "message"), [
    ("{gpu: {mig: 1g.5gb, memory: 4GiB}}", "", "", "give a MIG profile or a memory/fraction"),
    ('{accelerators: "A100:0.5", gpu: {fraction: 0.5}}', "", "", "give the share once"),
    ("{accelerators: A100, gpu: {fraction: 0.5}}", ", gpu_fraction: 0.5", "",
     "give the fraction once"),
    ("{gpu: {memory: 8GB}}", "", "", "write GiB"),
    ("{gpu: {memory: 2048GiB}}", "", "", "more memory than any GPU has"),
    ('{accelerators: "A100:0.5"}', ", num_nodes: 2, topology: {type: ddp}", "",
     "a shared GPU request runs on one node"),
    ("{gpu: {mig: 1g.5gb}}", "", TS_ONLY, "needs mig in sharing.allow"),
    ("{gpu: {memory: 4GiB, compute: hard}}", "", TS_ONLY, "compute 'hard' needs mps or mig"),
])
def test_contradictions_are_bad_input(resources: str, extra: str, top: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_workloads(_one(resources, extra, top), "w.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("w.yaml:")


def test_gpu_memory_units() -> None:
    assert parse_gpu_memory("8GiB") == 8.0
    assert parse_gpu_memory("8Gi") == 8.0
    assert parse_gpu_memory("2560MiB") == 2.5
    assert parse_gpu_memory(3) == 3.0
    with pytest.raises(ValueError):
        parse_gpu_memory("0GiB")


@pytest.mark.parametrize("name", [
    "sharing_unknown_mig_profile.yaml", "sharing_fraction_zero.yaml",
    "sharing_fraction_above_one.yaml", "sharing_count_fraction_above_one.yaml",
    "sharing_hard_isolation_time_slicing_only.yaml", "sharing_too_many_clients.yaml",
])
def test_plan_writes_nothing_on_bad_sharing_input(name: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's bad-input list through ``planner plan --out``: one line, exit 2, no file."""
    source = tmp_path / name
    shutil.copy(CORPUS / name, source)
    monkeypatch.chdir(tmp_path)
    result = run_cli("plan", str(source), "--out", str(tmp_path / "out" / "plan.json"))
    assert result.code == 2, result.err
    assert result.out == ""
    assert len(result.err.splitlines()) == 1 and result.err.startswith(f"error: {source}:")
    assert "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == [name]
