"""The ``gpuplan[refresh]`` extra: only ``catalog refresh`` imports the cloud SDKs.

The SDKs (boto3/botocore, google-auth, azure-identity) are installed here (the dev
extra brings them), so these tests prove that the plan path does not *import* them,
not merely that they happen to be absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SDKS = ("boto3", "botocore", "google.auth", "azure")

ONE_WORKLOAD = {"teams": {"ml": {}}, "workloads": [
    {"name": "one", "team": "ml", "resources": {"accelerators": "A100:8"},
     "work": {"duration_hours": 10}}]}


def loaded_after(argv: list[str]) -> tuple[int, list[str], str]:
    """Run the CLI in a fresh interpreter; (exit code, SDK modules loaded at exit, stdout)."""
    code = (
        "import atexit, sys\n"
        f"sdks = {SDKS!r}\n"
        "def report():\n"
        "    hit = sorted(m for m in sys.modules if any(m == s or m.startswith(s + '.') for s in sdks))\n"
        "    sys.stderr.write('LOADED=' + ','.join(hit) + '\\n')\n"
        "atexit.register(report)\n"
        f"sys.argv = ['planner', *{argv!r}]\n"
        "from planner.cli.app import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    [line] = [x for x in result.stderr.splitlines() if x.startswith("LOADED=")]
    loaded = [m for m in line.removeprefix("LOADED=").split(",") if m]
    return result.returncode, loaded, result.stdout


def test_the_sdks_are_installed_here() -> None:
    """Otherwise the next test would pass for the wrong reason."""
    import azure.identity  # noqa: F401
    import boto3  # noqa: F401
    import google.auth  # noqa: F401


def test_planner_plan_never_imports_a_cloud_sdk(tmp_path: Path) -> None:
    spec = tmp_path / "one.yaml"
    spec.write_text(json.dumps(ONE_WORKLOAD))
    code, loaded, out = loaded_after(["plan", str(spec), "--format", "json"])
    assert code == 0
    assert json.loads(out)["placements"], "the workload was planned"
    assert loaded == []


def test_the_readme_refresh_section_tells_the_sign_in_story() -> None:
    """Its commands use real flags, and it names each way of signing in and the extra."""
    import shlex

    import typer

    from planner.cli.app import app

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Refreshing prices and importing quotas", 1)[1].split("\n## ", 1)[0]
    refresh = typer.main.get_command(app).commands["catalog"].commands["refresh"]  # type: ignore[attr-defined]
    flags = {o for p in refresh.params for o in p.opts}
    calls = [shlex.split(line.split("planner catalog refresh", 1)[1].split("#", 1)[0])
             for line in section.splitlines() if "planner catalog refresh " in line]
    assert {c[0] for c in calls} == {"aws", "gcp", "azure"}
    used = {a for c in calls for a in c if a.startswith("--")}
    assert used == {"--profile", "--regions", "--project", "--subscription"} and used <= flags
    for phrase in ("gpuplan[refresh]", "AWS_PROFILE", "aws sso login", "AWS_WEB_IDENTITY_TOKEN_FILE",
                   "Application Default Credentials", "GOOGLE_API_KEY", "DefaultAzureCredential",
                   "DescribeSpotPriceHistory", "exits 4", "examples/github-actions/"):
        assert phrase in section, phrase
    assert "AWS_SECRET_ACCESS_KEY" not in section  # no longer the only way in
