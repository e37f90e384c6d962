"""``planner preview``: run the Pulumi stack program offline under mocks and price its pools.

The stack's config comes from ``<stackConfigDir>/Pulumi.<stack>.yaml`` of the
Pulumi project (``Pulumi.yaml`` in the current directory or above); ``--plan``
swaps in a reviewed plan.json or workloads file. The program runs under
``pulumi.runtime.set_mocks`` (``components.program.mocks.run_mocked``): nothing leaves
the machine, no credentials are needed. With ``--base`` the program runs a
second time on the base plan and the two resource graphs are compared, so the
output lists what Pulumi would create, change or delete; without it, every
resource is a create against an empty stack. Node pools are priced with the
catalog exactly as ``planner cost pulumi-preview`` prices a real preview.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli.app import state
from planner.errors import PlanFileError, UsageError


class PreviewFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("preview")(preview)


def preview(
    ctx: typer.Context,
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack whose config to use.")] = "dev",
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="plan.json or workloads file to deploy instead of the stack's own.")] = None,
    base: Annotated[Path | None, typer.Option(
        "--base", help="plan.json or workloads file of what is deployed now (default: "
        "nothing); a workloads --plan is planned against a plan.json base.")] = None,
    fmt: Annotated[PreviewFormat, typer.Option("--format", "-f")] = PreviewFormat.text,
    show_same: Annotated[bool, typer.Option("--show-same", help="List unchanged resources too.")] = False,
    hours: Annotated[str, typer.Option(
        "--hours", help="Hours a month a pool runs (730 = always on).")] = "730",
) -> None:
    """List the resources the stack would create, change or delete, each node pool priced."""
    from planner.catalog.load import load_catalog
    from planner.cli.cost_cmd import parse_hours
    from planner.review.pulumipreview import price_preview
    from planner.review.pulumisteps import graph_steps

    hours_per_month = parse_hours(hours)
    project = find_project(Path.cwd())
    config = stack_config(project, stack)
    for path in (plan, base):
        if path is not None and not path.is_file():
            raise PlanFileError("file not found", file=str(path))
    new_cfg = with_plan(config, plan, base)
    new = _run(new_cfg, stack)
    old = _run(with_plan(config, base), stack) if base is not None else []
    graph, changes = graph_steps(old, new, stack, new_cfg)
    label = f"stack {stack}" + (f", plan {plan}" if plan else "") + (f", base {base}" if base else "")
    cost = price_preview(graph, load_catalog(state(ctx).catalog), label, hours_per_month)
    if fmt == PreviewFormat.json:
        doc = {"stack": stack, "base": str(base) if base else None,
               "resources": [{"op": c.op, "type": c.type, "name": c.name, "parent": c.parent}
                             for c in changes if show_same or c.op != "same"],
               "cost": cost.model_dump(mode="json")}
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    from planner.review.diffrender import template_env

    shown = [c for c in changes if show_same or c.op != "same"]
    counts = {op: sum(c.op == op for c in changes) for op in ("create", "update", "delete", "same")}
    env = template_env()
    typer.echo(env.get_template("preview.txt.j2").render(
        stack=stack, label=label, changes=shown, counts=counts, base=base), nl=False)
    typer.echo(env.get_template("preview_cost.txt.j2").render(c=cost), nl=False)


def find_project(start: Path) -> Path:
    """The directory holding ``Pulumi.yaml``: ``start`` or its nearest parent."""
    for directory in (start, *start.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise UsageError("no Pulumi.yaml in this directory or above; run from the Pulumi project")


def stack_config(project: Path, stack: str) -> dict[str, str]:
    """``Pulumi.<stack>.yaml`` config as the strings Pulumi hands a program (objects as JSON)."""
    import yaml

    meta = yaml.safe_load((project / "Pulumi.yaml").read_text("utf-8")) or {}
    config_dir = project / str(meta.get("stackConfigDir") or ".")
    path = config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise UsageError(f"--stack {stack}: no stack config {path.relative_to(project)}")
    doc = yaml.safe_load(path.read_text("utf-8")) or {}
    out = {}
    for key, value in sorted((doc.get("config") or {}).items()):
        if isinstance(value, dict) and "secure" in value:
            continue  # encrypted: the mocked program runs without secrets
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def with_plan(config: dict[str, str], path: Path | None,
              base: Path | None = None) -> dict[str, str]:
    """``config`` deploying ``path`` (a plan.json, else a workloads file) instead; a
    workloads file is planned against ``base`` when that is a plan.json."""
    if path is None:
        return dict(config)
    out = {k: v for k, v in config.items()
           if k not in ("gpuplan:plan", "gpuplan:workloads", "gpuplan:basePlan")}
    key = "gpuplan:plan" if path.suffix == ".json" else "gpuplan:workloads"
    out[key] = str(path.resolve())
    if key == "gpuplan:workloads" and base is not None and base.suffix == ".json":
        out["gpuplan:basePlan"] = str(base.resolve())
    return out


def _run(config: dict[str, str], stack: str) -> list[Any]:
    try:
        from components.program.mocks import run_mocked
        from components.program.stack import main
    except ImportError as exc:
        raise UsageError(f"planner preview needs the Pulumi components ({exc})") from None
    return list(run_mocked(main, config, stack=stack).resources)
