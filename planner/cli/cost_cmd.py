"""``planner cost pulumi-preview FILE``: price the GPU node pools of any Pulumi preview."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli.app import state
from planner.errors import GuardrailError, PlanFileError, UsageError

cost_app = typer.Typer(help="Price infrastructure documents with the catalog.", no_args_is_help=True)


class CostFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


def register(app: typer.Typer) -> None:
    app.add_typer(cost_app, name="cost")


@cost_app.command("pulumi-preview")
def pulumi_preview(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(
        help="`pulumi preview --json` output: the digest document or NDJSON engine events.")],
    fmt: Annotated[CostFormat, typer.Option(
        "--format", "-f", help="text, json, or md (a pull-request comment).")] = CostFormat.text,
    hours: Annotated[str, typer.Option(
        "--hours", help="Hours a month a pool runs (730 = always on).")] = "730",
    fail_on_increase: Annotated[str | None, typer.Option(
        "--fail-on-increase",
        help="Exit 3 when the node pools' monthly cost rises by more than this: 10% or $5000.")] = None,
) -> None:
    """Price every EKS NodeGroup, GKE NodePool and AKS AgentPool in a Pulumi preview.

    Examples:

      pulumi preview --json > preview.json && planner cost pulumi-preview preview.json

      planner cost pulumi-preview preview.json --format md --fail-on-increase 10% > comment.md
    """
    from planner.catalog.load import load_catalog
    from planner.review.guardrails import check_rise, parse_threshold
    from planner.review.pulumipreview import price_preview
    from planner.review.pulumisteps import parse_preview

    hours_per_month = parse_hours(hours)
    threshold = parse_threshold(fail_on_increase) if fail_on_increase is not None else None
    try:
        text = file.read_text("utf-8")
    except FileNotFoundError:
        raise PlanFileError("file not found", file=str(file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read: {exc}", file=str(file)) from None
    preview = parse_preview(text, str(file))
    result = price_preview(preview, load_catalog(state(ctx).catalog), str(file), hours_per_month)
    if threshold is not None:
        policy = check_rise(result.base_monthly, result.new_monthly, threshold)
        result = result.model_copy(update={"policies": (policy,)})
    typer.echo(_render(result, fmt), nl=False)
    if result.policies and not result.policies[0].passed:
        raise GuardrailError("guardrail failed: " + result.policies[0].message)


def _render(result: Any, fmt: CostFormat) -> str:
    if fmt == CostFormat.json:
        import json

        return json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    from planner.review.diffrender import render_preview_markdown, template_env

    if fmt == CostFormat.md:
        return render_preview_markdown(result)
    return str(template_env().get_template("preview_cost.txt.j2").render(c=result))


def parse_hours(text: str) -> Decimal:
    """``--hours``: hours a month a pool runs, more than 0 and at most 744."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise UsageError(f"--hours: not a number: {text!r}") from None
    if not value.is_finite() or not 0 < value <= 744:
        raise UsageError(f"--hours: must be more than 0 and at most 744, got {text}")
    return value
