"""AWS prices and shapes: the Price List (on-demand), EC2 spot price history and instance types.

All AWS calls go through boto3 (``refresh_aws_api``: the standard credential
chain, standard retries, paginators); this module turns their pages into offers.

On-demand: ``pricing:GetProducts`` for ``AmazonEC2``, filtered server-side to
Linux, shared tenancy, ``capacitystatus=Used`` (the other two rows per type,
``AllocatedCapacityReservation`` and ``UnusedCapacityReservation``, price
capacity reservations), no pre-installed software, per ``regionCode``. Each
``PriceList`` element is a **JSON string inside the JSON** and is decoded on
its own. The same filters are applied again client-side, so a looser answer
(or the bulk offer file, see :func:`bulk_offer_items`) cannot let a Windows,
BYOL or reservation row through. The price is the ``OnDemand`` term's ``Hrs``
dimension in USD; other currencies (the China regions price in CNY) are skipped.

Shapes: ``ec2:DescribeInstanceTypes`` in each region (``refresh_aws_shapes``),
so a type launched after the previous catalog appears with its real vCPUs,
memory and accelerators. A priced type the region does not describe is not
offered there and is skipped (counted in the notes).

Spot: ``ec2:DescribeSpotPriceHistory`` (Linux/UNIX) gives the price in effect
now in every availability zone. Offers are regional (an EKS node group spans
the cluster's zones, so a pool may land in any of them): ``spot_price`` is the
**highest** current zone price in the region, the price a pool can be charged.
No spot history for a type means no spot offer; nothing is estimated. The public
Spot Instance Advisor feed still gives the ``interruption_bucket`` (``r``: 0 =
<5%, 1 = 5-10%, 2 = 10-15%, 3 = 15-20%, 4 = >20% interruptions a month).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from planner.catalog.model import Offer
from planner.catalog.quotafamily import on_demand_family
from planner.catalog.refresh_aws_api import AwsApi
from planner.catalog.refresh_aws_shapes import parse_instance_types
from planner.catalog.refresh_common import Refreshed, Shape, skipped_note, tidy_money
from planner.catalog.refresh_http import Fetcher, Progress, Request
from planner.errors import CatalogError

SPOT_ADVISOR_URL = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
SPOT_SOURCE = ("EC2 DescribeSpotPriceHistory (Linux/UNIX, price in effect now per zone; "
               "the highest zone per region)")
SOURCE = ("AWS Price List GetProducts (on-demand), EC2 DescribeInstanceTypes (shapes), "
          "EC2 DescribeSpotPriceHistory (spot), Spot Instance Advisor (interruption buckets)")

# The rows the planner prices: attribute -> required value.
REQUIRED_ATTRIBUTES = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "capacitystatus": "Used",
    "preInstalledSw": "NA",
    "licenseModel": "No License required",
}


@dataclass(frozen=True)
class OnDemandRow:
    """One priced Linux on-demand instance type in one region."""

    region: str
    instance_type: str
    price: Decimal


def price_filters(region: str) -> list[dict[str, str]]:
    """GetProducts TERM_MATCH filters: the required attributes, in ``region``."""
    filters = dict(REQUIRED_ATTRIBUTES, regionCode=region)
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in sorted(filters.items())]


def decode_price_list(page: Any) -> list[dict[str, Any]]:
    """The items of one GetProducts page: each ``PriceList`` element is a JSON string."""
    if not isinstance(page, dict) or not isinstance(page.get("PriceList"), list):
        raise CatalogError("malformed GetProducts page: no PriceList array", field="PriceList")
    items = []
    for i, raw in enumerate(page["PriceList"]):
        try:
            item = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as exc:
            raise CatalogError(f"malformed price item: {exc}", field=f"PriceList[{i}]") from None
        if not isinstance(item, dict) or not isinstance(item.get("product"), dict):
            raise CatalogError("malformed price item: no product", field=f"PriceList[{i}]")
        items.append(item)
    return items


def bulk_offer_items(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A bulk offer file (``products{sku}`` + ``terms.OnDemand{sku}``) as GetProducts items."""
    products, terms = doc.get("products"), doc.get("terms", {}).get("OnDemand", {})
    if not isinstance(products, dict) or not isinstance(terms, dict):
        raise CatalogError("malformed offer file: no products/terms", field="products")
    return [{"product": product, "terms": {"OnDemand": terms.get(sku, {})}}
            for sku, product in sorted(products.items())]


def _hourly_usd(terms: Any) -> Decimal | None:
    """The one ``Hrs`` price in USD of the OnDemand terms, or None."""
    prices = []
    for term in (terms or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if dim.get("unit") == "Hrs" and usd is not None:
                try:
                    prices.append(Decimal(usd))
                except InvalidOperation:
                    raise CatalogError(f"bad price {usd!r}", field="pricePerUnit.USD") from None
    return min(prices) if prices else None


def parse_item(item: Mapping[str, Any], region_hint: str | None = None) -> OnDemandRow | None:
    """One price item -> a row, or None if it is not a Linux shared on-demand instance."""
    product = item.get("product") or {}
    attrs: Mapping[str, str] = product.get("attributes") or {}
    if not str(product.get("productFamily", "")).startswith("Compute Instance"):
        return None
    if any(attrs.get(k) != v for k, v in REQUIRED_ATTRIBUTES.items()):
        return None
    if attrs.get("marketoption", "OnDemand") != "OnDemand":
        return None
    price = _hourly_usd((item.get("terms") or {}).get("OnDemand"))
    region = attrs.get("regionCode") or region_hint
    itype = attrs.get("instanceType")
    if price is None or not region or not itype:
        return None
    return OnDemandRow(region, itype, price)


def parse_spot_advisor(doc: Any) -> dict[tuple[str, str], tuple[int, int]]:
    """(region, instance type) -> (savings %, interruption bucket) for Linux."""
    if not isinstance(doc, dict) or not isinstance(doc.get("spot_advisor"), dict):
        raise CatalogError("malformed spot advisor data: no spot_advisor", field="spot_advisor")
    out = {}
    for region, by_os in sorted(doc["spot_advisor"].items()):
        for itype, entry in sorted(((by_os or {}).get("Linux") or {}).items()):
            try:
                savings, bucket = int(entry["s"]), int(entry["r"])
            except (KeyError, TypeError, ValueError):
                raise CatalogError("malformed spot advisor entry",
                                   field=f"spot_advisor.{region}.Linux.{itype}") from None
            if 0 <= savings < 100 and 0 <= bucket <= 4:
                out[(region, itype)] = (savings, bucket)
    return out


def latest_spot_prices(pages: Iterable[Mapping[str, Any]], region: str
                       ) -> dict[str, dict[str, Decimal]]:
    """Instance type -> zone -> the latest Linux/UNIX spot price (USD/h) in ``region``.

    Only the region's own availability zones (``us-east-1a``) count: a Local Zone
    (``us-east-1-bos-1a``) is opted into separately and an EKS node group does not span it.
    """
    latest: dict[tuple[str, str], tuple[str, Decimal]] = {}
    for page in pages:
        for i, entry in enumerate(page.get("SpotPriceHistory") or []):
            if entry.get("ProductDescription", "Linux/UNIX") != "Linux/UNIX":
                continue
            zone, itype = entry.get("AvailabilityZone"), entry.get("InstanceType")
            try:
                price = Decimal(str(entry["SpotPrice"]))
            except (KeyError, InvalidOperation):
                raise CatalogError("aws: malformed spot price",
                                   field=f"SpotPriceHistory[{i}].SpotPrice") from None
            stamp = entry.get("Timestamp")
            when = stamp.isoformat() if isinstance(stamp, datetime) else str(stamp or "")
            if not zone or not itype or not price.is_finite() or price <= 0:
                continue
            old = latest.get((itype, zone))
            if old is None or when > old[0]:
                latest[(itype, zone)] = (when, price)
    out: dict[str, dict[str, Decimal]] = {}
    own_zone = re.compile(re.escape(region) + "[a-z]$")  # not Local or Wavelength Zones
    for (itype, zone), (_, price) in sorted(latest.items()):
        if own_zone.match(zone):
            out.setdefault(itype, {})[zone] = price
    return out


def build_offers(rows: Iterable[OnDemandRow], shapes: Mapping[str, Mapping[str, Shape]],
                 spot: Mapping[str, Mapping[str, Mapping[str, Decimal]]],
                 buckets: Mapping[tuple[str, str], tuple[int, int]]
                 ) -> tuple[list[Offer], list[str]]:
    """Offers from on-demand rows, per-region shapes and spot prices; also the types skipped.

    ``shapes``: region -> type -> shape; ``spot``: region -> type -> zone -> USD/h;
    ``buckets``: (region, type) -> (advisor savings %, interruption bucket).
    """
    best: dict[tuple[str, str], OnDemandRow] = {}
    for row in rows:
        key = (row.region, row.instance_type)
        if key not in best or row.price < best[key].price:
            best[key] = row
    offers, skipped = [], []
    for (region, itype), row in sorted(best.items()):
        shape = shapes.get(region, {}).get(itype)
        if shape is None:
            skipped.append(itype)
            continue
        zones = spot.get(region, {}).get(itype, {})
        spot_price = tidy_money(max(zones.values())) if zones else None
        bucket = buckets.get((region, itype), (None, None))[1] if zones else None
        offers.append(Offer(
            "aws", region, None, itype, shape.accelerator,
            shape.accelerator_count if shape.accelerator else 0.0, shape.accelerator_memory_gib,
            shape.vcpus, shape.memory_gib, tidy_money(row.price), spot_price,
            on_demand_family("aws", itype, shape.accelerator), bucket, shape.arch))
    return offers, skipped


def check_regions(asked: list[str] | None, known: Mapping[str, bool]) -> list[str]:
    """The regions to refresh: ``asked`` (each must exist and be enabled), else every enabled one."""
    if asked is None:
        return sorted(r for r, enabled in known.items() if enabled)
    for region in asked:
        if region not in known:
            raise CatalogError(f"aws: unknown region {region!r} (DescribeRegions lists "
                               f"{len(known)} regions; e.g. {', '.join(sorted(known)[:4])})")
        if not known[region]:
            raise CatalogError(f"aws: region {region!r} is not enabled for this account "
                               "(opt in first, or leave it out of --regions)")
    return list(asked)


def refresh_aws(api: AwsApi, fetcher: Fetcher, regions: list[str] | None,
                accelerators: Mapping[str, float | None], now: datetime,
                progress: Progress | None = None,
                on_region: Callable[[str], None] | None = None) -> Refreshed:
    """Regions, then per region prices, shapes and spot prices, then the advisor's buckets.

    ``accelerators``: the current catalog's accelerator names -> GiB (naming new devices).
    """
    targets = check_regions(regions, api.regions())
    rows: list[OnDemandRow] = []
    shapes: dict[str, dict[str, Shape]] = {}
    spot: dict[str, dict[str, dict[str, Decimal]]] = {}
    for region in targets:
        if on_region is not None:
            on_region(region)
        for page in api.get_products(price_filters(region), progress):
            rows.extend(r for r in (parse_item(i, region) for i in decode_price_list(page)) if r)
        shapes[region] = parse_instance_types(api.instance_types(region, progress), accelerators)
        spot[region] = latest_spot_prices(api.spot_prices(region, now, progress), region)
    if on_region is not None:
        on_region("spot advisor")
    buckets = parse_spot_advisor(fetcher.get_json(Request(SPOT_ADVISOR_URL)))
    offers, skipped = build_offers(rows, shapes, spot, buckets)
    notes = [n for n in [skipped_note("priced instance types the region does not describe",
                                      skipped)] if n]
    notes.append("spot: " + SPOT_SOURCE)
    return Refreshed(offers, SOURCE, tuple(notes), regions=tuple(targets), spot_source=SPOT_SOURCE,
                     shapes_source="EC2 DescribeInstanceTypes")
