"""The ``Plan``: the versioned hand-off between the planner and everything after it.

``plan.json`` is committed and reviewed, so it is deterministic: keys sorted,
lists in a documented order (pools by id, placements by workload name, ...),
money as decimal strings with 4 places, no timestamps. Components, renderers,
``explain`` and ``diff`` read only this model.

Money is USD. ``hourly`` figures are $/h while running; ``monthly`` figures
are $ per month at the plan's ``hours_per_month`` (services run all month,
jobs run ``runtime_hours x runs_per_month``).
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner.errors import PlanFileError

PLAN_VERSION = 1
PLAN_KIND = "gpuplan/plan"
CENT = Decimal("0.0001")

Capacity = Literal["on-demand", "spot"]
PoolCloud = Literal["aws", "gcp", "azure", "k8s", "onprem"]  # k8s/onprem: an existing cluster
ClusterCloud = Literal["aws", "gcp", "azure", "onprem"]


def money(value: Decimal | float | int | str) -> Decimal:
    """Round to 4 decimal places (banker's rounding) for stable output."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cost(Model):
    """Expected cost of one run of a workload, USD, after discounts."""

    compute: Decimal = Field(description="nodes x share x $/h x runtime, list price")
    spot_risk: Decimal = Field(description="expected rework from interruptions")
    egress: Decimal = Field(description="moving the data set to the region")
    discount: Decimal = Field(description="negotiated discount, <= 0")
    total: Decimal


class Money2(Model):
    hourly: Decimal
    monthly: Decimal


class ClusterRef(Model):
    """A Kubernetes cluster that hosts pools: existing (declared) or new."""

    name: str
    cloud: ClusterCloud
    region: str
    existing: bool
    kubeconfig: str | None = None


class Pool(Model):
    """Nodes of one instance type in one place and capacity type."""

    id: str
    cluster: str
    cloud: PoolCloud
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None
    accelerator_count: float
    vcpus: float
    memory_gib: float
    capacity: Capacity
    nodes: int = Field(ge=0, description="nodes the plan's workloads need at once")
    min_nodes: int = Field(ge=0)
    max_nodes: int = Field(ge=0)
    node_hourly: Decimal = Field(description="$/h per node after discount")
    hourly: Decimal = Field(description="nodes x node_hourly")
    monthly: Decimal
    quota_family: str
    workloads: tuple[str, ...]
    teams: tuple[str, ...]
    placement_group: bool = Field(False, description="compact placement for multi-node jobs")
    existing_cluster: bool = False


class Alternative(Model):
    offer: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None
    accelerator_count: float
    capacity: Capacity
    runtime_hours: float
    cost: Decimal
    delta: Decimal
    delta_pct: Decimal
    blocked_by: str | None = Field(None, description="constraint id that ruled it out, if any")


class Rejection(Model):
    """Offers not taken for one reason; ``cheaper`` counts those cheaper than the choice."""

    reason: str
    count: int
    cheaper: int = 0
    examples: tuple[str, ...] = ()


class Placement(Model):
    workload: str
    team: str
    namespace: str
    kind: str
    priority: int
    pool: str
    cluster: str
    cloud: PoolCloud
    region: str
    zone: str | None
    instance_type: str
    capacity: Capacity
    accelerator: str | None
    gpus_per_node: float
    cpus_per_node: float
    memory_gib_per_node: float
    nodes: int
    node_share: float = Field(description="fraction of each node's accelerators this uses")
    topology: str
    servers: int = 0
    min_workers: int | None = None
    max_workers: int | None = None
    runtime_hours: float
    runs_per_month: float
    deadline_hours: float | None = None
    hourly: Decimal
    cost: Cost
    monthly: Decimal
    image: str
    command: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    gpu_fraction: float | None = None
    mig_profile: str | None = None
    alternatives: tuple[Alternative, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    binding: tuple[str, ...] = Field((), description="ids of binding constraints it touches")


class UnplacedReason(Model):
    code: str
    detail: str


class Unplaced(Model):
    workload: str
    team: str
    reasons: tuple[UnplacedReason, ...]
    blocking: tuple[str, ...] = Field((), description="smallest set of constraint ids blocking it")
    rejected: tuple[Rejection, ...] = ()


class Binding(Model):
    """A constraint at its limit: ``used`` of ``limit`` in ``unit``."""

    id: str
    kind: Literal["quota", "budget", "capacity", "deadline", "locality"]
    used: Decimal
    limit: Decimal
    unit: str
    workloads: tuple[str, ...]


class TeamSummary(Model):
    name: str
    namespace: str
    budget: Decimal | None
    hourly: Decimal
    monthly: Decimal
    over_budget: bool
    priorities: tuple[int, ...]


class Totals(Model):
    hourly: Decimal
    monthly: Decimal
    by_team: dict[str, Money2]
    by_cloud: dict[str, Money2]
    by_region: dict[str, Money2]


class SolverInfo(Model):
    method: Literal["milp", "greedy", "none"]
    status: str
    objective: Decimal = Field(description="plan cost as optimized: placements + idle")
    idle: Decimal = Field(Decimal(0), description="est. cost of idle slots on rounded-up nodes")
    lower_bound: Decimal
    gap: Decimal = Field(description="(objective - bound) / objective, 0..1")
    time_limit_s: float
    variables: int
    constraints: int
    candidates: int


class CatalogInfo(Model):
    source: str
    date: str


class Plan(Model):
    kind: Literal["gpuplan/plan"] = "gpuplan/plan"
    version: int = PLAN_VERSION
    catalog: CatalogInfo
    hours_per_month: float
    clusters: tuple[ClusterRef, ...]
    pools: tuple[Pool, ...]
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    binding: tuple[Binding, ...]
    teams: tuple[TeamSummary, ...]
    totals: Totals
    solver: SolverInfo
    spec: dict[str, Any] = Field(description="the validated WorkloadSet, for what-if re-solves")

    @model_validator(mode="after")
    def _references(self) -> Plan:
        """Every placement's pool exists (a hand-edited plan must fail here with a
        clear line, not deep inside a renderer)."""
        pools = {p.id for p in self.pools}
        for i, p in enumerate(self.placements):
            if p.pool not in pools:
                raise ValueError(f"placements[{i}] ({p.workload}) names unknown pool {p.pool!r}")
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


def stable_id(*parts: str, limit: int = 63) -> str:
    """A DNS-1123 label from ``parts``; over ``limit`` chars it is cut and hashed."""
    text = "-".join(p for p in parts if p)
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return text[: limit - 9].rstrip("-") + "-" + digest


def dumps_plan(plan: Plan) -> str:
    """Canonical JSON: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(plan.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def loads_plan(text: str, filename: str = "plan.json") -> Plan:
    """Parse plan.json, refusing other documents and newer versions with one clear line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"not JSON: {exc.msg}", file=filename, line=exc.lineno) from None
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
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        raise PlanFileError(f"invalid plan: {msg}", file=filename, field=loc) from None


def read_plan(path: Path | str) -> Plan:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise PlanFileError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read: {exc}", file=str(path)) from None
    return loads_plan(text, str(path))
