"""The README's Security section (issue 19): what is trusted, what is checked, where secrets
live; every file it names exists and every command it lists as reading a plan is real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def section() -> str:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "\n## Security\n" in readme
    return readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]


def test_it_says_what_is_trusted_what_is_checked_and_where_secrets_live(section: str) -> None:
    for heading in ("**Trusted: the declaration**", "**Checked: plans.**",
                    "**Checked: output paths.**", "**Checked: git refs.**",
                    "**Checked: catalogs.**", "Where secrets live"):
        assert heading in section, heading
    for fact in ("`--end-of-options`", "starts with `-`", "symlinks", "--check plan.json",
                 "exit 2", "exits 3", "exit 4", "Pulumi secrets"):
        assert fact in section, fact


def test_every_file_it_names_exists(section: str) -> None:
    paths = re.findall(r"`((?:planner|components|tests|stacks)/[\w/.]+)`", section)
    assert {"planner/plan.py", "planner/names.py", "planner/cli/treewrite.py",
            "tests/components/test_no_secrets.py"} <= set(paths)
    for path in paths:
        assert (REPO / path).exists(), path


def test_every_command_it_says_reads_a_plan_is_a_command() -> None:
    import typer

    from planner.cli.app import app

    readme = (REPO / "README.md").read_text("utf-8")
    line = readme.split("**Checked: plans.**", 1)[1].split("uses the same reader", 1)[0]
    named = re.findall(r"`([a-z0-9 -]+)`", line)
    assert {"render k8s", "render terraform", "diff", "explain", "preview", "report"} <= set(named)
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name in named:
        group, *sub = name.split()
        assert group in commands, name
        if sub:
            assert sub[0] in commands[group].commands, name
