"""The shared tree writer refuses any path outside ``--out``, after symlinks (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.treewrite import write_tree
from planner.errors import UsageError
from tests.cli import run_cli

REPO = Path(__file__).resolve().parent.parent
BURST = REPO / "examples" / "burst" / "plan.json"


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): ("-> " + str(p.readlink()) if p.is_symlink()
                                             else p.read_text() if p.is_file() else "/")
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("command", ["k8s", "terraform"])
def test_a_symlink_in_out_that_points_outside_is_refused(command: str, tmp_path: Path) -> None:
    """A cluster folder (k8s) or module folder (terraform) replaced by a symlink to elsewhere:
    the render would write through it; it is refused, and nothing changes on either side."""
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / ("onprem-a100" if command == "k8s" else "k8s")).symlink_to(outside)
    before = _tree(tmp_path)
    r = run_cli("render", command, str(BURST), "--out", str(out))
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1, r.err
    assert f"it resolves to {outside}" in r.err and "outside --out" in r.err
    assert _tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "outside"]  # no temp dirs


@pytest.mark.parametrize("rel", ["../x.yaml", "a/../../x.yaml", "/tmp/x.yaml", "a/\x00.yaml",
                                 "a\\..\\x.yaml", ""])
def test_paths_that_are_not_plain_and_relative_are_refused(rel: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(UsageError, match="not a plain relative path"):
        write_tree(out, {"ok/a.yaml": "a", rel: "x"}, lambda _: True)
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_that_stays_inside_out_is_allowed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "real").mkdir(parents=True)
    (out / "alias").symlink_to("real")
    write_tree(out, {"alias/a.yaml": "a"}, lambda rel: rel.name == "a.yaml")
    assert (out / "alias" / "a.yaml").read_text() == "a"
