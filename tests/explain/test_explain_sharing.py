"""Explain on a shared pool: the slot, its price per slice-hour, and why not a whole GPU."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from planner.explain.reading import explain_workload
from planner.optimize.planning import plan_workloads
from planner.plan import read_plan
from planner.spec.load import parse_workloads
from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]


def test_mig_slot_is_named_and_priced_per_slice(full_catalog: Any) -> None:
    """The issue's wording: "1g.10gb of an a2-ultragpu-1g, $0.../slice-h"."""
    text = ("teams: {docs: {}}\nworkloads:\n  - {name: ocr, team: docs, kind: service, "
            "resources: {cloud: gcp, region: us-central1, gpu: {mig: 1g.10gb}}}\n")
    plan = plan_workloads(parse_workloads(text, "w.yaml", full_catalog), full_catalog)
    view = explain_workload(plan, "ocr")
    assert view.slot is not None
    pool = plan.pools[0]
    assert view.slot.text.startswith(f"1g.10gb of an {pool.instance_type} (7 a node")
    assert pool.instance_type == "a2-ultragpu-1g"
    assert view.slot.slot_hourly == (pool.node_hourly / 7).quantize(Decimal("0.0001"))
    assert f"${view.slot.slot_hourly}/slice-h" in view.slot.text
    assert view.slot.whole_gpu_hourly == pool.node_hourly.quantize(Decimal("0.0001"))
    assert "7 times the slice" in view.slot.why_shared


def test_explain_cli_shows_the_slot_in_text_and_markdown() -> None:
    plan = REPO / "examples" / "sharing" / "plan.json"
    out = run_cli("explain", str(plan), "nb-alice")
    assert out.code == 0, out.err
    assert "slot: 1 of 8 time-slices of a g6.xlarge" in out.out
    assert "not exclusive: a whole L4 of this node costs $0.8048/h" in out.out
    md = run_cli("explain", str(plan), "nb-alice", "--format", "md")
    assert "Slot: 1 of 8 time-slices of a g6.xlarge" in md.out


def test_exclusive_placements_have_no_slot() -> None:
    plan = read_plan(REPO / "examples" / "sharing" / "plan.json")
    assert explain_workload(plan, "finetune").slot is None
