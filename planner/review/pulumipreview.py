"""Price the GPU node pools in a ``pulumi preview``: a cost diff for any Pulumi stack.

Input is a :class:`~planner.review.pulumisteps.Preview` (a ``pulumi preview --json``
digest or engine-event stream, or a mocked run; see :mod:`planner.review.pulumisteps`).
Node pools are priced from the catalog on both sides of their operation:

* EKS ``aws:eks/nodeGroup:NodeGroup``: ``instanceTypes[0]`` x
  ``scalingConfig.desiredSize``; ``capacityType: SPOT`` takes the spot price;
  the region is the provider's ``region``, the ``aws:region`` config, or the
  region of the only AWS provider in the preview.
* GKE ``gcp:container/nodePool:NodePool``: ``nodeConfig.machineType`` plus
  ``nodeConfig.guestAccelerators`` (GCP bills the GPUs separately from the
  VM: both are lines), ``spot``/``preemptible``; ``nodeCount`` (else
  ``initialNodeCount``, else ``autoscaling.minNodeCount``) is per zone, so it
  is multiplied by the number of ``nodeLocations``.
* AKS ``azure-native:containerservice:AgentPool`` (any API version):
  ``vmSize`` x ``count`` (else ``minCount``), ``scaleSetPriority: Spot``;
  the region is the ``location`` of the ManagedCluster named by
  ``resourceName`` in the same preview, or the ``azure-native:location`` config.

Money is USD: ``hourly`` is $/h for the whole pool, ``monthly`` is hourly x
``hours_per_month`` (730 by default, as cloud calculators use). A value
Pulumi does not know at preview time (the unknown sentinel) makes the pool
``unknown``; a pool whose instance type, region or price is not in the
catalog is ``unpriced``. Neither is ever counted as $0: totals cover priced
pools only and the report says how many were left out. Other resources (not
components) are listed as not priced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from planner.catalog.model import Catalog, Offer
from planner.plan import money
from planner.review.diff import PolicyResult
from planner.review.pulumisteps import UNKNOWN, Preview, Step

HOURS_PER_MONTH = Decimal(730)
ZERO = Decimal(0)

EKS = "aws:eks/nodeGroup:NodeGroup"
GKE = "gcp:container/nodePool:NodePool"
AKS = re.compile(r"^azure-native:containerservice(?:/v[\w-]+)?:AgentPool$")
AKS_CLUSTER = re.compile(r"^azure-native:containerservice(?:/v[\w-]+)?:ManagedCluster$")

# GKE accelerator type -> catalog accelerator name.
GKE_GPUS = {
    "nvidia-tesla-t4": "T4", "nvidia-tesla-v100": "V100", "nvidia-tesla-p100": "P100",
    "nvidia-tesla-p4": "P4", "nvidia-l4": "L4", "nvidia-tesla-a100": "A100",
    "nvidia-a100-80gb": "A100-80GB", "nvidia-h100-80gb": "H100",
    "nvidia-h100-mega-80gb": "H100-MEGA", "nvidia-h200-141gb": "H200", "nvidia-b200": "B200",
}

_HAS_OLD = {"same", "update", "replace", "delete", "refresh", "discard", "read-replacement"}
_HAS_NEW = {"same", "update", "replace", "create", "import", "read", "read-replacement"}

Status = Literal["priced", "unknown", "unpriced"]


# --- pricing ---------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(_Model):
    """One billed item of a node: ``quantity`` x ``unit_hourly`` $/h per node."""

    item: str
    unit_hourly: Decimal
    quantity: int


class PoolPrice(_Model):
    """A node pool as configured on one side, priced ($/h for the pool; $/month)."""

    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerators: str | None
    capacity: Literal["on-demand", "spot"]
    nodes: int
    min_nodes: int | None
    max_nodes: int | None
    lines: tuple[Line, ...]
    node_hourly: Decimal
    hourly: Decimal
    monthly: Decimal
    monthly_at_max: Decimal | None


class PoolCost(_Model):
    """One node pool of the preview: its operation and its price before and after."""

    urn: str
    name: str
    type: str
    op: str
    status: Status
    reason: str | None
    before: PoolPrice | None
    after: PoolPrice | None
    delta_monthly: Decimal | None
    notes: tuple[str, ...] = ()


class TypeCount(_Model):
    type: str
    count: int


class PreviewCost(_Model):
    kind: Literal["gpuplan/preview-cost"] = "gpuplan/preview-cost"
    version: int = 1
    source: str
    format: str
    catalog: str
    hours_per_month: Decimal
    pools: tuple[PoolCost, ...]
    not_priced: tuple[TypeCount, ...]
    base_monthly: Decimal
    new_monthly: Decimal
    delta_monthly: Decimal
    priced: int
    unknown: int
    unpriced: int
    policies: tuple[PolicyResult, ...] = ()


class _Unknown(Exception):
    """A value the preview does not know yet (Pulumi's unknown sentinel)."""


class _Unpriced(Exception):
    """The pool's shape, place or price is not in the catalog (or not stated)."""


def _get(inputs: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """``inputs`` at a dotted ``path``; raise :class:`_Unknown` on the unknown sentinel."""
    value: Any = inputs
    for key in path.split("."):
        if value == UNKNOWN:
            raise _Unknown(path)
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    if value == UNKNOWN or (isinstance(value, list) and UNKNOWN in value):
        raise _Unknown(path)
    return value


def _int(value: Any, path: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Unpriced(f"{path} is not a number: {value!r}") from None


@dataclass
class _Context:
    """What pricing needs from the preview as a whole: config, providers, AKS clusters."""

    config: Mapping[str, Any]
    providers: dict[str, Mapping[str, Any]]
    aks_locations: dict[str, str]
    catalog: Catalog
    hours: Decimal

    @classmethod
    def of(cls, preview: Preview, catalog: Catalog, hours: Decimal) -> _Context:
        providers = {s.urn: (s.new or s.old or {}) for s in preview.steps
                     if s.type.startswith("pulumi:providers:")}
        aks = {}
        for s in preview.steps:
            inputs = s.new or s.old or {}
            if AKS_CLUSTER.match(s.type) and isinstance(inputs.get("location"), str):
                for key in {inputs.get("resourceName"), s.name}:
                    if isinstance(key, str) and key != UNKNOWN:
                        aks[key] = inputs["location"]
        return cls(preview.config, providers, aks, catalog, hours)

    def only_provider_region(self, package: str) -> str | None:
        """The region of the one ``package`` provider in the preview, if there is exactly one."""
        regions = {str(p.get("region")) for urn, p in self.providers.items()
                   if f"::pulumi:providers:{package}::" in urn and p.get("region")}
        return regions.pop() if len(regions) == 1 else None

    def provider(self, ref: str) -> Mapping[str, Any]:
        return self.providers.get(ref.rsplit("::", 1)[0], {}) if ref else {}


def is_node_pool(rtype: str) -> bool:
    return rtype in (EKS, GKE) or bool(AKS.match(rtype))


def price_preview(preview: Preview, catalog: Catalog, source: str,
                  hours_per_month: Decimal = HOURS_PER_MONTH) -> PreviewCost:
    """Price every node pool of ``preview`` on both sides of its operation."""
    ctx = _Context.of(preview, catalog, hours_per_month)
    pools = tuple(_pool_cost(s, ctx) for s in preview.steps if is_node_pool(s.type))
    others = Counter(s.type for s in preview.steps
                     if s.custom and not is_node_pool(s.type) and not s.type.startswith("pulumi:"))
    priced = [p for p in pools if p.status == "priced"]
    base = sum((p.before.monthly for p in priced if p.before), ZERO)
    new = sum((p.after.monthly for p in priced if p.after), ZERO)
    return PreviewCost(
        source=source, format=preview.format,
        catalog=f"{catalog.meta.source} ({catalog.meta.date})", hours_per_month=hours_per_month,
        pools=pools, not_priced=tuple(TypeCount(type=t, count=n) for t, n in sorted(others.items())),
        base_monthly=money(base), new_monthly=money(new), delta_monthly=money(new - base),
        priced=len(priced), unknown=sum(p.status == "unknown" for p in pools),
        unpriced=sum(p.status == "unpriced" for p in pools),
    )


def _pool_cost(step: Step, ctx: _Context) -> PoolCost:
    old = step.old if step.op in _HAS_OLD else None
    new = step.new if step.op in _HAS_NEW else None
    if step.op == "same" and not new:
        new = old  # the digest keeps no inputs for unchanged resources' new state
    notes: list[str] = []
    try:
        before = _price(step, old, ctx, notes) if old is not None else None
        after = _price(step, new, ctx, notes) if new is not None else None
    except _Unknown as exc:
        return _unpriced(step, "unknown", f"unknown until apply: {exc.args[0]}")
    except _Unpriced as exc:
        return _unpriced(step, "unpriced", str(exc.args[0]))
    delta = (after.monthly if after else ZERO) - (before.monthly if before else ZERO)
    return PoolCost(urn=step.urn, name=step.name, type=step.type, op=step.op, status="priced",
                    reason=None, before=before, after=after, delta_monthly=money(delta),
                    notes=tuple(dict.fromkeys(notes)))


def _unpriced(step: Step, status: Status, reason: str) -> PoolCost:
    return PoolCost(urn=step.urn, name=step.name, type=step.type, op=step.op, status=status,
                    reason=reason, before=None, after=None, delta_monthly=None)


def _price(step: Step, inputs: Mapping[str, Any], ctx: _Context, notes: list[str]) -> PoolPrice:
    if step.type == EKS:
        return _price_eks(step, inputs, ctx, notes)
    if step.type == GKE:
        return _price_gke(step, inputs, ctx, notes)
    return _price_aks(step, inputs, ctx, notes)


def _finish(cloud: str, region: str, zone: str | None, itype: str, accs: str | None, spot: bool,
            nodes: int, lo: int | None, hi: int | None, lines: list[Line], hours: Decimal) -> PoolPrice:
    node_hourly = sum((ln.unit_hourly * ln.quantity for ln in lines), ZERO)
    hourly = node_hourly * nodes
    return PoolPrice(
        cloud=cloud, region=region, zone=zone, instance_type=itype, accelerators=accs,
        capacity="spot" if spot else "on-demand", nodes=nodes, min_nodes=lo, max_nodes=hi,
        lines=tuple(lines), node_hourly=node_hourly, hourly=hourly,
        monthly=money(hourly * hours),
        monthly_at_max=money(node_hourly * hi * hours) if hi is not None and hi > nodes else None,
    )


def _unit(offer: Offer, spot: bool) -> Decimal:
    if not spot:
        return offer.price
    if offer.spot_price is None:
        raise _Unpriced(f"no spot price for {offer.instance_type} in {offer.zone or offer.region}")
    return offer.spot_price


def _price_eks(step: Step, inputs: Mapping[str, Any], ctx: _Context, notes: list[str]) -> PoolPrice:
    types = _get(inputs, "instanceTypes") or []
    if not types:
        raise _Unpriced("no instanceTypes (set in a launch template?)")
    if len(types) > 1:
        notes.append(f"priced as {types[0]}, the first of {len(types)} instance types")
    region = _get(ctx.provider(step.provider), "region") or _get(ctx.config, "aws:region") or \
        ctx.only_provider_region("aws")
    if not region:
        raise _Unpriced("region not in the preview (no provider region or aws:region config)")
    spot = str(_get(inputs, "capacityType", "ON_DEMAND")).upper() == "SPOT"
    nodes = _int(_get(inputs, "scalingConfig.desiredSize"), "scalingConfig.desiredSize")
    lo = _get(inputs, "scalingConfig.minSize")
    hi = _get(inputs, "scalingConfig.maxSize")
    offer = _one_offer(ctx.catalog, "aws", region, None, types[0], None, None, any_acc=True)
    lines = [Line(item=types[0], unit_hourly=_unit(offer, spot), quantity=1)]
    accs = f"{offer.accelerator}x{offer.accelerator_count:g}" if offer.accelerator else None
    return _finish("aws", region, None, types[0], accs, spot, nodes,
                   None if lo is None else _int(lo, "minSize"),
                   None if hi is None else _int(hi, "maxSize"), lines, ctx.hours)


def _price_gke(step: Step, inputs: Mapping[str, Any], ctx: _Context, notes: list[str]) -> PoolPrice:
    machine = _get(inputs, "nodeConfig.machineType")
    if not machine:
        machine = "e2-medium"
        notes.append("no nodeConfig.machineType: GKE's default e2-medium")
    spot = bool(_get(inputs, "nodeConfig.spot") or _get(inputs, "nodeConfig.preemptible"))
    location = _get(inputs, "location") or _get(ctx.provider(step.provider), "zone") or \
        _get(ctx.provider(step.provider), "region") or _get(ctx.config, "gcp:zone") or \
        _get(ctx.config, "gcp:region")
    if not location:
        raise _Unpriced("location not in the preview (no location, provider or gcp config)")
    zones = list(_get(inputs, "nodeLocations") or [])
    region = ctx.catalog.region_of_zone(location) or location
    zone = zones[0] if zones else (location if location != region else None)
    per_zone = max(len(zones), 1)
    if not zones and zone is None:
        notes.append("regional pool without nodeLocations: node counts are per zone, "
                     "priced for one zone")
    nodes, lo, hi = _gke_counts(inputs, per_zone)
    accs = _get(inputs, "nodeConfig.guestAccelerators") or []
    lines, acc_label = _gke_lines(ctx.catalog, region, zone, machine, accs, spot)
    return _finish("gcp", region, zone, machine, acc_label, spot, nodes, lo, hi, lines, ctx.hours)


def _gke_counts(inputs: Mapping[str, Any], per_zone: int) -> tuple[int, int | None, int | None]:
    """Nodes now, min and max for the whole pool (GKE counts are per zone unless total*)."""
    count = _get(inputs, "nodeCount")
    if count is None:
        count = _get(inputs, "initialNodeCount")
    lo = _auto_count(inputs, "Min", per_zone)
    hi = _auto_count(inputs, "Max", per_zone)
    if count is None and lo is None:
        raise _Unpriced("no nodeCount, initialNodeCount or autoscaling minimum")
    nodes = _int(count, "nodeCount") * per_zone if count is not None else lo
    assert nodes is not None
    return nodes, lo, hi


def _auto_count(inputs: Mapping[str, Any], which: str, per_zone: int) -> int | None:
    """GKE autoscaling bound for the pool: ``total{which}NodeCount``, else per zone x zones."""
    total = _get(inputs, f"autoscaling.total{which}NodeCount")
    if total is not None:
        return _int(total, f"autoscaling.total{which}NodeCount")
    each = _get(inputs, f"autoscaling.{which.lower()}NodeCount")
    return None if each is None else _int(each, f"autoscaling.{which.lower()}NodeCount") * per_zone


def _gke_lines(catalog: Catalog, region: str, zone: str | None, machine: str,
               accs: list[Any], spot: bool) -> tuple[list[Line], str | None]:
    """The VM line and, billed separately, the GPU line of one GKE node."""
    if len(accs) > 1:
        raise _Unpriced("more than one guestAccelerators entry")
    if not accs:
        offer = _one_offer(catalog, "gcp", region, zone, machine, None, None, any_acc=True)
        label = f"{offer.accelerator}x{offer.accelerator_count:g}" if offer.accelerator else None
        return [Line(item=machine, unit_hourly=_unit(offer, spot), quantity=1)], label
    gpu_type = str(_get(accs[0], "type"))
    count = _int(_get(accs[0], "count", 1), "guestAccelerators[0].count")
    gpu = GKE_GPUS.get(gpu_type) or catalog.canonical_accelerator(gpu_type)
    if gpu is None:
        raise _Unpriced(f"unknown GPU type {gpu_type}")
    joined = _one_offer(catalog, "gcp", region, zone, machine, gpu, count)
    label = f"{gpu}x{count}"
    try:
        vm = _one_offer(catalog, "gcp", region, zone, machine, None, None)
    except _Unpriced:  # the catalog only has the host with its GPUs joined
        return [Line(item=f"{machine} + {count}x {gpu}", unit_hourly=_unit(joined, spot),
                     quantity=1)], label
    vm_price = _unit(vm, spot)
    per_gpu = (_unit(joined, spot) - vm_price) / count
    return [Line(item=f"{machine} (VM)", unit_hourly=vm_price, quantity=1),
            Line(item=f"{gpu} GPU", unit_hourly=per_gpu.normalize(), quantity=count)], label


def _price_aks(step: Step, inputs: Mapping[str, Any], ctx: _Context, notes: list[str]) -> PoolPrice:
    vm_size = _get(inputs, "vmSize")
    if not vm_size:
        raise _Unpriced("no vmSize")
    cluster = inputs.get("resourceName")  # often the cluster's output: unknown at preview
    region = ctx.aks_locations.get(cluster) if isinstance(cluster, str) else None
    if region is None and len(set(ctx.aks_locations.values())) == 1:
        region = next(iter(ctx.aks_locations.values()))
        notes.append("region taken from the only ManagedCluster in the preview")
    region = region or _get(ctx.config, "azure-native:location")
    if not region:
        raise _Unpriced("region not in the preview (no ManagedCluster or azure-native:location)")
    region = str(region).lower().replace(" ", "")
    spot = str(_get(inputs, "scaleSetPriority", "Regular")).lower() == "spot"
    lo, hi = _get(inputs, "minCount"), _get(inputs, "maxCount")
    count = _get(inputs, "count")
    if count is None and lo is None:
        raise _Unpriced("no count or minCount")
    nodes = _int(count if count is not None else lo, "count")
    offer = _one_offer(ctx.catalog, "azure", region, None, vm_size, None, None, any_acc=True)
    accs = f"{offer.accelerator}x{offer.accelerator_count:g}" if offer.accelerator else None
    return _finish("azure", region, None, vm_size, accs, spot, nodes,
                   None if lo is None else _int(lo, "minCount"),
                   None if hi is None else _int(hi, "maxCount"),
                   [Line(item=vm_size, unit_hourly=_unit(offer, spot), quantity=1)], ctx.hours)


def _matching(catalog: Catalog, cloud: str, region: str, itype: str) -> Iterator[Offer]:
    for o in catalog:
        if o.cloud == cloud and o.region == region and o.instance_type == itype:
            yield o


def _one_offer(catalog: Catalog, cloud: str, region: str, zone: str | None, itype: str,
               acc: str | None, count: int | None, any_acc: bool = False) -> Offer:
    """The catalog offer for this shape and place (the lowest zone name when zones differ)."""
    hits = [o for o in _matching(catalog, cloud, region, itype)
            if any_acc or (o.accelerator == acc and (count is None or o.accelerator_count == count))]
    if zone is not None and any(o.zone == zone for o in hits):
        hits = [o for o in hits if o.zone == zone]
    if not hits:
        shape = itype + (f" + {count}x {acc}" if acc else "")
        raise _Unpriced(f"no catalog price for {shape} in {zone or region}")
    return min(hits, key=lambda o: (o.zone or "", o.accelerator_count, o.price))
