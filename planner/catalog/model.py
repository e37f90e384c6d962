"""In-memory catalog of offers.

An :class:`Offer` is one instance type in one place: cloud, region, zone
(``None`` where the catalog has no zones), its shape (vCPUs, GiB, accelerator
name/count/memory) and its list prices in USD per hour (on-demand, and spot
where offered). Offers are plain slotted dataclasses, not pydantic models:
the full three-cloud catalog is ~100k of them and must load in well under a
second. For the same reason ``Offer.__init__`` is written out by hand: the
generated one of a frozen dataclass calls ``object.__setattr__`` per field,
which made construction about 3x slower (2.7 vs 0.9 microseconds).

:class:`Catalog` indexes offers by accelerator name (``None`` for CPU-only),
so candidate generation touches only the offers of the accelerators a
workload asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

CATALOG_FORMAT = "gpuplan-catalog/1"


@dataclass(frozen=True, slots=True, init=False)
class Offer:
    """One instance type in one place, with its hourly list prices (USD).

    Memory in GiB, prices in USD per hour, ``interruption_bucket`` 0..4 (AWS
    spot advisor: <5%, 5-10%, 10-15%, 15-20%, >20% interruptions a month).
    """

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

    def __init__(
        self, cloud: str, region: str, zone: str | None, instance_type: str,
        accelerator: str | None, accelerator_count: float, accelerator_memory_gib: float | None,
        vcpus: float, memory_gib: float, price: Decimal, spot_price: Decimal | None,
        quota_family: str, interruption_bucket: int | None = None, arch: str = "x86_64",
    ) -> None:
        # Slot descriptors set the frozen fields directly (see the module docstring).
        _SET_CLOUD(self, cloud)
        _SET_REGION(self, region)
        _SET_ZONE(self, zone)
        _SET_INSTANCE_TYPE(self, instance_type)
        _SET_ACCELERATOR(self, accelerator)
        _SET_ACCELERATOR_COUNT(self, accelerator_count)
        _SET_ACCELERATOR_MEMORY_GIB(self, accelerator_memory_gib)
        _SET_VCPUS(self, vcpus)
        _SET_MEMORY_GIB(self, memory_gib)
        _SET_PRICE(self, price)
        _SET_SPOT_PRICE(self, spot_price)
        _SET_QUOTA_FAMILY(self, quota_family)
        _SET_INTERRUPTION_BUCKET(self, interruption_bucket)
        _SET_ARCH(self, arch)

    @property
    def key(self) -> str:
        """Stable id of this offer: ``cloud/region/zone/instance[+ACC:N]``."""
        place = f"{self.cloud}/{self.region}/{self.zone or '-'}"
        acc = f"+{self.accelerator}:{_fmt_count(self.accelerator_count)}" if self.accelerator else ""
        return f"{place}/{self.instance_type}{acc}"

    @property
    def gpus(self) -> float:
        return self.accelerator_count if self.accelerator else 0.0


def _setter(name: str) -> Callable[[Offer, object], None]:
    """The slot descriptor's ``__set__`` of field ``name``: bypasses the frozen ``__setattr__``."""
    setter: Callable[[Offer, object], None] = Offer.__dict__[name].__set__
    return setter


_SET_CLOUD = _setter("cloud")
_SET_REGION = _setter("region")
_SET_ZONE = _setter("zone")
_SET_INSTANCE_TYPE = _setter("instance_type")
_SET_ACCELERATOR = _setter("accelerator")
_SET_ACCELERATOR_COUNT = _setter("accelerator_count")
_SET_ACCELERATOR_MEMORY_GIB = _setter("accelerator_memory_gib")
_SET_VCPUS = _setter("vcpus")
_SET_MEMORY_GIB = _setter("memory_gib")
_SET_PRICE = _setter("price")
_SET_SPOT_PRICE = _setter("spot_price")
_SET_QUOTA_FAMILY = _setter("quota_family")
_SET_INTERRUPTION_BUCKET = _setter("interruption_bucket")
_SET_ARCH = _setter("arch")


def _fmt_count(count: float) -> str:
    return str(int(count)) if count == int(count) else f"{count:g}"


class RefreshRecord(BaseModel):
    """What one ``planner catalog refresh <cloud>`` fetched: APIs, time, regions, type changes.

    ``new_types`` / ``gone_types`` count instance types (in the regions refreshed)
    that the snapshot it replaced (``compared_with``) lacked / had. No credential
    or account detail is ever recorded.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cloud: str
    source: str
    fetched_at: str  # ISO 8601, UTC, whole seconds
    regions: int
    types: int
    new_types: int
    gone_types: int
    compared_with: str
    shapes_source: str
    spot_source: str | None = None


class CatalogMeta(BaseModel):
    """Where a catalog came from and when its prices were taken."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = CATALOG_FORMAT
    source: str
    date: str
    clouds: tuple[str, ...] = ()
    rows: int = 0
    notes: tuple[str, ...] = ()
    refresh: tuple[RefreshRecord, ...] = ()


@dataclass
class Catalog:
    """All offers, indexed by canonical accelerator name (``None`` = CPU-only)."""

    meta: CatalogMeta
    offers: tuple[Offer, ...]
    _by_accelerator: dict[str | None, list[Offer]] = field(default_factory=dict, repr=False)
    _names: dict[str, str] = field(default_factory=dict, repr=False)
    _regions: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _zones: dict[str, str] = field(default_factory=dict, repr=False)
    _flags: dict[str | None, dict[tuple[Offer, bool], object]] = field(
        default_factory=dict, repr=False)

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

    def price_flags(self, accelerator: str | None) -> dict[tuple[Offer, bool], object]:
        """Flagged (offer, spot) prices among the offers of ``accelerator``
        (:func:`planner.catalog.sanity.price_flags`), computed once per accelerator."""
        if accelerator not in self._flags:
            from planner.catalog.sanity import price_flags

            self._flags[accelerator] = dict(price_flags(self.offers_for(accelerator)))
        return self._flags[accelerator]

    def regions(self, cloud: str | None = None) -> set[str]:
        if cloud is not None:
            return set(self._regions.get(cloud, set()))
        return set().union(*self._regions.values()) if self._regions else set()

    def region_of_zone(self, zone: str) -> str | None:
        return self._zones.get(zone)

    def zones(self, cloud: str | None = None) -> set[str]:
        """Zone names (of ``cloud``, or of all clouds); regions without zones have none."""
        regions = self.regions(cloud) if cloud is not None else None
        return {z for z, r in self._zones.items() if regions is None or r in regions}

    @property
    def clouds(self) -> list[str]:
        return sorted(self._regions)

    def with_offers(self, extra: Iterable[Offer]) -> Catalog:
        """A new catalog with ``extra`` offers added (e.g. existing clusters)."""
        return Catalog(self.meta, self.offers + tuple(extra))
