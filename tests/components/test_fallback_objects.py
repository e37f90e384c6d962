"""Capacity fallbacks on the generated Kubernetes objects: flavor order, the quota rule,
min-0 pools, job affinity, MultiKueue routes, and validity against the Kueue v0.19 CRDs.

The quota rule (components/builders/specs.team_quota, k8s_objects.cluster_queue): a
fallback flavor has nominalQuota 0 in the team's ClusterQueue and a borrowingLimit of
what the team's jobs that list it request, lent by the cluster's Cohort object. The
team's nominal quota is then its planned share whatever its fallbacks, and Kueue (which
takes the first flavor in order where a job fits without borrowing, stops at one where it
fits by borrowing, and passes one that would need preemption) only reaches the fallback
when the earlier flavors cannot admit the job. ``admit`` below replays that search.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from components.builders.k8s_objects import multikueue_objects, plan_objects, route_check
from components.builders.specs import POOL_LABEL, PlanSpecs, plan_specs
from planner.optimize.planning import plan_workloads
from planner.plan import Plan, stable_id
from tests.k8s_validator import pod_templates, validate_objects
from tests.synthetic import (
    FALLBACK_PLACES,
    fallback_catalog,
    fallback_policy,
    job,
    workload_set,
)

Manifest = dict[str, Any]
CROSS_CLOUD = [FALLBACK_PLACES[0],
               ("gcp", "europe-west4", "europe-west4-a", "a2-highgpu-8g", "47.0000"),
               FALLBACK_PLACES[3]]


def make(places: list[tuple[str, str, str | None, str, str]] | None = None,
         fallbacks: bool = True) -> Plan:
    rule = {"fallbacks": fallback_policy()} if fallbacks else {}
    ws = workload_set([job("a", "A100:8", 10, **rule), job("b", "A100:8", 20, **rule),
                       job("c", "A100:8", 5, team="other")])
    return plan_workloads(ws, fallback_catalog(places), time_limit=5)


def gpus(resources: list[dict[str, Any]], key: str = "nominalQuota") -> int:
    return int(next(r for r in resources if r["name"] == "nvidia.com/gpu").get(key, -1))


def queue(objs: list[Manifest], team: str) -> Manifest:
    return next(o for o in objs if o["kind"] == "ClusterQueue"
                and o["metadata"]["name"] == stable_id(team))


def flavors(cq: Manifest) -> list[dict[str, Any]]:
    return [f for g in cq["spec"]["resourceGroups"] for f in g["flavors"]]


def test_queue_flavor_order_equals_the_plans_ranking() -> None:
    plan = make()
    specs = plan_specs(plan)
    objs = plan_objects(specs)
    checked = 0
    for p in plan.placements:
        ranking = [stable_id(p.pool), *(stable_id(f.pool) for f in p.fallbacks)]
        for cluster, items in objs.items():
            local = [n for n in ranking if specs.pool(n).cluster == cluster]
            if len(local) < 2:
                continue
            order = [f["name"] for f in flavors(queue(items, p.team))]
            assert [n for n in order if n in local] == local, (p.workload, cluster)
            checked += 1
    assert checked >= 2  # a and b each have a choice and a zone fallback in one cluster


def test_fallback_pools_start_at_zero_nodes() -> None:
    plan = make()
    specs = plan_specs(plan)
    fallback_only = [p for p in plan.pools if p.fallback_for and not p.workloads]
    assert fallback_only
    for pool in fallback_only:
        spec = specs.pool(stable_id(pool.id))
        assert (spec.min_nodes, spec.desired_nodes) == (0, 0)
        assert spec.max_nodes == len(pool.fallback_for)  # one 8-GPU node per A100:8 job
        assert spec.labels[POOL_LABEL] == spec.name
        assert spec.taints and spec.tolerations  # labelled and tainted like primary pools
        assert spec.tags["gpuplan-fallback-for"] == "_".join(pool.fallback_for)


def _nominal_by_team(objs: dict[str, list[Manifest]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for cluster, items in objs.items():
        for cq in (o for o in items if o["kind"] == "ClusterQueue"):
            out[(cluster, cq["metadata"]["name"])] += sum(gpus(f["resources"])
                                                          for f in flavors(cq))
    return out


def test_quota_rule_fallbacks_never_add_nominal_quota() -> None:
    with_fb, without = make(), make(fallbacks=False)
    assert [p.pool for p in with_fb.placements] == [p.pool for p in without.placements]
    objs = plan_objects(plan_specs(with_fb))
    nominal = _nominal_by_team(objs)
    baseline = _nominal_by_team(plan_objects(plan_specs(without)))
    for key, value in baseline.items():
        assert nominal[key] == value, key
    assert sum(nominal.values()) == sum(baseline.values()) == 24  # 3 jobs x 8 GPUs
    specs = plan_specs(with_fb)
    for items in objs.values():
        lent: dict[str, int] = defaultdict(int)
        for cq in (o for o in items if o["kind"] == "ClusterQueue"):
            team = cq["metadata"]["name"]
            for f in flavors(cq):
                planned = [j for j in specs.jobs if j.team == team and j.pool == f["name"]]
                listing = [j for j in specs.jobs if j.team == team and f["name"] in j.fallback_pools]
                if planned or not listing:
                    assert gpus(f["resources"], "borrowingLimit") == -1  # unchanged, unlimited
                    continue
                assert gpus(f["resources"]) == 0
                need = sum(r.replicas * r.gpus for j in listing for r in j.roles)
                assert gpus(f["resources"], "borrowingLimit") == need
                lent[f["name"]] += need
        cohorts = [o for o in items if o["kind"] == "Cohort"]
        if not lent:
            assert cohorts == []
            continue
        (cohort,) = cohorts
        assert {f["name"]: gpus(f["resources"]) for f in flavors(cohort)} == dict(lent)


def admit(cq: Manifest, cohort: Manifest | None, used: dict[str, int], request: int,
          allowed: list[str]) -> str | None:
    """Kueue v0.19's flavor search for one GPU request, as documented (cluster_queue.md,
    FlavorFungibility), on one ClusterQueue and its Cohort: fits without borrowing ->
    taken; fits by borrowing (whenCanBorrow: MayStopSearch) -> taken; else next flavor."""
    assert cq["spec"]["flavorFungibility"] == {"whenCanBorrow": "MayStopSearch",
                                               "whenCanPreempt": "TryNextFlavor"}
    lent = {f["name"]: gpus(f["resources"]) for f in flavors(cohort)} if cohort else {}
    for f in flavors(cq):
        name = f["name"]
        if name not in allowed:  # the pod's node affinity does not match the flavor
            continue
        nominal = gpus(f["resources"])
        if used[name] + request <= nominal:
            return name
        borrow = used[name] + request - nominal
        limit = gpus(f["resources"], "borrowingLimit")
        if borrow <= lent.get(name, 0) and (limit < 0 or borrow <= limit):
            return name
    return None


def test_kueue_takes_the_fallback_only_when_the_choice_cannot_admit() -> None:
    plan = make()
    specs = plan_specs(plan)
    a = next(j for j in specs.jobs if j.workload == "a")
    objs = plan_objects(specs)[a.cluster]
    cq = queue(objs, a.team)
    cohort = next((o for o in objs if o["kind"] == "Cohort"), None)
    local = [n for n in a.flavors if specs.pool(n).cluster == a.cluster]
    used: dict[str, int] = defaultdict(int)
    # as planned: every job on its choice
    for j in (x for x in specs.jobs if x.team == a.team and x.cluster == a.cluster):
        got = admit(cq, cohort, used, 8, list(j.flavors))
        assert got == j.pool
        used[got] += 8
    # the choice's quota is taken (a re-run of a while a runs): the next flavor admits it
    second = admit(cq, cohort, used, 8, local)
    assert second == local[1]
    used[second] += 8
    planned = sum(gpus(f["resources"]) for f in flavors(cq))
    assert sum(used[n] for n in local if gpus(_flavor(cq, n)["resources"]) > 0) <= planned
    # the stockout runbook: the choice's quota set to 0, the job is admitted on its fallback
    stocked = _with_nominal(cq, a.pool, 0)
    assert admit(stocked, cohort, defaultdict(int), 8, list(a.flavors)) == local[1]


def _flavor(cq: Manifest, name: str) -> dict[str, Any]:
    return next(f for f in flavors(cq) if f["name"] == name)


def _with_nominal(cq: Manifest, name: str, value: int) -> Manifest:
    import copy

    out = copy.deepcopy(cq)
    for r in _flavor(out, name)["resources"]:
        if r["name"] == "nvidia.com/gpu":
            r["nominalQuota"] = str(value)
    return out


def test_jobs_with_fallbacks_carry_a_pool_affinity_instead_of_a_selector() -> None:
    specs = plan_specs(make())
    objs = plan_objects(specs)
    for j in specs.jobs:
        manifest = next(o for o in objs[j.cluster] if o["metadata"].get("labels", {})
                        .get("gpuplan.io/workload") == j.workload and o["kind"] == "Job")
        for _, tmpl in pod_templates(manifest):
            spec = tmpl["spec"]
            if j.fallback_pools:
                assert "nodeSelector" not in spec
                term = spec["affinity"]["nodeAffinity"][
                    "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                assert term["matchExpressions"] == [
                    {"key": POOL_LABEL, "operator": "In", "values": list(j.flavors)}]
            else:
                assert spec["nodeSelector"] == {POOL_LABEL: j.pool} and "affinity" not in spec


def _specs_cross_cloud() -> tuple[Plan, PlanSpecs]:
    plan = make(CROSS_CLOUD)
    return plan, plan_specs(plan)


def test_cross_cloud_fallback_goes_through_a_multikueue_ordered_route() -> None:
    plan, specs = _specs_cross_cloud()
    a = plan.placement("a")
    assert a is not None and [f.cloud for f in a.fallbacks] == ["aws"]
    job_a = next(j for j in specs.jobs if j.workload == "a")
    assert job_a.route == (a.cluster, a.fallbacks[0].cluster)
    objs = multikueue_objects(specs, "hub")
    route_cq = next(o for o in objs if o["kind"] == "ClusterQueue"
                    and o["metadata"]["name"] == job_a.queue)
    (check,) = route_cq["spec"]["admissionChecksStrategy"]["admissionChecks"]
    config = next(o for o in objs if o["kind"] == "MultiKueueConfig"
                  and o["metadata"]["name"] == check["name"])
    assert config["spec"]["clusters"] == [a.cluster, a.fallbacks[0].cluster]  # choice first
    # the team's quota on the hub is its planned share, split between its queues
    hub = [o for o in objs if o["kind"] == "ClusterQueue"
           and o["metadata"]["name"].startswith(stable_id("ml"))]
    assert sum(gpus(flavors(cq)[0]["resources"]) for cq in hub) == 16
    # in both clusters a LocalQueue of the route's name leads to the team's ClusterQueue
    workers = plan_objects(specs)
    for cluster in job_a.route:
        lq = next(o for o in workers[cluster] if o["kind"] == "LocalQueue"
                  and o["metadata"]["name"] == job_a.queue)
        assert lq["spec"]["clusterQueue"] == stable_id("ml")


def test_every_fallback_object_validates(shared: Path) -> None:
    for plan in (make(), make(CROSS_CLOUD)):
        specs = plan_specs(plan)
        for cluster, objs in plan_objects(specs).items():
            assert validate_objects(objs) == [], cluster
        assert validate_objects(multikueue_objects(specs, "hub")) == []


@pytest.mark.parametrize("places", [None, CROSS_CLOUD])
def test_no_fallbacks_no_change(places: Any) -> None:
    """Without fallbacks the objects are those of before: no Cohort, no routes, selectors."""
    specs = plan_specs(make(places, fallbacks=False))
    assert specs.routes == ()
    for objs in plan_objects(specs).values():
        assert not [o for o in objs if o["kind"] == "Cohort"]
        assert all(j.queue == stable_id(j.team) for j in specs.jobs)


@pytest.mark.parametrize("azure_price", ["31.0000", "34.0000"])
def test_multikueue_orders_cross_cloud_fallbacks_by_cost(azure_price: str) -> None:
    """Two fallbacks in other clouds (within 30 % of $29.3871/h): the route's MultiKueueConfig
    lists the choice's cluster, then the cheaper fallback's, then the dearer one's; moving
    Azure's price from below AWS's ($32.7726/h) to above it swaps the two."""
    places = [FALLBACK_PLACES[0], ("azure", "eastus", None, "Standard_ND96asr_v4", azure_price),
              FALLBACK_PLACES[3]]
    ws = workload_set([job("a", "A100:8", 10, fallbacks=fallback_policy(2, "30%", ["cloud"]))])
    plan = plan_workloads(ws, fallback_catalog(places), time_limit=5)
    a = plan.placement("a")
    assert a is not None and a.cloud == "gcp"
    by_price = sorted(places[1:], key=lambda p: p[4])
    assert [f.cloud for f in a.fallbacks] == [p[0] for p in by_price]
    specs = plan_specs(plan)
    (route,) = specs.routes
    objs = multikueue_objects(specs, "hub")
    (config,) = [o for o in objs if o["kind"] == "MultiKueueConfig"
                 and o["metadata"]["name"] == route_check(route)]
    assert config["spec"]["clusters"] == [a.cluster, *(f.cluster for f in a.fallbacks)]
    assert validate_objects(objs) == []
