"""Acceptance: `planner catalog gpus --format json` equals prices computed from the CSVs here.

The expected values are computed in this file, with ``csv`` and nothing from
``planner.catalog``: AWS and Azure rows are whole instances; a GCP GPU host
costs its VM row plus the GPU row of the same zone (the billing rule in
planner/catalog/skypilot.py), with the host tables written out again below
from GCP's machine-type documentation. Rows without an on-demand price are
not offered; spot is the cheapest row that has both prices.
"""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli import run_cli

WANTED = ("A100", "A100-80GB", "H100", "L4", "T4", "V100")
Key = tuple[str, float, str]  # accelerator, count, cloud
Best = dict[Key, tuple[Decimal | None, Decimal | None]]  # cheapest on-demand, spot

# GCP: fixed hosts (name pattern -> GPUs), and N1 vCPU limits per GPU count.
GCP_HOSTS = {
    "A100": r"a2-highgpu-(\d+)g|a2-megagpu-(16)g",
    "A100-80GB": r"a2-ultragpu-(\d+)g",
    "H100": r"a3-highgpu-(\d+)g",
}
G2_L4 = {"g2-standard-4": 1, "g2-standard-8": 1, "g2-standard-12": 1, "g2-standard-16": 1,
         "g2-standard-32": 1, "g2-standard-24": 2, "g2-standard-48": 4, "g2-standard-96": 8}
N1_LIMIT = {"T4": {1: 48, 2: 48, 4: 96}, "V100": {1: 12, 2: 24, 4: 48, 8: 96}}


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def _keep(best: Best, key: Key, price: Decimal | None, spot: Decimal | None) -> None:
    if price is None:
        return
    old_price, old_spot = best.get(key, (None, None))
    best[key] = (price if old_price is None else min(old_price, price),
                 spot if old_spot is None else (old_spot if spot is None else min(old_spot, spot)))


def whole_instance_prices(path: Path, cloud: str, best: Best) -> None:
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["AcceleratorName"] in WANTED:
                key = (row["AcceleratorName"], float(row["AcceleratorCount"]), cloud)
                _keep(best, key, _dec(row["Price"]), _dec(row["SpotPrice"]))


def gpus_of_gcp_host(acc: str, vm: str, vcpus: float, count: int) -> bool:
    if acc in GCP_HOSTS:
        match = re.fullmatch(GCP_HOSTS[acc], vm)
        return match is not None and int(next(g for g in match.groups() if g)) == count
    if acc == "L4":
        return G2_L4.get(vm) == count
    limit = N1_LIMIT[acc].get(count)
    return limit is not None and re.fullmatch(r"n1-(standard|highmem|highcpu)-\d+", vm) is not None \
        and vcpus <= limit


def gcp_prices(path: Path, best: Best) -> None:
    vms: dict[str, list[tuple[str, float, Decimal | None, Decimal | None]]] = {}
    gpus = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["InstanceType"] and not row["AcceleratorName"]:
                vms.setdefault(row["AvailabilityZone"], []).append(
                    (row["InstanceType"], float(row["vCPUs"]), _dec(row["Price"]),
                     _dec(row["SpotPrice"])))
            elif row["AcceleratorName"] in WANTED:
                gpus.append(row)
    for g in gpus:
        acc, count = g["AcceleratorName"], int(float(g["AcceleratorCount"]))
        for vm, vcpus, price, spot in vms.get(g["AvailabilityZone"], []):
            if not gpus_of_gcp_host(acc, vm, vcpus, count):
                continue
            gprice, gspot = _dec(g["Price"]), _dec(g["SpotPrice"])
            total = price + gprice if price is not None and gprice is not None else None
            total_spot = spot + gspot if spot is not None and gspot is not None else None
            _keep(best, (acc, float(count), "gcp"), total, total_spot)


def expected_from_csvs(v8: Path) -> Best:
    best: Best = {}
    whole_instance_prices(v8 / "aws" / "vms.csv", "aws", best)
    whole_instance_prices(v8 / "azure" / "vms.csv", "azure", best)
    gcp_prices(v8 / "gcp" / "vms.csv", best)
    return best


def listed(args: tuple[str, ...]) -> Best:
    result = run_cli(*args, "catalog", "gpus", "--format", "json")
    assert (result.code, result.err) == (0, "")
    rows = json.loads(result.out)["gpus"]
    return {
        (r["accelerator"], float(r["count"]), r["cloud"]): (
            Decimal(r["on_demand"]) if r["on_demand"] is not None else None,
            Decimal(r["spot"]) if r["spot"] is not None else None)
        for r in rows if r["accelerator"] in WANTED
    }


@pytest.mark.parametrize("which", ["shared-v8", "embedded"])
def test_catalog_gpus_json_equals_the_csvs(which: str, skypilot_dir: Path) -> None:
    expected = expected_from_csvs(skypilot_dir)
    args = ("--catalog", str(skypilot_dir)) if which == "shared-v8" else ()
    got = listed(args)
    assert {k[0] for k in got} == set(WANTED)
    assert {k[2] for k in got if k[0] in ("A100", "H100", "T4")} == {"aws", "azure", "gcp"}
    assert sorted(got) == sorted(expected)
    for key in sorted(expected):
        assert got[key] == expected[key], key


def test_a2_highgpu_8g_price_worked_by_hand(skypilot_dir: Path) -> None:
    """The cheapest GCP A100:8 is a2-highgpu-8g in europe-west4-a: VM row 6.51251 plus the
    A100:8 row 12.90919 (figures read off the CSV; SkyPilot reports the same 19.42170)."""
    result = run_cli("--catalog", str(skypilot_dir), "catalog", "gpus", "--cloud", "gcp",
                     "--format", "json")
    [row] = [r for r in json.loads(result.out)["gpus"] if (r["accelerator"], r["count"]) == ("A100", 8)]
    assert Decimal(row["on_demand"]) == Decimal("6.51251") + Decimal("12.90919")
    assert (row["on_demand_instance"], row["on_demand_where"]) == ("a2-highgpu-8g", "europe-west4-a")
    assert expected_from_csvs(skypilot_dir)[("A100", 8.0, "gcp")][0] == Decimal(row["on_demand"])
