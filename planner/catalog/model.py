"""In-memory catalog of offers.

An :class:`Offer` is one instance type in one place: cloud, region, zone
(``None`` where the catalog has no zones), its shape (vCPUs, GiB, accelerator
name/count/memory) and its list prices in USD per hour (on-demand, and spot
where offered). Offers are plain slotted dataclasses, not pydantic models:
the full three-cloud catalog is ~100k of them and must load in well under a
second.

:class:`Catalog` indexes offers by accelerator name (``None`` for CPU-only),
so candidate generation touches only the offers of the accelerators a
workload asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

CATALOG_FORMAT = "gpuplan-catalog/1"


@dataclass(frozen=True, slots=True)
class Offer:
    """One instance type in one place, with its hourly list prices (USD)."""

    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None
    accelerator_count: float
    accelerator_memory_gib: float | None
    vcpus: float
    memory_gib: float
    price: Decimal
    spot_price: Decimal | None
    quota_family: str
    interruption_bucket: int | None = None
    arch: str = "x86_64"

    @property
    def key(self) -> str:
        """Stable id of this offer: ``cloud/region/zone/instance[+ACC:N]``."""
        place = f"{self.cloud}/{self.region}/{self.zone or '-'}"
        acc = f"+{self.accelerator}:{_fmt_count(self.accelerator_count)}" if self.accelerator else ""
        return f"{place}/{self.instance_type}{acc}"

    @property
    def gpus(self) -> float:
        return self.accelerator_count if self.accelerator else 0.0


def _fmt_count(count: float) -> str:
    return str(int(count)) if count == int(count) else f"{count:g}"


class CatalogMeta(BaseModel):
    """Where a catalog came from and when its prices were taken."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = CATALOG_FORMAT
    source: str
    date: str
    clouds: tuple[str, ...] = ()
    rows: int = 0
    notes: tuple[str, ...] = ()


@dataclass
class Catalog:
    """All offers, indexed by canonical accelerator name (``None`` = CPU-only)."""

    meta: CatalogMeta
    offers: tuple[Offer, ...]
    _by_accelerator: dict[str | None, list[Offer]] = field(default_factory=dict, repr=False)
    _names: dict[str, str] = field(default_factory=dict, repr=False)
    _regions: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _zones: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for offer in self.offers:
            self._by_accelerator.setdefault(offer.accelerator, []).append(offer)
            self._regions.setdefault(offer.cloud, set()).add(offer.region)
            if offer.zone:
                self._zones[offer.zone] = offer.region
        self._names = {
            name.lower(): name for name in self._by_accelerator if name is not None
        }

    def __len__(self) -> int:
        return len(self.offers)

    def __iter__(self) -> Iterator[Offer]:
        return iter(self.offers)

    @property
    def accelerators(self) -> list[str]:
        return sorted(self._names.values())

    def canonical_accelerator(self, name: str) -> str | None:
        """The catalog's spelling of ``name`` (case-insensitive), or None."""
        return self._names.get(name.lower())

    def offers_for(self, accelerator: str | None) -> list[Offer]:
        """Offers carrying ``accelerator`` (canonical name), or CPU-only offers for None."""
        return self._by_accelerator.get(accelerator, [])

    def regions(self, cloud: str | None = None) -> set[str]:
        if cloud is not None:
            return set(self._regions.get(cloud, set()))
        return set().union(*self._regions.values()) if self._regions else set()

    def region_of_zone(self, zone: str) -> str | None:
        return self._zones.get(zone)

    @property
    def clouds(self) -> list[str]:
        return sorted(self._regions)

    def with_offers(self, extra: Iterable[Offer]) -> Catalog:
        """A new catalog with ``extra`` offers added (e.g. existing clusters)."""
        return Catalog(self.meta, self.offers + tuple(extra))
