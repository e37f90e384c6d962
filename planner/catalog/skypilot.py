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
  up to a vCPU and a memory limit per GPU count (GCP's documented table, below).

Architecture: AWS's ``Arch`` column where present, else read from the type's name
(:func:`planner.catalog.machines.arch_of`). TPU rows are left out: the planner
places GPU workloads. Rows without an
on-demand ``Price`` are not offered and are skipped.

Speed: the three clouds are ~90k rows and must load in well under a second,
so rows are read with ``csv.reader`` and column indices (not ``DictReader``),
and each distinct price / number / GPU-info string is parsed and checked once
per file (:class:`_Parser`); a catalog repeats the same strings many times.
Every bad value still fails with the file, line and column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType

from planner.catalog.machines import arch_of, usable_vcpus
from planner.catalog.model import Offer
from planner.catalog.quotafamily import on_demand_family
from planner.errors import CatalogError

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
# Maximum memory (GB) of an N1 host per (GPU, count), the same table.
GCP_N1_MAX_MEMORY: dict[str, dict[int, float]] = {
    "T4": {1: 312, 2: 312, 4: 624},
    "V100": {1: 78, 2: 156, 4: 312, 8: 624},
    "P100": {1: 104, 2: 208, 4: 624},
    "P4": {1: 156, 2: 312, 4: 624},
}
N1_HOST = re.compile(r"^n1-(standard|highmem|highcpu)-\d+$")


class _Table:
    """One catalog CSV, open for reading: header checked, rows as lists of strings.

    Use as a context manager; ``error()`` builds a CatalogError at the current line.
    """

    def __init__(self, path: Path, required: Iterable[str]) -> None:
        self.path = path
        self.file = str(path)
        try:
            self._handle = path.open(newline="", encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"cannot read: {exc.strerror}", file=self.file) from None
        self._reader = csv.reader(self._handle)
        try:
            header = next(self._reader, None)
        except UnicodeDecodeError:
            self._handle.close()
            raise _not_utf8(path) from None
        except csv.Error as exc:
            self._handle.close()
            raise CatalogError(f"malformed CSV header: {exc}", file=self.file, line=1) from None
        if not header:
            self._handle.close()
            raise CatalogError("empty file, expected a CSV header row", file=self.file, line=1)
        self.columns = {name.strip(): i for i, name in enumerate(header)}
        self.width = len(header)
        missing = [c for c in required if c not in self.columns]
        if missing:
            self._handle.close()
            raise CatalogError(f"missing column {missing[0]!r} in the header", file=self.file,
                               line=1, field=missing[0])

    def __enter__(self) -> _Table:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._handle.close()

    def col(self, name: str) -> int:
        """Index of column ``name`` (present: checked in ``__init__``)."""
        return self.columns[name]

    def rows(self) -> Iterator[list[str]]:
        """Data rows; blank lines are skipped, a row of the wrong width is an error."""
        width = self.width
        try:
            for row in self._reader:
                if len(row) != width:
                    if not row:
                        continue
                    raise self.error(f"row has {len(row)} fields, the header has {width}")
                yield row
        except UnicodeDecodeError:
            raise _not_utf8(self.path) from None
        except csv.Error as exc:
            raise self.error(f"malformed CSV: {exc}") from None

    def error(self, message: str, column: str | None = None) -> CatalogError:
        return CatalogError(message, file=self.file, line=self._reader.line_num, field=column)


def _not_utf8(path: Path) -> CatalogError:
    """Decoding runs ahead of the CSV reader in blocks: find the bad byte's line in the bytes."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return CatalogError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=str(path),
                            line=line)
    return CatalogError("not UTF-8 text", file=str(path))


class _Parser:
    """Parse-once caches for one table: prices (Decimal, USD/h), numbers, GPU memory (GiB)."""

    def __init__(self, table: _Table) -> None:
        self.table = table
        self._money: dict[str, Decimal | None] = {}
        self._numbers: dict[str, float] = {}
        self._gpu_memory: dict[str, float | None] = {}

    def money(self, text: str, column: str) -> Decimal | None:
        """A price in USD/h; empty -> None (not offered at that capacity)."""
        try:
            return self._money[text]
        except KeyError:
            value = self._money[text] = _money(text, self.table, column)
            return value

    def number(self, text: str, column: str) -> float:
        """A count, vCPUs or GiB; empty -> 0."""
        try:
            return self._numbers[text]
        except KeyError:
            value = self._numbers[text] = _number(text, self.table, column)
            return value

    def gpu_memory(self, info: str) -> float | None:
        try:
            return self._gpu_memory[info]
        except KeyError:
            value = self._gpu_memory[info] = _gpu_memory(info)
            return value


MAX_PRICE = Decimal(1_000_000)  # USD/h; anything above is a broken row, not a real offer
MAX_NUMBER = 1e7  # vCPUs, GiB, accelerator counts


def _money(text: str, table: _Table, column: str) -> Decimal | None:
    value = text.strip()
    if not value:
        return None
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise table.error(f"not a number (got {text!r})", column) from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise table.error(f"must be a price in USD/h from 0 to {MAX_PRICE:,} (got {text!r})", column)
    return price


def _number(text: str, table: _Table, column: str) -> float:
    value = text.strip()
    if not value:
        return 0.0
    try:
        number = float(value)
    except ValueError:
        raise table.error(f"not a number (got {text!r})", column) from None
    if not 0 <= number <= MAX_NUMBER:  # also rejects NaN
        raise table.error(f"must be a number from 0 to {MAX_NUMBER:,.0f} (got {text!r})", column)
    return number


def _gpu_memory(info: str) -> float | None:
    match = re.search(r"'SizeInMiB':\s*(\d+)", info)
    return round(int(match.group(1)) / 1024, 3) if match else None


def read_whole_instances(path: Path, cloud: str,
                         buckets: dict[tuple[str, str], int] | None = None) -> list[Offer]:
    """AWS / Azure ``vms.csv``: one offer per row, GPU included in the price."""
    offers: list[Offer] = []
    buckets = buckets or {}
    with _Table(path, REQUIRED[cloud]) as table:
        parse = _Parser(table)
        c = table.col
        i_type, i_acc, i_count = c("InstanceType"), c("AcceleratorName"), c("AcceleratorCount")
        i_cpu, i_mem, i_price, i_spot = c("vCPUs"), c("MemoryGiB"), c("Price"), c("SpotPrice")
        i_region = c("Region")
        i_zone = table.columns.get("AvailabilityZone")
        i_info = table.columns.get("GpuInfo")
        i_arch = table.columns.get("Arch")
        families: dict[tuple[str, str | None], str] = {}
        arches: dict[str, str] = {}
        for row in table.rows():
            acc = row[i_acc].strip() or None
            count = parse.number(row[i_count], "AcceleratorCount") if acc else 0.0
            itype = row[i_type].strip()
            if not itype:
                raise table.error("must not be empty", "InstanceType")
            price = parse.money(row[i_price], "Price")
            if price is None:
                continue  # listed without an on-demand price: not offered
            region = row[i_region].strip()
            family = families.get((itype, acc))
            if family is None:
                family = families[(itype, acc)] = on_demand_family(cloud, itype, acc)
            offers.append(Offer(
                cloud, region, (row[i_zone].strip() or None) if i_zone is not None else None,
                itype, acc, count,
                parse.gpu_memory(row[i_info]) if acc and i_info is not None else None,
                usable_vcpus(cloud, itype, parse.number(row[i_cpu], "vCPUs")),
                parse.number(row[i_mem], "MemoryGiB"),
                price, parse.money(row[i_spot], "SpotPrice"), family,
                buckets.get((itype, region)),
                (row[i_arch].strip() if i_arch is not None else "") or arches.setdefault(
                    itype, arch_of(cloud, itype)),
            ))
    return offers


def read_aws_buckets(path: Path) -> dict[tuple[str, str], int]:
    """(instance type, region) -> spot-advisor interruption bucket 0..4."""
    if not path.exists():
        return {}
    out = {}
    with _Table(path, ("InstanceType", "Region", "AdvisorInterruptionBucket")) as table:
        i_type, i_region = table.col("InstanceType"), table.col("Region")
        i_bucket = table.col("AdvisorInterruptionBucket")
        for row in table.rows():
            bucket = row[i_bucket].strip()
            if bucket.isdigit():
                out[(row[i_type], row[i_region])] = int(bucket)
    return out


GcpVm = tuple[str, float, float, Decimal, Decimal | None]  # region, vCPUs, GiB, price, spot


def read_gcp(path: Path) -> list[Offer]:
    """GCP ``vms.csv``: CPU VMs as they are, GPU hosts joined to their GPU rows per zone."""
    vms, gpus = _read_gcp_rows(path)
    hosted = _gcp_hosts(vms)
    n1_by_zone: dict[str, list[tuple[str, float, float]]] = {}
    for (itype, zone), vm in vms.items():
        if N1_HOST.match(itype):
            n1_by_zone.setdefault(zone, []).append((itype, vm[1], vm[2]))
    offers: list[Offer] = []
    cpu_family = on_demand_family("gcp", "", None)
    for (itype, zone), (region, vcpus, mem, price, spot) in vms.items():
        if itype not in hosted:
            offers.append(Offer("gcp", region, zone, itype, None, 0.0, None, vcpus, mem,
                                price, spot, cpu_family, None, arch_of("gcp", itype)))
    for (acc, count, zone), (region, gprice, gspot, gmem) in gpus.items():
        family = on_demand_family("gcp", "", acc)
        for host in _hosts_for(acc, count, zone, vms, n1_by_zone):
            _, vcpus, mem, vprice, vspot = vms[(host, zone)]
            both_spot = vspot + gspot if vspot is not None and gspot is not None else None
            offers.append(Offer("gcp", region, zone, host, acc, float(count), gmem, vcpus, mem,
                                vprice + gprice, both_spot, family, None, arch_of("gcp", host)))
    return offers


def _read_gcp_rows(path: Path) -> tuple[
    dict[tuple[str, str], GcpVm],
    dict[tuple[str, int, str], tuple[str, Decimal, Decimal | None, float | None]],
]:
    """VM rows by (type, zone) and GPU rows by (GPU, count, zone); TPU rows are dropped."""
    vms: dict[tuple[str, str], GcpVm] = {}
    gpus: dict[tuple[str, int, str], tuple[str, Decimal, Decimal | None, float | None]] = {}
    with _Table(path, REQUIRED["gcp"]) as table:
        parse = _Parser(table)
        c = table.col
        i_type, i_acc, i_count = c("InstanceType"), c("AcceleratorName"), c("AcceleratorCount")
        i_cpu, i_mem, i_price, i_spot = c("vCPUs"), c("MemoryGiB"), c("Price"), c("SpotPrice")
        i_region, i_zone = c("Region"), c("AvailabilityZone")
        i_info = table.columns.get("GpuInfo")
        for row in table.rows():
            price = parse.money(row[i_price], "Price")
            if price is None:
                continue
            spot = parse.money(row[i_spot], "SpotPrice")
            zone, region = row[i_zone].strip(), row[i_region].strip()
            itype, acc = row[i_type].strip(), row[i_acc].strip()
            if itype and not acc:
                vms[(itype, zone)] = (region, parse.number(row[i_cpu], "vCPUs"),
                                      parse.number(row[i_mem], "MemoryGiB"), price, spot)
            elif acc and not itype.startswith("tpu") and not acc.startswith("tpu"):
                count = parse.number(row[i_count], "AcceleratorCount")
                gmem = parse.gpu_memory(row[i_info]) if i_info is not None else None
                gpus[(acc, int(count), zone)] = (region, price, spot, gmem)
    return vms, gpus


def _gcp_hosts(vms: Mapping[tuple[str, str], object]) -> set[str]:
    """VM types that exist only with GPUs attached (a2, a3, a4, g2)."""
    fixed = {h for counts in GCP_FIXED_HOSTS.values() for hosts in counts.values() for h in hosts}
    return {itype for itype, _ in vms if itype in fixed}


def _hosts_for(acc: str, count: int, zone: str, vms: dict[tuple[str, str], GcpVm],
               n1_by_zone: dict[str, list[tuple[str, float, float]]]) -> Iterable[str]:
    if acc in GCP_FIXED_HOSTS:
        return [h for h in GCP_FIXED_HOSTS[acc].get(count, ()) if (h, zone) in vms]
    limit = GCP_N1_MAX_VCPUS.get(acc, {}).get(count)
    if limit is None:
        return []
    memory = GCP_N1_MAX_MEMORY.get(acc, {}).get(count, float("inf"))
    return sorted(itype for itype, vcpus, mem in n1_by_zone.get(zone, [])
                  if vcpus <= limit and mem <= memory)


def read_skypilot_dir(directory: Path, clouds: Iterable[str] = CLOUDS) -> list[Offer]:
    """All offers of the clouds present under ``directory`` (schema v8)."""
    if not directory.exists():
        raise CatalogError("catalog directory not found", file=str(directory))
    if not directory.is_dir():
        raise CatalogError("not a directory (expected a SkyPilot v8 catalog)", file=str(directory))
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
