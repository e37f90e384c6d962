"""The "measured" throughput figures, recomputed from the benchmark CSVs.

The rule is the one planner/catalog/throughput.py documents; this file computes it
again with ``csv`` and ``statistics`` only and compares to 0.01.
"""

from __future__ import annotations

import csv
import re
import statistics
from pathlib import Path

import pytest

from planner.catalog.throughput import THROUGHPUT, relative_throughput

REFERENCE = "LambdaCloud A100 40GB PCIe"
V1_ROWS = {
    "A100": REFERENCE,
    "A100-80GB": "A100 80GB SXM4",
    "V100": "LambdaCloud V100 16GB",
    "V100-32GB": "LambdaCloud V100 16GB",
    "A10": "LambdaCloud A10",
    "H100": "H100 80GB SXM5",
    "H100-MEGA": "H100 80GB SXM5",
}
V2_RUNS = {"H200": "H200", "B200": "B200"}  # single-GPU runs, relative to H100_80GB_SXM5


@pytest.fixture(scope="module")
def benchmarks(shared: Path) -> Path:
    return shared / "data" / "gpu-benchmarks"


def v2_table(benchmarks: Path) -> tuple[list[str], list[list[str]]]:
    with (benchmarks / "lambda_pytorch-train-throughput-v2-fp16.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    return rows[0][1:], [r for r in rows[1:] if r and r[0]]


def v1_ratio(benchmarks: Path, row_name: str) -> float:
    tasks, _ = v2_table(benchmarks)
    with (benchmarks / "lambda_pytorch-train-throughput-fp16.csv").open(newline="") as f:
        rows = {r["name_gpu"]: r for r in csv.DictReader(f)}
    row, ref = rows[row_name], rows[REFERENCE]
    return statistics.median(float(row[t]) / float(ref[t]) for t in tasks
                             if float(row[t]) > 0 and float(ref[t]) > 0)


def v2_median_per_task(benchmarks: Path, gpu: str) -> dict[str, float]:
    tasks, rows = v2_table(benchmarks)
    runs = [r for r in rows if re.search(rf"_1x{gpu}_", r[0])]
    assert runs, gpu
    out = {}
    for i, task in enumerate(tasks, start=1):
        values = [float(r[i]) for r in runs if r[i] and float(r[i]) > 0]
        if values:
            out[task] = statistics.median(values)
    return out


def test_every_measured_figure_is_checked_here() -> None:
    measured = {name for name, t in THROUGHPUT.items() if t.basis == "measured"}
    assert measured == set(V1_ROWS) | set(V2_RUNS)


@pytest.mark.parametrize("accelerator", sorted(V1_ROWS))
def test_v1_figures(benchmarks: Path, accelerator: str) -> None:
    expected = v1_ratio(benchmarks, V1_ROWS[accelerator])
    assert THROUGHPUT[accelerator].relative == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("accelerator", sorted(V2_RUNS))
def test_v2_figures_scale_from_h100(benchmarks: Path, accelerator: str) -> None:
    gpu = v2_median_per_task(benchmarks, V2_RUNS[accelerator])
    h100 = v2_median_per_task(benchmarks, "H100_80GB_SXM5")
    ratio = statistics.median(gpu[t] / h100[t] for t in gpu if t in h100)
    expected = v1_ratio(benchmarks, V1_ROWS["H100"]) * ratio
    assert THROUGHPUT[accelerator].relative == pytest.approx(expected, abs=0.01)


def test_reference_is_one_and_faster_chips_rank_higher() -> None:
    rel = {name: t.relative for name, t in THROUGHPUT.items()}
    assert rel["A100"] == 1.0
    assert rel["V100"] < rel["A100"] < rel["A100-80GB"] < rel["H100"] < rel["H200"] < rel["B200"]


def test_lookup_overrides_and_unknowns() -> None:
    assert relative_throughput("H100") == THROUGHPUT["H100"].relative
    assert relative_throughput("h100") == THROUGHPUT["H100"].relative
    assert relative_throughput("H100", {"h100": 3.0}) == 3.0
    assert relative_throughput("A100", {"H100": 3.0}) == 1.0
    assert relative_throughput("TPU-v5") is None
