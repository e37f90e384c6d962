"""``--base plan.json`` on the command line: bad bases and bad ``stability`` values, --strict
on a cut search, --base-ref."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "workloads.yaml"
CORPUS = REPO / "tests" / "bad_input"


@pytest.fixture(scope="module")
def base_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base") / "plan.json"
    r = run_cli("plan", str(QUICKSTART), "--out", str(out), "--format", "json")
    assert r.code == 0, r.err
    return out


def _tree(root: Path) -> set[tuple[str, int]]:
    """Every file under ``root`` with its size: what 'nothing written' compares."""
    return {(str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def _one_line_error(err: str, named: Path, field: str | None, message: str) -> None:
    """Exactly one stderr line, naming the file (and the field), with the message."""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"error: {named}"), err
    if field:
        assert f": {field}: " in err, err
    assert message in err, err


def _not_a_plan(tmp_path: Path, good: Path) -> Path:
    bad = tmp_path / "not-a-plan.json"
    bad.write_text('{"kind": "something/else"}')
    return bad


def _not_json(tmp_path: Path, good: Path) -> Path:
    bad = tmp_path / "not-json.json"
    bad.write_text("{not json")
    return bad


def _edited(name: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Path, Path], Path]:
    """A base that is the good plan with one edit (so only that edit can be refused)."""

    def make(tmp_path: Path, good: Path) -> Path:
        data = json.loads(good.read_text())
        edit(data)
        bad = tmp_path / name
        bad.write_text(json.dumps(data))
        return bad

    return make


_newer = _edited("newer.json", lambda d: d.update(version=9))
_other_catalog = _edited("other-catalog.json",
                         lambda d: d["catalog"].update(source="some other catalog"))

BAD_BASES = {
    "not-a-plan": (_not_a_plan, None, 'not a gpuplan plan (expected "kind": "gpuplan/plan")'),
    "not-json": (_not_json, None, "not JSON"),
    "newer-version": (_newer, "version", "plan version 9 is newer than this planner"),
    "other-catalog": (_other_catalog, "catalog.source", "base plan was made on another catalog"),
}


def _command(name: str, good: Path, base: Path, out: Path) -> list[str]:
    """Each command that takes ``--base``, planning the quickstart against ``base``."""
    return {
        "plan": ["plan", str(QUICKSTART), "--base", str(base), "--out", str(out)],
        "diff": ["diff", str(good), str(QUICKSTART), "--base", str(base), "-f", "json"],
        "explain": ["explain", str(good), "--what-if", "budget:research=-50%",
                    "--base", str(base)],
        "preview": ["preview", "--plan", str(QUICKSTART), "--base", str(base), "-f", "json"],
    }[name]


@pytest.mark.parametrize("command", ["plan", "diff", "explain", "preview"])
@pytest.mark.parametrize("kind", sorted(BAD_BASES))
def test_a_base_that_is_not_a_usable_plan_is_bad_input(
        kind: str, command: str, base_plan: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command with ``--base`` refuses an unusable base the same way: exit 2, one
    line naming the base file (and the field), nothing on stdout, nothing written."""
    if command == "preview":
        pytest.importorskip("pulumi")
        monkeypatch.chdir(REPO)  # preview runs in the Pulumi project
    make, field, message = BAD_BASES[kind]
    bad = make(tmp_path, base_plan)
    out = tmp_path / "new.json"
    before = _tree(tmp_path)
    r = run_cli(*_command(command, base_plan, bad, out))
    assert r.code == 2, (r.code, r.err)
    assert r.out == ""
    _one_line_error(r.err, bad, field, message)
    assert _tree(tmp_path) == before


STABILITY_CASES = [c for c in tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))["workloads"]
                   if c["file"].startswith("stability_")]


@pytest.mark.parametrize("with_base", [False, True], ids=["fresh", "with-base"])
@pytest.mark.parametrize("case", STABILITY_CASES, ids=lambda c: c["file"].removesuffix(".yaml"))
def test_a_stability_value_out_of_range_is_bad_input_to_plan(
        case: dict[str, Any], with_base: bool, base_plan: Path, tmp_path: Path) -> None:
    """``planner plan FILE --out plan.json`` (with and without ``--base``) on the corpus's
    stability cases: exit 2, one line naming the file, line and field, nothing written."""
    spec = tmp_path / case["file"]
    shutil.copyfile(CORPUS / case["file"], spec)
    out = tmp_path / "out" / "plan.json"
    base = ["--base", str(base_plan)] if with_base else []
    before = _tree(tmp_path)
    r = run_cli("plan", str(spec), *base, "--out", str(out))
    assert r.code == case["exit"] == 2, (r.code, r.err)
    assert r.out == ""
    _one_line_error(r.err, spec, case["field"], case["message"])
    assert r.err.startswith(f"error: {spec}:{case['line']}: {case['field']}: "), r.err
    assert _tree(tmp_path) == before and not out.parent.exists()


EXTRA_JOB = ("  - name: extra-job\n    team: research\n    resources: {accelerators: T4:1}\n"
             "    work: {duration_hours: 3}\n")


def test_a_base_naming_gone_workloads_is_fine(tmp_path: Path) -> None:
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(QUICKSTART.read_text() + EXTRA_JOB)
    base = tmp_path / "base.json"
    assert run_cli("plan", str(bigger), "--out", str(base), "--format", "json").code == 0
    r = run_cli("plan", str(QUICKSTART), "--base", str(base), "--format", "json")
    assert r.code == 0, r.err
    plan = json.loads(r.out)
    assert plan["stability"]["missing"] == ["extra-job"]
    assert plan["stability"]["moves"] == []
    d = run_cli("diff", str(base), str(QUICKSTART), "--base", str(base), "-f", "text")
    assert "no longer declared: extra-job" in d.out


def test_strict_fails_when_the_safety_net_cuts_the_search(tmp_path: Path) -> None:
    """A safety net too short for the search: the plan says so, and --strict exits 3
    writing nothing (the same command without --strict writes the plan)."""
    import planner.optimize.planning as planning
    from planner.optimize.search import Limits

    real = planning.Limits

    def tiny(**kw: float) -> Limits:
        return real(**{**kw, "safety_s": 1e-9})

    out = tmp_path / "plan.json"
    contended = REPO / "examples" / "multi-team" / "workloads.yaml"  # more than presolve solves
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(planning, "Limits", tiny)
        strict = run_cli("plan", str(contended), "--strict", "--out", str(out))
        loose = run_cli("plan", str(contended), "--format", "json")
    assert strict.code == 3 and not out.exists()
    assert "cut by the" in strict.err and "safety net" in strict.err
    plan = json.loads(loose.out)
    assert plan["solver"]["cut_by_time_limit"] is True
    assert "safety net" in plan["solver"]["status"]


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_base_ref_uses_the_committed_plan(base_plan: Path, tmp_path: Path) -> None:
    """With a plan.json committed next to workloads.yaml, --base-ref diffs against that
    plan and plans the new workloads.yaml against it: one added job, one line."""
    repo = tmp_path / "repo"
    repo.mkdir()
    spec = repo / "workloads.yaml"
    spec.write_text(QUICKSTART.read_text())
    (repo / "plan.json").write_text(base_plan.read_text())
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "workloads.yaml", "plan.json")
    _git(repo, "commit", "-q", "-m", "base")
    spec.write_text(QUICKSTART.read_text() + EXTRA_JOB)
    r = run_cli("diff", "--base-ref", "main", str(spec), "-f", "json", "--allow-over-budget")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["base"]["label"] == f"{repo / 'plan.json'} @ main"
    assert [(w["workload"], w["change"]) for w in d["workloads"]] == [("extra-job", "added")]
    assert d["stability"]["moves"] == 0


def test_explain_what_if_and_the_stack_plan_against_a_base(base_plan: Path) -> None:
    """explain --what-if --base re-solves against the base; --base alone is a usage error;
    the stack's gpuplan:basePlan plans its workloads against the base too."""
    what_if = ["explain", str(base_plan), "--what-if", "budget:research=-50%", "-f", "json"]
    anchored = run_cli(*what_if, "--base", str(base_plan))
    assert anchored.code == 0, anchored.err
    fresh = run_cli(*what_if)
    assert len(json.loads(anchored.out)["what_if"]["moved"]) <= len(
        json.loads(fresh.out)["what_if"]["moved"])
    alone = run_cli("explain", str(base_plan), "--base", str(base_plan))
    assert alone.code == 2 and "--what-if" in alone.err

    pytest.importorskip("pulumi")
    from components.program.stack import StackConfig, load_plan

    plan = load_plan(StackConfig(workloads=str(QUICKSTART), base_plan=str(base_plan)))
    assert plan.stability is not None and plan.stability.moves == ()
    assert json.loads(base_plan.read_text())["placements"] == json.loads(
        __import__("planner.plan").plan.dumps_plan(plan))["placements"]
