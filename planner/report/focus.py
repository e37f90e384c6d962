"""The plan as a FOCUS 1.2 cost *forecast*: CSV, one row per placement and charge period.

FOCUS (the FinOps Open Cost and Usage Specification, v1.2) describes billing
data; a plan is a forecast of it, so every row says so: ``x_Forecast`` is
``true``, ``ChargeDescription`` starts with "Forecast:", and the ``Tags`` carry
``gpuplan.io/forecast``. A charge period is one calendar month (``--period
2027-01`` or ``2027-01..2027-03``); each month gets the plan's monthly figures
(at its ``hours_per_month``), so a month's ``EffectiveCost`` sums to the plan's
``totals.monthly``.

Rows, per month:

* one ``Usage`` row per placement: its node-hours on its pool
  (``PricingQuantity`` = nodes x node share x hours running, rework after
  spot interruptions included; ``PricingUnit`` ``Hours``);
* one ``Usage`` row per placement that moves its data set to another region
  (``Networking``, ``PricingUnit`` ``GB``);
* one ``Usage`` row per pool whose cost exceeds its placements' (idle
  capacity on shared nodes, when the plan prices it so).

Money is USD. ``BilledCost`` = ``EffectiveCost`` = ``ContractedCost`` = the
plan's cost after negotiated discounts (no commitments are modelled);
``ListCost`` is the same before discounts. Unit prices are cost / quantity to
10 decimal places, so unit price x quantity matches the cost to 1e-6.
``PricingCategory`` is ``Dynamic`` for spot (interruptible), else ``Standard``.

Placeholders, where FOCUS wants a value the plan cannot know (documented,
never guessed): ``BillingAccountId`` = ``gpuplan-forecast:<cloud>``; provider,
publisher and invoice issuer = the cloud's name (``Existing cluster`` for a
declared Kubernetes cluster). Null columns are empty fields. Custom columns
follow the FOCUS ones: ``x_Forecast``, ``x_PlanId`` (the first 16 hex digits of
the SHA-256 of the canonical plan.json), ``x_Team``, ``x_Pool``, ``x_Workload``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from planner.errors import UsageError
from planner.plan import Placement, Plan, Pool, dumps_plan

FOCUS_VERSION = "1.2"
ZERO = Decimal(0)
UNIT_PRICE = Decimal("1E-10")
QUANTITY = Decimal("1E-6")

# FOCUS 1.2 columns this export fills (or leaves null), in alphabetical order, then ours.
FOCUS_COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice",
    "PricingCategory", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
    "ServiceName", "ServiceSubcategory", "SkuId", "SubAccountId", "SubAccountName", "Tags",
)
CUSTOM_COLUMNS = ("x_Forecast", "x_PlanId", "x_Team", "x_Pool", "x_Workload")
COLUMNS = FOCUS_COLUMNS + CUSTOM_COLUMNS

PROVIDERS = {"aws": "Amazon Web Services", "gcp": "Google Cloud", "azure": "Microsoft Azure",
             "k8s": "Existing cluster", "onprem": "Existing cluster"}
SERVICES = {"aws": "Amazon Elastic Compute Cloud", "gcp": "Compute Engine",
            "azure": "Virtual Machines", "k8s": "Kubernetes cluster",
            "onprem": "Kubernetes cluster"}


@dataclass(frozen=True)
class Month:
    """One charge period: ``start`` inclusive, ``end`` exclusive, ISO 8601 UTC."""

    start: str
    end: str


def parse_period(text: str) -> tuple[Month, ...]:
    """``2027-01`` or ``2027-01..2027-03`` (inclusive, at most 120 months) as months."""
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:\.\.(\d{4})-(\d{2}))?", text.strip())
    if not match:
        raise UsageError(f"expected YYYY-MM or YYYY-MM..YYYY-MM, got {text!r}", field="--period")
    y0, m0 = int(match[1]), int(match[2])
    y1, m1 = (int(match[3]), int(match[4])) if match[3] else (y0, m0)
    if not (1 <= m0 <= 12 and 1 <= m1 <= 12):
        raise UsageError(f"no such month in {text!r}", field="--period")
    first, last = y0 * 12 + m0 - 1, y1 * 12 + m1 - 1
    if last < first or last - first >= 120:
        raise UsageError(f"{text!r}: the range must run forward, at most 120 months",
                         field="--period")
    return tuple(Month(_stamp(i), _stamp(i + 1)) for i in range(first, last + 1))


def _stamp(month_index: int) -> str:
    year, month = divmod(month_index, 12)
    return f"{year:04d}-{month + 1:02d}-01T00:00:00Z"


def plan_id(plan: Plan) -> str:
    """The first 16 hex digits of the SHA-256 of the canonical plan.json."""
    return hashlib.sha256(dumps_plan(plan).encode()).hexdigest()[:16]


def decimal_text(value: Decimal) -> str:
    """FOCUS numeric format: plain decimal, no exponent, no sign for positives."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def unit_price(cost: Decimal, quantity: Decimal) -> Decimal:
    return (cost / quantity).quantize(UNIT_PRICE) if quantity else ZERO


def focus_rows(plan: Plan, months: Sequence[Month]) -> Iterator[dict[str, str]]:
    """Every row of the export, month by month, then by workload and pool."""
    pid = plan_id(plan)
    pools = {p.id: p for p in plan.pools}
    sizes = _data_sizes(plan.spec)
    for month in months:
        for p in sorted(plan.placements, key=lambda p: p.workload):
            yield _usage_row(plan, pid, month, p, pools[p.pool])
            if p.cost.egress:
                yield _egress_row(pid, month, p, pools[p.pool], sizes.get(p.workload))
        for pool, idle in _idle(plan):
            yield _idle_row(pid, month, pool, idle, _discount(plan.spec, pool.cloud))


def focus_csv(plan: Plan, months: Sequence[Month]) -> str:
    """The export as CSV text (header first, ``\\n`` line ends, null = empty field)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(focus_rows(plan, months))
    return out.getvalue()


def _data_sizes(spec: dict[str, Any]) -> dict[str, Decimal]:
    """GB each workload moves, from the plan's own declaration (``spec``)."""
    data = spec.get("data") or {}
    out = {}
    for w in spec.get("workloads") or []:
        if isinstance(w, dict) and isinstance(data.get(w.get("data")), dict):
            size = data[w["data"]].get("size_gb")
            if size is not None:
                out[w["name"]] = Decimal(repr(float(size)))
    return out


def _discount(spec: dict[str, Any], cloud: str) -> Decimal:
    """The declared price multiplier of ``cloud`` (1 = none), from the plan's own spec."""
    discounts = (spec.get("pricing") or {}).get("discounts") or {}
    return Decimal(str(discounts.get(cloud, 1)))


def _idle(plan: Plan) -> list[tuple[Pool, Decimal]]:
    placed: dict[str, Decimal] = defaultdict(Decimal)
    for p in plan.placements:
        placed[p.pool] += p.monthly
    return [(pool, pool.monthly - placed[pool.id]) for pool in plan.pools
            if pool.monthly > placed[pool.id]]


def _base(pid: str, month: Month, pool: Pool, team: str | None, workload: str | None,
          tags: dict[str, str]) -> dict[str, str]:
    provider = PROVIDERS[pool.cloud]
    return {
        "AvailabilityZone": pool.zone or "", "BillingAccountId": f"gpuplan-forecast:{pool.cloud}",
        "BillingAccountName": "", "BillingCurrency": "USD",
        "BillingPeriodStart": month.start, "BillingPeriodEnd": month.end,
        "ChargePeriodStart": month.start, "ChargePeriodEnd": month.end,
        "ChargeCategory": "Usage", "ChargeClass": "", "ChargeFrequency": "Usage-Based",
        "InvoiceIssuerName": provider, "ProviderName": provider, "PublisherName": provider,
        "RegionId": pool.region, "RegionName": pool.region,
        "SubAccountId": "", "SubAccountName": "",
        "Tags": json.dumps({"gpuplan.io/forecast": "true", "gpuplan.io/plan": pid, **tags},
                           sort_keys=True, separators=(",", ":")),
        "x_Forecast": "true", "x_PlanId": pid, "x_Team": team or "", "x_Pool": pool.id,
        "x_Workload": workload or "",
    }


def _money_columns(quantity: Decimal, unit: str, cost: Decimal, list_cost: Decimal,
                   consumed: bool = True) -> dict[str, str]:
    return {
        "PricingQuantity": decimal_text(quantity), "PricingUnit": unit,
        "ConsumedQuantity": decimal_text(quantity) if consumed else "",
        "ConsumedUnit": unit if consumed else "",
        "BilledCost": decimal_text(cost), "EffectiveCost": decimal_text(cost),
        "ContractedCost": decimal_text(cost), "ContractedUnitPrice":
            decimal_text(unit_price(cost, quantity)),
        "ListCost": decimal_text(list_cost),
        "ListUnitPrice": decimal_text(unit_price(list_cost, quantity)),
    }


def _compute_columns(pool: Pool) -> dict[str, str]:
    return {
        "PricingCategory": "Dynamic" if pool.capacity == "spot" else "Standard",
        "ResourceId": pool.id, "ResourceName": pool.id, "ResourceType": "Node pool",
        "ServiceCategory": "Compute", "ServiceName": SERVICES[pool.cloud],
        "ServiceSubcategory": "Containers" if pool.cloud in ("k8s", "onprem")
        else "Virtual Machines",
        "SkuId": f"{pool.cloud}/{pool.region}/{pool.instance_type}",
    }


def _usage_row(plan: Plan, pid: str, month: Month, p: Placement, pool: Pool) -> dict[str, str]:
    """The placement's node-hours this month, at the plan's price after discounts."""
    runs = Decimal(repr(p.runs_per_month))
    usage = p.monthly - p.cost.egress * runs
    # hours running this month: from the cost (spot rework included); at a $0 rate, the run
    hours = usage / p.hourly if p.hourly > 0 else Decimal(repr(p.runtime_hours)) * runs
    quantity = (Decimal(repr(p.nodes * p.node_share)) * hours).quantize(QUANTITY)
    paid = p.cost.compute + p.cost.discount
    list_cost = (usage * p.cost.compute / paid).quantize(UNIT_PRICE) if paid else usage
    spot = " spot" if p.capacity == "spot" else ""
    description = (f"Forecast: {p.workload} on {p.nodes} x {pool.instance_type}{spot} "
                   f"({decimal_text(Decimal(repr(p.node_share)))} of each node) in "
                   f"{pool.cloud}/{pool.region}")
    tags = {"gpuplan.io/team": p.team, "gpuplan.io/pool": pool.id,
            "gpuplan.io/workload": p.workload}
    return {**_base(pid, month, pool, p.team, p.workload, tags), **_compute_columns(pool),
            **_money_columns(quantity, "Hours", usage, list_cost),
            "ChargeDescription": description}


def _egress_row(pid: str, month: Month, p: Placement, pool: Pool,
                size_gb: Decimal | None) -> dict[str, str]:
    """Moving the placement's data set to its region, each run this month."""
    runs = Decimal(repr(p.runs_per_month))
    cost = p.cost.egress * runs
    quantity, unit = ((size_gb * runs).quantize(QUANTITY), "GB") if size_gb else (runs, "Transfers")
    tags = {"gpuplan.io/team": p.team, "gpuplan.io/pool": pool.id,
            "gpuplan.io/workload": p.workload}
    return {**_base(pid, month, pool, p.team, p.workload, tags),
            **_money_columns(quantity, unit, cost, cost),
            "PricingCategory": "Standard", "ResourceId": "", "ResourceName": "",
            "ResourceType": "", "ServiceCategory": "Networking",
            "ServiceName": "Data transfer", "ServiceSubcategory": "Network Connectivity",
            "SkuId": f"{pool.cloud}/data-transfer", "ChargeDescription":
                f"Forecast: moving the data of {p.workload} to {pool.cloud}/{pool.region}"}


def _idle_row(pid: str, month: Month, pool: Pool, idle: Decimal,
              discount: Decimal) -> dict[str, str]:
    """The pool's cost beyond its placements: idle capacity on its nodes (node-hours)."""
    team = pool.teams[0] if len(pool.teams) == 1 else None
    hours = idle / pool.node_hourly if pool.node_hourly else ZERO
    list_cost = (idle / discount).quantize(UNIT_PRICE) if discount else idle
    tags = {"gpuplan.io/pool": pool.id, "gpuplan.io/teams": ",".join(pool.teams)}
    return {**_base(pid, month, pool, team, None, tags), **_compute_columns(pool),
            **_money_columns(hours.quantize(QUANTITY), "Hours", idle, list_cost),
            "ChargeDescription": f"Forecast: idle capacity on the nodes of pool {pool.id}"}
