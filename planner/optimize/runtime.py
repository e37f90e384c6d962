"""How long a workload runs on an offer, in hours.

* Services run all month: ``hours_per_month``.
* ``work.duration_hours`` is wall time on the workload's FIRST listed
  accelerator choice (its name and per-node count, on ``num_nodes`` nodes).
* ``work.gpu_hours`` is GPU-hours on ``work.reference`` (an A100 unless
  given): wall time = gpu_hours / (relative speed x GPUs in the job).

Between accelerators, time scales with total throughput (relative speed x
count x nodes), using :mod:`planner.catalog.throughput` and the workload's overrides.
CPU-only jobs take ``duration_hours`` as given. ``None`` means the runtime
cannot be known (no throughput figure for the accelerator).
"""

from __future__ import annotations

from planner.catalog.throughput import relative_throughput
from planner.spec.model import Workload


def runtime_hours(w: Workload, accelerator: str | None, count: float,
                  hours_per_month: float) -> float | None:
    """Wall-clock hours of one run of ``w`` on ``count`` x ``accelerator`` per node."""
    if w.kind == "service" or w.work is None:
        return hours_per_month
    work = w.work
    if accelerator is None:
        return work.duration_hours
    overrides = work.throughput
    speed = relative_throughput(accelerator, overrides)
    total_gpus = count * w.num_nodes
    if work.gpu_hours is not None:
        ref_speed = relative_throughput(work.reference, overrides)
        if speed is None or ref_speed is None:
            return None
        return work.gpu_hours * ref_speed / (speed * total_gpus)
    assert work.duration_hours is not None
    first = w.resources.choices[0] if w.resources.choices else None
    if first is None:
        return work.duration_hours
    if first.name.lower() == accelerator.lower() and first.count == count:
        return work.duration_hours
    base_speed = relative_throughput(first.name, overrides)
    if speed is None or base_speed is None:
        return None
    return work.duration_hours * (base_speed * first.count) / (speed * count)
