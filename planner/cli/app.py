"""``planner``: entry point, global options and the one table of exit codes.

Each command group lives in its own module with a ``register(app)``
function; modules import only typer at the top so ``planner --help`` and
``planner plan`` start fast. Errors: every :class:`GpuplanError` prints one
line ``error: <file>:<line>: <field>: <message>`` to stderr and exits with its
code; anything else exits 1 with one line, unless ``--debug`` is given.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import Abort, Exit, TyperException

from planner.errors import (
    EXIT_BAD_INPUT,
    EXIT_UNEXPECTED,
    GpuplanError,
)

# Command groups, in help order. A module listed here that does not exist yet is skipped.
COMMAND_MODULES = (
    "planner.cli.plan_cmd",
    "planner.cli.explain_cmd",
    "planner.cli.diff_cmd",
    "planner.cli.report_cmd",
    "planner.cli.validate_cmd",
    "planner.cli.catalog_cmd",
    "planner.cli.catalog_refresh_cmd",
    "planner.cli.quotas_cmd",
    "planner.cli.render_cmd",
    "planner.cli.render_terraform_cmd",
    "planner.cli.validate_terraform_cmd",
    "planner.cli.preview_cmd",
    "planner.cli.cost_cmd",
)

app = typer.Typer(
    name="planner",
    help=(
        "Plan the cheapest valid placement of GPU workloads across AWS, GCP, Azure and "
        "existing Kubernetes clusters, and turn it into Pulumi or Terraform.\n\n"
        "Start with:  planner plan examples/quickstart/workloads.yaml"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class State:
    catalog: Path | None = None
    debug: bool = False


def state(ctx: typer.Context) -> State:
    """The global options of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


@app.callback()
def _global(
    ctx: typer.Context,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="Catalog directory: a SkyPilot v8 catalog (<dir>/<cloud>/vms.csv) or a "
            "gpuplan snapshot. Default: the embedded snapshot.",
            envvar="GPUPLAN_CATALOG",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    ctx.obj = State(catalog=catalog, debug=debug)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not built yet
            raise
        module.register(app)


if __name__ != "__main__":  # run as a script, main() below imports the real module
    _register_commands()


GC_THRESHOLD = (100_000, 50, 100)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map errors to exit codes. Returns the exit code (also exits).

    One short-lived process: the cyclic garbage collector is made to run rarely
    (``GC_THRESHOLD``), since reading a large plan.json makes millions of objects and
    none of them cyclic garbage; with Python's default (700, 10, 10) scanning them was a
    third of ``planner report``'s CPU time on the 5,000-workload plan. Memory is still
    freed by reference counting.
    """
    import gc

    gc.set_threshold(*GC_THRESHOLD)
    args = list(sys.argv[1:] if argv is None else argv)
    code = run(args)
    sys.stdout.flush()
    raise SystemExit(code)


def run(args: list[str]) -> int:
    """Run one command line in-process; return its exit code."""
    debug = "--debug" in args
    args = hoist_global_options(args)
    try:
        result = app(args=args, prog_name="planner", standalone_mode=False)
    except GpuplanError as err:
        if debug:
            raise
        _error(str(err))
        return err.exit_code
    except Exit as exc:
        return exc.exit_code
    except TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            return 0  # help was printed
        if debug:
            raise
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _error(exc.format_message().replace("\n", " ") + hint)
        return EXIT_BAD_INPUT if exc.exit_code == 2 else exc.exit_code
    except Abort:
        _error("aborted")
        return EXIT_UNEXPECTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        if debug:
            raise
        _error(f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return EXIT_UNEXPECTED
    return result if isinstance(result, int) else 0


def hoist_global_options(args: list[str]) -> list[str]:
    """Move ``--debug`` and ``--catalog DIR`` to the front: they are global, and people
    type them after the command (``planner catalog gpus --catalog DIR``)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--debug" or arg.startswith("--catalog="):
            front.append(arg)
        elif arg == "--catalog" and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


if __name__ == "__main__":
    from planner.cli.app import main as _main

    _main()
