"""Capacity fallbacks: after the choice, a few ranked, priced places to run instead.

A post-solve step (the MILP never sees it; it runs on the solution). For each
placed workload with a fallback policy (``fallbacks:`` on the workload or its
team, :class:`planner.spec.model.FallbackPolicy`), its other options are walked
cheapest first and up to ``count`` are kept that are

* **within the premium**: monthly cost at most ``(1 + max_premium)`` x the
  choice's monthly cost (a choice at $0, e.g. a sunk-cost cluster, admits only
  $0 fallbacks);
* **somewhere else**: each differs from the choice and from every earlier
  fallback at a scope listed in ``across``. The scope between two options is the
  coarsest level where they differ: ``cloud``, else ``region``, else ``zone``;
  two options in the same zone (or the same zoneless region) never count, since a
  stockout takes the place, not one instance type;
* **the same request**: the job's pods ask for one thing everywhere, so an exclusive
  choice falls back to exclusive pools, a shared one to pools of its sharing mode on its
  cloud (not on AWS, whose autoscalers cannot scale a shared pool up from 0);
* **valid under every constraint of the choice**: region allow/deny, pins, spot
  policy and the deadline hold for every candidate already (they are filtered in
  :mod:`planner.optimize.candidates`); declared quotas and existing-cluster
  capacity must have headroom **if this workload alone moved there** (its
  choice's nodes freed, every other workload as planned). Budgets are not a
  filter: the worst case below is a warning, not a failure.

Candidates are the workload's ranked options (those the solver saw and its ranked
alternatives) and, when ``zone`` is in ``across``, the same instance type in the
other zones of each option's region: candidate generation keeps only the cheapest
zone per region, and another zone of the same type is the classic stockout answer.

Money: a fallback's ``monthly`` comes from the same function that prices the
choice (``monthly_of``, given by the planner: the job's own lines), plus the
whole-node hours it would add to its pool beyond its share (the plan's cost
function, :mod:`planner.plancost`): used alone, a 1-GPU job falling back to an
8-GPU node pays for the node. A premium is ``monthly`` - the choice's monthly, $/month, and
``premium_pct`` that in percent of the choice.

Deploy (components/builders): every fallback pool is a node pool at min 0
nodes (no cost until used), shared where fallbacks coincide, with room for every
workload that lists it (``max_nodes``); Kueue lists the flavors in rank order.

Worst case: the plan's monthly cost with every workload that has fallbacks on its
first one, the rest as planned; a team whose worst case is over its monthly budget
gets a warning in the plan and in the PR comment.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from planner.catalog.model import Catalog, Offer
from planner.optimize.candidates import (
    CandidateBuilder,
    Option,
    WorkloadCandidates,
    _WorkloadView,
)
from planner.optimize.facts import Marginal, Usage, usage
from planner.optimize.solve import Model, Solution, quota_key
from planner.plan import Fallback, Placement, Pool, Totals, WorstCase, money
from planner.spec.model import FallbackPolicy, Workload, WorkloadSet

EPS = 1e-6
Place = tuple[str, str, str | None]
MonthlyOf = Callable[[Workload, Option], Decimal]
SKIPS_NAMED = 2


@dataclass(frozen=True)
class Pick:
    """One chosen fallback: the option, its monthly cost, premium and why it ranks there."""

    option: Option
    monthly: Decimal
    premium: Decimal
    premium_pct: Decimal
    scope: str
    why: str = ""


@dataclass
class Fallbacks:
    """The post-solve result: ranked picks and a note (fewer than asked) per workload."""

    picks: dict[str, tuple[Pick, ...]]
    notes: dict[str, str]

    def __bool__(self) -> bool:
        return bool(self.picks or self.notes)


def place_of(o: Option) -> Place:
    return (o.offer.cloud, o.offer.region, o.offer.zone)


def scope_between(a: Place, b: Place) -> str | None:
    """The coarsest level at which two places differ; None for the same place."""
    if a[0] != b[0]:
        return "cloud"
    if a[1] != b[1]:
        return "region"
    if a[2] is not None and b[2] is not None and a[2] != b[2]:
        return "zone"
    return None


def label(o: Option) -> str:
    return o.offer.key + (" spot" if o.spot else "")


def pct_text(value: Decimal) -> str:
    return f"{value:+.1f}%"


# -- headroom -------------------------------------------------------------------------
class Headroom:
    """Quota and existing-cluster capacity left for one workload moving alone."""

    def __init__(self, model: Model, sol: Solution) -> None:
        self.model = model
        self.sol = sol
        self.use: Usage = usage(model, sol)
        self.marginal = Marginal.of_solution(sol)

    def extra_nodes(self, o: Option) -> int:
        """Nodes ``o``'s pool must add to take ``o`` on top of its planned share."""
        share = self.use.share.get(o.pool_id, 0.0) + o.share
        return max(0, math.ceil(share - 1e-9) - self.sol.nodes.get(o.pool_id, 0))

    def idle_cost(self, o: Option) -> Decimal:
        """$/month of the whole-node hours ``o`` adds beyond its own share (a 1-GPU job
        alone on an 8-GPU node pays for the node), priced by the plan's cost function
        (:class:`planner.optimize.facts.Marginal`) with this workload alone moved there."""
        extra = self.marginal.dollars(o) - o.monthly
        return Decimal(repr(round(extra, 6))) if extra > 1e-9 else Decimal(0)

    def blocked_by(self, chosen: Option, o: Option) -> str | None:
        """The limit id that moving ``chosen``'s workload to ``o`` would exceed, if any."""
        extra = self.extra_nodes(o)
        if extra <= 0:
            return None
        left = max(0.0, self.use.share.get(chosen.pool_id, 0.0) - chosen.share)
        freed = self.sol.nodes.get(chosen.pool_id, 0) - math.ceil(left - 1e-9)
        key = quota_key(o)
        q = self.model.quotas.get(key)
        if q is not None:
            given_back = freed * chosen.units_per_node if quota_key(chosen) == key else 0.0
            if self.use.quota[key] + extra * o.units_per_node - given_back > q.limit + EPS:
                return q.id
        if o.offer.cloud == "k8s":
            cap = self.model.capacities.get(o.offer.region)
            same = chosen.offer.cloud == "k8s" and chosen.offer.region == o.offer.region
            if cap is not None and (self.use.cluster[o.offer.region] + extra
                                    - (freed if same else 0) > cap[0].limit + EPS):
                return cap[0].id
        return None


# -- candidates -------------------------------------------------------------------------
class Siblings:
    """The same instance type in the other zones of a region (index built per accelerator)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._index: dict[str | None, dict[tuple[str, str, str], list[Offer]]] = {}

    def of(self, offer: Offer) -> list[Offer]:
        if offer.zone is None or offer.cloud == "k8s":
            return []
        by_place = self._index.get(offer.accelerator)
        if by_place is None:
            by_place = defaultdict(list)
            for other in self.catalog.offers_for(offer.accelerator):
                if other.zone is not None:
                    by_place[(other.cloud, other.region, other.instance_type)].append(other)
            self._index[offer.accelerator] = by_place
        return [s for s in by_place.get((offer.cloud, offer.region, offer.instance_type), ())
                if s.zone != offer.zone and s.accelerator_count == offer.accelerator_count]


def candidates(ws: WorkloadSet, builder: CandidateBuilder, siblings: Siblings,
               wc: WorkloadCandidates, policy: FallbackPolicy,
               ceiling: float = math.inf) -> list[Option]:
    """Every option worth ranking as a fallback. Zone siblings are added only for options
    whose own cost is under ``ceiling`` (the premium limit): candidate generation kept the
    cheapest zone of each region whose price it trusts, so the other zones cost at least as
    much, and a sibling whose price row is flagged (:mod:`planner.catalog.sanity`) or has no
    spot price is refused as candidate generation refuses it (its capacity reasons)."""
    by_pool: dict[str, Option] = {}
    for o in (*wc.options, *wc.alternatives):
        by_pool.setdefault(o.pool_id, o)
    w = wc.workload
    if "zone" in policy.across and w.resources.zone is None:
        view = _WorkloadView(w, ws)
        for o in [o for o in by_pool.values() if o.monthly <= ceiling]:
            for offer in siblings.of(o.offer):
                if builder._capacity_reasons(w, offer, o.spot, o.variant.share):
                    continue
                variant = replace(o.variant, offer=offer)
                if variant.pool_id in by_pool:
                    continue
                option, _ = builder._option(view, variant)
                if option is not None:
                    by_pool[option.pool_id] = option
    return list(by_pool.values())


class FlavorOrder:
    """Each team's flavor order per cluster, as the workloads' rankings build it.

    A team has one ClusterQueue per cluster, whose flavors Kueue tries in one order
    (components/builders). Every workload's ranking (choice, then fallbacks) must agree
    with it: a fallback that would need pool B before pool A in a team's queue where an
    earlier workload (by name) already put A before B is not offered."""

    def __init__(self, cluster_of: Callable[[Option], str]) -> None:
        self._cluster_of = cluster_of
        self._clusters: dict[str, str] = {}
        self.after: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set))

    def conflict(self, team: str, sequence: Sequence[Option], o: Option) -> str | None:
        cluster = self.cluster_of(o)
        graph = self.after[(team, cluster)]
        for earlier in sequence:
            if self.cluster_of(earlier) == cluster and self._reaches(graph, o.pool_id,
                                                                     earlier.pool_id):
                return (f"team {team}'s queue in {cluster} already tries {earlier.pool_id} "
                        f"after {o.pool_id}")
        return None

    def commit(self, team: str, sequence: Sequence[Option]) -> None:
        """Record ``sequence`` (choice, then fallbacks): each pool before the later ones."""
        for i, a in enumerate(sequence):
            for b in sequence[i + 1:]:
                cluster = self.cluster_of(a)
                if self.cluster_of(b) == cluster and a.pool_id != b.pool_id:
                    self.after[(team, cluster)][a.pool_id].add(b.pool_id)

    def cluster_of(self, o: Option) -> str:
        """The cluster of ``o``'s pool (remembered per pool)."""
        if o.pool_id not in self._clusters:
            self._clusters[o.pool_id] = self._cluster_of(o)
        return self._clusters[o.pool_id]

    @staticmethod
    def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
        stack, seen = [start], {start}
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for nxt in graph.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False


# -- selection -------------------------------------------------------------------------
@dataclass
class _Seen:
    """A candidate the walk looked at: kept, or skipped and why."""

    option: Option
    monthly: Decimal
    reason: str | None


BEYOND_TRIES = 24  # priced candidates over the premium looked at for the note's "beyond"


def select(w: Workload, policy: FallbackPolicy, chosen: Option, chosen_monthly: Decimal,
           ranked: Sequence[Option], headroom: Headroom, monthly_of: MonthlyOf,
           order: FlavorOrder | None = None) -> tuple[tuple[Pick, ...], str | None]:
    """Up to ``policy.count`` fallbacks of ``w`` and a note when there are fewer.

    The walk goes cheapest first by price as a fallback (the option's own cost plus the
    whole-node hours it adds), one valid candidate past the last pick (the runner-up,
    named in the last pick's ``why``). An option's own cost (``Option.monthly``) is a
    lower bound of that price, so candidates are priced lazily, best-first: only those
    the walk reaches cost a pricing. With ``order``, a candidate that would reverse its
    team's flavor order in a cluster (another workload ranks those two pools the other
    way) is skipped."""
    limit = chosen_monthly * (1 + policy.premium_fraction)
    places: list[Place] = [place_of(chosen)]
    sequence: list[Option] = [chosen]
    seen: list[_Seen] = []
    beyond: list[tuple[Decimal, Option]] = []
    kept = 0
    for monthly, o in _by_price(w, chosen, ranked, headroom, monthly_of):
        if monthly > limit:
            beyond.append((monthly, o))
            if _distinct(policy, places, place_of(o)) is None or len(beyond) >= BEYOND_TRIES:
                break
            continue
        reason = (_same_request(chosen, o) or _distinct(policy, places, place_of(o))
                  or _headroom(headroom, chosen, o)
                  or (order.conflict(w.team, sequence, o) if order else None))
        if reason is None and kept == policy.count:
            seen.append(_Seen(o, monthly, None))  # the runner-up
            break
        seen.append(_Seen(o, monthly, reason))
        if reason is None:
            kept += 1
            places.append(place_of(o))
            sequence.append(o)
    over = _cheapest_elsewhere(policy, places, beyond)
    picks = _picks(policy, chosen, chosen_monthly, places, seen, over)
    note = None if len(picks) == policy.count else _note(policy, chosen_monthly, seen, over,
                                                          len(picks))
    return picks, note


def _by_price(w: Workload, chosen: Option, ranked: Sequence[Option], headroom: Headroom,
              monthly_of: MonthlyOf) -> Iterator[tuple[Decimal, Option]]:
    """``ranked`` but the choice, cheapest first by price as a fallback (ties: accelerator
    rank, pool id), each priced only when it may be next: a heap of lower bounds
    (stage 0) and prices (stage 1)."""
    heap: list[tuple[float, int, int, str, int]] = [
        (o.monthly, 0, o.rank, o.pool_id, i) for i, o in enumerate(ranked)
        if o.pool_id != chosen.pool_id]
    heapq.heapify(heap)
    prices: dict[int, Decimal] = {}
    while heap:
        _, stage, rank, pool, i = heapq.heappop(heap)
        o = ranked[i]
        if stage == 0:
            prices[i] = monthly_of(w, o) + headroom.idle_cost(o)
            heapq.heappush(heap, (float(prices[i]), 1, rank, pool, i))
        else:
            yield prices[i], o


def _same_request(chosen: Option, o: Option) -> str | None:
    """A job asks for one thing on every pool it may run on: a shared choice falls back only
    to pools of its sharing mode on its cloud (the slot resource and labels are the
    cloud's); an exclusive choice only to exclusive pools."""
    mode, other = chosen.variant.mode, o.variant.mode
    if mode != other or (mode.shared and o.offer.cloud != chosen.offer.cloud):
        return f"sharing mode {other} where the choice has {mode} on {chosen.offer.cloud}"
    if mode.shared and o.offer.cloud == "aws":
        # EKS autoscalers cannot see slots (see planning._pools): a min-0 shared pool
        # there would never scale up.
        return f"sharing mode {other} on aws cannot scale up from 0 nodes"
    return None


def _cheapest_elsewhere(policy: FallbackPolicy, places: list[Place],
                        beyond: list[tuple[Decimal, Option]]) -> tuple[Option, Decimal] | None:
    """The cheapest option over the premium, in a place the policy would take if any
    (what "the next is over the premium" names)."""
    ordered = sorted(beyond, key=lambda mo: (mo[0], mo[1].rank, mo[1].pool_id))
    pick = next((mo for mo in ordered if _distinct(policy, places, place_of(mo[1])) is None),
                ordered[0] if ordered else None)
    return None if pick is None else (pick[1], pick[0])


def _distinct(policy: FallbackPolicy, places: list[Place], here: Place) -> str | None:
    """Why ``here`` is not somewhere else enough (choice = places[0]), or None."""
    for k, there in enumerate(places):
        scope = scope_between(there, here)
        whose = "the choice" if k == 0 else f"fallback {k}"
        if scope is None:
            return f"same place as {whose}"
        if scope not in policy.across:
            return f"differs from {whose} only by {scope} (across: {', '.join(policy.across)})"
    return None


def _headroom(headroom: Headroom, chosen: Option, o: Option) -> str | None:
    limit = headroom.blocked_by(chosen, o)
    return None if limit is None else f"no headroom in {limit} if it moved there"


def _pct(premium: Decimal, base: Decimal) -> Decimal:
    if base == 0:
        return Decimal("0.00") if premium == 0 else Decimal("100.00")
    return (premium / base * 100).quantize(Decimal("0.01"))


def _picks(policy: FallbackPolicy, chosen: Option, chosen_monthly: Decimal, places: list[Place],
           seen: list[_Seen], over: tuple[Option, Decimal] | None) -> tuple[Pick, ...]:
    valid = [i for i, s in enumerate(seen) if s.reason is None]
    picks = []
    for rank, i in enumerate(valid[:policy.count], start=1):
        s = seen[i]
        start = valid[rank - 2] + 1 if rank > 1 else 0
        skipped = [x for x in seen[start:i] if x.reason is not None]
        nxt = seen[valid[rank]] if rank < len(valid) else None
        premium = s.monthly - chosen_monthly
        pct = _pct(premium, chosen_monthly)
        scope = scope_between(places[0], place_of(s.option)) or "zone"
        why = _why(policy, rank, scope, pct, skipped, nxt, chosen_monthly, over)
        picks.append(Pick(s.option, s.monthly, premium, pct, scope, why))
    return tuple(picks)


def _why(policy: FallbackPolicy, rank: int, scope: str, pct: Decimal, skipped: list[_Seen],
         nxt: _Seen | None, base: Decimal, over: tuple[Option, Decimal] | None) -> str:
    order = "cheapest" if rank == 1 else "next cheapest"
    text = f"{order} option in another {scope}, {pct_text(pct)} over the choice"
    if skipped:
        named = "; ".join(f"{label(x.option)}: {x.reason}" for x in skipped[:SKIPS_NAMED])
        more = f" and {len(skipped) - SKIPS_NAMED} more" if len(skipped) > SKIPS_NAMED else ""
        text += f"; {len(skipped)} cheaper skipped ({named}{more})"
    if nxt is not None:
        text += f"; ahead of {label(nxt.option)} at {pct_text(_pct(nxt.monthly - base, base))}"
    elif over is not None:
        text += (f"; the next, {label(over[0])} at {pct_text(_pct(over[1] - base, base))}, is "
                 f"over the {policy.max_premium} premium")
    else:
        text += "; no other option after it"
    return text


def _note(policy: FallbackPolicy, base: Decimal, seen: list[_Seen],
          over: tuple[Option, Decimal] | None, found: int) -> str:
    head = (f"no fallback within {policy.max_premium}" if found == 0 else
            f"{found} of {policy.count} fallbacks within {policy.max_premium}")
    skipped = Counter(_reason_kind(s.reason) for s in seen if s.reason is not None)
    parts = [f"{n} excluded: {kind}" for kind, n in sorted(skipped.items())]
    if over is not None:
        parts.append(f"the cheapest beyond is {label(over[0])} at "
                     f"{pct_text(_pct(over[1] - base, base))}")
    elif not seen:
        parts.append("the workload has no other option")
    else:
        parts.append("no other option is left")
    return head + ": " + "; ".join(parts)


def _reason_kind(reason: str) -> str:
    """A skip reason without the rank it names, for counting (``same place as ...``)."""
    if reason.startswith("no headroom in "):
        return reason
    if reason.startswith("same place"):
        return "same place as the choice or an earlier fallback"
    if reason.startswith("sharing mode "):
        return "another sharing mode than the choice's"
    if reason.startswith("team "):
        return "would reverse the team's flavor order set by another workload"
    return "differs only at a scope not in across"


# -- the plan -----------------------------------------------------------------------------
def plan_fallbacks(ws: WorkloadSet, builder: CandidateBuilder, catalog: Catalog,
                   cands: Iterable[WorkloadCandidates], model: Model, sol: Solution,
                   monthly_of: MonthlyOf, cluster_of: Callable[[Option], str]) -> Fallbacks:
    """Fallbacks of every placed workload whose policy asks for them, workloads by name
    (services are not queued by Kueue, so they get none and a note saying so)."""
    picks: dict[str, tuple[Pick, ...]] = {}
    notes: dict[str, str] = {}
    headroom: Headroom | None = None
    siblings = Siblings(catalog)
    order = FlavorOrder(cluster_of)
    for wc in sorted(cands, key=lambda wc: wc.workload.name):
        w = wc.workload
        policy = ws.fallback_policy(w)
        chosen = sol.chosen.get(w.name)
        if policy is None or chosen is None:
            continue
        if w.kind == "service":
            notes[w.name] = "services get no fallbacks: Kueue does not queue them"
            continue
        headroom = headroom or Headroom(model, sol)
        chosen_monthly = monthly_of(w, chosen)
        ceiling = float(chosen_monthly * (1 + policy.premium_fraction)) * (1 + 1e-9) + 1e-6
        ranked = candidates(ws, builder, siblings, wc, policy, ceiling)
        found, note = select(w, policy, chosen, chosen_monthly, ranked, headroom, monthly_of,
                             order)
        order.commit(w.team, [chosen, *(pick.option for pick in found)])
        if found:
            picks[w.name] = found
        if note:
            notes[w.name] = note
    return Fallbacks(picks, notes)


def attach(placements: Sequence[Placement], fb: Fallbacks,
           cluster_of: Callable[[Option], str]) -> list[Placement]:
    """The placements with their fallbacks and notes."""
    out = []
    for p in placements:
        found = fb.picks.get(p.workload, ())
        note = fb.notes.get(p.workload)
        if not found and note is None:
            out.append(p)
            continue
        out.append(p.model_copy(update={
            "fallbacks": tuple(_fallback(rank, pick, cluster_of(pick.option))
                               for rank, pick in enumerate(found, start=1)),
            "fallback_note": note,
        }))
    return out


def _fallback(rank: int, pick: Pick, cluster: str) -> Fallback:
    o = pick.option
    return Fallback(
        rank=rank, pool=o.pool_id, cluster=cluster, offer=o.offer.key, cloud=o.offer.cloud,
        region=o.offer.region, zone=o.offer.zone, instance_type=o.offer.instance_type,
        capacity="spot" if o.spot else "on-demand", accelerator=o.offer.accelerator,
        nodes=o.nodes, runtime_hours=round(o.runtime, 4), monthly=money(pick.monthly),
        premium=money(pick.premium), premium_pct=pick.premium_pct,
        scope=pick.scope,
        why=pick.why)


def fallback_pools(pools: Sequence[Pool], placements: Sequence[Placement], fb: Fallbacks,
                   pool_of: Callable[[Option], Pool]) -> list[Pool]:
    """``pools`` with room for the fallbacks, plus a min-0 pool per new fallback place
    (``pool_of``: the planner's empty pool record of an option).

    ``max_nodes`` of a pool = its planned share plus the share of every workload that
    lists it as a fallback, rounded up: all of them can fall back at once."""
    teams = {p.workload: p.team for p in placements}
    extra: dict[str, float] = defaultdict(float)
    users: dict[str, set[str]] = defaultdict(set)
    reps: dict[str, Option] = {}
    for name, found in fb.picks.items():
        for pick in found:
            o = pick.option
            extra[o.pool_id] += o.share
            users[o.pool_id].add(name)
            reps.setdefault(o.pool_id, o)
    primary_share: dict[str, float] = defaultdict(float)
    for p in placements:
        primary_share[p.pool] += p.nodes * p.node_share
    out = []
    for pool in pools:
        if pool.id not in extra:
            out.append(pool)
            continue
        room = math.ceil(primary_share[pool.id] + extra[pool.id] - 1e-9)
        out.append(pool.model_copy(update={
            "max_nodes": max(pool.max_nodes, room),
            "fallback_for": tuple(sorted(users[pool.id])),
            "teams": tuple(sorted(set(pool.teams) | {teams[n] for n in users[pool.id]})),
        }))
    known = {p.id for p in pools}
    for pid in sorted(set(extra) - known):
        o, names = reps[pid], sorted(users[pid])
        out.append(pool_of(o).model_copy(update={
            "max_nodes": math.ceil(extra[pid] - 1e-9),
            "teams": tuple(sorted({teams[n] for n in names})),
            "placement_group": any(n > 1 for n in _nodes(fb, pid)) and o.offer.cloud != "k8s",
            "fallback_for": tuple(names),
        }))
    return sorted(out, key=lambda p: p.id)


def _nodes(fb: Fallbacks, pool_id: str) -> list[int]:
    return [pick.option.nodes for found in fb.picks.values() for pick in found
            if pick.option.pool_id == pool_id]


def fallback_options(fb: Fallbacks) -> list[Option]:
    """One option per fallback pool (for the clusters the fallbacks need)."""
    reps: dict[str, Option] = {}
    for found in fb.picks.values():
        for pick in found:
            reps.setdefault(pick.option.pool_id, pick.option)
    return [reps[p] for p in sorted(reps)]


def worst_case(ws: WorkloadSet, placements: Sequence[Placement],
               totals: Totals) -> tuple[WorstCase, tuple[str, ...]]:
    """Every workload with fallbacks on its first one: the plan's and each team's monthly
    cost (idle included, as budgeted) plus the premiums of those first fallbacks, and the
    teams whose worst case is over their budget, each with a warning."""
    premiums: dict[str, Decimal] = defaultdict(Decimal)
    for p in placements:
        if p.fallbacks:
            premiums[p.team] += p.fallbacks[0].premium
    by_team = {team: money(cost.monthly + premiums[team])
               for team, cost in sorted(totals.by_team.items())}
    over = []
    warnings = []
    for team, monthly in by_team.items():
        budget = ws.teams[team].monthly_budget if team in ws.teams else None
        if budget is not None and monthly > budget:
            over.append(team)
            warnings.append(
                f"team {team}: worst case ${monthly:,.2f}/month (every workload with "
                f"fallbacks on its first one) is over its budget of ${budget:,.2f}")
    delta = sum(premiums.values(), Decimal(0))
    case = WorstCase(monthly=money(totals.monthly + delta), delta=money(delta),
                     by_team=by_team, over_budget=tuple(over))
    return case, tuple(warnings)
