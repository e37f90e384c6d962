"""``planner render k8s``: same objects as the builders, valid, no Pulumi import."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.builders.k8s_objects import plan_objects
from components.builders.specs import plan_specs
from planner.plan import dumps_plan
from tests.cli import run_cli
from tests.k8s_validator import validate_objects
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]


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


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def test_failure_midway_leaves_the_old_tree_byte_identical(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _write_plan(tmp_path)
    out = tmp_path / "k8s"
    assert run_cli("render", "k8s", str(plan), "--out", str(out)).code == 0
    cluster = sorted(p for p in out.iterdir() if p.is_dir())[0]
    (cluster / "10-kueue.yaml").write_text("old kueue")
    (out / "gone-cluster").mkdir()
    (out / "gone-cluster" / "20-jobs.yaml").write_text("old jobs")
    (out / "README.md").write_text("mine")
    before = _tree(out)
    calls: list[Path] = []
    real_write = Path.write_text

    def flaky(self: Path, *args: object, **kwargs: object) -> int:
        calls.append(self)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", flaky)
    result = run_cli("render", "k8s", str(plan), "--out", str(out))
    monkeypatch.undo()
    assert len(calls) == 3
    assert result.code == 1 and "No space left" in result.err
    assert _tree(out) == before
    assert _siblings(out) == []


def test_swap_failure_restores_the_old_tree(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _write_plan(tmp_path)
    out = tmp_path / "k8s"
    assert run_cli("render", "k8s", str(plan), "--out", str(out)).code == 0
    (out / "README.md").write_text("mine")
    before = _tree(out)
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if Path(str(dst)) == out and ".old." not in Path(str(src)).name:
            raise OSError(16, "Device or resource busy")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", rename)
    result = run_cli("render", "k8s", str(plan), "--out", str(out))
    monkeypatch.undo()
    assert result.code == 1
    assert _tree(out) == before
    assert _siblings(out) == []


def test_not_a_plan_and_unwritable_out_exit_2_writing_nothing(tmp_path: Path) -> None:
    bogus = tmp_path / "workloads.json"
    bogus.write_text('{"kind": "something-else"}')
    out = tmp_path / "k8s"
    result = run_cli("render", "k8s", str(bogus), "--out", str(out))
    assert result.code == 2 and result.err.count("\n") == 1 and "not a gpuplan plan" in result.err
    assert not out.exists() and _siblings(out) == []
    plan = _write_plan(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for bad in (blocker / "k8s", Path("/proc/gpuplan-k8s")):
        result = run_cli("render", "k8s", str(plan), "--out", str(bad))
        assert result.code == 2, (bad, result.err)
        assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert blocker.read_text() == "x"


def test_unwritable_parent_exits_2(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    plan = _write_plan(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run_cli("render", "k8s", str(plan), "--out", str(locked / "k8s"))
    finally:
        locked.chmod(0o755)
    assert result.code == 2 and "cannot write" in result.err
    assert list(locked.iterdir()) == []


def test_out_must_not_be_the_working_directory(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _write_plan(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run_cli("render", "k8s", str(plan), "--out", ".")
    assert result.code == 2 and "working directory" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_rerender_keeps_user_files_and_empty_folders(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    (out / "empty").mkdir(parents=True)
    (out / "mine" / "deep").mkdir(parents=True)
    (out / "mine" / "deep" / "patch.yaml").write_text("mine")
    assert run_cli("render", "k8s", str(_write_plan(tmp_path)), "--out", str(out)).code == 0
    assert (out / "empty").is_dir()
    assert (out / "mine" / "deep" / "patch.yaml").read_text() == "mine"


def test_render_modules_share_one_render_group() -> None:
    import planner.cli.render_cmd as k8s
    import planner.cli.render_terraform_cmd as tf

    assert tf.render_group is k8s.render_group
    tree = ast.parse((REPO / "planner" / "cli" / "render_terraform_cmd.py").read_text())
    assert "render_group" not in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
