"""Expected cost of running one workload on one offer, with its parts.

For workload ``w`` on offer ``o`` with capacity type ``c`` (on-demand/spot):

    runtime(o)   = work hours scaled by accelerator throughput (planner.optimize.runtime), h
    hourly       = nodes x share x price_c(o) x discount(cloud)                , $/h
    compute      = nodes x share x price_c(o) x runtime                        , $ (list)
    discount     = -(1 - discount(cloud)) x compute                            , $ (<= 0)
    spot_risk    = E[interruptions] x rework_hours x hourly                    , $
    egress       = data size x $/GB(data place -> o's place)                   , $
    total        = compute + discount + spot_risk + egress                     , $ per run

``share`` is the fraction of a node a job node uses (1 for whole nodes,
e.g. 1/8 for one GPU of an 8-GPU node). Spot risk: interruptions arrive at
``rate`` per node-hour, any node's interruption restarts the job from its
last checkpoint, so E[interruptions] = rate x nodes x runtime, and each costs
``checkpoint_interval / 2 + restart_overhead`` hours of rework on all nodes.

Interruption rates (per node-hour): AWS from the Spot Instance Advisor
bucket of the instance type and region (bucket b's monthly frequency
f = <5%, 5-10%, 10-15%, 15-20%, >20% -> midpoints 2.5%, 7.5%, 12.5%, 17.5%,
25%; rate = -ln(1 - f) / 730 h). Where no bucket is known: a documented
per-cloud default, ``DEFAULT_INTERRUPTION_RATE`` (GPU spot capacity is
reclaimed far more often than the fleet-wide advisor average; 0.02/h is one
interruption per ~50 node-hours), overridable in ``pricing.spot``.

Egress $/GB (list prices, first tier): within one cloud across regions AWS
0.02, GCP 0.02, Azure 0.02; out of a cloud to the internet (another cloud or
an on-prem cluster) AWS 0.09, GCP 0.12, Azure 0.087. Same region: free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from planner.catalog.model import Offer
from planner.spec.model import DataSet, Pricing

HOURS_PER_MONTH = 730.0
BUCKET_MONTHLY_FREQUENCY = (0.025, 0.075, 0.125, 0.175, 0.25)
DEFAULT_INTERRUPTION_RATE = {"aws": 0.02, "gcp": 0.02, "azure": 0.02}
INTER_REGION_EGRESS = {"aws": Decimal("0.02"), "gcp": Decimal("0.02"), "azure": Decimal("0.02")}
INTERNET_EGRESS = {"aws": Decimal("0.09"), "gcp": Decimal("0.12"), "azure": Decimal("0.087")}


@dataclass(frozen=True, slots=True)
class CostParts:
    """One run's expected cost in USD; ``hourly`` is $/h while running after discount."""

    compute: Decimal
    spot_risk: Decimal
    egress: Decimal
    discount: Decimal
    total: Decimal
    hourly: Decimal
    rework_hours: float


def interruption_rate(offer: Offer, pricing: Pricing) -> float:
    """Expected interruptions per node-hour of a spot node of ``offer``."""
    override = pricing.spot.interruption_rates_per_hour.get(offer.cloud)  # type: ignore[call-overload]
    if override is not None:
        return override
    if offer.interruption_bucket is not None and 0 <= offer.interruption_bucket < 5:
        freq = BUCKET_MONTHLY_FREQUENCY[offer.interruption_bucket]
        return -math.log(1.0 - freq) / HOURS_PER_MONTH
    return DEFAULT_INTERRUPTION_RATE.get(offer.cloud, 0.0)


def expected_rework_hours(offer: Offer, nodes: int, runtime: float, pricing: Pricing) -> float:
    """Hours of work redone after interruptions, expected, for a spot run."""
    per_interruption = pricing.spot.checkpoint_interval_hours / 2 + pricing.spot.restart_overhead_hours
    return interruption_rate(offer, pricing) * nodes * runtime * per_interruption


def egress_per_gb(data: DataSet, offer: Offer) -> Decimal:
    """$/GB to move ``data`` to where ``offer`` runs."""
    if data.cloud == offer.cloud:
        return Decimal(0) if data.region == offer.region else INTER_REGION_EGRESS[data.cloud]
    return INTERNET_EGRESS[data.cloud]


def discount_factor(offer: Offer, pricing: Pricing) -> Decimal:
    """Multiplier on list price from negotiated discounts (1 = none)."""
    return pricing.discounts.get(offer.cloud, Decimal(1))  # type: ignore[call-overload]


def run_cost(offer: Offer, spot: bool, nodes: int, share: float, runtime: float,
             pricing: Pricing, data: DataSet | None) -> CostParts:
    """Expected cost of one run; see the module docstring for the formula."""
    price = offer.spot_price if spot and offer.spot_price is not None else offer.price
    node_hours = Decimal(repr(nodes * share))
    list_hourly = node_hours * price
    factor = discount_factor(offer, pricing)
    hours = Decimal(repr(runtime))
    compute = list_hourly * hours
    discount = (factor - 1) * compute
    hourly = list_hourly * factor
    rework = expected_rework_hours(offer, nodes, runtime, pricing) if spot else 0.0
    spot_risk = hourly * Decimal(repr(rework))
    egress = Decimal(0)
    if data is not None:
        egress = Decimal(repr(data.size_gb)) * egress_per_gb(data, offer)
    total = compute + discount + spot_risk + egress
    return CostParts(compute, spot_risk, egress, discount, total, hourly, rework)
