"""``--what-if stockout:...``: the plan re-solved without a pool, what it costs, and whether
the workloads that move land on their planned fallbacks."""

from __future__ import annotations

import pytest

from planner.errors import UsageError
from planner.explain.stockout import parse_stockout, without
from planner.explain.whatif import what_if
from planner.optimize.planning import plan_workloads
from planner.plan import Plan
from tests.synthetic import fallback_catalog, fallback_policy, job, offer, workload_set

CATALOG = fallback_catalog()


def _plan() -> Plan:
    ws = workload_set([job("train", "A100:8", 10, fallbacks=fallback_policy())])
    return plan_workloads(ws, CATALOG, time_limit=5)


def test_stockout_of_the_choice_moves_to_the_first_fallback_at_its_premium() -> None:
    plan = _plan()
    p = plan.placement("train")
    assert p is not None and p.zone == "us-central1-a"
    first = p.fallbacks[0]
    result, new = what_if(plan, plan, ["stockout:gcp/us-central1-a/a2-highgpu-8g"], CATALOG,
                          time_limit=5)
    (move,) = result.moved
    assert move.new is not None and move.new.pool == first.pool
    assert move.fallback_rank == 1
    assert result.delta_monthly == first.premium  # what the PR showed
    assert all(o.zone != "us-central1-a" for o in without(CATALOG, [
        parse_stockout("gcp/us-central1-a/a2-highgpu-8g")]) if o.cloud == "gcp")


def test_a_region_stockout_takes_every_zone() -> None:
    plan = _plan()
    result, new = what_if(plan, plan, ["stockout:gcp/us-central1/a2-highgpu-8g"], CATALOG,
                          time_limit=5)
    moved = new.placement("train")
    assert moved is not None and moved.region == "us-east1"
    p = plan.placement("train")
    assert p is not None
    assert result.moved[0].fallback_rank == 2 and result.delta_monthly == p.fallbacks[1].premium


def test_spot_only_stockout_keeps_on_demand() -> None:
    cat = CATALOG.with_offers([offer("gcp", "us-west1", "a2-highgpu-8g", "A100", 8, "40",
                                     spot="9", zone="us-west1-b")])
    gone = without(cat, [parse_stockout("gcp/us-west1/a2-highgpu-8g/spot")])
    (left,) = [o for o in gone if o.region == "us-west1"]
    assert left.spot_price is None and left.price == 40


@pytest.mark.parametrize("text,message", [
    ("stockout:gcp/us-central1", "a stockout is stockout:CLOUD/REGION-or-ZONE/INSTANCE_TYPE"),
    ("stockout:oracle/us-central1/x", "unknown cloud 'oracle'"),
    ("stockout:gcp/us-central1/a2-higpu-8g", "did you mean 'a2-highgpu-8g'?"),
    ("stockout:gcp/mars-1/a2-highgpu-8g", "gcp has no region or zone 'mars-1'"),
    ("stockout:gcp/us-central1/a2-highgpu-8g/od", "a stockout is stockout:"),
])
def test_bad_stockouts_are_one_line_usage_errors(text: str, message: str) -> None:
    plan = _plan()
    with pytest.raises(UsageError) as err:
        what_if(plan, plan, [text], CATALOG, time_limit=5)
    assert message in str(err.value) and "\n" not in str(err.value)
