"""``planner render terraform``: bad input exits 2 writing nothing; output replaced atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.terraform.render import render_texts
from planner.plan import dumps_plan
from tests.cli import run_cli
from tests.plan_factory import make_plan


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(make_plan()), encoding="utf-8")
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def test_render_writes_both_modules(plan_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "tf"
    result = run_cli("render", "terraform", str(plan_file), "--out", str(out))
    assert result.code == 0, result.err
    assert f"wrote {out / 'infra'} (4 files), {out / 'k8s'} (5 files)" in result.out
    expected = {k: v.encode() for k, v in render_texts(make_plan()).items()}
    assert tree(out) == expected
    assert siblings(out) == []
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # as mkdir would, not mkdtemp's 0o700


def test_render_with_check(plan_file: Path, tmp_path: Path, shared: Path) -> None:
    result = run_cli("render", "terraform", str(plan_file), "--out", str(tmp_path / "tf"),
                     "--check", "--schemas", str(shared / "schemas" / "terraform"))
    assert result.code == 0, result.err


def test_not_a_plan_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bogus = tmp_path / "workloads.json"
    bogus.write_text('{"kind": "something-else"}')
    out = tmp_path / "tf"
    result = run_cli("render", "terraform", str(bogus), "--out", str(out))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "not a gpuplan plan" in result.err
    assert not out.exists() and siblings(out) == []


def test_missing_plan_exits_2(tmp_path: Path) -> None:
    result = run_cli("render", "terraform", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o"))
    assert result.code == 2 and "file not found" in result.err


def test_unwritable_out_exits_2_and_writes_nothing(plan_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker, blocker / "tf", Path("/proc/gpuplan-tf")):
        result = run_cli("render", "terraform", str(plan_file), "--out", str(out))
        assert result.code == 2, (out, result.err)
        assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert blocker.read_text() == "x"


def test_out_must_not_be_the_working_directory(plan_file: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for out in (".", str(tmp_path), ".."):
        result = run_cli("render", "terraform", str(plan_file), "--out", out)
        assert result.code == 2 and "working directory" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_existing_dir_is_replaced_keeping_terraform_state(plan_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "tf"
    (out / "infra" / ".terraform" / "providers").mkdir(parents=True)
    (out / "infra" / ".terraform" / "providers" / "plugin").write_text("binary")
    (out / "infra" / "terraform.tfstate").write_text('{"version": 4}')
    (out / "infra" / "backend.tf").write_text('terraform { backend "s3" {} }')
    (out / "infra" / "old-cloud.tf.json").write_text("{}")  # no longer generated: removed
    (out / "k8s").mkdir()
    (out / "k8s" / "gke-prod.tf.json").write_text("{}")  # regenerated
    result = run_cli("render", "terraform", str(plan_file), "--out", str(out))
    assert result.code == 0, result.err
    files = tree(out)
    assert files["infra/terraform.tfstate"] == b'{"version": 4}'
    assert files["infra/.terraform/providers/plugin"] == b"binary"
    assert "infra/backend.tf" in files and "infra/old-cloud.tf.json" not in files
    assert files["k8s/gke-prod.tf.json"] == render_texts(make_plan())["k8s/gke-prod.tf.json"].encode()
    assert siblings(out) == []


def test_failure_midway_leaves_the_old_tree_untouched(plan_file: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "tf"
    assert run_cli("render", "terraform", str(plan_file), "--out", str(out)).code == 0
    (out / "infra" / "main.tf.json").write_text("old")
    before = tree(out)
    calls = []
    real_write = Path.write_text

    def flaky(self: Path, *args: object, **kwargs: object) -> int:
        calls.append(self)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", flaky)
    result = run_cli("render", "terraform", str(plan_file), "--out", str(out))
    monkeypatch.undo()
    assert result.code == 1 and "No space left" in result.err
    assert tree(out) == before
    assert siblings(out) == []


def test_swap_failure_restores_the_old_tree(plan_file: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "tf"
    assert run_cli("render", "terraform", str(plan_file), "--out", str(out)).code == 0
    (out / "infra" / "main.tf.json").write_text("old")
    before = tree(out)
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if Path(str(dst)) == out and ".old." not in Path(str(src)).name:  # new tree refused
            raise OSError(16, "Device or resource busy")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", rename)
    result = run_cli("render", "terraform", str(plan_file), "--out", str(out))
    monkeypatch.undo()
    assert result.code == 1
    assert tree(out) == before
    assert siblings(out) == []


def test_render_group_lists_terraform() -> None:
    result = run_cli("render", "--help")
    assert result.code == 0 and "terraform" in result.out


def test_terraform_joins_an_existing_render_group() -> None:
    """Whichever way planner.cli.render_cmd registers ``render``, terraform joins that group."""
    import typer

    from planner.cli.render_cmd import render_group

    for add in (lambda app, g: app.add_typer(g, name="render"),
                lambda app, g: app.add_typer(g)):
        app, group = typer.Typer(), typer.Typer(name="render")
        add(app, group)
        assert render_group(app) is group
    app = typer.Typer()
    assert render_group(app) is render_group(app)  # created once when absent


def test_check_failure_writes_nothing(plan_file: Path, tmp_path: Path, shared: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import components.terraform.render

    broken = Path(__file__).parents[1] / "fixtures" / "terraform" / "broken" / "two_node_configs.tf.json"
    monkeypatch.setattr(components.terraform.render, "render_texts",
                        lambda plan: {"infra/main.tf.json": broken.read_text("utf-8")})
    out = tmp_path / "tf"
    result = run_cli("render", "terraform", str(plan_file), "--out", str(out), "--check",
                     "--schemas", str(shared / "schemas" / "terraform"))
    assert result.code == 2
    assert "infra/main.tf.json: google_container_node_pool.l4: node_config: " in result.err
    assert "[max-items]" in result.err and "nothing written" in result.err
    assert not out.exists() and siblings(out) == []
