"""``planner render k8s PLAN --out DIR``: the plan's Kubernetes objects as plain YAML.

For teams that apply with Argo CD or Flux instead of Pulumi. The objects come
from the same pure builders the Pulumi components use
(:mod:`components.builders.specs`, :mod:`components.builders.k8s_objects`); Pulumi is never
imported. Layout, one directory per cluster, files applied in name order::

    DIR/<cluster>/00-namespaces.yaml   Namespaces of the teams with queues there
    DIR/<cluster>/10-kueue.yaml        ResourceFlavors, WorkloadPriorityClasses,
                                       ClusterQueues, LocalQueues (kueue.x-k8s.io/v1beta2)
    DIR/<cluster>/20-jobs.yaml         Jobs, JobSets, RayJobs (created suspended;
                                       Kueue admits them)
    DIR/<cluster>/kustomization.yaml   the three files, in order

``DIR`` is replaced atomically (:mod:`planner.cli.treewrite`): the new tree
is written beside it and swapped in by rename, so a failure leaves the old
tree as it was. Re-rendering drops gpuplan's files that the plan no longer
produces (a cluster that left the plan); other files in ``DIR`` are carried
over. ``DIR`` may not be the working directory or one of its parents.

Services (``kind: service``) get no objects (see :mod:`components.builders.specs`).
With ``--multikueue HUB`` a ``DIR/HUB/`` holds the MultiKueue manager objects and
every job (the workers keep their queues); create the worker kubeconfig
Secrets (``multikueue-<cluster>`` in ``kueue-system``, key ``kubeconfig``)
yourself. Kueue, JobSet and KubeRay must be installed in the clusters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from planner.errors import UsageError

FILES = ("00-namespaces.yaml", "10-kueue.yaml", "20-jobs.yaml")


def register(app: typer.Typer) -> None:
    render_group(app).command("k8s")(render_k8s)


def render_group(app: typer.Typer) -> typer.Typer:
    """The ``render`` command group of ``app`` (shared with ``render terraform``), made once."""
    for info in app.registered_groups:
        group = info.typer_instance
        if group is not None and (info.name or group.info.name) == "render":
            return group
    group = typer.Typer(help="Render a plan for other tools (Terraform, Kubernetes YAML).",
                        no_args_is_help=True)
    app.add_typer(group, name="render")
    return group


def render_k8s(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="plan.json from 'planner plan'")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Output directory, one folder per cluster (replaced atomically)")],
    multikueue: Annotated[str | None, typer.Option(
        "--multikueue", metavar="HUB",
        help="Also write MultiKueue manager objects for cluster HUB (not in the plan) and "
        "submit every job there.")] = None,
    jobs: Annotated[bool, typer.Option("--jobs/--no-jobs", help="Write the training jobs.")] = True,
) -> None:
    """Write the plan's Kubernetes objects (Namespaces, Kueue queues, jobs) as YAML.

    Examples:

      planner render k8s plan.json --out k8s

      kubectl apply -k k8s/<cluster>
    """
    from planner.cli.treewrite import refuse_bad_out, write_tree
    from planner.plan import read_plan

    plan = read_plan(plan_file)
    texts = render_texts(plan, multikueue, jobs)
    refuse_bad_out(out)
    write_tree(out, texts, is_generated)
    clusters = sorted({rel.split("/")[0] for rel in texts})
    typer.echo(f"wrote {len(texts)} files for {len(clusters)} clusters to {out} "
               f"({', '.join(clusters)})")


def is_generated(rel: Path) -> bool:
    """``<cluster>/{00-namespaces,10-kueue,20-jobs,kustomization}.yaml``: gpuplan's own files,
    replaced on every render (dropped when their cluster leaves the plan)."""
    return len(rel.parts) == 2 and rel.name in (*FILES, "kustomization.yaml")


def render_texts(plan: Any, multikueue: str | None = None, jobs: bool = True) -> dict[str, str]:
    """Relative path -> YAML text for every cluster of ``plan``."""
    from components.builders.k8s_objects import job_objects, multikueue_objects, queue_objects
    from components.builders.specs import plan_specs
    from planner.names import DNS1123_LABEL, PATTERN_HELP, is_label

    if multikueue is not None and not is_label(multikueue):
        raise UsageError(f"{PATTERN_HELP[DNS1123_LABEL]} (got {multikueue!r})",
                         field="--multikueue")
    specs = plan_specs(plan)
    names = [c.name for c in specs.clusters]
    if multikueue in names:
        raise UsageError(f"{multikueue} hosts planned pools; name a hub outside the plan",
                         field="--multikueue")
    per_cluster: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in names:
        queues = queue_objects(specs, name)
        per_cluster[name] = {
            FILES[0]: [o for o in queues if o["kind"] == "Namespace"],
            FILES[1]: [o for o in queues if o["kind"] != "Namespace"],
            FILES[2]: job_objects(specs, name) if jobs and not multikueue else [],
        }
    if multikueue:
        hub = multikueue_objects(specs, multikueue)
        per_cluster[multikueue] = {
            FILES[0]: [o for o in hub if o["kind"] == "Namespace"],
            FILES[1]: [o for o in hub if o["kind"] != "Namespace"],
            FILES[2]: [o for n in names for o in job_objects(specs, n)] if jobs else [],
        }
    return {path: text for cluster, files in sorted(per_cluster.items())
            for path, text in _cluster_texts(cluster, files).items()}


def _cluster_texts(cluster: str, files: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    import yaml

    out = {f"{cluster}/{name}": yaml.safe_dump_all(objs, sort_keys=False, width=100)
           for name, objs in files.items() if objs}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": [name for name in FILES if files.get(name)]}
    out[f"{cluster}/kustomization.yaml"] = yaml.safe_dump(kustomization, sort_keys=False)
    return out

