"""What the three ``refresh_*`` fetchers share: their result, and known shapes.

Price APIs price things; they do not always say what the thing is. Azure's
Retail Prices carry no vCPU or GPU counts, GCP's Billing Catalog prices vCPU,
GiB and GPU components but not machine types, and AWS's price attributes name
no GPU model. So **what an instance type is (vCPUs, GiB, accelerator
name/count/memory) and where it exists comes from the cloud's own description
API** when the refresh can call it: always for AWS (EC2 DescribeInstanceTypes),
for GCP with ``--project`` (Compute machineTypes/acceleratorTypes), for Azure
with ``--subscription`` (Resource SKUs). Otherwise it comes from the current
catalog (the embedded snapshot, or the one given with ``--catalog``). A priced
instance type whose shape is known from neither is skipped and counted in the
snapshot's notes, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from planner.catalog.model import Catalog, CatalogMeta, Offer, RefreshRecord

NANO = Decimal("0.000000001")


@dataclass(frozen=True)
class Shape:
    """What one instance type is, independent of place and price."""

    vcpus: float
    memory_gib: float
    accelerator: str | None
    accelerator_count: float
    accelerator_memory_gib: float | None
    arch: str = "x86_64"


@dataclass(frozen=True)
class Refreshed:
    """Offers parsed from one cloud's price API, with provenance for the metadata."""

    offers: list[Offer]
    source: str
    notes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # the regions asked of the APIs (empty: taken from the offers)
    spot_source: str | None = None
    shapes_source: str = "the previous catalog"


def known_shapes(offers: Iterable[Offer], cloud: str) -> dict[str, Shape]:
    """Instance type -> shape, from the offers of ``cloud`` (first by offer key wins)."""
    shapes: dict[str, Shape] = {}
    for offer in sorted((o for o in offers if o.cloud == cloud), key=lambda o: o.key):
        shapes.setdefault(offer.instance_type, Shape(
            offer.vcpus, offer.memory_gib, offer.accelerator, offer.accelerator_count,
            offer.accelerator_memory_gib, offer.arch))
    return shapes


def known_accelerators(offers: Iterable[Offer]) -> dict[str, float | None]:
    """Accelerator name -> GiB per device, from any cloud's offers (first by offer key wins)."""
    memory: dict[str, float | None] = {}
    for offer in sorted((o for o in offers if o.accelerator), key=lambda o: o.key):
        if offer.accelerator is not None and memory.get(offer.accelerator) is None:
            memory[offer.accelerator] = offer.accelerator_memory_gib
    return memory


def skipped_note(what: str, names: Iterable[str], limit: int = 8) -> str | None:
    """``"skipped 3 <what>: a, b, c"`` (sorted, at most ``limit`` named), or None if none."""
    unique = sorted(set(names))
    if not unique:
        return None
    shown = ", ".join(unique[:limit]) + (", ..." if len(unique) > limit else "")
    return f"skipped {len(unique)} {what}: {shown}"


def tidy_money(value: Decimal) -> Decimal:
    """USD rounded to 1e-9, trailing zeros dropped, never in exponent form (stable bytes)."""
    text = format(value.quantize(NANO), "f")
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def instance_types(offers: Iterable[Offer], cloud: str, regions: set[str] | None) -> set[str]:
    """The instance types of ``cloud`` offered in ``regions`` (all regions for None)."""
    return {o.instance_type for o in offers
            if o.cloud == cloud and (regions is None or o.region in regions)}


def refresh_record(cloud: str, result: Refreshed, previous: Iterable[Offer], compared_with: str,
                   fetched_at: str) -> RefreshRecord:
    """The snapshot's record of this refresh: types new and gone in the regions refreshed."""
    regions = set(result.regions) or {o.region for o in result.offers}
    now = instance_types(result.offers, cloud, None)
    before = instance_types(previous, cloud, regions)
    return RefreshRecord(
        cloud=cloud, source=result.source, fetched_at=fetched_at, regions=len(regions),
        types=len(now), new_types=len(now - before), gone_types=len(before - now),
        compared_with=compared_with, shapes_source=result.shapes_source,
        spot_source=result.spot_source)


def type_change_notes(cloud: str, result: Refreshed, previous: Iterable[Offer]) -> tuple[str, ...]:
    """``new instance types: ...`` / ``gone instance types: ...`` notes (names, capped)."""
    regions = set(result.regions) or {o.region for o in result.offers}
    now = instance_types(result.offers, cloud, None)
    before = instance_types(previous, cloud, regions)
    notes = []
    for what, names in (("new instance types", now - before), ("gone instance types", before - now)):
        note = skipped_note(what, names, limit=20)
        if note is not None:
            notes.append(note.removeprefix("skipped "))
    return tuple(notes)


def merge_into(existing: Catalog | None, cloud: str, offers: list[Offer], record: RefreshRecord,
               notes: tuple[str, ...]) -> tuple[list[Offer], CatalogMeta]:
    """The snapshot after refreshing ``cloud`` into ``existing`` (the snapshot at ``--out``).

    The refreshed cloud's offers, record and notes replace its old ones; the other
    clouds' are kept, so refreshing aws, gcp and azure into one directory builds one
    three-cloud catalog. Notes carry their cloud as a prefix. The snapshot's ``date``
    (what staleness warnings read) is the oldest of its clouds' dates.
    """
    kept = [o for o in existing if o.cloud != cloud] if existing is not None else []
    kept_clouds = sorted({o.cloud for o in kept})
    old_records = existing.meta.refresh if existing is not None else ()
    records = tuple(sorted([r for r in old_records if r.cloud in kept_clouds] + [record],
                           key=lambda r: r.cloud))
    unrecorded = [c for c in kept_clouds if c not in {r.cloud for r in records}]
    old_notes = existing.meta.notes if existing is not None else ()
    kept_notes = [n for n in old_notes if n.split(": ", 1)[0] in kept_clouds]
    all_notes = sorted([*kept_notes, *(f"{cloud}: {n}" for n in notes)],
                       key=lambda n: n.split(": ", 1)[0])  # stable: each cloud's notes in order
    dates = [r.fetched_at[:10] for r in records]
    sources = [f"{r.cloud}: {r.source}" for r in records]
    if unrecorded and existing is not None:
        dates.append(existing.meta.date)
        sources.append(f"{', '.join(unrecorded)}: {existing.meta.source}")
    meta = CatalogMeta(source=record.source if not kept else "; ".join(sources), date=min(dates),
                       notes=tuple(all_notes), refresh=records)
    return kept + offers, meta
