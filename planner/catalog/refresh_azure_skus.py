"""Azure VM shapes, zones and restrictions from Resource SKUs (``refresh azure --subscription S``).

``GET https://management.azure.com/subscriptions/S/providers/Microsoft.Compute/skus``
(``api-version`` :data:`API_VERSION`, ``$filter=location eq 'R'`` per region asked),
paged through ``nextLink``, with a Bearer token for ``https://management.azure.com``
from azure-identity's ``DefaultAzureCredential`` (environment service principal,
workload identity (GitHub OIDC), managed identity, ``az login`` as ``azure/login``
leaves it, ...). Read-only; any role that can read the subscription will do.

Per ``virtualMachines`` SKU and location:

* shape: ``vCPUs``, ``MemoryGB`` (GiB), ``GPUs`` (count) and ``CpuArchitectureType``
  capabilities. The API does not name the GPU: a size the current catalog knows
  keeps its accelerator; a new size takes the accelerator of a known size of the
  same ``family`` (Standard_NC48ads_A100_v4 beside Standard_NC24ads_A100_v4), else
  of an accelerator name the catalog knows inside the size name
  (``..._H200_v5`` -> H200); otherwise it is skipped and counted, never guessed;
* restrictions: a ``Location`` restriction (``NotAvailableForSubscription``) means
  the size is **not offered** to this subscription there; so does a ``Zone``
  restriction covering every zone the size has. Offers stay regional (Retail Prices
  are regional, and an AKS pool without zones may use any zone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.catalog.refresh_common import Shape
from planner.catalog.refresh_http import Fetcher, HttpStatusError, Progress, Request
from planner.errors import CatalogError

SKUS_URL = "https://management.azure.com/subscriptions/{subscription}/providers/Microsoft.Compute/skus"
API_VERSION = "2021-07-01"
SCOPE = "https://management.azure.com/.default"
EXTRA_HINT = "pip install 'gpuplan[refresh]'"
SIGN_IN_HINT = ("sign in as DefaultAzureCredential reads it: `az login` (azure/login in GitHub "
                "Actions), AZURE_CLIENT_ID + AZURE_TENANT_ID with a secret, certificate or "
                "federated token, or a managed identity")


def require_azure_identity() -> None:
    """CatalogError (exit 4) naming the extra when azure-identity is missing."""
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        raise CatalogError(f"azure: --subscription needs azure-identity: {EXTRA_HINT}") from None


@dataclass
class AzureSkus:
    """What Resource SKUs say: shapes, where each size is offered, and what is restricted."""

    shapes: dict[str, Shape] = field(default_factory=dict)
    offered: set[tuple[str, str]] = field(default_factory=set)  # (region, size)
    restricted: set[tuple[str, str]] = field(default_factory=set)
    locations: set[str] = field(default_factory=set)
    unnamed: set[str] = field(default_factory=set)  # sizes with GPUs of no known model


def _capabilities(item: Mapping[str, Any]) -> dict[str, str]:
    return {str(c.get("name")): str(c.get("value")) for c in item.get("capabilities") or []}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _restricted(item: Mapping[str, Any], location: str) -> bool:
    """Whether the size is not offered in ``location`` to this subscription."""
    zones = {z for info in item.get("locationInfo") or [] if info.get("location", "").lower()
             == location for z in info.get("zones") or []}
    for restriction in item.get("restrictions") or []:
        info = restriction.get("restrictionInfo") or {}
        places = {str(x).lower() for x in info.get("locations") or restriction.get("values") or []}
        if location not in places:
            continue
        if restriction.get("type") == "Location":
            return True
        if restriction.get("type") == "Zone" and zones and zones <= set(info.get("zones") or []):
            return True
    return False


def _gpu_name(size: str, family: str, known: Mapping[str, Shape], family_gpus: Mapping[str, Shape],
              accelerators: Iterable[str]) -> Shape | None:
    """The accelerator (as a Shape carrying name and GiB) of a GPU size, by the module's rule."""
    if size in known and known[size].accelerator:
        return known[size]
    if family in family_gpus:
        return family_gpus[family]
    tokens = set(re.split(r"[_\-]", size.lower()))
    for name in sorted(accelerators, key=len, reverse=True):
        if name.lower() in tokens:
            return Shape(0, 0, name, 0, None)
    return None


def parse_skus(items: Iterable[Mapping[str, Any]], regions: set[str] | None,
               known: Mapping[str, Shape], accelerators: Mapping[str, float | None]) -> AzureSkus:
    """Resource SKU elements -> :class:`AzureSkus` (``known``: the current catalog's sizes)."""
    vms = [i for i in items if i.get("resourceType") == "virtualMachines" and i.get("name")]
    family_gpus: dict[str, Shape] = {}
    for item in sorted(vms, key=lambda i: str(i["name"])):
        shape = known.get(str(item["name"]))
        if shape is not None and shape.accelerator:
            family_gpus.setdefault(str(item.get("family")), shape)
    out = AzureSkus()
    for item in vms:
        size, caps = str(item["name"]), _capabilities(item)
        vcpus, memory = _number(caps.get("vCPUs")), _number(caps.get("MemoryGB"))
        gpus = _number(caps.get("GPUs")) or 0.0
        if not vcpus or not memory:
            continue
        arch = "arm64" if caps.get("CpuArchitectureType", "").lower() == "arm64" else "x86_64"
        shape = Shape(vcpus, memory, None, 0.0, None, arch)
        if gpus:
            named = _gpu_name(size, str(item.get("family")), known, family_gpus, accelerators)
            if named is None or named.accelerator is None:
                out.unnamed.add(size)
                continue
            memory_gib = named.accelerator_memory_gib or accelerators.get(named.accelerator)
            shape = Shape(vcpus, memory, named.accelerator, gpus, memory_gib, arch)
        out.shapes.setdefault(size, shape)
        for location in (str(x).lower() for x in item.get("locations") or []):
            out.locations.add(location)
            if regions is not None and location not in regions:
                continue
            target = out.restricted if _restricted(item, location) else out.offered
            target.add((location, size))
    return out


def bearer(credential: Any) -> Any:
    """An ``authorize`` hook: a management-scope token from ``credential`` on ARM requests."""
    def authorize(request: Any) -> None:
        if request.url.host != "management.azure.com":
            return
        from azure.core.exceptions import ClientAuthenticationError

        try:
            token = credential.get_token(SCOPE).token
        except ClientAuthenticationError as exc:
            raise CatalogError(f"azure: no usable sign-in ({_cause(exc)}); {SIGN_IN_HINT}") from None
        request.headers["authorization"] = f"Bearer {token}"
    return authorize


def _cause(exc: Exception) -> str:
    """First line of the message, plus the first reason DefaultAzureCredential lists."""
    lines = [x.strip() for x in str(getattr(exc, "message", None) or exc).splitlines() if x.strip()]
    if not lines:
        return type(exc).__name__
    reasons = [x for x in lines[1:] if "Credential:" in x and not x.endswith(":")]
    text = lines[0] + (f" {reasons[0]}" if reasons else "")
    return text[:300]


def default_credential() -> Any:
    """azure-identity's DefaultAzureCredential (the chain the Azure SDKs and CLI tools use)."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def resource_skus(fetcher: Fetcher, subscription: str, regions: list[str] | None,
                  known: Mapping[str, Shape], accelerators: Mapping[str, float | None],
                  progress: Progress | None = None) -> AzureSkus:
    """Fetch the subscription's Resource SKUs (per region asked, else all) and parse them."""
    fetcher.authorize = bearer(default_credential())
    url = SKUS_URL.format(subscription=subscription)
    items: list[Mapping[str, Any]] = []
    for region in list(regions) if regions else [None]:
        params = {"api-version": API_VERSION}
        if region:
            params["$filter"] = f"location eq '{region}'"
        try:
            for page in fetcher.pages(Request(url, params=params), _next,
                                      lambda p: len(p.get("value") or []), progress):
                if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                    raise CatalogError("malformed Resource SKUs page: no value array", field="value")
                items.extend(page["value"])
        except HttpStatusError as exc:
            if exc.status in (401, 403, 404):
                raise CatalogError(f"azure: no access to subscription {subscription!r} "
                                   f"(HTTP {exc.status}: {exc.reason})") from None
            raise
    return parse_skus(items, set(regions) if regions else None, known, accelerators)


def _next(page: Any) -> Request | None:
    link = page.get("nextLink") if isinstance(page, dict) else None
    return Request(str(link)) if link else None
