"""Render a :class:`~planner.review.diff.PlanDiff` as text, JSON or a pull-request comment.

Templates are jinja2 files shipped in the ``gpuplan_templates`` package:
``diff.txt.j2`` (text) and ``pr_comment.md.j2`` (markdown). The markdown
starts with :data:`MARKER`, a hidden HTML comment CI searches for to update
its own comment instead of adding one per push, and stays below GitHub's
comment limit of 65,536 characters (``--report-url`` adds a link to the HTML cost
report under the summary line): when the full comment is too long the
long lists (pools, workloads, groups) are cut to the most rows that fit, and
a line says how many were left out. The summary, team totals and policy
results come first so they are never the part that is cut.

Money is USD; tables show whole dollars from $100 up and cents below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from planner.errors import UsageError
from planner.review.diff import (
    ZERO,
    Delta,
    PlanDiff,
    PoolChange,
    StabilitySummary,
    Where,
    delta_fields,
    diff_json,
)
from planner.utilization import gpu_hours, percent

MARKER = "<!-- gpuplan-cost-diff -->"
GITHUB_COMMENT_LIMIT = 65_536
# Room kept under the limit for whatever CI appends (a footer, a run link).
COMMENT_BUDGET = GITHUB_COMMENT_LIMIT - 1_536

Format = Literal["text", "json", "md"]

_MARKS = {"added": "+", "placed": "+", "removed": "-", "unplaced": "-"}


def usd(value: Decimal | None, signed: bool = False, cents: bool | None = None) -> str:
    """``$1,234`` (whole dollars from $100 up unless ``cents``); ``signed`` adds ``+``."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if cents is None:
        cents = magnitude < 100
    text = f"${magnitude:,.2f}" if cents else f"${magnitude:,.0f}"
    if value < 0:
        return "-" + text
    return ("+" + text) if signed and value > 0 else text


def rate(value: Decimal) -> str:
    """An exact price per hour: every significant digit, at least cents (``$0.13954``)."""
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"${int(whole):,}.{frac.ljust(2, '0')}" if value >= 0 else "-" + rate(-value)


def pctfmt(value: Decimal | None) -> str:
    """``+8.1%``; ``new`` when the base was $0."""
    return "new" if value is None else f"{value:+}%"


def summary(total: Delta) -> str:
    """The one-line verdict: "Monthly estimate increases by $12,400 (+8.1%)"."""
    delta = total.delta_monthly
    if delta == ZERO:
        return "Monthly estimate does not change"
    verb = "increases" if delta > 0 else "decreases"
    tail = f" ({pctfmt(total.delta_pct)})" if total.delta_pct is not None else " (from $0)"
    return f"Monthly estimate {verb} by {usd(abs(delta))}{tail}"


def stability_line(s: StabilitySummary) -> str:
    """One line on re-planning against the base: moves, what they save, what stability
    gave up, base workloads no longer declared."""
    moved = (f"{s.moves} workload{'s' if s.moves != 1 else ''} moved"
             + (f" ({usd(-s.move_saving, signed=True, cents=True)}/month)" if s.moves else ""))
    kept = (f"{s.kept} kept where a cheaper option had room "
            f"({usd(s.saving_given_up, cents=True)}/month given up for stability)")
    line = f"Stability: {moved}; {kept}"
    if s.missing:
        shown = ", ".join(s.missing[:5]) + (f" and {len(s.missing) - 5} more"
                                            if len(s.missing) > 5 else "")
        line += (f"; the base plan names {len(s.missing)} workload"
                 f"{'s' if len(s.missing) != 1 else ''} no longer declared: {shown}")
    return line


def mark(change: str) -> str:
    return _MARKS.get(change, "~")


def opmark(op: str) -> str:
    """``+`` create, ``-`` delete, ``~`` update or replace, blank when unchanged (Pulumi ops)."""
    return {"create": "+", "import": "+", "delete": "-", "same": " "}.get(op, "~")


def where(w: Where | None) -> str:
    if w is None:
        return "-"
    spot = " spot" if w.capacity == "spot" else ""
    return f"{w.cloud}/{w.region} {w.instance_type}{spot}"


def pool_shape(p: PoolChange) -> str:
    """``a2-highgpu-1g (A100x1)``, with the sharing mode of a shared or replaced pool."""
    acc = f" ({p.accelerator}x{p.accelerator_count:g})" if p.accelerator else ""
    if p.change == "replaced":
        mode = f" {p.base_sharing} -> {p.new_sharing}"
    else:
        shared = p.new_sharing if p.new_sharing is not None else p.base_sharing
        mode = f" {shared}" if shared not in (None, "exclusive") else ""
    return f"{p.instance_type}{acc}{mode}"


REPLACE_NOTES = {
    "gcp": "GKE recreates the node pool: gpu_partition_size and gpu_sharing_config cannot "
           "change in place",
    "azure": "a new AKS agent pool: the GPU instance profile cannot change after creation",
    "aws": "a new node group with the GPU Operator's new config label (MIG changes reboot "
           "A100 nodes)",
}


def replace_note(p: PoolChange) -> str:
    """Why a replaced pool is a new pool at the cloud."""
    note = REPLACE_NOTES.get(p.cloud, "relabel the nodes for the new mode")
    return f"replaces {p.replaces}: {note}"


def md(value: Any) -> str:
    """Make user text safe inside a markdown table cell."""
    text = str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


@cache
def template_env() -> Any:
    """The jinja2 environment of the shipped templates, with the money filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gpuplan_templates", ""),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
    env.filters.update(usd=usd, pctfmt=pctfmt, summary=summary, mark=mark, where=where,
                       pool_shape=pool_shape, md=md, opmark=opmark, rate=rate,
                       replace_note=replace_note, ratio=percent, gpuh=gpu_hours,
                       stability_line=stability_line)
    return env


def render_text(diff: PlanDiff) -> str:
    """The diff for a terminal or a CI log."""
    return str(template_env().get_template("diff.txt.j2").render(d=diff))


def render_json(diff: PlanDiff) -> str:
    """The diff as canonical JSON (schema in :mod:`planner.review.diff`)."""
    return diff_json(diff)


def _counts(diff: PlanDiff) -> str:
    parts = []
    for title, items in (("Pools", [p.change for p in diff.pools]),
                         ("Workloads", [w.change for w in diff.workloads]),
                         ("Fallbacks", ["changed" for _ in diff.fallbacks])):
        if items:
            c = Counter(items)
            parts.append(f"{title}: " + ", ".join(f"{c[k]} {k}" for k in sorted(c)))
    return " · ".join(parts)


def _budget_cells(diff: PlanDiff) -> dict[str, str]:
    cells = {}
    for b in diff.budgets:
        if b.new_budget is None:
            cells[b.team] = "-"
        elif b.new_over:
            was = " (was within)" if b.crossed == "over" else ""
            cells[b.team] = f"⚠️ over: {usd(b.new_monthly)} of {usd(b.new_budget)}{was}"
        else:
            used = (b.new_monthly * 100 / b.new_budget).quantize(Decimal(1)) if b.new_budget else None
            cells[b.team] = f"{usd(b.new_budget)} ({used}% used)" if used is not None else usd(b.new_budget)
        if b.base_budget != b.new_budget:
            before = usd(b.base_budget) if b.base_budget is not None else "none"
            cells[b.team] = f"{before} → {cells[b.team]}"
    return cells


def _use_cells(diff: PlanDiff) -> dict[str, str]:
    """Each team's GPU utilization: ``50.0%``, or ``62.5% → 50.0%`` when it changes."""
    if diff.utilization is None:
        return {}
    return {u.name: (f"{percent(u.base_utilization)} → " if u.changed else "")
            + percent(u.new_utilization) for u in diff.utilization.by_team}


def _team_rows(diff: PlanDiff) -> list[Any]:
    """Teams whose cost changes, or whose GPU utilization does (same bill, emptier nodes)."""
    used = {u.name for u in diff.utilization.by_team if u.changed} if diff.utilization else set()
    return [g for g in diff.by_team if g.changed or g.name in used]


def _render_md(diff: PlanDiff, limit: int, team_limit: int, report_url: str | None) -> str:
    return str(template_env().get_template("pr_comment.md.j2").render(
        d=diff, limit=limit, team_limit=team_limit, marker=MARKER, counts=_counts(diff),
        budget_cell=_budget_cells(diff), use_cell=_use_cells(diff), team_rows=_team_rows(diff),
        report_url=report_url))


def check_report_url(url: str) -> str:
    """``url`` if it can stand in a markdown link: http(s), no spaces or angle brackets."""
    if not re.fullmatch(r"https?://[^\s<>]+", url):
        raise UsageError(f"not an http(s) URL: {url!r}", field="--report-url")
    return url


def _most_that_fit(render_with: Callable[[int], str], top: int, max_chars: int) -> str | None:
    """The rendering with the largest n in 0..top that fits, or None if even 0 does not."""
    best = render_with(0)
    if len(best) > max_chars:
        return None
    lo, hi = 0, top + 1  # render_with(lo) fits; hi is past the end or too long
    while hi - lo > 1:
        mid = (lo + hi) // 2
        text = render_with(mid)
        if len(text) <= max_chars:
            lo, best = mid, text
        else:
            hi = mid
    return best


def render_markdown(diff: PlanDiff, max_chars: int = COMMENT_BUDGET,
                    report_url: str | None = None) -> str:
    """The pull-request comment, at most ``max_chars`` characters, linking ``report_url``
    (the HTML cost report) under the summary when given.

    Too long, the detail lists (pools, workloads, clouds, regions) are cut
    first; the team table only if the comment still does not fit without them.
    """
    url = check_report_url(report_url) if report_url is not None else None
    teams = len(_team_rows(diff))
    longest = max(len(diff.pools), len(diff.workloads), len(diff.fallbacks), len(diff.by_cloud),
                  len(diff.by_region))
    full = _render_md(diff, longest, teams, url)
    if len(full) <= max_chars:
        return full
    text = _most_that_fit(lambda n: _render_md(diff, n, teams, url), longest, max_chars)
    if text is None:
        text = _most_that_fit(lambda n: _render_md(diff, 0, n, url), teams, max_chars)
    return text if text is not None else _hard_cut(_render_md(diff, 0, 0, url), max_chars)


def _hard_cut(text: str, max_chars: int) -> str:
    """Last resort (only for absurd inputs): cut, say so, close a details block left open."""
    note = "\n\n*…comment cut at the size limit; run the command for the full output.*\n"
    close = "</details>\n"
    head = text[: max_chars - len(note) - len(close)]
    if head.count("<details>") > head.count("</details>"):
        return head + note + close
    return head + note


PULUMI_MARKER = "<!-- gpuplan-pulumi-cost -->"
_KINDS = {"aws:eks/nodeGroup:NodeGroup": "EKS", "gcp:container/nodePool:NodePool": "GKE"}


def render_preview_markdown(cost: Any, max_chars: int = COMMENT_BUDGET) -> str:
    """A pull-request comment for ``planner cost pulumi-preview`` (a ``PreviewCost``)."""
    total = Delta(**delta_fields(ZERO, ZERO, cost.base_monthly, cost.new_monthly))
    text = str(template_env().get_template("preview_cost.md.j2").render(
        c=cost, verdict=summary(total), marker=PULUMI_MARKER,
        kinds=lambda t: _KINDS.get(t, "AKS")))
    return text if len(text) <= max_chars else _hard_cut(text, max_chars)


def render(diff: PlanDiff, fmt: Format, report_url: str | None = None) -> str:
    """The diff as ``fmt``; ``report_url`` (markdown only) links the HTML cost report."""
    if fmt == "json":
        return render_json(diff)
    if fmt == "md":
        return render_markdown(diff, report_url=report_url)
    return render_text(diff)
