"""Checks of a WorkloadSet that need the catalog: accelerator names and places.

Accelerator names match the catalog case-insensitively; an unknown name gets
a "did you mean" from the catalog's names. Regions and zones must exist in
the named cloud (or in some cloud when none is named), and a zone must lie in
the named region.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from planner.catalog.model import Catalog
from planner.errors import SpecError, format_path
from planner.spec.model import WorkloadSet
from planner.spec.yamlsrc import LineMap

# Characters people (and OCR) confuse in accelerator and region names.
_LOOKALIKE = str.maketrans({"o": "0", "l": "1", "i": "1", "_": "", "-": "", " ": ""})


def _norm(name: str) -> str:
    return name.lower().translate(_LOOKALIKE)


def _suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'A100'?)`` for the closest known name, comparing look-alikes equal."""
    options = {_norm(k): k for k in sorted(known)}
    match = difflib.get_close_matches(_norm(name), list(options), n=1, cutoff=0.6)
    return f" (did you mean {options[match[0]]!r}?)" if match else ""


def check_against_catalog(ws: WorkloadSet, catalog: Catalog, filename: str,
                          lines: LineMap | None = None) -> None:
    lines = lines or LineMap()

    def fail(path: tuple[str | int, ...], message: str) -> None:
        raise SpecError(message, file=filename, line=lines.line_of(path),
                        field=format_path(path))

    cluster_accels = {c.accelerator.lower() for c in ws.clusters}
    for i, w in enumerate(ws.workloads):
        res = w.resources
        base = ("workloads", i, "resources")
        for choice in res.choices:
            if (catalog.canonical_accelerator(choice.name) is None
                    and choice.name.lower() not in cluster_accels):
                fail((*base, "accelerators"), f"unknown accelerator {choice.name!r}"
                     + _suggest(choice.name, catalog.accelerators))
        _check_place(res.cloud, res.region, res.zone, catalog, base, fail)
        for key in ("allow", "deny", "prefer"):
            for j, region in enumerate(getattr(w.regions, key)):
                if region not in catalog.regions() and region not in _cluster_regions(ws):
                    fail(("workloads", i, "regions", key, j), f"unknown region {region!r}"
                         + _suggest(region, catalog.regions()))
    for i, q in enumerate(ws.quotas):
        if q.region not in catalog.regions(q.cloud):
            fail(("quotas", i, "region"), f"unknown {q.cloud} region {q.region!r}"
                 + _suggest(q.region, catalog.regions(q.cloud)))
    for name, d in sorted(ws.data.items()):
        if d.region not in catalog.regions(d.cloud):
            fail(("data", name, "region"), f"unknown {d.cloud} region {d.region!r}"
                 + _suggest(d.region, catalog.regions(d.cloud)))
    for i, c in enumerate(ws.clusters):
        if catalog.canonical_accelerator(c.accelerator) is None and c.cloud != "onprem":
            fail(("clusters", i, "accelerator"), f"unknown accelerator {c.accelerator!r}"
                 + _suggest(c.accelerator, catalog.accelerators))
        if c.cloud != "onprem" and c.region not in catalog.regions(c.cloud):
            fail(("clusters", i, "region"), f"unknown {c.cloud} region {c.region!r}")


def _cluster_regions(ws: WorkloadSet) -> set[str]:
    return {c.region for c in ws.clusters}


def _check_place(cloud: str | None, region: str | None, zone: str | None, catalog: Catalog,
                 base: tuple[str | int, ...], fail: Callable[..., None]) -> None:
    if region is not None:
        regions = catalog.regions(cloud) if cloud else catalog.regions()
        if region not in regions:
            if cloud and region in catalog.regions():
                owner = ", ".join(c for c in catalog.clouds if region in catalog.regions(c))
                fail((*base, "region"), f"region {region!r} is in {owner}, not in cloud {cloud!r}")
            fail((*base, "region"), f"unknown region {region!r}" + _suggest(region, regions))
    if zone is not None:
        zone_region = catalog.region_of_zone(zone)
        if zone_region is None:
            fail((*base, "zone"), f"unknown zone {zone!r}"
                 + _suggest(zone, catalog.zones(cloud) if cloud else catalog.zones()))
        if region is not None and zone_region != region:
            fail((*base, "zone"), f"zone {zone!r} is in region {zone_region!r}, not in {region!r}")
        if cloud is not None and zone_region not in catalog.regions(cloud):
            fail((*base, "zone"), f"zone {zone!r} is not in cloud {cloud!r}")
