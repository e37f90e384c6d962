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

The API carries no vCPU, memory or GPU counts. With ``--subscription``, Resource
SKUs (``refresh_azure_skus``) give the shapes, so new sizes appear, and a size
restricted for the subscription in a region is not offered there. Without it,
shapes come from the current catalog (``refresh_common``). A priced size whose
shape is known from neither is skipped and counted in the notes. A region asked
for with no VM price (or, with a subscription, unknown to Resource SKUs) is an
unknown region. Azure has no zone-level prices: ``zone`` is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from planner.catalog.machines import usable_vcpus
from planner.catalog.model import Offer
from planner.catalog.quotafamily import on_demand_family
from planner.catalog.refresh_azure_skus import AzureSkus
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
                 shapes: Mapping[str, Shape], skus: AzureSkus | None = None
                 ) -> tuple[list[Offer], list[str], list[str]]:
    """One offer per (region, size) with an on-demand price and a known shape, not restricted.

    Also returns the sizes skipped for want of a shape, and those restricted.
    """
    offers, skipped, restricted = [], [], []
    for (region, size, spot), price in sorted(prices.items()):
        if spot:
            continue
        if skus is not None and (region, size) not in skus.offered:
            if (region, size) in skus.restricted:
                restricted.append(size)
            else:
                skipped.append(size)
            continue
        shape = skus.shapes.get(size) if skus is not None else shapes.get(size)
        if shape is None:
            skipped.append(size)
            continue
        offers.append(Offer(
            "azure", region, None, size, shape.accelerator,
            shape.accelerator_count if shape.accelerator else 0.0, shape.accelerator_memory_gib,
            usable_vcpus("azure", size, shape.vcpus), shape.memory_gib, price,
            prices.get((region, size, True)),
            on_demand_family("azure", size, shape.accelerator), None, shape.arch))
    return offers, skipped, restricted


def check_regions(asked: list[str] | None, prices: Iterable[Price], skus: AzureSkus | None) -> None:
    """CatalogError for an asked region without VM prices (or unknown to Resource SKUs)."""
    priced = {p.region for p in prices}
    for region in asked or []:
        if skus is not None and region not in skus.locations:
            raise CatalogError(f"azure: unknown region {region!r} (Resource SKUs list no VM size "
                               "there for the subscription)")
        if region not in priced:
            raise CatalogError(f"azure: unknown region {region!r} (the Retail Prices API lists no "
                               "Linux VM price there)")


def refresh_azure(fetcher: Fetcher, regions: list[str] | None, shapes: Mapping[str, Shape],
                  today: date, progress: Progress | None = None,
                  skus: AzureSkus | None = None) -> Refreshed:
    """Fetch every page (per region, or all regions), keep Linux on-demand + spot meters."""
    prices: list[Price] = []
    targets: list[str | None] = list(regions) if regions else [None]
    for region in targets:  # no sign-in: the ARM token hook only signs management.azure.com
        for page in fetcher.pages(prices_request(region), _next,
                                  lambda p: len(p.get("Items") or []), progress):
            prices.extend(p for p in (parse_item(i, today) for i in items_of(page)) if p)
    check_regions(regions, prices, skus)
    offers, skipped, restricted = build_offers(current_prices(prices), shapes, skus)
    source = "Resource SKUs" if skus is not None else "the previous catalog"
    notes = [n for n in [
        skipped_note(f"VM sizes without a shape from {source}", skipped),
        skipped_note("VM sizes restricted for the subscription", restricted),
        skipped_note("VM sizes with GPUs of no known model",
                     skus.unnamed if skus is not None else ())] if n]
    notes.append(f"VM shapes (vCPUs, GiB, GPUs) from {source}")
    return Refreshed(offers, f"Azure Retail Prices API ({PRICES_URL}, api-version {API_VERSION})",
                     tuple(notes), regions=tuple(regions or ()),
                     spot_source="Retail Prices Spot meters",
                     shapes_source="Resource SKUs (capabilities, restrictions)" if skus is not None
                     else "the previous catalog")


def _next(page: Any) -> Request | None:
    link = page.get("NextPageLink") if isinstance(page, dict) else None
    return Request(str(link)) if link else None
