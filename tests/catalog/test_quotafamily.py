"""Which quota an offer draws on, in each cloud's own names and units."""

from __future__ import annotations

import pytest

from planner.catalog.quotafamily import (
    aws_family,
    azure_family,
    gcp_family,
    normalize_family,
    on_demand_family,
    quota_family,
    quota_units_per_node,
)


@pytest.mark.parametrize(("instance_type", "family"), [
    ("p4d.24xlarge", "P"), ("p5.48xlarge", "P"), ("p3.2xlarge", "P"),
    ("g5.xlarge", "G"), ("g6e.12xlarge", "G"), ("g4dn.xlarge", "G"),
    ("inf2.xlarge", "Inf"), ("trn1.32xlarge", "Trn"), ("dl1.24xlarge", "DL"),
    ("vt1.3xlarge", "VT"), ("f1.2xlarge", "F"), ("x2idn.16xlarge", "X"),
    ("m5.large", "Standard"), ("c6i.4xlarge", "Standard"), ("r6i.8xlarge", "Standard"),
    ("t3.micro", "Standard"), ("d3.xlarge", "Standard"), ("i4i.large", "Standard"),
])
def test_aws_class_letters(instance_type: str, family: str) -> None:
    assert aws_family(instance_type) == family


@pytest.mark.parametrize(("accelerator", "family"), [
    ("A100", "NVIDIA_A100_GPUS"), ("A100-80GB", "NVIDIA_A100_80GB_GPUS"),
    ("H100", "NVIDIA_H100_GPUS"), ("H100-MEGA", "NVIDIA_H100_MEGA_GPUS"),
    ("L4", "NVIDIA_L4_GPUS"), ("T4", "NVIDIA_T4_GPUS"), ("V100", "NVIDIA_V100_GPUS"),
    ("B200", "NVIDIA_B200_GPUS"), ("RTX-X1", "NVIDIA_RTX_X1_GPUS"), (None, "CPUS"),
])
def test_gcp_gpu_quota_names(accelerator: str | None, family: str) -> None:
    assert gcp_family(accelerator) == family


@pytest.mark.parametrize(("size", "family"), [
    # derived: series letters, then the rest of the name
    ("Standard_NC24ads_A100_v4", "standardNCADSA100v4Family"),
    ("Standard_NC6s_v3", "standardNCSv3Family"),
    ("Standard_NV12s_v3", "standardNVSv3Family"),
    ("Standard_NC8ads_A10_v4", "standardNCADSA10v4Family"),
    ("Standard_D8s_v5", "standardDSv5Family"),
    ("Standard_E16s_v3", "standardESv3Family"),
    # Azure's own names where the size name does not give them
    ("Standard_NC4as_T4_v3", "standardNCASv3_T4Family"),
    ("Standard_NC64as_T4_v3", "standardNCASv3_T4Family"),
    ("Standard_ND96asr_v4", "standardNDASv4_A100Family"),
    ("Standard_ND96amsr_A100_v4", "standardNDAMSv4_A100Family"),
    ("Standard_ND96isr_H100_v5", "standardNDSH100v5Family"),
    ("Standard_ND96isr_H200_v5", "standardNDISRH200V5Family"),
    ("Standard_ND40rs_v2", "standardNDSv2Family"),
    ("Standard_NV4as_v4", "standardNVSv4Family"),
    ("Standard_NC40ads_H100_v5", "standardNCadsH100v5Family"),
    ("Standard_NC80adis_H100_v5", "standardNCadsH100v5Family"),
    ("Standard_NV36adms_A10_v5", "standardNVADSA10v5Family"),
])
def test_azure_family(size: str, family: str) -> None:
    assert azure_family(size) == family


def test_every_azure_gpu_offer_has_a_family_the_usage_api_names(
        embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    """`az vm list-usage` names (normalized) for the GPU series in the catalog."""
    usage_names = {normalize_family(n) for n in (
        "standardNCADSA100v4Family", "Standard NCASv3_T4 Family", "standardNCSv3Family",
        "StandardNCadsH100v5Family", "StandardNCCads2023Family", "standardNDSv2Family",
        "Standard NDASv4_A100 Family", "standardNDAMSv4_A100Family", "standardNDSH100v5Family",
        "standardNDISRH200V5Family", "StandardNVADSA10v5Family", "standardNVSv3Family",
        "standardNVSv4Family", "StandardNCADSA10v4Family", "standardNDISv5MI300XFamily",
    )}
    families = {normalize_family(o.quota_family) for o in embedded_catalog
                if o.cloud == "azure" and o.accelerator}
    # NC24rs_v3 (RDMA NCv3) is the one series whose usage name is not confirmed here.
    assert families - usage_names == {normalize_family("standardNCRSv3Family")}


def test_normalize_ignores_case_spaces_and_underscores() -> None:
    assert normalize_family("Standard NCASv3_T4 Family") == normalize_family("standardNCASv3T4Family")
    assert normalize_family("NVIDIA_A100_GPUS") != normalize_family("NVIDIA_A100_80GB_GPUS")


@pytest.mark.parametrize(("cloud", "itype", "acc", "family"), [
    ("aws", "p4d.24xlarge", "A100", "P"),
    ("gcp", "a2-highgpu-8g", "A100", "NVIDIA_A100_GPUS"),
    ("gcp", "n2-standard-8", None, "CPUS"),
    ("azure", "Standard_NC4as_T4_v3", "T4", "standardNCASv3_T4Family"),
    ("k8s", "onprem-a100", "A100", "GPUS"),
])
def test_on_demand_family_dispatches_by_cloud(cloud: str, itype: str, acc: str | None,
                                              family: str) -> None:
    assert on_demand_family(cloud, itype, acc) == family


def test_spot_families() -> None:
    """Azure spot draws on one regional lowPriorityCores; AWS and GCP keep the family."""
    assert quota_family("azure", "standardNDSH100v5Family", spot=True) == "lowPriorityCores"
    assert quota_family("azure", "standardNDSH100v5Family", spot=False) == "standardNDSH100v5Family"
    assert quota_family("aws", "P", spot=True) == "P"
    assert quota_family("gcp", "NVIDIA_H100_GPUS", spot=True) == "NVIDIA_H100_GPUS"


@pytest.mark.parametrize(("cloud", "vcpus", "gpus", "units"), [
    ("aws", 96, 8, 96), ("azure", 96, 8, 96), ("gcp", 96, 8, 8), ("gcp", 8, 0, 8), ("k8s", 96, 8, 8),
])
def test_quota_units_per_node(cloud: str, vcpus: float, gpus: float, units: float) -> None:
    assert quota_units_per_node(cloud, vcpus, gpus) == units


def test_catalog_offers_carry_their_family(embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    for offer in embedded_catalog:
        if offer.instance_type in ("p4d.24xlarge", "Standard_ND96asr_v4", "a2-highgpu-8g"):
            assert offer.quota_family == on_demand_family(
                offer.cloud, offer.instance_type, offer.accelerator)
    assert {o.quota_family for o in embedded_catalog if o.instance_type == "Standard_ND96asr_v4"} \
        == {"standardNDASv4_A100Family"}
