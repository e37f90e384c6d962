"""AWS prices: the Price List Query API (on-demand) and the Spot Instance Advisor (spot).

On-demand: ``pricing:GetProducts`` for ``AmazonEC2``, filtered server-side to
Linux, shared tenancy, ``capacitystatus=Used`` (the other two rows per type,
``AllocatedCapacityReservation`` and ``UnusedCapacityReservation``, price
capacity reservations), no pre-installed software, and per ``regionCode``
when regions are given. Pages of 100 follow ``NextToken``. Each ``PriceList``
element is a **JSON string inside the JSON** and is decoded on its own. The
same filters are applied again client-side, so a looser server answer (or the
bulk offer file, see :func:`bulk_offer_items`) cannot let a Windows, BYOL or
reservation row through. The price is the ``OnDemand`` term's ``Hrs``
dimension in USD; other currencies (the China regions price in CNY) are
skipped.

Shapes: vCPUs and GiB from the ``vcpu`` and ``memory`` attributes. The
accelerator: AWS's attributes count GPUs (``gpu``) but do not name them, so
the name comes from the family table :data:`FAMILY_ACCELERATOR` (AWS's
published instance-family specs), its count from ``gpu`` (or the current
catalog's shape when the attribute is absent, e.g. Neuron devices); families
not in the table (fractional-GPU ``g6f``/``gr6f``, new ones) take name and
count from the current catalog, and are skipped if it does not know them.

Spot: the public Spot Instance Advisor feed gives, per region and OS, the
average saving over on-demand in percent (``s``) and the interruption
frequency bucket (``r``: 0 = <5%, 1 = 5-10%, 2 = 10-15%, 3 = 15-20%, 4 = >20%
per month). ``spot_price = price x (100 - s) / 100`` — an estimate, as the
advisor's savings are averages — and ``interruption_bucket = r``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from planner.catalog.model import Offer
from planner.catalog.quotafamily import on_demand_family
from planner.catalog.refresh_common import Refreshed, Shape, skipped_note, tidy_money
from planner.catalog.refresh_http import Fetcher, Progress, Request
from planner.errors import CatalogError

PRICING_ENDPOINT = "https://api.pricing.us-east-1.amazonaws.com/"
PRICING_REGION = "us-east-1"
SPOT_ADVISOR_URL = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
TARGET = "AWSPriceListService.GetProducts"

# The rows the planner prices: attribute -> required value.
REQUIRED_ATTRIBUTES = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "capacitystatus": "Used",
    "preInstalledSw": "NA",
    "licenseModel": "No License required",
}

# Instance family -> accelerator (names as in the embedded catalog). Whole-GPU families only.
FAMILY_ACCELERATOR = {
    "p2": "K80", "p3": "V100", "p3dn": "V100-32GB", "p4d": "A100", "p4de": "A100-80GB",
    "p5": "H100", "p5e": "H200", "p5en": "H200", "p6-b200": "B200", "p6-b300": "B300",
    "g3": "M60", "g3s": "M60", "g4dn": "T4", "g4ad": "Radeon Pro V520", "g5": "A10G",
    "g5g": "T4g", "g6": "L4", "gr6": "L4", "g6e": "L40S", "dl1": "Gaudi HL-205",
    "inf1": "Inferentia", "inf2": "Inferentia2", "trn1": "Trainium", "trn1n": "Trainium",
}


@dataclass(frozen=True)
class OnDemandRow:
    """One priced Linux on-demand instance type in one region."""

    region: str
    instance_type: str
    price: Decimal
    vcpus: float
    memory_gib: float
    gpus: int | None
    arch: str


def getproducts_request(region: str | None, next_token: str | None) -> Request:
    """The GetProducts call for one page (TERM_MATCH filters, 100 items a page)."""
    filters = dict(REQUIRED_ATTRIBUTES)
    if region:
        filters["regionCode"] = region
    body: dict[str, Any] = {
        "ServiceCode": "AmazonEC2", "FormatVersion": "aws_v1", "MaxResults": 100,
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in sorted(filters.items())],
    }
    if next_token:
        body["NextToken"] = next_token
    return Request(PRICING_ENDPOINT, body=body, headers={
        "content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET})


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


def _number(text: str | None) -> float | None:
    match = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)", (text or "").replace(",", ""))
    return float(match.group(1)) if match else None


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
    vcpus, memory = _number(attrs.get("vcpu")), _number(attrs.get("memory"))
    itype = attrs.get("instanceType")
    if price is None or not region or not itype or vcpus is None or memory is None:
        return None
    gpus = _number(attrs.get("gpu"))
    # Graviton rows say "processorArchitecture": "64-bit" like x86: the processor names it.
    arm = "graviton" in attrs.get("physicalProcessor", "").lower() \
        or "arm" in attrs.get("processorArchitecture", "").lower()
    arch = "arm64" if arm else "x86_64"
    return OnDemandRow(region, itype, price, vcpus, memory,
                       int(gpus) if gpus else None, arch)


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


def _accelerator(row: OnDemandRow, shapes: Mapping[str, Shape]
                 ) -> tuple[str | None, float, float | None] | None:
    """(name, count, GiB per accelerator) of a row; None if it has an unknown accelerator."""
    family = row.instance_type.split(".", 1)[0]
    known = shapes.get(row.instance_type)
    name = FAMILY_ACCELERATOR.get(family)
    if name is not None:
        count = row.gpus or (known.accelerator_count if known and known.accelerator == name else None)
        if not count:
            return None
        memory = known.accelerator_memory_gib if known and known.accelerator == name else None
        return name, float(count), memory
    if known is not None and known.accelerator:
        return known.accelerator, known.accelerator_count, known.accelerator_memory_gib
    if row.gpus:
        return None
    return None, 0.0, None


def build_offers(rows: Iterable[OnDemandRow], spot: Mapping[tuple[str, str], tuple[int, int]],
                 shapes: Mapping[str, Shape]) -> tuple[list[Offer], list[str]]:
    """Offers from on-demand rows + spot advisor; also the instance types skipped."""
    best: dict[tuple[str, str], OnDemandRow] = {}
    for row in rows:
        key = (row.region, row.instance_type)
        if key not in best or row.price < best[key].price:
            best[key] = row
    offers, skipped = [], []
    for (region, itype), row in sorted(best.items()):
        acc = _accelerator(row, shapes)
        if acc is None:
            skipped.append(itype)
            continue
        name, count, memory = acc
        savings, bucket = spot.get((region, itype), (None, None))
        spot_price = tidy_money(row.price * (100 - savings) / 100) if savings is not None else None
        offers.append(Offer(
            "aws", region, None, itype, name, count if name else 0.0, memory, row.vcpus,
            row.memory_gib, tidy_money(row.price), spot_price, on_demand_family("aws", itype, name),
            bucket, row.arch))
    return offers, skipped


def refresh_aws(fetcher: Fetcher, regions: list[str] | None, shapes: Mapping[str, Shape],
                progress: Progress | None = None,
                on_region: Callable[[str], None] | None = None) -> Refreshed:
    """Fetch every page (per region, or all regions at once), then the spot advisor."""
    rows: list[OnDemandRow] = []
    targets: list[str | None] = list(regions) if regions else [None]
    for region in targets:
        if on_region is not None:
            on_region(region or "all regions")
        first = getproducts_request(region, None)
        next_page = _next_page(region)
        for page in fetcher.pages(first, next_page, lambda p: len(p.get("PriceList") or []),
                                  progress):
            rows.extend(r for r in (parse_item(i, region) for i in decode_price_list(page)) if r)
    if on_region is not None:
        on_region("spot advisor")
    spot = parse_spot_advisor(fetcher.get_json(Request(SPOT_ADVISOR_URL)))
    offers, skipped = build_offers(rows, spot, shapes)
    notes = [n for n in [skipped_note("instance types with an unknown accelerator", skipped)] if n]
    notes.append("spot prices estimated from Spot Instance Advisor savings (price x (100 - s)/100)")
    return Refreshed(offers, f"AWS Price List GetProducts ({PRICING_ENDPOINT}) + Spot Instance "
                             f"Advisor ({SPOT_ADVISOR_URL})", tuple(notes))


def _next_page(region: str | None) -> Callable[[Any], Request | None]:
    def follow(page: Any) -> Request | None:
        token = page.get("NextToken") if isinstance(page, dict) else None
        return getproducts_request(region, token) if token else None
    return follow
