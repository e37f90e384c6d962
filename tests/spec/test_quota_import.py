"""Quota import from the JSON the clouds' CLIs print (hand-written files in their shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from planner.catalog.model import Catalog
from planner.errors import SpecError
from planner.spec.model import Quota
from planner.spec.quotaimport import import_quotas
from tests.cli import run_cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "quotas"
AWS = FIXTURES / "aws_service_quotas_ec2.json"
GCP_ONE = FIXTURES / "gcp_regions_describe_us-central1.json"
GCP_LIST = FIXTURES / "gcp_regions_list.json"
AZURE = FIXTURES / "azure_vm_list_usage_eastus.json"


def rows(quotas: list[Quota]) -> list[tuple[str, str, str, str, int]]:
    return [(q.cloud, q.region, q.family, q.capacity, q.limit) for q in quotas]


def test_aws_vcpu_quotas_map_to_family_classes_with_region_from_arn() -> None:
    result = import_quotas("aws", AWS)
    assert rows(result.quotas) == [
        ("aws", "us-east-1", "G", "on-demand", 64),
        ("aws", "us-east-1", "P", "on-demand", 384),
        ("aws", "us-east-1", "P", "spot", 96),
        ("aws", "us-east-1", "Standard", "on-demand", 1152),
        ("aws", "us-east-1", "Trn", "on-demand", 0),
        ("aws", "us-east-1", "VT", "on-demand", 64),
    ]
    # Not vCPU-per-class quotas the planner uses: reported, never guessed.
    assert result.skipped == {"EC2-VPC Elastic IPs": 1, "Running On-Demand High Memory instances": 1}


def test_aws_region_flag_overrides_the_arn(tmp_path: Path) -> None:
    result = import_quotas("aws", AWS, region="eu-west-1")
    assert {q.region for q in result.quotas} == {"eu-west-1"}
    doc = json.loads(AWS.read_text())
    for q in doc["Quotas"]:
        del q["QuotaArn"]
    bare = tmp_path / "q.json"
    bare.write_text(json.dumps(doc))
    with pytest.raises(SpecError, match="pass --region") as err:
        import_quotas("aws", bare)
    assert err.value.field == "Quotas[0].QuotaArn"


def test_gcp_describe_maps_gpus_and_preemptible_to_spot() -> None:
    result = import_quotas("gcp", GCP_ONE)
    assert rows(result.quotas) == [
        ("gcp", "us-central1", "CPUS", "on-demand", 2400),
        ("gcp", "us-central1", "CPUS", "spot", 1200),
        ("gcp", "us-central1", "NVIDIA_A100_GPUS", "on-demand", 16),
        ("gcp", "us-central1", "NVIDIA_A100_GPUS", "spot", 8),
        ("gcp", "us-central1", "NVIDIA_L4_GPUS", "on-demand", 4),
    ]
    assert result.skipped == {"COMMITTED_NVIDIA_A100_GPUS": 1, "DISKS_TOTAL_GB": 1, "SSD_TOTAL_GB": 1}


def test_gcp_regions_list_and_region_filter() -> None:
    everything = import_quotas("gcp", GCP_LIST)
    assert {q.region for q in everything.quotas} == {"europe-west4", "us-east1"}
    assert everything.skipped == {"SSD_TOTAL_GB": 2}
    one = import_quotas("gcp", GCP_LIST, region="europe-west4")
    assert rows(one.quotas) == [
        ("gcp", "europe-west4", "CPUS", "on-demand", 24),
        ("gcp", "europe-west4", "NVIDIA_H100_GPUS", "on-demand", 8),
        ("gcp", "europe-west4", "NVIDIA_H100_GPUS", "spot", 16),
    ]
    with pytest.raises(SpecError, match="'asia-east1' is not in the file"):
        import_quotas("gcp", GCP_LIST, region="asia-east1")


def test_azure_families_and_low_priority_cores() -> None:
    result = import_quotas("azure", AZURE, region="eastus")
    assert rows(result.quotas) == [
        ("azure", "eastus", "lowPriorityCores", "spot", 100),
        ("azure", "eastus", "standardDSv5Family", "on-demand", 350),
        ("azure", "eastus", "standardNCADSA100v4Family", "on-demand", 96),
        ("azure", "eastus", "standardNCASv3_T4Family", "on-demand", 48),
    ]
    assert result.skipped == {"availabilitySets": 1, "basicAFamily": 1, "cores": 1}


def test_azure_needs_a_region() -> None:
    with pytest.raises(SpecError, match="pass --region"):
        import_quotas("azure", AZURE)


def test_imported_families_match_the_catalogs_quota_families(embedded_catalog: Catalog) -> None:
    """The names imported are the names offers draw on (compared as quotafamily does)."""
    from planner.catalog.quotafamily import normalize_family

    a100 = {normalize_family(o.quota_family) for o in embedded_catalog
            if o.cloud == "azure" and o.instance_type == "Standard_NC24ads_A100_v4"}
    gcp = {o.quota_family for o in embedded_catalog
           if o.cloud == "gcp" and o.instance_type == "a2-highgpu-1g"}
    p4 = {o.quota_family for o in embedded_catalog if o.instance_type == "p4d.24xlarge"}
    assert a100 == {normalize_family("standardNCADSA100v4Family")}
    assert gcp == {"NVIDIA_A100_GPUS"}
    assert p4 == {"P"}


@pytest.mark.parametrize(("text", "message"), [
    ('{"Quotas": [', "not JSON"),
    ('[1, 2]', "expected the output of `aws service-quotas"),
    ('{"Quotas": [{"QuotaName": "Running On-Demand P instances", "Value": "lots", '
     '"QuotaArn": "arn:aws:servicequotas:us-east-1:1:ec2/L-1"}]}', "limit must be a number"),
    ('{"Quotas": [{"QuotaName": "Running On-Demand P instances", "Value": -1, '
     '"QuotaArn": "arn:aws:servicequotas:us-east-1:1:ec2/L-1"}]}', "limit must be a number"),
])
def test_bad_aws_files_exit_2_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "q.json"
    path.write_text(text)
    result = run_cli("quotas", "import", "aws", str(path))
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and message in lines[0] and str(path) in lines[0]


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text('[\n  {"name": {"value": "cores"}, "limit": 1},\n  oops\n]')
    with pytest.raises(SpecError) as err:
        import_quotas("azure", path, region="eastus")
    assert err.value.line == 3


def test_conflicting_limits_are_an_error(tmp_path: Path) -> None:
    doc = [{"name": {"value": "lowPriorityCores"}, "limit": 10},
           {"name": {"value": "lowPriorityCores"}, "limit": 20}]
    path = tmp_path / "q.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SpecError, match="two different limits"):
        import_quotas("azure", path, region="eastus")


def test_missing_file_exits_2() -> None:
    result = run_cli("quotas", "import", "gcp", "/nonexistent/quotas.json")
    assert result.code == 2 and "cannot read quota file" in result.err


def test_cli_prints_a_quotas_section_that_validates_and_reports_skips() -> None:
    result = run_cli("quotas", "import", "aws", str(AWS))
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert list(doc) == ["quotas"]
    quotas = [Quota.model_validate(q) for q in doc["quotas"]]
    assert ("aws", "us-east-1", "P", "spot", 96) in rows(quotas)
    assert list(doc["quotas"][0]) == ["cloud", "region", "family", "capacity", "limit"]
    err = result.err.splitlines()
    assert "skipped unknown quota 'EC2-VPC Elastic IPs'" in err
    assert err[-1].endswith("imported 6 quotas from " + str(AWS) + "; skipped 2 entries with unknown names")


def test_cli_json_format_and_counted_skips() -> None:
    result = run_cli("quotas", "import", "gcp", str(GCP_LIST), "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert [q["family"] for q in doc["quotas"] if q["region"] == "us-east1"] == \
        ["CPUS", "NVIDIA_T4_GPUS", "NVIDIA_T4_VWS_GPUS"]
    assert "skipped unknown quota 'SSD_TOTAL_GB' (2 entries)" in result.err.splitlines()


def test_cli_output_is_deterministic() -> None:
    first = run_cli("quotas", "import", "azure", str(AZURE), "--region", "eastus")
    second = run_cli("quotas", "import", "azure", str(AZURE), "--region", "eastus")
    assert first.code == 0 and first.out == second.out


def test_cli_rejects_an_unknown_cloud() -> None:
    result = run_cli("quotas", "import", "oracle", str(AWS))
    assert result.code == 2 and len(result.err.splitlines()) == 1


def test_families_no_offer_draws_on_are_noted(tmp_path: Path) -> None:
    doc = [{"name": {"value": "standardNCADSA100v4Family"}, "limit": 96},
           {"name": {"value": "standardZZQv9Family"}, "limit": 8}]  # a family no VM size has
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(doc))
    result = run_cli("quotas", "import", "azure", str(path), "--region", "eastus")
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if line.startswith("note:")]
    assert notes == ["note: quota family 'standardZZQv9Family' (azure) matches no instance "
                     "type in the catalog; the planner will not apply it"]
    assert "standardZZQv9Family" in result.out  # still imported: it is the account's limit


def test_unmatched_compares_like_the_planner() -> None:
    from planner.spec.quotaimport import unmatched

    quotas = [Quota(cloud="azure", region="eastus", family="standard_ncadsA100v4family", limit=1),
              Quota(cloud="azure", region="eastus", family="lowPriorityCores", capacity="spot", limit=1),
              Quota(cloud="gcp", region="us-east1", family="NVIDIA_T4_GPUS", limit=1)]
    left = unmatched(quotas, [("azure", "standardNCADSA100v4Family"), ("aws", "NVIDIA_T4_GPUS")])
    assert [q.family for q in left] == ["NVIDIA_T4_GPUS"]
