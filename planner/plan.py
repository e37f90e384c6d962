"""The ``Plan``: the versioned hand-off between the planner and everything after it.

``plan.json`` is committed and reviewed, so it is deterministic: keys sorted,
lists in a documented order (pools by id, placements by workload name, ...),
money as decimal strings with 4 places, no timestamps. Components, renderers,
``explain`` and ``diff`` read only this model.

Money is USD. ``monthly`` figures are $ per month at the plan's
``hours_per_month`` (services run all month, jobs run ``runtime_hours x
runs_per_month``); ``hourly`` figures are $/h at the peak hour, when every
job runs. What a pool, a job and an idle line cost is decided by one function,
:mod:`planner.plancost` (README, "What a plan costs"); the plan stores its
results, so every sum (team, cloud, region, pool) equals the total. Pools and
every group store ``paid_gpu_hours`` and ``used_gpu_hours``; utilization is
``used / paid`` (:mod:`planner.utilization`), derived, not stored, and the
reader refuses ``used > paid``.

``plan.json`` is untrusted input: anyone who opens a pull request can edit it,
and CI renders, diffs and deploys it. So the model is the reader's contract,
field by field: identifiers follow the declaration's rules
(:mod:`planner.names`), numbers have bounds, unknown fields are refused
(``extra="forbid"``), and one pass (:func:`check_references`) resolves every
field annotated :class:`Ref` against the fields annotated :class:`Id`. A new
field gets checked by giving it a type from here (``PoolName``, ``Usd``, ...).
:func:`loads_plan` also refuses duplicate JSON keys, ``NaN``/``Infinity`` and
control characters in strings, and names the JSON path of the first problem.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner import jsontext
from planner.errors import FieldValueError, PlanFileError, format_path
from planner.names import PATTERN_HELP, CatalogName, EnvName, ImageRef, Label, MigProfile

PLAN_VERSION = 2  # 2: whole-node pool costs, idle lines, GPU-hours (issue 18)
PLAN_KIND = "gpuplan/plan"
CENT = Decimal("0.0001")

Capacity = Literal["on-demand", "spot"]
PoolCloud = Literal["aws", "gcp", "azure", "k8s", "onprem"]  # k8s/onprem: an existing cluster
ClusterCloud = Literal["aws", "gcp", "azure", "onprem"]




@dataclass(frozen=True)
class Id:
    """Marks a field whose value names one ``kind`` of thing in the plan (unique per kind)."""

    kind: str


@dataclass(frozen=True)
class Ref:
    """Marks a field whose value must name an existing :class:`Id` of ``kind``."""

    kind: str


ClusterName = Annotated[Label, Ref("cluster")]
PoolName = Annotated[Label, Ref("pool")]
WorkloadName = Annotated[Label, Ref("workload")]
TeamName = Annotated[Label, Ref("team")]
BindingName = Annotated[str, Ref("binding")]
Usd = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))]
SignedUsd = Annotated[Decimal, Field(ge=Decimal("-1e12"), le=Decimal("1e12"))]
Count = Annotated[int, Field(ge=0, le=100_000)]
Gpus = Annotated[float, Field(ge=0, le=64)]
Cpus = Annotated[float, Field(ge=0, le=100_000)]
Gib = Annotated[float, Field(ge=0, le=1_000_000)]
Hours = Annotated[float, Field(ge=0, le=10_000_000)]
GpuHours = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))]
Priority = Annotated[int, Field(ge=0, le=1_000_000)]


def money(value: Decimal | float | int | str) -> Decimal:
    """Round to 4 decimal places (banker's rounding) for stable output."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Cost(Model):
    """Expected cost of one run of a workload, USD, after discounts."""

    compute: Usd = Field(description="nodes x share x $/h x runtime, list price")
    spot_risk: Usd = Field(description="expected rework from interruptions")
    egress: Usd = Field(description="moving the data set to the region")
    discount: Annotated[Decimal, Field(ge=Decimal("-1e12"), le=0)] = Field(
        description="negotiated discount, <= 0")
    total: Usd


class Money2(Model):
    hourly: Usd
    monthly: Usd


class MonthlyLines(Model):
    """A job's own monthly lines, USD after discounts (idle is its teams', not its own)."""

    compute: Usd = Field(description="its share of the pool's nodes for its hours")
    spot_risk: Usd = Field(description="expected rework from interruptions, all runs")
    egress: Usd = Field(description="moving the data set to the region, all runs")


def check_used_within_paid(paid: Decimal, used: Decimal) -> None:
    """GPU-hours: no pool, team or group uses more than it pays for (utilization = used /
    paid is at most 1; README, "What a plan costs")."""
    if used > paid:
        raise FieldValueError("used_gpu_hours", f"{used} is more than paid_gpu_hours ({paid})")


class TeamShare(Model):
    """A team's part of a pool's idle (by share-hours) and GPU-hours."""

    idle: Money2
    paid_gpu_hours: GpuHours = Field(description="its used GPU-hours plus its part of idle")
    used_gpu_hours: GpuHours

    @model_validator(mode="after")
    def _gpu_hours(self) -> TeamShare:
        check_used_within_paid(self.paid_gpu_hours, self.used_gpu_hours)
        return self


class GroupCost(Money2):
    """Cost of a team, cloud or region, idle included, with its GPU-hours."""

    idle: Money2 = Field(description="idle on shared nodes (part of hourly and monthly)")
    paid_gpu_hours: GpuHours
    used_gpu_hours: GpuHours

    @model_validator(mode="after")
    def _gpu_hours(self) -> GroupCost:
        check_used_within_paid(self.paid_gpu_hours, self.used_gpu_hours)
        return self


class ClusterRef(Model):
    """A Kubernetes cluster that hosts pools: existing (declared) or new."""

    name: Annotated[Label, Id("cluster")]
    cloud: ClusterCloud
    region: CatalogName
    existing: bool
    kubeconfig: str | None = Field(None, min_length=1, max_length=4096)


SlotName = Annotated[str, Field(
    pattern=r"^([1-7]g\.[0-9]+gb|time-slice|mps-client|mixed)$")]


MigLayout = tuple[tuple[MigProfile, ...], ...]


def layout_name(layout: MigLayout) -> str:
    """``3g.20gb+4g.20gb`` for one GPU, GPUs joined by ``|``; repeats as ``3x1g.5gb``."""
    def gpu(names: tuple[str, ...]) -> str:
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        return "+".join(f"{c}x{n}" if c > 1 else n for n, c in sorted(counts.items())) or "off"
    return "|".join(gpu(g) for g in layout)


def mode_name(mode: str, profile: str | None = None, clients: int | None = None,
              layout: MigLayout = ()) -> str:
    """A sharing mode as plans, diffs and explanations spell it: ``exclusive``,
    ``mig:1g.5gb``, ``mig-layout:3g.20gb+4g.20gb``, ``time-slicing:4``, ``mps:4``."""
    if mode == "mig":
        return f"mig:{profile}"
    if mode == "mig-layout":
        return f"mig-layout:{layout_name(layout)}"
    if mode in ("time-slicing", "mps"):
        return f"{mode}:{clients}"
    return "exclusive"


def layout_id(layout: MigLayout) -> str:
    """A short stable id of a layout (pool ids, GPU Operator config names)."""
    return hashlib.sha256(layout_name(layout).encode()).hexdigest()[:8]


class PoolSharing(Model):
    """How a shared pool splits its GPUs (planner.optimize.sharing): one mode per pool.

    ``mig-layout`` (EKS and existing clusters, through the GPU Operator): every node has
    the per-GPU MIG instances of ``layout``; ``slot`` is then ``mixed``, ``slots_per_gpu``
    the most instances on one GPU and ``slot_memory_gib`` the smallest instance's."""

    mode: Literal["mig", "mig-layout", "time-slicing", "mps"]
    profile: MigProfile | None = Field(None, description="MIG profile of every GPU (mode mig)")
    clients: int | None = Field(None, ge=2, le=48,
                                description="clients per GPU (time-slicing, mps)")
    layout: tuple[tuple[MigProfile, ...], ...] = Field(
        (), max_length=16, description="mig-layout: the MIG instances of each GPU of a node")
    slot: SlotName = Field(description="what one job gets: the MIG profile, time-slice, "
                           "mps-client, or mixed (mig-layout)")
    slots_per_gpu: int = Field(ge=1, le=48)
    slot_memory_gib: float = Field(gt=0, le=1024, description="usable GPU memory of one slot")
    isolation: Literal["none", "capped", "hard"]

    @model_validator(mode="after")
    def _consistent(self) -> PoolSharing:
        if (self.mode == "mig") != (self.profile is not None):
            raise FieldValueError("profile", "a MIG pool names its profile, and only a MIG pool")
        if (self.mode in ("time-slicing", "mps")) != (self.clients is not None):
            raise FieldValueError("clients", "time-slicing and MPS pools name their clients "
                                  "per GPU, and only they")
        if (self.mode == "mig-layout") != bool(self.layout):
            raise FieldValueError("layout", "a mig-layout pool gives its per-GPU layout, and "
                                  "only it")
        if any(len(gpu) > 7 for gpu in self.layout):
            raise FieldValueError("layout", "a GPU holds at most 7 MIG instances")
        return self

    @property
    def name(self) -> str:
        return mode_name(self.mode, self.profile, self.clients, self.layout)


class Pool(Model):
    """Nodes of one instance type in one place and capacity type, in one sharing mode."""

    id: Annotated[Label, Id("pool")]
    cluster: ClusterName
    cloud: PoolCloud
    region: CatalogName
    zone: CatalogName | None
    instance_type: CatalogName
    accelerator: CatalogName | None
    accelerator_count: Gpus
    vcpus: Cpus
    memory_gib: Gib
    capacity: Capacity
    nodes: Count = Field(description="nodes at the peak hour, when all its jobs run")
    min_nodes: Count
    max_nodes: Count
    node_hourly: Usd = Field(description="$/h per node after discount, exact (the catalog's "
                             "digits): the rate every cost is priced at")
    hourly: Usd = Field(description="nodes x node_hourly")
    node_hours: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))] = Field(
        description="node-hours a month: whole nodes while any job runs")
    compute: Usd = Field(description="node_hours x node_hourly, $/month: the nodes' bill")
    idle: Money2 = Field(description="part of compute and hourly no job's share pays for")
    monthly: Usd = Field(description="compute + its jobs' spot risk and egress")
    paid_gpu_hours: GpuHours = Field(description="node_hours x GPUs per node")
    used_gpu_hours: GpuHours = Field(description="its jobs' share x hours x GPUs per node")
    by_team: dict[TeamName, TeamShare] = Field(description="idle and GPU-hours per team")
    quota_family: CatalogName
    workloads: tuple[WorkloadName, ...]
    teams: tuple[TeamName, ...]
    placement_group: bool = Field(False, description="compact placement for multi-node jobs")
    existing_cluster: bool = False
    sharing: PoolSharing | None = Field(None, description="None: exclusive (whole GPUs)")
    fallback_for: tuple[WorkloadName, ...] = Field(
        (), description="workloads that may fall back here (min 0 nodes until used)")

    @property
    def slots_per_node(self) -> int:
        """Jobs a node holds in its sharing mode (0 for exclusive pools)."""
        if self.sharing is None:
            return 0
        if self.sharing.layout:
            return sum(len(gpu) for gpu in self.sharing.layout)
        return self.sharing.slots_per_gpu * int(self.accelerator_count)

    @model_validator(mode="after")
    def _sizes(self) -> Pool:
        if self.min_nodes > self.max_nodes:
            raise FieldValueError("min_nodes", f"min_nodes ({self.min_nodes}) is larger than "
                                  f"max_nodes ({self.max_nodes})")
        if self.nodes > self.max_nodes:
            raise FieldValueError("nodes", f"nodes ({self.nodes}) is larger than max_nodes "
                                  f"({self.max_nodes})")
        if self.sharing and self.sharing.layout and \
                len(self.sharing.layout) != int(self.accelerator_count):
            raise FieldValueError(("sharing", "layout"), f"{len(self.sharing.layout)} GPU "
                                  f"layouts for {self.accelerator_count:g} GPUs a node")
        return self

    @model_validator(mode="after")
    def _gpu_hours(self) -> Pool:
        """paid = node_hours x GPUs per node (each rounded to 4 places), used <= paid."""
        gpus = Decimal(repr(self.accelerator_count)) if self.accelerator else Decimal(0)
        if abs(self.paid_gpu_hours - self.node_hours * gpus) > CENT * (gpus + 1):
            raise FieldValueError("paid_gpu_hours", f"{self.paid_gpu_hours} is not node_hours "
                                  f"x GPUs per node ({self.node_hours} x {gpus})")
        check_used_within_paid(self.paid_gpu_hours, self.used_gpu_hours)
        return self


class Alternative(Model):
    offer: str = Field(min_length=1, max_length=256)
    cloud: PoolCloud
    region: CatalogName
    zone: CatalogName | None
    instance_type: CatalogName
    accelerator: CatalogName | None
    accelerator_count: Gpus
    capacity: Capacity
    runtime_hours: Hours
    cost: Usd = Field(description="$/month the plan would pay for the workload there, "
                      "everyone else where they are (a slot alone costs its node)")
    delta: SignedUsd = Field(description="change in the plan's monthly total if it alone "
                             "moved there")
    delta_pct: Decimal = Field(description="delta as % of what the workload is charged now")
    blocked_by: str | None = Field(None, description="constraint id that ruled it out, if any")


class Fallback(Model):
    """A ranked capacity fallback of a placed workload: where it runs if its choice has no
    capacity, and what that costs. ``monthly`` is $/month there; ``premium`` is
    ``monthly - choice monthly`` ($/month) and ``premium_pct`` that in percent of the choice.
    ``scope`` is the coarsest level at which it differs from the choice."""

    rank: int = Field(ge=1, le=16)
    pool: PoolName
    cluster: ClusterName
    offer: str = Field(min_length=1, max_length=256)
    cloud: PoolCloud
    region: CatalogName
    zone: CatalogName | None
    instance_type: CatalogName
    capacity: Capacity
    accelerator: CatalogName | None
    nodes: int = Field(ge=1, le=100_000)
    runtime_hours: Hours
    monthly: Usd
    premium: SignedUsd
    premium_pct: Decimal = Field(ge=-100, le=1_000_000)
    scope: Literal["zone", "region", "cloud"]
    why: str = Field(max_length=2000, description="why it ranks here, against the next candidate")


class Rejection(Model):
    """Offers not taken for one reason; ``cheaper`` counts those cheaper than the choice."""

    reason: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=0, le=10_000_000)
    cheaper: int = Field(0, ge=0, le=10_000_000)
    examples: tuple[str, ...] = ()


class HostRequest(Model):
    """The host a job needs per node, at least: what it asked, or where it named no
    ``cpus`` / ``memory`` for a GPU, the default host per GPU (``defaulted`` says which;
    :mod:`planner.catalog.machines`)."""

    cpus: Cpus | None = None
    memory_gib: Gib | None = None
    defaulted: tuple[Literal["cpus", "memory"], ...] = ()


class Placement(Model):
    workload: Annotated[Label, Id("workload")]
    team: TeamName
    namespace: Label
    kind: Literal["training", "batch", "service"]
    priority: Priority
    pool: PoolName
    cluster: ClusterName
    cloud: PoolCloud
    region: CatalogName
    zone: CatalogName | None
    instance_type: CatalogName
    capacity: Capacity
    accelerator: CatalogName | None
    gpus_per_node: Gpus
    cpus_per_node: Cpus
    memory_gib_per_node: Gib
    host: HostRequest = Field(default_factory=HostRequest,
                              description="the effective request the host had to meet")
    nodes: int = Field(ge=1, le=100_000)
    node_share: float = Field(gt=0, le=1,
                              description="fraction of each node's accelerators this uses")
    pool_share: float = Field(gt=0, le=100_000, description="nodes' worth of its pool a run "
                              "holds: nodes x node_share")
    monthly_hours: Hours = Field(description="hours a month its runs take: runs x runtime "
                                 "(rework excluded); beyond hours_per_month runs overlap")
    topology: Literal["single", "ddp", "parameter-server", "ray"]
    servers: int = Field(0, ge=0, le=1024)
    min_workers: int | None = Field(None, ge=0, le=4096)
    max_workers: int | None = Field(None, ge=1, le=4096)
    runtime_hours: Hours
    runs_per_month: float = Field(gt=0, le=10_000)
    deadline_hours: float | None = Field(None, gt=0, le=100_000)
    hourly: Usd = Field(description="its share of the pool's $/h while it runs")
    cost: Cost = Field(description="one run, list price and discount as separate lines")
    monthly_lines: MonthlyLines
    monthly: Usd = Field(description="the sum of monthly_lines")
    image: ImageRef
    command: tuple[str, ...] = ()
    env: dict[EnvName, str] = Field(default_factory=dict)
    gpu_fraction: float | None = Field(None, gt=0, lt=1)
    mig_profile: MigProfile | None = None
    slot: SlotName | None = Field(None, description="the pool's slot this job takes (shared pools)")
    alternatives: tuple[Alternative, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    binding: tuple[BindingName, ...] = Field(
        (), description="ids of binding constraints it touches")
    fallbacks: tuple[Fallback, ...] = Field((), description="ranked capacity fallbacks")
    fallback_note: str | None = Field(
        None, max_length=2000, description="why there are fewer fallbacks than asked for")


class UnplacedReason(Model):
    code: str
    detail: str


class Unblock(Model):
    """One minimal way to place an unplaced workload: relax every constraint of ``relax``
    together (a constraint id such as ``quota:gcp/...`` or ``budget:team``, or a rejection
    reason such as ``region-not-allowed``) and it could run on ``offer``, for ``monthly``:
    what the plan would then pay a month for it, everyone else where they are (a slot
    alone on its node pays the node). Minimal: no smaller set would do."""

    relax: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] = Field(
        min_length=1, max_length=16)
    offer: str = Field(min_length=1, max_length=256)
    monthly: Usd

    @model_validator(mode="after")
    def _sorted(self) -> Unblock:
        if list(self.relax) != sorted(set(self.relax)):
            raise FieldValueError("relax", "constraint ids must be sorted and unique")
        return self


class Unplaced(Model):
    """A workload the plan could not place: why (``reasons``) and ``unblock``, the minimal
    sets of constraints any one of which, relaxed, would place it (fewest members first,
    then cheapest). Empty when no constraint the declaration sets is in the way (the
    offers' own facts, or the solver's trade-off: see ``reasons``)."""

    workload: Annotated[Label, Id("workload")]
    team: TeamName
    reasons: tuple[UnplacedReason, ...]
    unblock: tuple[Unblock, ...] = Field((), max_length=64)
    rejected: tuple[Rejection, ...] = ()

    @model_validator(mode="after")
    def _minimal(self) -> Unplaced:
        sets = [frozenset(u.relax) for u in self.unblock]
        for i, s in enumerate(sets):
            if any(j != i and t <= s for j, t in enumerate(sets)):
                raise FieldValueError(("unblock", i, "relax"), "not minimal: another set of "
                                      "unblock is contained in it")
        order = [(len(u.relax), u.monthly, u.relax) for u in self.unblock]
        if order != sorted(order):
            raise FieldValueError("unblock", "sets must be ordered by size, then monthly cost")
        return self


def machine_text(p: Placement, pool: Pool) -> str:
    """The machine a job runs on and its part of it: the node's GPUs and, where it does not
    take them all, the job's: ``n1-highcpu-16 2×V100 (uses 1)``; on a shared pool its slot:
    ``a2-highgpu-1g 1×A100 (uses one 1g.10gb slot)``, ``g6.xlarge 1×L4 (uses one
    time-slicing:8 slot)``."""
    if not p.accelerator:
        return p.instance_type
    text = f"{p.instance_type} {pool.accelerator_count:g}×{p.accelerator}"
    s = pool.sharing
    if s is not None:
        name = s.profile if s.mode == "mig" and s.profile else p.slot if s.mode == "mig-layout" \
            else mode_name(s.mode, s.profile, s.clients)
        return f"{text} (uses one {name} slot)"
    if p.gpus_per_node < pool.accelerator_count:
        return f"{text} (uses {p.gpus_per_node:g})"
    return text


def unblock_text(u: Unplaced, code: str = "") -> str:
    """What would place ``u``, in a line: "any one of: a ($x/month), b + c ($y/month)",
    "relax a + b ($x/month)" for one set, "nothing to relax" for none; ``code`` quotes ids
    (markdown: a backtick)."""
    if not u.unblock:
        return "nothing to relax"
    sets = [" + ".join(f"{code}{cid}{code}" for cid in x.relax) + f" (${x.monthly:,.2f}/month)"
            for x in u.unblock]
    return ("relax " + sets[0]) if len(sets) == 1 else "any one of: " + ", ".join(sets)


class Binding(Model):
    """A constraint at its limit: ``used`` of ``limit`` in ``unit``."""

    id: Annotated[str, Id("binding"), Field(min_length=1, max_length=256)]
    kind: Literal["quota", "budget", "capacity", "deadline", "locality"]
    used: Usd
    limit: Usd
    unit: str
    workloads: tuple[WorkloadName, ...]


class TeamSummary(Model):
    name: Annotated[Label, Id("team")]
    namespace: Label
    budget: Usd | None
    hourly: Usd
    monthly: Usd = Field(description="its jobs' lines plus its part of idle (as budgeted)")
    over_budget: bool
    priorities: tuple[Priority, ...]


class Totals(Model):
    """The plan's cost: the sum of its pools; each grouping sums to it exactly."""

    hourly: Usd
    monthly: Usd
    idle: Money2
    paid_gpu_hours: GpuHours
    used_gpu_hours: GpuHours
    by_team: dict[TeamName, GroupCost]
    by_cloud: dict[CatalogName, GroupCost]
    by_region: dict[str, GroupCost]

    @model_validator(mode="after")
    def _gpu_hours(self) -> Totals:
        check_used_within_paid(self.paid_gpu_hours, self.used_gpu_hours)
        return self


class BoundCap(Model):
    """A workload whose feasible offers were not all priced for the bound (a shape's cap)."""

    workload: WorkloadName
    priced: int = Field(ge=0, description="feasible options priced")
    left_out: int = Field(ge=1, description="feasible offers never priced")


class SolverInfo(Model):
    method: Literal["milp", "lp-rounding", "greedy", "none"]
    status: str
    objective: Usd = Field(description="plan cost as optimized (totals.monthly)")
    lower_bound: Usd
    gap: Decimal = Field(ge=0, le=1, description="(objective - bound) / objective, 0..1")
    time_limit_s: float = Field(gt=0, le=3600,
                                description="the search's wall-clock safety net, seconds")
    variables: int = Field(ge=0)
    constraints: int = Field(ge=0)
    candidates: int = Field(ge=0)
    bound_scope: Literal["candidates", "all-offers"] = Field(
        "candidates", description="the set lower_bound holds over: the solver's candidates, "
        "or every feasible offer (column generation; except those in capped)")
    columns_generated: int = Field(0, ge=0, description="options column generation added")
    capped: tuple[BoundCap, ...] = Field(
        (), description="workloads with feasible offers the bound never priced")
    cut_by_time_limit: bool = Field(
        False, description="the wall-clock safety net cut the search: machine-dependent")

    @property
    def scope_text(self) -> str:
        """Over which set the gap is measured, in words (plan and explain texts)."""
        return scope_text(self.bound_scope, len(self.capped))


def scope_text(scope: str, capped: int) -> str:
    """The set a plan's gap is measured over, in words: all offers (naming how many
    workloads' offers a cap left unpriced), or the solver's candidates."""
    if scope != "all-offers":
        return "over the solver's candidates"
    if not capped:
        return "over all offers"
    return f"over all offers ({capped} workload{'s' if capped != 1 else ''} capped)"



class Move(Model):
    """A workload the plan moves away from its pool in the base plan."""

    workload: WorkloadName
    team: TeamName
    from_pool: Label = Field(description="its pool in the base plan (may be gone here)")
    to_pool: PoolName
    saving: SignedUsd = Field(description="$/month: staying (today's prices) - the new place")
    move_price: Usd = Field(description="$ the solver charged for the move (0 when its base "
                            "pool is no longer one of its options)")
    forced: bool = Field(description="it could not stay: its base pool is no longer one of its "
                         "options, or staying would break a quota, capacity or budget row "
                         "given the rest of the plan (e.g. a quota cut)")


class Kept(Model):
    """A workload kept in its base pool although a cheaper option had room: the saving
    was smaller than the move's price."""

    workload: WorkloadName
    team: TeamName
    pool: PoolName
    cloud: PoolCloud
    region: CatalogName
    alternative: Label = Field(description="pool id of the cheapest option with room")
    alternative_cloud: PoolCloud
    alternative_region: CatalogName
    saving: Usd = Field(description="$/month moving there would save")
    move_price: Usd = Field(description="$ a move there costs: move cost + min saving")


class Stability(Model):
    """How this plan relates to the base plan it was made against (``plan --base``)."""

    base_placements: Count
    moves: tuple[Move, ...] = ()
    kept: tuple[Kept, ...] = ()
    missing: tuple[Label, ...] = Field((), description="base workloads no longer declared")
    move_saving: SignedUsd = Field(description="$/month the moves save")
    saving_given_up: Usd = Field(description="$/month the kept workloads could save")


class WorstCase(Model):
    """Every workload with fallbacks on its first fallback, the others as planned ($/month)."""

    monthly: Usd
    delta: SignedUsd = Field(description="monthly - the plan's monthly")
    by_team: dict[TeamName, Usd]
    over_budget: tuple[TeamName, ...] = Field(
        description="teams whose worst case exceeds their budget")


class CatalogInfo(Model):
    source: str
    date: str


class Plan(Model):
    kind: Literal["gpuplan/plan"] = "gpuplan/plan"
    version: int = Field(PLAN_VERSION, ge=1, le=PLAN_VERSION)
    catalog: CatalogInfo
    hours_per_month: float = Field(gt=0, le=744)
    clusters: tuple[ClusterRef, ...]
    pools: tuple[Pool, ...]
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    binding: tuple[Binding, ...]
    teams: tuple[TeamSummary, ...]
    totals: Totals
    solver: SolverInfo
    worst_case: WorstCase | None = Field(None, description="set when any workload has fallbacks")
    warnings: tuple[Annotated[str, Field(max_length=1000)], ...] = Field(
        (), description="not failures: e.g. a team's worst case over its budget")
    stability: Stability | None = Field(None, description="against the base plan, if any")
    spec: dict[str, Any] = Field(description="the validated WorkloadSet, for what-if re-solves")

    @model_validator(mode="after")
    def _references(self) -> Plan:
        """Every reference resolves and every placement agrees with its pool and team (a
        hand-edited plan must fail here with a clear line, not deep inside a renderer)."""
        check_references(self)
        pools = {p.id: p for p in self.pools}
        members = {p.id: set(p.workloads) for p in self.pools}  # a set: pools hold thousands
        namespaces = {t.name: t.namespace for t in self.teams}
        for i, p in enumerate(self.placements):
            pool = pools[p.pool]
            if p.cluster != pool.cluster:
                raise FieldValueError(("placements", i, "cluster"), f"is {p.cluster!r} but its "
                                      f"pool {pool.id!r} is in cluster {pool.cluster!r}")
            if p.workload not in members[p.pool]:
                raise FieldValueError(("placements", i, "pool"),
                                      f"pool {pool.id!r} does not list {p.workload!r}")
            if p.nodes > pool.max_nodes:
                raise FieldValueError(("placements", i, "nodes"), f"{p.nodes} nodes, but pool "
                                      f"{pool.id!r} has at most {pool.max_nodes}")
            if p.namespace != namespaces[p.team]:
                raise FieldValueError(("placements", i, "namespace"), f"is {p.namespace!r} but "
                                      f"team {p.team!r} has namespace {namespaces[p.team]!r}")
            _check_fallbacks(p, pools, ("placements", i, "fallbacks"))
        return self

    def pool(self, pool_id: str) -> Pool:
        for p in self.pools:
            if p.id == pool_id:
                return p
        raise KeyError(pool_id)

    def placement(self, workload: str) -> Placement | None:
        for p in self.placements:
            if p.workload == workload:
                return p
        return None


def _check_fallbacks(p: Placement, pools: dict[str, Pool], where: tuple[str | int, ...]) -> None:
    """Ranks 1..n, each in another pool that lists the workload, in that pool's cluster."""
    for k, f in enumerate(p.fallbacks):
        pool = pools[f.pool]
        if f.rank != k + 1:
            raise FieldValueError((*where, k, "rank"), f"is {f.rank}, expected {k + 1}")
        if f.pool == p.pool:
            raise FieldValueError((*where, k, "pool"), "is the placement's own pool")
        if p.workload not in pool.fallback_for:
            raise FieldValueError((*where, k, "pool"),
                                  f"pool {pool.id!r} does not list {p.workload!r} in fallback_for")
        if f.cluster != pool.cluster:
            raise FieldValueError((*where, k, "cluster"), f"is {f.cluster!r} but its pool "
                                  f"{pool.id!r} is in cluster {pool.cluster!r}")


Mark = Id | Ref
Found = tuple[Mark, Any, tuple[str | int, ...]]


def check_references(plan: BaseModel) -> None:
    """Every :class:`Ref` field names an :class:`Id` of its kind; every id is unique per kind.

    One pass over the fields that carry marks (found from the type annotations,
    so a new field only needs a marked type). Raises :class:`FieldValueError`
    naming the first offending field.
    """
    found = list(_marked_values(plan, ()))
    ids: dict[str, dict[Any, tuple[str | int, ...]]] = {}
    for mark, value, path in found:
        if isinstance(mark, Id):
            seen = ids.setdefault(mark.kind, {})
            if value in seen:
                raise FieldValueError(path, f"duplicate {mark.kind} {value!r} "
                                      f"(first at {format_path(seen[value])})")
            seen[value] = path
    for mark, value, path in found:
        if isinstance(mark, Ref) and value not in ids.get(mark.kind, {}):
            raise FieldValueError(path, f"unknown {mark.kind} {value!r}")


def _marked_values(model: BaseModel, path: tuple[str | int, ...]) -> Iterator[Found]:
    for name, tp, marks in _marked_fields(type(model)):
        yield from _walk(getattr(model, name), tp, marks, (*path, name))


def _walk(value: Any, tp: Any, marks: tuple[Mark, ...],
          path: tuple[str | int, ...]) -> Iterator[Found]:
    tp, more = _strip(tp)
    marks = marks + more
    if value is None:
        return
    for mark in marks:
        yield mark, value, path
    if isinstance(value, BaseModel):
        yield from _marked_values(value, path)
    elif get_origin(tp) in (tuple, list):
        for i, item in enumerate(value):
            yield from _walk(item, get_args(tp)[0], (), (*path, i))
    elif get_origin(tp) is dict:
        key_tp, value_tp = get_args(tp)
        for key, item in value.items():
            yield from _walk(key, key_tp, (), (*path, key))
            yield from _walk(item, value_tp, (), (*path, key))


def _strip(tp: Any) -> tuple[Any, tuple[Mark, ...]]:
    """``Annotated[X, Ref(..)] | None`` -> (X, marks)."""
    marks: tuple[Mark, ...] = ()
    while True:
        if get_origin(tp) is Annotated:
            tp, *meta = get_args(tp)
            marks += tuple(m for m in meta if isinstance(m, (Id, Ref)))
        elif get_origin(tp) in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, marks
            tp = members[0]
        else:
            return tp, marks


@functools.cache
def _marked_fields(cls: type[BaseModel]) -> tuple[tuple[str, Any, tuple[Mark, ...]], ...]:
    """(name, type, marks) of the fields of ``cls`` that hold a mark, directly or nested."""
    out = []
    for name, field in cls.model_fields.items():
        marks = tuple(m for m in field.metadata if isinstance(m, (Id, Ref)))
        if marks or _holds_marks(field.annotation):
            out.append((name, field.annotation, marks))
    return tuple(out)


def _holds_marks(tp: Any) -> bool:
    tp, marks = _strip(tp)
    if marks:
        return True
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return bool(_marked_fields(tp))
    return any(_holds_marks(arg) for arg in get_args(tp) if arg is not Ellipsis)


def stable_id(*parts: str, limit: int = 63) -> str:
    """A DNS-1123 label from ``parts``; over ``limit`` chars it is cut and hashed."""
    text = "-".join(p for p in parts if p)
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return text[: limit - 9].rstrip("-") + "-" + digest


def dumps_plan(plan: Plan) -> str:
    """Canonical JSON: sorted keys, 2-space indent, trailing newline; the bytes of
    ``json.dumps(..., indent=2, sort_keys=True)``, written by :mod:`planner.jsontext` (2x
    faster than ``json``'s pure-Python indenting encoder: 125 MB at 20,000 workloads)."""
    return jsontext.dumps(plan.model_dump(mode="json"), end="\n")


def loads_plan(text: str, filename: str = "plan.json") -> Plan:
    """Parse and validate plan.json; any problem is one :class:`PlanFileError` (exit 2)
    naming ``filename`` and the JSON path (``clusters[0].name``)."""
    data = _parse_json(text, filename)
    if not isinstance(data, dict) or data.get("kind") != PLAN_KIND:
        raise PlanFileError(f"not a gpuplan plan (expected \"kind\": \"{PLAN_KIND}\")",
                            file=filename)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > PLAN_VERSION:
        raise PlanFileError(
            f"plan version {version!r} is newer than this planner understands "
            f"({PLAN_VERSION}); upgrade gpuplan", file=filename, field="version")
    if version < 1:
        raise PlanFileError(f"unknown plan version {version!r}", file=filename, field="version")
    if version < PLAN_VERSION:
        raise PlanFileError(
            f"plan version {version} predates whole-node pool costs (version {PLAN_VERSION}); "
            "re-plan its declaration with this planner", file=filename, field="version")
    if _MAYBE_CONTROL.search(text):  # else no string of the plan can hold one
        _refuse_control_characters(data, (), filename)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        path, message = describe_error(exc.errors()[0])
        raise PlanFileError(message, file=filename, field=format_path(path) or None) from None


class _DuplicateKey(ValueError):
    pass


def _parse_json(text: str, filename: str) -> Any:
    """JSON with duplicate keys, ``NaN`` and ``Infinity`` refused (each one line)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)  # in C; only an object with a repeated key is looked at again
        if len(out) != len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    raise _DuplicateKey(f"duplicate key {key!r}")
                seen.add(key)
        return out

    def constant(name: str) -> Any:
        raise _DuplicateKey(f"{name} is not a number a plan may hold")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"not JSON: {exc.msg}", file=filename, line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # duplicates, huge integers, deep nesting
        raise PlanFileError(f"not a plan: {str(exc) or type(exc).__name__}",
                            file=filename) from None


def _refuse_control_characters(data: Any, path: tuple[str | int, ...], filename: str) -> None:
    """No string of a plan (key or value) holds NUL or another control character."""
    items: Any = (data.items() if isinstance(data, dict)
                  else enumerate(data) if isinstance(data, list) else ())
    for key, value in items:
        for text in (key, value):
            if isinstance(text, str) and _CONTROL.search(text):
                raise PlanFileError(f"control character in {text[:60]!r}", file=filename,
                                    field=format_path((*path, key)))
        _refuse_control_characters(value, (*path, key), filename)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Where a refused control character can come from in JSON text: raw ones are not allowed
# inside JSON strings (the parser refuses them), so only an escape (\b, \f, \r, \u0000 to
# \u001f, \u007f) or a raw DEL. A superset (an escaped backslash before "b" matches too):
# when it finds nothing, the walk over every string would find nothing either.
_MAYBE_CONTROL = re.compile(r"\\(?:[bfr]|u00[01][0-9a-fA-F]|u007[fF])|\x7f")


def describe_error(err: Any) -> tuple[tuple[str | int, ...], str]:
    """(JSON path, one readable sentence) for a pydantic error of a plan."""
    path = tuple(p for p in err["loc"] if isinstance(p, (str, int)) and p != "[key]")
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, FieldValueError):
        return (*path, *cause.field), str(cause)
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        return path, "unknown field (this planner does not know it)"
    if kind == "missing":
        return path, "missing required field"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_HELP:
        message = PATTERN_HELP[ctx["pattern"]]
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    got = repr(err["input"]) if "input" in err else ""
    return path, message + (f" (got {got[:60] + '...' if len(got) > 60 else got})" if got else "")


def read_plan(path: Path | str) -> Plan:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise PlanFileError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read: {exc}", file=str(path)) from None
    return loads_plan(text, str(path))
