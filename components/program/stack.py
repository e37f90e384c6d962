"""The stack program: stack config -> Plan -> components -> exports.

``stacks/__main__.py`` calls :func:`main`. Config keys (namespace ``gpuplan``):

- ``plan``: path to a ``plan.json`` (relative paths from the project root, the
  folder of ``Pulumi.yaml``), or
- ``workloads`` (+ optional ``catalog`` directory): plan at ``pulumi up`` time;
  with ``basePlan`` (a ``plan.json``, e.g. the one deployed now) moving a workload
  away from it has the price the declaration's ``stability`` section sets;
- ``clusters``: object, per plan cluster name, what the cloud needs:
  ``clusterName`` (existing clusters' real name), ``subnetIds`` (EKS),
  ``nodeRoleArn`` (existing EKS), ``project``/``location`` (GKE),
  ``resourceGroup`` (AKS), ``version``, ``context`` (kube context),
  ``installOperators`` (true: install Kueue, JobSet, KubeRay and on EKS the NVIDIA
  device plugin, or the NVIDIA GPU Operator where shared pools need it; default false:
  they are already installed);
- ``kubeconfigs``: secret object, cluster name -> kubeconfig text (existing
  clusters; else the plan's kubeconfig path, else the ambient kubeconfig);
- ``jobs``: create the TrainingJobs (default true);
- ``multikueue``: name of a MultiKueue manager cluster outside the plan (its
  kubeconfig in ``kubeconfigs``): jobs go there, it dispatches to the plan's
  clusters, cheapest first.

Exports: ``poolIds``, ``poolResourceIds`` (pool -> node group / node pool / agent
pool id at the cloud), ``pools`` (per pool: cluster, cloud, instance type, spot,
min/max nodes, $/h per node), ``queues`` (cluster -> ClusterQueue names),
``jobs`` (cluster -> namespace/name), ``hourlyCost`` and ``monthlyCost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.builders.k8s_objects import job_objects, multikueue_objects, queue_objects
from components.builders.specs import ClusterSpec, PlanSpecs, plan_specs
from components.resources.cluster import GpuCluster
from components.resources.jobs import TrainingJob
from components.resources.kueue import KueueQueues
from components.resources.node_pool import GpuNodePool
from components.resources.operators import ClusterOperators
from planner.names import is_label
from planner.plan import Plan, read_plan

REPO = Path(__file__).resolve().parents[2]


@dataclass
class StackConfig:
    plan: str | None = None
    workloads: str | None = None
    catalog: str | None = None
    base_plan: str | None = None
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    kubeconfigs: pulumi.Output[Any] | None = None
    jobs: bool = True
    multikueue: str | None = None


def read_config(config: pulumi.Config) -> StackConfig:
    """The ``gpuplan:*`` stack config."""
    return StackConfig(
        plan=config.get("plan"), workloads=config.get("workloads"),
        catalog=config.get("catalog"), base_plan=config.get("basePlan"),
        clusters=config.get_object("clusters") or {},
        kubeconfigs=config.get_secret_object("kubeconfigs"),
        jobs=config.get_bool("jobs") is not False, multikueue=config.get("multikueue"),
    )


def _path(value: str, root: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def load_plan(cfg: StackConfig, root: Path = REPO) -> Plan:
    """Read ``plan``, or plan ``workloads`` on ``catalog`` (the embedded one by default),
    against ``basePlan`` if set."""
    if cfg.plan:
        return read_plan(_path(cfg.plan, root))
    if not cfg.workloads:
        raise ValueError("set gpuplan:plan (a plan.json) or gpuplan:workloads (a workloads.yaml)")
    from planner.catalog.load import load_catalog
    from planner.optimize.planning import plan_workloads
    from planner.spec.load import load_workloads

    catalog = load_catalog(_path(cfg.catalog, root) if cfg.catalog else None)
    base = None
    if cfg.base_plan:
        from planner.optimize.stability import check_base

        base = read_plan(_path(cfg.base_plan, root))
        check_base(base, catalog, cfg.base_plan)
    return plan_workloads(load_workloads(_path(cfg.workloads, root), catalog), catalog,
                          base=base)


def kubeconfig_for(cfg: StackConfig, name: str,
                   plan_path: str | None) -> pulumi.Input[str] | None:
    """Secret config first, then the plan's kubeconfig file, else None (ambient)."""
    text = None
    if plan_path and Path(plan_path).expanduser().is_file():
        text = Path(plan_path).expanduser().read_text("utf-8")
    if cfg.kubeconfigs is None:
        return pulumi.Output.secret(text) if text is not None else None
    return cfg.kubeconfigs.apply(lambda d: (d or {}).get(name) or text)


def build_clusters(specs: PlanSpecs, cfg: StackConfig) -> dict[str, GpuCluster]:
    out = {}
    for spec in specs.clusters:
        kubeconfig = kubeconfig_for(cfg, spec.name, spec.kubeconfig) if spec.existing else None
        out[spec.name] = GpuCluster(spec, cfg.clusters.get(spec.name), kubeconfig)
    return out


def build_manager(specs: PlanSpecs, cfg: StackConfig,
                  clusters: dict[str, GpuCluster]) -> GpuCluster:
    name = str(cfg.multikueue)
    if not is_label(name):
        raise ValueError(f"gpuplan:multikueue: {name!r} is not a DNS label (lowercase letters, "
                         "digits and '-', at most 63 chars)")
    if name in clusters:
        raise ValueError(f"gpuplan:multikueue: {name} hosts planned pools; pick a hub cluster "
                         "outside the plan")
    spec = ClusterSpec(name, "onprem", "", True, None, (), ())
    return GpuCluster(spec, cfg.clusters.get(name), kubeconfig_for(cfg, name, None))


def install_operators(cfg: StackConfig, clusters: dict[str, GpuCluster],
                      specs: PlanSpecs | None = None) -> dict[str, list[pulumi.Resource]]:
    """Operators for clusters whose config says ``installOperators: true`` (with the NVIDIA
    GPU Operator where the plan has shared pools it must set up)."""
    out: dict[str, list[pulumi.Resource]] = {}
    shared = {p.cluster for p in (specs.pools if specs else ()) if p.operator_sharing}
    for name, cluster in sorted(clusters.items()):
        if (cfg.clusters.get(name) or {}).get("installOperators") is True:
            out[name] = [ClusterOperators(name, cluster.spec.cloud, cluster.provider,
                                          opts=pulumi.ResourceOptions(depends_on=[cluster]),
                                          gpu_operator=name in shared)]
    return out


def program(plan: Plan, cfg: StackConfig) -> dict[str, Any]:
    """Create every component; return the exports."""
    specs = plan_specs(plan)
    clusters = build_clusters(specs, cfg)
    pools = {p.name: GpuNodePool(p, clusters[p.cluster].pool_wiring,
                                 opts=pulumi.ResourceOptions(depends_on=[clusters[p.cluster]]))
             for p in specs.pools}
    operators = install_operators(cfg, clusters, specs)
    queues = {c: KueueQueues(c, queue_objects(specs, c), clusters[c].provider,
                             opts=pulumi.ResourceOptions(depends_on=operators.get(c)))
              for c in clusters}
    job_clusters = {c: (c, clusters[c]) for c in clusters}
    if cfg.multikueue:
        manager = build_manager(specs, cfg, clusters)
        objs = multikueue_objects(specs, manager.spec.name,
                                  {c: clusters[c].kubeconfig for c in clusters
                                   if clusters[c].kubeconfig is not None})
        hub_operators = install_operators(cfg, {manager.spec.name: manager})
        queues[manager.spec.name] = KueueQueues(
            manager.spec.name, objs, manager.provider,
            opts=pulumi.ResourceOptions(depends_on=hub_operators.get(manager.spec.name)))
        job_clusters = {c: (manager.spec.name, manager) for c in clusters}
    jobs: dict[str, list[str]] = {}
    if cfg.jobs:
        for c in sorted(clusters):
            target, cluster = job_clusters[c]
            for manifest in job_objects(specs, c):
                TrainingJob(target, manifest, cluster.provider, depends_on=[queues[target]])
                meta = manifest["metadata"]
                jobs.setdefault(target, []).append(f"{meta['namespace']}/{meta['name']}")
    return exports(plan, specs, queues, jobs, pools)


def exports(plan: Plan, specs: PlanSpecs, queues: dict[str, KueueQueues],
            jobs: dict[str, list[str]], pools: dict[str, GpuNodePool]) -> dict[str, Any]:
    return {
        "poolIds": [p.name for p in specs.pools],
        "poolResourceIds": {name: pool.resource.id for name, pool in sorted(pools.items())
                            if pool.resource is not None},
        "pools": {p.name: {"cluster": p.cluster, "cloud": p.cloud, "region": p.region,
                           "instanceType": p.instance_type, "spot": p.spot,
                           "minNodes": p.min_nodes, "maxNodes": p.max_nodes,
                           "nodeHourly": str(p.node_hourly)} for p in specs.pools},
        "queues": {c: q.queue_names for c, q in sorted(queues.items())},
        "jobs": {c: sorted(names) for c, names in sorted(jobs.items())},
        "hourlyCost": str(plan.totals.hourly),
        "monthlyCost": str(plan.totals.monthly),
    }


def project_root() -> Path:
    """The folder of Pulumi.yaml: the engine's root directory, else this checkout."""
    root = Path(str(pulumi.get_root_directory() or ""))
    return root if (root / "Pulumi.yaml").is_file() else REPO


def main() -> None:
    """Entry point of ``stacks/__main__.py``."""
    cfg = read_config(pulumi.Config("gpuplan"))
    for key, value in program(load_plan(cfg, project_root()), cfg).items():
        pulumi.export(key, value)
