"""AWS instance shapes from EC2 ``DescribeInstanceTypes``: what each type is, per region.

The Price List prices a type but says little about it (a GPU count, no model);
``DescribeInstanceTypes`` (called in each region refreshed, so it also says
which types that region offers) gives:

* vCPUs (``VCpuInfo.DefaultVCpus``) and memory (``MemoryInfo.SizeInMiB`` / 1024 GiB);
* accelerators: ``GpuInfo.Gpus`` (NVIDIA, AMD, Habana), ``NeuronInfo.NeuronDevices``
  (Trainium, Inferentia2) or ``InferenceAcceleratorInfo.Accelerators`` (Inferentia),
  each with a count and memory per device (MiB / 1024 = GiB);
* the architecture (``ProcessorInfo.SupportedArchitectures``: arm64, else x86_64;
  Mac instances, which need dedicated hosts, are left out).

A type launched after the previous catalog was made therefore appears with its
real shape. Its accelerator is named the way the catalog names it: the family
table :data:`FAMILY_ACCELERATOR` first (``p4de`` -> ``A100-80GB``), else the
device name AWS reports, spelled as the current catalog spells it when it knows
it (``A10G``), with ``-<GiB>GB`` appended when the catalog knows that variant
and the bare name has a different memory (an 80 GB ``A100`` is ``A100-80GB``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from planner.catalog.refresh_common import Shape

MIB_PER_GIB = 1024

# Instance family -> accelerator (names as in the embedded catalog). Whole-device families.
FAMILY_ACCELERATOR = {
    "p2": "K80", "p3": "V100", "p3dn": "V100-32GB", "p4d": "A100", "p4de": "A100-80GB",
    "p5": "H100", "p5e": "H200", "p5en": "H200", "p6-b200": "B200", "p6-b300": "B300",
    "g3": "M60", "g3s": "M60", "g4dn": "T4", "g4ad": "Radeon Pro V520", "g5": "A10G",
    "g5g": "T4g", "g6": "L4", "gr6": "L4", "g6e": "L40S", "dl1": "Gaudi HL-205",
    "inf1": "Inferentia", "inf2": "Inferentia2", "trn1": "Trainium", "trn1n": "Trainium",
}
ACCELERATOR_SECTIONS = (("GpuInfo", "Gpus"), ("NeuronInfo", "NeuronDevices"),
                        ("InferenceAcceleratorInfo", "Accelerators"))


def family_of(instance_type: str) -> str:
    """``p4de.24xlarge`` -> ``p4de``."""
    return instance_type.split(".", 1)[0]


def _devices(item: Mapping[str, Any]) -> tuple[str, float, float | None] | None:
    """(AWS device name, count, GiB per device) of the first accelerator section present."""
    for section, key in ACCELERATOR_SECTIONS:
        devices = (item.get(section) or {}).get(key) or []
        if devices:
            first = devices[0]
            name = str(first.get("Name") or "").strip()
            count = sum(float(d.get("Count") or 0) for d in devices if d.get("Name") == first.get("Name"))
            mib = (first.get("MemoryInfo") or {}).get("SizeInMiB")
            memory = round(float(mib) / MIB_PER_GIB, 3) if mib else None
            if name and count > 0:
                return name, count, memory
    return None


def accelerator_name(instance_type: str, device: str, memory_gib: float | None,
                     known: Mapping[str, float | None]) -> str:
    """The catalog's name for ``device`` (see the module docstring); ``known``: name -> GiB."""
    family = FAMILY_ACCELERATOR.get(family_of(instance_type))
    if family is not None:
        return family
    spelled = {name.lower(): name for name in known}
    name = spelled.get(device.lower(), device)
    if memory_gib is not None:
        variant = spelled.get(f"{device}-{round(memory_gib)}GB".lower())
        bare_memory = known.get(name)
        if variant is not None and (bare_memory is None or round(bare_memory) != round(memory_gib)):
            return variant
    return name


def parse_instance_type(item: Mapping[str, Any], known: Mapping[str, float | None]
                        ) -> tuple[str, Shape] | None:
    """One ``InstanceTypes`` element -> (type, shape), or None for Mac or malformed entries."""
    itype = item.get("InstanceType")
    vcpus = (item.get("VCpuInfo") or {}).get("DefaultVCpus")
    mib = (item.get("MemoryInfo") or {}).get("SizeInMiB")
    archs = set((item.get("ProcessorInfo") or {}).get("SupportedArchitectures") or [])
    if not itype or not vcpus or not mib or not archs or any(a.endswith("_mac") for a in archs):
        return None
    arch = "arm64" if "arm64" in archs else "x86_64"
    devices = _devices(item)
    if devices is None:
        return str(itype), Shape(float(vcpus), float(mib) / MIB_PER_GIB, None, 0.0, None, arch)
    device, count, memory = devices
    name = accelerator_name(str(itype), device, memory, known)
    return str(itype), Shape(float(vcpus), float(mib) / MIB_PER_GIB, name, count, memory, arch)


def parse_instance_types(pages: Iterable[Mapping[str, Any]], known: Mapping[str, float | None]
                         ) -> dict[str, Shape]:
    """Every page of one region's ``DescribeInstanceTypes`` -> type -> shape."""
    shapes: dict[str, Shape] = {}
    for page in pages:
        for item in page.get("InstanceTypes") or []:
            parsed = parse_instance_type(item, known)
            if parsed is not None:
                shapes[parsed[0]] = parsed[1]
    return shapes
