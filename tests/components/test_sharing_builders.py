"""Shared pools deployed: each cloud's knobs, Kueue flavors counted in slots, jobs that
request one slot, and the GPU Operator's config. Brief §6 cases 11 and 12."""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.builders import cluster_args as ca
from components.builders.k8s_objects import cluster_queue, plan_objects, resource_flavor
from components.builders.pool_args import pool_args
from components.builders.sharing import (
    DEVICE_PLUGIN_CONFIG,
    MIG_PARTED_CONFIG,
    SharingSpec,
    gpu_operator_values,
)
from components.builders.specs import PlanSpecs, plan_specs
from planner.plan import Plan, PoolSharing, layout_id, read_plan
from tests.k8s_validator import validate_objects
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def specs() -> PlanSpecs:
    return plan_specs(read_plan(REPO / "examples" / "sharing" / "plan.json"))


def _pool(specs: PlanSpecs, cloud: str, mode: str) -> Any:
    return next(p for p in specs.pools if p.cloud == cloud and p.sharing
                and p.sharing.name.startswith(mode))


def test_each_cloud_gets_its_own_knob(specs: PlanSpecs) -> None:
    gke_mig = pool_args(_pool(specs, "gcp", "mig"))["node_config"]["guest_accelerators"][0]
    assert gke_mig["gpu_partition_size"] == "3g.20gb" and "gpu_sharing_config" not in gke_mig
    gke_mps = pool_args(_pool(specs, "gcp", "mps"))["node_config"]["guest_accelerators"][0]
    assert gke_mps["gpu_sharing_config"] == {"gpu_sharing_strategy": "MPS",
                                             "max_shared_clients_per_gpu": 4}
    assert "gpu_partition_size" not in gke_mps
    aks = pool_args(_pool(specs, "azure", "mig"))
    assert aks["gpu_instance_profile"] == "MIG1g"  # 1g.10gb of an A100 80GB
    eks_ts = pool_args(_pool(specs, "aws", "time-slicing"))
    assert eks_ts["labels"]["nvidia.com/device-plugin.config"] == "time-slicing-8"
    eks_mig = pool_args(_pool(specs, "aws", "mig-layout"))  # one H100: 1g.10gb + 3g.40gb
    assert eks_mig["labels"]["nvidia.com/mig.config"] == "gpuplan-" + layout_id(
        (("1g.10gb", "3g.40gb"),))
    # EKS autoscalers cannot see slots: the shared pool is kept at its planned size
    assert eks_ts["scaling_config"]["min_size"] == eks_ts["scaling_config"]["desired_size"] == 1


def test_no_pool_mixes_modes(specs: PlanSpecs) -> None:
    """The issue's bug: one GKE pool carried both a partition size and time-sharing."""
    for pool in specs.pools:
        if pool.cloud == "gcp" and pool.gpus:
            accel = pool_args(pool)["node_config"]["guest_accelerators"][0]
            assert not ("gpu_partition_size" in accel and "gpu_sharing_config" in accel)


@pytest.mark.parametrize("clients", [1, 49, 0])
def test_case11_client_counts_outside_2_to_48_are_refused(clients: int) -> None:
    with pytest.raises(ValueError, match="2..48"):
        SharingSpec("time-slicing", None, clients, clients)
    with pytest.raises(ValueError):
        PoolSharing(mode="time-slicing", clients=clients, slot="time-slice",
                    slots_per_gpu=max(clients, 1), slot_memory_gib=1.0, isolation="none")


def _gke_mig_plan(jobs: int, nodes: int) -> Plan:
    """The factory plan's GKE A100 pool as a 1g.5gb MIG pool of ``nodes`` nodes holding
    ``jobs`` one-slice batch jobs of one team."""
    plan = make_plan()
    pool = next(p for p in plan.pools if p.instance_type == "a2-highgpu-1g")
    template = next(p for p in plan.placements if p.pool == pool.id and p.kind != "service")
    names = [f"ocr-{i:02d}" for i in range(jobs)]
    shared = pool.model_copy(update={
        "nodes": nodes, "max_nodes": nodes, "min_nodes": 0, "workloads": tuple(names),
        "teams": (template.team,),
        "sharing": PoolSharing(mode="mig", profile="1g.5gb", slot="1g.5gb", slots_per_gpu=7,
                               slot_memory_gib=4.75, isolation="hard")})
    placements = [p for p in plan.placements if p.pool != pool.id]
    placements += [template.model_copy(update={
        "workload": n, "slot": "1g.5gb", "gpus_per_node": 1.0, "node_share": 1 / 7,
        "cpus_per_node": 1.5, "memory_gib_per_node": 10.0, "hourly": Decimal("0.5248")})
        for n in names]
    pools = [shared if p.id == pool.id else p for p in plan.pools]
    return plan.model_copy(update={"pools": tuple(pools),
                                   "placements": tuple(sorted(placements,
                                                              key=lambda p: p.workload))})


def test_case12_gke_mig_flavor_selects_the_partition_and_counts_slices() -> None:
    """2 nodes x 1 A100 x 1g.5gb: the flavor selects GKE's partition-size label and the
    team's quota is 14 slices of ``nvidia.com/gpu`` (GKE shows each slice as one GPU).
    The quota is the team's planned slices: 14 one-slice jobs fill both nodes."""
    specs = plan_specs(_gke_mig_plan(jobs=14, nodes=2))
    pool = next(p for p in specs.pools if p.instance_type == "a2-highgpu-1g")
    flavor = resource_flavor(pool)
    assert flavor["spec"]["nodeLabels"] == {
        "gpuplan.io/pool": pool.name, "cloud.google.com/gke-gpu-partition-size": "1g.5gb"}
    queue = next(q for q in specs.queues if any(f.flavor == pool.name and f.gpus
                                                for f in q.quotas))
    cq = cluster_queue(queue)
    [group] = cq["spec"]["resourceGroups"]
    [entry] = [f for f in group["flavors"] if f["name"] == pool.name]
    assert {r["name"]: r["nominalQuota"] for r in entry["resources"]}["nvidia.com/gpu"] == "14"
    assert pool.slots_per_node * pool.max_nodes == 14
    objects = plan_objects(specs)
    assert validate_objects(objects[pool.cluster]) == []
    jobs = [o for o in objects[pool.cluster] if o["kind"] == "Job"
            and o["metadata"]["labels"]["gpuplan.io/pool"] == pool.name]
    assert len(jobs) == 14
    for job in jobs:
        limits = job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        assert limits == {"nvidia.com/gpu": "1"}


def test_case12_planned_fourteen_slices_count_fourteen(full_catalog: Any) -> None:
    """Case 12 planned rather than built by hand: 14 one-slice batch jobs (Kueue admits
    batch jobs; services are Deployments outside its quota) on GCP fill two A100s
    of 1g.5gb (the planner takes one a2-highgpu-2g, $0.00001/h under two a2-highgpu-1g),
    so the flavor selects the partition size and the quota is 14 ``nvidia.com/gpu``."""
    from planner.optimize.planning import plan_workloads
    from planner.spec.load import parse_workloads

    text = "teams: {docs: {}}\nworkloads:\n" + "".join(
        f"  - {{name: ocr-{i:02d}, team: docs, kind: batch, work: {{duration_hours: 2, "
        "runs_per_month: 30}, resources: {cloud: gcp, region: us-central1, "
        "gpu: {mig: 1g.5gb}}}\n" for i in range(14))
    plan = plan_workloads(parse_workloads(text, "w.yaml", full_catalog), full_catalog)
    specs = plan_specs(plan)
    [pool] = specs.pools
    assert (pool.instance_type, pool.max_nodes, pool.gpus) == ("a2-highgpu-2g", 1, 2)
    assert resource_flavor(pool)["spec"]["nodeLabels"] == {
        "gpuplan.io/pool": pool.name, "cloud.google.com/gke-gpu-partition-size": "1g.5gb"}
    [queue] = specs.queues
    [group] = cluster_queue(queue)["spec"]["resourceGroups"]
    [entry] = group["flavors"]
    assert {r["name"]: r["nominalQuota"] for r in entry["resources"]}["nvidia.com/gpu"] == "14"
    assert validate_objects(plan_objects(specs)[pool.cluster]) == []


def test_operator_mig_jobs_request_their_mig_resource(specs: PlanSpecs) -> None:
    """Under the GPU Operator's mixed strategy a slot is ``nvidia.com/mig-<profile>``; every
    such resource of the cluster is covered in the ClusterQueue's one group, 0 elsewhere."""
    objects = plan_objects(specs)
    eks = _pool(specs, "aws", "mig-layout")
    jobs = {o["metadata"]["name"]: o for o in objects[eks.cluster] if o["kind"] == "Job"
            and o["metadata"]["labels"]["gpuplan.io/pool"] == eks.name}
    limits = {name: job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
              for name, job in jobs.items()}
    assert limits == {"ocr-eks": {"nvidia.com/mig-1g.10gb": "1"},
                      "rerank-eks": {"nvidia.com/mig-3g.40gb": "1"}}
    for cq in (o for o in objects[eks.cluster] if o["kind"] == "ClusterQueue"):
        [group] = cq["spec"]["resourceGroups"]
        assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu",
                                             "nvidia.com/mig-1g.10gb", "nvidia.com/mig-3g.40gb"]
        for flavor in group["flavors"]:
            quota = {r["name"]: r["nominalQuota"] for r in flavor["resources"]}
            if flavor["name"] != eks.name:
                assert quota["nvidia.com/mig-1g.10gb"] == quota["nvidia.com/mig-3g.40gb"] == "0"
    for cluster, objs in objects.items():
        assert validate_objects(objs) == [], cluster


def test_operator_config_matches_the_pools(specs: PlanSpecs) -> None:
    """The ConfigMaps hold exactly the configs the pools' labels name."""
    for cluster in {p.cluster for p in specs.pools if p.operator_sharing}:
        objs = plan_objects(specs)[cluster]
        maps = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ConfigMap"}
        plugin = maps[DEVICE_PLUGIN_CONFIG]["data"]
        mig = yaml.safe_load(maps[MIG_PARTED_CONFIG]["data"]["config.yaml"])["mig-configs"]
        for pool in (p for p in specs.pools if p.cluster == cluster and p.operator_sharing):
            sharing = pool.operator_sharing
            assert sharing is not None
            if sharing.mode == "mig":
                assert pool.flavor_labels["nvidia.com/mig.config"] == sharing.operator_config
                [layout] = mig[sharing.operator_config]
                assert layout["mig-devices"] == {sharing.profile: sharing.slots_per_gpu}
            elif sharing.mode == "mig-layout":
                assert pool.flavor_labels["nvidia.com/mig.config"] == sharing.operator_config
                devices = {i: entry.get("mig-devices", {}) for entry in
                           mig[sharing.operator_config] for i in entry["devices"]}
                assert devices == {i: dict(Counter(gpu)) for i, gpu in enumerate(sharing.layout)}
            else:
                config = yaml.safe_load(plugin[sharing.operator_config])
                kind = "timeSlicing" if sharing.mode == "time-slicing" else "mps"
                assert config["sharing"][kind]["resources"] == [
                    {"name": "nvidia.com/gpu", "replicas": sharing.clients}]


def test_gpu_operator_replaces_the_device_plugin_where_pools_share() -> None:
    plain = ca.operator_charts("aws")
    assert "nvidia-device-plugin" in plain and "gpu-operator" not in plain
    shared = ca.operator_charts("aws", gpu_operator=True)
    assert "nvidia-device-plugin" not in shared
    values = shared["gpu-operator"]["values"]
    assert values == gpu_operator_values("aws")
    assert values["devicePlugin"]["config"]["name"] == DEVICE_PLUGIN_CONFIG
    assert values["migManager"]["config"]["name"] == MIG_PARTED_CONFIG
    assert values["driver"] == {"enabled": False}  # the EKS NVIDIA AMI has the driver
    assert "driver" not in gpu_operator_values("k8s")


def test_exclusive_pools_are_unchanged_by_sharing() -> None:
    """The factory plan has no shared pool: no ConfigMaps, no mode labels, one GPU resource."""
    specs = plan_specs(make_plan())
    assert all(p.sharing is None for p in specs.pools)
    objects = plan_objects(specs)
    assert not [o for objs in objects.values() for o in objs if o["kind"] == "ConfigMap"]
    for pool in specs.pools:
        assert pool.flavor_labels == {"gpuplan.io/pool": pool.name}
        assert dataclasses.replace(pool).gpu_resource == "nvidia.com/gpu"


def test_pulumi_installs_the_gpu_operator_and_its_config_on_eks(tmp_path: Path) -> None:
    """Under Pulumi mocks: the EKS cluster with shared pools gets the GPU Operator (not the
    bare device plugin) with values naming gpuplan's ConfigMaps, which the cluster's
    queues component creates; node groups carry the operator's config labels."""
    import json

    import pulumi

    from components.program.mocks import run_mocked
    from components.program.stack import load_plan, program, read_config

    plan = read_plan(REPO / "examples" / "sharing" / "plan.json")
    path = tmp_path / "plan.json"
    path.write_text((REPO / "examples" / "sharing" / "plan.json").read_text())
    eks = next(c.name for c in plan.clusters if c.cloud == "aws")
    clusters = {eks: {"subnetIds": ["subnet-a", "subnet-b"], "installOperators": True}}
    config = {"gpuplan:plan": str(path), "gpuplan:clusters": json.dumps(clusters)}

    def body() -> Any:
        cfg = read_config(pulumi.Config("gpuplan"))
        return program(load_plan(cfg), cfg)

    resources = run_mocked(body, config).resources
    operators = sorted(r.name for r in resources
                       if r.parent == f"gpuplan:cluster:Operators::{eks}")
    assert operators == [f"{eks}-gpu-operator", f"{eks}-jobset", f"{eks}-kuberay", f"{eks}-kueue"]
    [release] = [r for r in resources if r.name == f"{eks}-gpu-operator"]
    assert release.inputs["values"]["devicePlugin"]["config"]["name"] == DEVICE_PLUGIN_CONFIG
    maps = [r for r in resources if r.type == "kubernetes:core/v1:ConfigMap"
            and r.name.startswith(f"{eks}-")]
    assert sorted(r.inputs["metadata"]["name"] for r in maps) == [
        DEVICE_PLUGIN_CONFIG, MIG_PARTED_CONFIG]
    groups = [r for r in resources if r.type == "aws:eks/nodeGroup:NodeGroup"]
    labels = sorted((k, v) for g in groups for k, v in g.inputs["labels"].items()
                    if k.startswith("nvidia.com/"))
    assert labels == [("nvidia.com/device-plugin.config", "time-slicing-8"),
                      ("nvidia.com/mig.config", "gpuplan-" + layout_id((("1g.10gb", "3g.40gb"),)))]
    [parted] = [r for r in maps if r.inputs["metadata"]["name"] == MIG_PARTED_CONFIG]
    configs = yaml.safe_load(parted.inputs["data"]["config.yaml"])["mig-configs"]
    assert configs["gpuplan-" + layout_id((("1g.10gb", "3g.40gb"),))] == [
        {"devices": [0], "mig-enabled": True, "mig-devices": {"1g.10gb": 1, "3g.40gb": 1}}]


def _layout_plan() -> Plan:
    """The factory's on-prem DGX pool (8 A100s a node) as a per-GPU MIG layout: GPUs 0, 2,
    4, 6 as 3g.20gb + 4g.20gb, GPUs 1, 3, 5, 7 as 4g.20gb + 3 x 1g.5gb (brief case 3's
    node, four times), holding six jobs in three profiles."""
    plan = make_plan()
    pool = next(p for p in plan.pools if p.cloud == "onprem")
    layout = (("3g.20gb", "4g.20gb"), ("1g.5gb", "1g.5gb", "1g.5gb", "4g.20gb")) * 4
    template = next(p for p in plan.placements if p.pool == pool.id)
    jobs = [("mig-a", "4g.20gb"), ("mig-b", "4g.20gb"), ("mig-c", "3g.20gb"),
            ("mig-d", "1g.5gb"), ("mig-e", "1g.5gb"), ("mig-f", "1g.5gb")]
    shared = pool.model_copy(update={
        "workloads": tuple(n for n, _ in jobs), "teams": (template.team,),
        "sharing": PoolSharing(mode="mig-layout", layout=layout, slot="mixed", slots_per_gpu=4,
                               slot_memory_gib=4.75, isolation="hard")})
    placements = [p for p in plan.placements if p.pool != pool.id]
    placements += [template.model_copy(update={
        "workload": n, "slot": slot, "gpus_per_node": 1.0, "node_share": 1 / 8,
        "cpus_per_node": 4.0, "memory_gib_per_node": 32.0, "topology": "single", "nodes": 1})
        for n, slot in jobs]
    pools = [shared if p.id == pool.id else p for p in plan.pools]
    return plan.model_copy(update={"pools": tuple(pools), "placements": tuple(
        sorted(placements, key=lambda p: p.workload))})


def test_mig_layout_pool_gives_each_device_its_instances() -> None:
    plan = _layout_plan()
    specs = plan_specs(plan)
    pool = next(p for p in specs.pools if p.sharing and p.sharing.mode == "mig-layout")
    sharing = pool.sharing
    assert sharing is not None
    config = sharing.operator_config
    assert config.startswith("gpuplan-") and pool.flavor_labels["nvidia.com/mig.config"] == config
    assert pool.slots_per_node == 24
    objects = plan_objects(specs)[pool.cluster]
    assert validate_objects(objects) == []
    [mig_map] = [o for o in objects if o["metadata"]["name"] == MIG_PARTED_CONFIG]
    entries = yaml.safe_load(mig_map["data"]["config.yaml"])["mig-configs"][config]
    assert entries == [
        {"devices": [0, 2, 4, 6], "mig-enabled": True,
         "mig-devices": {"3g.20gb": 1, "4g.20gb": 1}},
        {"devices": [1, 3, 5, 7], "mig-enabled": True,
         "mig-devices": {"1g.5gb": 3, "4g.20gb": 1}},
    ]
    limits = {o["metadata"]["labels"]["gpuplan.io/workload"]:
              o["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
              for o in objects if o["kind"] == "Job"
              and o["metadata"]["labels"]["gpuplan.io/pool"] == pool.name}
    assert limits["mig-a"] == {"nvidia.com/mig-4g.20gb": "1"}
    assert limits["mig-c"] == {"nvidia.com/mig-3g.20gb": "1"}
    assert limits["mig-f"] == {"nvidia.com/mig-1g.5gb": "1"}
    [cq] = [o for o in objects if o["kind"] == "ClusterQueue"
            and any(f["name"] == pool.name for f in o["spec"]["resourceGroups"][0]["flavors"])
            and o["metadata"]["labels"]["gpuplan.io/team"] == plan.placement("mig-a").team]
    [group] = cq["spec"]["resourceGroups"]
    assert group["coveredResources"][3:] == ["nvidia.com/mig-1g.5gb", "nvidia.com/mig-3g.20gb",
                                             "nvidia.com/mig-4g.20gb"]
    [entry] = [f for f in group["flavors"] if f["name"] == pool.name]
    quota = {r["name"]: r["nominalQuota"] for r in entry["resources"]}
    assert (quota["nvidia.com/mig-1g.5gb"], quota["nvidia.com/mig-3g.20gb"],
            quota["nvidia.com/mig-4g.20gb"]) == ("3", "1", "2")


def test_a_layout_must_have_one_entry_per_gpu() -> None:
    import json

    from planner.errors import PlanFileError
    from planner.plan import dumps_plan, loads_plan

    data = json.loads(dumps_plan(_layout_plan()))
    pool = next(p for p in data["pools"] if p["sharing"])
    pool["sharing"]["layout"] = pool["sharing"]["layout"][:7]
    with pytest.raises(PlanFileError, match="7 GPU layouts for 8 GPUs a node"):
        loads_plan(json.dumps(data))


def test_multikueue_manager_covers_every_slot_resource(specs: PlanSpecs) -> None:
    """A MultiKueue manager admits the jobs before dispatching them, so its per-team queues
    cover each MIG resource the workers' jobs request, summed on its own."""
    from components.builders.k8s_objects import multikueue_objects

    manager = multikueue_objects(specs, "hub")
    assert validate_objects(manager) == []
    wanted: dict[str, dict[str, int]] = {}
    for job in specs.jobs:
        for role in job.roles:
            if role.gpus:
                team = wanted.setdefault(job.team, {})
                team[role.gpu_resource] = team.get(role.gpu_resource, 0) + role.replicas * role.gpus
    for cq in (o for o in manager if o["kind"] == "ClusterQueue"):
        [group] = cq["spec"]["resourceGroups"]
        [flavor] = group["flavors"]
        quota = {r["name"]: int(r["nominalQuota"]) for r in flavor["resources"]
                 if r["name"].startswith("nvidia.com/")}
        team = cq["metadata"]["labels"]["gpuplan.io/team"]
        assert {k: v for k, v in quota.items() if v} == wanted.get(team, {}), team
