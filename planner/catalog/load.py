"""Find and load a catalog: the embedded default, a snapshot, or a SkyPilot directory."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from planner.catalog.model import Catalog, CatalogMeta, Offer
from planner.catalog.skypilot import read_skypilot_dir
from planner.catalog.snapshot import is_snapshot, read_snapshot
from planner.errors import CatalogError

EMBEDDED_DIR = "catalog"

# What the embedded snapshot keeps besides accelerator offers: the CPU families
# a platform team most often runs next to GPUs (SkyPilot's defaults among them).
COMMON_CPU_TYPES = re.compile(
    r"^(?:(?:m5|c5|m6i|c6i|r6i|m7i|c7i)\.\w+"
    r"|(?:n2|e2|n4)-(?:standard|highmem|highcpu)-\d+"
    r"|Standard_(?:D|E|F)\d+s_v[35])$"
)


def embedded_path() -> Path:
    return Path(str(resources.files("planner") / "data" / EMBEDDED_DIR))


def load_catalog(path: Path | str | None = None) -> Catalog:
    """``None`` -> the embedded default; a snapshot dir; or a SkyPilot v8 dir."""
    if path is None:
        return read_snapshot(embedded_path())
    directory = Path(path)
    if not directory.exists():
        raise CatalogError("catalog directory not found", file=str(directory))
    if not directory.is_dir():
        raise CatalogError("not a directory (expected a SkyPilot v8 catalog or a gpuplan "
                           "snapshot directory)", file=str(directory))
    if is_snapshot(directory):
        return read_snapshot(directory)
    offers = read_skypilot_dir(directory)
    meta = CatalogMeta(
        source=f"skypilot-catalog v8 directory {directory}",
        date="unknown",
        clouds=tuple(sorted({o.cloud for o in offers})),
        rows=len(offers),
    )
    return Catalog(meta, tuple(offers))


def reduce_offers(offers: list[Offer]) -> list[Offer]:
    """Keep accelerator offers and the common CPU families; drop the rest."""
    return [o for o in offers if o.accelerator or COMMON_CPU_TYPES.match(o.instance_type)]
