"""benchmarks/plan_stages.py times planner plan's stages on the plan the CLI writes: its
plan.json is the bytes of ``planner plan FILE --out``, and its stages add up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from tests.benchmark_script import load
from tests.cli import run_cli
from tests.scaleset import synthetic


def test_stages_are_timed_on_the_plan_the_cli_writes(skypilot_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "synthetic-40.yaml"
    spec.write_text(yaml.safe_dump(synthetic(40)))
    figures = load("plan_stages").run_size(0, 7, skypilot_dir, spec)
    out = tmp_path / "plan.json"
    result = run_cli("--catalog", str(skypilot_dir), "plan", str(spec), "--out", str(out),
                     "--format", "json", "--quiet", "--max-catalog-age-days", "100000")
    assert result.code == 0, result.err
    assert figures["plan_json_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()[:16]
    assert figures["workloads"] == 40 and figures["plan_json_bytes"] == len(out.read_bytes())
    parts = [v for k, v in figures.items() if k.endswith("_cpu_s") and k != "total_cpu_s"]
    assert all(v >= 0 for v in parts) and sum(parts) <= figures["total_cpu_s"] + 0.05
