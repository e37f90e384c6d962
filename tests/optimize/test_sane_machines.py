"""Plans a person can launch: default hosts per GPU, x86_64 unless asked, no burstable
families unless asked, no prices that look wrong (issue 18, on the shared catalog)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.catalog.machines import arch_of, default_host, is_burstable
from planner.optimize.planning import plan_workloads
from planner.plan import Plan, read_plan
from planner.spec.load import parse_workloads
from tests.cli import run_cli


def _plan(catalog: Any, resources: dict[str, Any], **top: Any) -> Plan:
    text = yaml.safe_dump({"version": 1, "teams": {"ml": {}}, **top, "workloads": [
        {"name": "job", "team": "ml", "kind": "batch", "resources": resources,
         "work": {"duration_hours": 10}}]})
    return plan_workloads(parse_workloads(text, "t.yaml", catalog), catalog, time_limit=10)


def _only(plan: Plan) -> Any:
    (p,) = plan.placements
    return p, plan.pool(p.pool)


@pytest.mark.parametrize(("accelerators", "cpus", "memory"), [("V100:8", 40, 384), ("T4:4", 16, 60)])
def test_a_gpu_request_without_cpus_gets_a_host_per_gpu(full_catalog: Any, accelerators: str,
                                                        cpus: float, memory: float) -> None:
    # without the default, both land on GCP n1-standard-1: one vCPU for eight GPUs
    p, pool = _only(_plan(full_catalog, {"accelerators": accelerators}))
    assert pool.vcpus >= cpus and pool.memory_gib >= memory, pool.instance_type
    assert p.host.defaulted == ("cpus", "memory")
    assert (p.host.cpus, p.host.memory_gib) == (cpus, memory)


def test_an_explicit_small_request_still_gets_a_small_host(full_catalog: Any) -> None:
    p, pool = _only(_plan(full_catalog, {"accelerators": "V100:1", "cpus": "1+",
                                         "memory": "1+", "cloud": "gcp"}))
    assert pool.vcpus < 5 and p.host.defaulted == ()


def test_cpu_task_gets_neither_arm_nor_burstable(full_catalog: Any) -> None:
    # without the checks: Azure Standard_B2pts_v2, arm64 and burstable, 1 GiB
    _, pool = _only(_plan(full_catalog, {"cpus": "2+"}))
    assert arch_of(pool.cloud, pool.instance_type) == "x86_64"
    assert not is_burstable(pool.cloud, pool.instance_type)


def test_arm_and_burstable_when_asked(full_catalog: Any) -> None:
    _, arm = _only(_plan(full_catalog, {"cpus": "2+", "arch": "arm64"}))
    assert arch_of(arm.cloud, arm.instance_type) == "arm64"
    _, cheap = _only(_plan(full_catalog, {"cpus": "2+", "arch": "any", "burstable": True}))
    assert cheap.node_hourly <= arm.node_hourly


def test_a_price_far_below_its_median_is_not_used(full_catalog: Any, skypilot_dir: Path,
                                                 tmp_path: Path) -> None:
    # Standard_F16ams_v6 is $0.18/h in newzealandnorth and $0.93 to $2.98 elsewhere
    _, pool = _only(_plan(full_catalog, {"cpus": 16, "instance_type": "Standard_F16ams_v6"}))
    assert pool.region != "newzealandnorth"
    used = _plan(full_catalog, {"cpus": 16, "instance_type": "Standard_F16ams_v6"},
                 pricing={"allow_price_outliers": True})
    assert _only(used)[1].region == "newzealandnorth"
    spec = tmp_path / "w.yaml"
    spec.write_text(yaml.safe_dump({"version": 1, "teams": {"ml": {}}, "workloads": [
        {"name": "job", "team": "ml", "kind": "batch",
         "resources": {"cpus": 16, "instance_type": "Standard_F16ams_v6"},
         "work": {"duration_hours": 10}}]}))
    out = tmp_path / "plan.json"
    r = run_cli("--catalog", str(skypilot_dir), "plan", str(spec),
                "--allow-price-outliers", "--out", str(out), "--format", "json")
    assert r.code == 0, r.err
    plan = read_plan(out)
    assert plan.pools[0].region == "newzealandnorth"
    assert plan.spec["pricing"]["allow_price_outliers"] is True


def test_rejections_name_the_outlier(full_catalog: Any) -> None:
    p, _ = _only(_plan(full_catalog, {"cpus": 16, "instance_type": "Standard_F16ams_v6"}))
    assert {r.reason for r in p.rejected} >= {"price-outlier"}


def test_allow_price_outliers_takes_no_value(tmp_path: Path) -> None:
    spec = tmp_path / "w.yaml"
    spec.write_text("teams: {ml: {}}\nworkloads:\n  - {name: a, team: ml, resources: "
                    "{accelerators: T4}, work: {duration_hours: 1}}\n")
    out = tmp_path / "plan.json"
    r = run_cli("plan", str(spec), "--allow-price-outliers=yes", "--out", str(out))
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith("error: ") and "does not take a value" in r.err
    assert not out.exists()


@pytest.mark.parametrize(("cloud", "itype", "arch", "burstable"), [
    ("aws", "m7g.large", "arm64", False), ("aws", "t4g.micro", "arm64", True),
    ("aws", "g5g.xlarge", "arm64", False), ("aws", "g4dn.xlarge", "x86_64", False),
    ("aws", "t3.medium", "x86_64", True), ("aws", "p4d.24xlarge", "x86_64", False),
    ("azure", "Standard_B2pts_v2", "arm64", True), ("azure", "Standard_D4ps_v5", "arm64", False),
    ("azure", "Standard_D16plds_v6", "arm64", False), ("azure", "Standard_B2s", "x86_64", True),
    ("azure", "Standard_NC24ads_A100_v4", "x86_64", False),
    ("azure", "Standard_ND128isr_NDR_GB200_v6", "arm64", False),
    ("gcp", "t2a-standard-4", "arm64", False), ("gcp", "c4a-highcpu-8", "arm64", False),
    ("gcp", "e2-medium", "x86_64", True), ("gcp", "e2-standard-2", "x86_64", False),
    ("gcp", "n1-standard-8", "x86_64", False), ("gcp", "f1-micro", "x86_64", True),
])
def test_machine_names(cloud: str, itype: str, arch: str, burstable: bool) -> None:
    assert (arch_of(cloud, itype), is_burstable(cloud, itype)) == (arch, burstable)


def test_default_host_scales_with_gpus() -> None:
    assert default_host("V100", 8) == (40, 384)
    assert default_host("SomeNewGPU", 2) == (8, 32)
    assert default_host(None, 0) is None


def test_a_constrained_vcpu_size_has_the_vcpus_it_runs(full_catalog: Any) -> None:
    # Standard_E4-2as_v5 is an E4as_v5 with 2 of its 4 vCPUs running, at the same price;
    # the SkyPilot catalog lists 4. A 4-vCPU request must not land on it.
    from planner.catalog.machines import usable_vcpus

    assert usable_vcpus("azure", "Standard_E4-2as_v5", 4) == 2
    assert usable_vcpus("azure", "Standard_E4as_v5", 4) == 4
    assert usable_vcpus("gcp", "n2-standard-4", 4) == 4
    (row,) = [o for o in full_catalog.offers_for(None)
              if o.instance_type == "Standard_E4-2as_v5" and o.region == "centralindia"]
    assert row.vcpus == 2
    p, _ = _only(_plan(full_catalog, {"cpus": "4+", "memory": "32+", "cloud": "azure"}))
    assert not re.match(r"Standard_[A-Za-z]+\d+-\d", p.instance_type), p.instance_type
