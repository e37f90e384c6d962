"""The built wheel ships every package of the tree and the embedded catalog, and plans from itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build from a copy of the sources, so no stale ``build/`` folder can fill a gap."""
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src")
    for name in ("planner", "components", "templates"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (path,) = out.glob("gpuplan-*.whl")
    return path


def source_packages() -> list[str]:
    """Every folder of planner/ and components/ that holds Python modules, plus templates."""
    found = []
    for top in ("planner", "components"):
        for init in (REPO / top).rglob("__init__.py"):
            found.append(init.parent.relative_to(REPO).as_posix())
    return sorted(found)


def test_wheel_holds_every_package_and_the_embedded_catalog(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in source_packages():
        modules = sorted(p.relative_to(REPO).as_posix() for p in (REPO / package).glob("*.py"))
        missing = [m for m in modules if m not in names]
        assert not missing, f"the wheel lacks {missing}"
    catalog = sorted(p.relative_to(REPO).as_posix()
                     for p in (REPO / "planner" / "data" / "catalog").iterdir()
                     if p.suffix in (".gz", ".json"))
    assert catalog and all(c in names for c in catalog), catalog
    templates = sorted(p.name for p in (REPO / "templates").glob("*.j2"))
    assert all(f"gpuplan_templates/{t}" in names for t in templates)


def test_planner_plans_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    """Unpack the wheel and run ``planner plan`` from it, far from the source tree."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    workloads = REPO / "examples" / "quickstart" / "workloads.yaml"
    # The dev install is editable: drop its import hook so nothing can come from the source tree.
    code = ("import sys; site = sys.argv[1]; sys.meta_path[:] = [f for f in sys.meta_path "
            "if 'editable' not in repr(f).lower()]; "
            "from planner.cli.app import main; sys.argv = ['planner', 'plan', sys.argv[2], "
            "'--format', 'json']\n"
            "try:\n    main()\n"
            "finally:\n"
            "    outside = [m.__file__ for n, m in sys.modules.items() if n.split('.')[0] in "
            "('planner', 'components', 'gpuplan_templates') and not "
            "(getattr(m, '__file__', None) or site).startswith(site)]\n"
            "    assert not outside, outside")
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", code, str(site), str(workloads)],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert '"placements"' in result.stdout
