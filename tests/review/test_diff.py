"""PlanDiff: what it reports for each kind of change, and its invariants."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.plan import Plan
from planner.review.diff import ZERO, diff_plans, pct
from tests.fixtures.diff import scenarios
from tests.fixtures.diff.factory import OFFERS, W, make_plan


def test_diff_of_a_plan_with_itself_is_empty() -> None:
    d = diff_plans(scenarios.base(), scenarios.base())
    assert d.empty
    assert (d.pools, d.workloads) == ((), ())
    assert d.total.delta_monthly == ZERO and d.total.delta_pct == Decimal("0.0")


def test_quota_lowered_moves_the_workload_and_names_the_quota() -> None:
    d = diff_plans(scenarios.base(), scenarios.quota_lowered())
    [w] = d.workloads
    assert (w.workload, w.change) == ("vit-pretrain", "moved")
    assert w.base is not None and w.new is not None
    assert (w.base.cloud, w.base.instance_type) == ("aws", "p4d.24xlarge")
    assert (w.new.cloud, w.new.instance_type) == ("gcp", "a2-highgpu-8g")
    assert "quota aws/us-east-1/P (on-demand) 192 -> 96" in w.reason
    assert "constraint quota:aws/us-east-1/P/on-demand binds" in w.reason
    # 4 runs x 24 h x (29.38712 - 21.957642) $/h, each hourly price kept to 4 places in the plan
    assert w.delta_monthly == 4 * 24 * (Decimal("29.3871") - Decimal("21.9576")) == Decimal("713.232")
    assert {(p.id, p.change) for p in d.pools} == {
        ("aws-us-east-1-p4d-24xlarge-on-demand", "removed"),
        ("gcp-us-central1-a-a2-highgpu-8g-on-demand", "added"),
    }


def test_region_denied_is_the_reason() -> None:
    d = diff_plans(scenarios.base(), scenarios.region_denied())
    [w] = d.workloads
    assert w.reason == "region us-central1 denied"
    assert w.new is not None and w.new.region == "europe-west4"


def test_budget_raised_reason_and_no_budget_crossed() -> None:
    d = diff_plans(scenarios.base(), scenarios.budget_raised())
    [w] = d.workloads
    assert w.reason == "budget of team research changed $60,000 -> $90,000"
    research = next(b for b in d.budgets if b.team == "research")
    assert (research.base_budget, research.new_budget) == (Decimal("60000"), Decimal("90000"))
    assert research.crossed is None


def test_workload_added_crosses_a_budget() -> None:
    d = diff_plans(scenarios.base(), scenarios.workload_added())
    [w] = d.workloads
    assert (w.workload, w.change, w.base) == ("llama-70b-sft", "added", None)
    # 4 nodes x 3.673 $/h x 48 h x 4 runs
    assert w.delta_monthly == Decimal("4") * Decimal("3.673") * 48 * 4
    product = next(b for b in d.budgets if b.team == "product")
    assert (product.base_over, product.new_over, product.crossed) == (False, True, "over")
    [azure] = [g for g in d.by_cloud if g.name == "azure"]
    assert azure.base_monthly == ZERO and azure.delta_pct is None


def test_unplaced_and_placed_workloads() -> None:
    ws = [W("a", "t", "gcp-g2"), W("b", "t", "aws-g5")]
    base = make_plan(ws)
    new = make_plan(ws[:1], unplaced=[("b", "t", "quota", "aws/us-east-1/G quota 0")])
    d = diff_plans(base, new)
    [w] = d.workloads
    assert (w.workload, w.change, w.new) == ("b", "unplaced", None)
    assert w.reason == "unplaced: quota: aws/us-east-1/G quota 0"
    back = diff_plans(new, base)
    assert [(x.workload, x.change) for x in back.workloads] == [("b", "placed")]


def test_pct_rounds_to_one_place_and_is_none_from_zero() -> None:
    assert pct(Decimal("12400"), Decimal("153086")) == Decimal("8.1")
    assert pct(Decimal("1"), ZERO) is None


# --- properties -------------------------------------------------------------------------------

_workload = st.builds(
    W,
    name=st.sampled_from([f"w{i}" for i in range(8)]),
    team=st.sampled_from(["red", "blue", "green"]),
    offer=st.sampled_from(sorted(OFFERS)),
    nodes=st.integers(1, 4),
    spot=st.booleans(),
    hours=st.one_of(st.none(), st.sampled_from([1.0, 2.5, 12.0, 100.0])),
    runs=st.sampled_from([1.0, 3.0, 30.0]),
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    ws = draw(st.lists(_workload, min_size=0, max_size=8, unique_by=lambda w: w.name))
    budgets = draw(st.dictionaries(st.sampled_from(["red", "blue"]),
                                   st.sampled_from(["100", "5000", "90000"])))
    return make_plan(ws, budgets)


@settings(max_examples=60, deadline=None)
@given(plans())
def test_property_diff_with_itself_is_empty(a: Plan) -> None:
    d = diff_plans(a, a)
    assert d.empty and not d.pools and not d.workloads
    assert all(not g.changed for g in d.by_team + d.by_cloud + d.by_region)


@settings(max_examples=80, deadline=None)
@given(plans(), plans())
def test_property_totals_are_the_difference_of_the_plans(a: Plan, b: Plan) -> None:
    d = diff_plans(a, b)
    assert d.total.delta_monthly == b.totals.monthly - a.totals.monthly
    assert d.total.delta_hourly == b.totals.hourly - a.totals.hourly
    for groups, old, new in ((d.by_team, a.totals.by_team, b.totals.by_team),
                             (d.by_cloud, a.totals.by_cloud, b.totals.by_cloud),
                             (d.by_region, a.totals.by_region, b.totals.by_region)):
        assert [g.name for g in groups] == sorted(set(old) | set(new))
        for g in groups:
            before = old[g.name].monthly if g.name in old else ZERO
            after = new[g.name].monthly if g.name in new else ZERO
            assert g.delta_monthly == after - before
    # per-workload deltas add up to the total: every placement's cost is in exactly one row
    assert sum((w.delta_monthly for w in d.workloads), ZERO) == d.total.delta_monthly
    assert sum((p.delta_monthly for p in d.pools), ZERO) == d.total.delta_monthly


@settings(max_examples=60, deadline=None)
@given(plans(), plans())
def test_property_diff_is_antisymmetric(a: Plan, b: Plan) -> None:
    there, back = diff_plans(a, b), diff_plans(b, a)
    assert there.total.delta_monthly == -back.total.delta_monthly
    flip = {"added": "removed", "removed": "added", "resized": "resized", "repriced": "repriced",
            "reassigned": "reassigned"}
    assert {(p.id, flip[p.change]) for p in there.pools} == {(p.id, p.change) for p in back.pools}
    assert [w.workload for w in there.workloads] == [w.workload for w in back.workloads]
