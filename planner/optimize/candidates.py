"""Candidate generation: every offer that can run each workload, and why the others can't.

Two levels, so thousands of workloads with the same resource request share
the work:

1. **Shape** (cached by the workload's resources, node count, kind and region
   policy): walk the offers of each requested accelerator (the catalog index,
   never the whole table), check accelerator count, CPU, memory, cloud /
   region / zone / instance pins, region allow/deny, spot policy, existing
   cluster regions and zero quotas. Each failing check is a reason code; an
   offer can fail several. Among passing offers, those in the same place with
   the same accelerator shape and capacity type but dearer are pruned
   (dominated), and the rest are ranked by price per unit of work.
2. **Workload**: runtime on each offer (throughput scaling), expected cost
   (:mod:`planner.optimize.costmodel`), the deadline check, then the cheapest options,
   at most ``MAX_PER_DOMAIN`` per quota domain and ``MAX_OPTIONS`` in all, go
   to the solver.

Shared GPU requests (:mod:`planner.optimize.sharing`) get one variant per offer
and sharing mode: the pool id carries the mode, and a mode the request cannot use
is a rejected variant with its reason. Whole-GPU requests only ever get
``exclusive`` variants.

Reason codes: ``accelerator-count``, ``multi-node-whole-nodes``, ``cpus``,
``memory``, ``cloud-pinned``, ``region-pinned``, ``zone-pinned``,
``instance-pinned``, ``region-denied``, ``region-not-allowed``,
``no-cluster-in-region``, ``spot-not-allowed``, ``on-demand-not-allowed``,
``no-spot-price``, ``quota``, ``no-throughput-data``, ``deadline``, ``arch``
(not the asked architecture), ``burstable`` (a burstable family not asked for),
``price-outlier`` (a price :mod:`planner.catalog.sanity` flags), and for
shared requests ``no-mig``, ``slot-memory``, ``isolation``, ``compute``,
``sharing-not-allowed``.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from planner.catalog.machines import default_host, is_burstable
from planner.catalog.model import Catalog, Offer
from planner.catalog.quotafamily import normalize_family, quota_family, quota_units_per_node
from planner.catalog.throughput import relative_throughput
from planner.optimize.costmodel import egress_per_gb, expected_rework_hours
from planner.optimize.runtime import runtime_hours
from planner.optimize.sharing import EXCLUSIVE, ClientDemand, Mode, Slot, choices_of, shared_modes
from planner.optimize.stability import Base, MoveRule, StayCost, move_rule
from planner.plan import stable_id
from planner.plancost import pieces
from planner.spec.model import Cluster, Workload, WorkloadSet
from planner.spec.resources import AcceleratorChoice, AmountRequest

MAX_OPTIONS = 12
MAX_OPTIONS_SHARED = 24  # a shared job's modes and node sizes (see _diversify)
MAX_PER_DOMAIN = 2
MAX_SHAPE_OPTIONS = 120
EXAMPLES_KEPT = 5  # cheapest offers named per rejection reason (counts are exact)
EXISTING = "k8s"
ModeVariant = tuple[Mode, float, list[str], Slot | None]  # mode, node share, reasons, slot
RelaxKey = tuple[frozenset[str], str]  # rejection reasons, the quota domain if one is quota


@dataclass(frozen=True, slots=True)
class Variant:
    """An offer in one capacity type, as a candidate for a shape."""

    offer: Offer
    spot: bool
    share: float
    choice: AcceleratorChoice
    mode: Mode = EXCLUSIVE
    slot: Slot | None = None

    @property
    def price(self) -> Decimal:
        return self.offer.spot_price if self.spot and self.offer.spot_price else self.offer.price

    @property
    def pool_id(self) -> str:
        return _pool_id_cached(self.offer, self.spot, self.mode)


@dataclass
class Rejections:
    """Offers not usable for one reason: how many, every one's unit cost (sorted, so
    "how many were cheaper than the choice" is exact), and the cheapest few by name.

    A workload's table shares the ``units`` list of its shape until it adds a
    rejection of its own (``owned`` then copies it first)."""

    count: int = 0
    examples: list[tuple[float, str]] = field(default_factory=list)
    units: list[float] = field(default_factory=list)
    owned: bool = True

    def cheaper_than(self, unit: float) -> int:
        """How many of these offers cost less per unit of work than ``unit``."""
        return bisect.bisect_left(self.units, unit - 1e-12)


@dataclass
class Shape:
    variants: list[Variant]
    rejected: dict[str, Rejections]
    relaxable: dict[RelaxKey, Variant]
    dominated: int
    by_pool: dict[str, Variant]  # every passing variant by pool id (kept only with a base)
    cut: int = 0  # feasible variants left out by MAX_SHAPE_OPTIONS (never priced)


@dataclass(slots=True, eq=False)
class Option:
    """One way to run a workload: an offer, capacity type and node share, with costs."""

    workload: str
    variant: Variant
    nodes: int
    runtime: float
    rework: float
    run_cost: float
    monthly: float
    objective: float
    hourly: float
    run_share: float
    run_hours: float
    pieces: tuple[tuple[float, float], ...]
    node_price: float
    pool_id: str
    domain: tuple[str, str, str, str]
    units_per_node: float
    rank: int
    preferred: bool
    move: float = 0.0  # USD the objective charges for moving here from the base plan
    move_price: float = 0.0  # USD of that the stability policy prices (the rest: surcharge)

    @property
    def offer(self) -> Offer:
        return self.variant.offer

    def renamed(self, workload: str) -> Option:
        """The same option for another workload of the same shape, as an object of its
        own (move prices are set per workload). Every field by position: ``copy.copy`` of
        a slotted dataclass costs ~30 us, far too much for 20,000 workloads' options."""
        return Option(workload, self.variant, self.nodes, self.runtime, self.rework,
                      self.run_cost, self.monthly, self.objective, self.hourly, self.run_share,
                      self.run_hours, self.pieces, self.node_price, self.pool_id, self.domain,
                      self.units_per_node, self.rank, self.preferred, self.move,
                      self.move_price)

    @property
    def spot(self) -> bool:
        return self.variant.spot

    @property
    def share(self) -> float:
        """Nodes' worth of its pool it holds at the peak hour (overlapping runs included)."""
        return sum(s for _, s in self.pieces)

    @property
    def compute(self) -> float:
        """$/month of its share of the nodes: node $/h x share x hours a month of runs
        (= hourly x runtime without rework x runs)."""
        return self.node_price * self.run_share * self.run_hours


@dataclass(frozen=True)
class OptionPool:
    """Every feasible option of a workload (its shape's variants that pass its own checks,
    cheapest first) as arrays, for pricing by :mod:`planner.optimize.colgen`: the
    variant's position in ``variants`` (the shape's list, shared by its workloads), the
    MILP objective, the monthly own lines and the peak share of each option."""

    variants: list[Variant]
    index: Any  # numpy int32
    objective: Any  # numpy float64, $/month
    monthly: Any
    share: Any  # nodes' worth at the peak hour

    def __len__(self) -> int:
        return len(self.index)


@dataclass
class WorkloadCandidates:
    """A workload's options for the solver (``options``), the longer list explain ranks
    (``alternatives``), its rejected offers by reason, and ``relaxable``: for each set of
    reasons some rejected offer failed, the cheapest such offer (per unit of work, alone
    on its nodes): what relaxing exactly that set would open (:mod:`planner.optimize.unblock`;
    a ``quota`` rejection is kept per quota, the key's second part, since each is its own
    limit)."""

    workload: Workload
    options: list[Option]
    alternatives: list[Option]
    rejected: dict[str, Rejections]
    relaxable: dict[RelaxKey, Variant]
    pool: OptionPool | None = None  # every feasible option, for column generation
    cut: int = 0  # feasible offers never priced (the shape's MAX_SHAPE_OPTIONS cap)
    stay: Option | None = None  # the option in its base-plan pool, when still an option
    # the candidates these are a renamed copy of (the same figures: a workload of the same
    # shape, work and prices), so that explaining a plan can reuse what it found for them
    copy_of: WorkloadCandidates | None = None

    @property
    def original(self) -> WorkloadCandidates:
        """The candidates whose figures these are: the ones they were copied from, or
        themselves."""
        return self.copy_of if self.copy_of is not None else self


def slot_share(share: float) -> float:
    """Round a node share up to a power-of-two slot (1/64 .. 1).

    Jobs sharing a node then have sizes that divide each other, so packing
    them by total share (what the solver constrains) is always achievable
    by first-fit-decreasing: ceil(sum of shares) nodes hold them all.
    """
    if share >= 1.0:
        return share
    return max(1.0 / 64, 2.0 ** math.ceil(math.log2(share) - 1e-12))


def quota_key_of(cloud: str, region: str, family: str, capacity: str) -> tuple[str, str, str, str]:
    """Quota identity with the family normalized; GCP ``PREEMPTIBLE_X`` is X for spot."""
    if family.upper().startswith("PREEMPTIBLE_"):
        family, capacity = family[len("PREEMPTIBLE_"):], "spot"
    return (cloud, region, normalize_family(family), capacity)


def pool_id(offer: Offer, spot: bool, mode: Mode = EXCLUSIVE) -> str:
    """Stable pool id: cloud, zone (or region), instance, accelerator, capacity, and the
    sharing mode when not exclusive (``...-a100x1-od-mig-1g-5gb``, ``...-ts4``)."""
    where = offer.zone or offer.region
    acc = f"{offer.accelerator}x{offer.accelerator_count:g}" if offer.accelerator else ""
    kind = "spot" if spot else "od"
    if offer.cloud == EXISTING:
        return stable_id("k8s", offer.region, acc, mode.id_part)
    return stable_id(offer.cloud, where, offer.instance_type, acc, kind, mode.id_part)


@functools.lru_cache(maxsize=200_000)
def _pool_id_cached(offer: Offer, spot: bool, mode: Mode) -> str:
    return pool_id(offer, spot, mode)


def cluster_offers(clusters: Iterable[Cluster], catalog: Catalog) -> dict[str, list[Offer]]:
    """Existing clusters as offers: cloud ``k8s``, region = cluster name, internal rate."""
    out: dict[str, list[Offer]] = {}
    for c in clusters:
        name = catalog.canonical_accelerator(c.accelerator) or c.accelerator
        offer = Offer(
            cloud=EXISTING, region=c.name, zone=None, instance_type=f"{c.name}-node",
            accelerator=name, accelerator_count=float(c.gpus_per_node),
            accelerator_memory_gib=None, vcpus=float(c.vcpus_per_node),
            memory_gib=float(c.memory_gib_per_node),
            price=c.gpu_hour_rate * c.gpus_per_node, spot_price=None,
            quota_family=f"cluster:{c.name}",
        )
        out.setdefault(name.lower(), []).append(offer)
    return out


class CandidateBuilder:
    """Builds candidates for the workloads of one WorkloadSet against one catalog."""

    def __init__(self, ws: WorkloadSet, catalog: Catalog, base: Base | None = None) -> None:
        self.ws = ws
        self.base = base
        self.catalog = catalog
        self.clusters = {c.name: c for c in ws.clusters}
        self.cluster_offers = cluster_offers(ws.clusters, catalog)
        self.cluster_places = {(c.cloud, c.region) for c in ws.clusters}
        self.quota_limits = {quota_key_of(q.cloud, q.region, q.family, q.capacity): q.limit
                             for q in ws.quotas}
        self.allow = frozenset(ws.sharing.allow)
        self.demand = ClientDemand(ws, catalog.accelerators)
        self._shapes: dict[str, Shape] = {}
        self._computed: dict[tuple[object, ...], WorkloadCandidates] = {}

    # -- shape level -------------------------------------------------------
    def _shape_key(self, w: Workload) -> str:
        return json.dumps([w.resources.model_dump(mode="json"), w.num_nodes, w.kind,
                           w.regions.model_dump(mode="json"), w.gpu_fraction, w.mig_profile],
                          sort_keys=True)

    def shape(self, w: Workload) -> Shape:
        key = self._shape_key(w)
        if key not in self._shapes:
            self._shapes[key] = self._build_shape(w)
        return self._shapes[key]

    def _offers(self, choice: AcceleratorChoice) -> list[Offer]:
        name = self.catalog.canonical_accelerator(choice.name)
        offers = list(self.catalog.offers_for(name)) if name else []
        return offers + self.cluster_offers.get((name or choice.name).lower(), [])

    def _build_shape(self, w: Workload) -> Shape:
        rejected: dict[str, Rejections] = {}
        passing: list[tuple[float, Variant]] = []
        relaxable: dict[RelaxKey, tuple[float, Variant]] = {}
        for choice, offer, modes in self._shape_variants(w):
            for spot in (False, True):
                if spot and offer.cloud == EXISTING:
                    continue
                for mode, share, base, slot in modes:
                    reasons = base + self._capacity_reasons(w, offer, spot, share)
                    variant = Variant(offer, spot, min(share, 1.0), choice, mode, slot)
                    if reasons:
                        unit = _unit_cost(w, variant, alone=True)
                        _reject(rejected, reasons, unit, variant, keep_sorted=False)
                        _keep_cheapest(relaxable, self._relax_key(reasons, offer, spot), unit,
                                       variant)
                    else:
                        passing.append((_unit_cost(w, variant), variant))
        for entry in rejected.values():
            entry.units.sort()
        base_pools = self.base.pools if self.base is not None else frozenset()
        kept, dominated = _prune_dominated(passing, base_pools)
        whole = [v for v in kept if v.share >= 1.0][:MAX_SHAPE_OPTIONS]
        limit = MAX_SHAPE_OPTIONS if w.shared is not None else MAX_SHAPE_OPTIONS // 2
        shared = [v for v in kept if v.share < 1.0][:limit]
        cut = len(kept) - len(whole) - len(shared)
        by_pool = {v.pool_id: v for _, v in passing} if self.base is not None else {}
        return Shape(whole + shared, rejected, {k: v for k, (_, v) in relaxable.items()},
                     dominated, by_pool, cut)

    def _shape_variants(self, w: Workload) -> Iterator[tuple[AcceleratorChoice, Offer,
                                                              list[ModeVariant]]]:
        """(choice, offer, [(mode, share, reasons, slot)]) for every offer of every choice."""
        req = w.shared
        if req is None:
            choices = w.resources.choices or (AcceleratorChoice(0, "", 0.0),)
            for choice in choices:
                offers = self._offers(choice) if choice.name else self.catalog.offers_for(None)
                for offer in offers:
                    base, share = self._static_reasons(w, choice, offer)
                    yield choice, offer, [(EXCLUSIVE, share, base, None)]
            return
        named = {c.name: c for c in w.resources.choices}
        for name, count in choices_of(w, self.catalog.accelerators):
            choice = named.get(name) or AcceleratorChoice(0, name, count)
            fraction = req.fraction_for(count)
            for offer in self._offers(choice):
                place = self._place_reasons(w, offer)
                modes = []
                for m in shared_modes(req, fraction, offer, self.allow, self.demand):
                    host = self._host_reasons(w, offer, m.share, sane=not m.reasons)
                    modes.append((m.mode, m.share, list(m.reasons) + host + place, m.slot))
                yield choice, offer, modes

    def _host_reasons(self, w: Workload, offer: Offer, share: float,
                      sane: bool = True) -> list[str]:
        """A shared job's CPUs and memory must fit its slot's part of the host. Where it
        names none, the node itself must be a sane host for its GPUs (the default host
        per GPU, :func:`planner.catalog.machines.default_host`): a slot then gets its
        share of that, never of a one-vCPU machine carrying two GPUs. That check is left
        out (``sane`` off) where the mode fails already, so "T4 has no MIG" stays the one
        reason such an offer is refused."""
        out = []
        cpu, mem = w.resources.cpu_request, w.resources.memory_request
        default = default_host(offer.accelerator, offer.accelerator_count) if sane else None
        short_cpus = (cpu.value > offer.vcpus * share + 1e-9 if cpu is not None
                      else default is not None and offer.vcpus + 1e-9 < default[0])
        if short_cpus:
            out.append("cpus")
        if mem is not None:
            wanted = mem.value * (cpu.value if cpu else offer.vcpus * share) if mem.per_cpu \
                else mem.value
            if wanted > offer.memory_gib * share + 1e-9:
                out.append("memory")
        elif default is not None and offer.memory_gib + 1e-9 < default[1]:
            out.append("memory")
        return out

    def _static_reasons(self, w: Workload, choice: AcceleratorChoice,
                        offer: Offer) -> tuple[list[str], float]:
        reasons: list[str] = []
        share = 1.0
        if choice.name:
            if offer.accelerator_count == choice.count:
                share = 1.0
            elif offer.accelerator_count > choice.count:
                if w.num_nodes > 1:
                    reasons.append("multi-node-whole-nodes")
                share = choice.count / offer.accelerator_count
            else:
                reasons.append("accelerator-count")
        cpu, mem = self.host_request(w, offer, choice)
        whole = share >= 1.0
        if cpu is not None:
            if whole and not cpu.admits(offer.vcpus):
                reasons.append("cpus")
            elif not whole:
                share = max(share, cpu.value / offer.vcpus if offer.vcpus else 2.0)
        if mem is not None:
            wanted = mem.value * (cpu.value if (mem.per_cpu and cpu) else offer.vcpus * share
                                  if mem.per_cpu else 1.0)
            if whole and not mem.admits(offer.memory_gib, offer.vcpus):
                reasons.append("memory")
            elif not whole:
                share = max(share, wanted / offer.memory_gib if offer.memory_gib else 2.0)
        if share > 1.0 and "cpus" not in reasons and "memory" not in reasons:
            reasons.append("cpus" if cpu is not None else "memory")
        share = slot_share(share)
        reasons.extend(self._place_reasons(w, offer))
        return reasons, share

    @staticmethod
    def host_request(w: Workload, offer: Offer, choice: AcceleratorChoice
                      ) -> tuple[AmountRequest | None, AmountRequest | None]:
        """The request's cpus and memory, or where it names none for a GPU, the default
        host per GPU (:mod:`planner.catalog.machines`): at least so many a node."""
        cpu, mem = w.resources.cpu_request, w.resources.memory_request
        default = default_host(offer.accelerator, choice.count) if choice.name else None
        if default is not None:
            cpu = cpu or AmountRequest(default[0], at_least=True)
            mem = mem or AmountRequest(default[1], at_least=True)
        return cpu, mem

    def _place_reasons(self, w: Workload, offer: Offer) -> list[str]:
        res, reasons = w.resources, []
        if res.arch != "any" and offer.arch != res.arch:
            reasons.append("arch")
        if (not res.burstable and not res.instance_type
                and is_burstable(offer.cloud, offer.instance_type)):
            reasons.append("burstable")
        cluster = self.clusters.get(offer.region) if offer.cloud == EXISTING else None
        cloud = cluster.cloud if cluster else offer.cloud
        region = cluster.region if cluster else offer.region
        if res.cloud and res.cloud != cloud:
            reasons.append("cloud-pinned")
        if res.region and res.region != region:
            reasons.append("region-pinned")
        if res.zone and res.zone != offer.zone:
            reasons.append("zone-pinned")
        if res.instance_type and res.instance_type != offer.instance_type:
            reasons.append("instance-pinned")
        if region in w.regions.deny:
            reasons.append("region-denied")
        if w.regions.allow and region not in w.regions.allow:
            reasons.append("region-not-allowed")
        if (cluster is None and not self.ws.allow_new_regions
                and (offer.cloud, offer.region) not in self.cluster_places):
            reasons.append("no-cluster-in-region")
        return reasons

    @staticmethod
    def _relax_key(reasons: list[str], offer: Offer, spot: bool) -> RelaxKey:
        """A rejected offer's reasons, and its quota domain when one is ``quota``."""
        if "quota" not in reasons:
            return frozenset(reasons), ""
        family = quota_family(offer.cloud, offer.quota_family, spot)
        return frozenset(reasons), "/".join(quota_key_of(
            offer.cloud, offer.region, family, "spot" if spot else "on-demand"))

    def _capacity_reasons(self, w: Workload, offer: Offer, spot: bool, share: float) -> list[str]:
        policy = w.resources.spot_policy
        reasons = []
        if spot and policy == "never":
            reasons.append("spot-not-allowed")
        if not spot and policy == "only":
            reasons.append("on-demand-not-allowed")
        if spot and offer.spot_price is None:
            reasons.append("no-spot-price")
        if (not self.ws.pricing.allow_price_outliers and offer.cloud != EXISTING
                and (offer, spot) in self.catalog.price_flags(offer.accelerator)):
            reasons.append("price-outlier")
        family = quota_family(offer.cloud, offer.quota_family, spot)
        key = quota_key_of(offer.cloud, offer.region, family, "spot" if spot else "on-demand")
        limit = self.quota_limits.get(key)
        units = quota_units_per_node(offer.cloud, offer.vcpus, offer.gpus)
        nodes_needed = max(1, w.num_nodes) if share >= 1.0 else 1
        if limit is not None and units * nodes_needed > limit:
            reasons.append("quota")
        return reasons

    # -- workload level ----------------------------------------------------
    def candidates(self, w: Workload) -> WorkloadCandidates:
        """``w``'s options, alternatives and rejections. Workloads that differ only in
        what the options do not read (name, team, priority, image, command, env,
        fallbacks) share one computation; each gets its own Option objects, named."""
        key: tuple[object, ...] = (self._shape_key(w), repr(w.work), repr(w.topology),
                                   w.deadline_hours, w.data, w.time_value_per_hour)
        if self.base is not None:  # its base pool and move rule price its options too
            key += (self.base.pool_of.get(w.name), repr(move_rule(self.ws.stability, w)))
        first = self._computed.get(key)
        if first is None:
            first = self._computed[key] = self._compute(w)
            return first
        return _renamed(first, w)

    def _compute(self, w: Workload) -> WorkloadCandidates:
        shape = self.shape(w)
        rejected = {k: Rejections(v.count, v.examples, v.units, owned=False)
                    for k, v in shape.rejected.items()}
        options: list[Option] = []
        own: dict[RelaxKey, tuple[float, Variant]] = {}
        index: dict[int, int] = {}  # id(option) -> its variant's position in the shape
        view = _WorkloadView(w, self.ws)
        for position, variant in enumerate(shape.variants):
            option, reason = self._option(view, variant)
            if option is None:
                assert reason is not None
                unit = _unit_cost(w, variant, alone=True)
                _reject(rejected, [reason], unit, variant)
                _keep_cheapest(own, (frozenset([reason]), ""), unit, variant)
                continue
            options.append(option)
            index[id(option)] = position
        stay = self._base_option(view, shape, options)
        base = self.base
        if base is None:
            options.sort(key=option_order)
        else:
            options.sort(key=lambda o: option_order(o, base.rank(w.name, o.pool_id)))
        chosen = _diversify(options)
        pinned = False
        if stay is not None:
            rule = move_rule(self.ws.stability, w)
            pinned = rule.pinned
            chosen = self._with_move_prices(rule, stay, chosen, options)
        relaxable = shape.relaxable
        if own:  # the shape's table is shared: copy it only when this workload adds to it
            relaxable = {**relaxable, **{k: v for k, (_, v) in own.items()}}
        return WorkloadCandidates(w, chosen, options[:MAX_OPTIONS * 2], rejected, relaxable,
                                  _option_pool(shape.variants, chosen if pinned else options,
                                               index), shape.cut, stay)

    def option_at(self, wc: WorkloadCandidates, position: int) -> Option:
        """The option of ``wc``'s workload on its shape's variant at ``position`` (one that
        passed its checks: see :class:`OptionPool`), with its move price against a base
        (``wc.stay``)."""
        w = wc.workload
        variants = wc.pool.variants if wc.pool is not None else self.shape(w).variants
        option, _ = self._option(_WorkloadView(w, self.ws), variants[position])
        assert option is not None
        if wc.stay is not None and option.pool_id != wc.stay.pool_id:
            self._price_move(move_rule(self.ws.stability, w), option, wc.stay)
        return option

    def relaxed_option(self, w: Workload, v: Variant) -> Option | None:
        """``v`` priced for ``w`` as if its rejection reasons were relaxed (the deadline
        included); None where the work cannot be converted to a runtime on it."""
        view = _WorkloadView(w, self.ws)
        view.deadline = None
        option, _ = self._option(view, v)
        return option

    def _base_option(self, w: _WorkloadView, shape: Shape, options: list[Option]) -> Option | None:
        """The option in ``w``'s base pool, if that pool is still one of its options
        (added to ``options`` when pruning had dropped it)."""
        pool = self.base.pool_of.get(w.name) if self.base is not None else None
        if pool is None:
            return None
        for o in options:
            if o.pool_id == pool:
                return o
        variant = shape.by_pool.get(pool)
        option = self._option(w, variant)[0] if variant is not None else None
        if option is not None:
            options.append(option)
        return option

    def _with_move_prices(self, rule: MoveRule, stay: Option, chosen: list[Option],
                          options: list[Option]) -> list[Option]:
        """The solver's options with the base option first-class: always offered, free;
        every other option (of ``options``, all of them: column generation prices them
        too) priced as a move under the workload's ``rule`` (see
        :mod:`planner.optimize.stability`)."""
        if rule.pinned:
            return [stay]
        for o in options:
            if o is not stay:
                self._price_move(rule, o, stay)
        return [stay, *(o for o in chosen if o is not stay)]

    def _price_move(self, rule: MoveRule, o: Option, stay: Option) -> None:
        """Set ``o``'s move price and objective charge against ``stay`` (the option in the
        workload's base pool; :meth:`MoveRule.charge`)."""
        cost = StayCost(stay.monthly,
                        stay.node_price * stay.nodes * self.ws.pricing.hours_per_month)
        o.move_price, o.move = rule.charge(o.hourly, o.monthly, cost)

    def _option(self, w: _WorkloadView, v: Variant) -> tuple[Option | None, str | None]:
        offer = v.offer
        base = w.runtime(offer.accelerator, v.choice.count)
        if base is None:
            return None, "no-throughput-data"
        rework = expected_rework_hours(offer, w.nodes, base, self.ws.pricing) if v.spot else 0.0
        if w.deadline is not None and base + rework > w.deadline:
            return None, "deadline"
        node_price = float(v.price) * w.discounts.get(offer.cloud, 1.0)
        hourly = w.nodes * v.share * node_price
        held = pieces(w.nodes * v.share, base * w.runs, w.hours_per_month)
        egress = 0.0
        if w.data is not None:
            egress = w.data.size_gb * float(egress_per_gb(w.data, offer))
        runtime = base + rework
        run_cost = hourly * runtime + egress
        region = offer.region
        cluster = self.clusters.get(region) if offer.cloud == EXISTING else None
        return Option(
            workload=w.name, variant=v, nodes=w.nodes, runtime=runtime, rework=rework,
            run_cost=run_cost, monthly=run_cost * w.runs,
            objective=(run_cost + w.time_value * runtime) * w.runs, hourly=hourly,
            run_share=w.nodes * v.share, run_hours=base * w.runs, pieces=tuple(held),
            node_price=node_price, pool_id=v.pool_id, domain=variant_domain(v),
            units_per_node=quota_units_per_node(offer.cloud, offer.vcpus, offer.gpus),
            rank=v.choice.rank, preferred=(cluster.region if cluster else region) in w.prefer,
        ), None


def _renamed(first: WorkloadCandidates, w: Workload) -> WorkloadCandidates:
    """``first``'s candidates for ``w``: the same figures on Option objects of its own."""
    copies: dict[int, Option] = {}

    def own(o: Option) -> Option:
        if id(o) not in copies:
            copies[id(o)] = o.renamed(w.name)
        return copies[id(o)]

    rejected = {k: Rejections(v.count, v.examples, v.units, owned=False)
                for k, v in first.rejected.items()}
    return WorkloadCandidates(w, [own(o) for o in first.options],
                              [own(o) for o in first.alternatives], rejected, dict(first.relaxable),
                              first.pool, first.cut,
                              own(first.stay) if first.stay is not None else None, first)


def variant_domain(v: Variant) -> tuple[str, str, str, str]:
    """(cloud, region, quota family, capacity type) of the quota ``v`` draws on (for an
    existing cluster: cloud ``k8s``, region its name)."""
    offer = v.offer
    return (offer.cloud, offer.region, quota_family(offer.cloud, offer.quota_family, v.spot),
            "spot" if v.spot else "on-demand")


class _WorkloadView:
    """The few facts of a workload the per-offer loop needs, read once (pydantic
    attribute access is slow in a loop over thousands of offers)."""

    def __init__(self, w: Workload, ws: WorkloadSet) -> None:
        self.workload = w
        self.name = w.name
        self.nodes = w.num_nodes
        self.deadline = w.deadline_hours if w.kind != "service" else None
        self.runs = 1.0 if (w.kind == "service" or w.work is None) else w.work.runs_per_month
        self.time_value = float(w.time_value_per_hour)
        self.data = ws.data[w.data] if w.data is not None else None
        self.discounts: dict[str, float] = {
            str(k): float(v) for k, v in ws.pricing.discounts.items()}
        self.prefer = frozenset(w.regions.prefer)
        self.hours_per_month = ws.pricing.hours_per_month
        self._runtimes: dict[tuple[str | None, float], float | None] = {}

    def runtime(self, accelerator: str | None, count: float) -> float | None:
        key = (accelerator, count)
        if key not in self._runtimes:
            self._runtimes[key] = runtime_hours(self.workload, accelerator, count,
                                                self.hours_per_month)
        return self._runtimes[key]


def _option_pool(variants: list[Variant], options: list[Option],
                 index: dict[int, int]) -> OptionPool:
    """``options`` as arrays over ``variants`` (an option outside them, a base option
    pruning had dropped, stays out: column generation never prices it). The objective
    includes the move price against a base plan, as the MILP's does."""
    import numpy as np

    options = [o for o in options if id(o) in index]
    return OptionPool(
        variants, np.fromiter((index[id(o)] for o in options), np.int32, len(options)),
        np.fromiter((o.objective + o.move for o in options), np.float64, len(options)),
        np.fromiter((o.monthly for o in options), np.float64, len(options)),
        np.fromiter((o.share for o in options), np.float64, len(options)))


def option_order(o: Option, base_rank: int = 2) -> tuple[float, int, bool, int, int, str]:
    """Cheapest first; ties: accelerator preference, preferred region, the base plan
    (``base_rank`` from :meth:`planner.optimize.stability.Base.rank`), sharing mode
    (exclusive, MIG, time-slicing, MPS: the plainest that serves), then pool id."""
    return (round(o.objective, 6), o.rank, not o.preferred, base_rank,
            MODE_ORDER[o.variant.mode.kind], o.pool_id)


MODE_ORDER = {"exclusive": 0, "mig": 1, "mig-layout": 1, "time-slicing": 2, "mps": 3}


def _diversify(options: list[Option]) -> list[Option]:
    """The cheapest options for the solver: at most MAX_PER_DOMAIN per quota domain and
    node kind (whole nodes vs shared slots, so a lone small job keeps a whole-node
    choice), MAX_OPTIONS in all. Slots of a sharing mode are grouped by mode and node
    size too: the cheapest slot is often on a 16-GPU node that a few jobs would leave
    mostly idle, so a small node of the same mode is kept beside it."""
    per_group: dict[tuple[object, ...], int] = {}
    out = []
    shared = any(o.variant.mode.shared for o in options)
    limit = MAX_OPTIONS_SHARED if shared else MAX_OPTIONS
    for o in options:
        mode = o.variant.mode
        size = o.offer.accelerator_count if mode.shared else 0.0
        group = (*o.domain, o.variant.share < 1.0, mode.kind, size)
        if per_group.get(group, 0) >= MAX_PER_DOMAIN:
            continue
        per_group[group] = per_group.get(group, 0) + 1
        out.append(o)
        if len(out) == limit:
            break
    return out


def _unit_cost(w: Workload, v: Variant, alone: bool = False) -> float:
    """$ per unit of work: hourly price of the job's share over its throughput; with
    ``alone``, of the whole nodes its share needs (a rejected slot would have its node to
    itself, unless the job's own slots fill it)."""
    nodes = v.share * w.num_nodes
    hourly = float(v.price) * (math.ceil(nodes - 1e-9) if alone else nodes)
    if w.kind == "service" or not v.offer.accelerator:
        return hourly
    speed = relative_throughput(v.offer.accelerator) or 1.0
    return hourly / (speed * v.choice.count * w.num_nodes)


def _reject(table: dict[str, Rejections], reasons: list[str], unit: float, v: Variant,
            keep_sorted: bool = True) -> None:
    """Record ``v`` as rejected for each of ``reasons``. With ``keep_sorted`` off (while a
    shape is built) units are appended and the caller sorts them once at the end."""
    for reason in dict.fromkeys(reasons):
        entry = table.setdefault(reason, Rejections())
        if not entry.owned:
            entry.units, entry.examples, entry.owned = list(entry.units), list(entry.examples), True
        entry.count += 1
        if keep_sorted:
            bisect.insort(entry.units, unit)
        else:
            entry.units.append(unit)
        if len(entry.examples) < EXAMPLES_KEPT or unit < entry.examples[-1][0]:
            label = v.offer.key + (" spot" if v.spot else "")
            bisect.insort(entry.examples, (unit, label))
            del entry.examples[EXAMPLES_KEPT:]


def _keep_cheapest(table: dict[RelaxKey, tuple[float, Variant]], reasons: RelaxKey,
                   unit: float, v: Variant) -> None:
    """Keep ``v`` as the offer relaxing ``reasons`` would open if it is the cheapest yet
    (per unit of work; ties to the first offer key)."""
    cur = table.get(reasons)
    if cur is None or unit < cur[0] or (unit == cur[0] and v.offer.key < cur[1].offer.key):
        table[reasons] = (unit, v)


def _prune_dominated(passing: list[tuple[float, Variant]],
                     prefer: frozenset[str] = frozenset()) -> tuple[list[Variant], int]:
    """Keep the cheapest variant per (region, accelerator shape, capacity, share).

    Zones of one region are merged: quotas are regional and the catalog gives
    no per-zone capacity, so a dearer (or equal) zone can never be better;
    the kept zone is the cheapest, ties to a pool in ``prefer`` (the base
    plan's pools: existing pools keep their instance type and zone), then to
    the first offer key.
    """
    best: dict[tuple[object, ...], tuple[float, bool, str, Variant]] = {}
    for unit, v in passing:
        o = v.offer
        key = (o.cloud, o.region, o.accelerator, o.accelerator_count, v.spot,
               round(v.share, 6), v.choice.rank, v.mode)
        rank = (unit, v.pool_id not in prefer, o.key)
        cur = best.get(key)
        if cur is None or rank < cur[:3]:
            best[key] = (*rank, v)
    kept = sorted(best.values(), key=lambda t: (t[0], t[2], t[3].spot))
    return [t[3] for t in kept], len(passing) - len(kept)
