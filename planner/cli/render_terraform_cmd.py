"""``planner render terraform PLAN --out DIR``: the plan as Terraform JSON, written atomically.

The files come from :mod:`components.terraform.render` (pure). Writing
(:mod:`planner.cli.treewrite`): everything goes to a temporary directory
beside ``--out``, then replaces ``--out`` by rename, so ``DIR`` is either the
old tree or the new one, never half-written.
Files in an existing ``DIR`` that gpuplan does not generate (Terraform's
``.terraform/``, ``.terraform.lock.hcl``, local ``terraform.tfstate``,
``*.tfvars``, your own ``*.tf``) are carried over by hard link; stale
``infra/*.tf.json`` and ``k8s/*.tf.json`` are not. ``--check`` runs the
offline schema checker first (with the Kubernetes/CRD validator on every
``kubernetes_manifest``) and writes nothing if it finds a problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.render_cmd import render_group
from planner.errors import EXIT_BAD_INPUT, UsageError

GENERATED_DIRS = ("infra", "k8s")


def register(app: typer.Typer) -> None:
    render_group(app).command("terraform")(render_terraform)


def render_terraform(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="plan.json from 'planner plan'")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (replaced atomically)")],
    check: Annotated[bool, typer.Option(
        "--check", help="Check the files against the provider schemas first "
        "(see 'planner validate-terraform'); write nothing if they fail.")] = False,
    schemas: Annotated[Path | None, typer.Option(
        "--schemas", help="Provider schema documents for --check.")] = None,
    k8s_schemas: Annotated[Path | None, typer.Option(
        "--k8s-schemas", help="Kubernetes and CRD schemas for --check "
        "(default: $GPUPLAN_SHARED/schemas or ../shared/schemas).")] = None,
) -> None:
    """Write the plan as Terraform/OpenTofu JSON: DIR/infra (node pools) then DIR/k8s (Kueue, jobs).

    Examples:

      planner render terraform plan.json --out tf

      terraform -chdir=tf/infra init && terraform -chdir=tf/infra apply

      terraform -chdir=tf/k8s init && terraform -chdir=tf/k8s apply
    """
    from components.terraform.render import render_texts
    from planner.cli.treewrite import refuse_bad_out, write_tree
    from planner.plan import read_plan

    texts = render_texts(read_plan(plan_file))
    refuse_bad_out(out)
    if check:
        _check_or_exit(texts, schemas, k8s_schemas)
    write_tree(out, texts, is_generated)
    counts = ", ".join(f"{out / d} ({sum(p.startswith(d + '/') for p in texts)} files)"
                       for d in GENERATED_DIRS)
    typer.echo(f"wrote {counts}; apply infra first, then k8s")


def _check_or_exit(texts: dict[str, str], schemas: Path | None, k8s_schemas: Path | None) -> None:
    """Run the offline checker on the rendered texts; print findings and exit 2 if any."""
    import json

    from components.terraform.check import check_module
    from components.terraform.schema import load_schemas
    from planner.cli.validate_terraform_cmd import default_schemas_dir, k8s_manifest_checker

    schemas_dir = schemas or default_schemas_dir()
    if not schemas_dir.is_dir() or not any(schemas_dir.glob("*.json")):
        raise UsageError("no provider schema documents (*.json) found for --check",
                         file=str(schemas_dir))
    manifest_check = k8s_manifest_checker(k8s_schemas)
    loaded = load_schemas(schemas_dir)
    findings = []
    for module in GENERATED_DIRS:
        docs = {p: json.loads(t) for p, t in texts.items() if p.startswith(module + "/")}
        findings += check_module(docs, loaded, manifest_check)
    for finding in findings:
        typer.echo(str(finding), err=True)
    if findings:
        typer.echo(f"{len(findings)} problem(s); nothing written", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)


def is_generated(rel: Path) -> bool:
    """``infra/*.tf.json`` and ``k8s/*.tf.json``: gpuplan's, replaced on every render."""
    return (len(rel.parts) == 2 and rel.parts[0] in GENERATED_DIRS
            and rel.name.endswith(".tf.json"))
