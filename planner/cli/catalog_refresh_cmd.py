"""``planner catalog refresh aws|gcp|azure``: fetch live prices (and shapes) into a snapshot.

The only command that uses the network, and the only one that imports the cloud
SDKs of the ``gpuplan[refresh]`` extra (boto3, google-auth, azure-identity).
Everything is fetched and parsed first; the snapshot is written (atomically)
only when all of it succeeded, so on any failure the previous snapshot in
``--out`` stays byte-identical and the command exits 4 with one line that
starts with the cloud's name.
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
    from datetime import datetime

    from planner.catalog.model import Catalog
    from planner.catalog.refresh_common import Refreshed
    from planner.catalog.refresh_http import Fetcher, Progress
    from planner.errors import CatalogError


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
        "--out", help="Snapshot directory; other clouds already in it are kept. "
        "Default: ~/.cache/gpuplan/catalog/<cloud>")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="aws: the named profile (default: AWS_PROFILE, then the standard "
        "credential chain).")] = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="gcp: also read machine and accelerator types (shapes, zones) from "
        "this project's Compute API.")] = None,
    subscription: Annotated[str | None, typer.Option(
        "--subscription", help="azure: also read Resource SKUs (shapes, zones, restrictions) "
        "for this subscription.")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Keep every instance type, not only accelerators and common CPU "
        "families.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request.", min=1)] = 60.0,
    retries: Annotated[int, typer.Option(help="Retries on throttling/5xx/timeouts.", min=0)] = 4,
) -> None:
    """Fetch current prices from a cloud's APIs into a catalog snapshot.

    \b
    aws:   Price List + EC2 instance types and spot price history (boto3: AWS_PROFILE,
           aws sso login, web identity, environment keys or an instance role)
    gcp:   Cloud Billing Catalog SKUs (Application Default Credentials or GOOGLE_API_KEY);
           --project adds the Compute API's machine and accelerator types
    azure: Retail Prices (no sign-in); --subscription adds Resource SKUs
           (DefaultAzureCredential)
    Shapes not fetched come from the current catalog (--catalog or the embedded one).
    Then: planner --catalog DIR plan workloads.yaml
    """
    from datetime import UTC, datetime

    from planner.catalog.load import load_catalog
    from planner.cli.app import state
    from planner.errors import CatalogError

    names = parse_regions(regions)
    _check_account_flags(cloud.value, {"--profile": profile, "--project": project,
                                       "--subscription": subscription})
    target = out or default_out(cloud.value, os.environ)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        _require_extra(cloud.value, project, subscription)
        base = load_catalog(state(ctx).catalog)
        result = _fetch(cloud.value, names, base, now, timeout, retries,
                        {"profile": profile, "project": project, "subscription": subscription})
    except CatalogError as exc:
        raise _for_cloud(exc, cloud.value) from None
    existing = _existing(target)
    previous, compared_with = (existing, f"{target} ({existing.meta.date})") if existing else \
        (base, f"the current catalog ({base.meta.date})")
    count = _write(cloud.value, result, target, now, full, previous, compared_with, existing)
    typer.echo(f"wrote {count} {cloud.value} offers (prices of {now.date().isoformat()}) to {target}")
    from planner.catalog.snapshot import read_snapshot
    from planner.cli.catalog_cmd import flagged_note

    typer.echo(flagged_note(read_snapshot(target)))
    typer.echo(f"use it: planner --catalog {target} plan workloads.yaml")


ACCOUNT_FLAGS = {"--profile": "aws", "--project": "gcp", "--subscription": "azure"}


def _check_account_flags(cloud: str, given: dict[str, str | None]) -> None:
    """A sign-in flag of another cloud is a usage error (exit 2), not silently ignored."""
    from planner.errors import UsageError

    for flag, value in given.items():
        if value is not None and ACCOUNT_FLAGS[flag] != cloud:
            raise UsageError(f"{flag} is for `catalog refresh {ACCOUNT_FLAGS[flag]}`, not {cloud}")


def _for_cloud(exc: CatalogError, cloud: str) -> CatalogError:
    """The same error as one line that starts with the cloud's name."""
    from planner.errors import CatalogError

    message = exc.message if exc.message.startswith(f"{cloud}:") else f"{cloud}: {exc.message}"
    if exc.field:
        head, _, rest = message.partition(": ")
        message = f"{head}: {exc.field}: {rest}"
    return CatalogError(message, file=exc.file, line=exc.line)


def _require_extra(cloud: str, project: str | None, subscription: str | None) -> None:
    """Exit 4 naming ``gpuplan[refresh]`` when the SDK this refresh needs is missing."""
    if cloud == "aws":
        from planner.catalog.refresh_aws_api import require_boto3

        require_boto3()
    elif cloud == "gcp":
        from planner.catalog.refresh_gcp_auth import require_google_auth

        require_google_auth(os.environ, project)
    elif subscription is not None:
        from planner.catalog.refresh_azure_skus import require_azure_identity

        require_azure_identity()


def _existing(target: Path) -> Catalog | None:
    """The snapshot this refresh replaces or adds to, if ``target`` holds a readable one."""
    from planner.catalog.snapshot import is_snapshot, read_snapshot
    from planner.errors import CatalogError

    if not is_snapshot(target):
        return None
    try:
        return read_snapshot(target)
    except CatalogError:
        return None  # unreadable: it is replaced whole


def _fetch(cloud: str, regions: list[str] | None, base: Catalog, now: datetime,
           timeout: float, retries: int, account: dict[str, str | None]) -> Refreshed:
    from planner.catalog import refresh_http as http

    with http.open_client(timeout) as client, _progress_bar(cloud) as (progress, on_region):
        fetcher = http.Fetcher(client, retries=retries, sleep=http.sleep_seconds)
        return _run(cloud, fetcher, regions, base, now, progress, on_region, account, timeout)


def _run(cloud: str, fetcher: Fetcher, regions: list[str] | None, base: Catalog, now: datetime,
         progress: Progress, on_region: Callable[[str], None],
         account: dict[str, str | None], timeout: float) -> Refreshed:
    from planner.catalog.refresh_common import known_accelerators, known_shapes
    from planner.errors import CatalogError

    accelerators = known_accelerators(base)
    flag = {"gcp": ("--project", account["project"]), "azure": ("--subscription", account["subscription"])}
    if cloud in flag and flag[cloud][1] is None and cloud not in base.clouds:
        raise CatalogError(f"the current catalog ({base.meta.source}) has no {cloud} offers to take "
                           f"{cloud} shapes from; give {flag[cloud][0]}, or run without --catalog "
                           f"or with one that includes {cloud}")
    if cloud == "aws":
        from planner.catalog.refresh_aws import refresh_aws
        from planner.catalog.refresh_aws_api import AwsApi, open_session

        api = AwsApi(open_session(account["profile"]), timeout, fetcher.retries)
        return refresh_aws(api, fetcher, regions, accelerators, now, progress, on_region)
    if cloud == "gcp":
        from planner.catalog.refresh_gcp import refresh_gcp
        from planner.catalog.refresh_gcp_auth import google_auth

        auth = google_auth(os.environ, fetcher, account["project"])
        return refresh_gcp(fetcher, auth, base, regions, account["project"], accelerators, progress)
    from planner.catalog.refresh_azure import refresh_azure

    skus = None
    if account["subscription"] is not None:
        from planner.catalog.refresh_azure_skus import resource_skus

        skus = resource_skus(fetcher, account["subscription"], regions, known_shapes(base, "azure"),
                             accelerators, progress)
    return refresh_azure(fetcher, regions, known_shapes(base, "azure"), now.date(), progress, skus)


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


def _write(cloud: str, result: Refreshed, target: Path, now: datetime, full: bool,
           previous: Catalog, compared_with: str, existing: Catalog | None) -> int:
    """Write the snapshot (this cloud's offers replaced, other clouds kept); the count written."""
    from dataclasses import replace

    from planner.catalog.load import reduce_offers
    from planner.catalog.refresh_common import merge_into, refresh_record, type_change_notes
    from planner.catalog.snapshot import write_snapshot
    from planner.errors import CatalogError

    offers = result.offers if full else reduce_offers(result.offers)
    if not offers:
        raise CatalogError(f"{cloud}: no offers in the price API's answer; "
                           f"the previous snapshot is unchanged", file=str(target))
    kept = replace(result, offers=offers)
    record = refresh_record(cloud, kept, previous, compared_with, now.isoformat())
    notes = result.notes + type_change_notes(cloud, kept, previous) \
        + (() if full else ("reduced: accelerator offers + common CPU families",))
    merged, meta = merge_into(existing, cloud, offers, record, notes)
    try:
        write_snapshot(target, merged, meta)
    except OSError as exc:
        raise CatalogError(f"{cloud}: cannot write snapshot: {exc.strerror}", file=str(target)) \
            from None
    _echo_record(record)
    return len(offers)


def _echo_record(record: Any) -> None:
    """The refresh summary: what was fetched from where, and what changed."""
    typer.echo(f"{record.cloud}: {record.types} instance types in {record.regions} region(s), "
               f"{record.new_types} new and {record.gone_types} gone since {record.compared_with}")
    typer.echo(f"  fetched {record.fetched_at} from {record.source}")
    typer.echo(f"  shapes: {record.shapes_source}; spot: {record.spot_source or 'none'}")
