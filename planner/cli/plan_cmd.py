"""``planner plan FILE``: the cheapest valid placement, as a table, JSON or markdown."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import state


class PlanFormat(StrEnum):
    table = "table"
    json = "json"
    md = "md"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="workloads.yaml, or a SkyPilot task YAML")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write plan.json here (atomically; nothing is written on error).")] = None,
    fmt: Annotated[PlanFormat, typer.Option(
        "--format", help="table (for people), json (the plan itself) or md (pull requests)")
    ] = PlanFormat.table,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 3 if any workload cannot be placed.")] = False,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, max=3600,
        help="Seconds for the MILP search (default 5, up to 30 for thousands of workloads).")
    ] = None,
    max_catalog_age: Annotated[int, typer.Option(
        "--max-catalog-age-days", min=0, help="Warn when the catalog is older than this.")] = 30,
) -> None:
    """Plan the cheapest valid placement of every workload in FILE.

    Examples:

      planner plan examples/quickstart/workloads.yaml

      planner plan workloads.yaml --out plan.json --format md > comment.md

      planner --catalog ~/.cache/gpuplan/catalog/gcp plan workloads.yaml --strict
    """
    from planner.catalog.load import load_catalog
    from planner.cli.output import write_atomic
    from planner.errors import InfeasibleError
    from planner.optimize.planning import plan_workloads
    from planner.plan import dumps_plan
    from planner.spec.load import load_workloads

    catalog = load_catalog(state(ctx).catalog)
    workloads = load_workloads(file, catalog)
    _warn_if_stale(catalog.meta.date, max_catalog_age)
    result = plan_workloads(workloads, catalog, time_limit=time_limit)
    text = dumps_plan(result)
    failed = strict and bool(result.unplaced)
    if out is not None and not failed:  # nothing is written when --strict fails
        write_atomic(out, text)
    if fmt == PlanFormat.json:
        typer.echo(text, nl=False)
    elif fmt == PlanFormat.md:
        from planner.review.planmarkdown import plan_markdown

        typer.echo(plan_markdown(result), nl=False)
    else:
        from planner.cli.plan_table import print_plan

        print_plan(result)
        if out is not None and not failed:
            typer.echo(f"wrote {out}", err=True)
    if failed:
        names = ", ".join(u.workload for u in result.unplaced)
        raise InfeasibleError(f"{len(result.unplaced)} workload(s) could not be placed: {names}")


def _warn_if_stale(date: str, max_age_days: int) -> None:
    """Warn on stderr when the catalog is older than ``max_age_days`` (CLI reads the clock)."""
    import datetime

    try:
        from planner.catalog.staleness import staleness_warning
    except ImportError:
        return
    message = staleness_warning(date, datetime.date.today(), max_age_days)
    if message:
        typer.echo(f"warning: {message}", err=True)
