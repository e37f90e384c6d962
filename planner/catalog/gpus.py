"""GPU facts for sharing: memory per GPU, MIG profiles and where they may be placed.

Units: GiB (usable, what a CUDA program can allocate), compute and memory in
MIG *slices* (A100-class GPUs have 7 compute and 8 memory slices).

**Memory.** :data:`GPU_MEMORY_GIB` is the memory of one whole GPU where the
catalog row gives none (Azure rows carry no GPU memory); a row's own figure
(``Offer.accelerator_memory_gib``) wins, being the cloud's statement (AWS
reports an L4 as 22,888 MiB).

**MIG profiles** (:data:`MIG_GEOMETRY`): per GPU type, each profile's compute
slices, memory slices, usable GiB, how many fit one GPU and the memory-slice
offsets a GPU instance may start at. Sources: NVIDIA MIG user guide,
"Supported MIG profiles" and the ``nvidia-smi mig -lgipp`` listing for A100 40GB
(1g.5gb {0..6}:1, 1g.10gb {0,2,4,6}:2, 2g.10gb {0,2,4}:2, 3g.20gb {0,4}:4,
4g.20gb {0}:4, 7g.40gb {0}:8); usable GiB from ``nvidia-smi mig -lgip`` (A100 40GB:
4.75/9.62/9.62/19.50/19.50/39.25; H100 80GB: 9.75/19.62/19.62/39.50/39.50/79.25;
B200 1g.45gb and 2g.45gb 44.25, NVIDIA/mig-parted PR #187). H100, H200 and B200
share the A100 geometry (same per-GPU counts, 7/4/3/2/1/1); their offsets are
assumed equal to the A100's. Where no usable figure was found (A100 80GB, H200,
B200's other profiles, A30) the name's GB less 4 % is used, marked ``estimate``.
The go-nvml A100 mock (``pkg/nvml/mock/dgxa100``) gives 3g.20gb a size of 3
memory slices: a simplification, not the guide's 4.

**Fit on one GPU** (:func:`fits_gpu`) is exact: compute slices sum to at most
the GPU's, and the memory instances can be given disjoint slice ranges at
allowed offsets (a tiny search). ``tests/catalog/test_gpus.py`` checks, for the
A100 geometry, that this is the same as "sum of compute <= 7 and sum of memory
slices <= 8" (the design brief's claim: 77 valid multisets, 28 maximal). Across
GPUs the sums are only a relaxation: :func:`fits_node` packs per GPU.

**Which clouds run which profiles as a homogeneous node pool:**

* GKE (``gpu_partition_size``): the sizes GKE's device plugin accepts,
  ``gpuPartitionSizeMaxCount`` in GoogleCloudPlatform/container-engine-accelerators
  ``pkg/gpu/nvidia/mig/mig.go`` @ 992db812. It has no 4g profile for A100 40GB or
  80GB (nor 1g.10gb on the 40GB A100: GKE's ``1g.10gb`` is the 80GB profile), so
  those partition sizes are never emitted for GKE.
* AKS (``gpu_instance_profile`` MIG1g..MIG7g): names count compute slices only; on
  A100 40GB MIG1g = 1g.5gb ... MIG7g = 7g.40gb, on A100 80GB MIG1g = 1g.10gb ...
  (learn.microsoft.com/azure/aks/gpu-multi-instance). Profiles outside that one
  family (1g.10gb on 40GB, 1g.20gb on 80GB) have no AKS name.
* EKS and existing clusters: any profile and any per-GPU layout, through the NVIDIA
  GPU Operator's mig-manager (``nvidia.com/mig.config`` node label).
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Usable GiB of one whole GPU where the catalog has no figure (datasheet memory).
GPU_MEMORY_GIB: dict[str, float] = {
    "A10": 24.0, "A10G": 22.352, "A100": 40.0, "A100-80GB": 80.0, "A30": 24.0,
    "B200": 179.062, "H100": 80.0, "H100-MEGA": 80.0, "H200": 141.0, "K80": 12.0,
    "L4": 22.352, "L40S": 44.703, "M60": 8.0, "P100": 16.0, "P4": 8.0,
    "RTXPRO6000": 96.0, "T4": 16.0, "T4g": 16.0, "V100": 16.0, "V100-32GB": 32.0,
}

# NVIDIA GPUs that CUDA MPS serves with per-client limits (Volta and newer).
MPS_CAPABLE = frozenset({
    "A10", "A10G", "A100", "A100-80GB", "A30", "B200", "H100", "H100-MEGA", "H200", "L4",
    "L40S", "RTXPRO6000", "T4", "T4g", "V100", "V100-32GB"})
# Every NVIDIA GPU can be time-sliced; these are the NVIDIA types the catalog names.
NVIDIA = MPS_CAPABLE | frozenset({"K80", "M60", "P100", "P4"})


@dataclass(frozen=True)
class MigProfile:
    """One MIG GPU-instance profile of one GPU type."""

    name: str
    compute: int  # compute slices
    slices: int  # memory slices
    memory_gib: float  # usable
    per_gpu: int  # most instances of this profile on one GPU
    offsets: tuple[int, ...]  # memory-slice offsets an instance may start at
    estimate: bool = False  # usable memory estimated from the name


@dataclass(frozen=True)
class MigGeometry:
    """A MIG-capable GPU: its slice counts and profiles."""

    compute: int
    slices: int
    profiles: tuple[MigProfile, ...]

    def profile(self, name: str) -> MigProfile | None:
        return next((p for p in self.profiles if p.name == name), None)


def _a100_like(names: Sequence[str], usable: Sequence[float | None]) -> MigGeometry:
    """The A100 geometry (7 compute, 8 memory slices) with these six profile names."""
    shape = ((1, 1, 7, (0, 1, 2, 3, 4, 5, 6)), (1, 2, 4, (0, 2, 4, 6)), (2, 2, 3, (0, 2, 4)),
             (3, 4, 2, (0, 4)), (4, 4, 1, (0,)), (7, 8, 1, (0,)))
    profiles = []
    for name, (c, s, k, offsets), gib in zip(names, shape, usable, strict=True):
        nominal = float(name.split(".")[1].removesuffix("gb"))
        profiles.append(MigProfile(name, c, s, gib if gib is not None else round(nominal * 0.96, 2),
                                   k, offsets, gib is None))
    return MigGeometry(7, 8, tuple(profiles))


_H100 = _a100_like(("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
                   (9.75, 19.62, 19.62, 39.50, 39.50, 79.25))
MIG_GEOMETRY: dict[str, MigGeometry] = {
    "A100": _a100_like(("1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"),
                       (4.75, 9.62, 9.62, 19.50, 19.50, 39.25)),
    "A100-80GB": _a100_like(("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
                            (None,) * 6),
    "H100": _H100,
    "H100-MEGA": _H100,
    "H200": _a100_like(("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
                       (None,) * 6),
    "B200": _a100_like(("1g.23gb", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb"),
                       (None, 44.25, 44.25, None, None, None)),
    "A30": MigGeometry(4, 4, (
        MigProfile("1g.6gb", 1, 1, 5.76, 4, (0, 1, 2, 3), True),
        MigProfile("2g.12gb", 2, 2, 11.52, 2, (0, 2), True),
        MigProfile("4g.24gb", 4, 4, 23.04, 1, (0,), True))),
}

# Partition sizes GKE's device plugin accepts, per GPU type (see the module docstring).
GKE_MIG_PROFILES: dict[str, tuple[str, ...]] = {
    "A100": ("1g.5gb", "2g.10gb", "3g.20gb", "7g.40gb"),
    "A100-80GB": ("1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"),
    "H100": ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "7g.80gb"),
    "H100-MEGA": ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "7g.80gb"),
    "H200": ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
    "B200": ("1g.23gb", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb"),
}
# AKS GPU instance profiles (MIGng) per GPU type: the profile each name stands for.
AKS_MIG_PROFILES: dict[str, dict[str, str]] = {
    "A100": {"1g.5gb": "MIG1g", "2g.10gb": "MIG2g", "3g.20gb": "MIG3g", "4g.20gb": "MIG4g",
             "7g.40gb": "MIG7g"},
    "A100-80GB": {"1g.10gb": "MIG1g", "2g.20gb": "MIG2g", "3g.40gb": "MIG3g",
                  "4g.40gb": "MIG4g", "7g.80gb": "MIG7g"},
}


def mig_geometry(accelerator: str | None) -> MigGeometry | None:
    return MIG_GEOMETRY.get(accelerator or "")


def all_mig_profiles() -> tuple[str, ...]:
    """Every MIG profile name of every GPU type, sorted."""
    return tuple(sorted({p.name for g in MIG_GEOMETRY.values() for p in g.profiles}))


def mig_types(profile: str) -> tuple[str, ...]:
    """GPU types that have ``profile``, sorted."""
    return tuple(sorted(t for t, g in MIG_GEOMETRY.items() if g.profile(profile)))


def gpu_memory_gib(accelerator: str | None, stated: float | None, count: float) -> float | None:
    """Usable GiB of one GPU (or of the fraction of a GPU a fractional VM carries)."""
    if stated:
        return stated
    whole = GPU_MEMORY_GIB.get(accelerator or "")
    if whole is None:
        return None
    return whole * count if count < 1 else whole


# --- fit ------------------------------------------------------------------------------------


def fits_gpu(geometry: MigGeometry, profiles: Iterable[str]) -> bool:
    """Can these profile instances (names, repeats allowed) live on one GPU at once?"""
    items = sorted(profiles)
    specs = [geometry.profile(n) for n in items]
    if any(p is None for p in specs):
        return False
    chosen = [p for p in specs if p is not None]
    if sum(p.compute for p in chosen) > geometry.compute:
        return False
    if sum(p.slices for p in chosen) > geometry.slices:
        return False
    return _placeable(geometry, tuple(sorted(p.name for p in chosen)))


@functools.lru_cache(maxsize=4096)
def _placeable(geometry: MigGeometry, names: tuple[str, ...]) -> bool:
    """Disjoint memory-slice ranges at allowed offsets exist (largest instances first)."""
    specs = sorted((p for n in names if (p := geometry.profile(n)) is not None),
                   key=lambda p: (-p.slices, p.name))

    def place(i: int, used: int) -> bool:
        if i == len(specs):
            return True
        p = specs[i]
        for start in p.offsets:
            mask = ((1 << p.slices) - 1) << start
            if start + p.slices <= geometry.slices and not used & mask and place(i + 1, used | mask):
                return True
        return False

    return place(0, 0)


def valid_layouts(geometry: MigGeometry) -> list[tuple[str, ...]]:
    """Every multiset of profiles that fits one GPU (sorted names), the empty one excluded."""
    names = [p.name for p in geometry.profiles]
    out: list[tuple[str, ...]] = []
    limit = geometry.compute
    for size in range(1, limit + 1):
        for combo in itertools.combinations_with_replacement(names, size):
            if fits_gpu(geometry, combo):
                out.append(tuple(sorted(combo)))
    return sorted(set(out))


def maximal_layouts(geometry: MigGeometry) -> list[tuple[str, ...]]:
    """Valid layouts to which no further instance can be added."""
    valid = valid_layouts(geometry)
    names = [p.name for p in geometry.profiles]
    return [layout for layout in valid
            if not any(fits_gpu(geometry, (*layout, n)) for n in names)]


def fits_node(geometry: MigGeometry, gpus: int, profiles: Iterable[str]) -> bool:
    """Can these instances be spread over ``gpus`` GPUs, each GPU's share fitting it?"""
    return assign_node(geometry, gpus, profiles) is not None


def assign_node(geometry: MigGeometry, gpus: int,
                profiles: Iterable[str]) -> tuple[tuple[str, ...], ...] | None:
    """Each GPU's instances for a node holding ``profiles`` (GPUs left empty are empty
    tuples, fullest GPU first), or None when they fit no spreading over ``gpus`` GPUs.

    Exact for the small demands of one node: a depth-first assignment of the
    instances (largest first) to GPUs, GPUs with equal contents tried once.
    """
    items = sorted(profiles, key=lambda n: _largest_first(geometry, n))
    if any(geometry.profile(n) is None for n in items):
        return None
    bins: list[list[str]] = [[] for _ in range(gpus)]

    def assign(i: int) -> bool:
        if i == len(items):
            return True
        seen: set[tuple[str, ...]] = set()
        for b in bins:
            key = tuple(sorted(b))
            if key in seen:
                continue
            seen.add(key)
            b.append(items[i])
            if fits_gpu(geometry, b) and assign(i + 1):
                return True
            b.pop()
        return False

    if not assign(0):
        return None
    return tuple(sorted((tuple(sorted(b)) for b in bins), key=lambda g: (-len(g), g)))


def pack_node(geometry: MigGeometry, gpus: int,
              profiles: Iterable[str]) -> tuple[tuple[str, ...], ...] | None:
    """One per-GPU layout for a node holding ``profiles`` (first fit, largest first),
    or None when first fit fails; GPUs left empty are empty tuples."""
    bins: list[list[str]] = [[] for _ in range(gpus)]
    for name in sorted(profiles, key=lambda n: _largest_first(geometry, n)):
        for b in bins:
            if fits_gpu(geometry, (*b, name)):
                b.append(name)
                break
        else:
            return None
    return tuple(tuple(sorted(b)) for b in bins)


def layout_counts(layout: Iterable[Iterable[str]]) -> dict[str, int]:
    """Instances per profile of a node layout (per-GPU tuples)."""
    return dict(sorted(Counter(n for gpu in layout for n in gpu).items()))


def _largest_first(geometry: MigGeometry, name: str) -> tuple[int, int, str]:
    p = geometry.profile(name)
    return (-p.slices, -p.compute, name) if p else (0, 0, name)
