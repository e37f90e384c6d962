"""What the three ``refresh_*`` fetchers share: their result, and known shapes.

Price APIs price things; they do not always say what the thing is. Azure's
Retail Prices carry no vCPU or GPU counts, GCP's Billing Catalog prices vCPU,
GiB and GPU components but not machine types, and AWS's price attributes name
no GPU model. The rule, the same for every cloud: **what an instance type is
(vCPUs, GiB, accelerator name/count/memory) and, for GCP, in which zones it
exists, comes from the current catalog** (the embedded snapshot, or the one
given with ``--catalog``), unless the price API itself says so (AWS vcpu,
memory, gpu attributes). A priced instance type the current catalog does not
know is skipped and counted in the snapshot's notes, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from planner.catalog.model import Offer

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


def known_shapes(offers: Iterable[Offer], cloud: str) -> dict[str, Shape]:
    """Instance type -> shape, from the offers of ``cloud`` (first by offer key wins)."""
    shapes: dict[str, Shape] = {}
    for offer in sorted((o for o in offers if o.cloud == cloud), key=lambda o: o.key):
        shapes.setdefault(offer.instance_type, Shape(
            offer.vcpus, offer.memory_gib, offer.accelerator, offer.accelerator_count,
            offer.accelerator_memory_gib, offer.arch))
    return shapes


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
