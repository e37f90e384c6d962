"""``planner plan --check``: is a committed ``plan.json`` what its declaration gives?

The CLI re-plans the declaration kept in the plan (on the plan's catalog) and
hands both here; this module only compares. Two rules:

- **bytes**: the committed file must be byte for byte what ``planner plan``
  writes for the declaration. This holds whenever the search is deterministic,
  which it is when the solver proves its answer optimal (gap 0; ties break by
  stable ids).
- **within the gap**: when the fresh search stopped early (gap > 0, a time
  limit), another run may find another placement as good. The committed plan
  then passes if it differs only where the search has a choice: the same
  declaration, catalog and set of placed workloads; every pool both plans use
  has the same shape and price; and its cost lies in the fresh run's proven
  band, ``[lower bound, objective / (1 - gap)]``. A hand-lowered price fails
  either way: on a shared pool by its price, elsewhere by a cost under the bound.

:func:`differences` is the short diff shown on failure: JSON paths where the two
documents differ, lists of records aligned by their id (``pools[<id>]``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from planner.plan import Plan, dumps_plan

MAX_LINES = 20
# Fields of a pool that depend on which workloads the search put there, not on the catalog.
POOL_PLACEMENT_FIELDS = {"nodes", "min_nodes", "max_nodes", "hourly", "monthly", "workloads",
                         "teams", "placement_group"}
KEYS = ("id", "name", "workload", "reason", "offer", "code")


@dataclass(frozen=True)
class Sides:
    """How the short diff names its two sides."""

    old: str = "plan.json"
    new: str = "the declaration"


@dataclass(frozen=True)
class CheckResult:
    matches: bool
    rule: str  # "bytes" or "gap"
    lines: tuple[str, ...]  # the short diff (empty when it matches)


def check_plan(committed_text: str, committed: Plan, fresh: Plan,
               sides: Sides = Sides()) -> CheckResult:
    """Compare the committed plan (its file text and model) with a fresh one."""
    fresh_text = dumps_plan(fresh)
    if committed_text == fresh_text:
        return CheckResult(True, "bytes", ())
    lines = differences(json.loads(committed_text), json.loads(fresh_text), sides)
    if not lines:
        lines = ["the content is the same, but not as 'planner plan --out' writes it "
                 "(key order, spacing or number format)"]
    if fresh.solver.gap == 0:
        return CheckResult(False, "bytes", tuple(lines))
    problems = outside_gap(committed, fresh, sides)
    return CheckResult(not problems, "gap", tuple(problems))


def outside_gap(committed: Plan, fresh: Plan, sides: Sides = Sides()) -> list[str]:
    """Why ``committed`` is not a placement the stopped-early search could also give."""
    problems = []
    if committed.spec != fresh.spec or committed.catalog != fresh.catalog:
        problems.append("the declaration or the catalog differs")
    if committed.hours_per_month != fresh.hours_per_month:
        problems.append("hours_per_month differs")
    placed = {p.workload for p in committed.placements}
    fresh_placed = {p.workload for p in fresh.placements}
    if placed != fresh_placed:
        problems.append(f"placed workloads differ: only in {sides.old} "
                        f"{sorted(placed - fresh_placed)}, only from {sides.new} "
                        f"{sorted(fresh_placed - placed)}")
    fresh_pools = {p.id: p.model_dump(mode="json") for p in fresh.pools}
    for pool in committed.pools:
        mine = pool.model_dump(mode="json")
        other = fresh_pools.get(pool.id)
        for key in sorted(set(mine) - POOL_PLACEMENT_FIELDS):
            if other is not None and mine[key] != other[key]:
                problems.append(f"pools[{pool.id}].{key}: {sides.old} has {_show(mine[key])}, "
                                f"{sides.new} gives {_show(other[key])}")
    low = fresh.solver.lower_bound
    high = fresh.solver.objective / (1 - fresh.solver.gap) if fresh.solver.gap < 1 else None
    cost = committed.solver.objective
    if cost < low or (high is not None and cost > high):
        band = f"[{low}, {high.quantize(Decimal('0.0001')) if high is not None else '...'}]"
        problems.append(f"solver.objective: {sides.old} costs {cost} a month, outside what "
                        f"{sides.new} gives {band}")
    return problems


def differences(old: Any, new: Any, sides: Sides = Sides(), path: str = "") -> list[str]:
    """``path: plan.json has X, the declaration gives Y`` per differing leaf, at most
    :data:`MAX_LINES` lines (then how many more)."""
    out: list[str] = []
    _diff(old, new, path, out, sides)
    if len(out) > MAX_LINES:
        return out[:MAX_LINES] + [f"... and {len(out) - MAX_LINES} more"]
    return out


def _diff(old: Any, new: Any, path: str, out: list[str], sides: Sides) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"{where}: only in {sides.old}")
            elif key not in old:
                out.append(f"{where}: missing from {sides.old}")
            else:
                _diff(old[key], new[key], where, out, sides)
    elif isinstance(old, list) and isinstance(new, list) and _key(old, new):
        key = str(_key(old, new))
        mine = {item[key]: item for item in old}
        theirs = {item[key]: item for item in new}
        for k in sorted(set(mine) | set(theirs)):
            where = f"{path}[{k}]"
            if k not in theirs:
                out.append(f"{where}: only in {sides.old}")
            elif k not in mine:
                out.append(f"{where}: missing from {sides.old}")
            else:
                _diff(mine[k], theirs[k], where, out, sides)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, f"{path}[{i}]", out, sides)
    elif old != new:
        out.append(f"{path}: {sides.old} has {_show(old)}, {sides.new} gives {_show(new)}")


def _key(old: list[Any], new: list[Any]) -> str | None:
    """The id field that tells the records of both lists apart, if they are records."""
    if not all(isinstance(i, dict) for i in old + new):
        return None
    for key in KEYS:
        ids = [[i.get(key) for i in side] for side in (old, new)]
        if all(isinstance(k, str) for side in ids for k in side):
            return key if all(len(set(side)) == len(side) for side in ids) else None
    return None


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."
