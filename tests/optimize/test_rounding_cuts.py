"""Rounding cuts in the all-offer bound (:mod:`planner.optimize.poolcuts`): the bound pays
the whole nodes of shared pools, and never exceeds the true optimum."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.optimize.planning import plan_workloads
from planner.spec.load import parse_workloads
from tests.optimize.test_all_offer_bound import full_optimum, placed
from tests.optimize.test_planner_properties import SETTINGS
from tests.synthetic import workload_set

GCP = {"cloud": "gcp", "region": "us-central1"}
SHARED = [
    {"accelerators": "A100:0.25"},
    {"accelerators": "A100", "gpu": {"mig": "1g.5gb"}},
    {"accelerators": "A100", "gpu": {"fraction": 0.5, "isolation": "hard"}},
    {"accelerators": "T4:0.5"},
    {"accelerators": "L4", "gpu": {"memory": "2.5GiB", "isolation": "none"}},
    {"accelerators": "A100:1"},
]


def test_a_quarter_gpu_alone_pays_its_whole_node_in_the_bound(full_catalog: Any) -> None:
    """One quarter-A100 service: the plan runs a whole a2-highgpu-1g for it, the LP alone
    charges a quarter of one (gap 75 %); with the cut n >= x the bound is the plan's cost."""
    text = ("teams: {t: {}}\nworkloads:\n  - {name: embed, team: t, kind: service, "
            "resources: {accelerators: 'A100:0.25', cloud: gcp, region: us-central1}}\n")
    ws = parse_workloads(text, "w.yaml", full_catalog)
    plan = plan_workloads(ws, full_catalog)
    assert [p.nodes for p in plan.pools] == [1]
    assert plan.solver.bound_scope == "all-offers"
    assert float(plan.solver.lower_bound) == pytest.approx(float(plan.totals.monthly), rel=1e-6)


@st.composite
def shared_sets(draw: Any) -> dict[str, Any]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        w: dict[str, Any] = {"name": f"w{i}", "team": draw(st.sampled_from(["a", "b"])),
                             "resources": {**draw(st.sampled_from(SHARED)), **GCP}}
        if draw(st.booleans()):
            w["kind"] = "service"
        else:
            w["work"] = {"duration_hours": draw(st.sampled_from([5, 40, 200, 730, 900]))}
        out.append(w)
    quotas = [{"cloud": "gcp", "region": "us-central1", "family": "NVIDIA_A100_GPUS",
               "limit": draw(st.sampled_from([1, 2, 8]))}] if draw(st.booleans()) else []
    teams = {t: ({"monthly_budget": str(draw(st.integers(300, 6000)))} if draw(st.booleans())
                 else {}) for t in ("a", "b")}
    return {"workloads": out, "quotas": quotas, "teams": teams}


@given(spec=shared_sets())
@SETTINGS
def test_bound_with_cuts_below_the_optimum_of_shared_pools(spec: dict[str, Any],
                                                          full_catalog: Any) -> None:
    """On random small sets of shared and whole-GPU jobs of different hours in one region,
    some under an A100 quota or team budgets: all-offer bound (rounding cuts included) <=
    the uncapped MILP's optimum <= plan cost."""
    ws = workload_set([dict(w) for w in spec["workloads"]], quotas=spec["quotas"],
                      teams=spec["teams"])
    plan = plan_workloads(ws, full_catalog, time_limit=10)
    if not plan.placements:
        return
    with pytest.MonkeyPatch.context() as m:
        best = full_optimum(ws, full_catalog, placed(plan), m)
    assert best is not None
    assert float(plan.solver.lower_bound) <= best + 1e-3
    assert best <= float(plan.totals.monthly) + 0.01
