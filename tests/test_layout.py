"""The rooms of the source tree and the directions imports may take between them.

Every module under ``planner/`` and ``components/`` belongs to one room (its
package); each room may import only the rooms listed in ``ALLOWED`` (its own
included), plus the standard library and third-party packages, except that
Pulumi and the cloud SDKs are confined to the rooms listed in
``RESTRICTED_THIRD_PARTY``. Imports inside functions count too (the CLI
imports lazily, and a lazy wrong import is still a wrong import).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# room -> rooms it may import (besides itself). A room is a package path;
# a module's room is the longest listed prefix of its dotted name.
ALLOWED: dict[str, set[str]] = {
    "planner.errors": set(),
    "planner.names": set(),  # identifier rules shared by the declaration and the plan
    "planner.templating": set(),
    # Canonical JSON text, fast (issue 22: plan.json at 20,000 workloads is 125 MB); pure
    # standard library, so any room that writes canonical JSON may import it.
    "planner.jsontext": set(),
    "planner.plan": {"planner.errors", "planner.names", "planner.jsontext"},
    # The one cost function (issue 18): every stage that prices or re-prices a plan
    # calls it, so it sits beside the contract it fills and imports nothing else.
    "planner.plancost": {"planner.plan", "planner.errors"},
    # How full pools are and why (issue 15): reads the cost function's stored GPU-hours and
    # its levels; every room that shows a plan may import it.
    "planner.utilization": {"planner.plan", "planner.plancost", "planner.errors"},
    "planner.catalog": {"planner.errors"},
    "planner.spec": {"planner.errors", "planner.names", "planner.catalog"},
    "planner.optimize": {"planner.errors", "planner.plan", "planner.plancost", "planner.catalog",
                         "planner.spec"},
    "planner.explain": {"planner.errors", "planner.plan", "planner.plancost", "planner.templating",
                        "planner.catalog", "planner.spec", "planner.optimize",
                        "planner.utilization"},
    "planner.review": {"planner.errors", "planner.plan", "planner.plancost", "planner.templating",
                       "planner.catalog", "planner.utilization"},
    # The report reads a plan and its diff, and says constraints the way explain does.
    "planner.report": {"planner.errors", "planner.plan", "planner.templating", "planner.review",
                       "planner.explain", "planner.utilization"},
    "planner.cli": {"planner", "components"},
    "planner": {"planner.cli"},  # planner/__init__.py, planner/__main__.py
    "components.builders": {"planner.plan", "planner.plancost", "planner.errors"},
    "components.resources": {"components.builders", "planner.plan"},
    "components.program": {"components", "planner"},
    "components.terraform": {"components.builders", "planner.plan", "planner.plancost",
                             "planner.errors", "planner.names"},
    "components": set(),  # components/__init__.py
}

PULUMI = ("pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_kubernetes")
CLOUD_SDKS = ("boto3", "botocore", "google", "azure")
# third-party top-level package -> rooms (module prefixes) that may import it
RESTRICTED_THIRD_PARTY: dict[str, tuple[str, ...]] = {
    **{name: ("components.resources", "components.program") for name in PULUMI},
    **{name: ("planner.catalog.refresh",) for name in CLOUD_SDKS},
}
FIRST_PARTY = ("planner", "components")


def room_of(module: str) -> str:
    """The longest room name that is ``module`` or a package prefix of it."""
    best = ""
    for room in ALLOWED:
        if (module == room or module.startswith(room + ".")) and len(room) > len(best):
            best = room
    if not best:
        raise AssertionError(f"module {module} belongs to no room; add it to ALLOWED")
    return best


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in a module, nested ones included."""
    found: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            # `from planner import plan` imports the module planner.plan
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names
                         if base in FIRST_PARTY)
    return found


def violations(root: Path) -> list[str]:
    """Every import under ``root``'s ``planner/`` and ``components/`` that breaks the rules."""
    problems: list[str] = []
    for top in FIRST_PARTY:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            is_package = rel.name == "__init__"
            module = ".".join(rel.parts[:-1] if is_package else rel.parts)
            problems.extend(_module_violations(path, module, is_package))
    return problems


def _module_violations(path: Path, module: str, is_package: bool) -> list[str]:
    room = room_of(module)
    problems = []
    for line, name in imports_of(path.read_text("utf-8"), module, is_package):
        top = name.split(".", 1)[0]
        where = f"{path.as_posix()}:{line}: {module} imports {name}"
        if top in FIRST_PARTY:
            if name in FIRST_PARTY and top == room.split(".", 1)[0]:
                continue  # `from planner import x`: the x is checked on its own
            target = room_of(name) if name not in FIRST_PARTY else name
            if target != room and not any(target == ok or target.startswith(ok + ".")
                                          for ok in ALLOWED[room]):
                problems.append(f"{where} (room {room} may import {sorted(ALLOWED[room])})")
        elif top in RESTRICTED_THIRD_PARTY and not module.startswith(RESTRICTED_THIRD_PARTY[top]):
            problems.append(f"{where} (only {', '.join(RESTRICTED_THIRD_PARTY[top])} may)")
    return problems


def test_the_tree_keeps_its_import_directions() -> None:
    assert violations(REPO) == []


def test_every_module_has_a_room_and_every_package_a_docstring() -> None:
    for top in FIRST_PARTY:
        for init in sorted((REPO / top).rglob("__init__.py")):
            if "data" in init.relative_to(REPO).parts:
                continue
            tree = ast.parse(init.read_text("utf-8"))
            doc = ast.get_docstring(tree) or ""
            assert "import" in doc.lower() or init.parent.name in FIRST_PARTY, \
                f"{init}: the package docstring must say what the room may import"


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("planner.optimize.bad", "from planner.review.diff import diff_plans\n", "planner.review.diff"),
    ("planner.optimize.bad", "def f():\n    import planner.cli.app\n", "planner.cli.app"),
    ("planner.spec.bad", "from planner.optimize import solve\n", "planner.optimize"),
    ("planner.catalog.bad", "from ..spec import model\n", "planner.spec"),
    ("planner.plan_extra", "import pulumi\n", "pulumi"),
    ("components.builders.bad", "import pulumi_aws as aws\n", "pulumi_aws"),
    ("components.builders.bad", "from components.resources.kube import KubeObject\n",
     "components.resources.kube"),
    ("components.terraform.bad", "from pulumi_kubernetes import core\n", "pulumi_kubernetes"),
    ("planner.optimize.bad", "import boto3\n", "boto3"),
    ("planner.review.bad", "from planner.optimize.planning import plan_workloads\n",
     "planner.optimize.planning"),
    ("planner.plancost", "from planner.optimize.solve import greedy\n",
     "planner.optimize.solve"),
    ("components.resources.bad", "from planner.plancost import reprice\n", "planner.plancost"),
])
def test_a_planted_wrong_import_is_caught(tmp_path: Path, module: str, source: str,
                                          expected: str) -> None:
    """Copy the tree's packages, plant one wrong import, and the check names it."""
    for top in FIRST_PARTY:
        for path in (REPO / top).rglob("*.py"):
            dest = tmp_path / path.relative_to(REPO)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(path.read_text("utf-8"), "utf-8")
    assert violations(tmp_path) == []
    planted = tmp_path / (module.replace(".", "/") + ".py")
    planted.write_text(source, "utf-8")
    found = violations(tmp_path)
    assert len(found) == 1 and f"imports {expected}" in found[0], found


@pytest.mark.parametrize(("module", "source"), [
    ("planner.optimize.fine", "from planner.spec.model import WorkloadSet\nimport highspy\n"),
    ("components.resources.fine", "import pulumi\nfrom components.builders import specs\n"),
    ("planner.catalog.refresh_fine", "import boto3\n"),
])
def test_allowed_imports_pass(tmp_path: Path, module: str, source: str) -> None:
    planted = tmp_path / (module.replace(".", "/") + ".py")
    planted.parent.mkdir(parents=True)
    planted.write_text(source, "utf-8")
    assert violations(tmp_path) == []


def test_pure_rooms_load_without_pulumi() -> None:
    """Importing the planner core and the builders does not pull Pulumi into the process."""
    import subprocess

    code = ("import sys, planner.optimize.planning, planner.explain.whatif, planner.review.diffrender, "
            "components.builders.k8s_objects, components.terraform.render, components.terraform.check; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{PULUMI + CLOUD_SDKS!r}); print(bad); assert not bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
