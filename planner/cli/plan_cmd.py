"""``planner plan FILE``: the cheapest valid placement, as a table, JSON or markdown.

``planner plan [FILE] --check plan.json`` proves a committed plan is what its
declaration gives: it re-plans the declaration kept in the plan, on the plan's
catalog (``--catalog`` must be that snapshot) with the plan's time limit, and
compares (:mod:`planner.review.plancheck`). With FILE, the declaration in the
plan must also be FILE's. Exit 0 if it matches; exit 3 with a short diff if not.
Nothing is written.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli.app import state

if TYPE_CHECKING:
    from decimal import Decimal

    from planner.cli.progress_display import Display
    from planner.plan import Plan


class PlanFormat(StrEnum):
    table = "table"
    json = "json"
    md = "md"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(
        help="workloads.yaml, or a SkyPilot task YAML (optional with --check)",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write plan.json here (atomically; nothing is written on error).")] = None,
    fmt: Annotated[PlanFormat, typer.Option(
        "--format", help="table (for people), json (the plan itself) or md (pull requests)")
    ] = PlanFormat.table,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 3 if any workload cannot be placed, or if the time-limit "
        "safety net cut the search (the plan would depend on the machine).")] = False,
    base: Annotated[Path | None, typer.Option(
        "--base", help="The plan in force (plan.json): keeping a workload there is free, a "
        "move has the price the declaration's 'stability' section sets.")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, max=3600,
        help="Safety net, seconds: the search stops on deterministic limits; a plan this "
        "cuts says so (default 300, 0.5 s a workload beyond 600, at most 3,600).")
    ] = None,
    max_catalog_age: Annotated[int, typer.Option(
        "--max-catalog-age-days", min=0, help="Warn when the catalog is older than this.")] = 30,
    check: Annotated[Path | None, typer.Option(
        "--check", metavar="PLAN", help="Re-plan the declaration kept in PLAN (and FILE's, if "
        "given) on the plan's catalog; exit 3 with a short diff if PLAN is not what it gives.")
    ] = None,
    warn_utilization: Annotated[str | None, typer.Option(
        "--warn-utilization", metavar="PERCENT", help="Warn about each pool whose GPU "
        "utilization (used / paid GPU-hours) is below PERCENT, and say why (e.g. 50%).")
    ] = None,
    allow_price_outliers: Annotated[bool, typer.Option(
        "--allow-price-outliers", help="Use catalog rows whose price looks wrong (see `planner "
        "catalog check`); recorded in the plan as pricing.allow_price_outliers.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress display (it shows only when stderr is a terminal).")
    ] = False,
) -> None:
    """Plan the cheapest valid placement of every workload in FILE.

    Examples:

      planner plan examples/quickstart/workloads.yaml

      planner plan workloads.yaml --out plan.json --format md > comment.md

      planner plan workloads.yaml --base plan.json --out plan.json   # re-plan, few moves

      planner --catalog ~/.cache/gpuplan/catalog/gcp plan workloads.yaml --strict

      planner plan workloads.yaml --check plan.json   # in CI: the committed plan is honest

      planner plan workloads.yaml --warn-utilization 50%
    """
    from planner.utilization import parse_threshold

    threshold = parse_threshold(warn_utilization) if warn_utilization is not None else None
    if check is not None:
        if out is not None or strict:
            from planner.errors import UsageError

            raise UsageError("--check writes nothing; leave out --out and --strict")
        check_plan_file(ctx, check, file, time_limit, base)
        return
    if file is None:
        from planner.errors import UsageError

        raise UsageError("missing FILE (workloads.yaml), or give --check plan.json")
    from planner.cli.progress_display import progress_for

    with progress_for(quiet) as display:
        result = _read_and_plan(ctx, file, display, time_limit=time_limit,
                                max_catalog_age=max_catalog_age,
                                allow_price_outliers=allow_price_outliers, base=base)
    _write_and_show(result, out, fmt, strict, threshold)


def _strict_failures(result: Plan) -> list[str]:
    """Why ``--strict`` fails: workloads left unplaced, a search cut by the safety net."""
    out = []
    if result.unplaced:
        names = ", ".join(u.workload for u in result.unplaced)
        out.append(f"{len(result.unplaced)} workload(s) could not be placed: {names}")
    if result.solver.cut_by_time_limit:
        out.append(f"the search was cut by the {result.solver.time_limit_s:g} s time-limit "
                   "safety net, so this plan depends on the machine (raise --time-limit)")
    return out


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """CPython's cycle collector off for the block, as it was after. Reading and planning
    allocate millions of objects that live to the end (offers, options, columns) and make
    no reference cycles worth collecting; the collector would traverse them again and
    again: 18 % of the CPU of planning 20,000 workloads (49.3 s -> 40.3 s), the same
    peak memory (1,185 vs 1,188 MiB). Plain reference counting still frees the rest."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@without_cycle_collection()
def _read_and_plan(ctx: typer.Context, file: Path, display: Display, *,
                   time_limit: float | None, max_catalog_age: int,
                   allow_price_outliers: bool, base: Path | None = None) -> Plan:
    """Read the catalog and FILE (the "reading" stage), then plan (against ``base``, the
    plan in force, if given), reporting to ``display``; without the cycle collector
    (:func:`without_cycle_collection`)."""
    from planner.catalog.load import load_catalog
    from planner.optimize.planning import plan_workloads
    from planner.spec.load import load_workloads

    display.stage("reading")
    catalog = load_catalog(state(ctx).catalog)
    workloads = load_workloads(file, catalog)
    if allow_price_outliers:
        workloads = workloads.model_copy(update={"pricing": workloads.pricing.model_copy(
            update={"allow_price_outliers": True})})
    base_plan = None
    if base is not None:
        from planner.cli.baseplan import read_base

        base_plan = read_base(base, catalog)
    _warn_if_stale(catalog.meta.date, max_catalog_age, display)
    return plan_workloads(workloads, catalog, time_limit=time_limit, progress=display,
                          processes=cores(), base=base_plan)


@without_cycle_collection()
def _write_and_show(result: Plan, out: Path | None, fmt: PlanFormat, strict: bool,
                    threshold: Decimal | None) -> None:
    """Write plan.json to ``out`` (unless ``--strict`` fails) and show the plan in ``fmt``,
    without the cycle collector: the plan's millions of objects are long-lived, and the
    collector traversed them again and again while its JSON was built (writing a
    20,000-workload plan: 6.9 s -> 2.4 s CPU)."""
    from planner.cli.output import write_atomic
    from planner.errors import InfeasibleError
    from planner.plan import dumps_plan

    text = dumps_plan(result)
    failed = strict and (bool(result.unplaced) or result.solver.cut_by_time_limit)
    if out is not None and not failed:  # nothing is written when --strict fails
        write_atomic(out, text)
    from planner.utilization import utilization_warnings

    warnings = utilization_warnings(result, threshold)
    if fmt == PlanFormat.json:
        typer.echo(text, nl=False)
        for warning in warnings:  # stdout is the plan itself
            typer.echo(f"warning: {warning}", err=True)
    elif fmt == PlanFormat.md:
        from planner.review.planmarkdown import plan_markdown

        typer.echo(plan_markdown(result, warnings), nl=False)
    else:
        from planner.cli.plan_table import print_plan

        print_plan(result, warnings)
        if out is not None and not failed:
            typer.echo(f"wrote {out}", err=True)
    if failed:
        raise InfeasibleError("; ".join(_strict_failures(result)))


def cores() -> int:
    """CPU cores this process may run on: the size of the pool a large model is solved in."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _warn_if_stale(date: str, max_age_days: int, display: Display) -> None:
    """Warn on stderr when the catalog is older than ``max_age_days`` (CLI reads the clock)."""
    import datetime

    try:
        from planner.catalog.staleness import staleness_warning
    except ImportError:
        return
    message = staleness_warning(date, datetime.date.today(), max_age_days)
    if message:
        display.warn(message)


def check_plan_file(ctx: typer.Context, plan_path: Path, declaration: Path | None,
                    time_limit: float | None, base: Path | None = None) -> None:
    """``--check``: re-plan the plan's declaration on its catalog (against ``base``, the
    plan it was made against, if any) and compare (module doc)."""
    from planner.catalog.load import load_catalog
    from planner.errors import CatalogError, GuardrailError
    from planner.optimize.planning import canonical_spec, plan_workloads
    from planner.plan import read_plan
    from planner.review.plancheck import Sides, check_plan, differences
    from planner.spec.load import load_workloads, validate_workloads

    committed = read_plan(plan_path)
    catalog = load_catalog(state(ctx).catalog)
    made_on = (committed.catalog.source, committed.catalog.date)
    if (catalog.meta.source, catalog.meta.date) != made_on:
        raise CatalogError(f"{plan_path} was made on the catalog {made_on[0]!r} ({made_on[1]}), "
                           f"this is {catalog.meta.source!r} ({catalog.meta.date}); check with "
                           "--catalog set to the plan's catalog", field="--catalog")
    ws = validate_workloads(committed.spec, str(plan_path), catalog, field="spec")
    source = str(declaration) if declaration is not None else "its declaration"
    sides = Sides(str(plan_path), source)
    rule = "the declaration it keeps"
    lines: list[str] = []
    if declaration is not None:
        lines = differences(committed.spec, canonical_spec(load_workloads(declaration, catalog)),
                            sides, "spec")
    if not lines:
        limit = time_limit if time_limit is not None else committed.solver.time_limit_s
        anchor = None
        if base is not None:
            from planner.cli.baseplan import read_base

            anchor = read_base(base, catalog)
        result = check_plan(plan_path.read_text("utf-8"), committed,
                            plan_workloads(ws, catalog, time_limit=limit, base=anchor), sides)
        lines, rule = list(result.lines), result.rule
    for line in lines:
        typer.echo(f"  {line}")
    if lines:
        raise GuardrailError(
            f"{plan_path} is not what {source} gives ({len(lines)} difference(s) above); "
            f"regenerate it: planner plan {declaration or 'workloads.yaml'} --out {plan_path}")
    how = "byte for byte" if rule == "bytes" else "within the search's reported gap"
    typer.echo(f"{plan_path} is what {source} gives (compared {how})")
