"""Is the catalog too old to trust? A pure check ``planner plan`` runs before solving.

Prices drift (new GPU generations, price cuts, spot markets); an old catalog
still plans, but the user should know. :func:`staleness_warning` compares the
catalog's date (``CatalogMeta.date``, ``YYYY-MM-DD``) with *today*, which the
CLI passes in (the planner core reads no clock).

``planner plan --max-catalog-age-days N`` (the "max age" setting; default
:data:`DEFAULT_MAX_AGE_DAYS`, 30 days):

* the catalog is stale when ``today - date > N`` days (a catalog exactly N
  days old is fine; ``N = 0`` warns for anything older than today);
* a negative N is a usage error (exit 2);
* the date ``unknown`` (e.g. a SkyPilot directory, which records none) or
  anything that is not a date warns that the age cannot be checked;
* a date after today (a clock or a hand-edited snapshot) is not stale.

The plan prints the catalog date in any case; this only decides the warning.
"""

from __future__ import annotations

from datetime import date

from planner.errors import UsageError

DEFAULT_MAX_AGE_DAYS = 30
REFRESH_HINT = "refresh with `planner catalog refresh aws|gcp|azure`"


def parse_catalog_date(text: str) -> date | None:
    """``YYYY-MM-DD`` (a longer ISO timestamp is cut to its date) -> date, else None."""
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def catalog_age_days(catalog_date: str, today: date) -> int | None:
    """Whole days from the catalog's date to ``today`` (None when the date is unknown)."""
    day = parse_catalog_date(catalog_date)
    return None if day is None else (today - day).days


def staleness_warning(catalog_date: str, today: date,
                      max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> str | None:
    """A one-line warning if the catalog is older than ``max_age_days`` or undated, else None."""
    if max_age_days < 0:
        raise UsageError(f"--max-catalog-age-days must be 0 or more, got {max_age_days}")
    age = catalog_age_days(catalog_date, today)
    if age is None:
        return (f"catalog date is unknown ({catalog_date!r}): prices may be out of date; "
                f"{REFRESH_HINT}")
    if age > max_age_days:
        return (f"catalog prices are {age} days old (from {catalog_date}, older than "
                f"{max_age_days} days); {REFRESH_HINT}")
    return None
