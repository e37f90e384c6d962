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
  ``mixed`` strategy: pods request ``nvidia.com/mig-<profile>: 1``), or for a per-GPU
  layout (``mig-layout``) ``nvidia.com/mig.config: gpuplan-<layout id>``, a mig-parted
  config that gives each device index its own instances, or
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

from planner.plan import layout_id, mode_name

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

    mode: str  # mig | mig-layout | time-slicing | mps
    profile: str | None
    clients: int | None
    slots_per_gpu: int
    layout: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.mode == "mig" and not self.profile:
            raise ValueError("a MIG pool needs its profile")
        if self.mode == "mig-layout" and not self.layout:
            raise ValueError("a mig-layout pool needs its per-GPU layout")
        if self.mode in ("time-slicing", "mps") and not (
                self.clients is not None and MIN_CLIENTS <= self.clients <= MAX_CLIENTS):
            raise ValueError(f"{self.mode} needs {MIN_CLIENTS}..{MAX_CLIENTS} clients per GPU "
                             f"(got {self.clients})")

    @property
    def name(self) -> str:
        return mode_name(self.mode, self.profile, self.clients, self.layout)

    @property
    def is_mig(self) -> bool:
        return self.mode in ("mig", "mig-layout")

    @property
    def profiles(self) -> tuple[str, ...]:
        """The MIG profiles a node of this mode has, sorted (none for time-slicing / MPS)."""
        if self.mode == "mig-layout":
            return tuple(sorted({n for gpu in self.layout for n in gpu}))
        return (str(self.profile),) if self.mode == "mig" else ()

    @property
    def operator_config(self) -> str:
        """The GPU Operator config name this mode selects (mig-parted or device plugin)."""
        if self.mode == "mig":
            return f"all-{self.profile}"
        if self.mode == "mig-layout":
            return f"gpuplan-{layout_id(self.layout)}"
        return f"{self.mode}-{self.clients}"


def operator_managed(cloud: str) -> bool:
    return cloud in OPERATOR_CLOUDS


def slot_resource(cloud: str, sharing: SharingSpec | None, slot: str | None = None) -> str:
    """The extended resource one slot is: ``nvidia.com/mig-<profile>`` under the operator's
    mixed MIG strategy (``slot``: the profile a job of a mig-layout pool takes), else
    ``nvidia.com/gpu`` (GKE, AKS single strategy, time-slicing, MPS)."""
    if sharing is not None and sharing.is_mig and operator_managed(cloud):
        profile = slot if slot and slot in sharing.profiles else sharing.profiles[0]
        return f"nvidia.com/mig-{profile}"
    return GPU_RESOURCE


def slot_resources(cloud: str, sharing: SharingSpec | None) -> tuple[str, ...]:
    """Every slot resource a pool's nodes offer (one, except for a mig-layout pool)."""
    if sharing is not None and sharing.is_mig and operator_managed(cloud):
        return tuple(f"nvidia.com/mig-{p}" for p in sharing.profiles)
    return (GPU_RESOURCE,)


def pool_labels(cloud: str, sharing: SharingSpec | None) -> dict[str, str]:
    """Labels the node pool itself must set for its mode (the operator's config labels)."""
    if sharing is None or not operator_managed(cloud):
        return {}
    key = MIG_CONFIG_LABEL if sharing.is_mig else PLUGIN_CONFIG_LABEL
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
    if sharing.mode not in GKE_STRATEGY:
        raise ValueError(f"GKE has no {sharing.name} pools (one partition size per pool)")
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
        if m.is_mig:
            continue
        key = "timeSlicing" if m.mode == "time-slicing" else "mps"
        data[m.operator_config] = _text({
            "version": "v1", "flags": {"migStrategy": "none"},
            "sharing": {key: {"resources": [{"name": GPU_RESOURCE, "replicas": m.clients}]}}})
    return dict(sorted(data.items()))


def mig_parted_config(modes: list[SharingSpec]) -> str:
    """mig-parted's ``config.yaml``: ``all-disabled``, one ``all-<profile>`` per homogeneous
    MIG mode and one ``gpuplan-<id>`` per layout, whose devices with the same instances
    share an entry (``devices: [0, 2]``)."""
    configs: dict[str, Any] = {"all-disabled": [{"devices": "all", "mig-enabled": False}]}
    for m in modes:
        if m.mode == "mig":
            configs[m.operator_config] = [{"devices": "all", "mig-enabled": True,
                                           "mig-devices": {str(m.profile): m.slots_per_gpu}}]
        elif m.mode == "mig-layout":
            configs[m.operator_config] = _device_entries(m.layout)
    return _text({"version": "v1", "mig-configs": dict(sorted(configs.items()))})


def _device_entries(layout: tuple[tuple[str, ...], ...]) -> list[dict[str, Any]]:
    """One mig-parted entry per distinct GPU layout, listing the device indices that have it."""
    devices: dict[tuple[str, ...], list[int]] = {}
    for index, gpu in enumerate(layout):
        devices.setdefault(tuple(sorted(gpu)), []).append(index)
    out = []
    for gpu, indices in sorted(devices.items(), key=lambda kv: kv[1]):
        counts: dict[str, int] = {}
        for name in gpu:
            counts[name] = counts.get(name, 0) + 1
        entry: dict[str, Any] = {"devices": indices, "mig-enabled": bool(gpu)}
        if gpu:
            entry["mig-devices"] = dict(sorted(counts.items()))
        out.append(entry)
    return out


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
