"""The bad-input corpus (tests/bad_input/cases.toml) through the CLI.

Every case must exit with its code (2 bad input, 4 catalog), print exactly
one line on stderr that names the file (and line and field where the case
has them), print nothing on stdout, show no traceback and write no file.
Each case runs on a private copy of its input inside ``tmp_path`` with the
working directory there too, so any file written anywhere nearby is seen.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.cli import Result, run_cli

CORPUS = Path(__file__).resolve().parents[1] / "bad_input"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "workloads.yaml"
CATALOG_COMMANDS = ("gpus", "import", "validate")


def _tree(root: Path) -> set[tuple[str, int]]:
    """Every file and directory under ``root`` with its size: what 'nothing written' compares."""
    return {(str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1)
            for p in root.rglob("*")}


def _check_error(result: Result, case: dict[str, Any], named: Path) -> None:
    assert result.code == case["exit"], (result.code, result.err)
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and result.err.endswith("\n"), result.err
    line = lines[0]
    assert line.startswith(f"error: {named}"), line
    if "line" in case:
        assert line.startswith(f"error: {named}:{case['line']}: "), line
    else:
        assert line.startswith(f"error: {named}: "), line
    if "field" in case:
        assert f": {case['field']}: " in line, line
    assert case["message"] in line, line


def test_corpus_is_large_enough_and_every_input_has_a_case() -> None:
    workload_files = {c["file"] for c in CASES["workloads"] if "setup" not in c}
    catalog_dirs = {c["dir"] for c in CASES["catalog"] if "setup" not in c}
    assert len(workload_files) + len(catalog_dirs) >= 30
    assert workload_files == {p.name for p in CORPUS.glob("*.yaml")}
    assert catalog_dirs == {p.name for p in (CORPUS / "catalog").iterdir() if p.is_dir()}


def _workload_input(case: dict[str, Any], where: Path) -> Path:
    target = where / case["file"]
    setup = case.get("setup")
    if setup == "directory":
        target.mkdir()
    elif setup != "absent":
        shutil.copyfile(CORPUS / case["file"], target)
    return target


@pytest.mark.parametrize("case", CASES["workloads"], ids=lambda c: c["file"].removesuffix(".yaml"))
def test_bad_workloads_file(case: dict[str, Any], tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = _workload_input(case, tmp_path)
    before = _tree(tmp_path)
    result = run_cli("validate", str(target))
    _check_error(result, case, target)
    assert _tree(tmp_path) == before


def _catalog_params() -> list[Any]:
    return [
        pytest.param(case, command, id=f"{case['dir']}-{command}")
        for case in CASES["catalog"]
        for command in case.get("commands", CATALOG_COMMANDS)
    ]


@pytest.mark.parametrize(("case", "command"), _catalog_params())
def test_bad_catalog_dir(case: dict[str, Any], command: str, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    catalog = tmp_path / "catalog"
    if case.get("setup") == "file":
        catalog.write_text("InstanceType,Price\n")
    elif case.get("setup") != "absent":
        shutil.copytree(CORPUS / "catalog" / case["dir"], catalog,
                        ignore=shutil.ignore_patterns(".keep"))
    out = tmp_path / "out" / "snapshot"
    args = {
        "gpus": ("--catalog", str(catalog), "catalog", "gpus"),
        "import": ("catalog", "import", "--from-skypilot", str(catalog), "--out", str(out)),
        "validate": ("--catalog", str(catalog), "validate", str(EXAMPLE)),
    }[command]
    before = _tree(tmp_path)
    result = run_cli(*args)
    _check_error(result, case, catalog / case["file"] if "file" in case else catalog)
    assert not out.exists()
    assert _tree(tmp_path) == before
