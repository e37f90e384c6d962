"""AWS refresh on the recorded Price List and Spot Advisor responses (MockTransport, no network).

Recorded inputs (../shared/fixtures/pricing/aws): the m5.large GetProducts
price item, the GetProducts wire envelope (PriceList = JSON strings), the
us-east-2 bulk offer fragment (p3.8xlarge, Windows BYOL) and the trimmed
Spot Advisor feed. Where a test needs a row the recordings lack (the other two
``capacitystatus`` rows, a Linux p3.8xlarge) it copies a recorded item and
changes the named attributes only; each such edit is commented.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.catalog.aws_sigv4 import Credentials, authorization
from planner.catalog.model import Catalog
from planner.catalog.refresh_aws import (
    build_offers,
    bulk_offer_items,
    decode_price_list,
    parse_item,
    parse_spot_advisor,
    refresh_aws,
)
from planner.catalog.refresh_common import known_shapes
from planner.catalog.refresh_http import Fetcher
from planner.catalog.snapshot import read_snapshot
from planner.errors import CatalogError
from tests.cli import run_cli
from tests.refresh_mock import Server, json_response, load, use_server

EXAMPLE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


@pytest.fixture(scope="module")
def rec(shared: Path) -> dict[str, Any]:
    return {
        "m5": load(shared, "aws", "getproducts_priceitem_m5.large_us-east-1.json"),
        "envelope": load(shared, "aws", "getproducts_envelope_awscli_example.json"),
        "bulk": load(shared, "aws", "bulk_offer_fragment_us-east-2_opencost.json"),
        "bulk_cn": load(shared, "aws", "bulk_offer_fragment_cn-northwest-1_opencost.json"),
        "advisor": load(shared, "aws", "spot-advisor-data.trimmed.json"),
    }


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


def linux_p3(bulk: dict[str, Any]) -> dict[str, Any]:
    """The recorded p3.8xlarge (Windows BYOL) turned into its Linux on-demand row."""
    [p3] = [i for i in bulk_offer_items(bulk)
            if i["product"]["attributes"].get("instanceType") == "p3.8xlarge"]
    return with_attrs(p3, "12.2400000000", operatingSystem="Linux",
                      licenseModel="No License required", operation="RunInstances")


def envelope(items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {"FormatVersion": "aws_v1",
                            "PriceList": [json.dumps(i) for i in items]}
    if token:
        page["NextToken"] = token
    return page


def test_price_list_items_are_json_strings_inside_json(rec: dict[str, Any]) -> None:
    [item] = decode_price_list(rec["envelope"])
    assert isinstance(rec["envelope"]["PriceList"][0], str)
    assert item["product"]["sku"] == "3MKHN58N7RDDVGKJ"
    assert parse_item(item) is None  # an EBS volume, not an instance


def test_malformed_price_list_is_a_catalog_error(rec: dict[str, Any]) -> None:
    broken = dict(rec["envelope"], PriceList=['{"product": {"sku": "X"'])
    with pytest.raises(CatalogError, match="malformed price item") as err:
        decode_price_list(broken)
    assert err.value.field == "PriceList[0]"
    with pytest.raises(CatalogError, match="no PriceList"):
        decode_price_list({"FormatVersion": "aws_v1"})


def test_recorded_m5_large_item(rec: dict[str, Any]) -> None:
    row = parse_item(rec["m5"], region_hint="us-east-1")
    assert row is not None
    assert (row.region, row.instance_type, row.price, row.vcpus, row.memory_gib) == \
        ("us-east-1", "m5.large", Decimal("0.0960000000"), 2.0, 8.0)
    assert parse_item(rec["m5"]) is None  # old schema: no regionCode, and no region asked for


def test_graviton_rows_are_arm64(rec: dict[str, Any]) -> None:
    # Edited copy: a Graviton processor, as AWS lists m6g/g5g rows ("64-bit" like x86).
    row = parse_item(with_attrs(rec["m5"], instanceType="m6g.large",
                                physicalProcessor="AWS Graviton2 Processor"), "us-east-1")
    assert row is not None and row.arch == "arm64"
    assert parse_item(rec["m5"], "us-east-1").arch == "x86_64"  # type: ignore[union-attr]


def test_only_the_used_capacity_row_is_priced(rec: dict[str, Any]) -> None:
    rows = [r for r in (parse_item(i, "us-east-1") for i in capacity_rows(rec["m5"])) if r]
    offers, skipped = build_offers(rows, {}, {})
    assert [(o.instance_type, str(o.price)) for o in offers] == [("m5.large", "0.096")]
    assert skipped == []


def test_windows_byol_and_upfront_fees_are_dropped(rec: dict[str, Any]) -> None:
    items = bulk_offer_items(rec["bulk"])
    assert [i["product"]["attributes"].get("instanceType") for i in items] == \
        ["m5.large", "p3.8xlarge", None]
    # m5.large here has only a reserved "Upfront Fee" (unit Quantity); p3 is Windows BYOL.
    assert [parse_item(i) for i in items] == [None, None, None]


def test_non_usd_prices_are_skipped(rec: dict[str, Any]) -> None:
    cny = with_attrs(rec["m5"], regionCode="cn-northwest-1")
    for term in cny["terms"]["OnDemand"].values():
        for dim in term["priceDimensions"].values():
            dim["pricePerUnit"] = {"CNY": "0.6290000000"}  # as the China offer files price
    assert parse_item(cny) is None
    assert bulk_offer_items(rec["bulk_cn"])[0]["product"]["productFamily"] == "Storage"


def test_gpu_names_from_the_family_table_and_spot_from_the_advisor(
        rec: dict[str, Any], embedded_catalog: Catalog) -> None:
    row = parse_item(linux_p3(rec["bulk"]))
    assert row is not None and row.region == "us-east-2" and row.gpus == 4
    spot = parse_spot_advisor(rec["advisor"])
    assert spot[("us-east-2", "p3.8xlarge")] == (80, 4)
    [offer], _ = build_offers([row], spot, known_shapes(embedded_catalog, "aws"))
    assert (offer.accelerator, offer.accelerator_count, offer.accelerator_memory_gib) == ("V100", 4.0, 16)
    assert (offer.vcpus, offer.memory_gib, offer.quota_family) == (32.0, 244.0, "P")
    assert offer.price == Decimal("12.24")
    assert offer.spot_price == Decimal("2.448")  # 12.24 x (100 - 80) / 100
    assert offer.interruption_bucket == 4


def test_unknown_gpu_families_are_skipped_not_guessed(rec: dict[str, Any]) -> None:
    mystery = with_attrs(linux_p3(rec["bulk"]), instanceType="p9.48xlarge", gpu="8")
    row = parse_item(mystery)
    assert row is not None
    offers, skipped = build_offers([row], {}, {})
    assert offers == [] and skipped == ["p9.48xlarge"]


def test_spot_advisor_shape_errors(rec: dict[str, Any]) -> None:
    with pytest.raises(CatalogError, match="no spot_advisor"):
        parse_spot_advisor({"instance_types": {}})
    bad = copy.deepcopy(rec["advisor"])
    bad["spot_advisor"]["us-east-1"]["Linux"]["m5.large"] = {"s": "lots"}
    with pytest.raises(CatalogError, match="malformed spot advisor entry"):
        parse_spot_advisor(bad)


def pricing_server(rec: dict[str, Any]) -> Server:
    """us-east-1: two pages (NextToken); us-east-2: one page; then the spot advisor."""
    def asks(region: str, token: str | None) -> Any:
        def route(request: httpx.Request) -> bool:
            if request.method != "POST":
                return False
            body = json.loads(request.content)
            return {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region} in body["Filters"] \
                and body.get("NextToken") == token
        return route

    storage = decode_price_list(rec["envelope"])
    return (Server()
            .on(asks("us-east-1", None), json_response(envelope(capacity_rows(rec["m5"]), "tok-2")))
            .on(asks("us-east-1", "tok-2"), json_response(envelope(storage, None)))
            .on(asks("us-east-2", None), json_response(envelope(
                bulk_offer_items(rec["bulk"]) + [linux_p3(rec["bulk"])], None)))
            .on(lambda r: r.url.host == "spot-bid-advisor.s3.amazonaws.com",
                json_response(rec["advisor"])))


def test_refresh_pages_regions_and_filters(rec: dict[str, Any], embedded_catalog: Catalog) -> None:
    server = pricing_server(rec)
    pages: list[tuple[int, int]] = []
    result = refresh_aws(Fetcher(server.client(), sleep=lambda s: None), ["us-east-1", "us-east-2"],
                         known_shapes(embedded_catalog, "aws"), lambda n, k: pages.append((n, k)))
    assert pages == [(1, 3), (2, 1), (1, 4)]
    assert [(o.region, o.instance_type, o.price, o.spot_price, o.interruption_bucket)
            for o in result.offers] == [
        ("us-east-1", "m5.large", Decimal("0.096"), Decimal("0.03264"), 3),
        ("us-east-2", "p3.8xlarge", Decimal("12.24"), Decimal("2.448"), 4),
    ]
    first = json.loads(server.requests[0].content)
    assert first["ServiceCode"] == "AmazonEC2"
    assert {f["Field"]: f["Value"] for f in first["Filters"]} == {
        "capacitystatus": "Used", "licenseModel": "No License required",
        "operatingSystem": "Linux", "preInstalledSw": "NA", "regionCode": "us-east-1",
        "tenancy": "Shared"}
    assert server.requests[0].headers["x-amz-target"] == "AWSPriceListService.GetProducts"
    assert "GetProducts" in result.source


def test_sigv4_matches_the_aws_test_suite() -> None:
    headers = {"host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"}
    sig = authorization("GET", "/", "", headers, b"", EXAMPLE, "us-east-1", "service",
                        "20150830T123600Z")
    assert sig == ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                   "SignedHeaders=host;x-amz-date, "
                   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    query = authorization("GET", "/", "Param2=value2&Param1=value1", headers, b"", EXAMPLE,
                          "us-east-1", "service", "20150830T123600Z")
    assert query.endswith("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    post = authorization("POST", "/", "", headers, b"", EXAMPLE, "us-east-1", "service",
                         "20150830T123600Z")
    assert post.endswith("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")


def test_cli_refresh_aws_signs_pricing_calls_and_writes_a_snapshot(
        rec: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = pricing_server(rec)
    use_server(monkeypatch, server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-1")
    out = tmp_path / "aws"
    result = run_cli("catalog", "refresh", "aws", "--regions", "us-east-2,us-east-1", "--out", str(out))
    assert result.code == 0, result.err
    assert f"planner --catalog {out} plan" in result.out
    catalog = read_snapshot(out)
    assert catalog.meta.date == date.today().isoformat()
    assert sorted(o.instance_type for o in catalog) == ["m5.large", "p3.8xlarge"]
    posts = [r for r in server.requests if r.method == "POST"]
    assert all(r.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
               and "/us-east-1/pricing/aws4_request" in r.headers["authorization"]
               and r.headers["x-amz-security-token"] == "token-1" for r in posts)
    [advisor] = [r for r in server.requests if r.method == "GET"]
    assert "authorization" not in advisor.headers


def test_cli_refresh_aws_without_credentials_fails_before_any_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server()
    use_server(monkeypatch, server)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    result = run_cli("catalog", "refresh", "aws", "--out", str(tmp_path / "aws"))
    assert result.code == 4
    assert result.err.count("\n") == 1 and "AWS_ACCESS_KEY_ID" in result.err
    assert server.requests == [] and not (tmp_path / "aws").exists()
