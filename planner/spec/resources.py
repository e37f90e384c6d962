"""SkyPilot-style resource syntax: accelerators, cpus and memory.

Accepted forms (as in SkyPilot task YAML):

* ``accelerators: A100:8``           exactly 8 A100 per node
* ``accelerators: A100``             one A100
* ``accelerators: {A100: 8, H100: 8}``  any of these, the planner picks
* ``accelerators: [H100:8, A100:8]`` an ordered list: any of, earlier preferred on ties
* ``cpus: 8`` exactly 8 vCPUs, ``cpus: 8+`` at least 8
* ``memory: 64+`` at least 64 GiB, ``memory: 4x`` at least 4 GiB per vCPU

Counts may be fractional below 1 (``T4:0.5``) for shared GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_ACCELERATORS_PER_NODE = 16


@dataclass(frozen=True, order=True)
class AcceleratorChoice:
    """One acceptable accelerator: name and count per node, with its preference rank."""

    rank: int
    name: str
    count: float


def parse_accelerators(value: Any) -> tuple[AcceleratorChoice, ...]:
    """Parse the ``accelerators`` field; raise ValueError with a readable message."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (_parse_one(value, 0),)
    if isinstance(value, dict):
        if not value:
            raise ValueError("an empty mapping names no accelerator")
        return tuple(
            AcceleratorChoice(0, _name(k), _count(v, k)) for k, v in value.items()
        )
    if isinstance(value, list):
        if not value:
            raise ValueError("an empty list names no accelerator")
        out: list[AcceleratorChoice] = []
        for rank, item in enumerate(value):
            if isinstance(item, str):
                out.append(_parse_one(item, rank))
            elif isinstance(item, dict) and len(item) == 1:
                (k, v), = item.items()
                out.append(AcceleratorChoice(rank, _name(k), _count(v, k)))
            else:
                raise ValueError(f"list item {item!r} is not 'NAME:COUNT' or {{NAME: COUNT}}")
        return tuple(out)
    raise ValueError(f"expected 'NAME:COUNT', a mapping or a list, got {type(value).__name__}")


def _parse_one(text: str, rank: int) -> AcceleratorChoice:
    name, sep, count = text.strip().partition(":")
    return AcceleratorChoice(rank, _name(name), _count(count if sep else 1, name))


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"accelerator name must be a non-empty string (got {name!r})")
    return name.strip()


def _count(value: Any, name: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"count for {name!r} must be a number (got {value!r})")
    try:
        count = float(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError):
        raise ValueError(f"count for {name!r} must be a number (got {value!r})") from None
    if not count > 0:
        raise ValueError(f"count for {name!r} must be positive (got {value!r})")
    if count > 1 and count != int(count):
        raise ValueError(f"count for {name!r} must be a whole number above 1 (got {value!r})")
    if count > MAX_ACCELERATORS_PER_NODE:
        raise ValueError(
            f"count for {name!r} is {value!r}, but no node has more than "
            f"{MAX_ACCELERATORS_PER_NODE} accelerators"
        )
    return count


@dataclass(frozen=True)
class AmountRequest:
    """``8`` (exactly), ``8+`` (at least) or, for memory, ``4x`` (GiB per vCPU)."""

    value: float
    at_least: bool
    per_cpu: bool = False

    def admits(self, offered: float, vcpus: float = 0.0) -> bool:
        wanted = self.value * vcpus if self.per_cpu else self.value
        return offered >= wanted if (self.at_least or self.per_cpu) else offered == wanted


def parse_amount(value: Any, what: str, allow_per_cpu: bool = False) -> AmountRequest | None:
    """Parse ``cpus`` / ``memory``: number, ``N+`` or (memory) ``Nx``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number like 8 or 8+ (got {value!r})")
    text = str(value).strip()
    at_least = text.endswith("+")
    per_cpu = allow_per_cpu and text.lower().endswith("x")
    number = text[:-1] if (at_least or per_cpu) else text
    try:
        amount = float(Decimal(number))
    except (InvalidOperation, ValueError):
        hint = "8, 8+ or 4x" if allow_per_cpu else "8 or 8+"
        raise ValueError(f"{what} must look like {hint} (got {value!r})") from None
    if not amount > 0 or amount != amount:
        raise ValueError(f"{what} must be positive (got {value!r})")
    if amount > 100_000:
        raise ValueError(f"{what} {value!r} is larger than any machine")
    return AmountRequest(amount, at_least, per_cpu)
