"""Re-planning against a base plan: a one-line change gives a one-line diff (issue 14)."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings

from planner.catalog.model import Catalog, Offer
from planner.optimize.planning import plan_workloads
from planner.optimize.stability import MoveRule, StayCost
from planner.plan import Plan, dumps_plan
from planner.spec.load import parse_workloads
from tests.optimize.test_planner_properties import workload_sets
from tests.scaleset import synthetic
from tests.synthetic import job, small_catalog, workload_set
from tests.underload import plans_under_load

NEW_L4_JOB = {"name": "zz-new", "team": "team-00", "kind": "training", "priority": 100,
              "resources": {"accelerators": "L4:1", "use_spot": False},
              "work": {"duration_hours": 10}}


def _moved(base: Plan, new: Plan) -> list[str]:
    """Workloads placed on both sides whose pool changed."""
    before = {p.workload: p.pool for p in base.placements}
    return sorted(p.workload for p in new.placements
                  if p.workload in before and before[p.workload] != p.pool)


def _plan(data: dict[str, Any], catalog, base: Plan | None = None) -> Plan:  # type: ignore[no-untyped-def]
    return plan_workloads(parse_workloads(yaml.safe_dump(data), "workloads.yaml", catalog),
                          catalog, base=base)


def test_one_added_job_moves_no_other_workload_with_a_base(full_catalog) -> None:  # type: ignore[no-untyped-def]
    """plan_scale's 200-workload set (seed 7, shared catalog) plus one L4:1 job.

    Planned afresh, the new set moves other workloads: the issue's "9 unrelated moves"
    (19 when measured on stab2 f5cde81: 13 A100 jobs swapped between equal-priced
    8-GPU spot nodes in azure eastus and westus2, 5 small A100 jobs repacked onto
    shared 8-GPU nodes, 1 A100:1 job from europe-west4 to asia-southeast1; the count
    follows the search's stop rule, so the test only asks for some). Against the base
    plan, none."""
    data = synthetic(200)
    bigger = copy.deepcopy(data)
    bigger["workloads"].append(dict(NEW_L4_JOB))
    base = _plan(data, full_catalog)
    fresh = _plan(bigger, full_catalog)
    anchored = _plan(bigger, full_catalog, base=base)
    assert _moved(base, fresh), "the unanchored re-plan no longer moves anything: pick a set that does"
    assert _moved(base, anchored) == []
    assert anchored.placement("zz-new") is not None
    assert anchored.stability is not None and anchored.stability.moves == ()
    assert [p.workload for p in anchored.placements if p.workload != "zz-new"] == \
        [p.workload for p in base.placements]


def test_removed_job_moves_nothing_and_is_named(full_catalog) -> None:  # type: ignore[no-untyped-def]
    """plan_scale's 200-workload set without w00017, against the plan that had it.

    Under a strict policy (a move must save $50/month) nothing moves. Under the
    default (5 % of the job's cost plus half an hour of it) a move into the room
    w00017 leaves is allowed where it pays for itself on its own; a group of moves
    that only together close or fill a node is not (the unpaid-move surcharge of
    planner.optimize.stability). Measured: no move at all either way (before the
    surcharge, 6 jobs moved into the freed node and one more left a 16-GPU node
    those moves emptied, at a saving of -$5.62 against a price of $13.33)."""
    data = synthetic(200)
    smaller = copy.deepcopy(data)
    gone = smaller["workloads"].pop(17)["name"]
    base = _plan(data, full_catalog)
    freed = base.placement(gone)
    assert freed is not None
    strict = copy.deepcopy(smaller)
    strict["stability"] = {"min_saving": "$50"}
    anchored = _plan(strict, full_catalog, base=base)
    assert _moved(base, anchored) == []
    assert anchored.stability is not None and anchored.stability.missing == (gone,)
    default = _plan(smaller, full_catalog, base=base)
    assert default.stability is not None
    moves = default.stability.moves
    assert {m.workload for m in moves} == set(_moved(base, default))
    assert all(m.forced or m.saving >= m.move_price for m in moves), moves
    assert {m.to_pool for m in moves} <= {p.id for p in base.pools}
    assert freed.pool in {p.id for p in base.pools}


def test_a_move_that_does_not_pay_for_itself_is_surcharged() -> None:
    """The charge is the policy's price; below it, the surcharge (the stay's node-month)
    comes on top, so only a move that saves its price on its own is ever worth it."""
    rule = MoveRule(pinned=False, restart_hours=0.5, fixed_cost=0.0, saving_kind="pct",
                    saving_value=5.0)
    stay = StayCost(monthly=100.0, surcharge=2920.0)
    price, charge = rule.charge(hourly=2.0, monthly=80.0, stay=stay)
    assert (price, charge) == (6.0, 6.0)  # saves $20 > $1 restart + $5 min saving
    price, charge = rule.charge(hourly=2.0, monthly=95.0, stay=stay)
    assert (price, charge) == (6.0, 2926.0)  # saves $5 < $6
    price, charge = rule.charge(hourly=2.0, monthly=100.0, stay=stay)
    assert charge == 2926.0  # an equal-price move (a node closed by a group) saves nothing


def test_same_bytes_on_a_busy_machine(full_catalog, skypilot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The 1,000-workload set planned twice, in this process and in another one while a
    third keeps a core busy (both at once, so the machine is loaded): identical plan.json
    bytes (the search stops on work, not time)."""
    data = synthetic(1000)
    first, second = plans_under_load(data, skypilot_dir,
                                     lambda: dumps_plan(_plan(data, full_catalog)))
    assert second == first
    assert '"cut_by_time_limit": false' in first


def repriced(catalog: Catalog, region: str, factor: Decimal) -> Catalog:
    """``catalog`` with every on-demand price in ``region`` times ``factor`` (same source)."""
    offers = [o if o.region != region else Offer(
        o.cloud, o.region, o.zone, o.instance_type, o.accelerator, o.accelerator_count,
        o.accelerator_memory_gib, o.vcpus, o.memory_gib, o.price * factor, o.spot_price,
        o.quota_family, o.interruption_bucket, o.arch) for o in catalog.offers]
    return Catalog(catalog.meta, tuple(offers))


def _quota_set() -> dict[str, Any]:
    gcp = {"cloud": "gcp"}
    return {"workloads": [job("a", "A100:8", priority=2, resources=gcp),
                          job("b", "A100:8", priority=1, resources=gcp), job("c", "T4:1")],
            "quotas": [{"cloud": "gcp", "region": "us-central1", "family": "NVIDIA_A100_GPUS",
                        "limit": 16}]}


def _small(spec: dict[str, Any], base: Plan | None = None) -> Plan:
    ws = workload_set([dict(w) for w in spec["workloads"]], **{k: v for k, v in spec.items()
                                                               if k != "workloads"})
    return plan_workloads(ws, small_catalog(), time_limit=10, base=base)


def test_price_cut_moves_only_when_the_saving_clears_the_price() -> None:
    """A 10 % cheaper region: with min_saving 5 % the job moves; with 20 % it is kept, and
    the plan says what staying gives up."""
    spec = {"workloads": [job("a", "A100:8", resources={"cloud": "gcp"})]}
    base = _small(spec)
    assert base.placements[0].region == "us-central1"
    cut = repriced(small_catalog(), "us-east1", Decimal("0.85"))

    def replan(min_saving: str) -> Plan:
        ws = workload_set([dict(w) for w in spec["workloads"]],
                          stability={"min_saving": min_saving})
        return plan_workloads(ws, cut, time_limit=10, base=base)

    moved, kept = replan("5%"), replan("20%")
    assert moved.placements[0].region == "us-east1"
    assert moved.stability is not None and moved.stability.moves[0].saving > 0
    assert kept.placements[0].region == "us-central1"
    assert kept.stability is not None
    [k] = kept.stability.kept
    assert (k.workload, k.alternative_region) == ("a", "us-east1")
    assert Decimal(0) < k.saving < k.move_price


def test_quota_cut_moves_only_what_no_longer_fits() -> None:
    spec = _quota_set()
    base = _small(spec)
    assert {p.region for p in base.placements if p.accelerator == "A100"} == {"us-central1"}
    cut = copy.deepcopy(spec)
    cut["quotas"][0]["limit"] = 8
    new = _small(cut, base=base)
    assert _moved(base, new) == ["b"]  # the lower priority of the two leaves; c stays
    assert new.stability is not None and new.stability.moves[0].workload == "b"
    assert new.stability.moves[0].forced  # staying breaks the cut quota
    # without the cut, a move the plan makes by choice is not forced
    price_cut = plan_workloads(workload_set([dict(w) for w in spec["workloads"]],
                                            quotas=spec["quotas"]),
                               repriced(small_catalog(), "us-east1", Decimal("0.5")),
                               time_limit=10, base=base)
    assert price_cut.stability is not None and price_cut.stability.moves
    assert not any(m.forced for m in price_cut.stability.moves)


def test_pinned_workload_stays_even_when_a_move_saves() -> None:
    spec = {"workloads": [job("a", "A100:8", resources={"cloud": "gcp"})]}
    base = _small(spec)
    cut = repriced(small_catalog(), "us-east1", Decimal("0.5"))
    pinned = [dict(spec["workloads"][0], stability={"pinned": True})]
    new = plan_workloads(workload_set(pinned), cut, time_limit=10, base=base)
    free = plan_workloads(workload_set([dict(w) for w in spec["workloads"]]), cut,
                          time_limit=10, base=base)
    assert new.placements[0].pool == base.placements[0].pool
    assert free.placements[0].region == "us-east1"


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(workload_sets())
def test_no_change_with_a_base_gives_the_base(spec: dict[str, Any]) -> None:
    """With --base and nothing changed, the plan is the base (same pools, placements,
    totals), and planning against that plan again gives the same bytes (a fixed point)."""
    base = _small(spec)
    again = _small(spec, base=base)
    for key in ("pools", "placements", "unplaced", "totals", "teams"):
        assert getattr(again, key) == getattr(base, key), key
    assert again.stability is not None and again.stability.moves == ()
    assert dumps_plan(_small(spec, base=again)) == dumps_plan(again)
