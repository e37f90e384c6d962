"""benchmarks/replan.py's quota cut binds: it halves what the base plan uses in the quota
domain holding most of its workloads, so re-planning must move some of them out."""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from planner.catalog.load import load_catalog
from planner.optimize.candidates import quota_key_of
from tests.benchmark_script import load


def _replan() -> Any:
    return load("replan")


def _synthetic(n: int) -> dict[str, Any]:
    synthetic: Any = load("plan_scale").synthetic
    return synthetic(n, 7)  # type: ignore[no-any-return]


def test_the_quota_cut_binds_and_moves_workloads_out_of_its_domain() -> None:
    replan = _replan()
    catalog = load_catalog(None)
    data = _synthetic(20)
    base, _ = replan.timed_plan(yaml.safe_dump(data), catalog)
    cut = replan.binding_cut(base)
    pools = {p.id: p for p in base.pools}
    held = Counter(replan.pool_domain(pools[p.pool]) for p in base.placements)
    assert held[cut.domain] == max(held.values())
    assert cut.base_use == replan.quota_use(base)[cut.domain] > cut.limit == cut.base_use // 2

    changed = cut.applied(data)
    limits = [q["limit"] for q in changed["quotas"] if quota_key_of(
        q["cloud"], q["region"], q["family"], q.get("capacity", "on-demand")) == cut.domain]
    assert limits == [cut.limit]
    new, _ = replan.timed_plan(yaml.safe_dump(changed), catalog, base)
    assert replan.quota_use(new).get(cut.domain, 0.0) <= cut.limit
    assert new.stability is not None
    assert any(replan.pool_domain(pools[m.from_pool]) == cut.domain for m in new.stability.moves)


def test_a_cut_of_a_declared_quota_sets_its_limit() -> None:
    replan = _replan()
    data = _synthetic(20)
    declared = data["quotas"][0]
    domain = quota_key_of(declared["cloud"], declared["region"], declared["family"],
                          declared.get("capacity", "on-demand"))
    cut = replan.Cut(domain, declared["family"], 2.0 * declared["limit"], 3)
    changed = cut.applied(data)
    assert len(changed["quotas"]) == len(data["quotas"])
    assert changed["quotas"][0]["limit"] == 3
    assert changed["quotas"][1:] == data["quotas"][1:]
    assert data["quotas"][0]["limit"] == declared["limit"] != 3  # the input is left alone
