"""Capacity fallbacks (planner/optimize/fallbacks.py): ranking, premium, scopes, quota
headroom, min-0 pools, worst case. Prices come from small hand-made catalogs so every
expected premium is recomputed here from the catalog, never copied from the planner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.catalog.model import Catalog
from planner.optimize.fallbacks import scope_between
from planner.optimize.planning import plan_workloads
from planner.plan import Placement, Plan
from tests.synthetic import (
    FALLBACK_PLACES,
    fallback_catalog,
    fallback_policy,
    job,
    offer,
    workload_set,
)

PLACES = FALLBACK_PLACES


def catalog(places: list[tuple[str, str, str | None, str, str]] | None = None) -> Catalog:
    return fallback_catalog(places)


def price_of(cat: Catalog, key: str) -> Decimal:
    return next(o.price for o in cat if o.key == key)


def plan(workloads: list[dict[str, Any]], cat: Catalog | None = None, **extra: Any) -> Plan:
    return plan_workloads(workload_set(workloads, **extra), cat or catalog(), time_limit=5)


def placed(p: Plan, name: str) -> Placement:
    found = p.placement(name)
    assert found is not None, f"{name} unplaced"
    return found


policy = fallback_policy


def test_ranked_cheapest_first_zone_then_region_with_catalog_premiums() -> None:
    cat = catalog()
    p = placed(plan([job("train", "A100:8", 10, fallbacks=policy())], cat), "train")
    assert p.zone == "us-central1-a"
    got = [(f.rank, f.zone or f.region, f.scope) for f in p.fallbacks]
    assert got == [(1, "us-central1-b", "zone"), (2, "us-east1-b", "region")]
    choice = price_of(cat, "gcp/us-central1/us-central1-a/a2-highgpu-8g+A100:8") * 10
    for f in p.fallbacks:
        expected = price_of(cat, f.offer) * 10  # 1 node x $/h x 10 h, one run a month
        assert f.monthly == expected.quantize(Decimal("0.0001"))
        assert f.premium == f.monthly - p.monthly
        assert p.monthly == choice.quantize(Decimal("0.0001"))
        assert f.premium_pct == (f.premium / p.monthly * 100).quantize(Decimal("0.01"))
    assert p.fallback_note is None
    assert "ahead of gcp/us-east1" in p.fallbacks[0].why
    assert "ahead of aws/us-east-1" in p.fallbacks[1].why


def test_across_limits_the_scopes() -> None:
    p = placed(plan([job("train", "A100:8", 10, fallbacks=policy(across=["region", "cloud"]))]),
               "train")
    assert [(f.cloud, f.region) for f in p.fallbacks] == [("gcp", "us-east1"), ("aws", "us-east-1")]
    p = placed(plan([job("train", "A100:8", 10, fallbacks=policy(2, "100%", ["cloud"]))]), "train")
    assert [f.cloud for f in p.fallbacks] == ["aws", "azure"]
    assert all(f.scope == "cloud" for f in p.fallbacks)


def test_only_fallback_within_premium_in_another_cloud() -> None:
    places = [PLACES[0], ("gcp", "europe-west4", "europe-west4-a", "a2-highgpu-8g", "47.0000"),
              PLACES[3]]
    p = placed(plan([job("train", "A100:8", 10, fallbacks=policy())], catalog(places)), "train")
    assert [(f.cloud, f.scope) for f in p.fallbacks] == [("aws", "cloud")]
    assert p.fallbacks[0].cluster != p.cluster
    assert p.fallback_note is not None and p.fallback_note.startswith("1 of 2 fallbacks within 30%")
    assert "europe-west4" in p.fallback_note


def test_none_within_premium_lists_none_and_says_why() -> None:
    p = placed(plan([job("train", "A100:8", 10, fallbacks=policy(2, "5%", ["cloud"]))]), "train")
    assert p.fallbacks == ()
    assert p.fallback_note is not None
    assert p.fallback_note.startswith("no fallback within 5%")
    aws = (price_of(catalog(), "aws/us-east-1/-/p4d.24xlarge+A100:8") / Decimal("29.3871") - 1) * 100
    assert f"aws/us-east-1/-/p4d.24xlarge+A100:8 at +{aws:.1f}%" in p.fallback_note


def test_fallback_over_a_declared_quota_if_used_is_not_offered() -> None:
    quotas = [{"cloud": "gcp", "region": "us-east1", "family": "NVIDIA_A100_GPUS", "limit": 8}]
    workloads = [
        job("main", "A100:8", 10, fallbacks=policy(1, "30%", ["region", "cloud"])),
        job("other", "A100:8", 10, resources={"region": "us-east1"}),
    ]
    p = plan(workloads, quotas=quotas)
    assert placed(p, "other").region == "us-east1"  # the quota is used up by "other"
    main = placed(p, "main")
    assert all(f.region != "us-east1" for f in main.fallbacks)
    assert [f.region for f in main.fallbacks] == ["us-east-1"]  # AWS is the next region
    assert "no headroom in quota:gcp/us-east1/NVIDIA_A100_GPUS/on-demand" in main.fallbacks[0].why
    # with room for one more job, the same region is offered
    roomy = [{**quotas[0], "limit": 16}]
    assert [f.region for f in placed(plan(workloads, quotas=roomy), "main").fallbacks] == [
        "us-east1"]


def test_a_zone_sibling_at_a_flagged_price_is_not_offered() -> None:
    """us-central1-b sells the choice's type at $5/h, under 40 % of its median across regions:
    a price row the planner does not trust (planner/catalog/sanity.py). It is not the choice,
    and not a fallback at a negative premium either."""
    from planner.catalog.sanity import catalog_flags

    places = [PLACES[0], ("gcp", "us-central1", "us-central1-b", "a2-highgpu-8g", "5.0000"),
              PLACES[2], ("gcp", "europe-west4", "europe-west4-a", "a2-highgpu-8g", "30.0000")]
    cat = catalog(places)
    assert [(f.offer.zone, f.spot) for f in catalog_flags(cat)] == [("us-central1-b", False)]
    p = placed(plan([job("train", "A100:8", 10, fallbacks=policy(2, "30%", ["zone", "region"]))],
                    cat), "train")
    assert p.zone == "us-central1-a"
    assert [f.zone for f in p.fallbacks] == ["europe-west4-a", "us-east1-b"]
    assert all(f.premium > 0 for f in p.fallbacks)


@pytest.mark.parametrize(("regions", "expected"), [
    ({}, ["us-central1", "us-east1", "us-east-1"]),
    ({"deny": ["us-east1"]}, ["us-central1", "us-east-1", "eastus"]),
    ({"allow": ["us-central1", "eastus"]}, ["us-central1", "eastus"]),
])
def test_fallbacks_keep_the_region_policy(regions: dict[str, list[str]],
                                          expected: list[str]) -> None:
    """Without a policy the three cheapest other places; a denied region is skipped for the
    next one; an allow list leaves two places, and the note says why there are not three."""
    rule = policy(3, "60%", ["zone", "region", "cloud"])
    p = placed(plan([job("train", "A100:8", 10, fallbacks=rule, regions=regions)]), "train")
    assert [f.region for f in p.fallbacks] == expected
    assert (p.fallback_note is None) == (len(expected) == 3)


@pytest.mark.parametrize("deadline", [None, 12])
def test_fallbacks_keep_the_deadline(deadline: int | None) -> None:
    """A V100:8 node at $16/h runs the 10 h A100 job in about 20.5 h: within the premium it is
    the fourth fallback; with a 12 h deadline it is not offered and Azure's A100 takes its
    rank."""
    v100 = offer("gcp", "us-east1", "n1-highmem-96-v100x8", "V100", 8, "16.0000",
                 zone="us-east1-c")
    base = catalog()
    cat = Catalog(base.meta, (*base.offers, v100))
    extra = {} if deadline is None else {"deadline_hours": deadline}
    w = job("train", "A100:8", 10, fallbacks=policy(4, "60%", ["zone", "region", "cloud"]),
            resources={"accelerators": ["A100:8", "V100:8"]}, **extra)
    p = placed(plan([w], cat), "train")
    assert p.accelerator == "A100" and p.runtime_hours == 10.0
    got = [f.offer for f in p.fallbacks]
    assert len(got) == 4 and (v100.key in got) == (deadline is None)
    if deadline is not None:
        assert got[-1].startswith("azure/") and all(f.runtime_hours <= deadline
                                                    for f in p.fallbacks)
    else:
        assert next(f for f in p.fallbacks if f.offer == v100.key).runtime_hours > 12


def test_fallback_pools_are_min_zero_and_shared() -> None:
    p = plan([job("a", "A100:8", 10, fallbacks=policy(1)),
              job("b", "A100:8", 20, fallbacks=policy(1))])
    firsts = {placed(p, n).fallbacks[0].pool for n in ("a", "b")}
    assert len(firsts) == 1  # both fall back to the same place: one pool
    pool = p.pool(firsts.pop())
    assert (pool.nodes, pool.min_nodes, pool.max_nodes) == (0, 0, 2)
    assert pool.fallback_for == ("a", "b") and pool.workloads == ()
    assert pool.hourly == 0 and pool.monthly == 0
    assert p.totals.monthly == sum(x.monthly for x in p.placements)


def test_off_by_default_and_count_zero() -> None:
    p = plan([job("a", "A100:8", 10), job("b", "A100:8", 10, fallbacks=policy(0))])
    assert all(x.fallbacks == () and x.fallback_note is None for x in p.placements)
    assert p.worst_case is None and p.warnings == ()
    assert all(pool.fallback_for == () for pool in p.pools)


def test_team_policy_applies_and_workload_overrides() -> None:
    teams = {"ml": {"fallbacks": policy(1)}}
    p = plan([job("a", "A100:8", 10), job("b", "A100:8", 10, fallbacks=policy(0))], teams=teams)
    assert len(placed(p, "a").fallbacks) == 1
    assert placed(p, "b").fallbacks == ()


def test_worst_case_and_budget_warning() -> None:
    teams = {"ml": {"monthly_budget": "300", "fallbacks": policy(1, "30%", ["cloud"])}}
    p = plan([job("a", "A100:8", 10)], teams=teams)
    a = placed(p, "a")
    assert a.monthly < 300 < a.fallbacks[0].monthly
    assert p.worst_case is not None
    assert p.worst_case.monthly == p.totals.monthly + a.fallbacks[0].premium
    assert p.worst_case.by_team == {"ml": a.fallbacks[0].monthly}
    assert p.worst_case.over_budget == ("ml",)
    assert len(p.warnings) == 1 and p.warnings[0].startswith("team ml: worst case $")
    assert not p.teams[0].over_budget  # a warning, not a failure


def test_services_get_a_note_not_fallbacks() -> None:
    svc = {"name": "svc", "kind": "service", "resources": {"accelerators": "A100:8"},
           "fallbacks": policy(1)}
    p = placed(plan([svc]), "svc")
    assert p.fallbacks == () and p.fallback_note is not None and "Kueue" in p.fallback_note


# -- invariants -----------------------------------------------------------------------------
prices = st.decimals(min_value=Decimal("20"), max_value=Decimal("60"), places=2)
scopes = st.lists(st.sampled_from(["zone", "region", "cloud"]), min_size=1, max_size=3,
                  unique=True)


@settings(max_examples=25, deadline=None)
@given(st.lists(prices, min_size=5, max_size=5), st.integers(1, 3), st.integers(0, 80), scopes,
       st.lists(st.integers(1, 30), min_size=1, max_size=3))
def test_fallback_invariants(costs: list[Decimal], count: int, premium: int, across: list[str],
                             hours: list[int]) -> None:
    places = [(c, r, z, i, str(p)) for (c, r, z, i, _), p in zip(PLACES, costs, strict=True)]
    cat = catalog(places)
    rule = policy(count, f"{premium}%", across)
    p = plan([job(f"w{k}", "A100:8", h, fallbacks=rule) for k, h in enumerate(hours)], cat)
    for x in p.placements:
        assert len(x.fallbacks) <= count
        assert (len(x.fallbacks) == count) == (x.fallback_note is None)
        seen = [(x.cloud, x.region, x.zone)]
        for f in x.fallbacks:
            assert f.premium_pct <= premium
            assert f.monthly == (price_of(cat, f.offer) * h_of(x)).quantize(Decimal("0.0001"))
            here = (f.cloud, f.region, f.zone)
            assert all(scope_between(s, here) in across for s in seen)
            seen.append(here)
            pool = p.pool(f.pool)
            assert x.workload in pool.fallback_for and pool.min_nodes == 0
        monthly = [f.monthly for f in x.fallbacks]
        assert monthly == sorted(monthly)


def h_of(x: Placement) -> Decimal:
    return Decimal(repr(x.runtime_hours))


def test_shared_choices_fall_back_to_their_own_mode(full_catalog: Any) -> None:
    """A job asks for one slot resource everywhere: fallbacks of a MIG-sliced choice are
    pools of that mode on its cloud, never exclusive ones. Alone on a fresh node a slice pays
    for the whole node (7 slices): +600%."""
    from planner.spec.load import parse_workloads

    text = ("teams: {t: {fallbacks: {count: 2, max_premium: '700%'}}}\nworkloads:\n" + "".join(
        f"  - {{name: ocr-{i}, team: t, kind: batch, work: {{duration_hours: 5}},"
        f" resources: {{cloud: gcp, gpu: {{mig: 1g.5gb}}}}}}\n" for i in range(3)))
    p = plan_workloads(parse_workloads(text, "w.yaml", full_catalog), full_catalog)
    shared = [x for x in p.placements if p.pool(x.pool).sharing is not None]
    assert shared and any(x.fallbacks for x in shared)
    for x in shared:
        mode = p.pool(x.pool).sharing
        for f in x.fallbacks:
            assert p.pool(f.pool).sharing == mode and f.cloud == x.cloud


def test_flavor_order_refuses_a_fallback_that_reverses_another_jobs_ranking() -> None:
    """Two jobs of a team in one cluster: a ranks A before B; b may not rank B before A
    (one ClusterQueue tries flavors in one order). Another team, or another cluster, may."""
    from types import SimpleNamespace
    from typing import cast

    from planner.optimize.candidates import Option
    from planner.optimize.fallbacks import FlavorOrder

    def opt(pool: str) -> Option:
        return cast(Option, SimpleNamespace(pool_id=pool))

    a, b, c = opt("pool-a"), opt("pool-b"), opt("pool-c")
    order = FlavorOrder(lambda o: "other" if o.pool_id == "pool-c" else "main")
    order.commit("ml", [a, b])
    reason = order.conflict("ml", [b], a)
    assert reason == "team ml's queue in main already tries pool-b after pool-a"
    assert order.conflict("other-team", [b], a) is None
    assert order.conflict("ml", [a], b) is None  # the same order is fine
    assert order.conflict("ml", [b], c) is None  # another cluster: another queue
