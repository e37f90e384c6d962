"""``--base plan.json`` on the command line: bad bases, --strict on a cut search, --base-ref."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "workloads.yaml"


@pytest.fixture(scope="module")
def base_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base") / "plan.json"
    r = run_cli("plan", str(QUICKSTART), "--out", str(out), "--format", "json")
    assert r.code == 0, r.err
    return out


def _bad(tmp_path: Path, base: Path) -> tuple[int, str, bool]:
    out = tmp_path / "new.json"
    r = run_cli("plan", str(QUICKSTART), "--base", str(base), "--out", str(out))
    return r.code, r.err, out.exists()


@pytest.mark.parametrize("content,field,message", [
    ('{"kind": "something/else"}', None, 'not a gpuplan plan (expected "kind": "gpuplan/plan")'),
    ('{"kind": "gpuplan/plan", "version": 9}', "version", "plan version 9 is newer"),
    ("{not json", None, "not JSON"),
])
def test_a_base_that_is_not_a_usable_plan_is_bad_input(content: str, field: str | None,
                                                       message: str, tmp_path: Path) -> None:
    bad = tmp_path / "base.json"
    bad.write_text(content)
    code, err, written = _bad(tmp_path, bad)
    assert (code, written) == (2, False)
    assert err.count("\n") == 1 and err.startswith(f"error: {bad}") and message in err
    if field:
        assert f": {field}: " in err


def test_a_base_from_another_catalog_is_bad_input(base_plan: Path, tmp_path: Path) -> None:
    data = json.loads(base_plan.read_text())
    data["catalog"]["source"] = "some other catalog"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    code, err, written = _bad(tmp_path, other)
    assert (code, written) == (2, False)
    assert err.count("\n") == 1
    assert err.startswith(f"error: {other}: catalog.source: base plan was made on another catalog")


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
