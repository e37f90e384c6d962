"""Rendering: money formatting, markdown safety, and the comment size limit."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.review.diff import diff_plans
from planner.review.diffrender import GITHUB_COMMENT_LIMIT, MARKER, md, render_markdown, summary, usd
from tests.fixtures.diff import scenarios
from tests.fixtures.diff.factory import W, make_plan


@pytest.mark.parametrize("value,kwargs,text", [
    ("12400", {}, "$12,400"), ("12400.5", {"signed": True}, "+$12,400"),
    ("-99.994", {}, "-$99.99"), ("0", {"signed": True}, "$0.00"),
    ("1234.5678", {"cents": True}, "$1,234.57"), ("-0.5", {"signed": True}, "-$0.50"),
])
def test_usd(value: str, kwargs: dict[str, bool], text: str) -> None:
    assert usd(Decimal(value), **kwargs) == text


def test_summary_line_wording() -> None:
    up = diff_plans(scenarios.base(), scenarios.quota_lowered()).total
    down = diff_plans(scenarios.quota_lowered(), scenarios.base()).total
    same = diff_plans(scenarios.base(), scenarios.base()).total
    fresh = diff_plans(make_plan([]), scenarios.base()).total
    assert summary(up) == "Monthly estimate increases by $713 (+14.2%)"
    assert summary(down) == "Monthly estimate decreases by $713 (-12.5%)"
    assert summary(same) == "Monthly estimate does not change"
    assert summary(fresh) == "Monthly estimate increases by $5,010 (from $0)"


def test_markdown_cells_cannot_break_the_table() -> None:
    assert md("a|b<script>") == "a\\|b&lt;script>"


def _big_diff(n: int):  # type: ignore[no-untyped-def]
    teams = [f"team-{i % 40:02d}" for i in range(n)]
    base = make_plan([W(f"job-{i:05d}-with-a-longish-name", teams[i], "aws-p4d", hours=10)
                      for i in range(n)])
    new = make_plan([W(f"job-{i:05d}-with-a-longish-name", teams[i],
                       "gcp-a2x8" if i % 2 else "azure-nc24", nodes=1 + i % 3, hours=12)
                     for i in range(n)],
                    quotas=[{"cloud": "aws", "region": "us-east-1", "family": "P", "limit": 0}])
    return diff_plans(base, new)


def test_comment_for_a_5000_workload_diff_stays_under_the_limit() -> None:
    d = _big_diff(5000)
    assert len(d.workloads) == 5000
    text = render_markdown(d)
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert text.startswith(MARKER + "\n")
    assert "**Monthly estimate" in text and "**Policy checks**" not in text
    assert text.rstrip().endswith("</sub>") and text.count("<details>") == text.count("</details>") == 1
    shown = len(re.findall(r"^\| `~` \| job-", text, flags=re.M))
    [more] = re.findall(r"…and (\d+) more workloads not shown", text)
    assert shown > 50 and shown + int(more) == 5000
    # the cut keeps far more rows than there are teams, so every team row is still there
    assert len(re.findall(r"^\| team-\d\d \|", text, flags=re.M)) == 40


def test_small_diffs_are_not_cut_and_tight_limits_are_kept() -> None:
    d = diff_plans(scenarios.base(), scenarios.quota_lowered())
    assert "not shown" not in render_markdown(d)
    tight = render_markdown(d, max_chars=1300)
    assert len(tight) <= 1300 < len(render_markdown(d))
    assert tight.startswith(MARKER) and "increases by $713 (+14.2%)" in tight
    assert "more workloads not shown" in tight and "| research |" in tight


_BIG: list = []  # type: ignore[type-arg]  # the 2,000-workload diff, built once for the property below


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=2_500, max_value=GITHUB_COMMENT_LIMIT))
def test_property_any_size_limit_is_kept_and_rows_are_accounted_for(limit: int) -> None:
    if not _BIG:
        _BIG.append(_big_diff(2000))
    d = _BIG[0]
    text = render_markdown(d, max_chars=limit)
    assert len(text) <= limit and text.startswith(MARKER)
    assert "**Monthly estimate increases by" in text
    shown = len(re.findall(r"^\| `~` \| job-", text, flags=re.M))
    more = [int(n) for n in re.findall(r"…and (\d+) more workloads not shown", text)]
    assert shown + sum(more) == len(d.workloads)
