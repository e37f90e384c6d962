"""Brief §6 case 13: a MIG profile change is a pool replacement in the diff (GKE recreates
the node pool; AKS cannot change the profile, so a new agent pool), and at the cloud the
new pool has a new name."""

from __future__ import annotations

from typing import Any

import pytest

from components.builders.pool_args import aks_agent_pool_name, gke_node_pool_name, pool_args
from components.builders.specs import plan_specs
from planner.optimize.planning import plan_workloads
from planner.plan import Plan
from planner.review.diff import diff_plans
from planner.review.diffrender import render_markdown, render_text
from planner.spec.load import parse_workloads


def _plan(catalog: Any, where: str, profile: str) -> Plan:
    text = "teams: {docs: {}}\nworkloads:\n" + "".join(
        f"  - {{name: ocr-{i}, team: docs, kind: service, resources: {{{where}, "
        f"gpu: {{mig: {profile}}}}}}}\n" for i in range(3))
    return plan_workloads(parse_workloads(text, "w.yaml", catalog), catalog)


@pytest.mark.parametrize(("where", "before", "after", "note"), [
    ("cloud: gcp, region: us-central1", "1g.5gb", "2g.10gb", "GKE recreates the node pool"),
    ("cloud: azure, region: eastus", "1g.10gb", "2g.20gb", "a new AKS agent pool"),
    # the brief's own profiles on AKS: an A100 40GB (ND96asr_v4), MIG1g -> MIG2g
    ("accelerators: A100, cloud: azure, region: eastus", "1g.5gb", "2g.10gb",
     "a new AKS agent pool"),
])
def test_case13_profile_change_is_a_replacement(full_catalog: Any, where: str, before: str,
                                                after: str, note: str) -> None:
    base, new = _plan(full_catalog, where, before), _plan(full_catalog, where, after)
    diff = diff_plans(base, new)
    [change] = diff.pools
    assert change.change == "replaced"
    assert (change.base_sharing, change.new_sharing) == (f"mig:{before}", f"mig:{after}")
    assert change.replaces == base.pools[0].id and change.id == new.pools[0].id
    assert (change.base_nodes, change.new_nodes) == (1, 1)
    text = render_text(diff)
    assert f"mig:{before} -> mig:{after}" in text and note in text
    assert note in render_markdown(diff)
    old, cur = plan_specs(base).pools[0], plan_specs(new).pools[0]
    name = gke_node_pool_name if old.cloud == "gcp" else aks_agent_pool_name
    assert name(old) != name(cur)  # a new pool at the cloud, never an in-place change
    if old.cloud == "azure":
        profiles = {"1g.5gb": "MIG1g", "2g.10gb": "MIG2g", "1g.10gb": "MIG1g", "2g.20gb": "MIG2g"}
        assert pool_args(old)["gpu_instance_profile"] == profiles[before]
        assert pool_args(cur)["gpu_instance_profile"] == profiles[after]


def test_same_machines_in_the_same_mode_are_not_a_replacement(full_catalog: Any) -> None:
    base = _plan(full_catalog, "cloud: gcp, region: us-central1", "1g.5gb")
    diff = diff_plans(base, base)
    assert diff.pools == ()
