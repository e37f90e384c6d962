"""`planner catalog show` and `planner catalog gpus` filters, on the embedded catalog."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.cli import run_cli


def test_show_json_lists_every_place_cheapest_first(embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("catalog", "show", "a2-highgpu-1g", "--format", "json")
    assert (result.code, result.err) == (0, "")
    rows = json.loads(result.out)
    expected = [o for o in embedded_catalog if o.instance_type == "a2-highgpu-1g"]
    assert len(rows) == len(expected) > 10
    prices = [Decimal(r["price"]) for r in rows]
    assert prices == sorted(prices) and prices[0] == min(o.price for o in expected)
    assert {(r["cloud"], r["accelerator"], r["accelerator_count"], r["vcpus"], r["quota_family"])
            for r in rows} == {("gcp", "A100", 1.0, 12.0, "NVIDIA_A100_GPUS")}
    assert {r["zone"] for r in rows} == {o.zone for o in expected}


def test_show_table_has_shape_in_title_and_a_row_per_place() -> None:
    result = run_cli("catalog", "show", "p4d.24xlarge")
    assert result.code == 0
    assert "p4d.24xlarge: 96 vCPUs, 1152 GiB, A100:8" in result.out
    assert "$21.9576" in result.out and "$7.2460" in result.out and "│ P " in result.out


def test_show_is_case_insensitive() -> None:
    exact = run_cli("catalog", "show", "Standard_ND96asr_v4", "--format", "json")
    loose = run_cli("catalog", "show", "standard_nd96asr_V4", "--format", "json")
    assert exact.code == loose.code == 0
    assert exact.out == loose.out


def test_show_unknown_type_suggests_and_exits_2() -> None:
    result = run_cli("catalog", "show", "a2-higpu-8g")
    assert result.code == 2
    assert result.err == ("error: instance type 'a2-higpu-8g' is not in the catalog "
                          "(did you mean 'a2-highgpu-8g'?)\n")


def test_gpus_filters_by_cloud_region_and_spot() -> None:
    result = run_cli("catalog", "gpus", "--cloud", "GCP", "--region", "us-central1", "--spot",
                     "--format", "json")
    assert result.code == 0
    rows = json.loads(result.out)["gpus"]
    assert rows and {r["cloud"] for r in rows} == {"gcp"}
    assert all(r["spot_where"].startswith("us-central1-") for r in rows)
    assert all(r["on_demand"] is None and r["spot"] is not None for r in rows)


def test_gpus_rejects_an_unknown_cloud() -> None:
    result = run_cli("catalog", "gpus", "--cloud", "oracle")
    assert result.code == 2
    assert result.err == "error: --cloud must be aws, gcp or azure, got 'oracle'\n"


def test_gpus_table_names_the_catalog_date() -> None:
    result = run_cli("catalog", "gpus", "--cloud", "aws")
    assert result.code == 0
    assert "catalog of 2026-05-20" in result.out and "H100" in result.out


def test_import_rejects_a_bad_date(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("catalog", "import", "--from-skypilot", str(tmp_path), "--out",
                     str(tmp_path / "out"), "--date", "May 2026")
    assert result.code == 2
    assert "--date must be YYYY-MM-DD" in result.err
    assert not (tmp_path / "out").exists()
