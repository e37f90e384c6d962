"""``planner catalog ...``: look at prices, import SkyPilot catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import state
from planner.cli.output import TableOrJson

catalog_app = typer.Typer(help="Inspect and build price catalogs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")


@catalog_app.command("gpus")
def gpus(
    ctx: typer.Context,
    cloud: Annotated[str | None, typer.Option(help="Only this cloud (aws, gcp, azure).")] = None,
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
    spot: Annotated[bool, typer.Option("--spot", help="Only offers with a spot price.")] = False,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table or json")] = TableOrJson.table,
) -> None:
    """Cheapest on-demand and spot $/h for each accelerator and count, per cloud.

    Like `sky show-gpus`, but all clouds at once. Example:
    planner catalog gpus --cloud gcp --format json
    """
    from planner.catalog.load import load_catalog
    from planner.catalog.query import cheapest_gpus
    from planner.cli.output import console, fmt_money, print_json
    from planner.errors import UsageError

    if cloud is not None and cloud.lower() not in ("aws", "gcp", "azure"):
        raise UsageError(f"--cloud must be aws, gcp or azure, got {cloud!r}")
    catalog = load_catalog(state(ctx).catalog)
    rows = cheapest_gpus(catalog, cloud.lower() if cloud else None, region, spot)
    if fmt == TableOrJson.json:
        print_json({
            "catalog": {"source": catalog.meta.source, "date": catalog.meta.date},
            "gpus": [
                {"accelerator": r.accelerator, "count": r.count, "cloud": r.cloud,
                 "on_demand": r.on_demand, "on_demand_where": r.on_demand_where,
                 "on_demand_instance": r.on_demand_instance, "spot": r.spot,
                 "spot_where": r.spot_where, "spot_instance": r.spot_instance}
                for r in rows
            ],
        })
        return
    from rich.table import Table

    table = Table(title=f"Cheapest GPU offers per cloud (catalog of {catalog.meta.date})")
    for col in ("GPU", "count", "cloud", "on-demand $/h", "where", "spot $/h", "where"):
        table.add_column(col, justify="right" if "$" in col or col == "count" else "left")
    for r in rows:
        table.add_row(r.accelerator, f"{r.count:g}", r.cloud, fmt_money(r.on_demand),
                      r.on_demand_where or "-", fmt_money(r.spot), r.spot_where or "-")
    console().print(table)


@catalog_app.command("show")
def show(
    ctx: typer.Context,
    instance_type: Annotated[str, typer.Argument(help="e.g. a2-highgpu-8g, p4d.24xlarge")],
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table or json")] = TableOrJson.table,
) -> None:
    """Every region and zone where INSTANCE_TYPE is offered, cheapest first."""
    from planner.catalog.load import load_catalog
    from planner.catalog.query import find_instance
    from planner.cli.output import console, fmt_money, print_json
    from planner.errors import UsageError

    catalog = load_catalog(state(ctx).catalog)
    offers = find_instance(catalog, instance_type)
    if not offers:
        import difflib

        known = sorted({o.instance_type for o in catalog})
        close = difflib.get_close_matches(instance_type, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"instance type {instance_type!r} is not in the catalog{hint}")
    if fmt == TableOrJson.json:
        print_json([{
            "cloud": o.cloud, "region": o.region, "zone": o.zone,
            "instance_type": o.instance_type, "accelerator": o.accelerator,
            "accelerator_count": o.accelerator_count, "vcpus": o.vcpus,
            "memory_gib": o.memory_gib, "price": o.price, "spot_price": o.spot_price,
            "quota_family": o.quota_family,
        } for o in offers])
        return
    from rich.table import Table

    o0 = offers[0]
    acc = f"{o0.accelerator}:{o0.accelerator_count:g}" if o0.accelerator else "no accelerator"
    table = Table(title=f"{o0.instance_type}: {o0.vcpus:g} vCPUs, {o0.memory_gib:g} GiB, {acc}")
    for col in ("cloud", "region", "zone", "accelerator", "on-demand $/h", "spot $/h", "quota"):
        table.add_column(col)
    for o in offers:
        table.add_row(o.cloud, o.region, o.zone or "-",
                      f"{o.accelerator}:{o.accelerator_count:g}" if o.accelerator else "-",
                      fmt_money(o.price), fmt_money(o.spot_price), o.quota_family)
    console().print(table)


@catalog_app.command("check")
def check(
    ctx: typer.Context,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table or json")] = TableOrJson.table,
) -> None:
    """List the prices the planner does not use: far below their type's median across
    regions, spot above on-demand, or zero (planner/catalog/sanity.py).

    Plans skip these rows (reason price-outlier) unless --allow-price-outliers. Example:
    planner --catalog ../shared/data/skypilot-catalog/v8 catalog check --format json
    """
    from planner.catalog.load import load_catalog
    from planner.catalog.sanity import catalog_flags
    from planner.cli.output import console, fmt_money, print_json

    catalog = load_catalog(state(ctx).catalog)
    flags = catalog_flags(catalog)
    if fmt == TableOrJson.json:
        print_json({
            "catalog": {"source": catalog.meta.source, "date": catalog.meta.date},
            "flagged": [{"offer": f.offer.key, "cloud": f.offer.cloud, "region": f.offer.region,
                         "zone": f.offer.zone, "instance_type": f.offer.instance_type,
                         "capacity": "spot" if f.spot else "on-demand", "reason": f.reason,
                         "price": str(f.price),
                         "median": None if f.median is None else str(f.median),
                         "detail": f.detail} for f in flags],
        })
        return
    from rich.table import Table

    table = Table(title=f"{len(flags)} flagged prices of {len(catalog)} offers "
                        f"(catalog of {catalog.meta.date})")
    for col in ("offer", "capacity", "$/h", "median $/h", "reason"):
        table.add_column(col, justify="right" if "$" in col else "left")
    for f in flags:
        table.add_row(f.offer.key, "spot" if f.spot else "on-demand", fmt_money(f.price),
                      fmt_money(f.median), f.reason)
    console().print(table)


def flagged_note(offers: object) -> str:
    """The line `catalog import` and `catalog refresh` print after writing."""
    from planner.catalog.sanity import catalog_flags

    n = len(catalog_flags(offers))  # type: ignore[arg-type]
    return (f"catalog check: {n} price{'s' if n != 1 else ''} flagged and left unused "
            "(planner catalog check lists them)")


@catalog_app.command("import")
def import_(
    from_skypilot: Annotated[Path, typer.Option("--from-skypilot", help="SkyPilot v8 catalog dir")],
    out: Annotated[Path, typer.Option("--out", help="Snapshot directory to write")],
    source: Annotated[str | None, typer.Option(help="Where the tables came from")] = None,
    date: Annotated[str | None, typer.Option(help="Date of the prices, YYYY-MM-DD")] = None,
    reduce: Annotated[bool, typer.Option(
        "--reduce/--full", help="Keep accelerators and common CPU families only")] = True,
) -> None:
    """Import a SkyPilot catalog directory into a gpuplan snapshot (atomic write).

    This is how the embedded default catalog is made:
    planner catalog import --from-skypilot ../shared/data/skypilot-catalog/v8
      --out planner/data/catalog --date 2026-05-20
    """
    import re

    from planner.catalog.load import reduce_offers
    from planner.catalog.model import CatalogMeta
    from planner.catalog.skypilot import read_skypilot_dir
    from planner.catalog.snapshot import write_snapshot
    from planner.errors import UsageError

    if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise UsageError(f"--date must be YYYY-MM-DD, got {date!r}")
    offers = read_skypilot_dir(from_skypilot)
    if reduce:
        offers = reduce_offers(offers)
    meta = CatalogMeta(
        source=source or f"skypilot-catalog v8 ({from_skypilot.name})",
        date=date or "unknown",
        notes=("reduced: accelerator offers + common CPU families",) if reduce else (),
    )
    try:
        write_snapshot(out, offers, meta)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    typer.echo(f"wrote {len(offers)} offers to {out}")
    typer.echo(flagged_note(offers))
