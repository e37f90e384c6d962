"""The CLI's error table: one line and the right exit code; --debug shows the traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli

BAD = "teams: {a: {}}\nworkloads:\n  - name: x\n    team: a\n" \
      "    resources: {accelerators: A1OO:8}\n    work: {duration_hours: 1}\n"


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "w.yaml"
    spec.write_text(BAD)
    result = run_cli("plan", str(spec), "--out", str(tmp_path / "plan.json"))
    assert result.code == 2
    assert result.err.strip().splitlines()[-1] == (
        f"error: {spec}:5: workloads[0].resources.accelerators: unknown accelerator 'A1OO' "
        "(did you mean 'A100'?)")
    assert "Traceback" not in result.err
    assert not (tmp_path / "plan.json").exists()


@pytest.mark.parametrize("where", ["first", "last"])
def test_debug_anywhere_raises_the_error(tmp_path: Path, where: str) -> None:
    from planner.errors import SpecError

    spec = tmp_path / "w.yaml"
    spec.write_text(BAD)
    args = ["plan", str(spec)]
    args = ["--debug", *args] if where == "first" else [*args, "--debug"]
    with pytest.raises(SpecError):
        run_cli(*args)


def test_unknown_option_is_usage_error() -> None:
    result = run_cli("plan", "--no-such-flag", "x.yaml")
    assert result.code == 2
    assert "No such option" in result.err and "planner plan --help" in result.err


def test_no_arguments_prints_help() -> None:
    result = run_cli()
    assert result.code == 0
    assert "planner plan examples/quickstart/workloads.yaml" in result.out


def test_catalog_option_after_the_command(skypilot_dir: Path) -> None:
    before = run_cli("--catalog", str(skypilot_dir), "catalog", "gpus", "--format", "json")
    after = run_cli("catalog", "gpus", "--catalog", str(skypilot_dir), "--format", "json")
    assert after.code == before.code == 0, after.err
    assert after.out == before.out
    assert '"source": "skypilot-catalog v8 directory' in after.out


def test_hoist_keeps_everything_else_in_order() -> None:
    from planner.cli.app import hoist_global_options

    assert hoist_global_options(["plan", "w.yaml", "--catalog", "D", "--out", "p", "--debug"]) \
        == ["--catalog", "D", "--debug", "plan", "w.yaml", "--out", "p"]
    assert hoist_global_options(["x", "--", "--catalog", "D"]) == ["x", "--", "--catalog", "D"]


@pytest.mark.parametrize("module", ["planner", "planner.cli.app"])
def test_python_dash_m_runs(module: str) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", module, "catalog", "gpus", "--format", "json"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert '"accelerator": "A100"' in out.stdout


def test_strict_failure_writes_nothing(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    out = tmp_path / "plan.json"
    result = run_cli("plan", str(examples / "multi-team" / "workloads.yaml"), "--strict",
                     "--out", str(out))
    assert result.code == 3
    assert "could not be placed: detector-train" in result.err
    assert not out.exists()


def test_plan_file_is_readable_by_others(tmp_path: Path) -> None:
    import os
    import stat

    examples = Path(__file__).resolve().parent.parent / "examples"
    out = tmp_path / "plan.json"
    old = os.umask(0o022)
    try:
        assert run_cli("plan", str(examples / "deadline" / "workloads.yaml"), "--out",
                       str(out)).code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_plan_runs_without_the_cycle_collector_and_restores_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading and planning run with CPython's cycle collector off (it traversed the
    planner's millions of long-lived objects again and again); it is back on after,
    also when planning fails."""
    import gc

    from planner.optimize import planning

    seen: list[bool] = []
    real = planning.plan_workloads

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(planning, "plan_workloads", recording)
    examples = Path(__file__).resolve().parent.parent / "examples"
    assert gc.isenabled()
    assert run_cli("plan", str(examples / "deadline" / "workloads.yaml"), "--out",
                   str(tmp_path / "plan.json")).code == 0
    assert seen == [False] and gc.isenabled()

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(planning, "plan_workloads", failing)
    assert run_cli("plan", str(examples / "deadline" / "workloads.yaml")).code == 1
    assert gc.isenabled()
