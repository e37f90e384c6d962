"""Hostile edits of the examples' plans: rendering refuses them in one line or stays in --out.

Property (issue 19): for every mutation of the strings and numbers of an example's
``plan.json`` (path separators, ``..``, absolute paths, NUL, very long names, unicode
look-alikes, negative and huge numbers), ``planner render k8s`` and ``planner render
terraform`` either exit 2 with one line and write nothing, or exit 0 having written only
inside ``--out``. A mutation may change one value, or rename a value everywhere it occurs
(so references still resolve and only the name rules stand in the way).

Each example runs in a sandbox folder deep enough that any ``..`` the strategies can build
stays inside it, so "written only inside --out" is checked on the whole sandbox.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli import run_cli

REPO = Path(__file__).resolve().parent.parent
PLANS = {p.parent.name: json.loads(p.read_text("utf-8"))
         for p in sorted(REPO.glob("examples/*/plan.json"))}
SKIP = ("spec", "alternatives", "rejected")  # read by explain and diff, never by renderers
DEPTH = 12  # sandbox/d0/.../d11/work: more levels than any strategy climbs
ABSOLUTE = "@ABS@"  # replaced by an absolute path inside the sandbox

Path_ = tuple[str | int, ...]


def leaves(node: Any, path: Path_ = ()) -> list[Path_]:
    """Paths of every string and number of a JSON document (outside :data:`SKIP`)."""
    if isinstance(node, dict):
        return [p for k, v in sorted(node.items()) if k not in SKIP for p in leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in leaves(v, (*path, i))]
    if isinstance(node, (str, int, float)) and not isinstance(node, bool):
        return [path]
    return []


LEAVES = {name: leaves(plan) for name, plan in PLANS.items()}

HOSTILE_TEXT = st.sampled_from([
    "../x", "../../../tmp/pwned", "a/b", "a\\b", ".", "..", "", " ", "-rf", "x\x00y", "x\ny",
    "x" * 64, "y" * 300, "UPPER", "a..b", "${var.x}", "{{ x }}", "$${x}", "é", "оnprem",
    "ａ100", "a\u200bb", "\u202egnp", "1e400", "-1", "NaN", "Infinity", "-0.0001",
    "99999999999999999999", ABSOLUTE, ABSOLUTE + "/sub",
])
TEXT = st.one_of(
    HOSTILE_TEXT,
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/"), max_size=40),
)
NUMBER = st.sampled_from([-1, -10**9, 0, 1, 10**6, 10**20, 2**63, -2**63, 0.5, -0.5, 1e-300,
                          1e308, 3.7, 65])


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """An example and its plan with one to three values changed (some renamed everywhere)."""
    name = draw(st.sampled_from(sorted(PLANS)))
    text = json.dumps(PLANS[name])
    plan = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(LEAVES[name]))
        old = _get(plan, path)
        if isinstance(old, str):
            new: Any = draw(st.one_of(TEXT, TEXT.map(lambda t, o=old: o + t),
                                      TEXT.map(lambda t, o=old: t + o)))
            if draw(st.booleans()):  # rename it everywhere: references keep resolving
                plan = json.loads(json.dumps(plan).replace(json.dumps(old), json.dumps(new)))
                continue
        else:
            new = draw(st.one_of(NUMBER, st.just(-old), TEXT))
        _set(plan, path, new)
    return name, plan


def _get(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(node: Any, path: Path_, value: Any) -> None:
    _get(node, path[:-1])[path[-1]] = value


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutation())
def test_renders_refuse_in_one_line_or_write_only_inside_out(case: tuple[str, dict[str, Any]]
                                                               ) -> None:
    name, plan = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = root.joinpath(*(f"d{i}" for i in range(DEPTH)), "work")
        work.mkdir(parents=True)
        text = json.dumps(plan).replace(ABSOLUTE, str(root / "abs"))
        (work / "plan.json").write_text(text, "utf-8")
        before = _files(root)
        with contextlib.chdir(work):
            for command in ("k8s", "terraform"):
                out = work / f"out-{command}"
                r = run_cli("render", command, "plan.json", "--out", out.name)
                assert r.code in (0, 2), (name, command, r.code, r.err)
                if r.code == 2:
                    assert r.out == "" and r.err.count("\n") == 1, r.err
                    assert r.err.startswith("error: ") and not out.exists()
                else:
                    prefix = out.relative_to(root).as_posix() + "/"
                    new = _files(root) - before
                    assert new and all(f.startswith(prefix) for f in new), sorted(new)[:5]
                    before |= new
        assert not (root / "abs").exists()
