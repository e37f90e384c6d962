"""``planner diff BASE NEW`` / ``planner diff --base-ref REF NEW``: the cost change of a plan.

Each side is a ``plan.json`` or a workloads file (planned here with the same
catalog). With ``--base PLAN`` a workloads file NEW is planned against that plan
(moves have a price, see ``stability:`` in the declaration). With
``--base-ref`` the base is the plan committed at that ref next to NEW
(``plan.json`` in NEW's directory, or ``--plan-name``) when there is one, and
NEW is planned against it (or ``--base``); otherwise the same path as NEW
read from git at that ref. The output (text, JSON or the pull-request
markdown) is printed in full even when a guardrail fails; then the command
exits 3 with the reason.
"""

from __future__ import annotations

import subprocess
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli.app import state
from planner.errors import GuardrailError, PlanFileError, UsageError

if TYPE_CHECKING:
    from planner.catalog.model import Catalog
    from planner.plan import Plan


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)


def diff(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        help="BASE NEW (plan.json or workloads.yaml each), or only NEW with --base-ref.",
        show_default=False)],
    base_ref: Annotated[str | None, typer.Option(
        "--base-ref", help="Git ref to read the base from: the plan committed next to NEW, "
        "else the same path as NEW.")] = None,
    base: Annotated[Path | None, typer.Option(
        "--base", help="Plan a workloads file NEW against this plan (moves have a price); "
        "default with --base-ref: the plan committed there.")] = None,
    plan_name: Annotated[str, typer.Option(
        "--plan-name", help="With --base-ref: the committed plan's file name next to NEW.")
    ] = "plan.json",
    fmt: Annotated[DiffFormat, typer.Option(
        "--format", "-f", help="text, json, or md (the pull-request comment).")] = DiffFormat.text,
    fail_on_increase: Annotated[str | None, typer.Option(
        "--fail-on-increase",
        help="Exit 3 when the monthly estimate rises by more than this: 10% or $5000.")] = None,
    fail_over_budget: Annotated[bool, typer.Option(
        "--fail-over-budget/--allow-over-budget",
        help="Exit 3 when a team of the new plan is over its monthly budget.")] = True,
    report_url: Annotated[str | None, typer.Option(
        "--report-url", metavar="URL",
        help="With --format md: link the HTML cost report (planner report) at URL.")] = None,
    warn_utilization: Annotated[str | None, typer.Option(
        "--warn-utilization", metavar="PERCENT", help="Warn about each pool of NEW whose GPU "
        "utilization (used / paid GPU-hours) is below PERCENT, and say why (e.g. 50%).")
    ] = None,
) -> None:
    """Compare two plans: pools, moved workloads, cost per team/cloud/region, budgets.

    Examples:

      planner diff base.json plan.json

      planner diff --base-ref origin/main workloads.yaml --format md > comment.md

      planner diff old.yaml new.yaml --fail-on-increase 10%   # exit 3 above +10%

      planner diff base.json plan.json --format md --report-url https://example.com/r.html

      planner diff --base-ref origin/main workloads.yaml --format md --warn-utilization 50%
    """
    from planner.review.diff import diff_plans, with_policies, with_utilization_warnings
    from planner.review.diffrender import check_report_url, render
    from planner.review.guardrails import evaluate, parse_threshold
    from planner.utilization import parse_threshold as parse_utilization
    from planner.utilization import utilization_warnings

    if report_url is not None:
        if fmt != DiffFormat.md:
            raise UsageError("needs --format md (it links the report from the "
                             "pull-request comment)", field="--report-url")
        check_report_url(report_url)
    threshold = parse_threshold(fail_on_increase) if fail_on_increase is not None else None
    low = parse_utilization(warn_utilization) if warn_utilization is not None else None
    base_path, new_path = _sides(paths, base_ref)
    catalog = _CatalogOnce(state(ctx).catalog)
    new_text = _read(new_path)
    committed = False  # the base side is the plan committed at --base-ref
    if base_ref is not None:
        old, base_label, committed = _at_ref(base_ref, new_path, new_text, plan_name, catalog)
    else:
        assert base_path is not None
        base_label = str(base_path)
        old = plan_from_text(_read(base_path), base_label, base_path.suffix, catalog)
    anchor = None
    if not _is_plan(new_text, new_path.suffix) and (base is not None or committed):
        anchor = _anchor(base, old, base_label, catalog)
    new = plan_from_text(new_text, str(new_path), new_path.suffix, catalog, anchor)
    result = diff_plans(old, new, base_label, str(new_path))
    result = with_policies(result, evaluate(result, threshold, fail_over_budget))
    result = with_utilization_warnings(result, utilization_warnings(new, low))
    typer.echo(render(result, fmt.value, report_url), nl=False)
    if result.failed:
        raise GuardrailError("guardrail failed: " + "; ".join(p.message for p in result.failed))


def _is_plan(text: str, suffix: str) -> bool:
    return suffix == ".json" or text.lstrip().startswith("{")


def _at_ref(ref: str, new_path: Path, new_text: str, plan_name: str,
            catalog: _CatalogOnce) -> tuple[Plan, str, bool]:
    """The base side at ``ref`` and whether it is a committed plan: the plan committed
    next to a workloads file NEW, if any, else NEW's own path at ``ref`` (planned if it is
    a workloads file)."""
    if not _is_plan(new_text, new_path.suffix):
        committed = new_path.parent / plan_name
        text = git_show_if_present(ref, committed)
        if text is not None:
            label = f"{committed} @ {ref}"
            return plan_from_text(text, label, ".json", catalog), label, True
    label = f"{new_path} @ {ref}"
    return plan_from_text(git_show(ref, new_path), label, new_path.suffix, catalog), label, False


def _anchor(base: Path | None, old: Plan, old_label: str, catalog: _CatalogOnce) -> Plan:
    """The plan a workloads file NEW is planned against: ``--base``, else the plan
    committed at ``--base-ref``; checked against the catalog."""
    from planner.optimize.stability import check_base

    if base is not None:
        from planner.cli.baseplan import read_base

        return read_base(base, catalog.get())
    check_base(old, catalog.get(), old_label)
    return old


def _sides(paths: list[Path], base_ref: str | None) -> tuple[Path | None, Path]:
    if base_ref is not None:
        if len(paths) != 1:
            raise UsageError("with --base-ref give only NEW (the base is NEW's path at that ref)")
        return None, paths[0]
    if len(paths) != 2:
        raise UsageError("expected BASE and NEW (or --base-ref REF and NEW)")
    return paths[0], paths[1]


class _CatalogOnce:
    """Load the catalog only if a side is a workloads file, and only once."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._catalog: Catalog | None = None

    def get(self) -> Catalog:
        if self._catalog is None:
            from planner.catalog.load import load_catalog

            self._catalog = load_catalog(self.path)
        return self._catalog


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise PlanFileError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read: {exc}", file=str(path)) from None


def plan_from_text(text: str, label: str, suffix: str, catalog: _CatalogOnce,
                   base: Plan | None = None) -> Plan:
    """A plan.json as it is; a workloads file planned on the catalog (against ``base``)."""
    from planner.plan import PLAN_VERSION, loads_plan

    if _is_plan(text, suffix):
        plan = loads_plan(text, label)
        if plan.version != PLAN_VERSION:
            raise PlanFileError(f"unknown plan version {plan.version} (this planner reads "
                                f"version {PLAN_VERSION})", file=label, field="version")
        return plan
    from planner.spec.load import parse_workloads

    ws = parse_workloads(text, label, catalog.get())
    try:
        from planner.optimize.planning import plan_workloads
    except ImportError:  # pragma: no cover - only in a build without the planner
        raise UsageError(f"{label}: cannot plan a workloads file in this build; "
                         "give a plan.json") from None
    return plan_workloads(ws, catalog.get(), base=base)


def git_show(ref: str, path: Path) -> str:
    """The text of ``path`` (relative to the current directory) at git ``ref``.

    ``ref`` comes from the command line of a CI job, so it is never read as an
    option: one starting with ``-`` (or holding NUL or a newline) is refused, and
    git gets ``--end-of-options`` before it.
    """
    code, out, err = _git_show(ref, path)
    if code != 0:
        first = (err.strip().splitlines() or ["git show failed"])[0]
        first = first.removeprefix("fatal: ")
        raise PlanFileError(f"--base-ref {ref}: {first}", file=str(path))
    return out


def git_show_if_present(ref: str, path: Path) -> str | None:
    """As :func:`git_show`, but None when ``ref`` exists and has no such file."""
    code, out, err = _git_show(ref, path)
    if code != 0 and ("does not exist" in err or "exists on disk, but not in" in err):
        return None
    return git_show(ref, path) if code != 0 else out


def _git_show(ref: str, path: Path) -> tuple[int, str, str]:
    if not ref or ref.startswith("-") or any(c in ref for c in "\x00\n\r"):
        raise UsageError(f"not a git ref: {ref!r}", field="--base-ref")
    where = path.parent if str(path.parent) else Path(".")
    spec = f"{ref}:./{path.name}"
    try:
        proc = subprocess.run(["git", "-C", str(where), "show", "--end-of-options", spec],
                              capture_output=True, text=True, check=False)
    except OSError as exc:
        raise UsageError(f"--base-ref needs git: {exc}") from None
    return proc.returncode, proc.stdout, proc.stderr
