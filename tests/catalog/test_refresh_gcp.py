"""GCP refresh on the recorded Cloud Billing Catalog page (MockTransport, no network).

The recorded Compute Engine page (OpenCost's capture) has the A100 GPU, A2
core and A2 RAM SKUs in USD and E2/T2D core/RAM SKUs in IDR. No public capture
has ``Preemptible`` Compute Engine SKUs (see the fixture README), so the spot
page here is built as that README says: the recorded OnDemand SKUs cloned with
``category.usageType`` flipped and ``Spot Preemptible`` prefixed (and a lower
price, so the spot path is distinguishable).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.catalog.model import Catalog, Offer
from planner.catalog.refresh_gcp import build_offers, parse_sku, refresh_gcp
from planner.catalog.refresh_gcp_auth import GcpAuth
from planner.catalog.refresh_http import Fetcher
from planner.catalog.snapshot import read_snapshot
from tests.cli import run_cli
from tests.refresh_mock import Server, json_response, load, raw_response, use_server

KEY = "test-api-key-123"


@pytest.fixture(scope="module")
def page1(shared: Path) -> dict[str, Any]:
    return load(shared, "gcp", "cloudbilling_skus_compute_6F81-5844-456A_opencost.json")


def spot_clone(sku: dict[str, Any], nanos: int, units: str = "0") -> dict[str, Any]:
    out = copy.deepcopy(sku)
    out["skuId"] += "-SPOT"
    out["category"]["usageType"] = "Preemptible"
    out["description"] = "Spot Preemptible " + out["description"]
    out["pricingInfo"][0]["pricingExpression"]["tieredRates"][0]["unitPrice"].update(
        units=units, nanos=nanos)
    return out


def spot_page(page1: dict[str, Any]) -> dict[str, Any]:
    by_id = {s["skuId"]: s for s in page1["skus"]}
    gpu, ram, core = by_id["039F-D0DA-4055"], by_id["2390-DCAF-DA38"], by_id["2922-40C5-B19F"]
    vws = copy.deepcopy(gpu)  # a model the planner does not know: must not become "T4"
    vws["skuId"] = "VWS"
    vws["description"] = "Nvidia Tesla T4 Virtual Workstation GPU running in Americas"
    return {"skus": [spot_clone(gpu, 880172000), spot_clone(ram, 1271000),
                     spot_clone(core, 9483000), vws], "nextPageToken": ""}


def a2_shapes(embedded: Catalog) -> list[Offer]:
    return [o for o in embedded if o.cloud == "gcp" and o.region in ("us-central1", "asia-southeast1")
            and o.instance_type in ("a2-highgpu-1g", "a2-highgpu-8g", "e2-standard-4", "n1-standard-8")]


def test_parse_recorded_skus(page1: dict[str, Any]) -> None:
    parts = {(p.kind, p.name, p.spot): p for p in (parse_sku(s) for s in page1["skus"]) if p}
    assert parts[("gpu", "A100", False)].price == Decimal("2.933908")
    assert parts[("core", "a2", False)].price == Decimal("0.031611")
    assert parts[("ram", "a2", False)].price == Decimal("0.004237")
    assert parts[("core", "a2", False)].regions == ("us-central1", "us-east1", "us-west1")
    # IDR prices are converted with the SKU's own rate: 508.934997455 IDR / 14999.999925 per USD.
    assert parts[("core", "t2d", False)].price == Decimal("0.033929000")
    assert parts[("core", "e2", False)].price == Decimal("0.021811590")


def test_a2_highgpu_1g_is_cores_plus_ram_plus_gpu(page1: dict[str, Any], embedded_catalog: Catalog) -> None:
    parts = [p for p in (parse_sku(s) for s in page1["skus"]) if p]
    offers, skipped = build_offers(parts, a2_shapes(embedded_catalog), {"us-central1"})
    a2 = [o for o in offers if o.instance_type == "a2-highgpu-1g"]
    assert {o.zone for o in a2} == {"us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"}
    # 12 x 0.031611 + 85 x 0.004237 + 1 x 2.933908 (the check)
    assert {o.price for o in a2} == {Decimal("3.673385")}
    assert {o.spot_price for o in a2} == {None}  # no Preemptible SKUs on this page
    assert a2[0].quota_family == "NVIDIA_A100_GPUS" and a2[0].accelerator_count == 1
    # n1 hosts have no N1 SKU on this page: skipped, not priced from other series.
    assert "n1-standard-8" in skipped and not [o for o in offers if o.instance_type.startswith("n1")]


def test_paging_and_spot_composition(page1: dict[str, Any], embedded_catalog: Catalog) -> None:
    server = (Server()
              .on(lambda r: r.url.params.get("pageToken") == page1["nextPageToken"],
                  json_response(spot_page(page1)))
              .on(lambda r: "pageToken" not in r.url.params, json_response(page1)))
    result = refresh_gcp(Fetcher(server.client(), sleep=lambda s: None), GcpAuth(KEY),
                         a2_shapes(embedded_catalog), ["us-central1"], None, {})
    assert len(server.requests) == 2
    # The key travels as a header, never in the URL (which HTTP clients log).
    assert all(r.headers["x-goog-api-key"] == KEY and r.url.params["currencyCode"] == "USD"
               and KEY not in str(r.url) and "authorization" not in r.headers
               for r in server.requests)
    by_type = {o.instance_type: o for o in result.offers}
    a2 = by_type["a2-highgpu-1g"]
    assert a2.price == Decimal("3.673385")
    # 12 x 0.009483 + 85 x 0.001271 + 0.880172
    assert a2.spot_price == Decimal("1.102003")
    a2_8 = by_type["a2-highgpu-8g"]
    assert a2_8.price == Decimal(96) * Decimal("0.031611") + Decimal(680) * Decimal("0.004237") \
        + 8 * Decimal("2.933908")
    e2 = by_type["e2-standard-4"]
    # IDR SKUs: 4 x (327.173848364 / 14999.999925) + 16 x (43.852949780 / 14999.999925)
    assert e2.price == 4 * Decimal("0.021811590") + 16 * Decimal("0.002923530") == Decimal("0.13402284")
    assert e2.spot_price is None
    assert any("unknown model: T4 Virtual Workstation" in n for n in result.notes)
    assert {o.region for o in result.offers} == {"us-central1"}


def test_cli_refresh_gcp_writes_a_snapshot(page1: dict[str, Any], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    server = (Server()
              .on(lambda r: r.url.params.get("pageToken") == page1["nextPageToken"],
                  json_response(spot_page(page1)))
              .on(lambda r: True, json_response(page1)))
    use_server(monkeypatch, server)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    out = tmp_path / "gcp"
    result = run_cli("catalog", "refresh", "gcp", "--regions", "us-central1", "--out", str(out))
    assert result.code == 0, result.err
    catalog = read_snapshot(out)
    assert "Cloud Billing Catalog" in catalog.meta.source
    a2 = [o for o in catalog if o.instance_type == "a2-highgpu-1g"]
    assert len(a2) == 4 and a2[0].price == Decimal("3.673385")


def test_cli_key_never_appears_in_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server().on(lambda r: True, raw_response("oops", 500))
    sleeps = use_server(monkeypatch, server)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    result = run_cli("catalog", "refresh", "gcp", "--out", str(tmp_path / "gcp"), "--retries", "2")
    assert result.code == 4 and "HTTP 500" in result.err and KEY not in result.err
    assert sleeps == [1.0, 2.0] and len(server.requests) == 3


def test_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response({"skus": []})

    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None)
    result = refresh_gcp(fetcher, GcpAuth(KEY), [], None, None, {})
    assert result.offers == []
    assert seen[0].url.path == "/v1/services/6F81-5844-456A/skus"
    assert seen[0].url.host == "cloudbilling.googleapis.com"
