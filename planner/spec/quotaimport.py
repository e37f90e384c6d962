"""Turn the clouds' quota listings into the WorkloadSet's ``quotas:`` entries.

Inputs are what the clouds' own CLIs print as JSON; outputs are
:class:`~planner.spec.model.Quota` in the planner's units (``planner.catalog.quotafamily``):

* **AWS** ``aws service-quotas list-service-quotas --service-code ec2``:
  ``{"Quotas": [{"QuotaName", "Value", "QuotaArn", ...}]}``. vCPU quotas per
  instance family class: ``Running On-Demand <C> instances`` (on-demand) and
  ``All <C> Spot Instance Requests`` (spot), where ``<C>`` is ``P``, ``G and
  VT``, ``Inf``, ``Trn``, ``DL``, ``F``, ``X`` or ``Standard (A, C, D, ...)``.
  ``G and VT`` is one AWS quota shared by both classes; the planner counts
  G and VT separately, so the shared limit is written for each (an
  over-allowance only for plans that use both). The region is ``--region``
  or the ``QuotaArn``'s region field.
* **GCP** ``gcloud compute regions describe REGION --format=json`` (one
  region) or ``gcloud compute regions list --format=json`` (a list of them):
  ``{"name", "quotas": [{"metric", "limit", "usage"}]}``. ``CPUS`` (vCPUs)
  and ``NVIDIA_<GPU>_GPUS`` (GPUs) are on-demand; ``PREEMPTIBLE_CPUS`` and
  ``PREEMPTIBLE_NVIDIA_<GPU>_GPUS`` are the same family with capacity spot.
  ``--region`` picks one region of a list.
* **Azure** ``az vm list-usage --location L -o json``: ``[{"name": {"value",
  "localizedValue"}, "limit", "currentValue"}]``. Per-family vCPU quotas
  (``name.value`` like ``standardNCADSA100v4Family``) are on-demand; every
  spot (and low-priority) VM of the region draws on ``lowPriorityCores``,
  written with capacity spot. The listing does not name its location:
  ``--region`` is required.

Any other quota name (Elastic IPs, SSD GB, ``cores`` totals, committed GPUs,
...) is not guessed at: it is counted in :attr:`QuotaImport.skipped` and left
out. Limits are whole units (fractions are floored). A file that is not the
documented shape is a :class:`~planner.errors.SpecError` (exit 2) naming the
file, line (for JSON syntax errors) and field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.errors import SpecError
from planner.spec.model import Quota

CLOUDS = ("aws", "gcp", "azure")
AWS_ON_DEMAND = re.compile(r"^Running On-Demand (?P<cls>.+) instances$")
AWS_SPOT = re.compile(r"^All (?P<cls>.+) Spot Instance Requests$")
AWS_CLASSES = {"P": ("P",), "G and VT": ("G", "VT"), "Inf": ("Inf",), "Trn": ("Trn",),
               "DL": ("DL",), "F": ("F",), "X": ("X",)}
AWS_STANDARD = re.compile(r"^Standard \([A-Z, ]+\)$")
GCP_METRIC = re.compile(r"^(?P<pre>PREEMPTIBLE_)?(?P<family>CPUS|NVIDIA_[A-Z0-9_]+_GPUS)$")
AZURE_FAMILY = re.compile(r"^standard[A-Za-z0-9_]+Family$")
AZURE_SPOT = "lowPriorityCores"


@dataclass
class QuotaImport:
    """The quotas found, and each unknown quota name with how many entries had it."""

    quotas: list[Quota] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, name: str) -> None:
        self.skipped[name] = self.skipped.get(name, 0) + 1


def load_json(path: Path) -> Any:
    """The parsed JSON of ``path``; SpecError (with the line) if unreadable or not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SpecError(f"cannot read quota file: {reason}", file=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"not JSON: {exc.msg}", file=str(path), line=exc.lineno) from None


def _limit(value: Any, file: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        raise SpecError(f"limit must be a number >= 0, got {value!r}", file=file, field=where)
    return math.floor(value)


def _quota(file: str, where: str, **values: Any) -> Quota:
    try:
        return Quota(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise SpecError(f"{loc}: {err['msg']}", file=file, field=where) from None


def _aws_classes(name: str) -> tuple[tuple[str, ...], str] | None:
    """(families, capacity) of an AWS EC2 vCPU quota name, or None if it is not one."""
    for pattern, capacity in ((AWS_ON_DEMAND, "on-demand"), (AWS_SPOT, "spot")):
        match = pattern.match(name)
        if match:
            cls = match["cls"]
            if AWS_STANDARD.match(cls):
                return ("Standard",), capacity
            if cls in AWS_CLASSES:
                return AWS_CLASSES[cls], capacity
    return None


def import_aws(doc: Any, file: str, region: str | None) -> QuotaImport:
    if not isinstance(doc, dict) or not isinstance(doc.get("Quotas"), list):
        raise SpecError('expected the output of `aws service-quotas list-service-quotas`: '
                        '{"Quotas": [...]}', file=file, field="Quotas")
    out = QuotaImport()
    for i, entry in enumerate(doc["Quotas"]):
        where = f"Quotas[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("QuotaName"), str):
            raise SpecError("expected an object with QuotaName", file=file, field=where)
        mapped = _aws_classes(entry["QuotaName"])
        if mapped is None:
            out.skip(entry["QuotaName"])
            continue
        place = region or _arn_region(entry.get("QuotaArn"))
        if not place:
            raise SpecError("no region: the QuotaArn names none; pass --region", file=file,
                            field=f"{where}.QuotaArn")
        limit = _limit(entry.get("Value"), file, f"{where}.Value")
        for family in mapped[0]:
            out.quotas.append(_quota(file, where, cloud="aws", region=place, family=family,
                                     capacity=mapped[1], limit=limit))
    return out


def _arn_region(arn: Any) -> str | None:
    """``arn:aws:servicequotas:us-east-1:123456789012:ec2/L-417A185B`` -> ``us-east-1``."""
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[3] if len(parts) > 5 and parts[0] == "arn" and parts[3] else None


def import_gcp(doc: Any, file: str, region: str | None) -> QuotaImport:
    regions = doc if isinstance(doc, list) else [doc]
    out = QuotaImport()
    found = False
    for i, entry in enumerate(regions):
        where = f"[{i}]" if isinstance(doc, list) else ""
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("quotas"), list):
            raise SpecError("expected the output of `gcloud compute regions describe|list "
                            '--format=json`: {"name": ..., "quotas": [...]}', file=file,
                            field=where or None)
        if region and entry["name"] != region:
            continue
        found = True
        _gcp_region(entry, file, where, out)
    if region and not found:
        raise SpecError(f"region {region!r} is not in the file", file=file)
    return out


def _gcp_region(entry: dict[str, Any], file: str, where: str, out: QuotaImport) -> None:
    for j, quota in enumerate(entry["quotas"]):
        at = f"{where}.quotas[{j}]".lstrip(".")
        if not isinstance(quota, dict) or not isinstance(quota.get("metric"), str):
            raise SpecError("expected an object with metric", file=file, field=at)
        match = GCP_METRIC.match(quota["metric"])
        if match is None:
            out.skip(quota["metric"])
            continue
        out.quotas.append(_quota(
            file, at, cloud="gcp", region=entry["name"], family=match["family"],
            capacity="spot" if match["pre"] else "on-demand",
            limit=_limit(quota.get("limit"), file, f"{at}.limit")))


def import_azure(doc: Any, file: str, region: str | None) -> QuotaImport:
    if not region:
        raise SpecError("`az vm list-usage` output does not name its location: pass --region",
                        file=file)
    if not isinstance(doc, list):
        raise SpecError("expected the output of `az vm list-usage -o json`: a list", file=file)
    out = QuotaImport()
    for i, entry in enumerate(doc):
        where = f"[{i}]"
        name = entry.get("name") if isinstance(entry, dict) else None
        value = name.get("value") if isinstance(name, dict) else None
        if not isinstance(value, str):
            raise SpecError("expected an object with name.value", file=file, field=where)
        if value == AZURE_SPOT:
            capacity = "spot"
        elif AZURE_FAMILY.match(value):
            capacity = "on-demand"
        else:
            out.skip(value)
            continue
        assert isinstance(entry, dict)
        out.quotas.append(_quota(file, where, cloud="azure", region=region, family=value,
                                 capacity=capacity,
                                 limit=_limit(entry.get("limit"), file, f"{where}.limit")))
    return out


IMPORTERS = {"aws": import_aws, "gcp": import_gcp, "azure": import_azure}


def import_quotas(cloud: str, path: Path, region: str | None = None) -> QuotaImport:
    """Read ``path`` (the cloud CLI's JSON) into sorted, de-duplicated quotas."""
    if cloud not in IMPORTERS:
        raise SpecError(f"cloud must be one of {', '.join(CLOUDS)}, got {cloud!r}")
    result = IMPORTERS[cloud](load_json(path), str(path), region)
    result.quotas = _dedupe(result.quotas, str(path))
    return result


def _dedupe(quotas: Iterable[Quota], file: str) -> list[Quota]:
    """Sorted by (cloud, region, family, capacity); a key with two different limits is an error."""
    seen: dict[tuple[str, str, str, str], Quota] = {}
    for q in quotas:
        key = (q.cloud, q.region, q.family, q.capacity)
        if key in seen and seen[key].limit != q.limit:
            raise SpecError(f"two different limits for {q.family} ({q.capacity}) in {q.region}: "
                            f"{seen[key].limit} and {q.limit}", file=file)
        seen[key] = q
    return [seen[k] for k in sorted(seen)]


def unmatched(quotas: Iterable[Quota], families: Iterable[tuple[str, str]]) -> list[Quota]:
    """Quotas whose family no offer draws on: ``families`` are (cloud, quota_family) of offers.

    Compared as the planner compares them (``normalize_family``: case, spaces and
    underscores ignored); Azure ``lowPriorityCores`` is what every Azure spot pool
    draws on, so it always matches. Such a quota is still imported (it is the
    account's truth) but the planner will never apply it, which the user should know.
    """
    from planner.catalog.quotafamily import AZURE_SPOT_FAMILY, normalize_family

    known = {(cloud, normalize_family(family)) for cloud, family in families}
    known.add(("azure", normalize_family(AZURE_SPOT_FAMILY)))
    return [q for q in quotas if (q.cloud, normalize_family(q.family)) not in known]


def quotas_document(quotas: Iterable[Quota]) -> dict[str, list[dict[str, Any]]]:
    """``{"quotas": [...]}``, each entry in the spec's field order."""
    return {"quotas": [{"cloud": q.cloud, "region": q.region, "family": q.family,
                        "capacity": q.capacity, "limit": q.limit} for q in quotas]}
