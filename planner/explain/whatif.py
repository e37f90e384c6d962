"""What-if: re-solve a plan's own workload set with a few changes, and what each limit is worth.

A plan carries the validated ``WorkloadSet`` it was made from (``Plan.spec``),
so a change is applied to that, the set is validated again, and
:func:`planner.optimize.planning.plan_workloads` solves it on the given catalog: the
result is exactly what ``planner plan`` gives for the changed file.

Changes (``planner explain --what-if CHANGE``, repeatable, applied in order):

* ``quota:CLOUD/REGION/FAMILY[/CAPACITY]=+16`` | ``-8`` | ``32``: a quota in
  its own unit (GCP GPUs, AWS/Azure vCPUs); CAPACITY is ``on-demand``
  (default) or ``spot``; an absolute value adds a quota not yet declared
* ``budget:TEAM=+5000`` | ``-10%`` | ``8000`` | ``none``: a monthly budget, USD
* ``region[:WORKLOAD]:deny=R1,R2`` and ``region[:WORKLOAD]:allow=R1``: deny a
  region (drops it from the allow list too), or allow it again (drops it from
  the deny list, joins a non-empty allow list); for every workload unless
  one is named
* ``discount:CLOUD=0.8`` | ``none``: the price multiplier of a cloud
* ``spot:WORKLOAD=allow|forbid|only``: ``use_spot`` auto, false, true
* ``capacity:CLUSTER=+8`` | ``64``: GPUs of an existing cluster
* ``stockout:CLOUD/REGION-or-ZONE/INSTANCE[/spot]`` (no value): that pool has no
  capacity; the workloads are re-planned without it (:mod:`planner.explain.stockout`)

Money is USD (``Decimal``; JSON strings): ``monthly`` is $ per month,
``hourly`` $/h; every ``delta`` is ``new - base`` and ``saving`` is
``base - new``.

JSON (``what_if`` in ``gpuplan/explain``): ``{changes: [str], base_source:
plan|re-solved, base_hourly, new_hourly, delta_hourly, base_monthly,
new_monthly, delta_monthly, delta_pct (percent of base, null at $0),
moved: [move], unplaced_before: [str], unplaced_after: [str], binding:
[Binding of the new plan]}`` where a move is ``{workload, team, change:
moved|placed|unplaced|cost, base: spot|null, new: spot|null, base_monthly,
new_monthly, delta, fallback_rank}`` (``fallback_rank``: which of its planned fallbacks it
moved to, else ``null``) and a spot is ``{pool, cloud, region, zone,
instance_type, capacity, nodes}``.

What each binding limit is worth (``--constraints``) is in
:mod:`planner.explain.constraintvalue`, built on :func:`apply_changes` and :func:`moves`.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from planner.catalog.model import Catalog
from planner.catalog.quotafamily import AZURE_SPOT_FAMILY
from planner.errors import PlanFileError, SpecError, UsageError
from planner.explain.stockout import Stockout, check_stockout, parse_stockout, without
from planner.optimize.candidates import quota_key_of
from planner.plan import Binding, Placement, Plan
from planner.spec.model import CLOUDS, WorkloadSet

EXAMPLE = "e.g. quota:gcp/us-central1/NVIDIA_A100_GPUS=+16, budget:research=+5000"
SPOT_POLICY: dict[str, bool | str] = {"allow": "auto", "forbid": False, "only": True}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- changes -------------------------------------------------------------------------
@dataclass(frozen=True)
class Amount:
    """``+N`` / ``-N`` (add), ``N`` (set), ``+N%`` / ``-N%`` (scale), or none (remove)."""

    op: Literal["add", "set", "pct", "none"]
    value: Decimal

    def apply(self, current: Decimal | None) -> Decimal | None:
        if self.op == "none":
            return None
        if self.op == "set":
            return self.value
        if current is None:
            raise ValueError("nothing declared to change; give an absolute value")
        return current + (self.value if self.op == "add" else current * self.value / 100)


@dataclass(frozen=True)
class Change:
    """One parsed ``--what-if``: ``kind``, its target, and the new value."""

    text: str
    kind: Literal["quota", "budget", "region", "discount", "spot", "capacity", "stockout"]
    target: tuple[str, ...]
    amount: Amount | None = None
    word: str = ""
    regions: tuple[str, ...] = ()
    stockout: Stockout | None = None


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"{why}; expected KIND:TARGET=VALUE, {EXAMPLE}", field=f"--what-if {text}")


def parse_amount(text: str, raw: str, *, pct: bool, none: bool, whole: bool) -> Amount:
    if none and raw.lower() == "none":
        return Amount("none", Decimal(0))
    is_pct = pct and raw.endswith("%")
    body = raw[:-1] if is_pct else raw
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise _bad(text, f"{raw!r} is not a number") from None
    if not value.is_finite() or (whole and value != value.to_integral_value()):
        raise _bad(text, f"{raw!r} is not a whole number" if whole else f"{raw!r} is not finite")
    if is_pct:
        if raw[0] not in "+-":
            raise _bad(text, "a percentage needs a sign (+10% or -10%)")
        return Amount("pct", value)
    return Amount("add" if raw[0] in "+-" else "set", value)


def parse_change(text: str) -> Change:
    """Parse one ``--what-if`` (see the module docstring); UsageError in one line if malformed."""
    lhs, eq, raw = text.partition("=")
    kind, _, target = lhs.strip().partition(":")
    raw, target = raw.strip(), target.strip()
    if kind == "stockout" and not eq:
        try:
            return Change(text, "stockout", (target,), stockout=parse_stockout(target))
        except ValueError as exc:
            raise _bad(text, str(exc)) from None
    if not eq or not raw or not target:
        raise _bad(text, "missing ':' target or '=' value")
    if kind == "quota":
        parts = target.split("/")
        if len(parts) == 3:
            parts.append("on-demand")
        if len(parts) != 4 or not all(parts) or parts[3] not in ("on-demand", "spot"):
            raise _bad(text, "a quota is CLOUD/REGION/FAMILY[/on-demand|spot]")
        if parts[0] not in CLOUDS:
            raise _bad(text, f"unknown cloud {parts[0]!r} (clouds: {', '.join(CLOUDS)})")
        return Change(text, "quota", tuple(parts),
                      parse_amount(text, raw, pct=False, none=False, whole=True))
    if kind == "budget":
        return Change(text, "budget", (target,),
                      parse_amount(text, raw, pct=True, none=True, whole=False))
    if kind == "capacity":
        return Change(text, "capacity", (target,),
                      parse_amount(text, raw, pct=False, none=False, whole=True))
    if kind == "discount":
        return _discount(text, target, raw)
    if kind == "spot":
        if raw not in SPOT_POLICY:
            raise _bad(text, f"spot is allow, forbid or only, not {raw!r}")
        return Change(text, "spot", (target,), word=raw)
    if kind == "region":
        return _region(text, target, raw)
    raise _bad(text, f"unknown change {kind!r} (quota, budget, region, discount, spot, capacity, "
               "stockout)")


def _discount(text: str, cloud: str, raw: str) -> Change:
    if cloud not in CLOUDS:
        raise _bad(text, f"unknown cloud {cloud!r} (clouds: {', '.join(CLOUDS)})")
    amount = parse_amount(text, raw, pct=False, none=True, whole=False)
    if amount.op == "add" or (amount.op == "set" and not Decimal(0) < amount.value <= 1):
        raise _bad(text, "a discount is a price multiplier in (0, 1], e.g. 0.8, or none")
    return Change(text, "discount", (cloud,), amount)


def _region(text: str, target: str, raw: str) -> Change:
    parts = target.split(":")
    if len(parts) > 2 or parts[-1] not in ("allow", "deny") or not all(parts):
        raise _bad(text, "a region change is region[:WORKLOAD]:allow=R or region[:WORKLOAD]:deny=R")
    regions = tuple(r.strip() for r in raw.split(","))
    if not all(regions):
        raise _bad(text, "empty region name")
    return Change(text, "region", tuple(parts[:-1]), word=parts[-1], regions=regions)


# -- applying changes ----------------------------------------------------------------
def spec_of(plan: Plan) -> WorkloadSet:
    """The WorkloadSet a plan was made from (PlanFileError if it no longer validates)."""
    try:
        return WorkloadSet.model_validate(plan.spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in ("spec", *err["loc"]))
        raise PlanFileError(f"cannot rebuild the workloads: {err['msg']}", field=where) from None


def apply_changes(ws: WorkloadSet, changes: Sequence[Change], catalog: Catalog) -> WorkloadSet:
    """``ws`` with ``changes`` applied in order, validated as ``planner plan`` would."""
    from planner.spec.check import check_against_catalog

    data = copy.deepcopy(ws.model_dump(mode="json"))
    for change in changes:
        try:
            APPLY[change.kind](data, change, catalog)
        except ValueError as exc:
            raise UsageError(str(exc), field=f"--what-if {change.text}") from None
    label = "--what-if " + " ".join(c.text for c in changes)
    try:
        result = WorkloadSet.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UsageError(f"the changed workloads are invalid: {where}: {err['msg']}",
                         field=label) from None
    try:
        check_against_catalog(result, catalog, label)
    except SpecError as err:
        raise UsageError(str(err)) from None
    return result


def _pick(name: str, known: Iterable[str], what: str) -> str:
    options = sorted(known)
    if name in options:
        return name
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" ({what}s: {', '.join(options) or 'none'})"
    raise ValueError(f"unknown {what} {name!r}{hint}")


def _apply_quota(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    cloud, region, family, capacity = c.target
    assert c.amount is not None
    if region not in catalog.regions(cloud):
        raise ValueError(f"unknown {cloud} region {region!r}")
    key = quota_key_of(cloud, region, family, capacity)
    found = [q for q in data["quotas"]
             if quota_key_of(q["cloud"], q["region"], q["family"], q["capacity"]) == key]
    current = Decimal(found[0]["limit"]) if found else None
    if not found:
        _check_family(catalog, key, family)
    if current is None and c.amount.op != "set":
        raise ValueError(f"no quota {cloud}/{region}/{family}/{capacity} is declared; "
                         "give an absolute limit (=N)")
    limit = c.amount.apply(current)
    if limit is None or limit < 0:
        raise ValueError(f"the quota would be {limit} (below 0)")
    if found:
        found[0]["limit"] = int(limit)
    else:
        data["quotas"].append({"cloud": cloud, "region": region, "family": family,
                               "capacity": capacity, "limit": int(limit)})


def _check_family(catalog: Catalog, key: tuple[str, str, str, str], family: str) -> None:
    """A new quota must name a family some offer of its region draws on (catches typos)."""
    cloud, region, wanted, _ = key
    known = {o.quota_family for o in catalog if o.cloud == cloud and o.region == region}
    if cloud == "azure":
        known.add(AZURE_SPOT_FAMILY)
    if not any(quota_key_of(cloud, region, f, "on-demand")[2] == wanted for f in known):
        close = difflib.get_close_matches(family, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"no offer in {cloud}/{region} draws on quota family {family!r}{hint}")


def _apply_budget(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    team = data["teams"][_pick(c.target[0], data["teams"], "team")]
    assert c.amount is not None
    old = team.get("monthly_budget")
    new = c.amount.apply(None if old is None else Decimal(old))
    if new is not None and new < 0:
        raise ValueError(f"the budget would be {new} (below 0)")
    team["monthly_budget"] = None if new is None else str(new.quantize(Decimal("0.01")))


def _targets(data: dict[str, Any], c: Change) -> list[dict[str, Any]]:
    if not c.target:
        return list(data["workloads"])
    name = _pick(c.target[0], (w["name"] for w in data["workloads"]), "workload")
    return [w for w in data["workloads"] if w["name"] == name]


def _apply_region(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    known = catalog.regions() | {cl["region"] for cl in data["clusters"]}
    for r in c.regions:
        _pick(r, known, "region")
    for w in _targets(data, c):
        policy = w["regions"]
        allow, deny = list(policy["allow"]), list(policy["deny"])
        if c.word == "deny":
            deny += [r for r in c.regions if r not in deny]
            kept = [r for r in allow if r not in c.regions]
            if allow and not kept:
                raise ValueError(f"{w['name']} would have no allowed region left")
            allow = kept
        else:
            deny = [r for r in deny if r not in c.regions]
            if allow:
                allow += [r for r in c.regions if r not in allow]
        policy["allow"], policy["deny"] = allow, deny


def _apply_discount(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    assert c.amount is not None
    discounts = data["pricing"]["discounts"]
    if c.amount.op == "none":
        discounts.pop(c.target[0], None)
    else:
        discounts[c.target[0]] = str(c.amount.value)


def _apply_spot(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    for w in _targets(data, c):
        w["resources"]["use_spot"] = SPOT_POLICY[c.word]


def _apply_capacity(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    name = _pick(c.target[0], (cl["name"] for cl in data["clusters"]), "cluster")
    cluster = next(cl for cl in data["clusters"] if cl["name"] == name)
    assert c.amount is not None
    gpus = c.amount.apply(Decimal(cluster["gpus"]))
    if gpus is None or gpus <= 0:
        raise ValueError(f"cluster {name} would have {gpus} GPUs (at least 1 needed)")
    cluster["gpus"] = int(gpus)


def _apply_stockout(data: dict[str, Any], c: Change, catalog: Catalog) -> None:
    """Nothing in the workloads changes; the catalog does (:func:`what_if`). Checked here."""
    assert c.stockout is not None
    check_stockout(c.stockout, catalog)


APPLY = {"quota": _apply_quota, "budget": _apply_budget, "region": _apply_region,
         "discount": _apply_discount, "spot": _apply_spot, "capacity": _apply_capacity,
         "stockout": _apply_stockout}


# -- comparing plans -------------------------------------------------------------------
class Spot(_Model):
    pool: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    capacity: str
    nodes: int


class Move(_Model):
    """How one workload's placement changes; money in $/month, ``delta`` = new - base."""

    workload: str
    team: str
    change: Literal["moved", "placed", "unplaced", "cost"]
    base: Spot | None
    new: Spot | None
    base_monthly: Decimal | None
    new_monthly: Decimal | None
    delta: Decimal
    fallback_rank: int | None = None


class WhatIf(_Model):
    changes: tuple[str, ...]
    base_source: Literal["plan", "re-solved"]
    base_hourly: Decimal
    new_hourly: Decimal
    delta_hourly: Decimal
    base_monthly: Decimal
    new_monthly: Decimal
    delta_monthly: Decimal
    delta_pct: Decimal | None
    moved: tuple[Move, ...]
    unplaced_before: tuple[str, ...]
    unplaced_after: tuple[str, ...]
    binding: tuple[Binding, ...]


def _spot(p: Placement | None) -> Spot | None:
    if p is None:
        return None
    return Spot(pool=p.pool, cloud=p.cloud, region=p.region, zone=p.zone,
                instance_type=p.instance_type, capacity=p.capacity, nodes=p.nodes)


def moves(base: Plan, new: Plan) -> tuple[Move, ...]:
    """Workloads whose pool, placed-ness or monthly cost differ, by name."""
    names = sorted({p.workload for p in base.placements + new.placements})
    teams = {p.workload: p.team for p in base.placements + new.placements}
    out = []
    for name in names:
        b, n = base.placement(name), new.placement(name)
        bm, nm = (b.monthly if b else None), (n.monthly if n else None)
        if b is None or n is None:
            change: Literal["moved", "placed", "unplaced", "cost"] = (
                "placed" if b is None else "unplaced")
        elif b.pool != n.pool:
            change = "moved"
        elif bm != nm:
            change = "cost"
        else:
            continue
        out.append(Move(workload=name, team=teams[name], change=change, base=_spot(b),
                        new=_spot(n), base_monthly=bm, new_monthly=nm,
                        delta=(nm or Decimal(0)) - (bm or Decimal(0)),
                        fallback_rank=_fallback_rank(b, n)))
    return tuple(out)


def _fallback_rank(b: Placement | None, n: Placement | None) -> int | None:
    """Which of its planned fallbacks a moved workload went to (1 = first), else None."""
    if b is None or n is None or b.pool == n.pool:
        return None
    return next((f.rank for f in b.fallbacks if f.pool == n.pool), None)


def compare(base: Plan, new: Plan, changes: Sequence[str], base_source: str = "plan") -> WhatIf:
    """The cost change and the moved workloads from ``base`` to ``new``."""
    delta = new.totals.monthly - base.totals.monthly
    pct = (delta / base.totals.monthly * 100).quantize(Decimal("0.1")) if base.totals.monthly \
        else None
    return WhatIf(
        changes=tuple(changes), base_source="plan" if base_source == "plan" else "re-solved",
        base_hourly=base.totals.hourly, new_hourly=new.totals.hourly,
        delta_hourly=new.totals.hourly - base.totals.hourly,
        base_monthly=base.totals.monthly, new_monthly=new.totals.monthly, delta_monthly=delta,
        delta_pct=pct, moved=moves(base, new),
        unplaced_before=tuple(u.workload for u in base.unplaced),
        unplaced_after=tuple(u.workload for u in new.unplaced), binding=new.binding)


def resolve(ws: WorkloadSet, catalog: Catalog, time_limit: float,
            anchor: Plan | None = None) -> Plan:
    """``ws`` planned on ``catalog``; against ``anchor`` (``explain --base``): moves away
    from it have their price."""
    from planner.optimize.planning import plan_workloads

    return plan_workloads(ws, catalog, time_limit=time_limit, base=anchor)


def what_if(plan: Plan, base: Plan, texts: Sequence[str], catalog: Catalog, *,
            time_limit: float, base_source: str = "plan",
            anchor: Plan | None = None) -> tuple[WhatIf, Plan]:
    """Parse and apply ``texts`` to ``plan``'s workloads, re-solve (against ``anchor``, if
    given), compare with ``base``."""
    changes = [parse_change(t) for t in texts]
    ws = apply_changes(spec_of(plan), changes, catalog)
    stocked = without(catalog, [c.stockout for c in changes if c.stockout is not None])
    new = resolve(ws, stocked, time_limit, anchor)
    return compare(base, new, [c.text for c in changes], base_source), new


def baseline(plan: Plan, catalog: Catalog, *, time_limit: float) -> tuple[Plan, str, str | None]:
    """What re-solved plans are compared with: the plan itself when it was made on
    ``catalog``, else the plan's own workloads re-solved on ``catalog`` (with a warning),
    so a saving never mixes a price change with the what-if."""
    if plan.catalog.source == catalog.meta.source:
        return plan, "plan", None
    warning = (f"the plan was made with catalog {plan.catalog.source!r} ({plan.catalog.date}), "
               f"re-solving with {catalog.meta.source!r} ({catalog.meta.date}); "
               "savings are measured against the plan re-solved on the latter")
    return resolve(spec_of(plan), catalog, time_limit), "re-solved", warning
