"""Cost guardrails on a :class:`~planner.review.diff.PlanDiff`.

Two policies, each giving a :class:`~planner.review.diff.PolicyResult` (one line):

* ``fail-on-increase``: the monthly estimate may rise by at most a threshold,
  either a percent of the base monthly (``10%``) or an amount in USD per
  month (``$5000``, ``5,000``). A rise from a $0 base fails any percent.
* ``over-budget``: no team of the new plan may be over its monthly budget.

The CLI prints the results with the diff and exits 3 when one failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from planner.errors import UsageError
from planner.review.diff import ZERO, PlanDiff, PolicyResult, pct

_THRESHOLD = re.compile(r"^\s*(\$)?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(%)?\s*$")


@dataclass(frozen=True)
class Threshold:
    """A limit on the monthly increase: ``percent`` of base, or ``amount`` USD/month."""

    kind: Literal["percent", "amount"]
    value: Decimal

    def __str__(self) -> str:
        return f"{self.value}%" if self.kind == "percent" else f"${self.value:,}"


def parse_threshold(text: str) -> Threshold:
    """``"10%"`` -> percent 10; ``"$5000"`` / ``"5,000"`` -> amount 5000 USD/month."""
    m = _THRESHOLD.match(text)
    if not m or (m.group(1) and m.group(3)):
        raise UsageError(f"--fail-on-increase: expected a percent like 10% or an amount like $5000, "
                         f"got {text!r}")
    try:
        value = Decimal(m.group(2).replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise UsageError(f"--fail-on-increase: not a number: {text!r}") from None
    return Threshold("percent" if m.group(3) else "amount", value)


def check_increase(diff: PlanDiff, limit: Threshold) -> PolicyResult:
    """Fail when the monthly total of the plan rises by more than ``limit``."""
    return check_rise(diff.total.base_monthly, diff.total.new_monthly, limit)


def check_rise(base: Decimal, new: Decimal, limit: Threshold) -> PolicyResult:
    """Fail when a monthly figure goes from ``base`` to ``new`` USD by more than ``limit``."""
    rise = new - base
    share = pct(rise, base)
    shown = f"${rise:,.2f}" + (f" ({share:+}%)" if share is not None else "")
    if limit.kind == "amount":
        passed = rise <= limit.value
    else:
        passed = rise <= ZERO or (base != ZERO and rise * 100 <= limit.value * base)
    verb = "within" if passed else "exceeds"
    return PolicyResult(
        name="fail-on-increase", passed=passed,
        message=f"monthly increase {shown} {verb} the limit of {limit}"
        if rise > ZERO else f"monthly estimate does not increase (limit {limit})",
    )


def check_budgets(diff: PlanDiff) -> PolicyResult:
    """Fail when any team of the new plan is over its monthly budget."""
    over = [b for b in diff.budgets if b.new_over]
    if not over:
        return PolicyResult(name="over-budget", passed=True, message="every team is within its budget")
    parts = [f"{b.team} ${b.new_monthly:,.2f} of ${b.new_budget or ZERO:,.2f}" for b in over]
    return PolicyResult(name="over-budget", passed=False,
                        message="over budget: " + ", ".join(parts))


def evaluate(diff: PlanDiff, increase: Threshold | None, budgets: bool = True) -> list[PolicyResult]:
    """The guardrail results asked for, in a fixed order."""
    out = []
    if increase is not None:
        out.append(check_increase(diff, increase))
    if budgets:
        out.append(check_budgets(diff))
    return out
