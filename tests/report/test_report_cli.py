"""``planner report``: golden HTML for every example and a diff, byte stability, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.golden import check_golden

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/plan.json"))
DIFF = REPO / "tests" / "fixtures" / "diff" / "multi-team"


def report(*args: str) -> str:
    result = run_cli("report", *args)
    assert result.code == 0, result.err
    return result.out


def test_every_example_has_a_plan() -> None:
    assert {"quickstart", "multi-team", "burst", "deadline"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_report_is_golden(name: str, update_golden: bool) -> None:
    html = report(str(EXAMPLES / name / "plan.json"))
    check_golden(f"report/{name}.html", html, update_golden)


def test_diff_report_with_constraint_values_is_golden(update_golden: bool) -> None:
    """The base plans the same workloads with more A100 quota: a move, a pool added, a
    binding quota and budget whose next step is priced by re-solving."""
    html = report(str(DIFF / "quota-lowered.yaml"), "--base", str(DIFF / "base.yaml"),
                  "--constraints")
    assert "What changes" in html and "would save" in html
    check_golden("report/multi-team-quota-lowered.html", html, update_golden)


def test_the_same_plan_gives_the_same_bytes(tmp_path: Path) -> None:
    plan = EXAMPLES / "multi-team" / "plan.json"
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert run_cli("report", str(plan), "--out", str(first)).code == 0
    assert run_cli("report", str(plan), "--out", str(second)).code == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text("utf-8") == report(str(plan))


@pytest.mark.parametrize("name", NAMES)
def test_the_page_is_self_contained(name: str) -> None:
    """No script, no URL other than the SVG namespace, no external stylesheet or image."""
    html = report(str(EXAMPLES / name / "plan.json"))
    assert "<script" not in html.lower()
    urls = set(re.findall(r"""(?:https?:|//)[^\s"'<>)]+""", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert not re.search(r"""\b(?:src|href)\s*=""", html)
    assert "@import" not in html and "url(" not in html


def test_a_diff_against_a_git_ref(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    spec = tmp_path / "workloads.yaml"
    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    spec.write_text((DIFF / "base.yaml").read_text())
    git("add", ".")
    git("commit", "-qm", "base")
    spec.write_text((DIFF / "quota-lowered.yaml").read_text())
    html = report(str(spec), "--base-ref", "HEAD")
    assert "Compared with: workloads.yaml @ HEAD" in html
    assert "Monthly estimate increases" in html


@pytest.mark.parametrize(("args", "message"), [
    (["{missing}"], "file not found"),
    (["{not_a_plan}"], "not a gpuplan plan"),
    (["{plan}", "--out", "{tmp}/no/such/dir/report.html"], "does not exist"),
    (["{plan}", "--base", "{missing}"], "file not found"),
    (["{plan}", "--base", "{plan}", "--base-ref", "HEAD"], "not both"),
    (["{plan}", "--base-ref", "--output={tmp}/written-by-git"], "--base-ref: not a git ref: '-"),
    (["{plan}", "--format", "pdf"], "--format"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
        tmp_path: Path, args: list[str], message: str) -> None:
    not_a_plan = tmp_path / "other.json"
    not_a_plan.write_text('{"kind": "something/else", "version": 1}\n')
    out = tmp_path / "report.html"
    values = {"missing": str(tmp_path / "nope.json"), "not_a_plan": str(not_a_plan),
              "plan": str(EXAMPLES / "quickstart" / "plan.json"), "tmp": str(tmp_path)}
    argv = [a.format(**values) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(out)]
    result = run_cli("report", *argv)
    assert result.code == 2, result.err
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["other.json"]


def test_github_actions_uploads_the_report_and_links_it_from_the_comment() -> None:
    import typer
    import yaml

    from planner.cli.app import app

    flow = yaml.safe_load((EXAMPLES / "github-actions" / ".github" / "workflows" /
                           "gpuplan.yml").read_text())
    steps = flow["jobs"]["cost-diff"]["steps"]
    runs = [s.get("run", "") for s in steps]
    report = next(i for i, r in enumerate(runs) if "planner report" in r)
    [upload] = [i for i, s in enumerate(steps) if s.get("uses", "").startswith(
        "actions/upload-artifact") and s["with"]["path"] == "report.html"]
    diff = next(i for i, r in enumerate(runs) if "planner diff" in r and "--format md" in r)
    assert report < upload < diff
    assert "--out report.html" in runs[report] and "--base-ref" in runs[report]
    link = f'--report-url "${{{{ steps.{steps[upload]["id"]}.outputs.artifact-url }}}}"'
    assert link in runs[diff]
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, flags in (("report", ("--out", "--base-ref")), ("diff", ("--report-url",))):
        options = {o for p in commands[name].params for o in [*p.opts, *p.secondary_opts]}
        assert set(flags) <= options
