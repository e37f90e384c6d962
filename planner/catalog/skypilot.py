"""Read SkyPilot catalog directories (schema v8) into offers.

Layout: ``<dir>/{aws,gcp,azure}/vms.csv`` (a cloud whose file is absent is
skipped), optional ``<dir>/aws/spot_estimates.csv`` for AWS spot-advisor
interruption buckets.

AWS and Azure rows are whole instances: the GPU is in the price. GCP bills
the host VM and its GPUs as separate rows (GPU rows have an empty
``InstanceType``). The join rule, the one GCP bills by:

    price(host VM + N x GPU in zone Z) = VM row price in Z + (GPU, N) row price in Z

and the same for spot. Which hosts carry which GPU is fixed by GCP:

* A100 -> ``a2-highgpu-{N}g`` (N = 1, 2, 4, 8) and ``a2-megagpu-16g``;
  A100-80GB -> ``a2-ultragpu-{N}g``; H100 -> ``a3-highgpu-{N}g``;
  H100-MEGA -> ``a3-megagpu-8g``; H200 -> ``a3-ultragpu-8g``;
  B200 -> ``a4-highgpu-8g``;
  L4 -> ``g2-standard-{4,8,12,16,32}`` (1), ``-24`` (2), ``-48`` (4), ``-96`` (8);
* T4, V100, P100 and P4 attach to N1 hosts (``n1-standard|highmem|highcpu-K``)
  up to a vCPU limit per GPU count (GCP's documented table, below).

TPU rows are left out: the planner places GPU workloads.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from planner.catalog.model import Offer
from planner.errors import CatalogError
from planner.quotafamily import on_demand_family

CLOUDS = ("aws", "gcp", "azure")

REQUIRED = {
    "aws": ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB",
            "Price", "SpotPrice", "Region"),
    "gcp": ("InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount",
            "Region", "AvailabilityZone", "Price", "SpotPrice"),
    "azure": ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB",
              "Price", "SpotPrice", "Region"),
}

GCP_FIXED_HOSTS: dict[str, dict[int, tuple[str, ...]]] = {
    "A100": {1: ("a2-highgpu-1g",), 2: ("a2-highgpu-2g",), 4: ("a2-highgpu-4g",),
             8: ("a2-highgpu-8g",), 16: ("a2-megagpu-16g",)},
    "A100-80GB": {1: ("a2-ultragpu-1g",), 2: ("a2-ultragpu-2g",), 4: ("a2-ultragpu-4g",),
                  8: ("a2-ultragpu-8g",)},
    "H100": {1: ("a3-highgpu-1g",), 2: ("a3-highgpu-2g",), 4: ("a3-highgpu-4g",),
             8: ("a3-highgpu-8g",)},
    "H100-MEGA": {8: ("a3-megagpu-8g",)},
    "H200": {8: ("a3-ultragpu-8g",)},
    "B200": {8: ("a4-highgpu-8g",)},
    "L4": {1: ("g2-standard-4", "g2-standard-8", "g2-standard-12", "g2-standard-16",
               "g2-standard-32"),
           2: ("g2-standard-24",), 4: ("g2-standard-48",), 8: ("g2-standard-96",)},
}
# Maximum vCPUs of an N1 host per (GPU, count), from GCP's GPU platform table.
GCP_N1_MAX_VCPUS: dict[str, dict[int, int]] = {
    "T4": {1: 48, 2: 48, 4: 96},
    "V100": {1: 12, 2: 24, 4: 48, 8: 96},
    "P100": {1: 16, 2: 32, 4: 96},
    "P4": {1: 24, 2: 48, 4: 96},
}
N1_HOST = re.compile(r"^n1-(standard|highmem|highcpu)-\d+$")


def _rows(path: Path, cloud: str) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=str(path)) from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED[cloud] if c not in (reader.fieldnames or ())]
        if missing:
            raise CatalogError(f"missing column {missing[0]!r}", file=str(path), line=1)
        try:
            for row in reader:
                if None in row:
                    raise CatalogError(
                        "row has more fields than the header", file=str(path),
                        line=reader.line_num,
                    )
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CatalogError(f"malformed CSV: {exc}", file=str(path), line=reader.line_num) \
                from None


def _money(value: str, path: Path, line: int, column: str, optional: bool) -> Decimal | None:
    value = value.strip()
    if not value:
        if optional:
            return None
        raise CatalogError("empty price", file=str(path), line=line, field=column)
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise CatalogError(f"not a number: {value!r}", file=str(path), line=line,
                           field=column) from None
    if not price.is_finite() or price < 0:
        raise CatalogError(f"not a valid price: {value!r}", file=str(path), line=line,
                           field=column)
    return price


def _number(value: str, path: Path, line: int, column: str) -> float:
    try:
        number = float(value) if value.strip() else 0.0
    except ValueError:
        raise CatalogError(f"not a number: {value!r}", file=str(path), line=line,
                           field=column) from None
    if number != number or number < 0:
        raise CatalogError(f"not a valid number: {value!r}", file=str(path), line=line,
                           field=column)
    return number


def _gpu_memory(info: str) -> float | None:
    match = re.search(r"'SizeInMiB':\s*(\d+)", info or "")
    return round(int(match.group(1)) / 1024, 3) if match else None


def read_whole_instances(path: Path, cloud: str,
                         buckets: dict[tuple[str, str], int] | None = None) -> list[Offer]:
    """AWS / Azure ``vms.csv``: one offer per row, GPU included in the price."""
    offers = []
    for line, row in _rows(path, cloud):
        acc = row["AcceleratorName"].strip() or None
        count = _number(row["AcceleratorCount"], path, line, "AcceleratorCount") if acc else 0.0
        itype = row["InstanceType"].strip()
        if not itype:
            raise CatalogError("empty InstanceType", file=str(path), line=line,
                               field="InstanceType")
        price = _money(row["Price"], path, line, "Price", optional=True)
        if price is None:
            continue  # listed without an on-demand price: not offered
        region = row["Region"].strip()
        offers.append(Offer(
            cloud=cloud, region=region, zone=(row.get("AvailabilityZone") or "").strip() or None,
            instance_type=itype, accelerator=acc, accelerator_count=count,
            accelerator_memory_gib=_gpu_memory(row.get("GpuInfo", "")) if acc else None,
            vcpus=_number(row["vCPUs"], path, line, "vCPUs"),
            memory_gib=_number(row["MemoryGiB"], path, line, "MemoryGiB"),
            price=price, spot_price=_money(row["SpotPrice"], path, line, "SpotPrice", True),
            quota_family=on_demand_family(cloud, itype, acc),
            interruption_bucket=(buckets or {}).get((itype, region)),
            arch=(row.get("Arch") or "x86_64").strip() or "x86_64",
        ))
    return offers


def read_aws_buckets(path: Path) -> dict[tuple[str, str], int]:
    """(instance type, region) -> spot-advisor interruption bucket 0..4."""
    if not path.exists():
        return {}
    out = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            bucket = (row.get("AdvisorInterruptionBucket") or "").strip()
            if bucket.isdigit():
                out[(row["InstanceType"], row["Region"])] = int(bucket)
    return out


def read_gcp(path: Path) -> list[Offer]:
    """GCP ``vms.csv``: CPU VMs as they are, GPU hosts joined to their GPU rows per zone."""
    vms: dict[tuple[str, str], tuple[str, float, float, Decimal, Decimal | None]] = {}
    gpus: dict[tuple[str, int, str], tuple[str, Decimal, Decimal | None, float | None]] = {}
    offers: list[Offer] = []
    for line, row in _rows(path, "gcp"):
        zone, region = row["AvailabilityZone"].strip(), row["Region"].strip()
        price = _money(row["Price"], path, line, "Price", optional=True)
        spot = _money(row["SpotPrice"], path, line, "SpotPrice", optional=True)
        itype, acc = row["InstanceType"].strip(), row["AcceleratorName"].strip()
        if price is None:
            continue
        if itype and not acc:
            vcpus = _number(row["vCPUs"], path, line, "vCPUs")
            mem = _number(row["MemoryGiB"], path, line, "MemoryGiB")
            vms[(itype, zone)] = (region, vcpus, mem, price, spot)
        elif acc and not itype.startswith("tpu") and not acc.startswith("tpu"):
            count = _number(row["AcceleratorCount"], path, line, "AcceleratorCount")
            gpus[(acc, int(count), zone)] = (region, price, spot, _gpu_memory(row["GpuInfo"]))
    hosted = _gcp_hosts(vms)
    n1_by_zone: dict[str, list[tuple[str, float]]] = {}
    for (itype, zone), vm in vms.items():
        if N1_HOST.match(itype):
            n1_by_zone.setdefault(zone, []).append((itype, vm[1]))
    for (itype, zone), (region, vcpus, mem, price, spot) in vms.items():
        if itype not in hosted:
            offers.append(Offer("gcp", region, zone, itype, None, 0.0, None, vcpus, mem,
                                price, spot, on_demand_family("gcp", itype, None)))
    for (acc, count, zone), (region, gprice, gspot, gmem) in gpus.items():
        for host in _hosts_for(acc, count, zone, vms, n1_by_zone):
            _, vcpus, mem, vprice, vspot = vms[(host, zone)]
            both_spot = vspot + gspot if vspot is not None and gspot is not None else None
            offers.append(Offer("gcp", region, zone, host, acc, float(count), gmem, vcpus, mem,
                                vprice + gprice, both_spot, on_demand_family("gcp", host, acc)))
    return offers


def _gcp_hosts(vms: Mapping[tuple[str, str], object]) -> set[str]:
    """VM types that exist only with GPUs attached (a2, a3, a4, g2)."""
    fixed = {h for counts in GCP_FIXED_HOSTS.values() for hosts in counts.values() for h in hosts}
    return {itype for itype, _ in vms if itype in fixed}


def _hosts_for(acc: str, count: int, zone: str,
               vms: dict[tuple[str, str], tuple[str, float, float, Decimal, Decimal | None]],
               n1_by_zone: dict[str, list[tuple[str, float]]]) -> Iterable[str]:
    if acc in GCP_FIXED_HOSTS:
        return [h for h in GCP_FIXED_HOSTS[acc].get(count, ()) if (h, zone) in vms]
    limit = GCP_N1_MAX_VCPUS.get(acc, {}).get(count)
    if limit is None:
        return []
    return sorted(itype for itype, vcpus in n1_by_zone.get(zone, []) if vcpus <= limit)


def read_skypilot_dir(directory: Path, clouds: Iterable[str] = CLOUDS) -> list[Offer]:
    """All offers of the clouds present under ``directory`` (schema v8)."""
    if not directory.is_dir():
        raise CatalogError("catalog directory not found", file=str(directory))
    offers: list[Offer] = []
    found = False
    for cloud in clouds:
        path = directory / cloud / "vms.csv"
        if not path.exists():
            continue
        found = True
        if cloud == "gcp":
            offers.extend(read_gcp(path))
        else:
            buckets = read_aws_buckets(directory / cloud / "spot_estimates.csv") \
                if cloud == "aws" else None
            offers.extend(read_whole_instances(path, cloud, buckets))
    if not found:
        raise CatalogError("no <cloud>/vms.csv found (expected a SkyPilot v8 catalog)",
                           file=str(directory))
    return offers
