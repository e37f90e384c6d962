"""The CLI's error table: one line and the right exit code; --debug shows the traceback."""

from __future__ import annotations

from pathlib import Path

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
