"""Pure specs derived from a ``Plan``: the one place a pool, queue or job is computed.

Everything downstream (the Pulumi components, ``planner render k8s`` and
``planner render terraform``) reads these frozen dataclasses; nothing about a
pool, a queue quota or a job's pods is computed anywhere else. This module
never imports Pulumi.

Conventions:
- Names are stable ids (pool id, team, workload), made DNS-1123 labels of at
  most 63 characters with :func:`planner.plan.stable_id`; list positions never
  enter a name, so reordering workloads changes no name.
- Every GPU pool carries the node label ``gpuplan.io/pool=<pool name>`` and the
  taint ``nvidia.com/gpu=present:NoSchedule``; pods of the pool's jobs select
  the label and tolerate the taint. AKS Spot pools also carry, explicitly, the
  label ``kubernetes.azure.com/scalesetpriority=spot`` and the taint
  ``kubernetes.azure.com/scalesetpriority=spot:NoSchedule`` that Azure adds to
  every Spot pool anyway, and their jobs and flavor tolerate that taint.
- Services (``kind: service``) are long-running, not queued batch work: they
  get no TrainingJob and are left out of Kueue quotas (their pool capacity is
  reserved for them). Deploy them with your serving stack on the pool label.
- Shared pools (:mod:`components.builders.sharing`): the pool carries its mode; its jobs
  request one slot (``nvidia.com/gpu: 1``, or ``nvidia.com/mig-<profile>: 1`` under the
  GPU Operator's mixed strategy) and Kueue counts quota in slots.
- Pods per topology: ``single`` one pod; ``ddp`` ``nodes`` worker pods;
  ``parameter-server`` ``servers`` CPU-only server pods plus ``nodes - servers``
  GPU worker pods (at least one); ``ray`` one small CPU-only head pod plus
  ``nodes`` GPU worker pods.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from decimal import Decimal

from components.builders.sharing import (
    GPU_RESOURCE,
    SharingSpec,
    cloud_labels,
    operator_managed,
    pool_labels,
    slot_resource,
    slot_resources,
)
from planner.plan import Placement, Plan, Pool, stable_id

POOL_LABEL = "gpuplan.io/pool"
TEAM_LABEL = "gpuplan.io/team"
WORKLOAD_LABEL = "gpuplan.io/workload"
CAPACITY_LABEL = "gpuplan.io/capacity"
ACCELERATOR_LABEL = "gpuplan.io/accelerator"
MANAGED_BY = {"app.kubernetes.io/managed-by": "gpuplan"}
COHORT = "gpuplan"
RAY_HEAD = (1.0, 4.0)  # cpus, GiB of the CPU-only Ray head pod


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str = "Exists"
    value: str | None = None
    effect: str = "NoSchedule"


GPU_TAINT = Taint(GPU_RESOURCE, "present")
GPU_TOLERATION = Toleration(GPU_RESOURCE)
# AKS puts this label and taint on every Spot node pool by itself; the PoolSpec sets them
# explicitly so Pulumi and Terraform see no permanent diff against what Azure reports.
AKS_SPOT_KEY = "kubernetes.azure.com/scalesetpriority"
AKS_SPOT_LABELS = {AKS_SPOT_KEY: "spot"}
AKS_SPOT_TAINT = Taint(AKS_SPOT_KEY, "spot")
AKS_SPOT_TOLERATION = Toleration(AKS_SPOT_KEY, "Equal", "spot")


@dataclass(frozen=True)
class PoolSpec:
    """One node pool: where, what, how many, and how it is labelled, tainted and tagged."""

    id: str
    name: str
    cluster: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None
    gpus: int
    vcpus: float
    memory_gib: float
    spot: bool
    min_nodes: int
    desired_nodes: int
    max_nodes: int
    node_hourly: Decimal
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    tolerations: tuple[Toleration, ...]
    tags: dict[str, str]
    placement_policy: str | None
    managed: bool
    teams: tuple[str, ...]
    workloads: tuple[str, ...]
    sharing: SharingSpec | None = None

    @property
    def gpu_hourly(self) -> Decimal:
        """$/h per GPU (per node when GPU-less): the flavor cost order."""
        return self.node_hourly / self.gpus if self.gpus else self.node_hourly

    @property
    def slots_per_node(self) -> int:
        """What one node holds of :attr:`gpu_resources`: its GPUs, or its slots when shared."""
        if self.sharing is not None and self.sharing.layout:
            return sum(len(gpu) for gpu in self.sharing.layout)
        return self.gpus * (self.sharing.slots_per_gpu if self.sharing else 1)

    @property
    def gpu_resource(self) -> str:
        """The extended resource a job of this pool requests (one slot when shared; the
        first of :attr:`gpu_resources` for a mig-layout pool)."""
        return slot_resource(self.cloud, self.sharing)

    @property
    def gpu_resources(self) -> tuple[str, ...]:
        """Every GPU resource the pool's nodes offer (several on a mig-layout pool)."""
        return slot_resources(self.cloud, self.sharing)

    @property
    def flavor_labels(self) -> dict[str, str]:
        """Node labels the pool's Kueue flavor selects: the pool label, and for a shared
        pool the labels that say its mode (set by the cloud on GKE, by gpuplan elsewhere)."""
        out = {POOL_LABEL: self.name}
        out.update(cloud_labels(self.cloud, self.sharing))
        out.update(pool_labels(self.cloud, self.sharing))
        return out

    @property
    def operator_sharing(self) -> SharingSpec | None:
        """The mode if the NVIDIA GPU Operator must set it up (EKS, existing clusters)."""
        return self.sharing if self.sharing and operator_managed(self.cloud) else None


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    cloud: str
    region: str
    existing: bool
    kubeconfig: str | None
    pools: tuple[str, ...]
    zones: tuple[str, ...]


@dataclass(frozen=True)
class FlavorQuota:
    """A team's nominal quota on one ResourceFlavor (= one pool); ``borrowing`` is set on a
    flavor that is only a fallback for the team: its nominal quota is 0 and it may borrow
    up to what the team's jobs that fall back to it request (see :func:`queue_specs`)."""

    flavor: str
    cpus: float
    memory_gib: float
    gpus: int  # of ``gpu_resource``: GPUs, or slots of a shared pool
    gpu_resource: str = GPU_RESOURCE
    borrowing: FlavorQuota | None = None
    extra: tuple[tuple[str, int], ...] = ()  # other slot resources (a mig-layout pool's)

    def gpu_amounts(self) -> dict[str, int]:
        """GPU resource -> quantity (``gpu_resource`` first, then ``extra``)."""
        return {self.gpu_resource: self.gpus, **dict(self.extra)}


@dataclass(frozen=True)
class QueueSpec:
    """A team's ClusterQueue and LocalQueue in one cluster."""

    name: str
    team: str
    namespace: str
    cluster: str
    cohort: str
    quotas: tuple[FlavorQuota, ...]
    routes: tuple[str, ...] = ()  # more LocalQueues onto this ClusterQueue (cross-cluster)


@dataclass(frozen=True)
class RouteSpec:
    """Jobs of one team whose fallbacks leave their cluster: one LocalQueue ``name`` in every
    cluster of ``clusters`` (choice first), and a MultiKueue order on the manager."""

    name: str
    team: str
    namespace: str
    clusters: tuple[str, ...]
    quota: FlavorQuota  # the requests of the route's jobs (flavor = the route name)


@dataclass(frozen=True)
class PriorityClassSpec:
    name: str
    value: int


@dataclass(frozen=True)
class Role:
    """Pods of one kind in a job: ``replicas`` pods with these per-pod requests."""

    name: str
    replicas: int
    gpus: int
    cpus: float
    memory_gib: float
    gpu_resource: str = GPU_RESOURCE


@dataclass(frozen=True)
class JobSpec:
    name: str
    workload: str
    team: str
    namespace: str
    cluster: str
    pool: str
    kind: str
    topology: str
    queue: str
    priority_class: str
    image: str
    command: tuple[str, ...]
    env: dict[str, str]
    roles: tuple[Role, ...]
    tolerations: tuple[Toleration, ...]
    min_workers: int | None = None
    max_workers: int | None = None
    fallback_pools: tuple[str, ...] = ()  # pool names in rank order, any cluster
    route: tuple[str, ...] = ()  # clusters in order, when a fallback leaves the cluster

    @property
    def flavors(self) -> tuple[str, ...]:
        """The pools it may run on, choice first."""
        return (self.pool, *self.fallback_pools)

    @property
    def node_selector(self) -> dict[str, str]:
        """Pinned to its pool; with fallbacks Kueue sets the pool label of the flavor it
        admits the job on, so the pod carries a node affinity instead."""
        return {} if self.fallback_pools else {POOL_LABEL: self.pool}

    @property
    def node_affinity(self) -> dict[str, object] | None:
        """``gpuplan.io/pool In [choice, fallbacks...]``: Kueue only tries flavors whose
        nodeLabels match it, and injects the admitted flavor's label as a nodeSelector."""
        if not self.fallback_pools:
            return None
        term = {"matchExpressions": [
            {"key": POOL_LABEL, "operator": "In", "values": list(self.flavors)}]}
        return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}


@dataclass(frozen=True)
class PlanSpecs:
    clusters: tuple[ClusterSpec, ...]
    pools: tuple[PoolSpec, ...]
    queues: tuple[QueueSpec, ...]
    priorities: tuple[PriorityClassSpec, ...]
    jobs: tuple[JobSpec, ...]
    namespaces: dict[str, str] = field(default_factory=dict)  # namespace -> team
    routes: tuple[RouteSpec, ...] = ()

    def pool(self, name: str) -> PoolSpec:
        return next(p for p in self.pools if p.name == name)


def label_value(text: str, limit: int = 63) -> str:
    """A lower-case label value (also a valid GCP label): [a-z0-9_-], <= ``limit``, hashed if cut."""
    value = "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower()).strip("-_")
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return value[: limit - 9].rstrip("-_") + "-" + digest


def priority_class_name(priority: int) -> str:
    return f"gpuplan-p{priority}"


def job_name(workload: str, topology: str) -> str:
    """A job's object name. JobSets name a headless Service and RayJobs a RayCluster after
    themselves, so both must be DNS-1035 labels (start with a letter); JobSet pod hostnames
    ``<name>-<rjob>-<i>-<j>`` need room for the suffix, and KubeRay caps RayJob names at
    47 characters (53 for the RayCluster minus the 6 it appends)."""
    limit = {"ddp": 40, "parameter-server": 40, "ray": 47}.get(topology, 63)
    name = stable_id(workload, limit=limit)
    if topology != "single" and not name[:1].isalpha():
        name = stable_id("w", workload, limit=limit)
    return name


def pool_spec(pool: Pool, placements: list[Placement]) -> PoolSpec:
    """The spec of ``pool``; ``placements`` are those placed on it."""
    name = stable_id(pool.id)
    gpus = int(math.ceil(pool.accelerator_count)) if pool.accelerator else 0
    spot = pool.capacity == "spot"
    desired = min(max(pool.nodes, pool.min_nodes), max(pool.max_nodes, pool.min_nodes))
    teams = tuple(sorted(set(pool.teams)))
    labels = {POOL_LABEL: name, CAPACITY_LABEL: pool.capacity}
    if pool.accelerator:
        labels[ACCELERATOR_LABEL] = label_value(pool.accelerator)
    labels.update({f"{TEAM_LABEL}-{stable_id(t, limit=40)}": "true" for t in teams})
    taints: tuple[Taint, ...] = (GPU_TAINT,) if gpus else ()
    tolerations: tuple[Toleration, ...] = (GPU_TOLERATION,) if gpus else ()
    if spot and pool.cloud == "azure":
        labels.update(AKS_SPOT_LABELS)
        taints += (AKS_SPOT_TAINT,)
        tolerations += (AKS_SPOT_TOLERATION,)
    sharing = pool_sharing(pool)
    labels.update(pool_labels(pool.cloud, sharing))
    return PoolSpec(
        id=pool.id, name=name, cluster=pool.cluster, cloud=pool.cloud, region=pool.region,
        zone=pool.zone, instance_type=pool.instance_type, accelerator=pool.accelerator,
        gpus=gpus, vcpus=pool.vcpus, memory_gib=pool.memory_gib, spot=spot,
        min_nodes=pool.min_nodes, desired_nodes=desired,
        max_nodes=max(pool.max_nodes, pool.min_nodes), node_hourly=pool.node_hourly,
        labels=labels, taints=taints, tolerations=tolerations,
        tags=pool_tags(pool, teams), placement_policy="COMPACT" if pool.placement_group else None,
        managed=not pool.existing_cluster, teams=teams, workloads=tuple(sorted(pool.workloads)),
        sharing=sharing,
    )


def pool_sharing(pool: Pool) -> SharingSpec | None:
    """The deploy side's view of the plan pool's sharing mode (None: exclusive)."""
    s = pool.sharing
    if s is None:
        return None
    return SharingSpec(mode=s.mode, profile=s.profile, clients=s.clients,
                       slots_per_gpu=s.slots_per_gpu, layout=s.layout)


def pool_tags(pool: Pool, teams: tuple[str, ...]) -> dict[str, str]:
    """Cloud cost-allocation tags/labels; keys and values valid on AWS, GCP and Azure.
    A pool that is some workloads' fallback also names them (``gpuplan-fallback-for``)."""
    tags = {
        "managed-by": "gpuplan",
        "gpuplan-pool": label_value(pool.id),
        "gpuplan-cluster": label_value(pool.cluster),
        "gpuplan-capacity": pool.capacity,
        "gpuplan-teams": label_value("_".join(teams)),
        "gpuplan-workloads": label_value("_".join(sorted(pool.workloads))),
    }
    if pool.fallback_for:
        tags["gpuplan-fallback-for"] = label_value("_".join(sorted(pool.fallback_for)))
    return tags


def cluster_spec(plan: Plan, name: str, pools: list[PoolSpec]) -> ClusterSpec:
    ref = next(c for c in plan.clusters if c.name == name)
    mine = [p for p in pools if p.cluster == name]
    return ClusterSpec(
        name=ref.name, cloud=ref.cloud, region=ref.region, existing=ref.existing,
        kubeconfig=ref.kubeconfig, pools=tuple(p.name for p in mine),
        zones=tuple(sorted({p.zone for p in mine if p.zone})),
    )


def roles(p: Placement, gpus: int, resource: str = GPU_RESOURCE) -> tuple[Role, ...]:
    """The pods a placement runs (see the module docstring)."""
    cpus, mem = p.cpus_per_node, p.memory_gib_per_node
    if p.topology == "ddp":
        return (Role("worker", p.nodes, gpus, cpus, mem, resource),)
    if p.topology == "parameter-server":
        servers = max(p.servers, 1)
        workers = max(p.nodes - servers, 1)
        return (Role("server", servers, 0, cpus, mem),
                Role("worker", workers, gpus, cpus, mem, resource))
    if p.topology == "ray":
        return (Role("head", 1, 0, *RAY_HEAD), Role("worker", p.nodes, gpus, cpus, mem, resource))
    return (Role("main", p.nodes, gpus, cpus, mem, resource),)


def job_spec(p: Placement, pool: PoolSpec, fallbacks: tuple[PoolSpec, ...] = ()) -> JobSpec:
    """The job of placement ``p`` on ``pool``; on a shared pool every GPU pod asks for one
    slot. ``fallbacks`` are its fallback pools in rank order (the planner keeps them in
    the choice's sharing mode, so the request fits each): its pods tolerate the taints of
    every pool they may run on, and when a fallback is in another cluster the job goes
    through a route queue (see :func:`route_name`)."""
    gpus = (1 if pool.sharing else int(math.ceil(p.gpus_per_node))) if pool.gpus else 0
    route = tuple(dict.fromkeys([pool.cluster, *(f.cluster for f in fallbacks)]))
    tolerations = tuple(dict.fromkeys(t for f in (pool, *fallbacks) for t in f.tolerations))
    return JobSpec(
        name=job_name(p.workload, p.topology), workload=p.workload, team=p.team,
        namespace=p.namespace, cluster=pool.cluster, pool=pool.name, kind=p.kind,
        topology=p.topology,
        queue=route_name(p.team, route) if len(route) > 1 else stable_id(p.team),
        priority_class=priority_class_name(p.priority),
        image=p.image, command=tuple(p.command), env=dict(sorted(p.env.items())),
        roles=roles(p, gpus, slot_resource(pool.cloud, pool.sharing, p.slot)),
        tolerations=tolerations,
        min_workers=p.min_workers, max_workers=p.max_workers,
        fallback_pools=tuple(f.name for f in fallbacks), route=route if len(route) > 1 else (),
    )


def route_name(team: str, clusters: tuple[str, ...]) -> str:
    """The queue of a team's jobs whose clusters are ``clusters`` in this order
    (``llm-via-gcp-us-east1-gcp-us-west1``; hashed beyond 63 characters)."""
    return stable_id(team, "via", *(short_cluster(c) for c in clusters))


def short_cluster(name: str) -> str:
    """A cluster name without the ``gpuplan-`` prefix of the clusters gpuplan creates."""
    return name.removeprefix("gpuplan-") or name


def requests(jobs: list[JobSpec], flavor: PoolSpec) -> FlavorQuota:
    """Sum of the requests of the pods of ``jobs`` as a quota on ``flavor`` (GPUs counted
    in its slots), with every GPU resource the flavor's nodes offer (0 where none is
    asked: a queue covers each resource of its flavors, a mig-layout pool has several)."""
    pods = [r for j in jobs for r in j.roles]
    counts: dict[str, int] = dict.fromkeys(flavor.gpu_resources, 0)
    for r in pods:
        if r.gpus:
            counts[r.gpu_resource] = counts.get(r.gpu_resource, 0) + r.replicas * r.gpus
    return FlavorQuota(
        flavor=flavor.name,
        cpus=sum(r.replicas * r.cpus for r in pods),
        memory_gib=sum(r.replicas * r.memory_gib for r in pods),
        gpus=counts.pop(flavor.gpu_resource, 0),
        gpu_resource=flavor.gpu_resource,
        extra=tuple(sorted(counts.items())),
    )


def team_quota(jobs: list[JobSpec], flavor: PoolSpec) -> FlavorQuota:
    """A team's quota on ``flavor``: the requests of its ``jobs`` planned there (nominal);
    where it is only a fallback, nominal 0 and borrowing up to the requests of the jobs
    that list it. Fallbacks never add nominal quota: the team's nominal total is its
    planned share whatever its fallbacks."""
    nominal = requests([j for j in jobs if j.pool == flavor.name], flavor)
    need = requests([j for j in jobs if flavor.name in j.fallback_pools], flavor)
    if nominal.gpus or nominal.cpus or not (need.gpus or need.cpus):
        return nominal
    return FlavorQuota(flavor.name, 0.0, 0.0, 0, flavor.gpu_resource, borrowing=need)


def flavor_order(default: list[str], rankings: list[tuple[str, ...]]) -> list[str]:
    """``default`` reordered so each ranking's flavors come in its order (the planner keeps
    rankings free of cycles); otherwise the ``default`` order (cheapest per GPU first)."""
    position = {name: i for i, name in enumerate(default)}
    after: dict[str, set[str]] = {name: set() for name in default}
    before_count = dict.fromkeys(default, 0)
    for ranking in rankings:
        local = [n for n in ranking if n in position]
        for a, b in zip(local, local[1:], strict=False):
            if b not in after[a]:
                after[a].add(b)
                before_count[b] += 1
    out: list[str] = []
    ready = sorted((n for n, c in before_count.items() if c == 0), key=position.__getitem__)
    while ready:
        name = ready.pop(0)
        out.append(name)
        for b in after[name]:
            before_count[b] -= 1
            if before_count[b] == 0:
                ready.append(b)
        ready.sort(key=position.__getitem__)
    return out + [n for n in default if n not in out]  # a cycle: keep the rest in default order


def queue_specs(cluster: ClusterSpec, pools: list[PoolSpec], jobs: list[JobSpec],
                teams: dict[str, str]) -> list[QueueSpec]:
    """One ClusterQueue per team with pools in ``cluster``: flavors cheapest first per GPU,
    except that every job's own flavors come in its rank order (choice first)."""
    flavors = sorted((p for p in pools if p.cluster == cluster.name),
                     key=lambda p: (p.gpu_hourly, p.name))
    present = sorted({t for p in flavors for t in p.teams})
    by_name = {f.name: f for f in flavors}
    out = []
    for team in present:
        mine = [j for j in jobs if j.team == team]
        order = flavor_order([f.name for f in flavors], [j.flavors for j in mine])
        here = [j for j in mine if j.cluster == cluster.name or cluster.name in j.route]
        out.append(QueueSpec(
            name=stable_id(team), team=team, namespace=teams.get(team, team),
            cluster=cluster.name, cohort=COHORT,
            quotas=tuple(team_quota(here, by_name[name]) for name in order),
            routes=tuple(sorted({j.queue for j in here if j.route})),
        ))
    return out


def route_specs(jobs: list[JobSpec], teams: dict[str, str],
                pools: dict[str, PoolSpec]) -> tuple[RouteSpec, ...]:
    """One route per team and cross-cluster cluster order, with the requests of its jobs."""
    by_route: dict[tuple[str, str, tuple[str, ...]], list[JobSpec]] = {}
    for j in jobs:
        if j.route:
            by_route.setdefault((j.queue, j.team, j.route), []).append(j)
    return tuple(RouteSpec(name, team, teams.get(team, team), route,
                           requests(mine, pools[mine[0].pool]))
                 for (name, team, route), mine in sorted(by_route.items()))


def plan_specs(plan: Plan) -> PlanSpecs:
    """Every spec of ``plan``, each list sorted by its stable name."""
    by_pool: dict[str, list[Placement]] = {}
    for p in plan.placements:
        by_pool.setdefault(p.pool, []).append(p)
    pools = sorted((pool_spec(p, by_pool.get(p.id, [])) for p in plan.pools),
                   key=lambda s: s.name)
    pool_by_id = {p.id: p for p in pools}
    jobs = sorted((job_spec(p, pool_by_id[p.pool], tuple(pool_by_id[f.pool] for f in p.fallbacks))
                   for p in plan.placements if p.kind != "service"),
                  key=lambda j: (j.cluster, j.namespace, j.name))
    teams = {t.name: t.namespace for t in plan.teams}
    teams.update({p.team: p.namespace for p in plan.placements if p.team not in teams})
    clusters = sorted((cluster_spec(plan, c.name, pools) for c in plan.clusters),
                      key=lambda c: c.name)
    queues = [q for c in clusters for q in queue_specs(c, pools, jobs, teams)]
    priorities = sorted({p.priority for p in plan.placements if p.kind != "service"})
    return PlanSpecs(
        clusters=tuple(clusters), pools=tuple(pools), queues=tuple(queues),
        priorities=tuple(PriorityClassSpec(priority_class_name(v), v) for v in priorities),
        jobs=tuple(jobs), namespaces={ns: team for team, ns in sorted(teams.items())},
        routes=route_specs(jobs, teams, {p.name: p for p in pools}),
    )
