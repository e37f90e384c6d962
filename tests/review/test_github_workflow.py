"""The GitHub Actions example, read as data: PRs check, diff and preview the committed plan;
merge deploys that plan and never plans again (issue 19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "examples" / "github-actions"


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "gpuplan.yml").read_text())
    assert isinstance(data, dict)
    return data


def _index(steps: list[dict[str, Any]], pred: Any) -> int:
    found = [i for i, s in enumerate(steps) if pred(s)]
    assert len(found) == 1, found
    return found[0]


def _run(step: dict[str, Any]) -> str:
    return str(step.get("run", ""))


def test_plan_json_is_committed_and_triggers_both_jobs(flow: dict[str, Any]) -> None:
    triggers = flow.get("on") or flow[True]  # YAML 1.1 reads the key `on` as True
    assert flow["env"]["PLAN"] == "plan.json"
    for event in ("pull_request", "push"):
        assert {"workloads.yaml", "plan.json"} <= set(triggers[event]["paths"])


def test_the_pr_job_checks_then_diffs_then_previews_then_comments(flow: dict[str, Any]) -> None:
    steps = flow["jobs"]["cost-diff"]["steps"]
    install = _index(steps, lambda s: "pip install ." in _run(s))
    check = _index(steps, lambda s: "planner plan" in _run(s))
    diff = _index(steps, lambda s: "planner diff" in _run(s))
    preview = _index(steps, lambda s: "pulumi preview --json" in _run(s))
    comment = _index(steps, lambda s: str(s.get("uses", "")).startswith("actions/github-script"))
    guard = _index(steps, lambda s: "exit 3" in _run(s))
    assert install < check < diff < preview < comment < guard
    assert _run(steps[check]).strip().splitlines() == [
        'git show "origin/${{ github.base_ref }}:$PLAN" > base-plan.json',
        '.venv/bin/planner plan "$WORKLOADS" --check "$PLAN" --base base-plan.json']
    assert 'planner diff --base-ref "origin/${{ github.base_ref }}" "$PLAN"' in _run(steps[diff])
    # The preview is priced into the same comment, and runs only where credentials are set.
    assert "planner cost pulumi-preview preview.json --format md >> comment.md" in \
        _run(steps[preview])
    assert '--config "gpuplan:plan=$PLAN"' in _run(steps[preview])
    logins = [s for s in steps if str(s.get("uses", "")).split("@")[0] in (
        "aws-actions/configure-aws-credentials", "google-github-actions/auth", "azure/login",
        "pulumi/actions")]
    assert len(logins) == 4
    for step in [*logins, steps[preview]]:
        assert step["if"] == "env.PREVIEW == 'true'"
    assert "secrets.PULUMI_ACCESS_TOKEN != ''" in flow["jobs"]["cost-diff"]["env"]["PREVIEW"]


def test_the_pr_job_never_writes_the_plan_it_reviews(flow: dict[str, Any]) -> None:
    for step in flow["jobs"]["cost-diff"]["steps"]:
        run = _run(step)
        assert "--out plan.json" not in run and '--out "$PLAN"' not in run
        for line in run.splitlines():
            if "planner plan" in line:
                assert "--check" in line, line


def test_the_deploy_job_applies_the_committed_plan_and_never_plans(flow: dict[str, Any]) -> None:
    steps = flow["jobs"]["deploy"]["steps"]
    assert not any("planner plan" in _run(s) or "planner " in _run(s) for s in steps)
    checkout = _index(steps, lambda s: str(s.get("uses", "")).startswith("actions/checkout"))
    assert "ref" not in (steps[checkout].get("with") or {})  # the pushed commit, as merged
    up = _index(steps, lambda s: str(s.get("uses", "")).startswith("pulumi/actions"))
    assert steps[up]["with"]["command"] == "up" and up == len(steps) - 1
    config = yaml.safe_load(steps[up]["with"]["config-map"])
    assert config == {"gpuplan:plan": {"value": flow["env"]["PLAN"]}}


def test_every_flag_the_workflow_uses_exists() -> None:
    import typer

    from planner.cli.app import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    expected = {"plan": {"--check", "--base"},
                "diff": {"--base-ref", "--format", "--fail-on-increase"},
                "report": {"--base-ref", "--out"}}
    for name, flags in expected.items():
        options = {o for p in commands[name].params for o in [*p.opts, *p.secondary_opts]}
        assert flags <= options, name
    cost = commands["cost"].commands["pulumi-preview"]  # type: ignore[attr-defined]
    assert "--format" in {o for p in cost.params for o in p.opts}


def test_the_readme_lists_the_preview_secrets() -> None:
    text = (ROOT / ".github" / "workflows" / "gpuplan.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in ("AWS_PREVIEW_ROLE_ARN", "GCP_PREVIEW_SERVICE_ACCOUNT", "AZURE_PREVIEW_CLIENT_ID"):
        assert f"secrets.{name}" in text and name in readme
    assert "GPUPLAN_PREVIEW" in readme and "planner plan workloads.yaml --check plan.json" in readme
