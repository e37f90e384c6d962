"""``--what-if stockout:CLOUD/PLACE/INSTANCE[/spot]``: re-plan as if a pool had no capacity.

A stockout takes an instance type in one place off the catalog: ``PLACE`` is a
region (every zone of it) or a zone; with ``/spot`` only its spot capacity goes (the
on-demand offer stays). The plan's own workloads are then re-solved on what is left
(:func:`planner.explain.whatif.what_if`), so the answer is what ``planner plan`` would
give during the stockout: the cost change, and the workloads that move, each saying
whether it moved to one of its planned fallbacks (``fallback_rank``).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence

from planner.catalog.model import Catalog, Offer
from planner.spec.model import CLOUDS

FORM = "stockout:CLOUD/REGION-or-ZONE/INSTANCE_TYPE[/spot]"


@dataclasses.dataclass(frozen=True)
class Stockout:
    """An instance type without capacity in a region or zone (``spot``: spot capacity only)."""

    cloud: str
    place: str
    instance_type: str
    spot_only: bool

    def hits(self, offer: Offer) -> bool:
        return (offer.cloud == self.cloud and offer.instance_type == self.instance_type
                and self.place in (offer.region, offer.zone))


def parse_stockout(target: str) -> Stockout:
    """``gcp/europe-west4/a2-highgpu-8g`` -> Stockout; ValueError naming the form if not."""
    parts = target.split("/")
    spot = len(parts) == 4 and parts[3] == "spot"
    if len(parts) not in (3, 4) or (len(parts) == 4 and not spot) or not all(parts[:3]):
        raise ValueError(f"a stockout is {FORM}")
    if parts[0] not in CLOUDS:
        raise ValueError(f"unknown cloud {parts[0]!r} (clouds: {', '.join(CLOUDS)})")
    return Stockout(parts[0], parts[1], parts[2], spot)


def check_stockout(s: Stockout, catalog: Catalog) -> None:
    """ValueError unless the catalog has that instance type in that place."""
    if not any(s.hits(o) for o in catalog):
        known = sorted({o.instance_type for o in catalog if o.cloud == s.cloud
                        and s.place in (o.region, o.zone)})
        if not known:
            raise ValueError(f"{s.cloud} has no region or zone {s.place!r} in the catalog")
        close = difflib.get_close_matches(s.instance_type, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"no {s.instance_type!r} in {s.cloud}/{s.place}{hint}")


def without(catalog: Catalog, stockouts: Sequence[Stockout]) -> Catalog:
    """``catalog`` with the stocked-out offers gone (or their spot prices, for ``/spot``)."""
    if not stockouts:
        return catalog
    kept: list[Offer] = []
    for o in catalog:
        hit = [s for s in stockouts if s.hits(o)]
        if not hit:
            kept.append(o)
        elif all(s.spot_only for s in hit):
            kept.append(dataclasses.replace(o, spot_price=None))
    return Catalog(catalog.meta, tuple(kept))
