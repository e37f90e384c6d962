"""Plan a WorkloadSet on a Catalog: candidates -> MILP -> assembled ``Plan``.

``plan_workloads`` is the one entry point (the CLI, ``diff``, ``explain
--what-if`` and the Pulumi stack all call it). It is pure: same inputs, same
bytes, whatever order the workloads were declared in.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Any, Literal

from planner.catalog.model import Catalog
from planner.optimize.candidates import (
    CandidateBuilder,
    Option,
    Rejections,
    WorkloadCandidates,
    quota_key_of,
)
from planner.optimize.colgen import ColumnGeneration, SearchRelaxation, all_offer_bound
from planner.optimize.costmodel import run_cost
from planner.optimize.decompose import attach_parts_bound, decomposed, solve_parts
from planner.optimize.facts import (
    Marginal,
    Usage,
    binding_constraints,
    blocked_by,
    charged_unit_cost,
    usage,
)
from planner.optimize.fallbacks import (
    Fallbacks,
    attach,
    fallback_options,
    fallback_pools,
    plan_fallbacks,
    worst_case,
)
from planner.optimize.miglayout import (
    layout_relaxation,
    merge_mig_layouts,
    pool_sharing_of_layout,
)
from planner.optimize.progress import NoProgress, Progress
from planner.optimize.search import Limits
from planner.optimize.solve import Limit, Model, Solution, lp_bound, peaks
from planner.optimize.stability import Base, base_from_plan
from planner.optimize.stabilityreport import stability_report
from planner.optimize.unblock import Unblocking, left_out_for_budget, unblocking
from planner.plan import (
    Alternative,
    BoundCap,
    CatalogInfo,
    ClusterRef,
    Cost,
    HostRequest,
    Placement,
    Plan,
    Pool,
    PoolSharing,
    Rejection,
    SolverInfo,
    TeamSummary,
    Totals,
    Unblock,
    Unplaced,
    UnplacedReason,
    money,
    stable_id,
)
from planner.plancost import (
    EMPTY_POOL,
    JobCost,
    PlanCost,
    Rate,
    hold_of,
    job_fields,
    peak_share,
    pool_fields,
    price_plan,
    whole_nodes,
)
from planner.spec.model import Workload, WorkloadSet

MAX_ALTERNATIVES = 5
IDLE_BUDGET_ROUNDS = 3  # re-solves at most, reserving attributed idle in budget rows


def default_time_limit(workloads: int) -> float:
    """The search's wall-clock safety net, seconds: 300 s, growing 0.5 s per workload
    beyond 600, at most 3,600 s. Only a safety net: the search stops on deterministic
    limits (:mod:`planner.optimize.search`) far inside it, even on a machine shared by
    many (1,000 workloads take about 15 s of CPU); a plan it cuts says so."""
    return max(300.0, min(3600.0, 0.5 * workloads))


REASON_TEXT = {
    "accelerator-count": "no offer has this accelerator count per node",
    "multi-node-whole-nodes": "multi-node jobs need whole nodes",
    "cpus": "not enough vCPUs",
    "memory": "not enough memory",
    "cloud-pinned": "pinned to another cloud",
    "region-pinned": "pinned to another region",
    "zone-pinned": "pinned to another zone",
    "instance-pinned": "pinned to another instance type",
    "region-denied": "region denied",
    "region-not-allowed": "region not in the allow list",
    "no-cluster-in-region": "no cluster there and new regions are not allowed",
    "spot-not-allowed": "spot not allowed (use_spot: false)",
    "on-demand-not-allowed": "on-demand not allowed (use_spot: true)",
    "no-spot-price": "no spot offer",
    "quota": "quota too small for even one job",
    "no-throughput-data": "no throughput figure to convert the work estimate",
    "deadline": "too slow for the deadline",
    "arch": "another CPU architecture (resources.arch)",
    "burstable": "a burstable machine family (resources.burstable)",
    "price-outlier": "a price that looks wrong (planner catalog check)",
    "no-mig": "the GPU has no MIG (or not this profile)",
    "slot-memory": "no slot with enough GPU memory",
    "isolation": "the sharing mode isolates less than asked",
    "compute": "the slot guarantees less compute than asked",
    "sharing-not-allowed": "sharing mode not in sharing.allow",
    "no-offers": "the catalog has no offer for the requested accelerators",
}


def build_model(ws: WorkloadSet, cands: list[WorkloadCandidates]) -> Model:
    quotas = {}
    for q in ws.quotas:
        key = quota_key_of(q.cloud, q.region, q.family, q.capacity)
        unit = "GPUs" if (q.cloud == "gcp" and "GPU" in q.family.upper()) else "vCPUs"
        quotas[key] = Limit(f"quota:{q.cloud}/{q.region}/{q.family}/{q.capacity}", "quota",
                            float(q.limit), unit)
    capacities = {
        c.name: (Limit(f"capacity:{c.name}", "capacity", float(c.gpus // c.gpus_per_node),
                       "nodes"), float(c.gpus_per_node))
        for c in ws.clusters
    }
    budgets = {name: float(t.monthly_budget) for name, t in ws.teams.items()
               if t.monthly_budget is not None}
    return Model(cands, quotas, capacities, budgets,
                 {w.name: w.team for w in ws.workloads},
                 {w.name: w.priority for w in ws.workloads})


def plan_workloads(ws: WorkloadSet, catalog: Catalog, *, time_limit: float | None = None,
                   progress: Progress | None = None, processes: int = 1,
                   all_offers: bool = True, base: Plan | None = None) -> Plan:
    """Plan ``ws`` on ``catalog``; with ``base`` (a checked plan, see
    :func:`planner.optimize.stability.check_base`), staying where the base put a workload
    is free and a move has a price. Deterministic for a given input (order-insensitive):
    up to :data:`planner.optimize.decompose.DECOMPOSE_COLUMNS` option columns the search
    stops on work limits (:mod:`planner.optimize.search`) and ``time_limit`` (default
    :func:`default_time_limit`) is a safety net whose cut the plan reports; a larger
    model is split into parts, each searched on the same limits.

    ``progress`` hears of each stage, each workload's candidates and each better
    solution (:mod:`planner.optimize.progress`); it does not change the plan.
    A large model is solved in parts (:mod:`planner.optimize.decompose`) on up to
    ``processes`` processes; the plan is the same for any number.
    ``all_offers`` (default) prices every feasible offer by column generation
    (:mod:`planner.optimize.colgen`): the search gets the options that price out and the
    bound holds over all offers; off, both stay within the pruned candidates.
    """
    if time_limit is None:
        time_limit = default_time_limit(len(ws.workloads))
    report = progress or NoProgress()
    workloads = sorted(ws.workloads, key=lambda w: w.name)
    report.stage("candidates", len(workloads))
    index = base_from_plan(base) if base is not None else None
    builder = CandidateBuilder(ws, catalog, index)
    cands = []
    for done, w in enumerate(workloads, 1):
        cands.append(builder.candidates(w))
        report.advance(done)
    model = build_model(ws, cands)
    report.stage("solving")
    gen = ColumnGeneration(model, builder.option_at) if all_offers else None
    limits = Limits(safety_s=time_limit)
    solution = _solve(model, gen, limits, progress, processes)
    priced = Priced.of(ws, model, solution)
    over = _idle_over_budget(model, priced.cost)
    for _ in range(IDLE_BUDGET_ROUNDS):
        if not over:
            break
        model.idle_reserve.update(over)
        solution = _solve(model, gen, limits, progress, processes, hint=solution.chosen)
        priced = Priced.of(ws, model, solution)
        over = _idle_over_budget(model, priced.cost)
    dropped: dict[str, Option] = {}
    if over:
        solution, dropped = _drop_over_budget(ws, model, solution, over)
    merged = merge_mig_layouts(solution, ws)
    if merged is solution:
        scope = _bound(model, gen, solution, time_limit)
    else:  # the MILP's bounds hold for one MIG profile a pool (planner.optimize.miglayout)
        solution = merged
        relaxed = lp_bound(layout_relaxation(model, ws), time_limit / 4, set(solution.chosen))
        solution.lower_bound = min(relaxed or 0.0, solution.cost)
        # layouts are priced over the searched options only: the bound's scope says so
        scope = BoundScope("candidates", gen.added_to_model if gen else 0, ())
    report.stage("assembling")
    fallbacks = choose_fallbacks(ws, builder, catalog, cands, model, solution)
    return assemble(ws, catalog, cands, model, solution, time_limit, fallbacks, builder,
                    scope, base=index, dropped=dropped, priced=priced)


def _solve(model: Model, gen: ColumnGeneration | None, limits: Limits,
           progress: Progress | None, processes: int,
           hint: dict[str, Option] | None = None) -> Solution:
    """The MILP over the candidates plus every option column generation adds, searched
    within ``limits`` (:mod:`planner.optimize.search`): whole, or in parts when large
    (:mod:`planner.optimize.decompose`, the same stop rules for each part). A split
    model's parts carry their bounds unless column generation gives the plan's.
    ``hint``: the placement of the previous solve (an idle budget round), which the
    search's greedy start keeps where it still fits."""
    if gen is not None:
        gen.set_budgets()
        gen.grow()
    return solve_parts(model, limits, progress, processes=processes,
                       bound=gen is None and decomposed(model), hint=hint,
                       relaxed=SearchRelaxation(gen) if gen is not None else None)


def _bound(model: Model, gen: ColumnGeneration | None, sol: Solution,
           time_limit: float) -> BoundScope:
    """Set ``sol.lower_bound``: over all offers with column generation
    (:func:`planner.optimize.colgen.all_offer_bound`), else over the candidates."""
    if gen is None or sol.method == "none":
        attach_parts_bound(model, sol, time_limit)
        return BoundScope("candidates", 0, ())
    sol.lower_bound, result = all_offer_bound(gen, sol)
    caps = tuple(BoundCap(workload=c.workload, priced=c.priced, left_out=c.left_out)
                 for c in result.caps)
    return BoundScope("all-offers", gen.added_to_model, caps)


def choose_fallbacks(ws: WorkloadSet, builder: CandidateBuilder, catalog: Catalog,
                     cands: list[WorkloadCandidates], model: Model, sol: Solution) -> Fallbacks:
    """The post-solve fallback step (:mod:`planner.optimize.fallbacks`), priced like the plan."""
    return plan_fallbacks(ws, builder, catalog, cands, model, sol,
                          lambda w, o: _own_monthly(ws, w, o), lambda o: cluster_for(ws, o))


def _drop_over_budget(ws: WorkloadSet, model: Model, sol: Solution,
                      over: dict[str, float]) -> tuple[Solution, dict[str, Option]]:
    """The last resort when teams (``over``) are still over budget after
    :data:`IDLE_BUDGET_ROUNDS` re-solves: idle on a shared node follows the other teams'
    placements, so the budget rows can keep missing it. Until every team fits, each team
    over budget leaves out its least important placed workload (lowest priority, then
    dearest, then by name); the plan lists it unplaced, left out for its team's budget.
    Returns the solution and the workloads left out, each with the option it had.
    Deterministic."""
    chosen = dict(sol.chosen)
    current = sol
    while over:
        before = len(chosen)
        for team in sorted(over):
            mine = [name for name in sorted(chosen) if model.teams[name] == team]
            if mine:
                del chosen[min(mine, key=lambda n: (model.priorities[n], -chosen[n].monthly))]
        if len(chosen) == before:
            break
        current = dataclasses.replace(sol, chosen=dict(sorted(chosen.items())),
                                      nodes=peaks(chosen), status=f"{sol.status}; {OVER_BUDGET_DROPPED}")
        priced = _price(ws, model, current)
        current.objective = float(priced.totals.monthly) + current.unplaced_penalty
        over = _idle_over_budget(model, priced)
    return current, {n: o for n, o in sorted(sol.chosen.items()) if n not in chosen}


OVER_BUDGET_DROPPED = "then left out workloads of teams still over budget with idle"


def _idle_over_budget(model: Model, priced: PlanCost) -> dict[str, float]:
    """Teams whose cost with their attributed idle (``priced``: the solution as
    :func:`_price` prices it) exceeds the budget, with the idle to reserve in their
    budget row so that this placement no longer fits it."""
    out = {}
    for team, budget in sorted(model.budgets.items()):
        group = priced.totals.by_team.get(team)
        if group is None or float(group.monthly) <= budget + 1e-6:
            continue
        reserve = model.idle_reserve.get(team, 0.0)
        excess = float(group.monthly) - budget
        out[team] = max(reserve + excess, float(group.idle.monthly) + 1e-4)
    return out


def _price(ws: WorkloadSet, model: Model, sol: Solution) -> PlanCost:
    """The plan's cost function on a solution (as :func:`assemble` stores it)."""
    by_name = {wc.workload.name: wc.workload for wc in model.workloads}
    reps = {o.pool_id: o for _, o in sorted(sol.chosen.items())}
    holds = []
    for name, o in sorted(sol.chosen.items()):
        cost = _cost(ws, by_name[name], o)
        holds.append(hold_of(name, model.teams[name], o.pool_id, round(o.run_share, 6),
                             round(o.run_hours, 4), cost.spot_risk, cost.egress,
                             _runs(by_name[name])))
    return price_plan([_rate(ws, o) for _, o in sorted(reps.items())], holds,
                      ws.pricing.hours_per_month)


@dataclass(frozen=True)
class Priced:
    """A solution's cost (:func:`_price`) with the placement it priced: assembling that
    same placement does not price it again (0.9 s CPU at 20,000 workloads)."""

    chosen: dict[str, Option]  # a copy: the solution's placement when it was priced
    cost: PlanCost

    @classmethod
    def of(cls, ws: WorkloadSet, model: Model, sol: Solution) -> Priced:
        return cls(dict(sol.chosen), _price(ws, model, sol))

    def cost_of(self, ws: WorkloadSet, model: Model, sol: Solution) -> PlanCost:
        """The cost of ``sol``: the one stored if its placement is the same options
        (compared by identity: ``Option`` has no value equality), else priced anew."""
        return self.cost if sol.chosen == self.chosen else _price(ws, model, sol)


@dataclass(frozen=True)
class BoundScope:
    """Over which set the plan's lower bound holds (see :class:`planner.plan.SolverInfo`)."""

    scope: Literal["candidates", "all-offers"]
    generated: int
    capped: tuple[BoundCap, ...]


def assemble(ws: WorkloadSet, catalog: Catalog, cands: list[WorkloadCandidates], model: Model,
             sol: Solution, time_limit: float, fallbacks: Fallbacks | None = None,
             builder: CandidateBuilder | None = None,
             scope: BoundScope | None = None, *, base: Base | None = None,
             dropped: Mapping[str, Option] | None = None, priced: Priced | None = None) -> Plan:
    """The ``Plan`` of solution ``sol``; ``priced``: its cost if already known."""
    by_name = {wc.workload.name: wc for wc in cands}
    bindings = binding_constraints(model, sol)
    binding_ids = defaultdict(list)
    for b in bindings:
        for w in b.workloads:
            binding_ids[w].append(b.id)
    fb = fallbacks or Fallbacks({}, {})
    clusters = _clusters(ws, [*sol.chosen.values(), *fallback_options(fb)])
    use = usage(model, sol)
    marginal = Marginal.of_solution(sol)
    reps = {o.pool_id: o for _, o in sorted(sol.chosen.items())}
    plan_cost = priced.cost_of(ws, model, sol) if priced else _price(ws, model, sol)
    bindings = [b.model_copy(update={"used": plan_cost.team_monthly(b.id.split(":", 1)[1])})
                if b.kind == "budget" else b for b in bindings]
    facts = Explaining(model, sol, use, marginal)
    placements = [
        _placement(ws, by_name[name], o, facts.cost(ws, by_name[name], o),
                   plan_cost.jobs[name], clusters, tuple(sorted(binding_ids[name])), facts)
        for name, o in sorted(sol.chosen.items())
    ]
    pools = _pools(ws, reps, plan_cost, placements, clusters)
    if fb:
        placements = attach(placements, fb, lambda o: cluster_for(ws, o))
        pools = fallback_pools(pools, placements, fb, lambda o: pool_of(ws, o, clusters))
    builder = builder or CandidateBuilder(ws, catalog)
    left_out = dropped or {}
    unplaced = [
        _unplaced(wc, left_out_for_budget(wc.workload.team, left_out[wc.workload.name], marginal)
                  if wc.workload.name in left_out
                  else unblocking(wc, builder, model, sol, use, marginal))
        for wc in cands if wc.workload.name not in sol.chosen
    ]
    totals = plan_cost.totals
    worst, warnings = worst_case(ws, placements, totals) if fb else (None, ())
    return Plan(
        catalog=CatalogInfo(source=catalog.meta.source, date=catalog.meta.date),
        hours_per_month=ws.pricing.hours_per_month,
        clusters=tuple(sorted(clusters.values(), key=lambda c: c.name)),
        pools=tuple(pools),
        placements=tuple(placements),
        unplaced=tuple(unplaced),
        binding=tuple(bindings),
        teams=_teams(ws, totals),
        totals=totals,
        solver=SolverInfo(
            method=sol.method, status=sol.status, objective=totals.monthly,
            lower_bound=min(money(round(sol.lower_bound, 4)), totals.monthly),
            gap=_gap(totals.monthly, sol.lower_bound), time_limit_s=time_limit,
            variables=sol.variables, constraints=sol.constraints,
            candidates=sum(len(wc.options) for wc in cands),
            **({} if scope is None else dict(bound_scope=scope.scope,
                                             columns_generated=scope.generated,
                                             capped=scope.capped)),
            cut_by_time_limit=sol.cut_by_time,
        ),
        worst_case=worst, warnings=warnings,
        stability=(stability_report(base, cands, model, sol, use)
                   if base is not None else None),
        spec=canonical_spec(ws),
    )


def _gap(cost: Decimal, bound: float) -> Decimal:
    """(cost - bound) / cost, 0..1: how far the plan's cost (as its cost function prices
    it) can be above the optimum."""
    if cost <= 0:
        return Decimal("0.0")
    return Decimal(repr(round(min(1.0, max(0.0, (float(cost) - bound) / float(cost))), 6)))


def canonical_spec(ws: WorkloadSet) -> dict[str, object]:
    """The WorkloadSet as JSON data, lists sorted so declaration order does not matter."""
    data = ws.model_dump(mode="json")
    data["workloads"] = sorted(data["workloads"], key=lambda w: w["name"])
    data["clusters"] = sorted(data["clusters"], key=lambda c: c["name"])
    data["quotas"] = sorted(data["quotas"], key=lambda q: (q["cloud"], q["region"], q["family"],
                                                           q["capacity"]))
    return data


def cluster_for(ws: WorkloadSet, o: Option) -> str:
    """Existing cluster that hosts ``o``'s pool, or the name of the new one to create."""
    if o.offer.cloud == "k8s":
        return o.offer.region
    for c in sorted(ws.clusters, key=lambda c: c.name):
        if (c.cloud, c.region) == (o.offer.cloud, o.offer.region):
            return c.name
    return new_cluster_name(o.offer.cloud, o.offer.region)


@functools.lru_cache(maxsize=4096)
def new_cluster_name(cloud: str, region: str) -> str:
    """The cluster gpuplan creates in ``region`` of ``cloud``: a stable id, remembered (a
    plan asks for it twice per placement, 40,000 times at 20,000 workloads)."""
    return stable_id("gpuplan", cloud, region)


def _clusters(ws: WorkloadSet, options: list[Option]) -> dict[str, ClusterRef]:
    """Declared clusters, plus a new one per place of ``options`` without one."""
    out = {c.name: ClusterRef(name=c.name, cloud=c.cloud, region=c.region, existing=True,
                              kubeconfig=c.kubeconfig) for c in ws.clusters}
    for o in options:
        name = cluster_for(ws, o)
        if name not in out:
            out[name] = ClusterRef(name=name, cloud=o.offer.cloud, region=o.offer.region,
                                   existing=False)
    return out


def _runs(w: Workload) -> float:
    return 1.0 if (w.kind == "service" or w.work is None) else w.work.runs_per_month


def _cost(ws: WorkloadSet, w: Workload, o: Option) -> Cost:
    """One run's cost lines, each rounded (``total`` is their sum)."""
    data = ws.data[w.data] if w.data else None
    parts = run_cost(o.offer, o.spot, o.nodes, o.variant.share, o.runtime - o.rework,
                     ws.pricing, data)
    return Cost(compute=money(parts.compute), spot_risk=money(parts.spot_risk),
                egress=money(parts.egress), discount=money(parts.discount),
                total=money(parts.compute) + money(parts.spot_risk) + money(parts.egress)
                + money(parts.discount))


def _own_monthly(ws: WorkloadSet, w: Workload, o: Option) -> Decimal:
    """A job's own lines a month on ``o`` (runs x one run): its share of the nodes, spot
    risk and egress, idle not included."""
    return money(_cost(ws, w, o).total * Decimal(repr(_runs(w))))


def _rate(ws: WorkloadSet, o: Option) -> Rate:
    factor = ws.pricing.discounts.get(o.offer.cloud, Decimal(1))  # type: ignore[call-overload]
    price = o.offer.spot_price if o.spot and o.offer.spot_price is not None else o.offer.price
    return Rate(pool=o.pool_id, cloud=o.offer.cloud, region=o.offer.region,
                node_hourly=price * factor,
                gpus_per_node=o.offer.accelerator_count if o.offer.accelerator else 0.0)


@dataclass
class Explaining:
    """What every placement's alternatives and rejections read: the model, the solution,
    its usage and marginal prices; and what they, its run cost and its machine request
    came to for each workload whose candidates are copies of the same ones (16,000 of
    20,000 synthetic workloads), so each is worked out once per original and option."""

    model: Model
    sol: Solution
    use: Usage
    marginal: Marginal
    alternatives: dict[tuple[int, str, float, float], tuple[Alternative, ...]] = \
        dataclasses.field(default_factory=dict)
    rejections: dict[tuple[int, float], tuple[Rejection, ...]] = \
        dataclasses.field(default_factory=dict)
    machines: dict[tuple[int, int], dict[str, Any]] = dataclasses.field(default_factory=dict)
    costs: dict[tuple[int, int, int, float, float], Cost] = dataclasses.field(default_factory=dict)

    def cost(self, ws: WorkloadSet, wc: WorkloadCandidates, o: Option) -> Cost:
        """:func:`_cost` of ``wc``'s workload on ``o``, once per original and option."""
        key = (id(wc.original), id(o.variant), o.nodes, o.runtime, o.rework)
        found = self.costs.get(key)
        if found is None:
            found = self.costs[key] = _cost(ws, wc.workload, o)
        return found

    def machine(self, wc: WorkloadCandidates, o: Option) -> dict[str, Any]:
        """:func:`_machine` of ``wc``'s workload on ``o``, once per original and variant."""
        key = (id(wc.original), id(o.variant))
        found = self.machines.get(key)
        if found is None:
            found = self.machines[key] = _machine(wc.workload, o)
        return found


def _placement(ws: WorkloadSet, wc: WorkloadCandidates, o: Option, cost: Cost, job: JobCost,
               clusters: dict[str, ClusterRef], binding: tuple[str, ...],
               facts: Explaining) -> Placement:
    w = wc.workload
    team = ws.teams[w.team]
    return Placement(
        workload=w.name, team=w.team, namespace=team.namespace or w.team, kind=w.kind,
        priority=w.priority, pool=o.pool_id, cluster=cluster_for(ws, o), cloud=o.offer.cloud,
        region=o.offer.region, zone=o.offer.zone, instance_type=o.offer.instance_type,
        capacity="spot" if o.spot else "on-demand", accelerator=o.offer.accelerator,
        gpus_per_node=o.variant.choice.count if o.offer.accelerator else 0.0,
        **facts.machine(wc, o),
        nodes=o.nodes, node_share=round(o.variant.share, 6),
        pool_share=round(o.run_share, 6),
        monthly_hours=round(o.run_hours, 4), topology=w.topology.type,
        servers=w.topology.servers, min_workers=w.topology.min_workers,
        max_workers=w.topology.max_workers, runtime_hours=round(o.runtime, 4),
        runs_per_month=_runs(w), deadline_hours=w.deadline_hours, cost=cost, **job_fields(job),
        image=w.image, command=w.command, env=dict(sorted(w.env.items())),
        gpu_fraction=w.gpu_fraction, mig_profile=w.mig_profile,
        slot=o.variant.slot.name if o.variant.slot else None,
        alternatives=_alternatives(wc, o, facts),
        rejected=_placed_rejections(wc, o, facts),
        binding=binding,
    )


def _machine(w: Workload, o: Option) -> dict[str, Any]:
    """What ``w`` asks of each node of ``o``: CPUs and memory (GiB) to request, and the
    host request the offer met. They follow from its resources and the variant, so
    copies of the same candidates share them."""
    cpu = w.resources.cpu_request
    mem = w.resources.memory_request
    share = o.variant.share
    floor = (0.1, 0.25) if o.variant.mode.shared else (0.5, 0.5)
    return dict(
        cpus_per_node=_request(cpu.value if cpu else None, o.offer.vcpus, share, floor[0]),
        memory_gib_per_node=_request(
            (mem.value * (cpu.value if cpu else o.offer.vcpus * share) if mem.per_cpu else mem.value)
            if mem else None, o.offer.memory_gib, share, floor[1]),
        host=_host(w, o))


def _host(w: Workload, o: Option) -> HostRequest:
    """The effective host request the offer met (defaults per GPU where none was asked)."""
    if o.variant.mode.shared:
        cpu, mem = w.resources.cpu_request, w.resources.memory_request
    else:
        cpu, mem = CandidateBuilder.host_request(w, o.offer, o.variant.choice)
    memory = None
    if mem is not None:
        memory = mem.value * (cpu.value if cpu else o.offer.vcpus) if mem.per_cpu else mem.value
    defaulted = tuple(name for name, asked, got in (
        ("cpus", w.resources.cpu_request, cpu), ("memory", w.resources.memory_request, mem))
        if asked is None and got is not None)
    return HostRequest(cpus=round(cpu.value, 3) if cpu else None,
                       memory_gib=round(memory, 3) if memory is not None else None,
                       defaulted=defaulted)


def _request(asked: float | None, offered: float, share: float, floor: float = 0.5) -> float:
    """What the job requests per node: what it asked, else its share of the node (90%, at
    least ``floor``: 0.5 for whole GPUs, less for the many slots of a shared node)."""
    if asked is not None:
        return round(asked, 3)
    return round(max(floor, offered * share * 0.9), 2 if floor < 0.5 else 1)


def _alternatives(wc: WorkloadCandidates, chosen: Option,
                  facts: Explaining) -> tuple[Alternative, ...]:
    """Other pools, cheapest first at what the plan would pay for them (marginal: a slot
    on a node no one else uses costs the node); ``delta`` is what the plan's total would
    change by if this workload alone moved there, ``delta_pct`` of what it is charged.
    They follow from the candidates' figures, the chosen pool and what leaving it saves
    and it is charged, so copies of the same candidates share them; except when an
    alternative is cheaper: what blocks it depends on the workload's team."""
    marginal = facts.marginal
    saved = marginal.leaving(chosen.workload)
    charged = marginal.charged(chosen.workload)
    key = (id(wc.original), chosen.pool_id, saved, charged)
    found = facts.alternatives.get(key)
    if found is None:
        found = _priced_alternatives(wc, chosen, facts, money(round(saved, 4)), charged)
        if all(a.delta >= 0 for a in found):
            facts.alternatives[key] = found
    return found


def _priced_alternatives(wc: WorkloadCandidates, chosen: Option, facts: Explaining,
                         saved: Decimal, charged: float) -> tuple[Alternative, ...]:
    """:func:`_alternatives` worked out: ``saved`` ($/month, 4 places) what leaving its
    pool saves, ``charged`` what it is charged there."""
    out, seen = [], set()
    for cost, o in _cheapest_first(wc.alternatives, chosen.pool_id, facts.marginal):
        if o.pool_id in seen:
            continue
        seen.add(o.pool_id)
        delta = cost - saved
        pct = Decimal(repr(round(float(delta) / charged * 100, 2))) if charged > 0 else Decimal(0)
        offer, mode = o.offer, o.variant.mode
        out.append(Alternative(
            offer=offer.key + (f" {mode}" if mode.shared else ""), cloud=offer.cloud,
            region=offer.region, zone=offer.zone,
            instance_type=offer.instance_type, accelerator=offer.accelerator,
            accelerator_count=offer.accelerator_count,
            capacity="spot" if o.spot else "on-demand", runtime_hours=round(o.runtime, 4),
            cost=cost, delta=delta, delta_pct=pct.quantize(HUNDREDTH),
            blocked_by=blocked_by(facts.model, facts.sol, o, facts.use) if delta < 0 else None,
        ))
        if len(out) == MAX_ALTERNATIVES:
            break
    return tuple(out)


HUNDREDTH = Decimal("0.01")


def _cheapest_first(options: list[Option], pool: str,
                    marginal: Marginal) -> Iterator[tuple[Decimal, Option]]:
    """The options outside ``pool`` by what the plan would pay for them ($/month to 4
    places), ties by offer key, each with that price. Rounded floats order as their
    exact decimals do, so only the prices yielded become ``Decimal`` and only tied
    options build their key: a plan shows a few of some 25 options a workload."""
    others = [o for o in options if o.pool_id != pool]
    prices = [round(p, 4) for p in marginal.prices(others)]
    order = sorted(range(len(others)), key=prices.__getitem__)
    for price, group in groupby(order, key=prices.__getitem__):
        tied = list(group)
        if len(tied) > 1:
            tied.sort(key=lambda i: others[i].offer.key)
        cost = money(price)
        for i in tied:
            yield cost, others[i]


def _placed_rejections(wc: WorkloadCandidates, chosen: Option,
                       facts: Explaining) -> tuple[Rejection, ...]:
    """:func:`_rejections` of a placed workload: they follow from its candidates' tables
    and its charged unit cost, so copies of the same candidates share them."""
    limit = charged_unit_cost(wc.workload, chosen, facts.marginal)
    key = (id(wc.original), limit)
    found = facts.rejections.get(key)
    if found is None:
        found = facts.rejections[key] = _rejections(wc, limit)
    return found


def _rejections(wc: WorkloadCandidates, limit: float = math.inf) -> tuple[Rejection, ...]:
    """Rejected offers by reason; ``cheaper`` counts those whose node (a rejected slot
    would be alone on it) costs less per unit of work than ``limit``, the choice's
    charged unit cost (:func:`planner.optimize.facts.charged_unit_cost`)."""
    out = []
    for reason, r in sorted(wc.rejected.items()):
        cheaper = r.cheaper_than(limit)
        out.append(Rejection(reason=reason, count=r.count, cheaper=cheaper,
                             examples=tuple(label for _, label in r.examples[:3])))
    return tuple(out)


TRADEOFF_TEXT = "placing it would cost more than leaving it out (other workloads rank higher)"


def _unplaced(wc: WorkloadCandidates, found: Unblocking) -> Unplaced:
    """Why ``wc``'s workload is unplaced: the limits its options broke (or the solver's
    trade-off), else its offers' rejection reasons; and what would place it."""
    w = wc.workload
    if found.budget_team is not None:
        reasons: tuple[UnplacedReason, ...] = (UnplacedReason(code="budget", detail=(
            f"left out to keep team {found.budget_team} within its budget "
            f"(budget:{found.budget_team}) with the idle of its shared nodes")),)
    elif wc.options:
        reasons = tuple(UnplacedReason(code=b.split(":", 1)[0], detail=f"{b} has no room for it")
                        for b in found.limits)
        if found.tradeoff:
            reasons += (UnplacedReason(code="solver-tradeoff", detail=TRADEOFF_TEXT),)
    else:
        ranked = sorted(wc.rejected.items(), key=lambda kv: (-kv[1].count, kv[0]))
        reasons = tuple(
            UnplacedReason(code=code, detail=f"{r.count} offers: {_reason_text(code, r)}")
            for code, r in ranked
        ) or (UnplacedReason(code="no-offers", detail=REASON_TEXT["no-offers"]),)
    unblock = tuple(sorted((Unblock(relax=r.relax, offer=r.offer, monthly=money(r.monthly))
                            for r in found.sets),
                           key=lambda u: (len(u.relax), u.monthly, u.relax)))
    return Unplaced(workload=w.name, team=w.team, reasons=reasons, unblock=unblock,
                    rejected=_rejections(wc))


def _reason_text(code: str, r: Rejections) -> str:
    """The reason in words; ``no-mig`` names the GPUs ("T4 has no MIG")."""
    if code == "no-mig":
        names = sorted({label.rsplit("+", 1)[1].split(":")[0] for _, label in r.examples
                        if "+" in label})
        if names:
            return f"{' and '.join(names)} {'has' if len(names) == 1 else 'have'} no MIG " \
                   "(or not this profile)"
    return REASON_TEXT.get(code, code)


def _pools(ws: WorkloadSet, reps: dict[str, Option], priced: PlanCost,
           placements: list[Placement], clusters: dict[str, ClusterRef]) -> list[Pool]:
    by_pool: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        by_pool[p.pool].append(p)
    out = []
    for pid in sorted(by_pool):
        o, members, cost = reps[pid], by_pool[pid], priced.pools[pid]
        service_share = sum(peak_share(m.pool_share, m.monthly_hours, ws.pricing.hours_per_month)
                            for m in members if m.kind == "service")
        min_nodes = whole_nodes(service_share)
        if o.variant.mode.shared and o.offer.cloud == "aws":
            # EKS autoscalers see one nvidia.com/gpu per GPU, not its time-slicing replicas or
            # MIG instances (karpenter#729): keep a shared pool at its planned size.
            min_nodes = cost.nodes
        pool = pool_of(ws, o, clusters)
        out.append(pool.model_copy(update=dict(
            min_nodes=min(min_nodes, cost.nodes), max_nodes=cost.nodes, **pool_fields(cost),
            workloads=tuple(sorted(m.workload for m in members)),
            teams=tuple(sorted({m.team for m in members})),
            placement_group=any(m.nodes > 1 for m in members) and o.offer.cloud != "k8s",
        )))
    return out


def pool_of(ws: WorkloadSet, o: Option, clusters: dict[str, ClusterRef]) -> Pool:
    """The pool ``o`` runs on, empty: no nodes, no workloads, no cost (callers fill those
    in; an empty pool, e.g. a min-0 fallback pool, costs nothing until used)."""
    return Pool(
        id=o.pool_id, cluster=cluster_for(ws, o), cloud=o.offer.cloud, region=o.offer.region,
        zone=o.offer.zone, instance_type=o.offer.instance_type, accelerator=o.offer.accelerator,
        accelerator_count=o.offer.accelerator_count, vcpus=o.offer.vcpus,
        memory_gib=o.offer.memory_gib, capacity="spot" if o.spot else "on-demand",
        min_nodes=0, max_nodes=0, node_hourly=_rate(ws, o).node_hourly,
        **pool_fields(EMPTY_POOL), quota_family=o.domain[2], workloads=(), teams=(),
        existing_cluster=clusters[cluster_for(ws, o)].existing, sharing=_pool_sharing(o),
    )


def _pool_sharing(o: Option) -> PoolSharing | None:
    """The plan's record of a shared pool's mode (None for exclusive pools)."""
    mode, slot = o.variant.mode, o.variant.slot
    if not mode.shared or slot is None:
        return None
    if mode.kind == "mig-layout":
        return pool_sharing_of_layout(o)
    return PoolSharing(
        mode=mode.kind, profile=mode.profile or None, clients=mode.clients or None,
        slot=slot.name, slots_per_gpu=slot.per_gpu, slot_memory_gib=round(slot.memory_gib, 3),
        isolation=slot.isolation)


def _teams(ws: WorkloadSet, totals: Totals) -> tuple[TeamSummary, ...]:
    """Each team's cost as the plan's cost function attributes it (idle included)."""
    priorities: dict[str, set[int]] = defaultdict(set)
    for w in ws.workloads:
        priorities[w.team].add(w.priority)
    out = []
    for name, team in sorted(ws.teams.items()):
        group = totals.by_team.get(name)
        monthly = group.monthly if group else money(0)
        budget = team.monthly_budget
        out.append(TeamSummary(
            name=name, namespace=team.namespace or name, budget=budget,
            hourly=group.hourly if group else money(0), monthly=monthly,
            over_budget=budget is not None and monthly > budget,
            priorities=tuple(sorted(priorities[name])),
        ))
    return tuple(out)
