"""``planner diff``: golden outputs, guardrail exits, bad input, --base-ref."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from planner.plan import dumps_plan
from tests.cli import run_cli
from tests.fixtures.diff import scenarios
from tests.golden import check_golden

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def base_file(tmp_path: Path) -> Path:
    path = tmp_path / "base.json"
    path.write_text(dumps_plan(scenarios.base()))
    return path


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(dumps_plan(scenarios.SCENARIOS[name]()))
    return path


def _relabel(text: str, tmp_path: Path) -> str:
    return text.replace(str(tmp_path) + os.sep, "")


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_golden_diffs(name: str, fmt: str, ext: str, base_file: Path, tmp_path: Path,
                      update_golden: bool) -> None:
    new = _write(tmp_path, name)
    r = run_cli("diff", str(base_file), str(new), "--format", fmt, "--fail-on-increase", "10%",
                "--allow-over-budget")
    check_golden(f"diff/{name}.{ext}", _relabel(r.out, tmp_path), update_golden)
    increase = json.loads(run_cli("diff", str(base_file), str(new), "-f", "json",
                                  "--allow-over-budget").out)["total"]["delta_pct"]
    assert r.code == (3 if float(increase) > 10 else 0), r.err


def test_markdown_has_marker_summary_and_details(base_file: Path, tmp_path: Path) -> None:
    r = run_cli("diff", str(base_file), str(_write(tmp_path, "quota-lowered")), "-f", "md")
    assert r.code == 0, r.err
    first, second = r.out.splitlines()[:2]
    assert first == "<!-- gpuplan-cost-diff -->"
    assert "**Monthly estimate increases by $713 (+14.2%)**" in r.out
    assert "<details>" in r.out and "</details>" in r.out
    assert "| vit-pretrain | research |" in r.out


def test_fail_on_increase_exits_3_and_still_prints(base_file: Path, tmp_path: Path) -> None:
    new = _write(tmp_path, "quota-lowered")  # +14.2%, +$713.23
    r = run_cli("diff", str(base_file), str(new), "--fail-on-increase", "10%")
    assert r.code == 3
    assert "FAIL  fail-on-increase: monthly increase $713.23 (+14.2%) exceeds the limit of 10%" in r.out
    assert r.err.count("\n") == 1 and r.err.startswith("error: guardrail failed: ")
    assert run_cli("diff", str(base_file), str(new), "--fail-on-increase", "15%").code == 0
    assert run_cli("diff", str(base_file), str(new), "--fail-on-increase", "$700").code == 3
    assert run_cli("diff", str(base_file), str(new), "--fail-on-increase", "$800").code == 0


def test_over_budget_team_exits_3(base_file: Path, tmp_path: Path) -> None:
    new = _write(tmp_path, "workload-added")
    r = run_cli("diff", str(base_file), str(new), "-f", "md")
    assert r.code == 3
    assert "❌ **fail** `over-budget`: over budget: product $3,658.61 of $3,000.00" in r.out
    assert "⚠️ over: $3,659 of $3,000 (was within)" in r.out
    assert "product $3,658.61 of $3,000.00" in r.err
    assert run_cli("diff", str(base_file), str(new), "--allow-over-budget").code == 0


def test_bad_threshold_is_a_usage_error(base_file: Path) -> None:
    r = run_cli("diff", str(base_file), str(base_file), "--fail-on-increase", "ten")
    assert r.code == 2 and r.out == ""
    assert r.err == ("error: --fail-on-increase: expected a percent like 10% or an amount like "
                     "$5000, got 'ten'\n")


@pytest.mark.parametrize("content,message", [
    ('{"kind": "something/else"}', 'not a gpuplan plan (expected "kind": "gpuplan/plan")'),
    ('[1, 2]', 'not a gpuplan plan'),
    ('{"kind": "gpuplan/plan", "version": 7}', "plan version 7 is newer than this planner"),
    ('{"kind": "gpuplan/plan", "version": "one"}', "plan version 'one'"),
    ('{"kind": "gpuplan/plan", "version": 1}', "plan version 1 predates whole-node pool costs"),
    ('{"kind": "gpuplan/plan", "version": 2}', "bad.json: catalog: missing required field"),
    ("{not json", "not JSON"),
])
def test_bad_plan_files_exit_2_with_one_line(content: str, message: str, base_file: Path,
                                             tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    r = run_cli("diff", str(base_file), str(bad))
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1 and message in r.err and str(bad) in r.err


def test_old_plan_version_is_refused(base_file: Path, tmp_path: Path) -> None:
    data = json.loads(base_file.read_text())
    data["version"] = 0
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    r = run_cli("diff", str(old), str(base_file))
    assert r.code == 2 and r.err.count("\n") == 1
    assert "version: unknown plan version 0" in r.err


def test_missing_file_and_wrong_arity_exit_2(base_file: Path, tmp_path: Path) -> None:
    r = run_cli("diff", str(base_file), str(tmp_path / "nope.json"))
    assert (r.code, r.err) == (2, f"error: {tmp_path / 'nope.json'}: file not found\n")
    assert run_cli("diff", str(base_file)).code == 2
    assert run_cli("diff", "--base-ref", "HEAD", str(base_file), str(base_file)).code == 2


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_base_ref_reads_the_same_path_from_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "plans").mkdir(parents=True)
    plan = repo / "plans" / "plan.json"
    plan.write_text(dumps_plan(scenarios.base()))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "plans/plan.json")
    _git(repo, "commit", "-q", "-m", "base")
    plan.write_text(dumps_plan(scenarios.region_denied()))
    r = run_cli("diff", "--base-ref", "main", str(plan), "-f", "json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["base"]["label"] == f"{plan} @ main"
    assert d["total"]["delta_monthly"] == "62.3420"
    assert [w["workload"] for w in d["workloads"]] == ["search-ranker"]

    missing = run_cli("diff", "--base-ref", "no-such-branch", str(plan))
    assert missing.code == 2 and missing.out == "" and missing.err.count("\n") == 1
    assert "--base-ref no-such-branch:" in missing.err

    (repo / "plans" / "new.json").write_text(dumps_plan(scenarios.base()))
    absent = run_cli("diff", "--base-ref", "main", str(repo / "plans" / "new.json"))
    assert absent.code == 2 and absent.err.count("\n") == 1 and "new.json" in absent.err


@pytest.mark.parametrize("args", [["--base-ref", "--output=OUT"], ["--base-ref=--output=OUT"],
                                  ["--base-ref", "-pOUT"]])
def test_a_ref_that_looks_like_an_option_is_refused(args: list[str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``git show --output=FILE`` would open FILE for writing: the ref never reaches git."""
    repo = tmp_path / "repo"
    repo.mkdir()
    plan = repo / "plan.json"
    plan.write_text(dumps_plan(scenarios.base()))
    _git(repo, "init", "-q", "-b", "main")
    out = tmp_path / "written-by-git"
    ran: list[list[str]] = []
    monkeypatch.setattr("planner.cli.diff_cmd.subprocess.run",
                        lambda argv, **kw: ran.append(argv))
    r = run_cli("diff", *[a.replace("OUT", str(out)) for a in args], str(plan))
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1
    assert r.err.startswith("error: --base-ref: not a git ref: '-")
    assert ran == [] and not out.exists()


def test_git_reads_the_ref_after_end_of_options(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    from planner.cli.diff_cmd import git_show

    seen: list[list[str]] = []

    def fake_run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, "text", "")

    monkeypatch.setattr("planner.cli.diff_cmd.subprocess.run", fake_run)
    assert git_show("origin/main", tmp_path / "plan.json") == "text"
    assert seen[0][-2:] == ["--end-of-options", "origin/main:./plan.json"]


def test_workloads_files_are_planned_with_the_catalog() -> None:
    pytest.importorskip("planner.optimize.planning")
    example = REPO / "examples" / "quickstart" / "workloads.yaml"
    r = run_cli("diff", str(example), str(example), "--allow-over-budget")
    assert r.code == 0, r.err
    assert "Monthly estimate does not change" in r.out and "No changes." in r.out


def test_report_url_links_the_report_under_the_summary(base_file: Path, tmp_path: Path) -> None:
    new = _write(tmp_path, "quota-lowered")
    url = "https://github.com/o/r/actions/runs/7/artifacts/9"
    with_link = run_cli("diff", str(base_file), str(new), "--format", "md", "--report-url", url)
    without = run_cli("diff", str(base_file), str(new), "--format", "md")
    assert with_link.code == without.code
    lines = with_link.out.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("**Monthly estimate"))
    assert lines[summary + 2].startswith(f"📊 [Cost report](<{url}>)")
    # the link (and the blank line after it) is the only difference
    assert with_link.out.replace(lines[summary + 2] + "\n\n", "", 1) == without.out


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "md", "--report-url", "javascript:alert(1)"], "not an http(s) URL"),
    (["--format", "md", "--report-url", "https://x/a b"], "not an http(s) URL"),
    (["--format", "md", "--report-url", "https://x/<b>"], "not an http(s) URL"),
    (["--report-url", "https://x/r.html"], "needs --format md"),
])
def test_a_bad_report_url_is_one_line_exit_2(base_file: Path, tmp_path: Path, args: list[str],
                                             message: str) -> None:
    result = run_cli("diff", str(base_file), str(_write(tmp_path, "quota-lowered")), *args)
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and message in result.err, result.err
