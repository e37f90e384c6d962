"""The workload declaration: a versioned, validated ``WorkloadSet``.

A platform team writes ``workloads.yaml`` once; this module turns it into
pydantic models. Structural checks (types, unknown keys, positive counts,
duplicate names, references between sections) happen here; checks that need
the price catalog (accelerator names, regions) happen in
:func:`planner.spec.check.check_against_catalog`.

Units: hours for durations, GiB for memory, GB for data sizes, USD for money
(``Decimal``), GPUs per node for accelerator counts.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from planner.errors import FieldValueError
from planner.names import CatalogName, EnvName, ImageRef, Label, MigProfile
from planner.spec.resources import (
    AcceleratorChoice,
    AmountRequest,
    parse_accelerators,
    parse_amount,
)
from planner.spec.sharing import (
    GpuShare,
    SharedRequest,
    SharingPolicy,
    check_mig_profile,
)

SPEC_VERSION = 1
CLOUDS = ("aws", "gcp", "azure")
Cloud = Literal["aws", "gcp", "azure"]
Name = Label  # a DNS label: names become k8s objects (rules in planner.names)
PositiveHours = Annotated[float, Field(gt=0, le=100_000)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(Strict):
    """Per-node resources, SkyPilot syntax (see :mod:`planner.spec.resources`)."""

    accelerators: Any = None
    cpus: Any = None
    memory: Any = None
    use_spot: bool | Literal["auto"] = Field(
        False, description="false: on-demand only; true: spot only; auto: planner decides"
    )
    cloud: Cloud | None = None
    region: str | None = None
    zone: str | None = None
    instance_type: str | None = None
    gpu: GpuShare | None = Field(
        None, description="part of one GPU: memory, fraction or MIG profile, and isolation "
        "(planner.spec.sharing)")
    arch: Literal["x86_64", "arm64", "any"] = Field(
        "x86_64", description="CPU architecture of the host (the default image is x86_64)")
    burstable: bool = Field(
        False, description="allow burstable (CPU-credit, shared-core) machine families")

    _choices: tuple[AcceleratorChoice, ...] = PrivateAttr(default=())
    _cpus: AmountRequest | None = PrivateAttr(default=None)
    _memory: AmountRequest | None = PrivateAttr(default=None)

    @field_validator("cloud", mode="before")
    @classmethod
    def _lower_cloud(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    @field_validator("arch", mode="before")
    @classmethod
    def _arch(cls, v: Any) -> Any:
        """One clear message (``aarch64`` and ``amd64`` are spelled as the clouds do)."""
        aliases = {"aarch64": "arm64", "amd64": "x86_64", "x86-64": "x86_64"}
        value = aliases.get(v.lower(), v.lower()) if isinstance(v, str) else v
        if value in ("x86_64", "arm64", "any"):
            return value
        raise ValueError(f"must be x86_64, arm64 or any (got {v!r})")

    @field_validator("burstable", mode="before")
    @classmethod
    def _burstable(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return v
        raise ValueError(f"must be true or false (got {v!r})")

    @field_validator("use_spot", mode="before")
    @classmethod
    def _spot(cls, v: Any) -> Any:
        """One clear message instead of one per member of ``bool | 'auto'``."""
        if isinstance(v, bool) or v == "auto":
            return v
        raise ValueError(f"must be true, false or 'auto' (got {v!r})")

    @model_validator(mode="after")
    def _parse(self) -> Resources:
        # A zone without a region is fine: the region is derived from the zone (catalog).
        try:
            self._choices = parse_accelerators(self.accelerators)
        except ValueError as exc:
            raise FieldValueError("accelerators", str(exc)) from None
        try:
            self._cpus = parse_amount(self.cpus, "cpus")
        except ValueError as exc:
            raise FieldValueError("cpus", str(exc)) from None
        try:
            self._memory = parse_amount(self.memory, "memory", allow_per_cpu=True)
        except ValueError as exc:
            raise FieldValueError("memory", str(exc)) from None
        return self

    @property
    def choices(self) -> tuple[AcceleratorChoice, ...]:
        return self._choices

    @property
    def cpu_request(self) -> AmountRequest | None:
        return self._cpus

    @property
    def memory_request(self) -> AmountRequest | None:
        return self._memory

    @property
    def spot_policy(self) -> Literal["never", "only", "auto"]:
        if self.use_spot == "auto":
            return "auto"
        return "only" if self.use_spot else "never"


class Topology(Strict):
    """How the nodes of a job talk: one process, DDP, parameter servers, or Ray."""

    type: Literal["single", "ddp", "parameter-server", "ray"] = "single"
    servers: int = Field(0, ge=0, le=1024)
    min_workers: int | None = Field(None, ge=0, le=4096)
    max_workers: int | None = Field(None, ge=1, le=4096)

    @model_validator(mode="after")
    def _check(self) -> Topology:
        if self.type == "parameter-server" and self.servers < 1:
            raise FieldValueError("servers", "a parameter-server topology needs servers >= 1")
        if (
            self.min_workers is not None
            and self.max_workers is not None
            and self.min_workers > self.max_workers
        ):
            raise FieldValueError(
                "min_workers",
                f"min_workers ({self.min_workers}) is larger than max_workers ({self.max_workers})",
            )
        return self


class Work(Strict):
    """How much work a job is: hours on the requested accelerator, or GPU-hours on a reference."""

    duration_hours: PositiveHours | None = None
    gpu_hours: PositiveHours | None = None
    reference: str = "A100"
    runs_per_month: float = Field(1.0, gt=0, le=10_000)
    throughput: dict[str, Annotated[float, Field(gt=0, le=1000)]] = Field(
        default_factory=dict,
        description="per-workload relative throughput overrides, accelerator -> x reference",
    )

    @model_validator(mode="after")
    def _one(self) -> Work:
        if (self.duration_hours is None) == (self.gpu_hours is None):
            raise ValueError("give exactly one of duration_hours or gpu_hours")
        return self


class RegionPolicy(Strict):
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    prefer: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _no_overlap(self) -> RegionPolicy:
        both = sorted(set(self.allow) & set(self.deny))
        if both:
            raise FieldValueError(("deny", self.deny.index(both[0])),
                                  f"region {both[0]!r} is both allowed and denied")
        return self


PREMIUM_PATTERN = re.compile(r"^(0|[1-9][0-9]{0,3})(\.[0-9]{1,2})?%$")
FallbackScope = Literal["zone", "region", "cloud"]


class FallbackPolicy(Strict):
    """Capacity fallbacks: after the choice, keep up to ``count`` ranked options that cost at
    most ``max_premium`` more a month (percent of the choice's monthly cost), each in another
    place than the choice and the earlier fallbacks, differing at a scope listed in
    ``across`` (``zone``: another zone of the same region; ``region``: another region of
    the same cloud; ``cloud``: another cloud). ``count: 0`` turns fallbacks off."""

    count: int = Field(ge=0, le=5)
    max_premium: str = "30%"
    across: tuple[FallbackScope, ...] = Field(("zone", "region", "cloud"), min_length=1)

    @field_validator("count", mode="before")
    @classmethod
    def _whole_count(cls, v: Any) -> Any:
        if isinstance(v, float) and v != int(v):
            raise ValueError(f"must be a whole number (got {v})")
        return v

    @field_validator("max_premium", mode="before")
    @classmethod
    def _premium(cls, v: Any) -> Any:
        if not isinstance(v, str) or not PREMIUM_PATTERN.match(v.strip()):
            raise ValueError(f"must be a percentage such as '30%' (0% to 9999%, got {v!r})")
        return v.strip()

    @field_validator("across")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"lists a scope twice (got {list(v)!r})")
        return v

    @property
    def premium_fraction(self) -> Decimal:
        """``max_premium`` as a fraction of the choice's cost: '30%' -> 0.30."""
        return Decimal(self.max_premium[:-1]) / 100


MoveCost = Literal["restart"] | Money


class _MoveRules(Strict):
    """The checks shared by the ``stability`` policy and its per-workload overrides."""

    @field_validator("move_cost", mode="before", check_fields=False)
    @classmethod
    def _dollars(cls, v: Any) -> Any:
        return _strip_dollar(v)

    @field_validator("min_saving", mode="before", check_fields=False)
    @classmethod
    def _saving(cls, v: Any) -> Any:
        return None if v is None else _saving_text(v)


class StabilityPolicy(_MoveRules):
    """What moving a workload away from its place in the base plan costs (``--base``).

    A move is priced once, against one month of savings: the solver keeps a
    workload where the base plan put it unless moving saves more, per month,
    than ``move_cost`` plus ``min_saving``.

    * ``move_cost``: ``restart`` (``restart_hours`` x the job's hourly cost at its
      new place: the work lost to checkpoint, reschedule and warm-up) or USD per move.
    * ``restart_hours``: hours lost per move when ``move_cost`` is ``restart``.
    * ``min_saving``: the saving a move must clear on top of its cost, per month:
      ``"5%"`` of the workload's monthly cost where it is, or ``"$200"``.
    """

    move_cost: MoveCost = "restart"
    restart_hours: float = Field(0.5, ge=0, le=1000)
    min_saving: str = "5%"


class WorkloadStability(_MoveRules):
    """Per-workload overrides of the ``stability`` policy; ``pinned`` never moves it."""

    pinned: bool = False
    move_cost: MoveCost | None = None
    restart_hours: float | None = Field(None, ge=0, le=1000)
    min_saving: str | None = None


def _strip_dollar(v: Any) -> Any:
    """``"$95"`` -> ``"95"`` (an amount); ``restart`` and amounts >= 0 pass; else one message."""
    if v == "restart" or isinstance(v, bool) or v is None:
        return v
    body = v.removeprefix("$").replace(",", "") if isinstance(v, str) else v
    try:
        amount = Decimal(str(body))
    except ArithmeticError:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"must be 'restart' or an amount of at least $0 like '$95' (got {v!r})")
    return body


def _saving_text(v: Any) -> str:
    """A checked ``min_saving``: a bare number is dollars."""
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        v = f"${v}"
    if not isinstance(v, str):
        raise ValueError(f"must be a percentage like '5%' or an amount like '$200' (got {v!r})")
    parse_saving(v)
    return v.strip()


def parse_saving(text: str) -> tuple[Literal["pct", "usd"], Decimal]:
    """``"5%"`` -> ("pct", 5); ``"$200"`` or ``"200"`` -> ("usd", 200). ValueError if out of range."""
    raw = text.strip()
    kind: Literal["pct", "usd"] = "pct" if raw.endswith("%") else "usd"
    body = raw[:-1] if kind == "pct" else raw.removeprefix("$")
    try:
        value = Decimal(body.replace(",", ""))
    except ArithmeticError:
        raise ValueError(f"must be a percentage like '5%' or an amount like '$200' "
                         f"(got {text!r})") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"must be a percentage like '5%' or an amount like '$200' (got {text!r})")
    if kind == "pct" and value > 100:
        raise ValueError(f"must be a percentage between 0% and 100% (got {text!r})")
    if kind == "usd" and value > Decimal("1e12"):
        raise ValueError(f"must be at most $1,000,000,000,000 (got {text!r})")
    return kind, value


class Workload(Strict):
    name: Name
    team: Name
    kind: Literal["training", "batch", "service"] = "training"
    priority: int = Field(0, ge=0, le=1_000_000)
    resources: Resources
    num_nodes: int = Field(1, ge=1, le=1024)
    topology: Topology = Field(default_factory=Topology)
    work: Work | None = None
    deadline_hours: PositiveHours | None = None
    data: str | None = None
    image: ImageRef = "nvcr.io/nvidia/pytorch:24.10-py3"
    command: tuple[str, ...] = ()
    env: dict[EnvName, str] = Field(default_factory=dict)
    regions: RegionPolicy = Field(default_factory=RegionPolicy)
    time_value_per_hour: Money = Field(
        Decimal(0),
        description="USD an hour of earlier completion is worth; 0 = cheapest wins. With a "
        "value, a faster, dearer GPU can win until a budget binds.",
    )
    gpu_fraction: float | None = Field(None, gt=0, lt=1, description="= resources.gpu.fraction")
    mig_profile: MigProfile | None = Field(None, description="= resources.gpu.mig")
    stability: WorkloadStability | None = Field(
        None, description="overrides of the set's stability policy; pinned: never moved")

    fallbacks: FallbackPolicy | None = Field(
        None, description="ranked, priced fallback options (overrides the team's policy)")

    @field_validator("mig_profile")
    @classmethod
    def _known_profile(cls, v: str | None) -> str | None:
        return check_mig_profile(v)

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, v: Any) -> Any:
        return v.split() if isinstance(v, str) else v

    @field_validator("num_nodes", "priority", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        if isinstance(v, float) and v != int(v):
            raise ValueError(f"must be a whole number (got {v})")
        return v

    @model_validator(mode="after")
    def _check(self) -> Workload:
        if self.kind != "service" and self.work is None:
            raise FieldValueError(
                "work", f"a {self.kind} workload needs 'work' (duration_hours or gpu_hours)")
        if self.topology.type == "single" and self.num_nodes > 1:
            raise FieldValueError(
                "num_nodes", f"num_nodes is {self.num_nodes} but topology.type is 'single'; "
                "multi-node jobs need ddp, parameter-server or ray")
        _check_shared(self)
        return self

    @property
    def shared(self) -> SharedRequest | None:
        """The part of one GPU this workload needs, or None for whole GPUs (or none)."""
        return shared_request(self)


def shared_request(w: Workload) -> SharedRequest | None:
    """Resolve ``resources.gpu``, counts below 1 and the older ``gpu_fraction`` /
    ``mig_profile`` fields into one :class:`SharedRequest` (None: whole GPUs)."""
    gpu = w.resources.gpu
    fraction = (gpu.fraction if gpu else None) or w.gpu_fraction
    mig = (gpu.mig if gpu else None) or w.mig_profile
    memory = gpu.memory_gib if gpu else None
    partial = any(c.count < 1 for c in w.resources.choices)
    if fraction is None and mig is None and memory is None and not partial:
        return None
    return SharedRequest(fraction=fraction, memory_gib=memory, mig=mig,
                         isolation=gpu.isolation if gpu else "none",
                         compute=gpu.compute if gpu else "soft")


def _check_shared(w: Workload) -> None:
    """A shared request names part of ONE GPU on ONE node, in one way."""
    req = shared_request(w)
    if req is None:
        return
    gpu_path = ("resources", "gpu")
    if w.resources.gpu and w.resources.gpu.fraction is not None and w.gpu_fraction is not None:
        raise FieldValueError("gpu_fraction", "give the fraction once: resources.gpu.fraction "
                              "or gpu_fraction")
    if req.mig is not None and (req.fraction is not None or req.memory_gib is not None):
        raise FieldValueError("mig_profile" if w.mig_profile else (*gpu_path, "mig"),
                              "give a MIG profile or a memory/fraction, not both")
    if req.fraction is not None or req.memory_gib is not None or req.mig is not None:
        for c in w.resources.choices:
            if c.count < 1:
                raise FieldValueError(("resources", "accelerators"),
                                      f"{c.name}:{c.count:g} already asks for part of a GPU; "
                                      "give the share once")
            if c.count > 1:
                raise FieldValueError(("resources", "accelerators"),
                                      f"a shared GPU request takes part of one GPU; name the "
                                      f"type without a count ({c.name}, not {c.name}:{c.count:g})")
    if w.num_nodes > 1:
        raise FieldValueError("num_nodes", "a shared GPU request runs on one node "
                              f"(num_nodes is {w.num_nodes})")


# The sharing modes that give each isolation level (a whole GPU gives every level).
ISOLATING_MODES = {"none": ("time-slicing", "mps", "mig"), "capped": ("mps", "mig"),
                   "hard": ("mig",)}


class Team(Strict):
    namespace: Name | None = None
    monthly_budget: Money | None = None
    min_priority: int = Field(0, ge=0)
    max_priority: int = Field(1_000_000, ge=0)
    fallbacks: FallbackPolicy | None = Field(
        None, description="default fallback policy of the team's workloads")


class Quota(Strict):
    """A limit in the cloud's own unit: AWS vCPUs per family class (P, G, ...),
    GCP GPUs per accelerator quota (NVIDIA_A100_GPUS) or CPUS, Azure vCPUs per
    VM family (standardNDASv4_A100Family) or lowPriorityCores."""

    cloud: Cloud
    region: str
    family: CatalogName
    capacity: Literal["on-demand", "spot"] = "on-demand"
    limit: int = Field(ge=0, le=10_000_000)


class Cluster(Strict):
    """An existing Kubernetes cluster with GPUs already paid for (or at an internal rate)."""

    name: Name
    cloud: Literal["aws", "gcp", "azure", "onprem"] = "onprem"
    region: CatalogName = "onprem"
    accelerator: CatalogName
    gpus: int = Field(gt=0, le=100_000)
    gpus_per_node: int = Field(8, gt=0, le=16)
    vcpus_per_node: int = Field(96, gt=0, le=10_000)
    memory_gib_per_node: float = Field(768, gt=0, le=100_000)
    gpu_hour_rate: Money = Decimal(0)
    kubeconfig: str | None = None


class DataSet(Strict):
    cloud: Cloud
    region: str
    size_gb: float = Field(ge=0, le=10_000_000)


class SpotRisk(Strict):
    checkpoint_interval_hours: float = Field(1.0, gt=0, le=1000)
    restart_overhead_hours: float = Field(0.25, ge=0, le=1000)
    interruption_rates_per_hour: dict[Cloud, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="override the per-cloud default interruptions per node-hour",
    )


class Pricing(Strict):
    discounts: dict[Cloud, Annotated[Decimal, Field(gt=0, le=1)]] = Field(default_factory=dict)
    spot: SpotRisk = Field(default_factory=SpotRisk)
    hours_per_month: float = Field(730.0, gt=0, le=744)
    allow_price_outliers: bool = Field(
        False, description="use catalog rows whose price looks wrong (planner.catalog.sanity)")

    @field_validator("allow_price_outliers", mode="before")
    @classmethod
    def _outliers(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return v
        raise ValueError(f"must be true or false (got {v!r})")


class WorkloadSet(Strict):
    version: Literal[1] = 1
    teams: dict[Name, Team] = Field(default_factory=dict)
    workloads: tuple[Workload, ...] = Field(min_length=1)
    quotas: tuple[Quota, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    allow_new_regions: bool = True
    data: dict[str, DataSet] = Field(default_factory=dict)
    pricing: Pricing = Field(default_factory=Pricing)
    sharing: SharingPolicy = Field(default_factory=SharingPolicy)
    stability: StabilityPolicy = Field(
        default_factory=StabilityPolicy,
        description="the price of moving a workload away from the base plan (plan --base)")

    @model_validator(mode="after")
    def _sharing_allowed(self) -> WorkloadSet:
        """With sharing allowed at all, each shared request must have an allowed mode that
        can serve it (``sharing.allow: []`` turns sharing off: shared requests take whole
        GPUs)."""
        allow = set(self.sharing.allow)
        if not allow:
            return self
        listed = f"allow: [{', '.join(self.sharing.allow)}]"
        for i, w in enumerate(self.workloads):
            req = w.shared
            if req is None:
                continue
            base: tuple[str | int, ...] = ("workloads", i)
            if req.mig is not None and "mig" not in allow:
                field = ("mig_profile",) if w.mig_profile else ("resources", "gpu", "mig")
                raise FieldValueError((*base, *field),
                                      f"MIG profile {req.mig} needs mig in sharing.allow ({listed})")
            modes = ISOLATING_MODES[req.isolation]
            if req.compute == "hard":
                modes = tuple(m for m in modes if m != "time-slicing")
            if allow & set(modes):
                continue
            blame, value = (("isolation", req.isolation) if req.isolation != "none"
                            else ("compute", req.compute))
            raise FieldValueError(
                (*base, "resources", "gpu", blame),
                f"{blame} {value!r} needs {' or '.join(modes)} sharing, which sharing.allow "
                f"leaves out ({listed}); allow it or ask for a whole GPU")
        return self

    @field_validator("teams", mode="before")
    @classmethod
    def _teams_default(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({} if t is None else t) for k, t in v.items()}
        return v

    def fallback_policy(self, w: Workload) -> FallbackPolicy | None:
        """The workload's own policy, else its team's; None when off (absent or count 0)."""
        team = self.teams.get(w.team)
        policy = w.fallbacks if w.fallbacks is not None else (team.fallbacks if team else None)
        return policy if policy is not None and policy.count > 0 else None

    def workload(self, name: str) -> Workload:
        for w in self.workloads:
            if w.name == name:
                return w
        raise KeyError(name)
