"""AWS refresh through boto3, offline: recorded responses of all three AWS calls via Stubber.

Recorded inputs (../shared/fixtures/pricing/aws): the m5.large GetProducts price
item, the GetProducts wire envelope (PriceList = JSON strings), the us-east-2
bulk offer fragment (p3.8xlarge, Windows BYOL), DescribeSpotPriceHistory for
m5.large in us-east-1 (250 records, 5 zones), DescribeInstanceTypes for t3.micro
and p3.16xlarge, and the trimmed Spot Advisor feed. Where a test needs a row the
recordings lack it copies a recorded one and changes the named fields only; each
such edit is commented. ``DescribeRegions`` answers are hand-made from the
documented response shape (no recording exists).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from planner.catalog.model import Catalog
from planner.catalog.refresh_aws import (
    build_offers,
    bulk_offer_items,
    decode_price_list,
    latest_spot_prices,
    parse_item,
    parse_spot_advisor,
    refresh_aws,
)
from planner.catalog.refresh_aws_api import AwsApi
from planner.catalog.refresh_aws_shapes import parse_instance_type, parse_instance_types
from planner.catalog.refresh_common import Shape, known_accelerators
from planner.catalog.refresh_http import Fetcher
from planner.errors import CatalogError
from tests.aws_fake import StubbedAws, isolated_aws_env
from tests.refresh_mock import Server, json_response

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
REGIONS = {"Regions": [  # hand-made DescribeRegions answer (documented shape)
    {"RegionName": "us-east-1", "Endpoint": "ec2.us-east-1.amazonaws.com",
     "OptInStatus": "opt-in-not-required"},
    {"RegionName": "us-east-2", "Endpoint": "ec2.us-east-2.amazonaws.com",
     "OptInStatus": "opt-in-not-required"},
    {"RegionName": "me-south-1", "Endpoint": "ec2.me-south-1.amazonaws.com",
     "OptInStatus": "not-opted-in"},
]}


def with_attrs(item: dict[str, Any], price: str | None = None, **attrs: str) -> dict[str, Any]:
    """A copy of a recorded item with some attributes (and optionally the hourly price) changed."""
    out = copy.deepcopy(item)
    out["product"]["attributes"].update(attrs)
    if price is not None:
        for term in out["terms"]["OnDemand"].values():
            for dim in term["priceDimensions"].values():
                dim["pricePerUnit"] = {"USD": price}
    return out


def capacity_rows(m5: dict[str, Any]) -> list[dict[str, Any]]:
    """The three capacitystatus rows AWS lists per type; the reservation rows are edited copies."""
    return [
        with_attrs(m5, "0.0000000000", capacitystatus="AllocatedCapacityReservation"),
        m5,
        with_attrs(m5, "0.0960000000", capacitystatus="UnusedCapacityReservation"),
    ]


def p3_16xl_item(m5: dict[str, Any]) -> dict[str, Any]:
    """Edited copy of the m5.large item: the p3.16xlarge price row (24.48 USD/h, 8 GPUs)."""
    return with_attrs(m5, "24.4800000000", instanceType="p3.16xlarge", vcpu="64",
                      memory="488 GiB", gpu="8")


def m5_large_type(types: dict[str, Any]) -> dict[str, Any]:
    """Edited copy of the recorded t3.micro description: m5.large (2 vCPUs, 8 GiB)."""
    out = copy.deepcopy(types["InstanceTypes"][0])
    out.update(InstanceType="m5.large", MemoryInfo={"SizeInMiB": 8192},
               BurstablePerformanceSupported=False)
    return out


def envelope(items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(i) for i in items]}
    if token:
        page["NextToken"] = token
    return page


def spot_pages(spot: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded history in two pages (NextToken), as a paginated answer would come."""
    history = spot["SpotPriceHistory"]
    return [{"SpotPriceHistory": history[:125], "NextToken": "spot-2"},
            {"SpotPriceHistory": history[125:], "NextToken": ""}]


def expected_spot(spot: dict[str, Any]) -> Decimal:
    """Independent of the code under test: the latest record per zone, then the dearest zone."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in spot["SpotPriceHistory"]:
        zone = entry["AvailabilityZone"]
        if zone not in latest or entry["Timestamp"] > latest[zone]["Timestamp"]:
            latest[zone] = entry
    return max(Decimal(e["SpotPrice"]) for e in latest.values())


def stub_region(stubs: StubbedAws, aws_rec: dict[str, Any], region: str = "us-east-1") -> StubbedAws:
    """Every call of a one-region refresh, each paged in two."""
    types = aws_rec["types"]["InstanceTypes"]
    storage = decode_price_list(aws_rec["envelope"])
    (stubs.respond("ec2", "us-east-1", "describe_regions", REGIONS, {"AllRegions": True})
     .respond("pricing", "us-east-1", "get_products",
              envelope(capacity_rows(aws_rec["m5"]), "tok-2"))
     .respond("pricing", "us-east-1", "get_products",
              envelope([*storage, p3_16xl_item(aws_rec["m5"])], None))
     .respond("ec2", region, "describe_instance_types",
              {"InstanceTypes": [types[0], m5_large_type(aws_rec["types"])], "NextToken": "types-2"})
     .respond("ec2", region, "describe_instance_types", {"InstanceTypes": [types[1]]}))
    for page in spot_pages(aws_rec["spot"]):
        stubs.respond("ec2", region, "describe_spot_price_history", page)
    return stubs


def advisor_server(aws_rec: dict[str, Any]) -> Server:
    return Server().on(lambda r: r.url.host == "spot-bid-advisor.s3.amazonaws.com",
                       json_response(aws_rec["advisor"]))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AwsApi:
    import boto3

    isolated_aws_env(monkeypatch, tmp_path)
    return AwsApi(boto3.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="test",
                                region_name="us-east-1"), timeout=5, retries=2)


# ---- parsing -------------------------------------------------------------------------------


def test_price_list_items_are_json_strings_inside_json(aws_rec: dict[str, Any]) -> None:
    [item] = decode_price_list(aws_rec["envelope"])
    assert isinstance(aws_rec["envelope"]["PriceList"][0], str)
    assert item["product"]["sku"] == "3MKHN58N7RDDVGKJ"
    assert parse_item(item) is None  # an EBS volume, not an instance


def test_malformed_price_list_is_a_catalog_error(aws_rec: dict[str, Any]) -> None:
    broken = dict(aws_rec["envelope"], PriceList=['{"product": {"sku": "X"'])
    with pytest.raises(CatalogError, match="malformed price item") as err:
        decode_price_list(broken)
    assert err.value.field == "PriceList[0]"
    with pytest.raises(CatalogError, match="no PriceList"):
        decode_price_list({"FormatVersion": "aws_v1"})


def test_only_the_used_capacity_linux_row_is_priced(aws_rec: dict[str, Any]) -> None:
    rows = [r for r in (parse_item(i, "us-east-1") for i in capacity_rows(aws_rec["m5"])) if r]
    assert [(r.instance_type, r.price) for r in rows] == [("m5.large", Decimal("0.0960000000"))]
    assert parse_item(aws_rec["m5"]) is None  # old schema: no regionCode, and no region asked for
    items = bulk_offer_items(aws_rec["bulk"])
    # m5.large here has only a reserved "Upfront Fee" (unit Quantity); p3 is Windows BYOL.
    assert [parse_item(i) for i in items] == [None, None, None]


def test_non_usd_prices_are_skipped(aws_rec: dict[str, Any]) -> None:
    cny = with_attrs(aws_rec["m5"], regionCode="cn-northwest-1")
    for term in cny["terms"]["OnDemand"].values():
        for dim in term["priceDimensions"].values():
            dim["pricePerUnit"] = {"CNY": "0.6290000000"}  # as the China offer files price
    assert parse_item(cny) is None
    assert bulk_offer_items(aws_rec["bulk_cn"])[0]["product"]["productFamily"] == "Storage"


def test_recorded_instance_types_give_real_shapes(aws_rec: dict[str, Any]) -> None:
    shapes = parse_instance_types([aws_rec["types"]], {"V100": 16.0})
    assert shapes["p3.16xlarge"] == Shape(64.0, 488.0, "V100", 8.0, 16.0, "x86_64")
    assert shapes["t3.micro"] == Shape(2.0, 1.0, None, 0.0, None, "x86_64")


def test_new_families_are_named_from_the_device_as_the_catalog_spells_it(aws_rec: dict[str, Any]) -> None:
    # Edited copies of the recorded p3.16xlarge: families the table does not list.
    p3 = aws_rec["types"]["InstanceTypes"][1]
    a100 = copy.deepcopy(p3)
    a100["InstanceType"] = "p9.48xlarge"
    a100["GpuInfo"]["Gpus"][0].update(Name="A100", MemoryInfo={"SizeInMiB": 81920})
    known = {"A100": 40.0, "A100-80GB": 80.0, "A10G": 24.0}
    assert parse_instance_type(a100, known)[1].accelerator == "A100-80GB"  # type: ignore[index]
    a10g = copy.deepcopy(p3)
    a10g["InstanceType"] = "g9.xlarge"
    a10g["GpuInfo"]["Gpus"][0].update(Name="a10g", MemoryInfo={"SizeInMiB": 24576}, Count=1)
    assert parse_instance_type(a10g, known)[1].accelerator == "A10G"  # type: ignore[index]
    novel = copy.deepcopy(p3)
    novel["InstanceType"] = "g9e.xlarge"
    novel["GpuInfo"]["Gpus"][0].update(Name="RTX PRO Server 6000", Count=1)
    assert parse_instance_type(novel, known)[1].accelerator == "RTX PRO Server 6000"  # type: ignore[index]
    mac = copy.deepcopy(aws_rec["types"]["InstanceTypes"][0])
    mac["ProcessorInfo"]["SupportedArchitectures"] = ["x86_64_mac"]
    assert parse_instance_type(mac, known) is None


def test_latest_spot_price_per_zone(aws_rec: dict[str, Any]) -> None:
    by_type = latest_spot_prices(spot_pages(aws_rec["spot"]), "us-east-1")
    zones = by_type["m5.large"]
    assert sorted(zones) == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
    assert max(zones.values()) == expected_spot(aws_rec["spot"])
    first = aws_rec["spot"]["SpotPriceHistory"][0]
    windows = {"SpotPriceHistory": [dict(first, SpotPrice="9.9", ProductDescription="Windows")]}
    local = {"SpotPriceHistory": [dict(first, SpotPrice="9.9", AvailabilityZone="us-east-1-bos-1a")]}
    assert latest_spot_prices([windows], "us-east-1") == {}  # edited copies: Windows, a Local Zone
    assert latest_spot_prices([local], "us-east-1") == {}


def test_a_type_the_region_does_not_describe_is_skipped(aws_rec: dict[str, Any]) -> None:
    row = parse_item(p3_16xl_item(aws_rec["m5"]), "us-east-1")
    assert row is not None
    offers, skipped = build_offers([row], {"us-east-1": {}}, {}, {})
    assert offers == [] and skipped == ["p3.16xlarge"]


def test_spot_advisor_shape_errors(aws_rec: dict[str, Any]) -> None:
    with pytest.raises(CatalogError, match="no spot_advisor"):
        parse_spot_advisor({"instance_types": {}})
    bad = copy.deepcopy(aws_rec["advisor"])
    bad["spot_advisor"]["us-east-1"]["Linux"]["m5.large"] = {"s": "lots"}
    with pytest.raises(CatalogError, match="malformed spot advisor entry"):
        parse_spot_advisor(bad)


# ---- the three calls through Stubber ---------------------------------------------------------


def test_refresh_with_stubbed_calls(aws_rec: dict[str, Any], api: AwsApi, embedded_catalog: Catalog,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    stubs = stub_region(StubbedAws(), aws_rec)
    stubs.install(monkeypatch)
    pages: list[tuple[int, int]] = []
    result = refresh_aws(api, Fetcher(advisor_server(aws_rec).client(), sleep=lambda s: None),
                         ["us-east-1"], known_accelerators(embedded_catalog), NOW,
                         lambda n, k: pages.append((n, k)))
    stubs.all_used()
    # 2 GetProducts pages, 2 DescribeInstanceTypes pages, 2 DescribeSpotPriceHistory pages
    assert pages == [(1, 3), (2, 2), (1, 2), (2, 1), (1, 125), (2, 125)]
    by_type = {o.instance_type: o for o in result.offers}
    assert sorted(by_type) == ["m5.large", "p3.16xlarge"]  # t3.micro has no price row here
    m5 = by_type["m5.large"]
    assert m5.price == Decimal("0.096")
    # The price history replaces the advisor's estimate 0.096 x (100 - 66) / 100 = 0.03264.
    assert m5.spot_price == expected_spot(aws_rec["spot"]) != Decimal("0.03264")
    assert m5.interruption_bucket == 3  # the advisor's bucket is kept
    p3 = by_type["p3.16xlarge"]
    assert (p3.accelerator, p3.accelerator_count, p3.accelerator_memory_gib) == ("V100", 8.0, 16.0)
    assert (p3.vcpus, p3.memory_gib, p3.price, p3.spot_price) == (64.0, 488.0, Decimal("24.48"), None)
    assert result.spot_source is not None and "DescribeSpotPriceHistory" in result.spot_source
    assert result.shapes_source == "EC2 DescribeInstanceTypes"


def test_the_calls_are_made_as_documented(aws_rec: dict[str, Any], api: AwsApi, embedded_catalog: Catalog,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Expected parameters: Stubber fails the call if the refresh sends anything else."""
    from botocore.stub import ANY

    stubs = StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS, {"AllRegions": True})
    filters = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in sorted({
        "capacitystatus": "Used", "licenseModel": "No License required", "operatingSystem": "Linux",
        "preInstalledSw": "NA", "regionCode": "us-east-2", "tenancy": "Shared"}.items())]
    stubs.respond("pricing", "us-east-1", "get_products", envelope([], None), {
        "ServiceCode": "AmazonEC2", "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100})
    stubs.respond("ec2", "us-east-2", "describe_instance_types", {"InstanceTypes": []},
                  {"MaxResults": 100})
    stubs.respond("ec2", "us-east-2", "describe_spot_price_history", {"SpotPriceHistory": []}, {
        "ProductDescriptions": ["Linux/UNIX"], "StartTime": NOW, "EndTime": NOW,
        "MaxResults": 1000})
    stubs.install(monkeypatch)
    result = refresh_aws(api, Fetcher(advisor_server(aws_rec).client(), sleep=lambda s: None),
                         ["us-east-2"], known_accelerators(embedded_catalog), NOW)
    stubs.all_used()
    assert result.offers == [] and result.regions == ("us-east-2",)
    assert ANY is not None


@pytest.mark.parametrize(("asked", "message"), [
    (["us-east-9"], "aws: unknown region 'us-east-9'"),
    (["me-south-1"], "aws: region 'me-south-1' is not enabled for this account"),
])
def test_unknown_or_disabled_regions_fail_before_any_price_call(
        asked: list[str], message: str, aws_rec: dict[str, Any], api: AwsApi,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stubs = StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS)
    stubs.install(monkeypatch)
    server = advisor_server(aws_rec)
    with pytest.raises(CatalogError, match=message):
        refresh_aws(api, Fetcher(server.client()), asked, {}, NOW)
    assert server.requests == [] and ("pricing", "us-east-1") not in api._clients


def test_no_regions_means_every_enabled_region(aws_rec: dict[str, Any], api: AwsApi,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    stubs = StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS)
    for region in ("us-east-1", "us-east-2"):
        stubs.respond("pricing", "us-east-1", "get_products", envelope([], None))
        stubs.respond("ec2", region, "describe_instance_types", {"InstanceTypes": []})
        stubs.respond("ec2", region, "describe_spot_price_history", {"SpotPriceHistory": []})
    stubs.install(monkeypatch)
    result = refresh_aws(api, Fetcher(advisor_server(aws_rec).client()), None, {}, NOW)
    stubs.all_used()
    assert result.regions == ("us-east-1", "us-east-2")  # me-south-1 is not opted in


def test_access_denied_is_one_line_naming_the_call(aws_rec: dict[str, Any], api: AwsApi,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    stubs = (StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS)
             .respond("pricing", "us-east-1", "get_products", envelope([], None))
             .fail("ec2", "us-east-1", "describe_instance_types", "UnauthorizedOperation",
                   "You are not authorized to perform this operation.\nEncoded details: xyz", 403))
    stubs.install(monkeypatch)
    with pytest.raises(CatalogError) as err:
        refresh_aws(api, Fetcher(advisor_server(aws_rec).client()), ["us-east-1"], {}, NOW)
    assert str(err.value) == ("aws: ec2:DescribeInstanceTypes in us-east-1 not allowed for this "
                              "identity (UnauthorizedOperation: You are not authorized to perform "
                              "this operation.)")
