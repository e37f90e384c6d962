from decimal import Decimal
from pathlib import Path

from planner.catalog.skypilot import read_gcp


def test_gcp_gpu_host_price_is_vm_plus_gpu_row(skypilot_dir: Path) -> None:
    offers = read_gcp(skypilot_dir / "gcp" / "vms.csv")
    [a2] = [o for o in offers if o.instance_type == "a2-highgpu-1g" and o.zone == "us-central1-a"]
    # a2-highgpu-1g host: 12 vCPU x 0.031611 + 85 GiB x 0.004237 = 0.73948 (VM row),
    # plus the A100:1 row for the zone, 2.93391.
    assert a2.price == Decimal("0.73948") + Decimal("2.93391") == Decimal("3.67339")
    assert abs(12 * 0.031611 + 85 * 0.004237 + 2.933908 - float(a2.price)) < 1e-5
    assert (a2.accelerator, a2.accelerator_count, a2.vcpus) == ("A100", 1.0, 12.0)
    assert a2.quota_family == "NVIDIA_A100_GPUS"


def test_gcp_bare_gpu_hosts_are_not_cpu_offers(skypilot_dir: Path) -> None:
    offers = read_gcp(skypilot_dir / "gcp" / "vms.csv")
    assert not [o for o in offers if o.instance_type.startswith("a2-") and o.accelerator is None]
