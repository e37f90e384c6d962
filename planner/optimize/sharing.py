"""Sharing modes of a node pool and the slots they offer a shared workload.

A pool has exactly one mode; its id carries the mode, so jobs that want different
modes never share a pool (GKE allows one per pool, AKS's MIG profile is immutable):

* ``exclusive``: whole GPUs (a job smaller than a node takes a power-of-two share of
  its GPUs, :func:`planner.optimize.candidates.slot_share`);
* ``mig:<profile>``: every GPU split into ``per_gpu`` instances of one MIG profile
  (GKE ``gpu_partition_size``, AKS ``gpu_instance_profile``, EKS and existing clusters
  through the GPU Operator's ``all-<profile>`` mig-parted config);
* ``mig-layout:<layout>`` (EKS and existing clusters): each GPU its own MIG instances,
  made after the MILP from the MIG jobs of one offer (:mod:`planner.optimize.miglayout`);
* ``time-slicing:N`` / ``mps:N``: ``N`` clients per GPU, ``N`` in 2..48 (GKE
  ``gpu_sharing_config``, EKS and existing clusters through the device plugin's
  config). ``N`` comes from demand: for each GPU type, the largest ``N`` each shared
  workload tolerates (its memory need), so workloads of one size meet in one pool.

Which platform offers what (``platform``): GKE (``gcp``) MIG (the partition sizes GKE
accepts), time-slicing and MPS; AKS (``azure``) MIG (MIG1g..MIG7g) only; EKS
(``aws``) and existing clusters (``k8s``) everything, through the NVIDIA GPU
Operator. Cloud fractional VMs (AWS g6f, Azure NVads A10 v5: fewer than one GPU per
node) are whole nodes with ``hard`` isolation (a dedicated slice of GPU memory).

A slot's cost share is one slot of the node: ``1 / (slots per GPU x GPUs)`` (a 1g.5gb
instance of an a2-highgpu-1g pays 1/7 of the node); unused slots are idle capacity.
Host CPUs and memory are divided the same way: a shared job asking for more than its
slot's part of the host is rejected for ``cpus`` / ``memory``.

Eligibility (each failure a reason code of the offer-and-mode variant):
``no-mig`` (the GPU has no MIG, or not this profile), ``slot-memory`` (the slot has
less usable GPU memory than asked), ``isolation`` (time-slicing for ``capped`` or
``hard``, MPS for ``hard``), ``compute`` (``compute: hard`` and the slot guarantees
less compute than the fraction), ``sharing-not-allowed`` (``sharing.allow``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from planner.catalog.gpus import (
    AKS_MIG_PROFILES,
    GKE_MIG_PROFILES,
    GPU_MEMORY_GIB,
    MPS_CAPABLE,
    NVIDIA,
    MigGeometry,
    gpu_memory_gib,
    mig_geometry,
)
from planner.catalog.model import Offer
from planner.plan import layout_id, mode_name
from planner.spec.model import Workload, WorkloadSet
from planner.spec.sharing import ISOLATION_RANK, MAX_CLIENTS_PER_GPU, SharedRequest

ModeKind = Literal["exclusive", "mig", "mig-layout", "time-slicing", "mps"]
Platform = Literal["gke", "aks", "eks", "operator", "none"]
FRACTION_TOLERANCE = 0.01  # a 0.333 VM serves a 1/3 request (SkyPilot matches counts +-0.01)
MIN_CLIENTS = 2
SLOT_NAMES = {"time-slicing": "time-slice", "mps": "mps-client"}


@dataclass(frozen=True, slots=True, order=True)
class Mode:
    """A node pool's sharing mode: ``exclusive``, ``mig:<profile>``, ``time-slicing:N``,
    ``mps:N``, or ``mig-layout`` with each GPU's MIG instances (``layout``, made by
    :mod:`planner.optimize.miglayout`)."""

    kind: ModeKind = "exclusive"
    profile: str = ""
    clients: int = 0
    layout: tuple[tuple[str, ...], ...] = ()

    def __str__(self) -> str:
        return mode_name(self.kind, self.profile, self.clients, self.layout)

    @property
    def shared(self) -> bool:
        return self.kind != "exclusive"

    @property
    def id_part(self) -> str:
        """What the pool id appends for this mode ('' for exclusive: ids stay as they were)."""
        if self.kind == "mig":
            return "mig-" + self.profile
        if self.kind == "mig-layout":
            return "migl-" + layout_id(self.layout)
        if self.kind == "time-slicing":
            return f"ts{self.clients}"
        if self.kind == "mps":
            return f"mps{self.clients}"
        return ""


EXCLUSIVE = Mode()


@dataclass(frozen=True, slots=True)
class Slot:
    """One slot of a shared pool, per GPU: what a job placed there gets."""

    mode: Mode
    name: str  # the MIG profile, "time-slice" or "mps-client"
    per_gpu: int
    memory_gib: float  # usable GPU memory
    compute: float  # guaranteed share of the GPU's compute (0: none guaranteed)
    isolation: Literal["none", "capped", "hard"]


def platform(offer: Offer) -> Platform:
    """Who partitions the offer's GPUs (see the module docstring)."""
    return {"gcp": "gke", "azure": "aks", "aws": "eks", "k8s": "operator"}.get(  # type: ignore[return-value]
        offer.cloud, "none")


def gpu_memory(offer: Offer) -> float | None:
    """Usable GiB of one of the offer's GPUs (of its fraction, for a fractional VM)."""
    return gpu_memory_gib(offer.accelerator, offer.accelerator_memory_gib, offer.accelerator_count)


def memory_need(req: SharedRequest, fraction: float | None, whole_gib: float | None) -> float:
    """GiB of GPU memory a request needs on a GPU type with ``whole_gib`` usable."""
    need = req.memory_gib or 0.0
    if fraction is not None and whole_gib:
        need = max(need, fraction * whole_gib)
    return need


def max_clients(req: SharedRequest, fraction: float | None, whole_gib: float | None,
                cap: int) -> int:
    """The most time-slicing/MPS clients per GPU this request tolerates (its memory)."""
    limit = cap
    if fraction is not None:
        limit = min(limit, math.floor(1 / fraction + 1e-9))
    if req.memory_gib and whole_gib:
        limit = min(limit, math.floor(whole_gib / req.memory_gib + 1e-9))
    return limit


class ClientDemand:
    """Per GPU type, the client counts (``N``) the shared workloads of a set want.

    For each shared workload and each GPU type it may use, the largest ``N`` it
    tolerates; every workload then gets the modes with a demanded ``N`` it tolerates,
    so a pool of ``N`` clients can gather every workload small enough for it.
    """

    def __init__(self, ws: WorkloadSet, accelerators: Iterable[str]) -> None:
        self.cap = min(ws.sharing.max_clients_per_gpu, MAX_CLIENTS_PER_GPU)
        self.by_type: dict[str, set[int]] = {}
        names = sorted(set(accelerators))
        for w in ws.workloads:
            req = w.shared
            if req is None or req.mig is not None:
                continue
            for name, count in choices_of(w, names):
                n = max_clients(req, req.fraction_for(count), GPU_MEMORY_GIB.get(name), self.cap)
                if n >= MIN_CLIENTS:
                    self.by_type.setdefault(name.lower(), set()).add(n)

    def counts(self, accelerator: str) -> list[int]:
        return sorted(self.by_type.get(accelerator.lower(), ()))


def choices_of(w: Workload, catalog_types: Iterable[str]) -> list[tuple[str, float]]:
    """(GPU type, count) a shared workload may take: its named choices, else every NVIDIA
    type (for a MIG profile, every type that has it)."""
    if w.resources.choices:
        return [(c.name, c.count) for c in w.resources.choices]
    req = w.shared
    types = [t for t in catalog_types if t in NVIDIA]
    if req is not None and req.mig is not None:
        types = [t for t in types if (g := mig_geometry(t)) and g.profile(req.mig)]
    return [(t, 1.0) for t in types]


@dataclass(frozen=True, slots=True)
class ModeChoice:
    """A mode of one offer for one shared request: its node share, or why it is refused."""

    mode: Mode
    share: float
    reasons: tuple[str, ...]
    slot: Slot | None


def shared_modes(req: SharedRequest, fraction: float | None, offer: Offer,
                 allow: frozenset[str], demand: ClientDemand) -> list[ModeChoice]:
    """Every mode an offer could run this request in, each with its share or reasons."""
    gpus = offer.accelerator_count
    whole = gpu_memory(offer)
    if gpus < 1:
        return [_fractional_vm(req, fraction, offer, whole)]
    out = [_exclusive(req, fraction, offer, whole)]
    where = platform(offer)
    accel = offer.accelerator or ""
    geometry = mig_geometry(accel)
    if geometry is not None and where != "none":
        out.extend(_mig_modes(req, fraction, offer, geometry, where, allow))
    if req.mig is None and whole:
        for kind in ("time-slicing", "mps"):
            if _offers_sharing(kind, accel, where):
                out.extend(_client_modes(req, fraction, offer, whole, kind, allow, demand))
    return out


def _offers_sharing(kind: str, accel: str, where: Platform) -> bool:
    if where not in ("gke", "eks", "operator"):
        return False
    return accel in (NVIDIA if kind == "time-slicing" else MPS_CAPABLE)


def _exclusive(req: SharedRequest, fraction: float | None, offer: Offer,
               whole: float | None) -> ModeChoice:
    """A whole GPU of the node: hard isolation, all its memory and compute."""
    reasons = []
    if req.mig is not None:
        geometry = mig_geometry(offer.accelerator)
        if geometry is None or geometry.profile(req.mig) is None:
            reasons.append("no-mig")
    elif whole is not None and memory_need(req, fraction, whole) > whole + 1e-9:
        reasons.append("slot-memory")
    share = 1.0 / offer.accelerator_count
    return ModeChoice(EXCLUSIVE, _pow2(share), tuple(reasons), None)


def _fractional_vm(req: SharedRequest, fraction: float | None, offer: Offer,
                   memory: float | None) -> ModeChoice:
    """A cloud VM with part of a GPU (g6f, NVads A10 v5): the whole node, hard isolation."""
    reasons = []
    if req.mig is not None:
        reasons.append("no-mig")
    else:
        if fraction is not None and fraction > offer.accelerator_count + FRACTION_TOLERANCE:
            reasons.append("accelerator-count")
        if memory is not None and (req.memory_gib or 0.0) > memory + 1e-9:
            reasons.append("slot-memory")
        if req.compute == "hard" and (fraction or 0.0) > offer.accelerator_count + 1e-9:
            reasons.append("compute")
    return ModeChoice(EXCLUSIVE, 1.0, tuple(reasons), None)


def _mig_profiles(accel: str, where: Platform, geometry: MigGeometry) -> list[str]:
    if where == "gke":
        return list(GKE_MIG_PROFILES.get(accel, ()))
    if where == "aks":
        return list(AKS_MIG_PROFILES.get(accel, {}))
    return [p.name for p in geometry.profiles]


def _mig_modes(req: SharedRequest, fraction: float | None, offer: Offer, geometry: MigGeometry,
               where: Platform, allow: frozenset[str]) -> list[ModeChoice]:
    out = []
    need_slices = math.ceil(fraction * geometry.slices - 1e-9) if fraction is not None else 0
    for name in _mig_profiles(offer.accelerator or "", where, geometry):
        p = geometry.profile(name)
        if p is None:
            continue
        if req.mig is not None and name != req.mig:
            continue
        mode = Mode("mig", name)
        slot = Slot(mode, name, p.per_gpu, p.memory_gib, p.compute / geometry.compute, "hard")
        reasons = []
        if "mig" not in allow:
            reasons.append("sharing-not-allowed")
        if req.mig is None:
            if p.slices < need_slices or (req.memory_gib or 0.0) > p.memory_gib + 1e-9:
                reasons.append("slot-memory")
            if req.compute == "hard" and slot.compute + 1e-9 < (fraction or 0.0):
                reasons.append("compute")
        out.append(ModeChoice(mode, 1.0 / (p.per_gpu * offer.accelerator_count),
                              tuple(reasons), slot))
    return out


def _client_modes(req: SharedRequest, fraction: float | None, offer: Offer, whole: float,
                  kind: str, allow: frozenset[str], demand: ClientDemand) -> list[ModeChoice]:
    out = []
    isolation: Literal["none", "capped"] = "none" if kind == "time-slicing" else "capped"
    for n in demand.counts(offer.accelerator or ""):
        mode = Mode(kind, clients=n)  # type: ignore[arg-type]
        compute = 0.0 if kind == "time-slicing" else 1.0 / n
        slot = Slot(mode, SLOT_NAMES[kind], n, whole / n, compute, isolation)
        reasons = []
        if kind not in allow:
            reasons.append("sharing-not-allowed")
        if memory_need(req, fraction, whole) > slot.memory_gib + 1e-9:
            reasons.append("slot-memory")
        if ISOLATION_RANK[isolation] < ISOLATION_RANK[req.isolation]:
            reasons.append("isolation")
        if req.compute == "hard" and compute + 1e-9 < (fraction or memory_need(
                req, None, whole) / whole):
            reasons.append("compute")
        out.append(ModeChoice(mode, 1.0 / (n * offer.accelerator_count), tuple(reasons), slot))
    return out


def _pow2(share: float) -> float:
    """A power-of-two share of a node (as ``candidates.slot_share``; 1 stays 1)."""
    if share >= 1.0:
        return 1.0
    return max(1.0 / 64, 2.0 ** math.ceil(math.log2(share) - 1e-12))
