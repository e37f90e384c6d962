"""``planner validate FILE``: check a workloads file against the schema and catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import state


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="workloads.yaml or a SkyPilot task YAML")],
) -> None:
    """Validate a workload declaration; print a one-line summary or the first error."""
    from planner.catalog.load import load_catalog
    from planner.spec.load import load_workloads

    catalog = load_catalog(state(ctx).catalog)
    ws = load_workloads(file, catalog)
    typer.echo(
        f"{file}: ok ({len(ws.workloads)} workloads, {len(ws.teams)} teams, "
        f"{len(ws.quotas)} quotas, {len(ws.clusters)} clusters)"
    )
