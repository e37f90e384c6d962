"""Kubernetes objects of a plan as plain manifest dicts. Pulumi-free.

Per cluster: Namespaces, ResourceFlavors, WorkloadPriorityClasses,
ClusterQueues, LocalQueues (Kueue ``v1beta2``) and the TrainingJobs (batch/v1
Job, JobSet ``v1alpha2``, KubeRay RayJob ``v1``). Optional MultiKueue wiring
for a manager cluster. Every object has a stable name from a pool id, team or
workload; the same dicts feed the Pulumi components, ``planner render k8s``
and ``planner render terraform``.
"""

from __future__ import annotations

import shlex
from typing import Any

from components.builders.sharing import operator_configmaps
from components.builders.specs import (
    GPU_RESOURCE,
    MANAGED_BY,
    POOL_LABEL,
    TEAM_LABEL,
    WORKLOAD_LABEL,
    FlavorQuota,
    JobSpec,
    PlanSpecs,
    PoolSpec,
    PriorityClassSpec,
    QueueSpec,
    Role,
    RouteSpec,
    Toleration,
    short_cluster,
)
from planner.plan import stable_id

KUEUE = "kueue.x-k8s.io/v1beta2"
JOBSET = "jobset.x-k8s.io/v1alpha2"
RAY = "ray.io/v1"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
MASTER_PORT = "29500"
PS_PORT = "2222"
KUEUE_NAMESPACE = "kueue-system"
MULTIKUEUE_CHECK = "gpuplan-multikueue"
MULTIKUEUE_CONTROLLER = "kueue.x-k8s.io/multikueue"
Manifest = dict[str, Any]


def cpu_quantity(cpus: float) -> str:
    """``8`` -> ``"8"``, ``0.5`` -> ``"500m"``."""
    milli = round(cpus * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def memory_quantity(gib: float) -> str:
    """``32`` -> ``"32Gi"``, ``0.5`` -> ``"512Mi"``."""
    mib = round(gib * 1024)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None,
          annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {**MANAGED_BY, **(labels or {})}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def toleration(t: Toleration) -> dict[str, str]:
    out = {"key": t.key, "operator": t.operator, "effect": t.effect}
    if t.value is not None:
        out["value"] = t.value
    return out


# --- Kueue ---------------------------------------------------------------------------------


def namespace(name: str, team: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": _meta(name, labels={TEAM_LABEL: team})}


def resource_flavor(pool: PoolSpec) -> Manifest:
    """One flavor per pool: its nodes carry the pool label (and a shared pool's mode labels,
    :attr:`PoolSpec.flavor_labels`); admitted pods tolerate its taints."""
    spec: dict[str, Any] = {"nodeLabels": pool.flavor_labels}
    if pool.tolerations:
        spec["tolerations"] = [toleration(t) for t in pool.tolerations]
    return {"apiVersion": KUEUE, "kind": "ResourceFlavor",
            "metadata": _meta(pool.name, labels={POOL_LABEL: pool.name}), "spec": spec}


def workload_priority_class(pc: PriorityClassSpec) -> Manifest:
    return {"apiVersion": KUEUE, "kind": "WorkloadPriorityClass", "metadata": _meta(pc.name),
            "value": pc.value, "description": f"gpuplan priority {pc.value}"}


COVERED = ("cpu", "memory", GPU_RESOURCE)


def covered_resources(quotas: tuple[FlavorQuota, ...]) -> list[str]:
    """cpu, memory, ``nvidia.com/gpu`` and every ``nvidia.com/mig-*`` slot resource of the
    queue's flavors: one resource group, as Kueue wants a resource in one group only."""
    extra = sorted({r for f in quotas for r in f.gpu_amounts()} - set(COVERED))
    return [*COVERED, *extra]


def _amounts(f: FlavorQuota, covered: list[str]) -> list[tuple[str, str]]:
    """(resource, quantity) of ``f`` for every covered resource (0 for slot resources it
    lacks)."""
    fixed = {"cpu": cpu_quantity(f.cpus), "memory": memory_quantity(f.memory_gib)}
    gpus = f.gpu_amounts()
    return [(r, fixed.get(r, str(gpus.get(r, 0)))) for r in covered]


def flavor_resources(f: FlavorQuota, covered: list[str]) -> list[dict[str, str]]:
    """The flavor's quota of every covered resource, and on a fallback flavor the
    ``borrowingLimit`` of each (what the team's jobs that fall back to it request)."""
    out = [{"name": r, "nominalQuota": q} for r, q in _amounts(f, covered)]
    if f.borrowing is not None:
        for item, (_, limit) in zip(out, _amounts(f.borrowing, covered), strict=True):
            item["borrowingLimit"] = limit
    return out


def cluster_queue(q: QueueSpec, admission_check: str | None = None) -> Manifest:
    """A team's queue: its planned share per flavor, one cohort, preemption.

    Flavors come cheapest per GPU first, except that each job's own flavors come in its
    fallback rank (choice first). Kueue tries them in that order: a flavor where the job
    fits without borrowing is taken at once; one where it fits by borrowing stops the
    search (``whenCanBorrow: MayStopSearch``); one that would need preemption is passed
    over for the next (``whenCanPreempt: TryNextFlavor``). A fallback flavor has nominal
    quota 0 and a ``borrowingLimit`` of what the team's jobs that list it request, lent by
    the cluster's Cohort (:func:`cohort`): it admits only a job whose earlier flavors could
    not, and the team's nominal quota stays its planned share."""
    covered = covered_resources(q.quotas)
    flavors = [{"name": f.flavor, "resources": flavor_resources(f, covered)} for f in q.quotas]
    spec: dict[str, Any] = {
        "cohortName": q.cohort,
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": q.namespace}},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [{"coveredResources": covered, "flavors": flavors}],
        "preemption": {
            "withinClusterQueue": "LowerPriority",
            "reclaimWithinCohort": "Any",
            "borrowWithinCohort": {"policy": "LowerPriority"},
        },
        "flavorFungibility": {"whenCanBorrow": "MayStopSearch", "whenCanPreempt": "TryNextFlavor"},
    }
    if admission_check:
        spec["admissionChecksStrategy"] = {"admissionChecks": [{"name": admission_check}]}
    return {"apiVersion": KUEUE, "kind": "ClusterQueue",
            "metadata": _meta(q.name, labels={TEAM_LABEL: q.team}), "spec": spec}


def local_queue(q: QueueSpec, name: str | None = None) -> Manifest:
    """The team's LocalQueue onto its ClusterQueue (``name``: a route queue, same target)."""
    return {"apiVersion": KUEUE, "kind": "LocalQueue",
            "metadata": _meta(name or q.name, q.namespace, labels={TEAM_LABEL: q.team}),
            "spec": {"clusterQueue": q.name}}


def local_queues(q: QueueSpec) -> list[Manifest]:
    return [local_queue(q)] + [local_queue(q, r) for r in q.routes]


def _total(name: str, quotas: list[FlavorQuota]) -> FlavorQuota:
    """The sum of ``quotas`` as one flavor's quota, each GPU resource summed on its own
    (``nvidia.com/gpu`` and every ``nvidia.com/mig-*``), negative sums taken as 0."""
    gpus: dict[str, int] = {}
    for q in quotas:
        for r, n in q.gpu_amounts().items():
            gpus[r] = gpus.get(r, 0) + n
    main = GPU_RESOURCE if GPU_RESOURCE in gpus or not gpus else min(gpus)
    return FlavorQuota(name, max(0.0, sum(q.cpus for q in quotas)),
                       max(0.0, sum(q.memory_gib for q in quotas)),
                       max(0, gpus.pop(main, 0)), main,
                       extra=tuple(sorted((r, n) for r, n in gpus.items() if n > 0)))


def cohort(queues: list[QueueSpec]) -> Manifest | None:
    """The cluster's Cohort object, lending what fallback flavors may be borrowed: per
    flavor the sum of the teams' ``borrowingLimit`` (every job listing it could fall back
    at once). No fallbacks: no Cohort object (the cohort stays implicit, as before)."""
    lent: dict[str, list[FlavorQuota]] = {}
    for q in queues:
        for f in q.quotas:
            if f.borrowing is not None:
                lent.setdefault(f.flavor, []).append(f.borrowing)
    if not lent:
        return None
    totals = tuple(_total(name, bs) for name, bs in sorted(lent.items()))
    covered = covered_resources(totals)
    flavors = [{"name": f.flavor, "resources": flavor_resources(f, covered)} for f in totals]
    return {"apiVersion": KUEUE, "kind": "Cohort", "metadata": _meta(queues[0].cohort),
            "spec": {"resourceGroups": [{"coveredResources": covered, "flavors": flavors}]}}


# --- Jobs ----------------------------------------------------------------------------------


def _env(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def _index_env(name: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": COMPLETION_INDEX}}}


def resources(role: Role) -> dict[str, Any]:
    """Requests on every container; the GPU limit equals its request (extended resource)."""
    requests = {"cpu": cpu_quantity(role.cpus), "memory": memory_quantity(role.memory_gib)}
    out: dict[str, Any] = {"requests": requests}
    if role.gpus:
        requests[role.gpu_resource] = str(role.gpus)
        out["limits"] = {role.gpu_resource: str(role.gpus)}
    return out


def container(job: JobSpec, role: Role, env: list[dict[str, Any]],
              command: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"name": role.name, "image": job.image}
    if command and job.command:
        out["command"] = list(job.command)
    env = env + _env(job.env)
    if env:
        out["env"] = env
    out["resources"] = resources(role)
    return out


def pod_template(job: JobSpec, role: Role, env: list[dict[str, Any]],
                 restart: str | None = "Never", command: bool = True) -> dict[str, Any]:
    """Pinned to the planned pool, tolerating its taints, labelled for cost allocation."""
    spec: dict[str, Any] = {}
    if restart:
        spec["restartPolicy"] = restart
    if job.node_selector:
        spec["nodeSelector"] = job.node_selector
    if job.node_affinity:
        spec["affinity"] = {"nodeAffinity": job.node_affinity}
    spec["tolerations"] = [toleration(t) for t in job.tolerations]
    spec["containers"] = [container(job, role, env, command)]
    labels = {TEAM_LABEL: job.team, WORKLOAD_LABEL: job.workload, "gpuplan.io/role": role.name}
    return {"metadata": {"labels": labels}, "spec": spec}


def _job_meta(job: JobSpec) -> dict[str, Any]:
    labels = {QUEUE_LABEL: job.queue, PRIORITY_LABEL: job.priority_class,
              TEAM_LABEL: job.team, WORKLOAD_LABEL: job.workload, POOL_LABEL: job.pool}
    return _meta(job.name, job.namespace, labels, SKIP_AWAIT)


def batch_job(job: JobSpec) -> Manifest:
    """A single-node job: batch/v1 Job, created suspended for Kueue to admit."""
    role = job.roles[0]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _job_meta(job), "spec": {
        "suspend": True,
        "parallelism": role.replicas,
        "completions": role.replicas,
        "backoffLimit": 3,
        "template": pod_template(job, role, []),
    }}


def _replicated_job(job: JobSpec, role: Role, env: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": role.name, "replicas": 1, "template": {"spec": {
        "parallelism": role.replicas,
        "completions": role.replicas,
        "completionMode": "Indexed",
        "backoffLimit": 0,
        "template": pod_template(job, role, env),
    }}}


def _host(job: JobSpec, role: str, index: int) -> str:
    """A pod's DNS name behind the JobSet's headless service (``<js>-<rjob>-0-<i>.<js>``)."""
    return f"{job.name}-{role}-0-{index}.{job.name}"


def _jobset(job: JobSpec, replicated: list[dict[str, Any]], in_order: bool = False) -> Manifest:
    spec: dict[str, Any] = {
        "suspend": True,
        "network": {"enableDNSHostnames": True, "subdomain": job.name},
        "failurePolicy": {"maxRestarts": 3},
    }
    if in_order:
        spec["startupPolicy"] = {"startupPolicyOrder": "InOrder"}
    spec["replicatedJobs"] = replicated
    return {"apiVersion": JOBSET, "kind": "JobSet", "metadata": _job_meta(job), "spec": spec}


def ddp_jobset(job: JobSpec) -> Manifest:
    """Multi-node DDP: one indexed job of N pods; torchrun rendezvous on pod 0."""
    role = job.roles[0]
    env = _env({
        "MASTER_ADDR": _host(job, role.name, 0),
        "MASTER_PORT": MASTER_PORT,
        "NNODES": str(role.replicas),
        "NPROC_PER_NODE": str(max(role.gpus, 1)),
        "WORLD_SIZE": str(role.replicas * max(role.gpus, 1)),
        "PET_MASTER_ADDR": _host(job, role.name, 0),
        "PET_MASTER_PORT": MASTER_PORT,
        "PET_NNODES": str(role.replicas),
        "PET_NPROC_PER_NODE": str(max(role.gpus, 1)),
    }) + [_index_env("NODE_RANK"), _index_env("PET_NODE_RANK")]
    return _jobset(job, [_replicated_job(job, role, env)])


def ps_jobset(job: JobSpec) -> Manifest:
    """Parameter-server: a ``server`` and a ``worker`` replicated job; servers start first."""
    servers, workers = job.roles
    hosts = {
        "PS_HOSTS": ",".join(f"{_host(job, 'server', i)}:{PS_PORT}" for i in range(servers.replicas)),
        "WORKER_HOSTS": ",".join(
            f"{_host(job, 'worker', i)}:{PS_PORT}" for i in range(workers.replicas)),
        "NUM_SERVERS": str(servers.replicas),
        "NUM_WORKERS": str(workers.replicas),
    }
    replicated = [
        _replicated_job(job, r, _env({**hosts, "ROLE": r.name}) + [_index_env("TASK_INDEX")])
        for r in (servers, workers)
    ]
    return _jobset(job, replicated, in_order=True)


def ray_job(job: JobSpec) -> Manifest:
    """KubeRay RayJob: CPU-only head, GPU workers (elastic bounds from the plan)."""
    head, workers = job.roles
    group: dict[str, Any] = {
        "groupName": "gpu-workers",
        "replicas": workers.replicas,
        "minReplicas": job.min_workers if job.min_workers is not None else workers.replicas,
        "maxReplicas": max(job.max_workers or workers.replicas, workers.replicas),
        "rayStartParams": {},
        "template": pod_template(job, workers, [], restart=None, command=False),
    }
    return {"apiVersion": RAY, "kind": "RayJob", "metadata": _job_meta(job), "spec": {
        "entrypoint": shlex.join(job.command),
        "suspend": True,
        "shutdownAfterJobFinishes": True,
        "ttlSecondsAfterFinished": 600,
        "rayClusterSpec": {
            "headGroupSpec": {
                "rayStartParams": {},
                "template": pod_template(job, head, [], restart=None, command=False),
            },
            "workerGroupSpecs": [group],
        },
    }}


JOB_BUILDERS = {"single": batch_job, "ddp": ddp_jobset, "parameter-server": ps_jobset,
                "ray": ray_job}


def training_job(job: JobSpec) -> Manifest:
    """The manifest for ``job``'s topology."""
    return JOB_BUILDERS[job.topology](job)


# --- Per cluster ---------------------------------------------------------------------------


def operator_objects(specs: PlanSpecs, cluster: str) -> list[Manifest]:
    """The GPU Operator's ConfigMaps for the cluster's operator-managed shared pools."""
    modes = sorted({p.operator_sharing for p in specs.pools
                    if p.cluster == cluster and p.operator_sharing is not None},
                   key=lambda m: m.name)
    return operator_configmaps(modes)


def queue_objects(specs: PlanSpecs, cluster: str,
                  admission_check: str | None = None) -> list[Manifest]:
    """Namespaces, GPU Operator config, flavors, priority classes, cluster and local queues."""
    queues = [q for q in specs.queues if q.cluster == cluster]
    namespaces = sorted({(q.namespace, q.team) for q in queues})
    out = [namespace(ns, team) for ns, team in namespaces]
    out += operator_objects(specs, cluster)
    out += [resource_flavor(p) for p in specs.pools if p.cluster == cluster]
    used = {j.priority_class for j in specs.jobs if j.cluster == cluster or cluster in j.route}
    out += [workload_priority_class(pc) for pc in specs.priorities if pc.name in used]
    lender = cohort(queues)
    out += [lender] if lender else []
    out += [cluster_queue(q, admission_check) for q in queues]
    out += [m for q in queues for m in local_queues(q)]
    return out


def job_objects(specs: PlanSpecs, cluster: str) -> list[Manifest]:
    return [training_job(j) for j in specs.jobs if j.cluster == cluster]


def cluster_objects(specs: PlanSpecs, cluster: str) -> list[Manifest]:
    """Everything for one cluster, queues before the jobs that use them."""
    return queue_objects(specs, cluster) + job_objects(specs, cluster)


def plan_objects(specs: PlanSpecs) -> dict[str, list[Manifest]]:
    """Cluster name -> its objects, for every cluster of the plan."""
    return {c.name: cluster_objects(specs, c.name) for c in specs.clusters}


# --- MultiKueue ----------------------------------------------------------------------------


def kubeconfig_secret_name(worker: str) -> str:
    return f"multikueue-{worker}"[:63].rstrip("-")


def worker_order(specs: PlanSpecs, workers: list[str]) -> list[str]:
    """Workers cheapest first: by their cheapest GPU-hour, then name."""
    def cost(name: str) -> tuple[Any, str]:
        prices = [p.gpu_hourly for p in specs.pools if p.cluster == name]
        return (min(prices) if prices else 0, name)
    return sorted(workers, key=cost)


def multikueue_objects(specs: PlanSpecs, manager: str,
                       kubeconfigs: dict[str, Any] | None = None) -> list[Manifest]:
    """Manager-side MultiKueue wiring: AdmissionCheck, MultiKueueConfig listing the worker
    clusters cheapest first, a MultiKueueCluster and kubeconfig Secret per worker, and
    the teams' ClusterQueues gated by the check (quota = the team's total over workers).

    ``kubeconfigs`` maps worker -> kubeconfig text (or a Pulumi secret Output); without
    it the Secrets are omitted (create them out of band, e.g. with a sealed secret)."""
    workers = worker_order(specs, [c.name for c in specs.clusters if c.name != manager])
    out: list[Manifest] = multikueue_check(MULTIKUEUE_CHECK, workers)
    for route in specs.routes:
        out += multikueue_check(route_check(route), list(route.clusters))
    for w in workers:
        secret = kubeconfig_secret_name(w)
        out.append({"apiVersion": KUEUE, "kind": "MultiKueueCluster", "metadata": _meta(w),
                    "spec": {"clusterSource": {"kubeConfig": {
                        "locationType": "Secret", "location": secret}}}})
        if kubeconfigs and w in kubeconfigs:
            out.append({"apiVersion": "v1", "kind": "Secret",
                        "metadata": _meta(secret, KUEUE_NAMESPACE), "type": "Opaque",
                        "stringData": {"kubeconfig": kubeconfigs[w]}})
    return out + _manager_queues(specs)


def multikueue_check(name: str, clusters: list[str]) -> list[Manifest]:
    """An AdmissionCheck and its MultiKueueConfig listing ``clusters`` in the order Kueue's
    incremental dispatcher nominates them (Kueue v0.19: in config order)."""
    return [
        {"apiVersion": KUEUE, "kind": "AdmissionCheck", "metadata": _meta(name),
         "spec": {"controllerName": MULTIKUEUE_CONTROLLER,
                  "parameters": {"apiGroup": "kueue.x-k8s.io", "kind": "MultiKueueConfig",
                                 "name": name}}},
        {"apiVersion": KUEUE, "kind": "MultiKueueConfig", "metadata": _meta(name),
         "spec": {"clusters": clusters}},
    ]


def route_check(route: RouteSpec) -> str:
    """The AdmissionCheck (and MultiKueueConfig) of a route: its clusters, choice first."""
    return stable_id(MULTIKUEUE_CHECK, *(short_cluster(c) for c in route.clusters))


def _manager_queues(specs: PlanSpecs) -> list[Manifest]:
    """One flavor-less-by-pool manager flavor and per-team queues summing every worker.

    Jobs with a fallback in another cluster go through their route's queue instead, with
    its own cluster order; the route's requests move from the team's queue to it, so the
    team's total on the manager is the same with or without fallbacks."""
    flavor = "multikueue"
    out: list[Manifest] = [{"apiVersion": KUEUE, "kind": "ResourceFlavor",
                            "metadata": _meta(flavor), "spec": {}}]
    teams = sorted({(q.team, q.namespace, q.name) for q in specs.queues})
    cohort_name = specs.queues[0].cohort
    queues = []
    for team, ns, name in teams:
        quotas = [f for q in specs.queues if q.team == team for f in q.quotas]
        quotas += [_negative(r.quota) for r in specs.routes if r.team == team]
        queues.append(QueueSpec(name, team, ns, "manager", cohort_name,
                                (_total(flavor, quotas),)))
    routed = [(QueueSpec(r.name, r.team, r.namespace, "manager", cohort_name,
                         (_total(flavor, [r.quota]),)),
               route_check(r)) for r in specs.routes]
    out += [namespace(q.namespace, q.team) for q in queues]
    out += [workload_priority_class(pc) for pc in specs.priorities]
    out += [cluster_queue(q, MULTIKUEUE_CHECK) for q in queues]
    out += [cluster_queue(q, check) for q, check in routed]
    out += [local_queue(q) for q in queues]
    out += [local_queue(q) for q, _ in routed]
    return out


def _negative(q: FlavorQuota) -> FlavorQuota:
    return FlavorQuota(q.flavor, -q.cpus, -q.memory_gib, -q.gpus, q.gpu_resource,
                       extra=tuple((r, -n) for r, n in q.extra))
