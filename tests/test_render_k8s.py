"""``planner render k8s``: same objects as the builders, valid, no Pulumi import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import yaml

from components.k8s_objects import plan_objects
from components.specs import plan_specs
from planner.plan import dumps_plan
from tests.cli import run_cli
from tests.k8s_validator import validate_objects
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parent.parent


def _write_plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(make_plan()), encoding="utf-8")
    return path


def _read_dir(cluster_dir: Path) -> list[dict]:
    kust = yaml.safe_load((cluster_dir / "kustomization.yaml").read_text())
    return [o for name in kust["resources"]
            for o in yaml.safe_load_all((cluster_dir / name).read_text())]


def test_render_writes_the_builders_objects(tmp_path: Path, shared: Path) -> None:
    out = tmp_path / "k8s"
    result = run_cli("render", "k8s", str(_write_plan(tmp_path)), "--out", str(out))
    assert result.code == 0, result.err
    expected = plan_objects(plan_specs(make_plan()))
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    for cluster, objs in expected.items():
        written = _read_dir(out / cluster)
        assert written == objs
        assert validate_objects(written) == []


def test_render_is_deterministic(tmp_path: Path) -> None:
    plan = _write_plan(tmp_path)
    for out in ("a", "b"):
        assert run_cli("render", "k8s", str(plan), "--out", str(tmp_path / out)).code == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.yaml"))
    assert files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_multikueue_hub(tmp_path: Path, shared: Path) -> None:
    out = tmp_path / "k8s"
    result = run_cli("render", "k8s", str(_write_plan(tmp_path)), "--out", str(out),
                     "--multikueue", "hub")
    assert result.code == 0, result.err
    hub = _read_dir(out / "hub")
    assert {"AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster", "JobSet"} <= {
        o["kind"] for o in hub}
    assert not (out / "gke-prod" / "20-jobs.yaml").exists()
    assert validate_objects(hub) == []


def test_bad_input_exits_2(tmp_path: Path) -> None:
    plan = _write_plan(tmp_path)
    result = run_cli("render", "k8s", str(plan), "--out", str(tmp_path / "k8s"),
                     "--multikueue", "gke-prod")
    assert result.code == 2 and "--multikueue" in result.err
    result = run_cli("render", "k8s", str(plan), "--out", str(plan))
    assert result.code == 2 and "not a directory" in result.err
    assert run_cli("render", "k8s", str(tmp_path / "none.json"), "--out", "x").code == 2


def test_render_k8s_never_imports_pulumi(tmp_path: Path) -> None:
    plan = _write_plan(tmp_path)
    code = ("import sys; from planner.cli.app import run; "
            f"assert run(['render', 'k8s', {str(plan)!r}, '--out', {str(tmp_path / 'o')!r}]) == 0; "
            "bad = [m for m in sys.modules if m.startswith('pulumi')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_render_cmd_imports_only_typer_at_top() -> None:
    tree = ast.parse((REPO / "planner" / "cli" / "render_cmd.py").read_text())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module)
    assert top <= {"__future__", "pathlib", "typing", "typer", "planner.errors"}, top


def test_rerender_removes_stale_clusters_only(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    (out / "gone-cluster").mkdir(parents=True)
    (out / "gone-cluster" / "10-kueue.yaml").write_text("old")
    (out / "gone-cluster" / "kustomization.yaml").write_text("old")
    (out / "README.md").write_text("mine")
    (out / "mine").mkdir()
    (out / "mine" / "notes.yaml").write_text("mine")
    assert run_cli("render", "k8s", str(_write_plan(tmp_path)), "--out", str(out)).code == 0
    assert not (out / "gone-cluster").exists()
    assert (out / "README.md").read_text() == "mine"
    assert (out / "mine" / "notes.yaml").read_text() == "mine"
