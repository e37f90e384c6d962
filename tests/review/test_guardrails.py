"""Guardrails: thresholds parse, increases and budgets pass or fail as stated."""

from __future__ import annotations

from decimal import Decimal

import pytest

from planner.errors import UsageError
from planner.review.diff import diff_plans
from planner.review.guardrails import Threshold, check_budgets, check_increase, evaluate, parse_threshold
from tests.fixtures.diff import scenarios
from tests.fixtures.diff.factory import W, make_plan


@pytest.mark.parametrize("text,kind,value", [
    ("10%", "percent", "10"), ("2.5 %", "percent", "2.5"), ("$5000", "amount", "5000"),
    ("5,000", "amount", "5000"), ("$1,234.50", "amount", "1234.50"), ("0%", "percent", "0"),
])
def test_parse_threshold(text: str, kind: str, value: str) -> None:
    assert parse_threshold(text) == Threshold(kind, Decimal(value))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "ten", "$10%", "-5%", "10%%", "1e3"])
def test_parse_threshold_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_threshold(text)


def test_increase_at_exactly_the_limit_passes() -> None:
    base = make_plan([W("a", "t", "aws-g5", hours=100)])   # 100 h x 1.006 = $100.60
    new = make_plan([W("a", "t", "aws-g5", hours=110)])    # +10.0% exactly
    d = diff_plans(base, new)
    assert d.total.delta_monthly == Decimal("10.06")
    assert check_increase(d, parse_threshold("10%")).passed
    assert not check_increase(d, parse_threshold("9.99%")).passed
    assert check_increase(d, parse_threshold("$10.06")).passed
    assert not check_increase(d, parse_threshold("$10.05")).passed


def test_any_increase_from_zero_fails_a_percent_limit() -> None:
    d = diff_plans(make_plan([]), make_plan([W("a", "t", "aws-g5")]))
    result = check_increase(d, parse_threshold("1000%"))
    assert not result.passed
    assert result.message == "monthly increase $10.06 exceeds the limit of 1000%"


def test_decrease_always_passes() -> None:
    d = diff_plans(scenarios.quota_lowered(), scenarios.base())
    result = check_increase(d, parse_threshold("0%"))
    assert result.passed and result.message == "monthly estimate does not increase (limit 0%)"


def test_budgets_policy_names_each_team_over() -> None:
    d = diff_plans(scenarios.base(), scenarios.workload_added())
    result = check_budgets(d)
    assert not result.passed
    assert result.message == "over budget: product $3,658.61 of $3,000.00"
    assert [p.name for p in evaluate(d, None)] == ["over-budget"]
    assert evaluate(d, None, budgets=False) == []
