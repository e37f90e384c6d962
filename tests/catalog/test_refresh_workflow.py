"""The weekly price-refresh workflow of the GitHub Actions example, tested as data.

It is parsed, not run: the schedule, the permissions, the steps and their order,
and every ``planner`` flag it uses must exist in the CLI.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

ROOT = Path(__file__).resolve().parents[2] / "examples" / "github-actions"
WORKFLOW = ROOT / ".github" / "workflows" / "gpuplan-refresh.yml"


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as True
    return loaded


def steps(flow: dict[str, Any]) -> list[dict[str, Any]]:
    [job] = flow["jobs"].values()
    return list(job["steps"])


def index(flow: dict[str, Any], found: Any) -> int:
    hits = [i for i, s in enumerate(steps(flow)) if found(s)]
    assert len(hits) == 1, hits
    return hits[0]


def runs(flow: dict[str, Any]) -> list[str]:
    return [s.get("run", "") for s in steps(flow)]


def test_it_runs_weekly_and_on_demand(flow: dict[str, Any]) -> None:
    [schedule] = flow["on"]["schedule"]
    minute, hour, day_of_month, month, day_of_week = schedule["cron"].split()
    assert (day_of_month, month) == ("*", "*") and day_of_week.isdigit() and 0 <= int(day_of_week) <= 6
    assert minute.isdigit() and hour.isdigit()
    assert "workflow_dispatch" in flow["on"]


def test_permissions_allow_oidc_a_branch_and_a_pull_request(flow: dict[str, Any]) -> None:
    [job] = flow["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}


def test_steps_come_in_order(flow: dict[str, Any]) -> None:
    def uses(prefix: str) -> Any:
        return lambda s: s.get("uses", "").startswith(prefix)

    def runs_(text: str) -> Any:
        return lambda s: text in s.get("run", "")

    order = [
        index(flow, uses("actions/checkout")),
        index(flow, runs_("pip install '.[refresh]'")),
        index(flow, runs_("--out base-plan.json")),
        index(flow, uses("aws-actions/configure-aws-credentials")),
        index(flow, uses("google-github-actions/auth")),
        index(flow, uses("azure/login")),
        index(flow, runs_("catalog refresh aws")),
        index(flow, runs_("--out plan.json")),
        index(flow, uses("peter-evans/create-pull-request")),
    ]
    assert order == sorted(order)
    # the base plan is made before any sign-in, on the committed catalog when there is one
    base = runs(flow)[order[2]]
    assert 'export GPUPLAN_CATALOG="$CATALOG_DIR"' in base


def refresh_calls(flow: dict[str, Any]) -> list[list[str]]:
    [text] = [r for r in runs(flow) if "catalog refresh" in r]
    joined = text.replace("\\\n", " ")
    return [shlex.split(line.strip())[1:] for line in joined.splitlines()
            if line.strip().startswith(".venv/bin/planner catalog refresh")]


def test_all_three_clouds_refresh_into_one_directory(flow: dict[str, Any]) -> None:
    calls = refresh_calls(flow)
    assert [c[2] for c in calls] == ["aws", "gcp", "azure"]
    for call in calls:
        assert call[call.index("--out") + 1] == "$CATALOG_DIR"
    assert "--project" in calls[1] and "--subscription" in calls[2]


def test_the_pull_request_carries_the_snapshot_and_the_cost_diff(flow: dict[str, Any]) -> None:
    plan_and_diff = runs(flow)[index(flow, lambda s: "--out plan.json" in s.get("run", ""))]
    assert '.venv/bin/planner --catalog "$CATALOG_DIR" plan' in plan_and_diff
    assert ".venv/bin/planner diff base-plan.json plan.json --format md > cost-diff.md" in plan_and_diff
    assert "cost-diff.md > pr-body.md" in plan_and_diff
    pr = steps(flow)[index(flow, lambda s: s.get("uses", "").startswith("peter-evans/"))]["with"]
    assert pr["body-path"] == "pr-body.md" and pr["add-paths"] == "${{ env.CATALOG_DIR }}"
    assert flow["env"]["CATALOG_DIR"] == "catalog"


def test_every_planner_flag_exists(flow: dict[str, Any]) -> None:
    from planner.cli.app import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    options = {
        "refresh": commands["catalog"].commands["refresh"],
        "diff": commands["diff"], "plan": commands["plan"],
    }
    known = {name: {o for p in cmd.params for o in [*p.opts, *p.secondary_opts]}
             for name, cmd in options.items()}
    for call in refresh_calls(flow):
        assert {a for a in call if a.startswith("--")} <= known["refresh"]
    for line in "\n".join(runs(flow)).splitlines():
        line = line.strip()
        if line.startswith(".venv/bin/planner diff"):
            assert {a for a in shlex.split(line) if a.startswith("--")} <= known["diff"]
        if line.startswith(".venv/bin/planner") and " plan " in line:
            assert {a for a in shlex.split(line) if a.startswith("--") and a != "--catalog"} \
                <= known["plan"]
        if "planner " in line and not line.startswith("#"):
            assert ".venv/bin/planner " in line, line


def test_readme_names_every_secret_and_variable(flow: dict[str, Any]) -> None:
    import re

    text = WORKFLOW.read_text()
    readme = (ROOT / "README.md").read_text()
    names = set(re.findall(r"\$\{\{ (?:secrets|vars)\.(\w+) \}\}", text))
    assert names >= {"AWS_PRICING_ROLE_ARN", "GCP_PRICING_SERVICE_ACCOUNT", "GCP_PROJECT"}
    for name in names:
        assert name in readme, name
    assert "gpuplan-refresh.yml" in readme and "GPUPLAN_CATALOG" in readme
