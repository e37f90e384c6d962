"""How a shared pool is deployed: node labels, the slot resource, operator config. Pulumi-free.

A plan pool's ``sharing`` (``mig``, ``time-slicing`` or ``mps``) becomes, per cloud:

* **GKE**: ``guest_accelerators[0].gpu_partition_size`` (MIG) or ``gpu_sharing_config``
  (``TIME_SHARING`` / ``MPS`` with ``max_shared_clients_per_gpu``); GKE labels the nodes
  ``cloud.google.com/gke-gpu-partition-size`` or ``cloud.google.com/gke-gpu-sharing-strategy``
  (``time-sharing`` | ``mps``) and ``cloud.google.com/gke-max-shared-clients-per-gpu``, and the
  Kueue flavor selects them too. Pods request ``nvidia.com/gpu: 1`` (one slice / client).
* **AKS**: ``gpu_instance_profile`` MIG1g..MIG7g (the planner only uses profiles AKS names);
  immutable, so a new profile is a new pool (the pool id carries the mode). The device
  plugin runs the ``single`` MIG strategy: pods request ``nvidia.com/gpu: 1``.
* **EKS and existing clusters** (pools of cloud ``k8s``): the NVIDIA GPU Operator. Node
  labels choose its config: ``nvidia.com/mig.config: all-<profile>`` (mig-manager,
  ``mixed`` strategy: pods request ``nvidia.com/mig-<profile>: 1``) or
  ``nvidia.com/device-plugin.config: time-slicing-<N>`` / ``mps-<N>`` (device plugin:
  ``nvidia.com/gpu: 1`` is one client). The two ConfigMaps those names point into are
  gpuplan objects in namespace ``gpu-operator`` (:func:`operator_configmaps`); the Helm
  values that make the operator read them are :func:`gpu_operator_values`. EKS nodes
  use the NVIDIA AMI, which brings the driver and container toolkit, so the operator
  installs neither there; mig-manager reboots A100 nodes to enable MIG
  (``WITH_REBOOT=true``).

Config texts are YAML (what both readers parse), keys sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

GPU_RESOURCE = "nvidia.com/gpu"
OPERATOR_CLOUDS = ("aws", "k8s", "onprem")  # clouds whose pools the GPU Operator configures
GPU_OPERATOR_NAMESPACE = "gpu-operator"
DEVICE_PLUGIN_CONFIG = "gpuplan-device-plugin-config"
MIG_PARTED_CONFIG = "gpuplan-mig-parted-config"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
GKE_PARTITION_LABEL = "cloud.google.com/gke-gpu-partition-size"
GKE_STRATEGY_LABEL = "cloud.google.com/gke-gpu-sharing-strategy"
GKE_CLIENTS_LABEL = "cloud.google.com/gke-max-shared-clients-per-gpu"
GKE_STRATEGY = {"time-slicing": "TIME_SHARING", "mps": "MPS"}
GKE_STRATEGY_VALUE = {"time-slicing": "time-sharing", "mps": "mps"}
MIN_CLIENTS, MAX_CLIENTS = 2, 48
DEFAULT_PLUGIN_CONFIG = "default"


@dataclass(frozen=True)
class SharingSpec:
    """A pool's sharing mode as the deploy side needs it."""

    mode: str  # mig | time-slicing | mps
    profile: str | None
    clients: int | None
    slots_per_gpu: int

    def __post_init__(self) -> None:
        if self.mode == "mig" and not self.profile:
            raise ValueError("a MIG pool needs its profile")
        if self.mode in ("time-slicing", "mps") and not (
                self.clients is not None and MIN_CLIENTS <= self.clients <= MAX_CLIENTS):
            raise ValueError(f"{self.mode} needs {MIN_CLIENTS}..{MAX_CLIENTS} clients per GPU "
                             f"(got {self.clients})")

    @property
    def name(self) -> str:
        return f"mig:{self.profile}" if self.mode == "mig" else f"{self.mode}:{self.clients}"

    @property
    def operator_config(self) -> str:
        """The GPU Operator config name this mode selects (mig-parted or device plugin)."""
        if self.mode == "mig":
            return f"all-{self.profile}"
        return f"{self.mode}-{self.clients}"


def operator_managed(cloud: str) -> bool:
    return cloud in OPERATOR_CLOUDS


def slot_resource(cloud: str, sharing: SharingSpec | None) -> str:
    """The extended resource one slot is: ``nvidia.com/mig-<profile>`` under the operator's
    mixed MIG strategy, else ``nvidia.com/gpu`` (GKE, AKS single strategy, time-slicing, MPS)."""
    if sharing is not None and sharing.mode == "mig" and operator_managed(cloud):
        return f"nvidia.com/mig-{sharing.profile}"
    return GPU_RESOURCE


def pool_labels(cloud: str, sharing: SharingSpec | None) -> dict[str, str]:
    """Labels the node pool itself must set for its mode (the operator's config labels)."""
    if sharing is None or not operator_managed(cloud):
        return {}
    key = MIG_CONFIG_LABEL if sharing.mode == "mig" else PLUGIN_CONFIG_LABEL
    return {key: sharing.operator_config}


def cloud_labels(cloud: str, sharing: SharingSpec | None) -> dict[str, str]:
    """Labels the cloud puts on the pool's nodes for its mode (GKE), for Kueue to select."""
    if sharing is None or cloud != "gcp":
        return {}
    if sharing.mode == "mig":
        return {GKE_PARTITION_LABEL: str(sharing.profile)}
    return {GKE_STRATEGY_LABEL: GKE_STRATEGY_VALUE[sharing.mode],
            GKE_CLIENTS_LABEL: str(sharing.clients)}


def gke_accelerator_sharing(sharing: SharingSpec | None) -> dict[str, Any]:
    """The ``guest_accelerators`` keys of a GKE pool's mode."""
    if sharing is None:
        return {}
    if sharing.mode == "mig":
        return {"gpu_partition_size": sharing.profile}
    return {"gpu_sharing_config": {"gpu_sharing_strategy": GKE_STRATEGY[sharing.mode],
                                   "max_shared_clients_per_gpu": sharing.clients}}


def aks_instance_profile(sharing: SharingSpec | None) -> str | None:
    """``1g.10gb`` -> ``MIG1g``: AKS names a profile by its compute slices (the planner only
    gives AKS profiles of the family AKS names, so the name is exact)."""
    if sharing is None or sharing.mode != "mig" or not sharing.profile:
        return None
    return f"MIG{sharing.profile.split('.')[0]}"


# --- GPU Operator config ---------------------------------------------------------------------


def _text(doc: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(doc, sort_keys=True, default_flow_style=False)
    return text


def device_plugin_configs(modes: list[SharingSpec]) -> dict[str, str]:
    """The device plugin ConfigMap's data: a ``default`` (mixed MIG strategy, no sharing)
    and one config per time-slicing / MPS mode in use."""
    data = {DEFAULT_PLUGIN_CONFIG: _text({"version": "v1", "flags": {"migStrategy": "mixed"}})}
    for m in modes:
        if m.mode == "mig":
            continue
        key = "timeSlicing" if m.mode == "time-slicing" else "mps"
        data[m.operator_config] = _text({
            "version": "v1", "flags": {"migStrategy": "none"},
            "sharing": {key: {"resources": [{"name": GPU_RESOURCE, "replicas": m.clients}]}}})
    return dict(sorted(data.items()))


def mig_parted_config(modes: list[SharingSpec]) -> str:
    """mig-parted's ``config.yaml``: ``all-disabled`` and one ``all-<profile>`` per MIG mode."""
    configs: dict[str, Any] = {"all-disabled": [{"devices": "all", "mig-enabled": False}]}
    for m in modes:
        if m.mode == "mig":
            configs[m.operator_config] = [{"devices": "all", "mig-enabled": True,
                                           "mig-devices": {str(m.profile): m.slots_per_gpu}}]
    return _text({"version": "v1", "mig-configs": dict(sorted(configs.items()))})


def operator_configmaps(modes: list[SharingSpec]) -> list[dict[str, Any]]:
    """The two ConfigMaps (in ``gpu-operator``) for a cluster's operator-managed modes."""
    if not modes:
        return []
    meta = {"namespace": GPU_OPERATOR_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "gpuplan"}}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": DEVICE_PLUGIN_CONFIG, **meta},
         "data": device_plugin_configs(modes)},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": MIG_PARTED_CONFIG, **meta},
         "data": {"config.yaml": mig_parted_config(modes)}},
    ]


def gpu_operator_values(cloud: str) -> dict[str, Any]:
    """Helm values of the ``gpu-operator`` chart: read gpuplan's ConfigMaps (created by
    gpuplan, not by the chart), mixed MIG strategy, reboot to enable MIG; on EKS the
    NVIDIA AMI already has the driver and toolkit."""
    values: dict[str, Any] = {
        "mig": {"strategy": "mixed"},
        "migManager": {"env": [{"name": "WITH_REBOOT", "value": "true"}],
                       "config": {"create": False, "name": MIG_PARTED_CONFIG,
                                  "default": "all-disabled"}},
        "devicePlugin": {"config": {"create": False, "name": DEVICE_PLUGIN_CONFIG,
                                    "default": DEFAULT_PLUGIN_CONFIG}},
    }
    if cloud == "aws":
        values["driver"] = {"enabled": False}
        values["toolkit"] = {"enabled": False}
    return values
