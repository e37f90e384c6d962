"""``planner catalog refresh`` end to end: retries, clean failures, the old snapshot kept.

Azure is used (no credentials needed) with its recorded Retail Prices pages.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.catalog.model import CatalogMeta, Offer
from planner.catalog.snapshot import META_FILE, OFFERS_FILE, read_snapshot, write_snapshot
from planner.cli.catalog_refresh_cmd import default_out, parse_regions
from planner.errors import UsageError
from tests.cli import run_cli
from tests.refresh_mock import Server, json_response, load, raw_response, snapshot_bytes, use_server

OLD = Offer("azure", "eastus", None, "Standard_D2s_v5", None, 0.0, None, 2.0, 8.0,
            Decimal("0.5"), None, "standardDSv5Family")


@pytest.fixture(scope="module")
def pages(shared: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return (load(shared, "azure", "retail_prices_page1_spotinfo.json"),
            load(shared, "azure", "retail_prices_page2_spotinfo.json"))


@pytest.fixture
def old_snapshot(tmp_path: Path) -> Path:
    out = tmp_path / "azure"
    write_snapshot(out, [OLD], CatalogMeta(source="old", date="2026-01-01"))
    return out


def second(request: httpx.Request) -> bool:
    return request.url.params.get("$skip") == "100"


def test_429_then_success_replaces_the_snapshot(pages: Any, old_snapshot: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server = (Server()
              .on(second, json_response(pages[1]))
              .on(lambda r: True, json_response({}, 429, {"Retry-After": "2"}),
                  json_response(pages[0])))
    sleeps = use_server(monkeypatch, server)
    result = run_cli("catalog", "refresh", "azure", "--out", str(old_snapshot))
    assert result.code == 0, result.err
    assert sleeps == [2.0] and len(server.requests) == 3
    catalog = read_snapshot(old_snapshot)
    assert catalog.meta.date == date.today().isoformat()
    assert "Retail Prices" in catalog.meta.source
    assert {(o.instance_type, o.price) for o in catalog} == {
        ("Standard_D2s_v5", Decimal("0.096")), ("Standard_D4s_v5", Decimal("0.192")),
        ("Standard_D8s_v5", Decimal("0.384"))}
    assert f"wrote 3 azure offers (prices of {date.today().isoformat()}) to {old_snapshot}" in result.out
    assert not [p for p in old_snapshot.parent.iterdir() if p.name.startswith(".")]


def test_persistent_500_fails_cleanly_and_keeps_the_old_snapshot(
        pages: Any, old_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot_bytes(old_snapshot)
    # page 1 succeeds, page 2 keeps failing: nothing may be written.
    server = Server().on(second, raw_response("upstream error", 500)).on(
        lambda r: True, json_response(pages[0]))
    sleeps = use_server(monkeypatch, server)
    result = run_cli("catalog", "refresh", "azure", "--out", str(old_snapshot))
    assert result.code == 4
    assert result.err.splitlines() == [
        "error: azure: HTTP 500 from https://prices.azure.com/api/retail/prices after 5 attempt(s): "
        "Internal Server Error"]
    assert result.out == ""
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert snapshot_bytes(old_snapshot) == before
    assert sorted(p.name for p in old_snapshot.parent.iterdir()) == ["azure"]


def test_malformed_page_fails_cleanly_and_keeps_the_old_snapshot(
        pages: Any, old_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot_bytes(old_snapshot)
    server = Server().on(second, raw_response('{"Items": [ {"retailPrice": ')).on(
        lambda r: True, json_response(pages[0]))
    use_server(monkeypatch, server)
    result = run_cli("catalog", "refresh", "azure", "--out", str(old_snapshot))
    assert result.code == 4 and "malformed JSON" in result.err
    assert len(result.err.splitlines()) == 1
    assert snapshot_bytes(old_snapshot) == before


def test_an_answer_with_no_usable_offers_writes_nothing(
        pages: Any, old_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot_bytes(old_snapshot)
    empty = dict(pages[1], Items=[], NextPageLink="")
    use_server(monkeypatch, Server().on(lambda r: True, json_response(empty)))
    result = run_cli("catalog", "refresh", "azure", "--out", str(old_snapshot))
    assert result.code == 4 and "previous snapshot is unchanged" in result.err
    assert snapshot_bytes(old_snapshot) == before


def test_default_out_is_the_user_cache(tmp_path: Path, pages: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_out("gcp", {"XDG_CACHE_HOME": "/c"}) == Path("/c/gpuplan/catalog/gcp")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    use_server(monkeypatch, Server().on(second, json_response(pages[1]))
               .on(lambda r: True, json_response(pages[0])))
    result = run_cli("catalog", "refresh", "azure")
    target = tmp_path / "cache" / "gpuplan" / "catalog" / "azure"
    assert result.code == 0, result.err
    assert (target / OFFERS_FILE).is_file() and (target / META_FILE).is_file()
    assert f"use it: planner --catalog {target} plan workloads.yaml" in result.out
    planned = run_cli("--catalog", str(target), "catalog", "show", "Standard_D4s_v5", "--format", "json")
    assert planned.code == 0 and '"0.192"' in planned.out


def test_regions_flag_parsing() -> None:
    assert parse_regions(["us-east-1,eu-west-1", "us-east-1"]) == ["eu-west-1", "us-east-1"]
    assert parse_regions(None) is None
    with pytest.raises(UsageError):
        parse_regions(["us east"])


def test_bad_cloud_and_bad_regions_exit_2(tmp_path: Path) -> None:
    assert run_cli("catalog", "refresh", "oracle", "--out", str(tmp_path)).code == 2
    result = run_cli("catalog", "refresh", "azure", "--regions", "East US", "--out", str(tmp_path / "x"))
    assert result.code == 2 and "not a region name" in result.err
    result = run_cli("catalog", "refresh", "azure", "--project", "p", "--out", str(tmp_path / "x"))
    assert result.code == 2 and "--project is for `catalog refresh gcp`, not azure" in result.err
    assert not (tmp_path / "x").exists()


def test_shapes_need_a_catalog_with_the_cloud(old_snapshot: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server()
    use_server(monkeypatch, server)
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    # old_snapshot holds Azure offers only: no GCP machine types to price.
    result = run_cli("--catalog", str(old_snapshot), "catalog", "refresh", "gcp",
                     "--out", str(tmp_path / "gcp"))
    assert result.code == 4 and "has no gcp offers" in result.err
    assert server.requests == [] and not (tmp_path / "gcp").exists()


def test_progress_bar_counts_pages_and_items() -> None:
    import io

    from rich.console import Console

    from planner.cli.catalog_refresh_cmd import _progress_bar

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with _progress_bar("azure", console) as (page, region):
        region("eastus")
        page(1, 7)
        page(2, 5)
    text = screen.getvalue()
    assert "azure prices: eastus" in text and "2 pages, 12 items" in text


def test_refreshing_into_one_directory_builds_a_multi_cloud_catalog(
        pages: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An aws snapshot (with its refresh record) at --out: refreshing azure keeps it."""
    from planner.catalog.model import RefreshRecord

    aws = Offer("aws", "us-east-1", None, "m5.large", None, 0.0, None, 2.0, 8.0, Decimal("0.096"),
                None, "Standard")
    record = RefreshRecord(cloud="aws", source="AWS APIs", fetched_at="2026-11-30T05:17:00+00:00",
                           regions=1, types=1, new_types=0, gone_types=0, compared_with="x",
                           shapes_source="EC2 DescribeInstanceTypes")
    out = tmp_path / "catalog"
    write_snapshot(out, [aws], CatalogMeta(source="AWS APIs", date="2026-11-30",
                                           notes=("aws: a note",), refresh=(record,)))
    use_server(monkeypatch, Server().on(second, json_response(pages[1]))
               .on(lambda r: True, json_response(pages[0])))
    result = run_cli("catalog", "refresh", "azure", "--out", str(out))
    assert result.code == 0, result.err
    catalog = read_snapshot(out)
    assert catalog.clouds == ["aws", "azure"] and aws in catalog.offers
    assert [r.cloud for r in catalog.meta.refresh] == ["aws", "azure"]
    assert catalog.meta.refresh[0] == record
    assert catalog.meta.date == "2026-11-30"  # the oldest cloud's prices date the catalog
    assert catalog.meta.notes[0] == "aws: a note"
    assert all(n.startswith(("aws: ", "azure: ")) for n in catalog.meta.notes)
    assert catalog.meta.source.startswith("aws: AWS APIs; azure: Azure Retail Prices API")
    assert "wrote 3 azure offers" in result.out


def _with_spot_price(page: dict[str, Any], sku: str, price: float) -> dict[str, Any]:
    """``page`` with the Linux spot row of ``sku`` at ``price`` $/h."""
    items = [dict(i, retailPrice=price) if i.get("armSkuName") == sku
             and i["skuName"].endswith(" Spot") and "Windows" not in i["productName"] else i
             for i in page["Items"]]
    assert items != page["Items"]
    return dict(page, Items=items)


@pytest.mark.parametrize("spot", [None, 0.5])
def test_refresh_runs_the_price_check_and_says_how_many_it_flagged(
        spot: float | None, pages: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As recorded nothing is flagged; a D2s v5 spot price above its on-demand $0.096/h is
    one flagged price (spot-above-on-demand), counted on the snapshot just written."""
    from planner.catalog.sanity import catalog_flags

    first = pages[0] if spot is None else _with_spot_price(pages[0], "Standard_D2s_v5", spot)
    use_server(monkeypatch, Server().on(second, json_response(pages[1]))
               .on(lambda r: True, json_response(first)))
    out = tmp_path / "azure"
    result = run_cli("catalog", "refresh", "azure", "--out", str(out))
    assert result.code == 0, result.err
    flags = catalog_flags(read_snapshot(out))
    assert [(f.offer.instance_type, f.spot, f.reason) for f in flags] == (
        [] if spot is None else [("Standard_D2s_v5", True, "spot-above-on-demand")])
    n = len(flags)
    assert (f"catalog check: {n} price{'s' if n != 1 else ''} flagged and left unused "
            "(planner catalog check lists them)\n") in result.out
