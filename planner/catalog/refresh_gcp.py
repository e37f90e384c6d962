"""GCP prices: Cloud Billing Catalog SKUs for Compute Engine, composed into instance prices.

``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus``
pages through ``nextPageToken``, signed in as ``refresh_gcp_auth`` says
(Application Default Credentials, or an API key in ``GOOGLE_API_KEY``).

GCP does not price machine types; it prices their parts, per region, and a
VM is billed as the sum (the rule :func:`compose` implements)::

    $/h = vCPUs x core $/vCPU-h  +  GiB x RAM $/GiB-h  +  GPUs x GPU $/GPU-h

with the core and RAM SKUs of the machine series (``A2 Instance Core running
in Americas``, ``N1 Predefined Instance Ram ...``) and the GPU SKU of the
accelerator (``Nvidia Tesla A100 GPU running in Americas``). Each SKU lists
the regions it applies to (``serviceRegions``). Spot uses the SKUs whose
``usageType`` is ``Preemptible`` (descriptions ``Spot Preemptible ...``);
commitments and other usage types are ignored. E.g. a2-highgpu-1g in
us-central1: 12 x 0.031611 + 85 x 0.004237 + 1 x 2.933908 = $3.673385/h.

Which machine types exist, in which zones, with how many vCPUs, GiB and GPUs
comes from the Compute API with ``--project`` (``refresh_gcp_shapes``: new
machine types appear), else from the current catalog (``refresh_common``). A
machine type whose series or GPU has no SKU in its region is skipped and
counted in the notes. A region asked for that no SKU serves (or, with
``--project``, where the project sees no zone) is an unknown region.
Prices in another currency are converted with the SKU's own
``currencyConversionRate`` (units per USD). Where a SKU has tiers, the last
(highest ``startUsageAmount``) rate is used: the price of sustained use past
any free tier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from planner.catalog.model import Offer
from planner.catalog.quotafamily import on_demand_family
from planner.catalog.refresh_common import NANO, Refreshed, skipped_note, tidy_money
from planner.catalog.refresh_gcp_auth import GcpAuth
from planner.catalog.refresh_gcp_shapes import (
    MachineType,
    aggregated,
    normalized_gpu,
    parse_accelerator_types,
    parse_machine_types,
)
from planner.catalog.refresh_http import Fetcher, Progress, Request
from planner.errors import CatalogError

SERVICE_ID = "6F81-5844-456A"
SKUS_URL = f"https://cloudbilling.googleapis.com/v1/services/{SERVICE_ID}/skus"

SPOT_PREFIXES = ("Spot Preemptible ", "Preemptible ")
PART = re.compile(r"^(?P<series>[A-Z][A-Z0-9]*)(?: (?:AMD|Arm|Intel))?(?: Predefined)? "
                  r"Instance (?P<kind>Core|Ram) running in (?P<geo>.+)$")
SPECIAL_PARTS = (  # series whose SKUs do not follow "<SERIES> Instance Core"
    (re.compile(r"^Compute optimized (?P<kind>Core|Ram) running in (?P<geo>.+)$"), "c2"),
    (re.compile(r"^Memory-optimized Instance (?P<kind>Core|Ram) running in (?P<geo>.+)$"), "m1"),
)
GPU = re.compile(r"^Nvidia (?:Tesla )?(?P<model>.+?) GPU running in (?P<geo>.+)$")
# GPU model as the SKU description spells it -> the catalog's accelerator name. Exact
# matches only: "T4 Virtual Workstation" or an unknown model is skipped, never guessed.
GPU_MODELS = {
    "A100": "A100", "A100 80GB": "A100-80GB", "H100 80GB": "H100", "H100": "H100",
    "H100 80GB Mega": "H100-MEGA", "H100 Mega 80GB": "H100-MEGA", "H200 141GB": "H200",
    "H200": "H200", "B200": "B200", "L4": "L4", "T4": "T4", "V100": "V100",
    "P100": "P100", "P4": "P4",
}
UNITS = {"core": "h", "ram": "GiBy.h", "gpu": "h"}
SHARED_CORE = re.compile(r"^(?:e2-(?:micro|small|medium)|f1-micro|g1-small)$")


@dataclass(frozen=True)
class Part:
    """One priced component: ``kind`` core|ram|gpu of ``name`` (series or GPU), USD/unit-h."""

    kind: str
    name: str
    spot: bool
    regions: tuple[str, ...]
    price: Decimal


def skus_request(key: str | None, page_token: str | None) -> Request:
    """One SKU page; ``key`` is the API key, sent as the ``x-goog-api-key`` header (not in
    the URL, which clients log), or None: the Bearer token signs the request."""
    params = {"currencyCode": "USD", "pageSize": "5000"}
    if page_token:
        params["pageToken"] = page_token
    return Request(SKUS_URL, params=params, headers={"x-goog-api-key": key} if key else {})


def skus_of(page: Any) -> list[dict[str, Any]]:
    """The SKUs of one page (CatalogError if it is not a SKU page)."""
    if not isinstance(page, dict) or not isinstance(page.get("skus", []), list):
        raise CatalogError("malformed Cloud Billing page: no skus array", field="skus")
    return list(page.get("skus", []))


def _unit_price(sku: Mapping[str, Any]) -> tuple[str, Decimal] | None:
    """(usage unit, USD per unit) of the SKU's current price, or None if it has none."""
    infos = sku.get("pricingInfo") or []
    if not infos:
        return None
    info = infos[-1]
    expr = info.get("pricingExpression") or {}
    tiers = sorted(expr.get("tieredRates") or [], key=lambda t: t.get("startUsageAmount", 0))
    if not tiers:
        return None
    money = tiers[-1].get("unitPrice") or {}
    try:
        price = Decimal(str(money.get("units") or 0)) + Decimal(int(money.get("nanos") or 0)) * NANO
        if money.get("currencyCode", "USD") != "USD":
            price = (price / Decimal(str(info["currencyConversionRate"]))).quantize(NANO)
    except (InvalidOperation, KeyError, TypeError, ValueError, ArithmeticError):
        raise CatalogError("malformed SKU price", field=f"skus[{sku.get('skuId')}].pricingInfo") \
            from None
    return str(expr.get("usageUnit", "")), price


def _describe(description: str) -> tuple[str, str] | None:
    """(kind, name) of a core/RAM/GPU description (spot prefix removed), else None."""
    match = PART.match(description)
    if match:
        return match["kind"].lower(), match["series"].lower()
    for pattern, series in SPECIAL_PARTS:
        match = pattern.match(description)
        if match:
            return match["kind"].lower(), series
    match = GPU.match(description)
    if match:
        return "gpu", match["model"]
    return None


def parse_sku(sku: Mapping[str, Any]) -> Part | None:
    """A Compute Engine SKU -> a priced part, or None if it is not one the planner composes.

    A GPU SKU whose model is not in :data:`GPU_MODELS` yields a part named
    ``?<model>`` so the caller can report it.
    """
    category = sku.get("category") or {}
    usage = category.get("usageType")
    description = str(sku.get("description", ""))
    if category.get("resourceFamily") != "Compute" or usage not in ("OnDemand", "Preemptible"):
        return None
    spot = usage == "Preemptible" or description.startswith(SPOT_PREFIXES)
    for prefix in SPOT_PREFIXES:
        description = description.removeprefix(prefix)
    described = _describe(description)
    priced = _unit_price(sku)
    if described is None or priced is None:
        return None
    kind, name = described
    unit, price = priced
    if unit != UNITS[kind]:
        return None
    if kind == "gpu":
        name = GPU_MODELS.get(name, "?" + name)
    return Part(kind, name, spot, tuple(sku.get("serviceRegions") or ()), price)


def price_table(parts: Iterable[Part]) -> dict[tuple[str, str, str, bool], Decimal]:
    """(kind, name, region, spot) -> USD per unit-hour; the first part listed wins.

    A GPU model not in :data:`GPU_MODELS` is listed under its normalized name
    (``RTX-PRO-6000``), the name a Compute API accelerator type of that model gets.
    """
    table: dict[tuple[str, str, str, bool], Decimal] = {}
    for part in parts:
        name = normalized_gpu(part.name[1:]) if part.name.startswith("?") else part.name
        for region in part.regions:
            table.setdefault((part.kind, name, region, part.spot), part.price)
    return table


def _num(value: float) -> Decimal:
    return Decimal(repr(value))


def compose(shape: Offer, table: Mapping[tuple[str, str, str, bool], Decimal],
            spot: bool) -> Decimal | None:
    """``vCPUs x core + GiB x RAM + GPUs x GPU`` for ``shape``'s series and region, or None."""
    series = shape.instance_type.split("-", 1)[0]
    core = table.get(("core", series, shape.region, spot))
    ram = table.get(("ram", series, shape.region, spot))
    if core is None or ram is None:
        return None
    total = _num(shape.vcpus) * core + _num(shape.memory_gib) * ram
    if shape.accelerator:
        gpu = table.get(("gpu", shape.accelerator, shape.region, spot))
        if gpu is None:
            return None
        total += _num(shape.accelerator_count) * gpu
    return tidy_money(total)


def build_offers(parts: Iterable[Part], shapes: Iterable[Offer],
                 regions: set[str] | None) -> tuple[list[Offer], list[str]]:
    """Re-price every known GCP offer (per zone) from the parts; also the types skipped."""
    table = price_table(parts)
    offers, skipped = [], []
    for old in sorted((o for o in shapes if o.cloud == "gcp"), key=lambda o: o.key):
        if regions is not None and old.region not in regions:
            continue
        price = None if SHARED_CORE.match(old.instance_type) else compose(old, table, spot=False)
        if price is None:
            skipped.append(old.instance_type)
            continue
        offers.append(Offer(
            "gcp", old.region, old.zone, old.instance_type, old.accelerator,
            old.accelerator_count, old.accelerator_memory_gib, old.vcpus, old.memory_gib,
            price, compose(old, table, spot=True), old.quota_family, None, old.arch))
    return offers, skipped


def api_offers(parts: Iterable[Part], machines: Iterable[MachineType],
               attachable: set[tuple[str, str]], base: Iterable[Offer],
               accelerators: Mapping[str, float | None]) -> tuple[list[Offer], list[str]]:
    """Offers for the Compute API's machine types (per zone); also the types skipped.

    Built-in accelerators come with the machine type. Attachable GPUs (N1 hosts)
    keep the host/GPU/count combinations of the current catalog, offered in the
    zones where the API lists both the host and the GPU.
    """
    combos: dict[str, set[tuple[str, float]]] = {}
    for offer in base:
        if offer.cloud == "gcp" and offer.accelerator and offer.instance_type.startswith("n1-"):
            combos.setdefault(offer.instance_type, set()).add(
                (offer.accelerator, offer.accelerator_count))
    table = price_table(parts)
    offers, skipped = [], []
    for machine in machines:
        shapes = [(machine.accelerator, machine.accelerator_count)]
        if machine.accelerator is None:
            shapes += sorted(c for c in combos.get(machine.name, ())
                             if (machine.zone, c[0]) in attachable)
        for accelerator, count in shapes:
            offer = Offer("gcp", machine.region, machine.zone, machine.name, accelerator, count,
                          accelerators.get(accelerator) if accelerator else None, machine.vcpus,
                          machine.memory_gib, Decimal(0), None,
                          on_demand_family("gcp", machine.name, accelerator), None, machine.arch)
            price = None if SHARED_CORE.match(machine.name) else compose(offer, table, spot=False)
            if price is None:
                skipped.append(machine.name)
                continue
            offers.append(Offer(
                "gcp", offer.region, offer.zone, offer.instance_type, accelerator, count,
                offer.accelerator_memory_gib, offer.vcpus, offer.memory_gib, price,
                compose(offer, table, spot=True), offer.quota_family, None, offer.arch))
    return offers, skipped


def check_regions(asked: list[str] | None, parts: Iterable[Part],
                  machines: list[MachineType] | None, project: str | None) -> None:
    """CatalogError for an asked region no SKU serves (or, with a project, with no zone)."""
    if asked is None:
        return
    served = {r for p in parts for r in p.regions}
    zoned = {m.region for m in machines} if machines is not None else None
    for region in asked:
        if region not in served:
            raise CatalogError(f"gcp: unknown region {region!r} (no Compute Engine SKU of the "
                               "Cloud Billing Catalog is offered there)")
        if zoned is not None and region not in zoned:
            raise CatalogError(f"gcp: unknown region {region!r} (the Compute API lists no zone "
                               f"there for project {project!r})")


def refresh_gcp(fetcher: Fetcher, auth: GcpAuth, base: Iterable[Offer], regions: list[str] | None,
                project: str | None, accelerators: Mapping[str, float | None],
                progress: Progress | None = None) -> Refreshed:
    """Fetch every SKU page (and with ``project`` the machine/accelerator types), then price."""
    machines: list[MachineType] | None = None
    attachable: set[tuple[str, str]] = set()
    if project is not None:
        wanted = set(regions) if regions else None
        machines = parse_machine_types(
            aggregated(fetcher, project, "machineTypes", "machineTypes", progress), wanted)
        attachable = parse_accelerator_types(
            aggregated(fetcher, project, "acceleratorTypes", "acceleratorTypes", progress))
    parts: list[Part] = []
    for page in fetcher.pages(skus_request(auth.key, None), lambda p: _next(auth.key, p),
                              lambda p: len(p.get("skus") or []), progress):
        parts.extend(p for p in (parse_sku(s) for s in skus_of(page)) if p)
    check_regions(regions, parts, machines, project)
    unknown_gpus = [p.name[1:] for p in parts if p.name.startswith("?")]
    if machines is None:
        offers, skipped = build_offers(parts, base, set(regions) if regions else None)
        shapes = "the previous catalog (machine types and zones)"
    else:
        offers, skipped = api_offers(parts, machines, attachable, base, accelerators)
        shapes = f"Compute API machineTypes and acceleratorTypes (project {project})"
    notes = [n for n in (skipped_note("GPU SKUs with an unknown model", unknown_gpus),
                         skipped_note("machine types without core/RAM/GPU SKUs in their region",
                                      skipped)) if n]
    notes.append(f"shapes: {shapes}; prices = vCPUs x core + GiB x RAM + GPUs x GPU SKU prices")
    return Refreshed(offers, f"GCP Cloud Billing Catalog API, Compute Engine service {SERVICE_ID} "
                             f"({SKUS_URL})", tuple(notes), regions=tuple(regions or ()),
                     spot_source="Cloud Billing Catalog Preemptible (Spot) SKUs",
                     shapes_source=shapes)


def _next(key: str | None, page: Any) -> Request | None:
    token = page.get("nextPageToken") if isinstance(page, dict) else None
    return skus_request(key, token) if token else None
