"""``planner report PLAN [--base BASE | --base-ref REF] --out report.html``: the cost report.

PLAN and BASE are each a ``plan.json`` or a workloads file (planned here, on the
``--catalog`` catalog), as in ``planner diff``; ``--base-ref`` reads the base
from git (PLAN's own path at that ref). ``--format html`` (default) writes one
self-contained page; ``--format focus`` writes the plan as a FOCUS 1.2 cost
forecast (CSV, see :mod:`planner.report.focus`). ``--constraints`` re-solves
once per binding limit to price one more step of it (as ``planner explain
--constraints``). Without ``--out`` the output goes to stdout. Every input is
read and checked, and ``--out``'s folder must exist, before anything is
written; on an error nothing is.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli.app import state

if TYPE_CHECKING:
    from decimal import Decimal

    from planner.cli.diff_cmd import _CatalogOnce
    from planner.plan import Plan


class ReportFormat(StrEnum):
    html = "html"
    focus = "focus"


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(
        metavar="PLAN", help="plan.json (or a workloads file, planned here)")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the report here (atomically); default: stdout.")] = None,
    base: Annotated[Path | None, typer.Option(
        "--base", help="Base plan.json or workloads file: add what changes from it.")] = None,
    base_ref: Annotated[str | None, typer.Option(
        "--base-ref", help="Git ref to read the base from (PLAN's own path at that ref).")] = None,
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="html (one self-contained page) or focus (FOCUS 1.2 CSV).")
    ] = ReportFormat.html,
    constraints: Annotated[bool, typer.Option(
        "--constraints", help="Re-solve with each binding quota, budget and cluster capacity "
        "relaxed by one step and show what it would save.")] = False,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, max=3600,
        help="Solver time limit for --constraints re-solves, seconds (default: the plan's).")
    ] = None,
    period: Annotated[str | None, typer.Option(
        "--period", metavar="YYYY-MM[..YYYY-MM]",
        help="With --format focus: the months to forecast (one charge period each).")] = None,
    warn_utilization: Annotated[str | None, typer.Option(
        "--warn-utilization", metavar="PERCENT", help="List the pools whose GPU utilization "
        "(used / paid GPU-hours) is below PERCENT, with why (e.g. 50%).")] = None,
) -> None:
    """Write the cost report of a plan: KPIs, cost by team/cloud/region, budgets, pool packing,
    binding constraints, unplaced workloads and, with a base, what changes.

    Examples:

      planner report plan.json --out report.html

      planner report plan.json --base base-plan.json --out report.html

      planner report workloads.yaml --base-ref origin/main --out report.html

      planner report plan.json --format focus --period 2027-01..2027-03 --out plan.csv

      planner report plan.json --warn-utilization 50% --out report.html
    """
    from planner.cli.diff_cmd import _CatalogOnce
    from planner.cli.output import write_atomic
    from planner.utilization import parse_threshold

    _check_flags(out, fmt, base is not None or base_ref is not None, base is not None and
                 base_ref is not None, period)
    threshold = parse_threshold(warn_utilization) if warn_utilization is not None else None
    if threshold is not None and fmt == ReportFormat.focus:
        from planner.errors import UsageError

        raise UsageError("--warn-utilization goes with --format html", field="--warn-utilization")
    catalog = _CatalogOnce(state(ctx).catalog)
    plan = _side(plan_file, None, catalog)
    base_plan = _side(base or plan_file, base_ref, catalog) if (base or base_ref) else None
    if fmt == ReportFormat.focus:
        from planner.report.focus import focus_csv, parse_period

        assert period is not None
        text = focus_csv(plan, parse_period(period))
    else:
        text = _html(ctx, plan, plan_file, base_plan, base, base_ref, constraints, time_limit,
                     threshold)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(out, text)
        typer.echo(f"wrote {out}", err=True)


def _check_flags(out: Path | None, fmt: ReportFormat, with_base: bool, both_bases: bool,
                 period: str | None) -> None:
    """Refuse flags that do not go together, and an ``--out`` that cannot be written,
    before any work is done."""
    from planner.errors import UsageError

    if both_bases:
        raise UsageError("give --base or --base-ref, not both")
    if fmt == ReportFormat.focus:
        if with_base:
            raise UsageError("--format focus exports one plan; drop --base/--base-ref")
        if period is None:
            raise UsageError("--format focus needs --period YYYY-MM (the months to forecast)")
        from planner.report.focus import parse_period

        parse_period(period)
    elif period is not None:
        raise UsageError("--period goes with --format focus", field="--period")
    if out is None:
        return
    if out.is_dir():
        raise UsageError("is a directory", file=str(out), field="--out")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"directory {parent} does not exist", file=str(out), field="--out")


def _side(path: Path, ref: str | None, catalog: _CatalogOnce) -> Plan:
    """A plan read from ``path`` (at git ``ref`` if given): plan.json as is, workloads planned."""
    from planner.cli.diff_cmd import _read, git_show, plan_from_text

    if ref is not None:
        return plan_from_text(git_show(ref, path), _label(path, ref), path.suffix, catalog)
    return plan_from_text(_read(path), str(path), path.suffix, catalog)


def _label(path: Path, ref: str | None = None) -> str:
    """How the page names a side: the file's name (and ref), never a machine's absolute path."""
    return f"{path.name} @ {ref}" if ref is not None else path.name


def _html(ctx: typer.Context, plan: Plan, plan_file: Path, base_plan: Plan | None,
          base: Path | None, base_ref: str | None, constraints: bool,
          time_limit: float | None, threshold: Decimal | None) -> str:
    from planner.report.html import render_html
    from planner.report.view import build_report

    diff = None
    if base_plan is not None:
        from planner.review.diff import diff_plans

        base_label = _label(base, None) if base is not None else _label(plan_file, base_ref)
        diff = diff_plans(base_plan, plan, base_label, _label(plan_file))
    values = _constraint_values(ctx, plan, time_limit) if constraints else None
    return render_html(build_report(plan, _label(plan_file), diff=diff, values=values,
                                    warn_utilization=threshold))


def _constraint_values(ctx: typer.Context, plan: Plan, time_limit: float | None) -> tuple:
    """What one more step of each binding limit would save (re-solves the plan's workloads)."""
    from planner.catalog.load import load_catalog
    from planner.explain.constraintvalue import constraint_values
    from planner.explain.whatif import baseline

    catalog = load_catalog(state(ctx).catalog)
    limit = time_limit if time_limit is not None else plan.solver.time_limit_s
    base, _, warning = baseline(plan, catalog, time_limit=limit)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    return constraint_values(plan, base, catalog, time_limit=limit)
