"""What-if changes: parsing, applying to the plan's workloads, and re-solving.

The acceptance test: a quota binds; the what-if that lifts it lowers the cost
and moves workloads, exactly as ``planner plan`` on the changed file does.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import UsageError
from planner.explain.constraintvalue import constraint_values
from planner.explain.whatif import (
    Amount,
    apply_changes,
    compare,
    parse_change,
    spec_of,
    what_if,
)
from planner.plan import dumps_plan, loads_plan
from tests.cli import run_cli
from tests.fixtures.explain import plans

QUOTA = "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand"



@pytest.fixture(autouse=True)
def _embedded_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-solves use the embedded catalog, whatever GPUPLAN_CATALOG says outside."""
    monkeypatch.delenv("GPUPLAN_CATALOG", raising=False)

@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    from planner.catalog.load import load_catalog

    return load_catalog(None)


# -- parsing ---------------------------------------------------------------------------
@pytest.mark.parametrize("text,kind,target,amount", [
    ("quota:gcp/us-central1/NVIDIA_A100_GPUS=+16", "quota",
     ("gcp", "us-central1", "NVIDIA_A100_GPUS", "on-demand"), Amount("add", Decimal(16))),
    ("quota:aws/us-east-1/P/spot=192", "quota", ("aws", "us-east-1", "P", "spot"),
     Amount("set", Decimal(192))),
    ("quota:gcp/us-central1/NVIDIA_A100_GPUS=-8", "quota",
     ("gcp", "us-central1", "NVIDIA_A100_GPUS", "on-demand"), Amount("add", Decimal(-8))),
    ("budget:research=+5000", "budget", ("research",), Amount("add", Decimal(5000))),
    ("budget:research=-10%", "budget", ("research",), Amount("pct", Decimal(-10))),
    ("budget:research=none", "budget", ("research",), Amount("none", Decimal(0))),
    ("discount:gcp=0.8", "discount", ("gcp",), Amount("set", Decimal("0.8"))),
    ("capacity:onprem=+8", "capacity", ("onprem",), Amount("add", Decimal(8))),
])
def test_parse_amounts(text: str, kind: str, target: tuple[str, ...], amount: Amount) -> None:
    c = parse_change(text)
    assert (c.kind, c.target, c.amount) == (kind, target, amount)


def test_parse_words_and_regions() -> None:
    c = parse_change("spot:embed=only")
    assert (c.kind, c.target, c.word) == ("spot", ("embed",), "only")
    c = parse_change("region:deny=us-central1, us-east1")
    assert (c.target, c.word, c.regions) == ((), "deny", ("us-central1", "us-east1"))
    c = parse_change("region:vit:allow=europe-west4")
    assert (c.target, c.word, c.regions) == (("vit",), "allow", ("europe-west4",))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parse_never_crashes(text: str) -> None:
    """Any text parses or fails with one UsageError line naming the change."""
    try:
        parse_change(text)
    except UsageError as err:
        assert "\n" not in str(err).strip() or "\n" in text
        assert str(err).startswith("--what-if ")


# -- applying ------------------------------------------------------------------------------
def _apply(name: str, catalog, *texts: str):  # type: ignore[no-untyped-def]
    return apply_changes(spec_of(plans.planned(name)), [parse_change(t) for t in texts], catalog)


def test_quota_changes_add_set_and_declare(catalog) -> None:  # type: ignore[no-untyped-def]
    ws = _apply("quota-binds", catalog, "quota:gcp/us-central1/NVIDIA_A100_GPUS=+8")
    assert [q.limit for q in ws.quotas] == [16]
    ws = _apply("quota-binds", catalog, "quota:gcp/us-central1/nvidia_a100_gpus/on-demand=4")
    assert [q.limit for q in ws.quotas] == [4]  # families compare ignoring case
    ws = _apply("quota-binds", catalog, "quota:gcp/us-east1/NVIDIA_A100_GPUS=0")
    assert [(q.region, q.limit) for q in ws.quotas] == [("us-central1", 8), ("us-east1", 0)]


def test_budget_changes(catalog) -> None:  # type: ignore[no-untyped-def]
    def budget(*texts: str) -> Decimal | None:
        return _apply("quota-binds", catalog, *texts).teams["research"].monthly_budget

    assert budget("budget:research=+5000") == Decimal("55000.00")
    assert budget("budget:research=-10%") == Decimal("45000.00")
    assert budget("budget:research=1234.5") == Decimal("1234.50")
    assert budget("budget:research=none") is None
    assert budget("budget:research=+10%", "budget:research=+10%") == Decimal("60500.00")


def test_region_changes(catalog) -> None:  # type: ignore[no-untyped-def]
    ws = _apply("quota-binds", catalog, "region:deny=us-central1")
    for w in ws.workloads:
        assert w.regions.deny == ("us-central1",)
        assert w.regions.allow == ("us-east1", "us-west1")
    ws = _apply("quota-binds", catalog, "region:pretrain-a:allow=europe-west4")
    assert ws.workload("pretrain-a").regions.allow[-1] == "europe-west4"
    assert "europe-west4" not in ws.workload("pretrain-b").regions.allow
    ws = _apply("quota-binds", catalog, "region:deny=us-east1", "region:allow=us-east1")
    assert ws.workload("pretrain-a").regions.deny == ()


def test_discount_and_spot(catalog) -> None:  # type: ignore[no-untyped-def]
    ws = _apply("quota-binds", catalog, "discount:gcp=0.8", "spot:pretrain-b=allow")
    assert ws.pricing.discounts == {"gcp": Decimal("0.8")}
    assert ws.workload("pretrain-b").resources.use_spot == "auto"
    assert ws.workload("pretrain-a").resources.use_spot is False
    ws = _apply("quota-binds", catalog, "discount:gcp=0.8", "discount:gcp=none",
                "spot:pretrain-a=only")
    assert ws.pricing.discounts == {}
    assert ws.workload("pretrain-a").resources.use_spot is True


def test_changes_do_not_touch_the_plan(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = plans.planned("quota-binds")
    before = json.dumps(plan.spec, sort_keys=True)
    _apply("quota-binds", catalog, "quota:gcp/us-central1/NVIDIA_A100_GPUS=+8", "region:deny=us-east1")
    assert json.dumps(plan.spec, sort_keys=True) == before


def _displaced() -> tuple[str, ...]:
    """The workloads the binding quota keeps out of gcp/us-central1."""
    (b,) = [b for b in plans.planned("quota-binds").binding if b.id == QUOTA]
    return b.workloads


# -- re-solving ----------------------------------------------------------------------------
def test_lifting_the_binding_quota_equals_planning_the_changed_file(
        tmp_path: Path, catalog) -> None:  # type: ignore[no-untyped-def]
    """The acceptance test, through the CLI on both sides."""
    plan_path = plans.write("quota-binds", tmp_path)
    (displaced,) = _displaced()
    explained = json.loads(run_cli("explain", str(plan_path), displaced, "-f", "json").out)
    (w,) = explained["workloads"]
    assert [b["id"] for b in w["binding"]] == [QUOTA]
    assert (w["binding"][0]["used"], w["binding"][0]["limit"]) == ("8.0", "8.0")
    assert any(g["reason"] == QUOTA and "8 of 8 GPUs used" in g["text"] for g in w["cheaper"])

    r = run_cli("explain", str(plan_path), "--what-if",
                "quota:gcp/us-central1/NVIDIA_A100_GPUS=+8", "-f", "json")
    assert r.code == 0, r.err
    result = json.loads(r.out)["what_if"]
    assert Decimal(result["delta_monthly"]) < 0
    moved = {m["workload"] for m in result["moved"] if m["change"] == "moved"}
    assert displaced in moved

    changed = tmp_path / "changed.yaml"
    changed.write_text(plans.source("quota-binds").read_text().replace("limit: 8}", "limit: 16}"))
    r = run_cli("plan", str(changed), "--format", "json")
    assert r.code == 0, r.err
    replanned = loads_plan(r.out)
    base = plans.planned("quota-binds")
    assert result["new_monthly"] == str(replanned.totals.monthly)
    assert result["base_monthly"] == str(base.totals.monthly)
    expected_moves = {p.workload for p in replanned.placements
                      if base.placement(p.workload) is not None
                      and base.placement(p.workload).pool != p.pool}  # type: ignore[union-attr]
    assert moved == expected_moves
    for m in result["moved"]:
        assert m["new"]["pool"] == replanned.placement(m["workload"]).pool  # type: ignore[union-attr]


def test_what_if_plan_is_byte_identical_to_planning_the_changed_file(catalog) -> None:  # type: ignore[no-untyped-def]
    from planner.optimize.planning import plan_workloads
    from planner.spec.load import parse_workloads

    plan = plans.planned("quota-binds")
    result, new = what_if(plan, plan, ["quota:gcp/us-central1/NVIDIA_A100_GPUS=+8"], catalog,
                          time_limit=plan.solver.time_limit_s)
    text = plans.source("quota-binds").read_text().replace("limit: 8}", "limit: 16}")
    replanned = plan_workloads(parse_workloads(text, "changed.yaml", catalog), catalog)
    assert dumps_plan(new) == dumps_plan(replanned)
    assert result.binding == replanned.binding == ()


def test_no_change_means_no_moves(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = plans.planned("quota-binds")
    result, new = what_if(plan, plan, ["discount:gcp=1"], catalog,
                          time_limit=plan.solver.time_limit_s)
    assert result.delta_monthly == 0 and result.moved == ()
    assert new.spec["pricing"]["discounts"] == {"gcp": "1"}
    assert dumps_plan(new.model_copy(update={"spec": plan.spec})) == dumps_plan(plan)


def test_compare_reports_placed_and_unplaced() -> None:
    plan = plans.planned("unplaced")
    emptied = plan.model_copy(update={"placements": ()})
    forward = compare(emptied, plan, ["x"])
    assert [(m.workload, m.change) for m in forward.moved] == [("first", "placed")]
    back = compare(plan, emptied, ["x"])
    assert [(m.workload, m.change, m.new) for m in back.moved] == [("first", "unplaced", None)]
    assert sum(m.delta for m in back.moved) == -plan.totals.monthly


def test_constraint_value_matches_its_what_if(catalog) -> None:  # type: ignore[no-untyped-def]
    """The value of a binding quota is the saving of the what-if it prints."""
    plan = plans.planned("quota-binds")
    (value,) = constraint_values(plan, plan, catalog, time_limit=plan.solver.time_limit_s)
    assert value.id == QUOTA
    assert value.change == "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand=+8"  # one A100 node
    assert value.step == "+8 A100 GPUs in gcp/us-central1"
    assert value.saving is not None and value.saving > 0
    result, _ = what_if(plan, plan, [value.change], catalog, time_limit=plan.solver.time_limit_s)
    assert value.saving == -result.delta_monthly
    assert value.text.startswith(f"+8 A100 GPUs in gcp/us-central1 would save ${value.saving:,.2f}")


def test_constraint_value_of_a_blocking_quota_places_the_workload(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = plans.planned("unplaced")
    (value,) = constraint_values(plan, plan, catalog, time_limit=plan.solver.time_limit_s)
    assert value.change == "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand=+8"
    assert [m.workload for m in value.moved if m.change == "placed"] == ["second"]
    assert value.saving is not None and value.saving < 0  # placing it costs money
    assert "would place second" in value.text


@pytest.mark.skipif(not plans.source("multi-team").exists(), reason="examples/multi-team not present")
def test_budget_value_is_what_the_blocked_workload_needs(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = plans.planned("multi-team")
    values = {v.id: v for v in constraint_values(plan, plan, catalog,
                                                 time_limit=plan.solver.time_limit_s)}
    budgets = [v for v in values.values() if v.kind == "budget"]
    for v in budgets:
        assert v.change is not None and v.change.startswith(f"budget:{v.id.split(':')[1]}=+")
        step = Decimal(v.change.rsplit("+", 1)[1])
        assert step >= v.binding.limit * Decimal("0.1")
        assert v.moved, "relaxing a binding budget should change the plan"


@pytest.mark.skipif(not plans.source("burst").exists(), reason="examples/burst not present")
def test_capacity_changes(catalog) -> None:  # type: ignore[no-untyped-def]
    ws = _apply("burst", catalog, "capacity:onprem-a100=+8")
    before = {c.name: c.gpus for c in spec_of(plans.planned("burst")).clusters}
    assert {c.name: c.gpus for c in ws.clusters} == {"onprem-a100": before["onprem-a100"] + 8}
    with pytest.raises(UsageError, match="at least 1 needed"):
        _apply("burst", catalog, f"capacity:onprem-a100=-{before['onprem-a100']}")
