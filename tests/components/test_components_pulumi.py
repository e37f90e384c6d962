"""Pulumi components under ``pulumi.runtime.set_mocks``: the recorded resource graph is golden.

Each run goes through :func:`components.program.mocks.run_mocked` (a recording mock
monitor, a fresh event loop and context per run), so no warnings leak out.
"""

from __future__ import annotations

import dataclasses
import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.builders.specs import plan_specs
from components.program.mocks import Recorded, graph_text, run_mocked
from components.program.stack import StackConfig, load_plan, program, read_config
from components.resources.node_pool import node_pool_kwargs
from planner.plan import Plan, dumps_plan
from tests.golden import check_golden
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]
CLUSTERS = {
    "aws-us-east-1": {"subnetIds": ["subnet-0a1", "subnet-0b2"]},
    "gke-prod": {"project": "acme-ml", "location": "us-central1", "clusterName": "prod"},
}
WITH_OPERATORS = {**CLUSTERS, "aws-us-east-1": {**CLUSTERS["aws-us-east-1"],
                                                "installOperators": True}}
KUBECONFIGS = {"gke-prod": "apiVersion: v1\nkind: Config\n# gke-prod\n",
               "dgx-onprem": "apiVersion: v1\nkind: Config\n# dgx\n",
               "hub": "apiVersion: v1\nkind: Config\n# hub\n"}


def stack_config(plan_path: Path, **extra: Any) -> dict[str, str]:
    config = {"gpuplan:plan": str(plan_path), "gpuplan:clusters": json.dumps(WITH_OPERATORS),
              "gpuplan:kubeconfigs": json.dumps(KUBECONFIGS)}
    config.update({f"gpuplan:{k}": v for k, v in extra.items()})
    return config


def run_stack(plan: Plan, tmp_path: Path, **extra: Any) -> tuple[list[Recorded], Any]:
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(plan), encoding="utf-8")

    def body() -> Any:
        cfg = read_config(pulumi.Config("gpuplan"))
        return program(load_plan(cfg), cfg)

    run = run_mocked(body, stack_config(path, **extra), ["gpuplan:kubeconfigs"])
    return run.resources, run.result


def by_type(resources: list[Recorded], typ: str) -> list[Recorded]:
    return [r for r in resources if r.type == typ]


def test_factory_graph_golden(tmp_path: Path, update_golden: bool) -> None:
    resources, exports = run_stack(make_plan(), tmp_path)
    check_golden("components/factory.jsonl", graph_text(resources), update_golden)
    assert exports["hourlyCost"] == str(make_plan().totals.hourly)
    assert exports["queues"]["gke-prod"] == ["product", "research"]
    assert "dgx-onprem-a100" in exports["poolIds"]
    assert "dgx-onprem-a100" not in exports["poolResourceIds"]  # existing capacity
    assert len(exports["poolResourceIds"]) == 6


def test_component_tokens_and_parents(tmp_path: Path) -> None:
    resources, _ = run_stack(make_plan(), tmp_path)
    components = {r.type for r in resources if r.type.startswith("gpuplan:")}
    assert components == {"gpuplan:compute:GpuNodePool", "gpuplan:cluster:GpuCluster",
                          "gpuplan:kueue:KueueQueues", "gpuplan:jobs:TrainingJob",
                          "gpuplan:cluster:Operators"}
    operators = [r for r in resources if r.parent == "gpuplan:cluster:Operators::aws-us-east-1"]
    assert sorted(r.name for r in operators) == [
        "aws-us-east-1-jobset", "aws-us-east-1-kuberay", "aws-us-east-1-kueue",
        "aws-us-east-1-nvidia-device-plugin"]
    for r in resources:
        if r.type.startswith(("aws:eks/nodeGroup", "gcp:container/nodePool",
                              "azure-native:containerservice:AgentPool")):
            assert r.parent == f"gpuplan:compute:GpuNodePool::{r.name}"
        if r.type.startswith("kubernetes:kueue"):
            assert r.parent.startswith("gpuplan:kueue:KueueQueues::")
    providers = by_type(resources, "pulumi:providers:kubernetes")
    assert sorted(p.name for p in providers) == ["aks-eastus", "aws-us-east-1", "dgx-onprem",
                                                 "gke-prod"]


def test_reordering_changes_no_resource(tmp_path: Path) -> None:
    first, _ = run_stack(make_plan(), tmp_path)
    second, _ = run_stack(make_plan(reverse=True), tmp_path)
    assert graph_text(first) == graph_text(second)


def test_pools_carry_label_taint_and_cost_tags(tmp_path: Path) -> None:
    resources, _ = run_stack(make_plan(), tmp_path)
    for r in by_type(resources, "aws:eks/nodeGroup:NodeGroup"):
        assert r.inputs["labels"]["gpuplan.io/pool"] == r.name
        assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"} in \
            r.inputs["taints"]
        assert r.inputs["tags"]["gpuplan-pool"] == r.name
    for r in by_type(resources, "gcp:container/nodePool:NodePool"):
        config = r.inputs["nodeConfig"]
        assert config["labels"]["gpuplan.io/pool"] == r.name
        assert config["guestAccelerators"][0]["gpuDriverInstallationConfig"] == {
            "gpuDriverVersion": "LATEST"}
        assert r.inputs["cluster"] == "prod" and r.inputs["project"] == "acme-ml"
    (aks,) = by_type(resources, "azure-native:containerservice:AgentPool")
    assert aks.inputs["scaleSetPriority"] == "Spot"
    assert aks.inputs["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule",
                                       "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert aks.inputs["nodeLabels"]["kubernetes.azure.com/scalesetpriority"] == "spot"


def test_existing_cluster_kubeconfig_is_a_secret(tmp_path: Path) -> None:
    resources, _ = run_stack(make_plan(), tmp_path)
    gke = next(r for r in by_type(resources, "pulumi:providers:kubernetes") if r.name == "gke-prod")
    assert gke.inputs["kubeconfig"] == "[secret]"
    assert not by_type(resources, "gcp:container/cluster:Cluster")  # attached, not created


def test_multikueue_mode_sends_jobs_to_the_hub(tmp_path: Path) -> None:
    resources, exports = run_stack(make_plan(), tmp_path, multikueue="hub")
    assert set(exports["jobs"]) == {"hub"}
    kinds = {r.type.rsplit(":", 1)[-1] for r in resources
             if r.parent == "gpuplan:kueue:KueueQueues::hub"}
    assert {"AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster", "Secret"} <= kinds


def test_stack_main_runs_with_workloads_config(tmp_path: Path) -> None:
    config = {"gpuplan:workloads": "examples/quickstart/workloads.yaml",
              "gpuplan:jobs": "false"}

    def body() -> None:
        runpy.run_path(str(REPO / "stacks" / "__main__.py"))

    run = run_mocked(body, config)
    pools = [r for r in run.resources if r.type == "gpuplan:compute:GpuNodePool"]
    assert pools and not [r for r in run.resources if r.type == "gpuplan:jobs:TrainingJob"]


def test_missing_plan_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="gpuplan:plan"):
        load_plan(StackConfig())


def test_typed_args_for_each_cloud_on_demand_and_spot() -> None:
    specs = plan_specs(make_plan())
    wiring = {"aws": {"cluster_name": "c", "node_role_arn": "arn", "subnet_ids": ["s"]},
              "gcp": {"cluster": "c", "location": "us-central1"},
              "azure": {"resource_group_name": "rg", "resource_name_": "c"}}
    for cloud in ("aws", "gcp", "azure"):
        pool = next(p for p in specs.pools if p.cloud == cloud)
        for spot in (False, True):
            kwargs = node_pool_kwargs(dataclasses.replace(pool, spot=spot), wiring[cloud])
            if cloud == "aws":
                assert type(kwargs["scaling_config"]).__name__ == "NodeGroupScalingConfigArgs"
                assert kwargs["capacity_type"] == ("SPOT" if spot else "ON_DEMAND")
            elif cloud == "gcp":
                assert type(kwargs["node_config"]).__name__ == "NodePoolNodeConfigArgs"
                assert kwargs["node_config"].spot is spot if hasattr(
                    kwargs["node_config"], "spot") else True
            else:
                assert (kwargs.get("scale_set_priority") == "Spot") is spot


def test_unknown_argument_names_fail_loudly() -> None:
    import pulumi_aws as aws
    import pulumi_gcp as gcp
    import pulumi_kubernetes as k8s

    from components.resources.typed import build_args

    with pytest.raises(TypeError, match="unknown argument 'min'"):
        build_args(aws.eks.NodeGroup._internal_init, {"scaling_config": {"min": 1}})
    with pytest.raises(TypeError, match="unknown argument 'gpu_count'"):
        build_args(gcp.container.NodePool._internal_init,
                   {"node_config": {"guest_accelerators": [{"gpu_count": 1}]}})
    with pytest.raises(TypeError, match="unknown argument 'nodeSelectr'"):
        build_args(k8s.batch.v1.Job._internal_init,
                   {"spec": {"template": {"spec": {"nodeSelectr": {}}}}}, camel=True)


def test_new_eks_cluster_needs_subnets() -> None:
    from components.builders.cluster_args import eks_cluster_args

    spec = next(c for c in plan_specs(make_plan()).clusters if c.name == "aws-us-east-1")
    with pytest.raises(ValueError, match="subnetIds"):
        eks_cluster_args(spec, {})


def test_dev_stack_config_runs() -> None:
    """stacks/Pulumi.dev.yaml's gpuplan keys, through stacks/__main__.py."""
    import yaml

    config = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]

    def body() -> None:
        runpy.run_path(str(REPO / "stacks" / "__main__.py"))

    run = run_mocked(body, {k: v if isinstance(v, str) else json.dumps(v)
                            for k, v in config.items()})
    kinds = {r.type for r in run.resources}
    assert {"gcp:container/cluster:Cluster", "azure-native:containerservice:ManagedCluster",
            "gcp:container/nodePool:NodePool", "gpuplan:jobs:TrainingJob"} <= kinds


def test_existing_cluster_settings_are_checked() -> None:
    from components.builders.specs import ClusterSpec
    from components.resources.cluster import existing_wiring

    spec = ClusterSpec("eks-prod", "aws", "us-east-1", True, None, ("p",), ("us-east-1a",))
    with pytest.raises(ValueError, match="nodeRoleArn"):
        existing_wiring(spec, {"subnetIds": ["s"]})
    wiring = existing_wiring(spec, {"nodeRoleArn": "arn", "subnetIds": ["s"],
                                    "clusterName": "prod"})
    assert wiring == {"cluster_name": "prod", "node_role_arn": "arn", "subnet_ids": ["s"]}
    aks = ClusterSpec("aks-prod", "azure", "eastus", True, None, ("p",), ())
    with pytest.raises(ValueError, match="resourceGroup"):
        existing_wiring(aks, {})


def _ints(value: Any) -> Any:
    """The mock monitor carries numbers as floats: 3.0 -> 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def test_kubernetes_inputs_are_exactly_the_builder_manifests(tmp_path: Path, shared: Path) -> None:
    """What Pulumi sends (typed Job/Namespace args included) == k8s_objects == valid."""
    from components.builders.k8s_objects import plan_objects
    from components.resources.kube import resource_name
    from tests.k8s_validator import validate_manifest

    resources, _ = run_stack(make_plan(), tmp_path)
    sent = {r.name: _ints(r.inputs) for r in resources
            if r.type.startswith("kubernetes:") and "yaml/v2" not in r.type
            and "helm.sh" not in r.type}
    expected = {resource_name(c, m): m for c, objs in plan_objects(plan_specs(make_plan())).items()
                for m in objs}
    assert sent.keys() == expected.keys()
    for name, manifest in expected.items():
        assert sent[name] == manifest, name
        assert validate_manifest(sent[name]) == [], name


def test_gpu_sharing_and_mig_args_are_typed() -> None:
    """Each cloud's sharing knobs go through the SDK's typed Args (unknown names would fail)."""
    from components.builders.sharing import SharingSpec

    specs = plan_specs(make_plan())
    gcp = next(p for p in specs.pools if p.cloud == "gcp")
    shared = dataclasses.replace(gcp, sharing=SharingSpec("time-slicing", None, 4, 4))
    accel = node_pool_kwargs(shared, {"cluster": "c"})["node_config"].guest_accelerators[0]
    assert type(accel.gpu_sharing_config).__name__.endswith("GpuSharingConfigArgs")
    assert accel.gpu_sharing_config.gpu_sharing_strategy == "TIME_SHARING"
    assert accel.gpu_sharing_config.max_shared_clients_per_gpu == 4
    assert accel.gpu_partition_size is None
    mig = dataclasses.replace(gcp, sharing=SharingSpec("mig", "1g.5gb", None, 7))
    accel = node_pool_kwargs(mig, {"cluster": "c"})["node_config"].guest_accelerators[0]
    assert accel.gpu_partition_size == "1g.5gb" and accel.gpu_sharing_config is None
    aks = dataclasses.replace(next(p for p in specs.pools if p.cloud == "azure"),
                              sharing=SharingSpec("mig", "1g.10gb", None, 7))
    assert node_pool_kwargs(aks, {})["gpu_instance_profile"] == "MIG1g"
