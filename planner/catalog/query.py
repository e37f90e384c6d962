"""Catalog questions the CLI answers: cheapest GPUs per cloud, one instance type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from planner.catalog.model import Catalog, Offer


@dataclass(frozen=True)
class GpuRow:
    """Cheapest on-demand and spot offer of one (accelerator, count) on one cloud."""

    accelerator: str
    count: float
    cloud: str
    on_demand: Decimal | None
    on_demand_where: str | None
    on_demand_instance: str | None
    spot: Decimal | None
    spot_where: str | None
    spot_instance: str | None


def _where(o: Offer) -> str:
    return o.zone or o.region


def cheapest_gpus(catalog: Catalog, cloud: str | None = None, region: str | None = None,
                  spot_only: bool = False) -> list[GpuRow]:
    """One row per (accelerator, count, cloud), ties broken by (region, zone, instance)."""
    best: dict[tuple[str, float, str], tuple[Offer | None, Offer | None]] = {}
    for name in catalog.accelerators:
        for o in catalog.offers_for(name):
            if (cloud and o.cloud != cloud) or (region and o.region != region):
                continue
            key = (name, o.accelerator_count, o.cloud)
            od, sp = best.get(key, (None, None))
            if od is None or (o.price, _tie(o)) < (od.price, _tie(od)):
                od = o
            if o.spot_price is not None and (
                sp is None or (o.spot_price, _tie(o)) < (sp.spot_price or 0, _tie(sp))
            ):
                sp = o
            best[key] = (od, sp)
    rows = []
    for (name, count, cl), (od, sp) in sorted(best.items()):
        if spot_only and sp is None:
            continue
        rows.append(GpuRow(
            name, count, cl,
            None if spot_only or od is None else od.price,
            None if spot_only or od is None else _where(od),
            None if spot_only or od is None else od.instance_type,
            sp.spot_price if sp else None, _where(sp) if sp else None,
            sp.instance_type if sp else None,
        ))
    return rows


def _tie(o: Offer) -> tuple[str, str, str]:
    return (o.region, o.zone or "", o.instance_type)


def find_instance(catalog: Catalog, instance_type: str) -> list[Offer]:
    """Every offer of ``instance_type`` (exact, then case-insensitive), sorted by price."""
    hits = [o for o in catalog if o.instance_type == instance_type]
    if not hits:
        hits = [o for o in catalog if o.instance_type.lower() == instance_type.lower()]
    return sorted(hits, key=lambda o: (o.price, o.key))
