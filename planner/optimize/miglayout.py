"""Mixed MIG layouts: MIG jobs of several profiles on one GPU, on EKS and existing clusters.

The NVIDIA GPU Operator (EKS and existing clusters, :func:`planner.optimize.sharing.platform`)
can give each GPU of a node its own MIG instances (a mig-parted config naming every
device's instances); GKE and AKS allow one profile per pool. The MILP plans homogeneous
``mig:<profile>`` pools, whose per-GPU fit is exact by construction. This step then moves
the MIG jobs of one offer and capacity type on an operator platform (those in MIG pools,
and those that asked for a profile and took a whole GPU) from one pool or a pair into one
``mig-layout`` pool where that takes fewer node-hours: a 3g.40gb and a 4g.40gb job share
one H100 of a p5.4xlarge instead of taking one each (brief §6 case 2).

A merged pool runs ``k`` nodes of one layout (each GPU's instances). For the jobs'
instance counts ``c_p`` at the peak hour, ``k`` is the least node count such that
``ceil(c_p / k)`` instances of every profile ``p`` fit one node, each GPU's share fitting
that GPU (:func:`planner.catalog.gpus.assign_node`: exact, not the summed slices). A job
holds its instance's memory slices of the node, ``s_p / (slices x GPUs)``, so unused
instances show as idle, as in every shared pool.

Priced honestly by the one cost function (:mod:`planner.plancost`): it runs
``ceil(S_l)`` nodes at each level ``l`` of the month (``S_l`` the running jobs' shares). A
merge is kept only if that is, at every level, at least the nodes the layout needs for the
jobs still running (``max_p ceil(c_lp / n_p)``, ``n_p`` instances of ``p`` a node), and
only if that saves node-hours over the pools the jobs leave (one offer and capacity type:
one node price). Moves are made greedily, the largest saving first, until none saves.

The MILP's own bounds hold for one MIG profile a pool only, and a merged plan can cost
less. When a merge was made, the plan's lower bound is instead the LP relaxation of
:func:`layout_relaxation` (each such job at the least share it can hold in any layout),
with the same workloads placed, and the solver status says so.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from fractions import Fraction

from planner.catalog.gpus import MigGeometry, assign_node, mig_geometry
from planner.optimize.candidates import Option, Variant
from planner.optimize.sharing import Mode, Slot, platform
from planner.optimize.solve import Model, Solution
from planner.plan import PoolSharing
from planner.plancost import exact_share, node_hours, peak_nodes, pieces
from planner.spec.model import WorkloadSet

LAYOUT_PLATFORMS = ("eks", "operator")
Layout = tuple[tuple[str, ...], ...]
Pools = dict[str, list[Option]]


def merge_mig_layouts(sol: Solution, ws: WorkloadSet) -> Solution:
    """``sol`` with MIG jobs moved into mig-layout pools where that saves node-hours (see
    the module docstring); the same object when nothing moves."""
    wanted = {w.name: w.shared.mig for w in ws.workloads if w.shared and w.shared.mig}
    hours = ws.pricing.hours_per_month
    chosen = dict(sol.chosen)
    for group in _groups(sol):
        while (best := _best_move(group, wanted, hours)) is not None:
            for pid in best.sources:
                rest = [o for o in group[pid] if o.workload not in best.moved]
                if rest:
                    group[pid] = rest
                else:
                    del group[pid]
            group[best.merged[0].pool_id] = best.merged
            chosen.update((o.workload, o) for o in best.merged)
    if chosen == sol.chosen:
        return sol
    held: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for o in chosen.values():
        held[o.pool_id].extend(o.pieces)
    return dataclasses.replace(sol, chosen=dict(sorted(chosen.items())),
                               nodes={pid: peak_nodes(p) for pid, p in sorted(held.items())},
                               status=f"{sol.status}; {MERGED}")


MERGED = "then mig-layout pools (bound: LP with layouts)"


def _groups(sol: Solution) -> list[Pools]:
    """The solution's pools on a platform with per-GPU layouts and a MIG-capable GPU, by
    offer and capacity type (one node price), each as pool id -> jobs."""
    by_offer: dict[tuple[str, bool], Pools] = defaultdict(lambda: defaultdict(list))
    for _, o in sorted(sol.chosen.items()):
        if platform(o.offer) in LAYOUT_PLATFORMS and mig_geometry(o.offer.accelerator):
            by_offer[(o.offer.key, o.spot)][o.pool_id].append(o)
    return [dict(pools) for _, pools in sorted(by_offer.items())]


@dataclasses.dataclass(frozen=True)
class _Move:
    sources: tuple[str, ...]
    moved: frozenset[str]
    merged: list[Option]
    saving: float


def _best_move(group: Pools, wanted: dict[str, str], hours: float) -> _Move | None:
    """The move of MIG jobs from one pool or a pair into one mig-layout pool that saves
    the most node-hours (ties: the first in pool-id order)."""
    best: _Move | None = None
    ids = sorted(group)
    for sources in [*((p,) for p in ids), *itertools.combinations(ids, 2)]:
        jobs = [(o, prof) for pid in sources for o in group[pid]
                if (prof := _instance(o, wanted)) is not None]
        if len(jobs) < 2:
            continue
        merged = merge_pool([o for o, _ in jobs], [p for _, p in jobs], hours)
        if merged is None or (merged[0].pool_id in group and merged[0].pool_id not in sources):
            continue
        moved = frozenset(o.workload for o, _ in jobs)
        before = sum(_node_hours(group[pid]) for pid in sources)
        after = sum(_node_hours([o for o in group[pid] if o.workload not in moved])
                    for pid in sources) + _node_hours(merged)
        if before - after > 1e-6 and (best is None or before - after > best.saving + 1e-9):
            best = _Move(sources, moved, merged, before - after)
    return best


def _instance(o: Option, wanted: dict[str, str]) -> str | None:
    """The MIG instance a job holds or could hold: its slot in a MIG pool, or the profile
    it asked for when it took a whole GPU; None for other jobs (and jobs whose runs
    overlap, holding several instances)."""
    if o.nodes != 1 or len(o.pieces) != 1:
        return None
    mode, slot = o.variant.mode, o.variant.slot
    if mode.kind in ("mig", "mig-layout") and slot is not None:
        return slot.name
    gpus = o.offer.accelerator_count
    profile = wanted.get(o.workload)
    geometry = mig_geometry(o.offer.accelerator)
    if (mode.kind == "exclusive" and profile and geometry and geometry.profile(profile)
            and gpus >= 1 and abs(o.variant.share - 1 / gpus) < 1e-9):
        return profile
    return None


def _node_hours(jobs: Iterable[Option]) -> float:
    return node_hours(piece for o in jobs for piece in o.pieces)


def merge_pool(jobs: list[Option], profiles: list[str], hours: float) -> list[Option] | None:
    """The jobs (of one offer and capacity type, holding these MIG instances) as one
    mig-layout pool, or None when the cost function would price fewer nodes than the
    layout needs at some hour."""
    offer = jobs[0].offer
    geometry = mig_geometry(offer.accelerator)
    gpus = int(offer.accelerator_count)
    if geometry is None or gpus < 1:
        return None
    layout = _layout(geometry, gpus, Counter(profiles))
    if layout is None:
        return None
    mode = Mode("mig-layout", layout=layout)
    merged = [_moved(o, p, mode, geometry, gpus, hours) for o, p in zip(jobs, profiles,
                                                                        strict=True)]
    return merged if _honest(merged, profiles, layout) else None


def _layout(geometry: MigGeometry, gpus: int, counts: Counter[str]) -> Layout | None:
    """The layout of the fewest identical nodes that hold ``counts`` instances."""
    for k in range(1, sum(counts.values()) + 1):
        need = [p for p, c in sorted(counts.items()) for _ in range(math.ceil(c / k))]
        layout = assign_node(geometry, gpus, need)
        if layout is not None:
            return layout
    return None


def _moved(o: Option, profile: str, mode: Mode, geometry: MigGeometry, gpus: int,
           hours_per_month: float) -> Option:
    """``o`` on the merged pool: its instance's memory slices of a node."""
    p = geometry.profile(profile)
    assert p is not None
    share = p.slices / (geometry.slices * gpus)
    slot = Slot(mode, profile, sum(g.count(profile) for g in mode.layout), p.memory_gib,
                p.compute / geometry.compute, "hard")
    v = o.variant
    return _with_share(o, Variant(v.offer, v.spot, share, v.choice, mode, slot), hours_per_month)


def _with_share(o: Option, variant: Variant, hours_per_month: float) -> Option:
    """``o`` as ``variant`` (its pool and node share), its costs following the share."""
    share = variant.share
    hourly = o.nodes * share * o.node_price
    egress = o.run_cost - o.hourly * o.runtime
    run_cost = hourly * o.runtime + egress
    runs = o.monthly / o.run_cost if o.run_cost else 1.0
    return dataclasses.replace(
        o, variant=variant, pool_id=variant.pool_id, hourly=hourly, run_cost=run_cost,
        monthly=run_cost * runs, objective=o.objective + (run_cost - o.run_cost) * runs,
        run_share=o.nodes * share, pieces=tuple(pieces(o.nodes * share, o.run_hours,
                                                       hours_per_month)))


def layout_relaxation(model: Model, ws: WorkloadSet) -> Model:
    """``model`` with every option that could join a mig-layout pool at its instance's
    memory slices of a node (the least it can hold there): the LP of this model bounds
    plans with layouts, where the model's own bound holds for one profile a pool only."""
    wanted = {w.name: w.shared.mig for w in ws.workloads if w.shared and w.shared.mig}
    hours = ws.pricing.hours_per_month

    def relaxed(o: Option) -> Option:
        profile = _instance(o, wanted) if platform(o.offer) in LAYOUT_PLATFORMS else None
        geometry = mig_geometry(o.offer.accelerator)
        if profile is None or geometry is None or (p := geometry.profile(profile)) is None:
            return o
        share = p.slices / (geometry.slices * int(o.offer.accelerator_count))
        return _with_share(o, dataclasses.replace(o.variant, share=share), hours)

    return dataclasses.replace(model, workloads=[
        dataclasses.replace(wc, options=[relaxed(o) for o in wc.options])
        for wc in model.workloads])


def _honest(merged: list[Option], profiles: list[str], layout: Layout) -> bool:
    """At every level the cost function's whole nodes hold the running jobs' instances."""
    per_node = Counter(n for gpu in layout for n in gpu)
    running: Counter[str] = Counter()
    share = Fraction(0)
    jobs = sorted(zip(merged, profiles, strict=True), key=lambda t: -t[0].pieces[0][0])
    for hours, level in itertools.groupby(jobs, key=lambda t: t[0].pieces[0][0]):
        del hours
        for o, p in level:
            running[p] += 1
            share += exact_share(o.pieces[0][1])
        need = max(math.ceil(c / per_node[p]) for p, c in running.items())
        if math.ceil(share) < need:
            return False
    return True


def pool_sharing_of_layout(o: Option) -> PoolSharing:
    """The plan's record of a mig-layout pool: each GPU's instances; the slot is ``mixed``,
    ``slots_per_gpu`` the most instances on one GPU, ``slot_memory_gib`` the smallest's."""
    layout = o.variant.mode.layout
    geometry = mig_geometry(o.offer.accelerator)
    assert geometry is not None
    memory = min(p.memory_gib for gpu in layout for n in gpu
                 if (p := geometry.profile(n)) is not None)
    return PoolSharing(mode="mig-layout", layout=layout, slot="mixed",
                       slots_per_gpu=max(len(gpu) for gpu in layout),
                       slot_memory_gib=round(memory, 3), isolation="hard")
