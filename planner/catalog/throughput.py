"""Relative training throughput per accelerator (A100 40GB = 1.0).

Runtime of a job on accelerator B, given its work on accelerator A:

    hours_B = hours_A x (throughput_A x count_A) / (throughput_B x count_B)

Measured figures come from Lambda's public PyTorch benchmarks
(``../shared/data/gpu-benchmarks``, lambdal/deeplearning-benchmark @ aa5addb6):

* v1 table (``lambda_pytorch-train-throughput-fp16.csv``): the median, over
  the seven tasks the v1 and v2 tables share (ssd, bert_base_squad,
  bert_large_squad, gnmt, resnet50, tacotron2, waveglow; so both tables are
  compared on the same work), of the row's fp16 throughput divided by the
  ``LambdaCloud A100 40GB PCIe`` row. Rows: A100-80GB = ``A100 80GB SXM4``,
  V100 = ``LambdaCloud V100 16GB``, A10 = ``LambdaCloud A10``, H100 =
  ``H100 80GB SXM5``. V100-32GB and H100-MEGA take the figure of the same
  chip (V100, H100): same compute, more memory or network.
* v2 table (H200, B200): per task, the median over single-GPU runs
  (``_1x<GPU>`` in the run id) divided by the median over single-GPU
  ``H100_80GB_SXM5`` runs; the median of those ratios times the H100 figure.

``tests/test_throughput.py`` recomputes them from the CSVs.

Accelerators without a measurement use the ratio of their datasheet dense
FP16 tensor TFLOPS to the A100's 312 (NVIDIA / AMD product briefs); these are
marked ``datasheet``. A workload can override any figure in
``work.throughput``. Accelerators missing here have no throughput figure:
work given on another accelerator cannot be converted to them.
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class Throughput(NamedTuple):
    relative: float
    basis: Literal["measured", "datasheet"]


THROUGHPUT: dict[str, Throughput] = {
    "A100": Throughput(1.0, "measured"),
    "A100-80GB": Throughput(1.253, "measured"),
    "V100": Throughput(0.487, "measured"),
    "V100-32GB": Throughput(0.487, "measured"),
    "A10": Throughput(0.412, "measured"),
    "H100": Throughput(2.048, "measured"),
    "H100-MEGA": Throughput(2.048, "measured"),
    "H200": Throughput(2.316, "measured"),
    "B200": Throughput(3.455, "measured"),
    "T4": Throughput(0.208, "datasheet"),
    "T4g": Throughput(0.208, "datasheet"),
    "L4": Throughput(0.388, "datasheet"),
    "A10G": Throughput(0.224, "datasheet"),
    "L40S": Throughput(1.160, "datasheet"),
    "P100": Throughput(0.060, "datasheet"),
    "P4": Throughput(0.035, "datasheet"),
    "M60": Throughput(0.031, "datasheet"),
    "MI300X": Throughput(4.189, "datasheet"),
    "MI25": Throughput(0.079, "datasheet"),
    "RTXPRO6000": Throughput(1.615, "datasheet"),
    "RTXPRO4500": Throughput(0.705, "datasheet"),
    "B300": Throughput(3.455, "datasheet"),
}


def relative_throughput(accelerator: str, overrides: dict[str, float] | None = None) -> float | None:
    """Throughput of one ``accelerator`` relative to an A100 40GB, or None if unknown."""
    if overrides:
        for name, value in overrides.items():
            if name.lower() == accelerator.lower():
                return value
    entry = THROUGHPUT.get(accelerator) or _BY_LOWER.get(accelerator.lower())
    return entry.relative if entry else None


_BY_LOWER = {name.lower(): value for name, value in THROUGHPUT.items()}
