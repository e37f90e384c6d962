"""Per-cloud node pool arguments from a :class:`PoolSpec`, as plain dicts. Pulumi-free.

Keys are the Pulumi Python argument names of ``aws.eks.NodeGroup``,
``gcp.container.NodePool`` and ``azure_native.containerservice.AgentPool``;
nested dicts stand for the SDKs' typed ``*Args`` classes, which the Pulumi
component builds from them (unknown names fail there). The arguments that
come from the cluster (``CLUSTER_KEYS``) are left out: the component adds
them from its :class:`~components.resources.cluster.GpuCluster`, the Terraform renderer
from its own references.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from components.builders.sharing import aks_instance_profile, gke_accelerator_sharing
from components.builders.specs import PoolSpec, Taint

# Arguments each cloud's node pool takes from its cluster, not from the pool.
CLUSTER_KEYS = {
    "aws": ("cluster_name", "node_role_arn", "subnet_ids"),
    "gcp": ("cluster", "location", "project"),
    "azure": ("resource_group_name", "resource_name_"),
}

# gpuplan accelerator name -> GKE accelerator type.
GKE_ACCELERATORS = {
    "A100": "nvidia-tesla-a100",
    "A100-80GB": "nvidia-a100-80gb",
    "H100": "nvidia-h100-80gb",
    "H100-MEGA": "nvidia-h100-mega-80gb",
    "H200": "nvidia-h200-141gb",
    "B200": "nvidia-b200",
    "L4": "nvidia-l4",
    "T4": "nvidia-tesla-t4",
    "V100": "nvidia-tesla-v100",
    "P100": "nvidia-tesla-p100",
    "P4": "nvidia-tesla-p4",
    "K80": "nvidia-tesla-k80",
}

# AWS instance families on Graviton (arm64) that carry NVIDIA GPUs.
AWS_ARM_GPU_FAMILIES = ("g5g",)

_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE",
            "PreferNoSchedule": "PREFER_NO_SCHEDULE"}


def eks_ami_type(spec: PoolSpec) -> str:
    """AL2023 with the NVIDIA driver for GPU instances, plain AL2023 otherwise."""
    arm = spec.instance_type.split(".")[0] in AWS_ARM_GPU_FAMILIES
    if not spec.gpus:
        return "AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD"
    return "AL2023_ARM_64_NVIDIA" if arm else "AL2023_x86_64_NVIDIA"


def _cloud_taints(taints: tuple[Taint, ...]) -> list[dict[str, str]]:
    return [{"key": t.key, "value": t.value, "effect": _EFFECTS[t.effect]} for t in taints]


def aws_node_group_args(spec: PoolSpec) -> dict[str, Any]:
    """``aws.eks.NodeGroup`` arguments (without ``CLUSTER_KEYS['aws']``)."""
    return {
        "node_group_name": spec.name,
        "ami_type": eks_ami_type(spec),
        "capacity_type": "SPOT" if spec.spot else "ON_DEMAND",
        "instance_types": [spec.instance_type],
        "scaling_config": {
            "min_size": spec.min_nodes,
            "desired_size": spec.desired_nodes,
            "max_size": max(spec.max_nodes, 1),
        },
        "update_config": {"max_unavailable": 1},
        "labels": dict(spec.labels),
        "taints": _cloud_taints(spec.taints),
        "tags": dict(spec.tags),
    }


def gke_accelerator(spec: PoolSpec) -> dict[str, Any]:
    """One ``guest_accelerators`` entry: type, count, driver, sharing/partitioning."""
    accel = spec.accelerator or ""
    out: dict[str, Any] = {
        "type": GKE_ACCELERATORS.get(accel.upper(), "nvidia-" + accel.lower()),
        "count": spec.gpus,
        "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"},
    }
    out.update(gke_accelerator_sharing(spec.sharing))
    return out


def gke_node_pool_name(spec: PoolSpec) -> str:
    """GKE node pool names are at most 40 characters."""
    return _short(spec.name, 40)


def gcp_node_pool_args(spec: PoolSpec) -> dict[str, Any]:
    """``gcp.container.NodePool`` arguments (without ``CLUSTER_KEYS['gcp']``)."""
    node_config: dict[str, Any] = {
        "machine_type": spec.instance_type,
        "spot": spec.spot,
        "labels": dict(spec.labels),
        "resource_labels": dict(spec.tags),
        "taints": _cloud_taints(spec.taints),
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
    }
    if spec.gpus:
        node_config["guest_accelerators"] = [gke_accelerator(spec)]
    args: dict[str, Any] = {
        "name": gke_node_pool_name(spec),
        "initial_node_count": spec.desired_nodes,
        "autoscaling": {
            "total_min_node_count": spec.min_nodes,
            "total_max_node_count": max(spec.max_nodes, 1),
            "location_policy": "ANY" if spec.spot else "BALANCED",
        },
        "management": {"auto_repair": True, "auto_upgrade": True},
        "node_config": node_config,
    }
    if spec.zone:
        args["node_locations"] = [spec.zone]
    if spec.placement_policy:
        args["placement_policy"] = {"type": spec.placement_policy}
    return args


def aks_agent_pool_name(spec: PoolSpec) -> str:
    """AKS Linux pool names: lower-case alphanumerics, at most 12, starting with a letter."""
    digest = hashlib.sha256(spec.id.encode()).hexdigest()[:8]
    return "gp" + digest


def azure_agent_pool_args(spec: PoolSpec) -> dict[str, Any]:
    """``azure_native.containerservice.AgentPool`` arguments (without ``CLUSTER_KEYS['azure']``)."""
    args: dict[str, Any] = {
        "agent_pool_name": aks_agent_pool_name(spec),
        "mode": "User",
        "os_type": "Linux",
        "vm_size": spec.instance_type,
        "count": spec.desired_nodes,
        "enable_auto_scaling": True,
        "min_count": spec.min_nodes,
        "max_count": max(spec.max_nodes, 1),
        "node_labels": dict(spec.labels),
        "node_taints": [f"{t.key}={t.value}:{t.effect}" for t in spec.taints],
        "tags": dict(spec.tags),
    }
    if spec.zone:
        args["availability_zones"] = [spec.zone]
    if spec.spot:
        args.update({
            "scale_set_priority": "Spot",
            "scale_set_eviction_policy": "Delete",
            "spot_max_price": -1,  # pay at most the on-demand price, never evicted for price
        })
    profile = aks_instance_profile(spec.sharing)
    if profile:
        args["gpu_instance_profile"] = profile
    return args


# --- multi-node locality (pools the plan marks ``placement_group``) -----------------------
#
# GKE takes a ``placement_policy`` on the node pool itself. AWS needs a cluster placement
# group, carried to the node group by a launch template (``placement.group_name``); Azure a
# proximity placement group referenced by the agent pool's ``proximity_placement_group_id``.
# The builders below give those resources' arguments; the ids that join them are only known
# at deploy time, so the Pulumi component wires them (see ``components.resources.node_pool``).


def wants_placement_group(spec: PoolSpec) -> bool:
    """A managed AWS or Azure pool the plan keeps together (``placement_group`` in the plan)."""
    return spec.managed and spec.cloud in ("aws", "azure") and spec.placement_policy is not None


def placement_group_name(spec: PoolSpec) -> str:
    """Name of the pool's AWS placement group / launch template or Azure proximity group."""
    return _short(f"gpuplan-{spec.name}", 80)


def aws_placement_group_args(spec: PoolSpec) -> dict[str, Any]:
    """``aws.ec2.PlacementGroup`` arguments: strategy ``cluster`` (one low-latency segment)."""
    return {"name": placement_group_name(spec), "strategy": "cluster", "region": spec.region,
            "tags": dict(spec.tags)}


def aws_launch_template_args(spec: PoolSpec, group_name: Any) -> dict[str, Any]:
    """``aws.ec2.LaunchTemplate`` arguments: only the placement group (EKS keeps choosing the
    AMI and instance type from the node group's own ``ami_type`` and ``instance_types``)."""
    return {"name": placement_group_name(spec), "region": spec.region,
            "placement": {"group_name": group_name}, "update_default_version": True,
            "tags": dict(spec.tags)}


def aws_launch_template_ref(template_id: Any, version: Any) -> dict[str, Any]:
    """The node group's ``launch_template`` argument."""
    return {"launch_template": {"id": template_id, "version": version}}


def azure_proximity_group_args(spec: PoolSpec, resource_group_name: Any) -> dict[str, Any]:
    """``azure_native.compute.ProximityPlacementGroup`` arguments, in the pool's region/zone."""
    args: dict[str, Any] = {
        "proximity_placement_group_name": placement_group_name(spec),
        "proximity_placement_group_type": "Standard",
        "resource_group_name": resource_group_name,
        "location": spec.region,
        "tags": dict(spec.tags),
    }
    if spec.zone:
        args["zones"] = [spec.zone]
    return args


def azure_proximity_group_ref(group_id: Any) -> dict[str, Any]:
    """The agent pool's ``proximity_placement_group_id`` argument."""
    return {"proximity_placement_group_id": group_id}


BUILDERS: dict[str, Callable[[PoolSpec], dict[str, Any]]] = {
    "aws": aws_node_group_args,
    "gcp": gcp_node_pool_args,
    "azure": azure_agent_pool_args,
}


def pool_args(spec: PoolSpec) -> dict[str, Any]:
    """The node pool arguments for ``spec``'s cloud; KeyError for clouds without pools."""
    return BUILDERS[spec.cloud](spec)


def _short(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return name[: limit - 7].rstrip("-") + "-" + digest
