"""The benchmark's sharing mix is what it says: at least 30 % shared requests, and its
whole-GPU twin has none (the same workloads otherwise)."""

from __future__ import annotations

from planner.spec.model import WorkloadSet
from tests.benchmark_script import load


def _module():  # type: ignore[no-untyped-def]
    return load("plan_scale")


def test_sharing_mix_has_a_third_shared_and_a_whole_gpu_twin() -> None:
    plan_scale = _module()
    shared = WorkloadSet.model_validate(plan_scale.synthetic(400, 7, "sharing"))
    whole = WorkloadSet.model_validate(plan_scale.synthetic(400, 7, "sharing", whole=True))
    count = sum(1 for w in shared.workloads if w.shared is not None)
    assert count >= 0.3 * len(shared.workloads)
    assert all(w.shared is None for w in whole.workloads)
    assert [w.name for w in shared.workloads] == [w.name for w in whole.workloads]
    changed = [(a, b) for a, b in zip(shared.workloads, whole.workloads, strict=True) if a != b]
    assert len(changed) == count
