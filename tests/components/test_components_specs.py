"""Pure specs and pool arguments: stable names, labels, taints, quotas, per-cloud args."""

from __future__ import annotations

from components.builders.k8s_objects import plan_objects
from components.builders.pool_args import CLUSTER_KEYS, aks_agent_pool_name, pool_args
from components.builders.specs import GPU_TAINT, POOL_LABEL, Taint, Toleration, plan_specs
from tests.plan_factory import make_plan


def test_specs_do_not_depend_on_order() -> None:
    assert plan_specs(make_plan()) == plan_specs(make_plan(reverse=True))
    assert plan_objects(plan_specs(make_plan())) == plan_objects(plan_specs(make_plan(reverse=True)))


def test_every_gpu_pool_is_labelled_and_tainted() -> None:
    for pool in plan_specs(make_plan()).pools:
        assert pool.labels[POOL_LABEL] == pool.name
        assert GPU_TAINT in pool.taints
        assert pool.tags["gpuplan-pool"] and pool.tags["gpuplan-teams"]
        assert all(len(v) <= 63 for v in [*pool.labels.values(), *pool.tags.values()])


def test_services_get_no_job_and_no_quota() -> None:
    specs = plan_specs(make_plan())
    assert "search-ranker" not in {j.workload for j in specs.jobs}
    ranker_pool = "gcp-us-central1-g2-standard-8-od"
    assert all(f.gpus == 0 for q in specs.queues for f in q.quotas if f.flavor == ranker_pool)


def test_flavors_in_cost_order_per_gpu() -> None:
    specs = plan_specs(make_plan())
    for q in specs.queues:
        prices = [specs.pool(f.flavor).gpu_hourly for f in q.quotas]
        assert prices == sorted(prices)


def test_pool_args_each_cloud_on_demand_and_spot() -> None:
    specs = plan_specs(make_plan())
    seen = set()
    for pool in specs.pools:
        if pool.cloud not in CLUSTER_KEYS:
            continue
        args = pool_args(pool)
        seen.add((pool.cloud, pool.spot))
        assert not set(CLUSTER_KEYS[pool.cloud]) & set(args)
        if pool.cloud == "aws":
            assert args["capacity_type"] == ("SPOT" if pool.spot else "ON_DEMAND")
            assert args["ami_type"] == "AL2023_x86_64_NVIDIA"
            assert args["taints"] == [{"key": "nvidia.com/gpu", "value": "present",
                                       "effect": "NO_SCHEDULE"}]
        elif pool.cloud == "gcp":
            assert args["node_config"]["spot"] is pool.spot
            assert args["node_config"]["guest_accelerators"][0]["count"] == pool.gpus
            assert len(args["name"]) <= 40
        else:
            spot_taint = ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"] if pool.spot else []
            assert args["node_taints"] == ["nvidia.com/gpu=present:NoSchedule", *spot_taint]
            assert (args["node_labels"].get("kubernetes.azure.com/scalesetpriority")
                    == ("spot" if pool.spot else None))
            assert ("scale_set_priority" in args) is pool.spot
            assert len(aks_agent_pool_name(pool)) <= 12
    assert {("aws", True), ("aws", False), ("gcp", True), ("gcp", False), ("azure", True)} <= seen


def test_aks_spot_label_and_taint_only_on_azure_spot_pools() -> None:
    plan = make_plan()
    on_demand = [p.model_copy(update={"capacity": "on-demand"}) if p.cloud == "azure" else p
                 for p in plan.pools]
    key = "kubernetes.azure.com/scalesetpriority"
    for specs in (plan_specs(plan), plan_specs(plan.model_copy(update={"pools": on_demand}))):
        for pool in specs.pools:
            aks_spot = pool.cloud == "azure" and pool.spot
            assert (pool.labels.get(key) == "spot") is aks_spot, pool.name
            assert any(t.key == key and t.value == "spot" and t.effect == "NoSchedule"
                       for t in pool.taints) is aks_spot, pool.name
    assert any(p.cloud == "azure" and p.spot for p in plan_specs(plan).pools)


def test_jobs_and_flavors_tolerate_every_taint_of_their_pool() -> None:
    specs = plan_specs(make_plan())

    def tolerated(taint: Taint, tolerations: tuple[Toleration, ...]) -> bool:
        return any(t.key == taint.key and t.effect == taint.effect
                   and (t.operator == "Exists" or t.value == taint.value) for t in tolerations)

    for job in specs.jobs:
        pool = specs.pool(job.pool)
        assert all(tolerated(t, job.tolerations) for t in pool.taints), job.name
        assert all(tolerated(t, pool.tolerations) for t in pool.taints), pool.name
    assert any(len(specs.pool(j.pool).taints) == 2 for j in specs.jobs)


def test_placement_group_builders_for_aws_and_azure() -> None:
    from components.builders import pool_args as pa

    specs = plan_specs(make_plan())
    wanted = {p.name for p in specs.pools if pa.wants_placement_group(p)}
    assert wanted == {"aws-us-east-1-p4d-24xlarge-od", "azure-eastus-nc24ads-a100-v4-spot"}
    aws = specs.pool("aws-us-east-1-p4d-24xlarge-od")
    group = pa.aws_placement_group_args(aws)
    assert (group["strategy"], group["region"]) == ("cluster", "us-east-1")
    template = pa.aws_launch_template_args(aws, group["name"])
    assert template["placement"] == {"group_name": "gpuplan-aws-us-east-1-p4d-24xlarge-od"}
    assert "image_id" not in template and "instance_type" not in template  # the node group's
    assert pa.aws_launch_template_ref("lt-1", "3") == {"launch_template": {"id": "lt-1", "version": "3"}}
    azure = specs.pool("azure-eastus-nc24ads-a100-v4-spot")
    ppg = pa.azure_proximity_group_args(azure, "rg")
    assert (ppg["location"], ppg["zones"], ppg["resource_group_name"]) == ("eastus", ["1"], "rg")
    assert ppg["proximity_placement_group_type"] == "Standard"
    assert pa.azure_proximity_group_ref("ppg-1") == {"proximity_placement_group_id": "ppg-1"}
    assert all(len(pa.placement_group_name(p)) <= 80 for p in specs.pools)
    # pools not kept together, GKE (placement_policy on the pool) and on-prem get none
    assert not pa.wants_placement_group(specs.pool("aws-us-east-1-g4dn-xlarge-spot"))
    assert not any(pa.wants_placement_group(p) for p in specs.pools if p.cloud in ("gcp", "onprem"))


def test_pure_builders_do_not_import_pulumi() -> None:
    import subprocess
    import sys

    code = ("import sys, components.builders.specs, components.builders.pool_args, "
            "components.builders.cluster_args, "
            "components.builders.k8s_objects; bad = [m for m in sys.modules if m.startswith('pulumi')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
