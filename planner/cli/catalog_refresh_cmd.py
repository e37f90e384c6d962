"""``planner catalog refresh aws|gcp|azure``: fetch live prices into a snapshot.

The only command that uses the network. Everything is fetched and parsed
first; the snapshot is written (atomically) only when all of it succeeded, so
on any failure the previous snapshot in ``--out`` stays byte-identical.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from datetime import date

    from planner.catalog.model import Catalog
    from planner.catalog.refresh_common import Refreshed
    from planner.catalog.refresh_http import Fetcher, Progress


class RefreshCloud(StrEnum):
    aws = "aws"
    gcp = "gcp"
    azure = "azure"


def register(app: typer.Typer) -> None:
    from planner.cli.catalog_cmd import catalog_app

    catalog_app.command("refresh")(refresh)


def default_out(cloud: str, env: dict[str, str] | os._Environ[str]) -> Path:
    """``$XDG_CACHE_HOME/gpuplan/catalog/<cloud>``, else ``~/.cache/gpuplan/catalog/<cloud>``."""
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gpuplan" / "catalog" / cloud


def parse_regions(values: list[str] | None) -> list[str] | None:
    """``--regions a,b --regions c`` -> sorted unique names; None means every region."""
    from planner.errors import UsageError

    if not values:
        return None
    names = sorted({r.strip() for v in values for r in v.split(",") if r.strip()})
    for name in names:
        if not name.replace("-", "").isalnum() or name != name.lower():
            raise UsageError(f"--regions: not a region name: {name!r}")
    return names or None


def refresh(
    ctx: typer.Context,
    cloud: Annotated[RefreshCloud, typer.Argument(help="aws, gcp or azure")],
    regions: Annotated[list[str] | None, typer.Option(
        "--regions", help="Only these regions (comma-separated or repeated). Default: all.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Snapshot directory. Default: ~/.cache/gpuplan/catalog/<cloud>")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Keep every instance type, not only accelerators and common CPU "
        "families.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request.", min=1)] = 60.0,
    retries: Annotated[int, typer.Option(help="Retries on 429/5xx/timeouts.", min=0)] = 4,
) -> None:
    """Fetch current prices from a cloud's public price API into a catalog snapshot.

    \b
    aws:   Price List GetProducts + Spot Instance Advisor (AWS_ACCESS_KEY_ID/SECRET)
    gcp:   Cloud Billing Catalog, Compute Engine SKUs (GOOGLE_API_KEY)
    azure: Retail Prices API (no credentials)
    Shapes the APIs do not carry come from the current catalog (--catalog or the
    embedded one). Then: planner --catalog DIR plan workloads.yaml
    """
    from datetime import date

    from planner.catalog.load import load_catalog
    from planner.cli.app import state

    names = parse_regions(regions)
    target = out or default_out(cloud.value, os.environ)
    today = date.today()
    _check_credentials(cloud.value)
    base = load_catalog(state(ctx).catalog)
    result = _fetch(cloud.value, names, base, today, timeout, retries)
    count = _write(cloud.value, result, target, today, full)
    typer.echo(f"wrote {count} {cloud.value} offers (prices of {today.isoformat()}) to {target}")
    typer.echo(f"use it: planner --catalog {target} plan workloads.yaml")


def _check_credentials(cloud: str) -> None:
    """Fail before any request when the cloud needs credentials that are not set."""
    if cloud == "aws":
        from planner.catalog.aws_sigv4 import credentials_from_env

        credentials_from_env(os.environ)
    elif cloud == "gcp":
        from planner.catalog.refresh_gcp import api_key

        api_key(os.environ)


def _fetch(cloud: str, regions: list[str] | None, base: Catalog, today: date,
           timeout: float, retries: int) -> Refreshed:
    from planner.catalog import refresh_http as http

    with http.open_client(timeout) as client, _progress_bar(cloud) as (progress, on_region):
        fetcher = http.Fetcher(client, retries=retries, sleep=http.sleep_seconds)
        return _run(cloud, fetcher, regions, base, today, progress, on_region)


def _run(cloud: str, fetcher: Fetcher, regions: list[str] | None, base: Catalog, today: date,
         progress: Progress, on_region: Callable[[str], None]) -> Refreshed:
    from planner.catalog.refresh_common import known_shapes
    from planner.errors import CatalogError

    if cloud in ("gcp", "azure") and cloud not in base.clouds:
        raise CatalogError(f"the current catalog ({base.meta.source}) has no {cloud} offers to "
                           f"take {cloud} instance shapes from; run without --catalog or with "
                           f"one that includes {cloud}")
    if cloud == "aws":
        from datetime import UTC, datetime

        from planner.catalog.aws_sigv4 import Signer, credentials_from_env
        from planner.catalog.refresh_aws import PRICING_REGION, refresh_aws

        fetcher.sign = _only_pricing(Signer(credentials_from_env(os.environ), PRICING_REGION,
                                            "pricing", lambda: datetime.now(UTC)))
        return refresh_aws(fetcher, regions, known_shapes(base, "aws"), progress, on_region)
    if cloud == "gcp":
        from planner.catalog.refresh_gcp import api_key, refresh_gcp

        return refresh_gcp(fetcher, api_key(os.environ), base, regions, progress)
    from planner.catalog.refresh_azure import refresh_azure

    return refresh_azure(fetcher, regions, known_shapes(base, "azure"), today, progress)


def _only_pricing(signer: Any) -> Any:
    """Sign requests to the Price List API only (the spot advisor is a public S3 object)."""
    def sign(request: Any) -> None:
        if request.url.host.startswith("api.pricing."):
            signer(request)
    return sign


@contextmanager
def _progress_bar(cloud: str, console: Any = None) -> Iterator[tuple[Progress, Callable[[str], None]]]:
    """A rich progress line on stderr: pages and items fetched so far; per-page callback."""
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    # Transient: the bar clears when done, leaving the summary (or the one error line).
    # Not a terminal (CI logs, pipes): no bar at all.
    bar = Bar(SpinnerColumn(), TextColumn("{task.description}"),
              TextColumn("{task.completed} pages, {task.fields[items]} items"),
              TimeElapsedColumn(), console=console, transient=True,
              disable=not console.is_terminal)
    task = bar.add_task(f"{cloud} prices", total=None, items=0)
    seen = [0]

    def page(number: int, items: int) -> None:
        seen[0] += items
        bar.update(task, advance=1, items=seen[0])

    def region(name: str) -> None:
        bar.update(task, description=f"{cloud} prices: {name}")

    with bar:
        yield page, region


def _write(cloud: str, result: Refreshed, target: Path, today: date, full: bool) -> int:
    from planner.catalog.load import reduce_offers
    from planner.catalog.model import CatalogMeta
    from planner.catalog.snapshot import write_snapshot
    from planner.errors import CatalogError

    offers = result.offers if full else reduce_offers(result.offers)
    if not offers:
        raise CatalogError(f"no {cloud} offers in the price API's answer; "
                           f"the previous snapshot is unchanged", file=str(target))
    notes = result.notes + (() if full else ("reduced: accelerator offers + common CPU families",))
    meta = CatalogMeta(source=result.source, date=today.isoformat(), notes=notes)
    try:
        write_snapshot(target, offers, meta)
    except OSError as exc:
        raise CatalogError(f"cannot write snapshot: {exc.strerror}", file=str(target)) from None
    return len(offers)
