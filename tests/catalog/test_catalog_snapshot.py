"""The embedded snapshot: reproducible from the shared tables, and faithful when read back."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

from planner.catalog.load import embedded_path, load_catalog, reduce_offers
from planner.catalog.model import CatalogMeta, Offer
from planner.catalog.skypilot import read_skypilot_dir
from planner.catalog.snapshot import META_FILE, OFFERS_FILE, read_snapshot, write_snapshot
from tests.cli import run_cli


def test_embedded_snapshot_is_reproducible_byte_for_byte(skypilot_dir: Path, tmp_path: Path) -> None:
    """Re-run the import command recorded in the embedded metadata; same bytes out."""
    embedded = embedded_path()
    meta = json.loads((embedded / META_FILE).read_text("utf-8"))
    out = tmp_path / "catalog"
    result = run_cli("catalog", "import", "--from-skypilot", str(skypilot_dir), "--out", str(out),
                     "--date", meta["date"], "--source", meta["source"])
    assert result.code == 0, result.err
    assert result.out == (f"wrote {meta['rows']} offers to {out}\n"
                          "catalog check: 0 prices flagged and left unused "
                          "(planner catalog check lists them)\n")
    for name in (OFFERS_FILE, META_FILE):
        assert (out / name).read_bytes() == (embedded / name).read_bytes(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog"]  # no temp dirs left behind


def test_embedded_metadata_says_where_and_when(embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    meta = embedded_catalog.meta
    assert meta.date == "2026-05-20"
    assert "SkyPilot catalog v8" in meta.source
    assert meta.clouds == ("aws", "azure", "gcp")
    assert meta.rows == len(embedded_catalog) > 10_000


def test_embedded_keeps_every_accelerator_offer(embedded_catalog, full_catalog) -> None:  # type: ignore[no-untyped-def]
    """Reduced means: all accelerator offers, plus common CPU families only."""
    full_gpu = {dataclasses.astuple(o) for o in full_catalog if o.accelerator}
    embedded_gpu = {dataclasses.astuple(o) for o in embedded_catalog if o.accelerator}
    assert embedded_gpu == full_gpu
    cpu_types = {o.instance_type for o in embedded_catalog if not o.accelerator}
    assert "n2-standard-8" in cpu_types and "m5.xlarge" in cpu_types
    assert not {t for t in cpu_types if t.startswith(("t2.", "Standard_A"))}


def test_snapshot_round_trip_keeps_every_field(tmp_path: Path) -> None:
    offers = [
        Offer("aws", "us-east-1", None, "p4d.24xlarge", "A100", 8.0, 40.0, 96.0, 1152.0,
              Decimal("21.957642"), Decimal("7.246022"), "P", 3, "x86_64"),
        Offer("gcp", "us-central1", "us-central1-a", "g2-standard-4", "L4", 1.0, 24.0, 4.0, 16.0,
              Decimal("0.70683"), None, "NVIDIA_L4_GPUS"),
        Offer("azure", "eastus", None, "Standard_NC4as_T4_v3", "T4", 0.5, None, 4.0, 28.0,
              Decimal("0.526"), Decimal("0.0526"), "standardNCASv3_T4Family", None, "arm64"),
    ]
    write_snapshot(tmp_path / "snap", offers, CatalogMeta(source="test", date="2026-01-01"))
    back = read_snapshot(tmp_path / "snap")
    assert sorted(back.offers, key=lambda o: o.key) == sorted(offers, key=lambda o: o.key)
    assert back.meta.rows == 3 and back.meta.clouds == ("aws", "azure", "gcp")


def test_reduce_drops_uncommon_cpu_types() -> None:
    def cpu(itype: str) -> Offer:
        return Offer("aws", "us-east-1", None, itype, None, 0.0, None, 2.0, 8.0,
                     Decimal("0.1"), None, "Standard")
    kept = reduce_offers([cpu("m5.large"), cpu("t2.micro"), cpu("c6i.4xlarge"), cpu("x1e.xlarge")])
    assert [o.instance_type for o in kept] == ["m5.large", "c6i.4xlarge"]


def test_full_catalog_has_all_three_clouds(full_catalog) -> None:  # type: ignore[no-untyped-def]
    assert full_catalog.clouds == ["aws", "azure", "gcp"]
    assert len(full_catalog) > 80_000
    assert {o.cloud for o in full_catalog.offers_for("H100")} == {"aws", "azure", "gcp"}


def test_load_catalog_reads_a_snapshot_directory(tmp_path: Path) -> None:
    offer = Offer("gcp", "us-east1", "us-east1-b", "n2-standard-8", None, 0.0, None, 8.0, 32.0,
                  Decimal("0.388"), Decimal("0.09"), "CPUS")
    write_snapshot(tmp_path / "snap", [offer], CatalogMeta(source="s", date="2026-02-02"))
    catalog = load_catalog(tmp_path / "snap")
    assert catalog.offers == (offer,)
    assert catalog.region_of_zone("us-east1-b") == "us-east1"
    assert catalog.zones("gcp") == {"us-east1-b"} and catalog.zones("aws") == set()


def test_reader_keeps_every_priced_row(skypilot_dir: Path) -> None:
    """AWS and Azure: one offer per data row (every shared row has an on-demand price)."""
    offers = read_skypilot_dir(skypilot_dir)
    by_cloud: dict[str, int] = {}
    for o in offers:
        by_cloud[o.cloud] = by_cloud.get(o.cloud, 0) + 1
    assert by_cloud["aws"] == 450 and by_cloud["azure"] == 56_671
    assert all(o.interruption_bucket in (None, 0, 1, 2, 3, 4) for o in offers if o.cloud == "aws")
    assert any(o.interruption_bucket is not None for o in offers if o.cloud == "aws")
