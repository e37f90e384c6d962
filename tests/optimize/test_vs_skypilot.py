"""benchmarks/vs_skypilot.py: the task set and the rules it checks SkyPilot's picks against
(the benchmark itself needs SkyPilot, an optional extra, and is run by hand)."""

from __future__ import annotations

from typing import Any

from tests.benchmark_script import load


def _module():  # type: ignore[no-untyped-def]
    return load("vs_skypilot")


def test_the_task_set_mixes_clouds_counts_cpus_spot_and_cpu_only() -> None:
    tasks = _module().tasks()
    assert len(tasks) >= 50 and len({t["name"] for t in tasks}) == len(tasks)
    assert {t["cloud"] for t in tasks} == {None, "aws", "gcp", "azure"}
    assert {t["use_spot"] for t in tasks} == {True, False}
    counts = {t["accelerators"].split(":")[1] for t in tasks if t["accelerators"]}
    assert {"1", "2", "4", "8"} <= counts
    assert sum(t["accelerators"] is None for t in tasks) >= 10
    assert any(t["cpus"] and t["accelerators"] for t in tasks)


def _row(catalog: Any, itype: str, region: str, accelerator: str | None = None) -> Any:
    return min((o for o in catalog.offers_for(accelerator)
                if o.instance_type == itype and o.region == region), key=lambda o: o.key)


def test_skypilot_picks_are_checked_against_the_cloud_rules(full_catalog: Any) -> None:
    bench = _module()
    task = {"accelerators": "V100:8", "cpus": "8+", "memory": None}
    # SkyPilot's pick for V100:8 with cpus: 8+: eight V100s on 52 GB
    starved = next(o for o in full_catalog.offers_for("V100") if o.instance_type ==
                   "n1-highmem-8" and o.accelerator_count == 8)
    (broken,) = bench.rule_violations(full_catalog, task, starved, False)
    assert broken.startswith("host per GPU: 52 GiB for V100:8")
    cpu = {"accelerators": None, "cpus": "2+", "memory": None}
    arm = _row(full_catalog, "Standard_D2ps_v5", "australiaeast")
    assert bench.rule_violations(full_catalog, cpu, arm, False) == ["arch: arm64"]
    burst = _row(full_catalog, "Standard_B2s", "australiacentral")
    assert bench.rule_violations(full_catalog, cpu, burst, False) == ["burstable family"]
    odd = _row(full_catalog, "Standard_F16ams_v6", "newzealandnorth")
    assert bench.rule_violations(full_catalog, cpu, odd, False) == ["flagged price: $0.18/h"]
    fine = _row(full_catalog, "Standard_D2s_v5", "eastus")
    assert bench.rule_violations(full_catalog, cpu, fine, False) == []
