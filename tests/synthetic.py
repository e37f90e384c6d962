"""Small hand-made catalogs and workload sets for planner tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from planner.catalog.model import Catalog, CatalogMeta, Offer
from planner.catalog.quotafamily import on_demand_family
from planner.spec.model import WorkloadSet


def offer(cloud: str, region: str, itype: str, acc: str | None, count: float, price: str,
          spot: str | None = None, zone: str | None = None, vcpus: float = 96,
          mem: float = 680) -> Offer:
    return Offer(cloud, region, zone, itype, acc, count, 40.0 if acc else None, vcpus, mem,
                 Decimal(price), Decimal(spot) if spot else None,
                 on_demand_family(cloud, itype, acc))


def small_catalog() -> Catalog:
    """Two GCP regions, one AWS and one Azure region; A100 (1/8-GPU), T4 and L4 shapes."""
    offers = [
        offer("gcp", "us-central1", "a2-highgpu-1g", "A100", 1, "3.6734", "1.8039",
              "us-central1-a", 12, 85),
        offer("gcp", "us-central1", "a2-highgpu-8g", "A100", 8, "29.3871", "14.4308",
              "us-central1-a", 96, 680),
        offer("gcp", "us-east1", "a2-highgpu-1g", "A100", 1, "3.9000", "1.9000",
              "us-east1-b", 12, 85),
        offer("gcp", "us-east1", "a2-highgpu-8g", "A100", 8, "31.2000", "15.2000",
              "us-east1-b", 96, 680),
        offer("aws", "us-east-1", "p4d.24xlarge", "A100", 8, "32.7726", "12.0000", None, 96, 1152),
        offer("azure", "eastus", "Standard_ND96asr_v4", "A100", 8, "27.197", "5.98334",
              None, 96, 900),
        offer("gcp", "us-central1", "n1-standard-4", "T4", 1, "0.5400", "0.1700",
              "us-central1-a", 4, 15),
        offer("aws", "us-east-1", "g4dn.xlarge", "T4", 1, "0.5260", "0.2100", None, 4, 16),
        offer("gcp", "us-central1", "g2-standard-8", "L4", 1, "0.8536", "0.3400",
              "us-central1-a", 8, 32),
        offer("gcp", "us-central1", "n2-standard-8", None, 0, "0.3885", "0.0950",
              "us-central1-a", 8, 32),
    ]
    return Catalog(CatalogMeta(source="tests/synthetic.py", date="2026-11-01"), tuple(offers))


def workload_set(workloads: list[dict[str, Any]], **extra: Any) -> WorkloadSet:
    teams = extra.pop("teams", None) or {
        name: {} for name in sorted({w.get("team", "ml") for w in workloads})}
    for w in workloads:
        w.setdefault("team", "ml")
    return WorkloadSet.model_validate({"teams": teams, "workloads": workloads, **extra})


def job(name: str, acc: str, hours: float = 10, **extra: Any) -> dict[str, Any]:
    resources = extra.pop("resources", {})
    return {"name": name, "resources": {"accelerators": acc, **resources},
            "work": {"duration_hours": hours}, **extra}


# One 8-GPU A100 shape in several places, for capacity-fallback tests:
# (cloud, region, zone, instance type, $/h)
FALLBACK_PLACES = [
    ("gcp", "us-central1", "us-central1-a", "a2-highgpu-8g", "29.3871"),
    ("gcp", "us-central1", "us-central1-b", "a2-highgpu-8g", "29.3871"),
    ("gcp", "us-east1", "us-east1-b", "a2-highgpu-8g", "31.2000"),
    ("aws", "us-east-1", None, "p4d.24xlarge", "32.7726"),
    ("azure", "eastus", None, "Standard_ND96asr_v4", "45.0000"),
]


def fallback_catalog(places: list[tuple[str, str, str | None, str, str]] | None = None
                     ) -> Catalog:
    """An A100:8 catalog of ``places`` (default :data:`FALLBACK_PLACES`)."""
    offers = [offer(c, r, i, "A100", 8, p, zone=z) for c, r, z, i, p in
              (FALLBACK_PLACES if places is None else places)]
    return Catalog(CatalogMeta(source="tests/synthetic.py fallbacks", date="2026-11-01"),
                   tuple(offers))


def fallback_policy(count: int = 2, premium: str = "30%",
                    across: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"count": count, "max_premium": premium}
    if across is not None:
        out["across"] = across
    return out
