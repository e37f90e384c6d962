"""``planner explain PLAN [WORKLOAD ...]``: why workloads landed where they did.

Reads ``plan.json`` only; ``--what-if`` and ``--constraints`` re-solve the
plan's own workloads on the ``--catalog`` catalog (the embedded one by
default) and warn on stderr when that is not the catalog the plan was made
with. Output: text (a terminal), ``md`` (a pull-request comment) or ``json``
(the ``gpuplan/explain`` document, see :mod:`planner.explain.reading`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli.app import state

if TYPE_CHECKING:
    from planner.explain.reading import Explanation
    from planner.plan import Plan


class ExplainFormat(StrEnum):
    text = "text"
    md = "md"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="plan.json from planner plan")],
    workloads: Annotated[list[str] | None, typer.Argument(
        metavar="WORKLOAD", help="Workloads to explain; none: the whole plan.",
        show_default=False)] = None,
    fmt: Annotated[ExplainFormat, typer.Option(
        "--format", "-f", help="text (terminal), md (pull request) or json (stable schema)")
    ] = ExplainFormat.text,
    what_if: Annotated[list[str] | None, typer.Option(
        "--what-if", metavar="CHANGE", show_default=False,
        help="Re-solve with a change (repeatable): quota:gcp/us-central1/NVIDIA_A100_GPUS=+16, "
        "budget:research=+5000, region:deny=us-central1, region:WORKLOAD:allow=R, "
        "discount:gcp=0.8, spot:WORKLOAD=allow|forbid|only, capacity:CLUSTER=+8.")] = None,
    constraints: Annotated[bool, typer.Option(
        "--constraints", help="Re-solve with each binding quota, budget and cluster capacity "
        "relaxed by one step and report what it would save.")] = False,
    base: Annotated[Path | None, typer.Option(
        "--base", help="Re-solve against this plan (e.g. PLAN itself): moves away from it "
        "have the price its declaration's 'stability' section sets.")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, max=3600,
        help="Safety net for re-solves, seconds (default: the plan's).")] = None,
    warn_utilization: Annotated[str | None, typer.Option(
        "--warn-utilization", metavar="PERCENT", help="In the overview, warn about each pool "
        "whose GPU utilization (used / paid GPU-hours) is below PERCENT, and say why.")
    ] = None,
) -> None:
    """Explain a plan: the choice and its cost, cheaper options and why not, binding limits.

    Examples:

      planner explain plan.json

      planner explain plan.json llm-sft --format md

      planner explain plan.json --what-if quota:gcp/us-central1/NVIDIA_A100_GPUS=+16

      planner explain plan.json --what-if budget:research=-10% --base plan.json

      planner explain plan.json --constraints --format json

      planner explain plan.json --warn-utilization 50%
    """
    from planner.errors import PlanFileError
    from planner.explain.reading import dumps_explanation
    from planner.explain.reading import explain as explain_plan
    from planner.explain.whatif import parse_change
    from planner.plan import read_plan
    from planner.utilization import parse_threshold

    threshold = parse_threshold(warn_utilization) if warn_utilization is not None else None
    if plan_file.suffix.lower() in (".yaml", ".yml"):
        raise PlanFileError("explain reads a plan, not a workloads file; make one with "
                            f"'planner plan {plan_file} --out plan.json'", file=str(plan_file))
    plan = read_plan(plan_file)
    changes = list(what_if or [])
    for text in changes:
        parse_change(text)  # malformed changes fail before anything is solved
    if base is not None and not (changes or constraints):
        from planner.errors import UsageError

        raise UsageError("--base only applies to re-solves: add --what-if or --constraints")
    result = explain_plan(plan, workloads or (), overview=not (changes or constraints),
                          warn_utilization=threshold)
    if changes or constraints:
        result = _resolved(ctx, plan, result, changes, constraints, time_limit, base)
    if fmt == ExplainFormat.json:
        typer.echo(dumps_explanation(result), nl=False)
    else:
        from planner.templating import render

        name = "explain.md.j2" if fmt == ExplainFormat.md else "explain.txt.j2"
        typer.echo(render(name, e=result), nl=False)


def _resolved(ctx: typer.Context, plan: Plan, result: Explanation, changes: list[str],
              constraints: bool, time_limit: float | None, base: Path | None) -> Explanation:
    """Add the what-if and constraint-value sections (these re-solve)."""
    from planner.catalog.load import load_catalog
    from planner.cli.baseplan import read_base
    from planner.explain.constraintvalue import constraint_values
    from planner.explain.whatif import baseline, what_if

    catalog = load_catalog(state(ctx).catalog)
    anchor = read_base(base, catalog) if base is not None else None
    limit = time_limit if time_limit is not None else plan.solver.time_limit_s
    compared, source, warning = baseline(plan, catalog, time_limit=limit)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    update: dict[str, object] = {}
    if changes:
        update["what_if"], _ = what_if(plan, compared, changes, catalog, time_limit=limit,
                                       base_source=source, anchor=anchor)
    if constraints:
        update["constraints"] = constraint_values(plan, compared, catalog, time_limit=limit,
                                                  anchor=anchor)
    return result.model_copy(update=update)
