"""The ``fallbacks:`` policy: where it may be declared, how it is read, and bad input through
``planner plan --out`` (one line, exit 2, nothing written)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from planner.spec.model import FallbackPolicy
from tests.cli import run_cli
from tests.synthetic import job, workload_set

BAD = Path(__file__).resolve().parents[1] / "bad_input"


def test_premium_is_a_fraction_and_scopes_default_to_all() -> None:
    p = FallbackPolicy.model_validate({"count": 2, "max_premium": "12.5%"})
    assert p.premium_fraction == Decimal("0.125")
    assert p.across == ("zone", "region", "cloud")


def test_workload_policy_overrides_the_team_and_zero_turns_it_off() -> None:
    teams = {"ml": {"fallbacks": {"count": 2}}}
    ws = workload_set([job("a", "A100:8"), job("b", "A100:8", fallbacks={"count": 1}),
                       job("c", "A100:8", fallbacks={"count": 0})], teams=teams)
    got = {w.name: ws.fallback_policy(w) for w in ws.workloads}
    assert got["a"] is not None and got["a"].count == 2
    assert got["b"] is not None and got["b"].count == 1
    assert got["c"] is None


@pytest.mark.parametrize("value,message", [
    ({"count": 1, "across": []}, "needs at least 1 item"),
    ({"count": 1, "across": ["zone", "zone"]}, "lists a scope twice"),
    ({"count": 9}, "must be at most 5"),
    ({"count": 1, "max_premium": "30"}, "must be a percentage such as '30%'"),
])
def test_more_bad_policies(value: dict[str, object], message: str, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"teams": {"ml": {}}, "workloads": [
        {**job("a", "A100:8"), "team": "ml", "fallbacks": value}]}))
    r = run_cli("validate", str(path))
    assert r.code == 2 and message in r.err and len(r.err.splitlines()) == 1, r.err


@pytest.mark.parametrize("name", ["fallback_negative_count", "fallback_bad_premium",
                                  "fallback_unknown_scope"])
def test_plan_writes_nothing_on_a_bad_policy(name: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / f"{name}.yaml"
    src.write_text((BAD / f"{name}.yaml").read_text())
    r = run_cli("plan", str(src), "--out", str(tmp_path / "plan.json"))
    assert r.code == 2 and r.out == ""
    assert len(r.err.splitlines()) == 1 and "Traceback" not in r.err
    assert r.err.startswith(f"error: {src}:") and ".fallbacks." in r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]
