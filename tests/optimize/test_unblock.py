"""What would place an unplaced job: minimal relaxation sets, each priced (issue 18)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from planner.errors import PlanFileError
from planner.optimize.planning import plan_workloads
from planner.plan import Plan, Unplaced, dumps_plan, loads_plan, unblock_text
from tests.cli import run_cli
from tests.synthetic import job, small_catalog, workload_set

QUOTA = "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand"


def _three_ways_plan() -> Plan:
    """A100:8 on-demand in us-central1 only, where the on-demand quota holds 4 GPUs:
    more quota, another region, or spot would each place it alone."""
    ws = workload_set(
        [job("big", "A100:8", resources={"use_spot": False},
             regions={"allow": ["us-central1"]})],
        quotas=[{"cloud": "gcp", "region": "us-central1", "family": "NVIDIA_A100_GPUS",
                 "limit": 4}])
    return plan_workloads(ws, small_catalog(), time_limit=10)


def _three_ways() -> Unplaced:
    plan = _three_ways_plan()
    assert not plan.placements
    (u,) = plan.unplaced
    return u


def test_a_job_any_one_of_three_relaxations_would_place() -> None:
    u = _three_ways()
    # cheapest first: spot, then another region (Azure), then more quota
    assert [x.relax for x in u.unblock] == [
        ("spot-not-allowed",), ("region-not-allowed",), (QUOTA,)]
    # each set at the cheapest offer it opens, what the plan would pay a month (10 h)
    by = {x.relax[0]: x for x in u.unblock}
    assert by[QUOTA].offer == "gcp/us-central1/us-central1-a/a2-highgpu-8g+A100:8"
    assert by[QUOTA].monthly == Decimal("293.8710")
    assert by["region-not-allowed"].offer == "azure/eastus/-/Standard_ND96asr_v4+A100:8"
    assert by["region-not-allowed"].monthly == Decimal("271.9700")
    assert by["spot-not-allowed"].offer.endswith("a2-highgpu-8g+A100:8 spot")
    assert by["spot-not-allowed"].monthly < by["region-not-allowed"].monthly
    assert unblock_text(u).startswith("any one of: spot-not-allowed ($")
    assert unblock_text(u).endswith(f"region-not-allowed ($271.97/month), {QUOTA} "
                                    "($293.87/month)")


def test_explain_says_any_one_of(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(_three_ways_plan()))
    text = run_cli("explain", str(path), "big").out
    assert "To place it, relax any one of:" in text
    assert f"- {QUOTA}: then $293.87/month on gcp/us-central1" in text
    assert "Blocked by" not in text
    overview = run_cli("explain", str(path)).out
    assert "big [ml] placed by relaxing any one of:" in overview
    md = run_cli("explain", str(path), "-f", "md").out
    assert ("`big` (ml): placed by relaxing any one of: `spot-not-allowed` ($"
            in md)
    assert f"`region-not-allowed` ($271.97/month), `{QUOTA}` ($293.87/month)" in md


def test_quota_spot_and_the_cloud_pin_each_place_it_alone_and_no_set_contains_another() -> None:
    """Pinned to GCP with use_spot false and a 4-GPU quota in both GCP regions: more quota,
    spot (no spot quota is declared) or leaving GCP would each place it alone, so each is a
    one-member set; and no set contains another (minimal)."""
    ws = workload_set(
        [job("big", "A100:8", resources={"cloud": "gcp", "use_spot": False})],
        quotas=[{"cloud": "gcp", "region": r, "family": "NVIDIA_A100_GPUS", "limit": 4}
                for r in ("us-central1", "us-east1")])
    (u,) = plan_workloads(ws, small_catalog(), time_limit=10).unplaced
    sets = [set(x.relax) for x in u.unblock]
    assert {QUOTA} in sets and {"spot-not-allowed"} in sets
    assert {"cloud-pinned"} in sets
    for i, s in enumerate(sets):  # minimal: none contains another
        assert not any(j != i and t <= s for j, t in enumerate(sets))


def test_the_plan_reader_refuses_a_set_that_is_not_minimal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    data = json.loads(dumps_plan(_three_ways_plan()))
    unblock = data["unplaced"][0]["unblock"]
    unblock[1]["relax"] = sorted([*unblock[1]["relax"], unblock[0]["relax"][0]])
    with pytest.raises(PlanFileError, match=r"unplaced\[0\]\.unblock\[1\]\.relax: not minimal"):
        loads_plan(json.dumps(data))
    unblock[1]["relax"] = ["spot-not-allowed", "region-not-allowed"]
    with pytest.raises(PlanFileError, match="sorted and unique"):
        loads_plan(json.dumps(data))
