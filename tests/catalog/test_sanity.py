"""Prices too good to be true (planner/catalog/sanity.py) and `planner catalog check`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from planner.catalog.sanity import catalog_flags, price_flags
from tests.cli import run_cli
from tests.synthetic import offer


def _type_in(regions: dict[str, tuple[str, str | None]]) -> list:  # type: ignore[type-arg]
    return [offer("azure", region, "Standard_F16ams_v6", None, 0, price, spot, vcpus=16,
                  mem=128) for region, (price, spot) in regions.items()]


def test_a_price_under_forty_percent_of_the_median_is_flagged() -> None:
    offers = _type_in({"eastus": ("1.0", "0.30"), "westus": ("1.2", "0.36"),
                       "northeurope": ("1.1", "0.33"), "nz": ("0.39", "0.30")})
    flags = price_flags(offers)
    assert {(f.offer.region, f.spot, f.reason) for f in flags.values()} == {
        ("nz", False, "below-median")}
    (flag,) = flags.values()
    assert flag.median == Decimal("1.0") and "under 40% of the median $1.0/h" in flag.detail


def test_spot_is_flagged_under_twenty_percent_and_above_on_demand() -> None:
    offers = _type_in({"eastus": ("1.0", "0.30"), "westus": ("1.0", "0.05"),
                       "northeurope": ("1.0", "0.32"), "nz": ("1.0", "1.5")})
    flags = {(f.offer.region, f.spot): f.reason for f in price_flags(offers).values()}
    assert flags == {("westus", True): "below-median", ("nz", True): "spot-above-on-demand"}


def test_no_median_from_fewer_than_three_regions_and_zero_is_always_flagged() -> None:
    offers = _type_in({"eastus": ("1.0", None), "westus": ("0.1", None)})
    assert price_flags(offers) == {}
    zero = _type_in({"eastus": ("0", None)})
    assert [f.reason for f in price_flags(zero).values()] == ["zero-price"]


def test_catalog_check_lists_the_broken_azure_price(skypilot_dir: Path) -> None:
    r = run_cli("--catalog", str(skypilot_dir), "catalog", "check", "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    found = {(f["offer"], f["capacity"]) for f in doc["flagged"]}
    assert ("azure/newzealandnorth/-/Standard_F16ams_v6", "on-demand") in found
    from planner.catalog.load import load_catalog

    assert len(doc["flagged"]) == len(catalog_flags(load_catalog(skypilot_dir)))


def test_import_says_how_many_prices_it_flagged(skypilot_dir: Path, tmp_path: Path) -> None:
    r = run_cli("catalog", "import", "--from-skypilot", str(skypilot_dir), "--out",
                str(tmp_path / "snap"), "--full")
    assert r.code == 0, r.err
    flagged = r.out.splitlines()[-1]
    assert flagged.startswith("catalog check: ") and "flagged" in flagged
    assert int(flagged.split()[2]) > 0


def test_the_embedded_catalog_has_no_flagged_price() -> None:
    r = run_cli("catalog", "check")
    assert r.code == 0 and "0 flagged prices" in r.out
