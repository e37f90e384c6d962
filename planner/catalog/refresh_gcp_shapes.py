"""GCP machine shapes and zones from the Compute API (``planner catalog refresh gcp --project P``).

Two read-only calls, paged through ``nextPageToken``, with the ADC Bearer token
(IAM: ``compute.machineTypes.list``, ``compute.acceleratorTypes.list``, e.g. the
``roles/compute.viewer`` role on the project):

* ``GET compute/v1/projects/P/aggregated/machineTypes``: per zone, every machine
  type with ``guestCpus``, ``memoryMb`` (MiB; / 1024 = GiB), built-in
  ``accelerators`` (a2, a3, g2, ...), ``isSharedCpu``, ``architecture`` and
  ``deprecated.state``;
* ``GET compute/v1/projects/P/aggregated/acceleratorTypes``: per zone, the GPUs
  that can be attached (to N1 hosts).

So a machine type launched after the previous catalog appears, in the zones the
project can use. GPU type names are mapped to the catalog's names by
:data:`ACCELERATOR_TYPES`; a GPU type not listed there is named by
:func:`accelerator_name`'s rule (``nvidia-rtx-pro-6000`` -> ``RTX-PRO-6000``),
the same rule that names an unlisted GPU SKU model, so its price still joins.
A 403 or 404 means the project is missing or the identity may not read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planner.catalog.refresh_http import Fetcher, HttpStatusError, Progress, Request
from planner.errors import CatalogError

COMPUTE_URL = "https://compute.googleapis.com/compute/v1/projects/{project}/aggregated/{what}"
# Compute API accelerator type -> the catalog's accelerator name.
ACCELERATOR_TYPES = {
    "nvidia-tesla-k80": "K80", "nvidia-tesla-p4": "P4", "nvidia-tesla-p100": "P100",
    "nvidia-tesla-v100": "V100", "nvidia-tesla-t4": "T4", "nvidia-tesla-a100": "A100",
    "nvidia-a100-80gb": "A100-80GB", "nvidia-l4": "L4", "nvidia-h100-80gb": "H100",
    "nvidia-h100-mega-80gb": "H100-MEGA", "nvidia-h200-141gb": "H200", "nvidia-b200": "B200",
}
RETIRED = frozenset({"DEPRECATED", "OBSOLETE", "DELETED"})


@dataclass(frozen=True)
class MachineType:
    """One machine type in one zone, as the Compute API describes it."""

    name: str
    zone: str
    vcpus: float
    memory_gib: float
    accelerator: str | None
    accelerator_count: float
    arch: str

    @property
    def region(self) -> str:
        return region_of(self.zone)


def region_of(zone: str) -> str:
    """``us-central1-a`` -> ``us-central1``."""
    return zone.rsplit("-", 1)[0]


def normalized_gpu(text: str) -> str:
    """A GPU name reduced for joining: ``RTX PRO 6000`` and ``rtx-pro-6000`` -> ``RTX-PRO-6000``."""
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")


def accelerator_name(api_name: str) -> str:
    """The catalog's name for a Compute API accelerator type (table, else the normalized rule)."""
    if api_name in ACCELERATOR_TYPES:
        return ACCELERATOR_TYPES[api_name]
    return normalized_gpu(re.sub(r"^nvidia-(?:tesla-)?", "", api_name))


def _zone_items(page: Any, key: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(zone, element) of one aggregatedList page; zones with a warning and no items are skipped."""
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, dict):
        raise CatalogError("malformed Compute API page: no items map", field="items")
    for scope, body in sorted(items.items()):
        if not scope.startswith("zones/"):
            continue
        for element in (body or {}).get(key) or []:
            yield scope.removeprefix("zones/"), element


def aggregated(fetcher: Fetcher, project: str, what: str, key: str,
               progress: Progress | None) -> list[tuple[str, Mapping[str, Any]]]:
    """Every (zone, element) of ``aggregated/<what>``; CatalogError naming the project on 403/404."""
    url = COMPUTE_URL.format(project=project, what=what)

    def request(token: str | None) -> Request:
        params = {"maxResults": "500", "returnPartialSuccess": "true"}
        if token:
            params["pageToken"] = token
        return Request(url, params=params)

    def follow(page: Any) -> Request | None:
        token = page.get("nextPageToken") if isinstance(page, dict) else None
        return request(token) if token else None

    found: list[tuple[str, Mapping[str, Any]]] = []
    try:
        for page in fetcher.pages(request(None), follow,
                                  lambda p: sum(len((b or {}).get(key) or [])
                                                for b in (p.get("items") or {}).values()), progress):
            found.extend(_zone_items(page, key))
    except HttpStatusError as exc:
        if exc.status in (401, 403, 404):
            raise CatalogError(f"gcp: no access to project {project!r} through the Compute API "
                               f"(HTTP {exc.status}: {exc.reason}); the identity needs "
                               "compute.machineTypes.list (roles/compute.viewer)") from None
        raise
    return found


def parse_machine_types(pairs: Iterable[tuple[str, Mapping[str, Any]]],
                        regions: set[str] | None) -> list[MachineType]:
    """Machine types in use (not retired, not shared-core) in ``regions`` (None: all)."""
    out = []
    for zone, item in pairs:
        if regions is not None and region_of(zone) not in regions:
            continue
        state = (item.get("deprecated") or {}).get("state")
        name, cpus, mib = item.get("name"), item.get("guestCpus"), item.get("memoryMb")
        if state in RETIRED or item.get("isSharedCpu") or not name or not cpus or not mib:
            continue
        accelerators = item.get("accelerators") or []
        accelerator, count = None, 0.0
        if accelerators:
            accelerator = accelerator_name(str(accelerators[0].get("guestAcceleratorType")))
            count = float(sum(a.get("guestAcceleratorCount") or 0 for a in accelerators))
        arch = "arm64" if str(item.get("architecture", "")).upper() == "ARM64" else "x86_64"
        out.append(MachineType(str(name), zone, float(cpus), float(mib) / 1024, accelerator,
                               count, arch))
    return sorted(out, key=lambda m: (m.zone, m.name))


def parse_accelerator_types(pairs: Iterable[tuple[str, Mapping[str, Any]]]) -> set[tuple[str, str]]:
    """(zone, catalog accelerator name) of every attachable GPU."""
    return {(zone, accelerator_name(str(item.get("name")))) for zone, item in pairs if item.get("name")}
