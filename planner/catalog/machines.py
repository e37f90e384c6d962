"""Machine facts a price table does not state: CPU architecture, burstable families, and
the host a GPU comes with when a request names none.

**Architecture.** The default image is x86_64, so arm64 machines are used only when a
workload asks (``resources.arch: arm64`` or ``any``). A catalog row carries its arch
where the source says (AWS's ``Arch`` column, the refresh APIs); elsewhere it is read
from the type's name (:func:`arch_of`): AWS Graviton families (``a1``, and a ``g`` right
after the generation: ``m7g``, ``c6gn``, ``t4g``, ``g5g``, ``x2gd``, ``im4gn``), GCP
Ampere Altra ``t2a``, Axion ``c4a``/``n4a`` and Grace ``a4x``, Azure sizes with the ``p``
feature letter (Ampere ``Dpsv5``, ``Epsv5``, ``Bpsv2``; Cobalt ``Dpsv6``, ``Epsv6``) and
Grace ``GB200``/``GB300`` sizes.

**Burstable.** CPU credits run out under a steady load, so burstable families are used
only when a workload asks (``resources.burstable: true``) or names the instance type:
AWS ``t*`` (``t2``, ``t3``, ``t3a``, ``t4g``), Azure ``B*`` (``B2s``, ``B2pts_v2``, ...),
GCP ``e2-micro``, ``e2-small``, ``e2-medium`` (shared-core), ``f1-micro``, ``g1-small``.

**Constrained vCPUs.** An Azure constrained-vCPU size (``Standard_E4-2as_v5``: an
``E4as_v5`` with 2 of its 4 vCPUs running, priced as the whole size) has the vCPUs after the
dash; price lists give the whole size's count (:func:`usable_vcpus`).

**Default host per GPU.** A request that gives no ``cpus`` (or no ``memory``) for a GPU
gets at least :data:`HOST_PER_GPU` x GPUs, taken from the smallest host each cloud
bundles with that GPU (per GPU, over all of a cloud's sizes), so that every cloud's
standard shapes still qualify:

=============  ========  =========  ==================================================
GPU            vCPUs     GiB        from
=============  ========  =========  ==================================================
T4, P4         4         15         AWS g4dn.xlarge (4, 16), GCP n1-standard-4 (4, 15)
V100, P100     5         48         Azure ND40rs_v2 (5, 84), AWS p3.2xlarge (8, 61),
                                    GCP n1-highmem-8 (8, 52; SkyPilot's V100/P100 host)
K80            4         24         AWS p2.xlarge (4, 61), GCP n1-highmem-4 (4, 26)
L4, A10G, A10  4         16         GCP g2-standard-4, AWS g6.xlarge / g5.xlarge
L40S, L40      4         16         AWS g6e.xlarge (4, 32)
A100(-80GB)    6         80         GCP a2-megagpu-16g (6, 85), AWS p4d (12, 144)
H100, H200     12        80         Azure ND96isr_H100_v5 (12 per GPU), GCP a3 (26)
others         4         16
=============  ========  =========  ==================================================

An explicit request always wins: ``cpus: 1+`` still allows a one-vCPU host.

May import: nothing outside the catalog room.
"""

from __future__ import annotations

import re

ARCHES = ("x86_64", "arm64")

_ARM = {
    "aws": re.compile(r"^(a1|[a-z]+\d+g[a-z]*)\."),
    "gcp": re.compile(r"^(t2a|c4a|n4a|a4x)-"),
    "azure": re.compile(r"^Standard_([A-Z]+\d+[a-z]*p[a-z]*_|.*GB[23]00)"),
}
_BURSTABLE = {
    "aws": re.compile(r"^t\d[a-z]*\."),
    "gcp": re.compile(r"^(e2-(micro|small|medium)|f1-micro|g1-small)$"),
    "azure": re.compile(r"^Standard_B\d"),
}

# GPU -> (vCPUs, GiB) per GPU at least, when a request names neither (table above).
HOST_PER_GPU: dict[str, tuple[float, float]] = {
    "T4": (4, 15), "P4": (4, 15), "K80": (4, 24),
    "V100": (5, 48), "V100-32GB": (5, 48), "P100": (5, 48),
    "L4": (4, 16), "A10G": (4, 16), "A10": (4, 16), "L40S": (4, 16), "L40": (4, 16),
    "A100": (6, 80), "A100-80GB": (6, 80),
    "H100": (12, 80), "H100-MEGA": (12, 80), "H200": (12, 80),
}
HOST_PER_GPU_OTHER = (4.0, 16.0)


def arch_of(cloud: str, instance_type: str) -> str:
    """``arm64`` or ``x86_64`` for a type whose source does not say."""
    pattern = _ARM.get(cloud)
    return "arm64" if pattern is not None and pattern.match(instance_type) else "x86_64"


_CONSTRAINED = re.compile(r"^Standard_[A-Za-z]+\d+-(\d+)")


def usable_vcpus(cloud: str, instance_type: str, vcpus: float) -> float:
    """The vCPUs a machine runs: fewer than listed for an Azure constrained-vCPU size."""
    if cloud == "azure":
        constrained = _CONSTRAINED.match(instance_type)
        if constrained:
            return min(vcpus, float(constrained.group(1)))
    return vcpus


def is_burstable(cloud: str, instance_type: str) -> bool:
    """A burstable (CPU-credit or shared-core) family."""
    pattern = _BURSTABLE.get(cloud)
    return pattern is not None and bool(pattern.match(instance_type))


def default_host(accelerator: str | None, count: float) -> tuple[float, float] | None:
    """(vCPUs, GiB) at least for ``count`` x ``accelerator`` when the request names none;
    None for CPU-only requests."""
    if not accelerator or count <= 0:
        return None
    cpus, memory = HOST_PER_GPU.get(accelerator, HOST_PER_GPU_OTHER)
    return cpus * count, memory * count
