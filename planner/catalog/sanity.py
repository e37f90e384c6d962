"""Prices too good to be true: rows the planner does not use unless told to.

A price table has mistakes (a Standard_F16ams_v6 at $0.18/h in one region where it costs
$0.93 to $2.98 everywhere else). A planner that believes them sends work where no one
can buy it at that price. A row is **flagged**, per capacity type (on-demand, spot), when

* ``below-median``: its price is under ``OUTLIER_FRACTION`` of the median price of the
  same instance type (and GPUs) and capacity type in the same cloud across all regions
  (each region's cheapest zone counts once), where the type is sold in at least
  ``MIN_PLACES`` regions (fewer give no median to trust): 40 % on-demand, 20 % spot
  (spot markets swing further between regions, and a spot price at a third of the
  median is often real);
* ``spot-above-on-demand``: its spot price is above its on-demand price (the spot row is
  flagged: no one would pay it, and the risk model would favour it wrongly);
* ``zero-price``: its price is zero (a missing GPU line, not a free machine).

Flagged rows stay in the catalog; candidate generation rejects them with reason
``price-outlier`` unless the declaration says ``pricing.allow_price_outliers: true``
(``planner plan --allow-price-outliers``). ``planner catalog check`` lists them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from statistics import median_low

from planner.catalog.model import Offer

OUTLIER_FRACTION = {False: Decimal("0.4"), True: Decimal("0.2")}  # spot -> fraction
MIN_PLACES = 3


@dataclass(frozen=True)
class Flag:
    """One flagged price: the row, which price (spot or not), why, and the median."""

    offer: Offer
    spot: bool
    reason: str
    price: Decimal
    median: Decimal | None

    @property
    def detail(self) -> str:
        what = "spot" if self.spot else "on-demand"
        if self.reason == "below-median":
            return (f"{what} ${self.price}/h is under {OUTLIER_FRACTION[self.spot]:.0%} of the median "
                    f"${self.median}/h of {self.offer.instance_type} across regions")
        if self.reason == "spot-above-on-demand":
            return f"spot ${self.price}/h is above on-demand ${self.offer.price}/h"
        return f"{what} price is zero"


def _price(o: Offer, spot: bool) -> Decimal | None:
    return o.spot_price if spot else o.price


def price_flags(offers: Iterable[Offer]) -> dict[tuple[Offer, bool], Flag]:
    """Every flagged (offer, spot) of ``offers`` (all offers of one instance type must be
    among them, e.g. every offer of one accelerator)."""
    rows = list(offers)
    groups: dict[tuple[str, str, float, bool], dict[str, list[Decimal]]] = defaultdict(
        lambda: defaultdict(list))
    for o in rows:
        for spot in (False, True):
            price = _price(o, spot)
            if price is not None and price > 0:
                groups[(o.cloud, o.instance_type, o.accelerator_count, spot)][o.region].append(price)
    medians: dict[tuple[str, str, float, bool], Decimal] = {}
    for key, by_region in groups.items():
        if len(by_region) >= MIN_PLACES:
            medians[key] = median_low(min(prices) for prices in by_region.values())
    out: dict[tuple[Offer, bool], Flag] = {}
    for o in rows:
        for spot in (False, True):
            price = _price(o, spot)
            if price is None:
                continue
            flag = _flag(o, spot, price, medians.get((o.cloud, o.instance_type,
                                                      o.accelerator_count, spot)))
            if flag is not None:
                out[(o, spot)] = flag
    return out


def _flag(o: Offer, spot: bool, price: Decimal, median: Decimal | None) -> Flag | None:
    if price <= 0:
        return Flag(o, spot, "zero-price", price, median)
    if spot and price > o.price:
        return Flag(o, spot, "spot-above-on-demand", price, median)
    if median is not None and price < median * OUTLIER_FRACTION[spot]:
        return Flag(o, spot, "below-median", price, median)
    return None


def catalog_flags(offers: Iterable[Offer]) -> list[Flag]:
    """Every flagged price of a catalog, sorted by place and type (stable output)."""
    by_accelerator: dict[str | None, list[Offer]] = defaultdict(list)
    for o in offers:
        by_accelerator[o.accelerator].append(o)
    found = [flag for group in by_accelerator.values() for flag in price_flags(group).values()]
    return sorted(found, key=lambda f: (f.offer.cloud, f.offer.region, f.offer.zone or "",
                                        f.offer.instance_type, f.offer.accelerator or "",
                                        f.offer.accelerator_count, f.spot))
