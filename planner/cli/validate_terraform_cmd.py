"""``planner validate-terraform DIR``: check every ``*.tf.json`` against provider schemas, offline.

The schemas are ``terraform providers schema -json`` documents, one per
provider, in ``--schemas DIR`` (default ``$GPUPLAN_SHARED/schemas/terraform``,
else ``../shared/schemas/terraform`` beside the working directory). Each
finding is printed on one line: ``file: address: path: message [rule]``.
The manifest of every ``kubernetes_manifest`` also goes through the
Kubernetes v1.34 / CRD validator (:mod:`components.terraform.kubernetes`; schemas in
``--k8s-schemas DIR``, default ``$GPUPLAN_SHARED/schemas`` or
``../shared/schemas``); its problems are ``[manifest]`` findings.
Exit 0 when clean; 2 (bad input, as ``planner validate``) when there are findings or
the directory or the schemas are missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.errors import EXIT_BAD_INPUT, UsageError


def register(app: typer.Typer) -> None:
    app.command("validate-terraform")(validate_terraform)


def default_schemas_dir() -> Path:
    """``$GPUPLAN_SHARED/schemas/terraform``; else ``../shared/schemas/terraform`` beside the
    working directory, or beside this source checkout when that one is absent."""
    shared = os.environ.get("GPUPLAN_SHARED")
    if shared:
        return Path(shared) / "schemas" / "terraform"
    candidates = [Path.cwd().parent / "shared", Path(__file__).resolve().parents[3] / "shared"]
    found = [c for c in candidates if (c / "schemas" / "terraform").is_dir()]
    return (found or candidates)[0] / "schemas" / "terraform"


def k8s_manifest_checker(k8s_schemas: Path | None) -> Callable[[dict[str, Any]], list[str]]:
    """The Kubernetes/CRD validator bound to ``k8s_schemas`` (or the default); a one-line
    usage error (exit 2) if those schemas are missing: manifests are never left unchecked."""
    from components.terraform.kubernetes import default_schemas_dir as default_k8s_dir
    from components.terraform.kubernetes import manifest_checker, missing_schemas

    k8s_dir = k8s_schemas or default_k8s_dir()
    problem = missing_schemas(k8s_dir)
    if problem:
        raise UsageError(f"{problem}; pass --k8s-schemas DIR or set GPUPLAN_SHARED",
                         file=str(k8s_dir))
    return manifest_checker(k8s_dir)


def validate_terraform(
    directory: Annotated[Path, typer.Argument(help="Directory written by 'planner render terraform'")],
    schemas: Annotated[
        Path | None,
        typer.Option("--schemas", help="Directory of 'terraform providers schema -json' documents. "
                     "Default: $GPUPLAN_SHARED/schemas/terraform or ../shared/schemas/terraform."),
    ] = None,
    k8s_schemas: Annotated[
        Path | None,
        typer.Option("--k8s-schemas", help="Directory of the Kubernetes and CRD schemas for the "
                     "kubernetes_manifest manifests. "
                     "Default: $GPUPLAN_SHARED/schemas or ../shared/schemas."),
    ] = None,
) -> None:
    """Check Terraform JSON against provider schemas without Terraform or network access."""
    from components.terraform.check import check_tree
    from components.terraform.schema import load_schemas

    schemas_dir = schemas or default_schemas_dir()
    if not schemas_dir.is_dir() or not any(schemas_dir.glob("*.json")):
        raise UsageError("no provider schema documents (*.json) found; pass --schemas DIR "
                         "or set GPUPLAN_SHARED", file=str(schemas_dir))
    manifest_check = k8s_manifest_checker(k8s_schemas)
    if not directory.is_dir():
        raise UsageError("not a directory", file=str(directory))
    files = sorted(directory.rglob("*.tf.json"))
    if not files:
        raise UsageError("no *.tf.json files found", file=str(directory))
    findings = check_tree(directory, load_schemas(schemas_dir), manifest_check)
    for finding in findings:
        typer.echo(str(replace(finding, file=str(directory / finding.file))))
    if findings:
        typer.echo(f"{len(findings)} problem(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    typer.echo(f"{directory}: ok ({len(files)} files)")
