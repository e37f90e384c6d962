from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.catalog.staleness import (
    DEFAULT_MAX_AGE_DAYS,
    catalog_age_days,
    parse_catalog_date,
    staleness_warning,
)
from planner.errors import UsageError

TODAY = date(2026, 11, 23)


def test_fresh_catalog_gives_no_warning() -> None:
    assert staleness_warning("2026-11-01", TODAY, 30) is None


def test_exactly_max_age_is_fine_one_more_day_warns() -> None:
    assert staleness_warning("2026-10-24", TODAY, 30) is None
    warning = staleness_warning("2026-10-23", TODAY, 30)
    assert warning is not None
    assert "31 days old" in warning and "2026-10-23" in warning and "planner catalog refresh" in warning


def test_embedded_snapshot_date_is_stale_under_the_default() -> None:
    warning = staleness_warning("2026-05-20", TODAY)
    assert warning is not None and f"older than {DEFAULT_MAX_AGE_DAYS} days" in warning


@pytest.mark.parametrize("text", ["unknown", "", "20th of May", "2026-13-01"])
def test_unknown_dates_warn_that_the_age_is_unknown(text: str) -> None:
    warning = staleness_warning(text, TODAY, 30)
    assert warning is not None and "date is unknown" in warning


def test_future_dates_are_not_stale() -> None:
    assert staleness_warning("2027-01-01", TODAY, 0) is None


def test_zero_max_age_warns_for_anything_before_today() -> None:
    assert staleness_warning("2026-11-23", TODAY, 0) is None
    assert staleness_warning("2026-11-22", TODAY, 0) is not None


def test_negative_max_age_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        staleness_warning("2026-11-23", TODAY, -1)


def test_timestamps_are_cut_to_their_date() -> None:
    assert parse_catalog_date("2026-11-20T10:00:00Z") == date(2026, 11, 20)
    assert catalog_age_days("2026-11-20T10:00:00Z", TODAY) == 3
    assert catalog_age_days("unknown", TODAY) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
       st.integers(min_value=0, max_value=10_000), st.integers(min_value=-400, max_value=20_000))
def test_warns_iff_older_than_max_age(today: date, max_age: int, age: int) -> None:
    from datetime import timedelta

    day = today - timedelta(days=age)
    warning = staleness_warning(day.isoformat(), today, max_age)
    assert (warning is not None) == (age > max_age)


def test_planner_plan_warns_on_an_old_catalog(tmp_path: Path) -> None:
    """End to end: a snapshot dated long ago makes `planner plan` warn on stderr, once."""
    import json
    import shutil

    from planner.catalog.load import embedded_path
    from tests.cli import run_cli

    old = tmp_path / "catalog"
    shutil.copytree(embedded_path(), old)
    meta = json.loads((old / "metadata.json").read_text())
    meta["date"] = "2020-01-01"
    (old / "metadata.json").write_text(json.dumps(meta))
    examples = Path(__file__).parents[2] / "examples" / "quickstart"
    result = run_cli("--catalog", str(old), "plan", str(examples / "workloads.yaml"),
                     "--format", "json", "--max-catalog-age-days", "400")
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "from 2020-01-01, older than 400 days" in warnings[0]
    assert "2020-01-01" in result.out  # the plan records the catalog date
