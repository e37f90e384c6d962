"""Shared GPUs in the declaration: a fraction, an amount of GPU memory, or a MIG profile.

Forms (all under a workload's ``resources`` unless noted):

* ``accelerators: "A100:0.25"``: a quarter of an A100 (a count below 1);
* ``gpu: {memory: 8GiB, isolation: none|capped|hard, compute: soft|hard}``: any GPU
  type with a slot of at least 8 GiB (``accelerators`` may name the types, without
  counts);
* ``gpu: {fraction: 0.5, ...}``: half of a GPU of the named (or any) type;
* ``gpu: {mig: 1g.10gb}``: exactly that MIG instance (or a whole GPU of a type that
  has the profile);
* the older ``gpu_fraction`` / ``mig_profile`` workload fields mean the same as
  ``gpu.fraction`` / ``gpu.mig``;
* set level: ``sharing: {allow: [mig, mps, time-slicing], max_clients_per_gpu: 8}``
  (default: all three, at most 48 clients per GPU, GKE's bound).

**Fraction semantics** (as KAI Scheduler's ``gpu-fraction``): a fraction ``f`` of a
GPU type with usable memory ``M`` asks for ``f x M`` of GPU memory. Under
time-slicing or MPS with ``N`` clients per GPU each client has ``M / N``, so
``f`` fits when ``N <= 1 / f``. Under MIG ``f`` asks for ``ceil(8 f)`` memory
slices of an A100-class GPU (``ceil(4 f)`` on an A30): 0.25 -> a 2-slice
instance (2g.10gb), 0.5 -> 3g.20gb, NVIDIA's "half" GPU, whose usable memory may
be up to 4 % under ``f x M``. Compute is a soft share unless ``compute: hard``:
then the slot must guarantee at least ``f`` of the GPU's compute (MIG compute
slices / 7, or MPS's 1/N thread limit; time-slicing guarantees none).

**Isolation** orders the slots: ``none`` (time-slicing: shared memory and faults)
< ``capped`` (MPS: memory and threads limited to 1/N) < ``hard`` (MIG, a whole
GPU, or a cloud's fractional VM). A job may take any slot at least as isolated
as it asks; the default is ``none``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from planner.catalog.gpus import all_mig_profiles
from planner.errors import FieldValueError

Isolation = Literal["none", "capped", "hard"]
SharingKind = Literal["mig", "mps", "time-slicing"]
ISOLATION_RANK = {"none": 0, "capped": 1, "hard": 2}
MAX_CLIENTS_PER_GPU = 48  # GKE's bound for time-sharing and MPS clients
MAX_GPU_MEMORY_GIB = 1024.0
_MEMORY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(GiB|Gi|MiB|Mi)?\s*$")


def parse_gpu_memory(value: Any) -> float:
    """``8GiB``, ``8Gi``, ``512MiB`` or a bare number of GiB -> GiB."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"must be an amount like 8GiB or 512MiB (got {value!r})")
    match = _MEMORY.match(str(value))
    if not match:
        hint = " (write GiB: 8GiB)" if str(value).strip().upper().endswith("GB") else ""
        raise ValueError(f"must be an amount like 8GiB or 512MiB (got {value!r}){hint}")
    try:
        amount = float(Decimal(match.group(1)))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"must be a number (got {value!r})") from None
    gib = amount / 1024 if (match.group(2) or "GiB").startswith("Mi") else amount
    if not gib > 0:
        raise ValueError(f"must be positive (got {value!r})")
    if gib > MAX_GPU_MEMORY_GIB:
        raise ValueError(f"{value!r} is more memory than any GPU has")
    return gib


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GpuShare(_Strict):
    """``resources.gpu``: what part of one GPU a job needs, and how isolated."""

    memory: Any = None
    fraction: float | None = Field(None, gt=0, lt=1)
    mig: str | None = None
    isolation: Isolation = "none"
    compute: Literal["soft", "hard"] = "soft"

    _memory_gib: float | None = PrivateAttr(default=None)

    @field_validator("mig")
    @classmethod
    def _known_profile(cls, v: str | None) -> str | None:
        return check_mig_profile(v)

    @model_validator(mode="after")
    def _check(self) -> GpuShare:
        if self.memory is not None:
            try:
                self._memory_gib = parse_gpu_memory(self.memory)
            except ValueError as exc:
                raise FieldValueError("memory", str(exc)) from None
        if self.mig is not None and (self.memory is not None or self.fraction is not None):
            raise FieldValueError("mig", "give a MIG profile or a memory/fraction, not both")
        return self

    @property
    def memory_gib(self) -> float | None:
        return self._memory_gib


def check_mig_profile(v: str | None) -> str | None:
    """A known MIG profile name, or a ValueError listing them."""
    if v is None:
        return v
    known = all_mig_profiles()
    if v not in known:
        raise ValueError(f"unknown MIG profile {v!r} (known: {', '.join(known)})")
    return v


class SharingPolicy(_Strict):
    """``sharing``: which sharing modes the planner may use, and how many clients per GPU."""

    allow: tuple[SharingKind, ...] = ("mig", "mps", "time-slicing")
    max_clients_per_gpu: int = Field(MAX_CLIENTS_PER_GPU, ge=2, le=MAX_CLIENTS_PER_GPU)


@dataclass(frozen=True)
class SharedRequest:
    """A workload's need for part of one GPU, resolved from every form above.

    ``fraction`` applies to choices without a count below 1 (a choice's own count
    below 1 is its fraction); ``memory_gib`` and ``mig`` apply to every type.
    """

    fraction: float | None
    memory_gib: float | None
    mig: str | None
    isolation: Isolation
    compute: Literal["soft", "hard"]

    def fraction_for(self, count: float) -> float | None:
        """The fraction asked of a choice with ``count`` per node."""
        return count if count < 1 else self.fraction

    def needs_mig_slices(self, fraction: float, memory_slices: int) -> int:
        """Memory slices a fraction asks of a GPU with ``memory_slices`` (see the module doc)."""
        return max(1, math.ceil(fraction * memory_slices - 1e-9))
