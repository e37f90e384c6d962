"""Re-planning against a base plan: where each workload is now, and what a move costs.

With ``planner plan --base plan.json`` keeping a workload in the pool the base
plan gave it is free, and every other option of that workload carries a
**move price** in the solver's objective, in USD, charged once against one
month of savings:

    move price = move cost + min saving
    move cost  = restart_hours x hourly(o)           (move_cost: restart)
               | the declared amount                 (move_cost: $95)
    min saving = pct / 100 x monthly(base option)    (min_saving: "5%")
               | the declared amount                 (min_saving: "$200")

``hourly(o)`` is the job's $/h on its new option (all its nodes, after
discounts): the work redone after checkpoint, reschedule and warm-up;
``monthly(base option)`` is what staying costs at today's prices. A move
therefore happens only where it saves more per month than it costs plus the
minimum saving; a workload whose base pool is no longer one of its options
(offer gone, region denied, deadline) moves without a price, since every
option is a move. ``pinned`` workloads keep only their base option when it
is still there.

A move must pay for itself. The MILP's objective is the whole plan's cost, so
without more a set of moves could together close a node (moves saving $0
each) or fill a node's idle: many small moves whose own savings do not clear
their price, a diff nobody asked for. So a move whose own saving (monthly of
the base option minus monthly of the new one) is below its price is charged
an **unpaid-move surcharge** on top: the monthly cost of every node the
workload occupies at its base pool (node $/h x its nodes x hours a month),
more than moving it alone can save anywhere (it frees at most those nodes).
Such a move is then taken only where staying is impossible (a quota cut or a
capacity change leaves no room): the unplaced penalty is larger still. The plan
reports the move's price, never the surcharge.

Ties break toward the base: among options of equal cost the workload's own
base pool comes first, then pools the base plan opened (so existing pools
keep their instance type and zone), then the usual order
(:func:`planner.optimize.candidates.option_order`).

A base plan must be a plan of this planner's version or older, made on a
catalog of the same source (the same offers and pool ids; a newer date of
that source is a price refresh, which is what re-planning is for).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from planner.catalog.model import Catalog
from planner.errors import PlanFileError
from planner.plan import Plan
from planner.spec.model import StabilityPolicy, Workload, parse_saving


@dataclass(frozen=True)
class Base:
    """What the optimizer needs of a base plan."""

    pool_of: dict[str, str]  # placed workload -> pool id
    monthly_of: dict[str, Decimal]  # placed workload -> its monthly cost in the base plan
    pools: frozenset[str]  # every pool the base plan opened
    workloads: frozenset[str]  # every workload the base plan names, placed or not

    def rank(self, workload: str, pool: str) -> int:
        """0: the workload's own base pool; 1: another pool of the base; 2: new."""
        if self.pool_of.get(workload) == pool:
            return 0
        return 1 if pool in self.pools else 2


def base_from_plan(plan: Plan) -> Base:
    return Base(
        pool_of={p.workload: p.pool for p in plan.placements},
        monthly_of={p.workload: p.monthly for p in plan.placements},
        pools=frozenset(p.id for p in plan.pools),
        workloads=frozenset([p.workload for p in plan.placements]
                            + [u.workload for u in plan.unplaced]),
    )


def check_base(plan: Plan, catalog: Catalog, label: str) -> None:
    """Refuse a base plan made on another catalog (one line naming the file and field)."""
    if plan.catalog.source != catalog.meta.source:
        raise PlanFileError(
            f"base plan was made on another catalog ({plan.catalog.source!r}; this run uses "
            f"{catalog.meta.source!r}): its pools cannot be compared", file=label,
            field="catalog.source")


@dataclass(frozen=True)
class MoveRule:
    """One workload's stability policy, resolved from the set's and its own overrides."""

    pinned: bool
    restart_hours: float | None  # None: a fixed move cost
    fixed_cost: float
    saving_kind: str  # "pct" | "usd"
    saving_value: float

    def charge(self, hourly: float, monthly: float, stay: StayCost) -> tuple[float, float]:
        """(price, objective charge) of a move to an option of ``hourly`` $/h and
        ``monthly`` $/month: the charge adds the unpaid-move surcharge when the move's
        own saving is below its price (see the module doc)."""
        price = self.price(hourly, stay.monthly)
        unpaid = stay.monthly - monthly < price - 1e-9
        return price, price + (stay.surcharge if unpaid else 0.0)

    def price(self, hourly: float, base_monthly: float) -> float:
        """USD a move to an option of ``hourly`` $/h costs, staying costing ``base_monthly``."""
        cost = self.fixed_cost if self.restart_hours is None else self.restart_hours * hourly
        saving = (self.saving_value / 100.0 * base_monthly if self.saving_kind == "pct"
                  else self.saving_value)
        return cost + saving


@dataclass(frozen=True)
class StayCost:
    """What staying costs a workload: its base option's $/month, and the surcharge of an
    unpaid move (the monthly cost of the nodes it occupies there)."""

    monthly: float
    surcharge: float


def move_rule(policy: StabilityPolicy, w: Workload) -> MoveRule:
    own = w.stability
    move_cost = own.move_cost if own is not None and own.move_cost is not None else policy.move_cost
    hours = own.restart_hours if own is not None and own.restart_hours is not None else (
        policy.restart_hours)
    saving = own.min_saving if own is not None and own.min_saving is not None else (
        policy.min_saving)
    kind, value = parse_saving(saving)
    restart = move_cost == "restart"
    return MoveRule(
        pinned=bool(own is not None and own.pinned),
        restart_hours=hours if restart else None,
        fixed_cost=0.0 if restart else float(move_cost),
        saving_kind=kind, saving_value=float(value),
    )
