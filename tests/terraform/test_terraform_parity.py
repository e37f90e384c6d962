"""Pulumi <-> Terraform parity: both describe the same infrastructure, pool by pool.

Every example (and the factory plan) runs once through the Pulumi stack
program under mocks (``components.program.mocks``, the components' recording
monitor) and once through ``components.terraform.render``. Two hand-written
readers, one for Pulumi's wire names and one for the Terraform provider's,
reduce each node pool to what a pool *is* (instance type, GPU type and
count, its sharing mode: GKE partition size and sharing config, the AKS MIG
profile, the EKS operator labels; spot, node counts, labels, taints, tags,
zones, placement); they must
agree exactly, and so must the Kubernetes objects, cluster by cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.program.mocks import Recorded, run_mocked
from components.program.stack import load_plan, program, read_config
from components.terraform.render import render_terraform
from planner.plan import Plan, dumps_plan, layout_id, loads_plan, stable_id
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("quickstart", "multi-team", "burst", "deadline", "sharing")
POOL_TYPES = {"aws:eks/nodeGroup:NodeGroup": "aws", "gcp:container/nodePool:NodePool": "gcp",
              "azure-native:containerservice:AgentPool": "azure"}
TF_POOL_TYPES = {"aws_eks_node_group": "aws", "google_container_node_pool": "gcp",
                 "azurerm_kubernetes_cluster_node_pool": "azure"}


def plan_of(name: str) -> Plan:
    if name == "factory":
        return make_plan()
    path = REPO / "examples" / name / "plan.json"
    return loads_plan(path.read_text("utf-8"), str(path))


def pulumi_graph(plan: Plan, tmp_path: Path) -> list[Recorded]:
    """The stack program's resources for ``plan`` (new EKS clusters get two fake subnets)."""
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(plan), encoding="utf-8")
    clusters = {c.name: {"subnetIds": ["subnet-a", "subnet-b"]}
                for c in plan.clusters if c.cloud == "aws"}
    config = {"gpuplan:plan": str(path), "gpuplan:clusters": json.dumps(clusters)}

    def body() -> Any:
        cfg = read_config(pulumi.Config("gpuplan"))
        return program(load_plan(cfg), cfg)

    return run_mocked(body, config).resources


def number(value: Any) -> Any:
    """Pulumi's wire format makes every number a float; compare 2.0 and 2 as equal."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return number(value)


def unescape(value: Any) -> Any:
    """Terraform JSON strings are templates: ``$${`` is a literal ``${``."""
    if isinstance(value, str):
        return value.replace("$${", "${").replace("%%{", "%{")
    if isinstance(value, dict):
        return {unescape(k): unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescape(v) for v in value]
    return value


def taints(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((t["key"], t.get("value", ""), t["effect"]) for t in items)


# --------------------------------------------------------------------------- Pulumi reader


def pulumi_pool(cloud: str, i: dict[str, Any]) -> dict[str, Any]:
    """What a pool is, read from Pulumi inputs (camelCase wire names)."""
    i = normal(i)
    if cloud == "aws":
        scaling = i["scalingConfig"]
        return {"name": i["nodeGroupName"], "machine": i["instanceTypes"], "image": i["amiType"],
                "spot": i["capacityType"] == "SPOT", "gpu": None,
                "nodes": (scaling["minSize"], scaling["desiredSize"], scaling["maxSize"]),
                "labels": i["labels"], "taints": taints(i.get("taints", [])), "tags": i["tags"],
                "zones": None, "placement": "launch-template" if i.get("launchTemplate") else None}
    if cloud == "gcp":
        config, auto = i["nodeConfig"], i["autoscaling"]
        accel = config.get("guestAccelerators", [None])[0]
        sharing = (accel or {}).get("gpuSharingConfig") or {}
        return {"name": i["name"], "machine": [config["machineType"]], "image": None,
                "spot": config["spot"],
                "gpu": (accel["type"], accel["count"], accel.get("gpuPartitionSize"),
                        sharing.get("gpuSharingStrategy"), sharing.get("maxSharedClientsPerGpu"))
                if accel else None,
                "nodes": (auto["totalMinNodeCount"], i["initialNodeCount"],
                          auto["totalMaxNodeCount"]),
                "labels": config["labels"], "taints": taints(config.get("taints", [])),
                "tags": config["resourceLabels"], "zones": i.get("nodeLocations"),
                "placement": (i.get("placementPolicy") or {}).get("type")}
    return {"name": i["agentPoolName"], "machine": [i["vmSize"]], "image": None,
            "spot": i.get("scaleSetPriority") == "Spot", "gpu": i.get("gpuInstanceProfile"),
            "nodes": (i["minCount"], i["count"], i["maxCount"]),
            "labels": i["nodeLabels"], "taints": sorted(i.get("nodeTaints", [])), "tags": i["tags"],
            "zones": i.get("availabilityZones"),
            "placement": "proximity" if i.get("proximityPlacementGroupID") else None}


# --------------------------------------------------------------------------- Terraform reader


def tf_pool(cloud: str, b: dict[str, Any]) -> dict[str, Any]:
    """What a pool is, read from a Terraform resource body (provider argument names)."""
    b = unescape(b)
    if cloud == "aws":
        [scaling] = b["scaling_config"]
        return {"name": b["node_group_name"], "machine": b["instance_types"], "image": b["ami_type"],
                "spot": b["capacity_type"] == "SPOT", "gpu": None,
                "nodes": (scaling["min_size"], scaling["desired_size"], scaling["max_size"]),
                "labels": b["labels"], "taints": taints(b.get("taint", [])), "tags": b["tags"],
                "zones": None, "placement": "launch-template" if b.get("launch_template") else None}
    if cloud == "gcp":
        [config], [auto] = b["node_config"], b["autoscaling"]
        accel = config.get("guest_accelerator", [None])[0]
        [sharing] = (accel or {}).get("gpu_sharing_config") or [{}]
        return {"name": b["name"], "machine": [config["machine_type"]], "image": None,
                "spot": config["spot"],
                "gpu": (accel["type"], accel["count"], accel.get("gpu_partition_size"),
                        sharing.get("gpu_sharing_strategy"),
                        sharing.get("max_shared_clients_per_gpu")) if accel else None,
                "nodes": (auto["total_min_node_count"], b["initial_node_count"],
                          auto["total_max_node_count"]),
                "labels": config["labels"], "taints": taints(config.get("taint", [])),
                "tags": config["resource_labels"], "zones": b.get("node_locations"),
                "placement": (b.get("placement_policy") or [{}])[0].get("type")}
    return {"name": b["name"], "machine": [b["vm_size"]], "image": None,
            "spot": b.get("priority") == "Spot", "gpu": b.get("gpu_instance"),
            "nodes": (b["min_count"], b["node_count"], b["max_count"]),
            "labels": b["node_labels"], "taints": sorted(b.get("node_taints", [])), "tags": b["tags"],
            "zones": b.get("zones"),
            "placement": "proximity" if b.get("proximity_placement_group_id") else None}


# --------------------------------------------------------------------------- the test


def pools_both_ways(plan: Plan, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pool resource name -> description, from Pulumi and from Terraform."""
    pulumi_side = {r.name: pulumi_pool(POOL_TYPES[r.type], r.inputs)
                   for r in pulumi_graph(plan, tmp_path) if r.type in POOL_TYPES}
    tf_side: dict[str, Any] = {}
    for doc in render_terraform(plan).values():
        for rtype, named in doc.get("resource", {}).items():
            if rtype in TF_POOL_TYPES:
                for body in named.values():
                    # the pool label is the pool's stable name, which Pulumi uses as resource name
                    labels = body.get("labels") or body.get("node_labels") or \
                        body["node_config"][0]["labels"]
                    tf_side[labels["gpuplan.io/pool"]] = tf_pool(TF_POOL_TYPES[rtype], body)
    return pulumi_side, tf_side


# Known gap: the Terraform renderer gives AWS and Azure pools no placement group, because
# aws_placement_group, aws_launch_template and azurerm_proximity_placement_group are not in
# the provider schemas (../shared/schemas/terraform) its output is checked against. Only the
# Pulumi side has them; remove a cloud from here when the renderer learns it.
TERRAFORM_LACKS_PLACEMENT = {"aws", "azure"}


def without_known_gaps(plan: Plan, pool: str, described: dict[str, Any]) -> dict[str, Any]:
    cloud = next(p.cloud for p in plan.pools if stable_id(p.id) == pool)
    return {**described, "placement": None} if cloud in TERRAFORM_LACKS_PLACEMENT else described


@pytest.mark.parametrize("name", ["factory", *EXAMPLES])
def test_every_pool_is_the_same_in_pulumi_and_terraform(name: str, tmp_path: Path) -> None:
    plan = plan_of(name)
    pulumi_side, tf_side = pools_both_ways(plan, tmp_path)
    assert pulumi_side, "no pools: the test would prove nothing"
    assert sorted(tf_side) == sorted(pulumi_side)
    for pool, described in pulumi_side.items():
        assert tf_side[pool] == without_known_gaps(plan, pool, described), pool


def knobs(side: dict[str, Any]) -> list[tuple[str, ...]]:
    """Each pool's sharing knob as a reader saw it: GKE partition size or sharing config,
    the AKS GPU instance profile, the EKS GPU Operator config labels."""
    out = []
    for d in side.values():
        gpu = d["gpu"]
        if isinstance(gpu, tuple) and gpu[2]:
            out.append(("gke", "gpu_partition_size", gpu[2]))
        if isinstance(gpu, tuple) and gpu[3]:
            out.append(("gke", "gpu_sharing_config", gpu[3], str(gpu[4])))
        if isinstance(gpu, str):
            out.append(("aks", "gpu_instance_profile", gpu))
        for key in ("nvidia.com/mig.config", "nvidia.com/device-plugin.config"):
            if d["image"] and key in d["labels"]:
                out.append(("eks", key, d["labels"][key]))
    return sorted(out)


def test_each_clouds_sharing_knob_reaches_both_sides(tmp_path: Path) -> None:
    """Parity of the sharing example is not vacuous: every cloud's knob is set, the same,
    in the Pulumi inputs and in the Terraform resources (GKE partition size and MPS, the
    AKS MIG profile, the EKS time-slicing and mig-layout operator configs)."""
    pulumi_side, tf_side = pools_both_ways(plan_of("sharing"), tmp_path)
    layout = "gpuplan-" + layout_id((("1g.10gb", "3g.40gb"),))
    expected = sorted([("gke", "gpu_partition_size", "3g.20gb"),
                       ("gke", "gpu_sharing_config", "MPS", "4"),
                       ("aks", "gpu_instance_profile", "MIG1g"),
                       ("eks", "nvidia.com/device-plugin.config", "time-slicing-8"),
                       ("eks", "nvidia.com/mig.config", layout)])
    assert knobs(pulumi_side) == expected
    assert knobs(tf_side) == expected


def test_placement_groups_and_the_known_terraform_gap(tmp_path: Path) -> None:
    """Pulumi keeps the plan's placement-group pools together on every cloud; Terraform does
    on GCP only (TERRAFORM_LACKS_PLACEMENT), and this test fails once that changes."""
    plan = make_plan()
    pulumi_side, tf_side = pools_both_ways(plan, tmp_path)
    expected = {"aws": "launch-template", "gcp": "COMPACT", "azure": "proximity"}
    seen = set()
    for p in plan.pools:
        name = stable_id(p.id)
        if name not in pulumi_side:
            continue
        want = expected[p.cloud] if p.placement_group else None
        assert pulumi_side[name]["placement"] == want, name
        assert tf_side[name]["placement"] == (None if p.cloud in TERRAFORM_LACKS_PLACEMENT
                                              else want), name
        seen |= {p.cloud} if p.placement_group else set()
    assert {"aws", "azure"} <= seen


def cluster_of(plan: Plan, resource_name: str) -> str:
    """Pulumi names Kubernetes resources ``<cluster>-<kind>-...``: the longest matching cluster."""
    clusters = sorted((c.name for c in plan.clusters), key=len, reverse=True)
    return next(c for c in clusters if resource_name.startswith(c + "-"))


def k8s_both_ways(plan: Plan, graph: list[Recorded]) -> tuple[list[str], list[str]]:
    """Every Kubernetes object as canonical JSON, prefixed by its cluster; both sides sorted."""
    pulumi_side = sorted(
        cluster_of(plan, r.name) + " " + json.dumps(normal(r.inputs), sort_keys=True)
        for r in graph
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace")
    tf_side = []
    for path, doc in render_terraform(plan).items():
        if path.startswith("k8s/") and path != "k8s/main.tf.json":
            cluster = path.removeprefix("k8s/").removesuffix(".tf.json")
            for body in doc["resource"].get("kubernetes_manifest", {}).values():
                tf_side.append(cluster + " " + json.dumps(unescape(body["manifest"]), sort_keys=True))
    return pulumi_side, sorted(tf_side)


def namespaces_both_ways(plan: Plan, graph: list[Recorded]) -> tuple[list[str], list[str]]:
    """Namespaces: Pulumi's Namespace metadata against ``kubernetes_namespace_v1`` metadata."""
    pulumi_side = sorted(
        cluster_of(plan, r.name) + " " + json.dumps(r.inputs["metadata"], sort_keys=True)
        for r in graph if r.type == "kubernetes:core/v1:Namespace")
    tf_side = sorted(
        path.removeprefix("k8s/").removesuffix(".tf.json") + " "
        + json.dumps(unescape(body["metadata"][0]), sort_keys=True)
        for path, doc in render_terraform(plan).items() if path.startswith("k8s/")
        for body in doc.get("resource", {}).get("kubernetes_namespace_v1", {}).values())
    return pulumi_side, tf_side


@pytest.mark.parametrize("name", ["factory", *EXAMPLES])
def test_kubernetes_objects_are_the_same_per_cluster(name: str, tmp_path: Path) -> None:
    plan = plan_of(name)
    graph = pulumi_graph(plan, tmp_path)
    pulumi_side, tf_side = k8s_both_ways(plan, graph)
    assert pulumi_side and pulumi_side == tf_side
    pulumi_ns, tf_ns = namespaces_both_ways(plan, graph)
    assert pulumi_ns and pulumi_ns == tf_ns


def test_readers_see_a_difference(tmp_path: Path) -> None:
    """The parity check is not vacuous: a changed node count shows up."""
    plan = make_plan()
    pulumi_side, _ = pools_both_ways(plan, tmp_path)
    bumped = plan.model_copy(update={"pools": tuple(
        p.model_copy(update={"max_nodes": p.max_nodes + 1}) for p in plan.pools)})
    _, tf_side = pools_both_ways(bumped, tmp_path)
    assert all(tf_side[k]["nodes"] != v["nodes"] for k, v in pulumi_side.items())


CLUSTER_TYPES = {"aws:eks/cluster:Cluster": "aws", "gcp:container/cluster:Cluster": "gcp",
                 "azure-native:containerservice:ManagedCluster": "azure"}
TF_CLUSTER_TYPES = {"aws_eks_cluster": "aws", "google_container_cluster": "gcp",
                    "azurerm_kubernetes_cluster": "azure"}


def pulumi_cluster(cloud: str, i: dict[str, Any]) -> dict[str, Any]:
    i = normal(i)
    if cloud == "aws":
        return {"name": i["name"], "where": i["region"], "tags": i["tags"], "system": None}
    if cloud == "gcp":
        return {"name": i["name"], "where": i["location"], "tags": i["resourceLabels"],
                "system": None}
    [system] = i["agentPoolProfiles"]
    return {"name": i["resourceName"], "where": i["location"], "tags": i["tags"],
            "system": (system["vmSize"], system["count"])}


def tf_cluster(cloud: str, b: dict[str, Any]) -> dict[str, Any]:
    b = unescape(b)
    if cloud == "aws":
        return {"name": b["name"], "where": b["region"], "tags": b["tags"], "system": None}
    if cloud == "gcp":
        return {"name": b["name"], "where": b["location"], "tags": b["resource_labels"],
                "system": None}
    [system] = b["default_node_pool"]
    return {"name": b["name"], "where": b["location"], "tags": b["tags"],
            "system": (system["vm_size"], system["node_count"])}


@pytest.mark.parametrize("name", ["factory", *EXAMPLES])
def test_new_clusters_are_the_same_in_pulumi_and_terraform(name: str, tmp_path: Path) -> None:
    plan = plan_of(name)
    pulumi_side = {r.name: pulumi_cluster(CLUSTER_TYPES[r.type], r.inputs)
                   for r in pulumi_graph(plan, tmp_path) if r.type in CLUSTER_TYPES}
    tf_side = {body["name"]: tf_cluster(TF_CLUSTER_TYPES[rtype], body)
               for doc in render_terraform(plan).values()
               for rtype, named in doc.get("resource", {}).items() if rtype in TF_CLUSTER_TYPES
               for body in named.values()}
    assert tf_side == pulumi_side
    assert pulumi_side or not [c for c in plan.clusters if not c.existing and c.cloud != "onprem"]
