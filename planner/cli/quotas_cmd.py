"""``planner quotas import aws|gcp|azure FILE``: a cloud's quota listing -> ``quotas:``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

quotas_app = typer.Typer(help="Import account quotas into a workload declaration.",
                         no_args_is_help=True)


class QuotaCloud(StrEnum):
    aws = "aws"
    gcp = "gcp"
    azure = "azure"


class YamlOrJson(StrEnum):
    yaml = "yaml"
    json = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(quotas_app, name="quotas")


@quotas_app.command("import")
def import_(
    ctx: typer.Context,
    cloud: Annotated[QuotaCloud, typer.Argument(help="aws, gcp or azure")],
    file: Annotated[Path, typer.Argument(help="JSON printed by the cloud's CLI (examples above)")],
    region: Annotated[str | None, typer.Option(
        "--region", help="AWS: overrides the QuotaArn region. GCP: pick one region of a "
        "`regions list`. Azure: required (the location given to `az vm list-usage`).")] = None,
    fmt: Annotated[YamlOrJson, typer.Option("--format", help="yaml or json")] = YamlOrJson.yaml,
) -> None:
    """Print the `quotas:` section for a workloads file from a cloud's quota listing.

    \b
    aws service-quotas list-service-quotas --service-code ec2 > q.json
        planner quotas import aws q.json [--region us-east-1]
    gcloud compute regions describe us-central1 --format=json > q.json
        planner quotas import gcp q.json
    az vm list-usage --location eastus -o json > q.json
        planner quotas import azure q.json --region eastus

    Quotas with names the planner does not use are listed on stderr and skipped;
    imported families that no instance type of the catalog draws on are noted.
    """
    from planner.catalog.load import load_catalog
    from planner.cli.app import state
    from planner.cli.output import print_json
    from planner.spec.quotaimport import import_quotas, quotas_document, unmatched

    result = import_quotas(cloud.value, file, region)
    document = quotas_document(result.quotas)
    if fmt == YamlOrJson.json:
        print_json(document)
    else:
        import yaml

        typer.echo(yaml.safe_dump(document, sort_keys=False, default_flow_style=False), nl=False)
    for name, count in sorted(result.skipped.items()):
        typer.echo(f"skipped unknown quota {name!r}" + (f" ({count} entries)" if count > 1 else ""),
                   err=True)
    catalog = load_catalog(state(ctx).catalog)
    families = {(o.cloud, o.quota_family) for o in catalog}
    for q in unmatched(result.quotas, families):
        typer.echo(f"note: quota family {q.family!r} ({q.cloud}) matches no instance type in "
                   f"the catalog; the planner will not apply it", err=True)
    skipped = sum(result.skipped.values())
    typer.echo(f"imported {len(result.quotas)} quotas from {file}; skipped {skipped} "
               f"entries with unknown names", err=True)
