"""Azure refresh on the recorded Retail Prices pages (MockTransport, no network).

Page 1 (NextPageLink set) carries the filter traps: on-demand vs Spot vs Low
Priority meters, a Windows product, a CloudServices product, a 0-priced spot
item and an empty armSkuName. Page 2 (the last) carries time-bounded spot
prices. Both are served unchanged.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.catalog.model import Catalog
from planner.catalog.refresh_azure import current_prices, parse_item, refresh_azure
from planner.catalog.refresh_common import known_shapes
from planner.catalog.refresh_http import Fetcher
from planner.errors import CatalogError
from tests.refresh_mock import Server, json_response

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def pages(shared: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from tests.refresh_mock import load

    return (load(shared, "azure", "retail_prices_page1_spotinfo.json"),
            load(shared, "azure", "retail_prices_page2_spotinfo.json"))


def server_for(pages: tuple[dict[str, Any], dict[str, Any]]) -> Server:
    def second(request: httpx.Request) -> bool:
        return request.url.params.get("$skip") == "100"

    return (Server().on(second, json_response(pages[1]))
            .on(lambda r: "$filter" in r.url.params, json_response(pages[0])))


def test_filter_traps(pages: tuple[dict[str, Any], dict[str, Any]]) -> None:
    parsed = [parse_item(i, TODAY) for i in pages[0]["Items"]]
    kept = [(p.size, p.spot, p.price) for p in parsed if p]
    assert kept == [("Standard_D2s_v5", True, Decimal("0.0412")),
                    ("Standard_D2s_v5", False, Decimal("0.096"))]
    # dropped: Windows spot 0.1783, Low Priority 0.0192, CloudServices 0.144, 0-priced
    # B1ls v2 spot, and the spot item with no armSkuName.
    assert len(pages[0]["Items"]) == 7


def test_time_bounded_prices_pick_the_one_in_effect(pages: tuple[dict[str, Any], dict[str, Any]]) -> None:
    def spot_on(day: date) -> dict[str, Decimal]:
        prices = current_prices(p for p in (parse_item(i, day) for i in pages[1]["Items"]) if p)
        return {size: price for (_, size, spot), price in prices.items() if spot}

    assert spot_on(TODAY) == {"Standard_D4s_v5": Decimal("0.0824")}  # D8s spot expired in May
    assert spot_on(date(2026, 6, 15)) == {"Standard_D4s_v5": Decimal("0.0777")}
    assert spot_on(date(2026, 5, 15)) == {"Standard_D8s_v5": Decimal("0.1554")}


def test_refresh_follows_next_page_link(pages: tuple[dict[str, Any], dict[str, Any]],
                                        embedded_catalog: Catalog) -> None:
    server = server_for(pages)
    seen: list[tuple[int, int]] = []
    result = refresh_azure(Fetcher(server.client(), sleep=lambda s: None), None,
                           known_shapes(embedded_catalog, "azure"), TODAY,
                           lambda n, k: seen.append((n, k)))
    assert seen == [(1, 7), (2, 5)]
    assert str(server.requests[1].url) == pages[0]["NextPageLink"]
    first = server.requests[0].url.params["$filter"]
    assert first == "serviceName eq 'Virtual Machines' and priceType eq 'Consumption'"
    assert [(o.region, o.instance_type, o.price, o.spot_price, o.vcpus, o.quota_family)
            for o in result.offers] == [
        ("eastus", "Standard_D2s_v5", Decimal("0.096"), Decimal("0.0412"), 2.0, "standardDSv5Family"),
        ("eastus", "Standard_D4s_v5", Decimal("0.192"), Decimal("0.0824"), 4.0, "standardDSv5Family"),
        ("eastus", "Standard_D8s_v5", Decimal("0.384"), None, 8.0, "standardDSv5Family"),
    ]


def test_unknown_sizes_are_skipped_and_noted(pages: tuple[dict[str, Any], dict[str, Any]]) -> None:
    result = refresh_azure(Fetcher(server_for(pages).client(), sleep=lambda s: None), None, {}, TODAY)
    assert result.offers == []
    assert any("skipped 3 VM sizes without a shape from the previous catalog" in n for n in result.notes)


def test_region_filter_goes_into_the_query(pages: tuple[dict[str, Any], dict[str, Any]]) -> None:
    last = dict(pages[1], NextPageLink=None)  # its prices are all in eastus
    server = Server().on(lambda r: True, json_response(last))
    with pytest.raises(CatalogError, match="azure: unknown region 'westus2' .the Retail Prices API"):
        refresh_azure(Fetcher(server.client(), sleep=lambda s: None), ["eastus", "westus2"], {}, TODAY)
    assert [r.url.params["$filter"].rsplit(" and ", 1)[1] for r in server.requests] == [
        "armRegionName eq 'eastus'", "armRegionName eq 'westus2'"]


def test_a_page_without_items_is_malformed(pages: tuple[dict[str, Any], dict[str, Any]]) -> None:
    server = Server().on(lambda r: True, json_response({"BillingCurrency": "USD", "Count": 0}))
    with pytest.raises(CatalogError, match="no Items array"):
        refresh_azure(Fetcher(server.client(), sleep=lambda s: None), None, {}, TODAY)
