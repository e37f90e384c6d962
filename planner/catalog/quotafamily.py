"""Which quota an offer draws on, in the cloud's own unit.

* AWS: vCPUs per instance family class. The class is the quota's letter:
  ``P`` (p3, p4d, p5...), ``G`` (g4dn, g5, g6...), ``VT``, ``F``, ``Inf``,
  ``Trn``, ``DL``, ``X``, and ``Standard`` for A, C, D, H, I, M, R, T, Z.
  On-demand ("Running On-Demand P instances") and spot ("All P Spot Instance
  Requests") are separate quotas with the same family name.
* GCP: accelerators per region, counted in GPUs: ``NVIDIA_A100_GPUS``,
  ``NVIDIA_A100_80GB_GPUS``, ``NVIDIA_H100_GPUS``... Spot draws on the
  ``PREEMPTIBLE_`` quota of the same family (written here as the same family
  with capacity ``spot``). CPU-only VMs count vCPUs against ``CPUS``.
* Azure: vCPUs per VM family, named like the API's ``name.value``
  (``standardNCADSA100v4Family``); every spot VM of a region draws on
  ``lowPriorityCores`` instead. Most family names follow from the size name
  (letters of the series, then the remaining name parts); the GPU series
  whose names do not (``Standard_NC4as_T4_v3`` is in
  ``standardNCASv3_T4Family``, ``Standard_ND96isr_H100_v5`` in
  ``standardNDSH100v5Family``...) are listed in :data:`AZURE_FAMILY_EXCEPTIONS`,
  as the Resource SKUs API / ``az vm list-usage`` name them. Quota matching
  compares names ignoring case, spaces and underscores.
* Existing clusters: their own GPUs, family ``GPUS``.
"""

from __future__ import annotations

import re

AWS_CLASSES = ("VT", "Inf", "Trn", "DL", "P", "G", "F", "X")
GCP_GPU_FAMILY = {
    "A100": "NVIDIA_A100_GPUS",
    "A100-80GB": "NVIDIA_A100_80GB_GPUS",
    "H100": "NVIDIA_H100_GPUS",
    "H100-MEGA": "NVIDIA_H100_MEGA_GPUS",
    "H200": "NVIDIA_H200_GPUS",
    "B200": "NVIDIA_B200_GPUS",
    "L4": "NVIDIA_L4_GPUS",
    "T4": "NVIDIA_T4_GPUS",
    "V100": "NVIDIA_V100_GPUS",
    "P100": "NVIDIA_P100_GPUS",
    "P4": "NVIDIA_P4_GPUS",
}
AZURE_SPOT_FAMILY = "lowPriorityCores"
# GPU series whose quota family is not the size name's letters + parts (Azure's own names).
AZURE_FAMILY_EXCEPTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), family) for pattern, family in (
        (r"^Standard_NC\d+as_T4_v3$", "standardNCASv3_T4Family"),
        (r"^Standard_NC\d+adi?s_H100_v5$", "standardNCadsH100v5Family"),
        (r"^Standard_NCC\d+ads_H100_v5$", "StandardNCCads2023Family"),
        (r"^Standard_ND\d+rs_v2$", "standardNDSv2Family"),
        (r"^Standard_ND\d+asr_v4$", "standardNDASv4_A100Family"),
        (r"^Standard_ND\d+amsr_A100_v4$", "standardNDAMSv4_A100Family"),
        (r"^Standard_ND\d+isr_H100_v5$", "standardNDSH100v5Family"),
        (r"^Standard_ND\d+isr_H200_v5$", "standardNDISRH200V5Family"),
        (r"^Standard_ND\d+isr_MI300X_v5$", "standardNDISv5MI300XFamily"),
        (r"^Standard_NV\d+adm?s_A10_v5$", "standardNVADSA10v5Family"),
        (r"^Standard_NV\d+as_v4$", "standardNVSv4Family"),
    )
)


def aws_family(instance_type: str) -> str:
    """``p4d.24xlarge`` -> ``P``; ``inf2.xlarge`` -> ``Inf``; ``m5.large`` -> ``Standard``."""
    series = instance_type.split(".", 1)[0].lower()
    for cls in AWS_CLASSES:
        if series.startswith(cls.lower()):
            return cls
    return "Standard"


def gcp_family(accelerator: str | None) -> str:
    """``A100`` -> ``NVIDIA_A100_GPUS``; CPU-only -> ``CPUS``."""
    if accelerator is None:
        return "CPUS"
    return GCP_GPU_FAMILY.get(accelerator, "NVIDIA_" + re.sub(r"\W", "_", accelerator.upper()) + "_GPUS")


def azure_family(vm_size: str) -> str:
    """``Standard_NC24ads_A100_v4`` -> ``standardNCADSA100v4Family`` (exceptions first)."""
    for pattern, family in AZURE_FAMILY_EXCEPTIONS:
        if pattern.match(vm_size):
            return family
    name = vm_size.removeprefix("Standard_").removeprefix("Basic_")
    first, *rest = name.split("_")
    letters = re.sub(r"[0-9\-]", "", first).upper()
    return "standard" + letters + "".join(rest) + "Family"


def normalize_family(name: str) -> str:
    """Compare quota names ignoring case, spaces and underscores."""
    return re.sub(r"[\s_\-]", "", name).lower()


def on_demand_family(cloud: str, instance_type: str, accelerator: str | None) -> str:
    if cloud == "aws":
        return aws_family(instance_type)
    if cloud == "gcp":
        return gcp_family(accelerator)
    if cloud == "azure":
        return azure_family(instance_type)
    return "GPUS"


def quota_family(cloud: str, family: str, spot: bool) -> str:
    """The family a pool draws on for its capacity type."""
    if spot and cloud == "azure":
        return AZURE_SPOT_FAMILY
    return family


def quota_units_per_node(cloud: str, vcpus: float, gpus: float) -> float:
    """How much of its quota one node uses: GPUs on GCP GPU quotas and clusters, else vCPUs."""
    if cloud in ("gcp", "k8s") and gpus > 0:
        return gpus
    return vcpus
