"""Azure prices: the Retail Prices API, Linux VMs, on-demand and spot meters.

``GET https://prices.azure.com/api/retail/prices?$filter=serviceName eq
'Virtual Machines' and priceType eq 'Consumption' [and armRegionName eq 'R']``
(no authentication), pages of up to 100/1000 items through the absolute
``NextPageLink`` until it is empty or null.

Which items are prices the planner uses (:func:`parse_item`):

* ``unitOfMeasure`` ``1 Hour``, ``type`` ``Consumption``, USD, price > 0
  (the API lists some spot meters at 0);
* Linux only: ``productName`` ending in ``Windows`` is dropped, and so are
  ``CloudServices`` products (classic Cloud Services roles, not VMs);
* meters named ``... Low Priority`` (Batch low-priority) are dropped;
  ``... Spot`` meters are the ``spot_price``, the rest the on-demand price;
* an ``armSkuName`` (the size, ``Standard_NC24ads_A100_v4``; surrounding
  spaces stripped) is required;
* time-bounded prices: only items in effect on ``today`` (start <= today <=
  end) count; of several, the latest start wins.

The API carries no vCPU, memory or GPU counts: shapes come from the current
catalog (``refresh_common``); a priced size it does not know is skipped and
counted in the notes. Azure has no zone-level prices: ``zone`` is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from planner.catalog.model import Offer
from planner.catalog.quotafamily import on_demand_family
from planner.catalog.refresh_common import Refreshed, Shape, skipped_note, tidy_money
from planner.catalog.refresh_http import Fetcher, Progress, Request
from planner.errors import CatalogError

PRICES_URL = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"


@dataclass(frozen=True)
class Price:
    """One meter in effect: a Linux size in a region, on-demand or spot, USD/h."""

    region: str
    size: str
    spot: bool
    price: Decimal
    start: str


def prices_request(region: str | None) -> Request:
    """The first page's request; later pages follow ``NextPageLink`` as given."""
    flt = "serviceName eq 'Virtual Machines' and priceType eq 'Consumption'"
    if region:
        flt += f" and armRegionName eq '{region}'"
    return Request(PRICES_URL, params={"api-version": API_VERSION, "$filter": flt})


def items_of(page: Any) -> list[dict[str, Any]]:
    """The ``Items`` of one page (CatalogError if it is not a Retail Prices page)."""
    if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
        raise CatalogError("malformed Retail Prices page: no Items array", field="Items")
    return list(page["Items"])


def _in_effect(item: Mapping[str, Any], today: date) -> bool:
    day = today.isoformat()
    start = str(item.get("effectiveStartDate") or "")[:10]
    end = str(item.get("effectiveEndDate") or "")[:10]
    return (not start or start <= day) and (not end or day <= end)


def parse_item(item: Mapping[str, Any], today: date) -> Price | None:
    """One Retail Prices item -> a Linux on-demand or spot price in effect, or None."""
    product = str(item.get("productName", ""))
    meter = f"{item.get('meterName', '')} {item.get('skuName', '')}"
    size = str(item.get("armSkuName") or "").strip()
    if (item.get("unitOfMeasure") != "1 Hour" or item.get("type") != "Consumption"
            or item.get("currencyCode", "USD") != "USD" or not size
            or product.endswith("Windows") or "CloudServices" in product
            or "Low Priority" in meter or not _in_effect(item, today)):
        return None
    try:
        price = Decimal(str(item["retailPrice"]))
    except (KeyError, InvalidOperation):
        raise CatalogError("malformed item: bad retailPrice", field=f"Items[{size}].retailPrice") \
            from None
    if not price.is_finite() or price <= 0:
        return None
    spot = str(item.get("skuName", "")).endswith(" Spot") or str(item.get("meterName", "")).endswith(" Spot")
    region = str(item.get("armRegionName") or "")
    if not region:
        return None
    return Price(region, size, spot, tidy_money(price), str(item.get("effectiveStartDate") or ""))


def current_prices(prices: Iterable[Price]) -> dict[tuple[str, str, bool], Decimal]:
    """(region, size, spot) -> USD/h: the latest start wins, then the lower price."""
    best: dict[tuple[str, str, bool], Price] = {}
    for p in prices:
        key = (p.region, p.size, p.spot)
        old = best.get(key)
        if old is None or (p.start, -p.price) > (old.start, -old.price):
            best[key] = p
    return {k: v.price for k, v in best.items()}


def build_offers(prices: Mapping[tuple[str, str, bool], Decimal],
                 shapes: Mapping[str, Shape]) -> tuple[list[Offer], list[str]]:
    """One offer per (region, size) with an on-demand price and a known shape."""
    offers, skipped = [], []
    for (region, size, spot), price in sorted(prices.items()):
        if spot:
            continue
        shape = shapes.get(size)
        if shape is None:
            skipped.append(size)
            continue
        offers.append(Offer(
            "azure", region, None, size, shape.accelerator,
            shape.accelerator_count if shape.accelerator else 0.0, shape.accelerator_memory_gib,
            shape.vcpus, shape.memory_gib, price, prices.get((region, size, True)),
            on_demand_family("azure", size, shape.accelerator), None, shape.arch))
    return offers, skipped


def refresh_azure(fetcher: Fetcher, regions: list[str] | None, shapes: Mapping[str, Shape],
                  today: date, progress: Progress | None = None) -> Refreshed:
    """Fetch every page (per region, or all regions), keep Linux on-demand + spot meters."""
    prices: list[Price] = []
    targets: list[str | None] = list(regions) if regions else [None]
    for region in targets:
        for page in fetcher.pages(prices_request(region), _next,
                                  lambda p: len(p.get("Items") or []), progress):
            prices.extend(p for p in (parse_item(i, today) for i in items_of(page)) if p)
    offers, skipped = build_offers(current_prices(prices), shapes)
    notes = [n for n in [skipped_note("VM sizes not in the previous catalog (no shape)", skipped)] if n]
    notes.append("VM shapes (vCPUs, GiB, GPUs) from the previous catalog")
    return Refreshed(offers, f"Azure Retail Prices API ({PRICES_URL}, api-version {API_VERSION})",
                     tuple(notes))


def _next(page: Any) -> Request | None:
    link = page.get("NextPageLink") if isinstance(page, dict) else None
    return Request(str(link)) if link else None
