"""``planner cost pulumi-preview FILE``: price the GPU node pools of any Pulumi preview."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import state
from planner.errors import PlanFileError, UsageError

cost_app = typer.Typer(help="Price infrastructure documents with the catalog.", no_args_is_help=True)


class CostFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(cost_app, name="cost")


@cost_app.command("pulumi-preview")
def pulumi_preview(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(
        help="`pulumi preview --json` output: the digest document or NDJSON engine events.")],
    fmt: Annotated[CostFormat, typer.Option("--format", "-f", help="text or json.")] = CostFormat.text,
    hours: Annotated[str, typer.Option(
        "--hours", help="Hours a month a pool runs (730 = always on).")] = "730",
) -> None:
    """Price every EKS NodeGroup, GKE NodePool and AKS AgentPool in a Pulumi preview."""
    from planner.catalog.load import load_catalog
    from planner.pulumipreview import parse_preview, price_preview

    hours_per_month = parse_hours(hours)
    try:
        text = file.read_text("utf-8")
    except FileNotFoundError:
        raise PlanFileError("file not found", file=str(file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read: {exc}", file=str(file)) from None
    preview = parse_preview(text, str(file))
    result = price_preview(preview, load_catalog(state(ctx).catalog), str(file), hours_per_month)
    if fmt == CostFormat.json:
        import json

        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=True))
        return
    from planner.diffrender import template_env

    typer.echo(template_env().get_template("preview_cost.txt.j2").render(c=result), nl=False)


def parse_hours(text: str) -> Decimal:
    """``--hours``: hours a month a pool runs, more than 0 and at most 744."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise UsageError(f"--hours: not a number: {text!r}") from None
    if not value.is_finite() or not 0 < value <= 744:
        raise UsageError(f"--hours: must be more than 0 and at most 744, got {text}")
    return value
