"""Column generation: the LP relaxation over every feasible option, and the bound it gives.

Candidate generation (:mod:`planner.optimize.candidates`) hands the MILP a pruned
set: the cheapest ``MAX_OPTIONS`` options of each workload, at most
``MAX_PER_DOMAIN`` per quota domain. A bound computed over that set is a bound
for the pruned model only. This module prices every other feasible option of
every workload (its :class:`~planner.optimize.candidates.OptionPool`) against
the duals of the LP relaxation, adds those that price out, and repeats; the
MILP then searches the pruned set plus every option added, and the plan's
``lower_bound`` holds over all offers (``solver.bound_scope: all-offers``).

The relaxation, and why it needs no node or level columns
    The MILP's relaxation (:mod:`planner.optimize.solve`) drops the integrality
    of the node counts n. Each n has a positive price and only the cover rows
    n >= S hold it up, so at an optimum n = S: a shared pool's levels then charge
    every option exactly its share-hours at the node rate (its ``compute``), and
    the pool's peak n is the sum of its options' peak shares. In the relaxation
    an option is therefore one column: cost = its objective (compute included),
    1 in its workload's assignment row, units x share in its quota row, share in
    its cluster's capacity row, its monthly own lines in its team's budget row.
    The LP below is exactly that (rows: assign, quota, capacity, budget); its
    value equals the MILP relaxation's over the same options.

    Fixed cost of a pool the pruned set never opened (Lagrangian argument): the
    only fixed charge in the MILP is the whole node, and it lives in the
    integrality of n alone. Relaxing that integrality is a Lagrangian relaxation
    in which opening a pool costs nothing beyond its share-hours, so pricing an
    option of an unopened pool against the assign, quota, capacity and budget
    duals is exact for the relaxation: no node or level column has to exist for
    the reduced cost to be right. When such an option enters, the MILP gives its
    pool level and node columns as it builds the model (``pool_levels`` reads the
    options), and the whole nodes (idle included) are charged there, in the
    search, where they belong.

Pricing (numpy over every workload's options at once)
    d[w,o] = objective[w,o] - y_assign[w] - monthly[w,o] y_budget[team w]
             - share[w,o] (units[v] y_quota[q(v)] + y_capacity[c(v)])
    The bracket depends only on the offer variant v (quota domain, units per node,
    cluster): computed once per round for every variant of every shape, and shared
    by all the workloads of that shape. Each round adds, per workload, its option
    of least reduced cost when that is below ``-ENTER_TOL``; ties go to the
    cheapest (the pool's order). No wall clock: at most ``MAX_ROUNDS`` rounds.
    The first LP holds each workload's ``FIRST_COLUMNS`` cheapest candidates, from a
    dual feasible basis (each workload on its cheapest one): the other candidates are
    priced like any offer.

The search's start
    The last free LP's solution is also the rounding the search starts from, and its
    placed-set LP the bound the search checks its gap against
    (:class:`SearchRelaxation`): the search builds no LP of its own.

The bound (valid at every round, not only at convergence)
    For duals y that are sign-feasible (<= rows: y <= 0) and any x of the full
    model, c x = y A x + d x >= y b + sum_w rhs_w min_o d[w,o] (each workload's
    assignment row sums its columns, the unplaced column included, to rhs_w).
    At convergence the correction is 0 and the bound is the LP value; capped by
    ``MAX_ROUNDS`` it is still valid, only weaker. The plan's bound is this LP with
    exactly the plan's placed workloads placed (the unplaced ones' rows set to 0,
    no unplaced columns), generated on from the same columns: a bound on the
    dollars of placing that set on any offer within the budgets themselves (the idle
    reserves of ``plan_workloads`` tighten its search, not the bound;
    :meth:`ColumnGeneration.placed_bound`). That LP then gets rounding cuts
    (:mod:`planner.optimize.poolcuts`: a pool's whole nodes, idle included, which the
    relaxation above does not pay) and is generated on after each round
    (:meth:`ColumnGeneration.rounding_bound`); the pricing and the bound above carry the
    cut rows' duals and their idle columns, as that module proves.

The search's own bound over all offers (reduced costs)
    At the relaxation's optimum (duals y, value z) every option outside the MILP has
    reduced cost at least ``margin``, the least of them. A solution of the full model
    that uses any of them costs at least z + margin (c x >= y b + d x, d >= 0 on the
    rest), and one that uses none is a solution of the searched MILP, so the optimum
    over all offers is at least min(HiGHS's MIP dual bound, z + margin). Less the
    penalties of the workloads the plan leaves out, this bounds the plan's dollars
    as the MIP dual bound always has (the penalties dominate, so an optimum leaves
    the same workloads out). It holds only where the MILP's rows are the true ones:
    not after idle reserves tightened budget rows. The plan reports the larger of
    the two bounds (:func:`all_offer_bound`).

Scope: every option of a workload's shape variants that passes its own checks.
A shape keeps at most ``MAX_SHAPE_OPTIONS`` variants per node kind; where that
cap cuts, the plan lists the workload and how many feasible offers were never
priced. Variants merged at shape level (a dearer zone or instance of the same
region, GPU shape and capacity type) are not priced either: see
:func:`planner.optimize.candidates._prune_dominated`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.optimize.candidates import Option, OptionPool, Variant, option_order, variant_domain
from planner.optimize.poolcuts import CUT_FROM_GAP, PoolCuts, stretches
from planner.optimize.poolcuts import MAX_ROUNDS as MAX_CUT_ROUNDS
from planner.optimize.solve import Model, penalties, quota_key

MAX_ROUNDS = 60
# Options of least reduced cost the MILP gets beyond the LP's, over all workloads (an equal
# number each: every option that can matter in a small model, none from 4,000 workloads).
# Measured on plan_scale's sets: 4 a workload at 5,000 and 20,000 workloads gave the same
# plans as none, for 1.0 s and 4.0 s more CPU (making 20,000 / 80,000 more options).
EXTRA_COLUMNS = 4_000
# The LP starts with each workload's FIRST_COLUMNS candidates of least objective, the
# others entering by pricing like any offer: each dual simplex iteration prices every
# column, so fewer columns are faster, and the cheapest two held the LP's optimum at
# 20,000 workloads (one round: 0.7 s against 1.9 s with all 12 candidates).
FIRST_COLUMNS = 2
ENTER_TOL = 1e-6  # $/month: a reduced cost above -ENTER_TOL does not enter


@dataclass(frozen=True)
class Cap:
    """A workload with feasible offers that were never priced, and how many."""

    workload: str
    priced: int
    left_out: int


@dataclass
class Generated:
    """What column generation did: rounds, options added, the LP bound (objective units,
    penalties included) and the caps that still apply."""

    rounds: int = 0
    added: int = 0
    bound: float | None = None
    caps: tuple[Cap, ...] = ()
    converged: bool = False
    cut_rounds: int = 0  # rounds of rounding cuts (:meth:`ColumnGeneration.rounding_bound`)


@dataclass
class _Flat:
    """Every workload's pool in one set of arrays (workload after workload)."""

    workload: Any  # int32: index into model.workloads
    variant: Any  # int32: global variant id
    position: Any  # int32: the variant's position in its shape's list
    objective: Any
    monthly: Any
    share: Any
    starts: Any  # int64: first flat index of each workload (len W + 1)


@dataclass
class _Rows:
    assign: int  # assignment rows are 0 .. W-1
    quota: dict[tuple[str, str, str, str], int]
    capacity: dict[str, int]
    budget: dict[str, int]
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)


class ColumnGeneration:
    """The LP relaxation of ``model`` over every workload's pool, grown column by column.

    ``make(wc, position)`` builds the :class:`Option` of ``wc``'s workload on its shape's
    variant at ``position`` (:meth:`CandidateBuilder.option_at`)."""

    def __init__(self, model: Model, make: Any) -> None:
        import numpy as np

        self.model = model
        self.make = make
        self.penalties = penalties(model)
        self.flat = _flatten(model)
        self.rows = _rows(model)
        self.variant_rows = _variant_rows(model, self.rows)
        team_rows = [self.rows.budget.get(model.teams[wc.workload.name], -1)
                     for wc in model.workloads]
        self.budget_of = np.array(team_rows, dtype=np.int64)
        self.in_lp = np.zeros(len(self.flat.objective), dtype=bool)
        self.in_model = np.zeros(len(self.flat.objective), dtype=bool)  # the MILP's options
        self.column: list[int] = []  # LP x column -> flat index
        self.highs = None
        self.rhs = np.ones(len(model.workloads))
        self.allow_unplaced = True
        self.added_to_model = 0  # options extend_model gave the MILP
        self.enumerated = False  # enumerate_columns ran (once a plan)
        # (LP value, least reduced cost of an option outside it) at the last convergence
        self.relaxation: tuple[float, float] | None = None
        self._last_duals: Any = None
        self.lp_col: list[int] = []  # LP column of each entry of ``column``
        self.cuts: PoolCuts | None = None  # rounding cuts (:meth:`rounding_bound`)
        self._flat_pool: Any = None  # pool code of every flat option (with the first cuts)
        self._pool_names: list[str] = []
        # the last free LP's column values and how many option columns it had
        self._primal: tuple[Any, int] | None = None
        # (placed set, LP columns after) -> the bound placed_bound found for them
        self._placed: tuple[frozenset[str], int, Generated] | None = None

    # -- the LP -------------------------------------------------------------
    def _start(self) -> None:
        import highspy
        import numpy as np

        h = _quiet_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        # Devex pricing: steepest edge first works out a weight per row of the start
        # basis (measured at 50,000 workloads: 5.3 s -> 4.0 s for the first solve)
        h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
        inf = highspy.kHighsInf
        rows = self.rows
        lower = np.array([v if v > -1e300 else -inf for v in rows.lower])
        upper = np.array([v if v < 1e300 else inf for v in rows.upper])
        h.addRows(len(lower), lower, upper, 0, np.zeros(len(lower), dtype=np.int32),
                  np.zeros(0, dtype=np.int32), np.zeros(0))
        self.highs = h
        count = len(self.model.workloads)
        pen = np.array([self.penalties[wc.workload.name] for wc in self.model.workloads])
        h.addCols(count, pen, np.zeros(count), np.full(count, inf), count,
                  np.arange(count, dtype=np.int32), np.arange(count, dtype=np.int32),
                  np.ones(count))
        self.u_cols = count
        initial = self._initial()
        self.in_model[initial] = True
        initial = initial[_least_each(self.flat.workload[initial],
                                      self.flat.objective[initial], FIRST_COLUMNS)]
        self._add(initial)
        self._set_start_basis(initial, pen)

    def _initial(self) -> Any:
        """Flat indices of the options already in the model (the pruned candidates), in
        workload order."""
        import numpy as np

        positions: dict[int, dict[int, int]] = {}  # id(shape variants) -> id(variant) -> position
        out = []
        for wi, wc in enumerate(self.model.workloads):
            if wc.pool is None or not wc.options:
                continue
            ids = positions.get(id(wc.pool.variants))
            if ids is None:
                ids = positions[id(wc.pool.variants)] = {
                    id(v): k for k, v in enumerate(wc.pool.variants)}
            wanted = np.array([ids[id(o.variant)] for o in wc.options])
            index = wc.pool.index
            order = np.argsort(index, kind="stable")
            at = order[np.searchsorted(index, wanted, sorter=order)]
            out.append(int(self.flat.starts[wi]) + at)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def _set_start_basis(self, initial: Any, penalty: Any) -> None:
        """A dual feasible first basis: each workload's cheapest column basic (its
        unplaced column when it has none cheaper), every other row's slack basic. Its
        duals price every column at or above zero, so the dual simplex starts there and
        only repairs the quota, capacity and budget rows the cheapest options break
        (measured at 20,000 workloads: 2,290 iterations against 21,321 from HiGHS's
        own start, about one per assignment row)."""
        import highspy

        count = len(self.model.workloads)
        basic, lower = highspy.HighsBasisStatus.kBasic, highspy.HighsBasisStatus.kLower
        col_status = [lower] * (count + len(initial))
        unplaced = [True] * count
        if len(initial):
            owner = self.flat.workload[initial]
            cost = self.flat.objective[initial]
            for k in _least_each(owner, cost, 1).tolist():
                wi = int(owner[k])
                if cost[k] <= penalty[wi]:
                    col_status[count + k] = basic
                    unplaced[wi] = False
        for wi in range(count):
            if unplaced[wi]:
                col_status[wi] = basic
        row_status = [lower] * count + [basic] * (len(self.rows.lower) - count)
        basis = highspy.HighsBasis()
        basis.col_status = col_status
        basis.row_status = row_status
        basis.valid = True
        assert self.highs is not None
        self.highs.setBasis(basis)

    def _add(self, flat_indices: Any) -> None:
        """Add these options as LP columns: 1 in the workload's assignment row, units x
        share in its quota row, share in its cluster's capacity row, its monthly lines in
        its team's budget row (rows in that order, which is their index order), and its
        coefficients in the rounding cuts, if any (:mod:`planner.optimize.poolcuts`)."""
        import highspy
        import numpy as np

        flat = np.asarray(flat_indices, dtype=np.int64)
        n = len(flat)
        if n == 0:
            return
        f, vr = self.flat, self.variant_rows
        variant, share, workload = f.variant[flat], f.share[flat], f.workload[flat]
        rows = np.stack([workload.astype(np.int64), vr.quota[variant], vr.capacity[variant],
                         self.budget_of[workload]], axis=1)
        values = np.stack([np.ones(n), vr.units[variant] * share, share, f.monthly[flat]],
                          axis=1)
        keep = rows >= 0
        counts: Any = keep.sum(axis=1)
        index: Any = rows[keep]
        value: Any = values[keep]
        if self.cuts is not None:  # cut rows come after every other row
            counts, index, value = self._with_cut_entries(flat, keep, rows, values)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        assert self.highs is not None
        self.lp_col.extend(range(self.highs.getNumCol(), self.highs.getNumCol() + n))
        self.highs.addCols(n, np.asarray(f.objective[flat], dtype=np.float64), np.zeros(n),
                           np.full(n, highspy.kHighsInf), len(index),
                           starts.astype(np.int32), np.asarray(index, dtype=np.int32),
                           np.asarray(value, dtype=np.float64))
        self.in_lp[flat] = True
        self.column.extend(int(j) for j in flat)

    def _with_cut_entries(self, flat: Any, keep: Any, rows: Any,
                          values: Any) -> tuple[Any, list[int], list[float]]:
        """Each column's entries (as :meth:`_add`) followed by its rounding cut rows'."""
        assert self.cuts is not None
        counts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for k, j in enumerate(flat.tolist()):
            entries = list(zip(rows[k][keep[k]].tolist(), values[k][keep[k]].tolist(),
                               strict=True))
            entries.extend(self.cuts.entries(self._pool_of(j), j))
            counts.append(len(entries))
            index.extend(r for r, _ in entries)
            value.extend(a for _, a in entries)
        return counts, index, value

    def _duals(self) -> Any | None:
        """Row duals of the current LP made sign-feasible, or None if it is not optimal."""
        import highspy
        import numpy as np

        h = self.highs
        assert h is not None
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        y = np.array(h.getSolution().row_dual)
        first_cut = len(y) if self.cuts is None else self.cuts.first_row
        y[len(self.model.workloads):first_cut] = np.minimum(
            y[len(self.model.workloads):first_cut], 0.0)
        y[first_cut:] = np.maximum(y[first_cut:], 0.0)  # cut rows are >= rows
        return y

    def reduced_costs(self, y: Any) -> Any:
        """d[w,o] of every option of every workload (see the module docstring)."""
        import numpy as np

        f, vr = self.flat, self.variant_rows
        ext = np.append(y, 0.0)  # row -1 (none) prices at 0
        per_variant = vr.units * ext[vr.quota] + ext[vr.capacity]
        budget = ext[self.budget_of][f.workload]
        d = f.objective - ext[f.workload] - f.share * per_variant[f.variant] - f.monthly * budget
        if self.cuts is not None:
            self.cuts.adjust(d, y)
        return d

    def _bound(self, y: Any, d: Any) -> float:
        """y b + sum_w rhs_w min(d over w's options, and its unplaced column if allowed)."""
        import numpy as np

        rows = self.rows
        upper = np.array(rows.upper)
        b = np.where(np.isfinite(upper) & (upper < 1e300), upper, 0.0)
        count = len(self.model.workloads)
        b[:count] = self.rhs
        idle = 0.0
        if self.cuts is not None:
            b = np.append(b, self.cuts.rhs())
            idle = self.cuts.idle_term(y)
        best = _segment_min(d, self.flat.starts)
        if self.allow_unplaced:
            pen = np.array([self.penalties[wc.workload.name] for wc in self.model.workloads])
            best = np.minimum(best, pen - y[:count])
        return float(y @ b + self.rhs @ np.where(np.isfinite(best), best, 0.0) + idle)

    def run(self) -> Generated:
        """Generate until no option prices out (or ``MAX_ROUNDS``); the bound of the last
        round's duals."""
        import numpy as np

        if self.highs is None:
            self._start()
        out = Generated()
        added_before = len(self.column)
        for rounds in range(1, MAX_ROUNDS + 1):
            y = self._duals()
            if y is None:
                break
            if self.allow_unplaced:
                assert self.highs is not None
                self._primal = (np.array(self.highs.getSolution().col_value), len(self.column))
            d = self.reduced_costs(y)
            out.rounds, out.bound = rounds, self._bound(y, d)
            self._last_duals = y
            outside = np.where(self.in_lp | (self.rhs[self.flat.workload] == 0), np.inf, d)
            enter = _entering(outside, self.flat.starts)
            if not enter:
                out.converged = True
                if self.allow_unplaced:
                    rest = np.where(self.in_model, np.inf, outside)
                    self.relaxation = (out.bound, float(rest.min(initial=np.inf)))
                break
            self._add(enter)
        out.added = len(self.column) - added_before
        out.caps = tuple(Cap(wc.workload.name, len(wc.pool or ()), wc.cut)
                         for wc in self.model.workloads if wc.cut)
        return out

    def set_budgets(self, reserve: bool = True) -> None:
        """Budget rows from the model's budget room (idle reserves change it); without
        ``reserve``, the budgets themselves (what any plan within budget satisfies)."""
        for team, r in self.rows.budget.items():
            room = self.model.budget_room(team) if reserve else self.model.budgets[team]
            self.rows.upper[r] = room
            if self.highs is not None:
                self.highs.changeRowBounds(r, -_INF, self.rows.upper[r])

    # -- the MILP's columns ---------------------------------------------------
    def extend_model(self) -> int:
        """Add every option the LP holds that the model lacks to its workload's options
        (the MILP searches them); re-sort each changed list. Returns how many."""
        import numpy as np

        columns = np.array(self.column, dtype=np.int64)
        fresh = np.unique(columns[~self.in_model[columns]])
        self.in_model[fresh] = True
        changed: dict[int, list[Option]] = {}
        for j in fresh.tolist():
            wi = int(self.flat.workload[j])
            changed.setdefault(wi, []).append(
                self.make(self.model.workloads[wi], int(self.flat.position[j])))
        for wi, new in changed.items():
            wc = self.model.workloads[wi]
            wc.options = sorted([*wc.options, *new], key=option_order)
        count = sum(len(v) for v in changed.values())
        self.added_to_model += count
        return count

    def grow(self) -> None:
        """Generate, give the MILP every column and (once a plan: the re-solves of the
        idle budget rounds keep them) those of least reduced cost below the gap
        (:meth:`enumerate_columns`), and generate again while that changes
        the unplaced penalties (they scale with the dearest option: the LP must price
        what the MILP will); at most three times."""
        import numpy as np

        from planner.optimize.solve import greedy

        for _ in range(3):
            self.relaxation = None
            self.run()
            self.extend_model()
            if self.relaxation is not None and not self.enumerated:
                # an upper bound: the greedy placement, started from the LP's rounding
                upper = (greedy(self.model, keep=self.choice()).objective
                         if self._extra_per_workload() else float("inf"))
                self.enumerate_columns(upper)
                self.enumerated = True
            fresh = penalties(self.model)
            if fresh == self.penalties:
                return
            self.penalties = fresh
            if self.highs is not None:
                count = len(self.model.workloads)
                self.highs.changeColsCost(
                    count, np.arange(count, dtype=np.int32),
                    np.array([fresh[wc.workload.name] for wc in self.model.workloads]))
        self.relaxation = None

    def enumerate_columns(self, upper: float) -> int:
        """Give the MILP, per workload, up to ``EXTRA_COLUMNS`` / workloads options outside
        it of least reduced cost below ``upper - z`` (``upper``: the objective of a known
        solution; a costlier option can only be in solutions worse than it). What stays
        outside sets the margin of :meth:`search_bound`. Returns how many were added."""
        import numpy as np

        assert self.relaxation is not None and self._last_duals is not None
        value, _ = self.relaxation
        d = np.where(self.in_lp | self.in_model, np.inf, self.reduced_costs(self._last_duals))
        chosen: list[int] = []
        per_workload = self._extra_per_workload()
        if per_workload:
            f = self.flat
            order = np.lexsort((np.arange(len(d)), d, f.workload))
            rank = np.arange(len(d)) - f.starts[f.workload[order]]
            chosen = sorted(int(j) for j in order[(rank < per_workload)
                                                  & (d[order] < upper - value)])
        if chosen:
            self._add(chosen)
            self.extend_model()
        rest = np.where(self.in_lp | self.in_model, np.inf, d)
        self.relaxation = (value, float(rest.min(initial=np.inf)))
        return len(chosen)

    def _extra_per_workload(self) -> int:
        return EXTRA_COLUMNS // max(1, len(self.model.workloads))

    def search_bound(self, sol: Any) -> float | None:
        """A bound on the dollars of ``sol``'s placed set from the MILP's own dual bound,
        valid over all offers (see the module docstring), or None where it does not hold."""
        if (self.relaxation is None or sol.dual is None
                or any(v > 0 for v in self.model.idle_reserve.values())):
            return None
        value, margin = self.relaxation
        return min(float(sol.dual), value + margin) - sol.unplaced_penalty

    # -- the plan's bound ---------------------------------------------------------
    def placed_bound(self, placed: set[str]) -> Generated:
        """The LP over all offers with exactly ``placed`` placed, generated on from the
        current columns: a lower bound on the dollars (objective units without
        penalties) of placing that set. The LP is left free again (the idle reserves in
        its budget rows), the columns it generated kept. Asked again for the same set
        with no column added since, the same answer."""
        import numpy as np

        key = frozenset(placed)
        if self._placed is not None and self._placed[:2] == (key, len(self.column)):
            return self._placed[2]
        self._place_exactly(placed)
        try:
            out = self.run()
        finally:
            self._assignments(np.ones(len(self.model.workloads)), allow_unplaced=True)
            self.set_budgets()
        self._placed = (key, len(self.column), out)
        return out

    def _place_exactly(self, placed: set[str]) -> None:
        """Set the LP to place exactly ``placed``: the budgets themselves, each workload's
        assignment row at 1 or 0, no unplaced columns."""
        import numpy as np

        if self.highs is None:
            self._start()
        self.set_budgets(reserve=False)
        self._assignments(np.array([1.0 if wc.workload.name in placed else 0.0
                                    for wc in self.model.workloads]), allow_unplaced=False)

    def _assignments(self, rhs: Any, allow_unplaced: bool) -> None:
        """Set each workload's assignment row to ``rhs`` and allow or fix at 0 the
        unplaced columns."""
        import numpy as np

        assert self.highs is not None
        count = len(rhs)
        rows = np.arange(count, dtype=np.int32)
        self.rhs, self.allow_unplaced = rhs, allow_unplaced
        self.highs.changeRowsBounds(count, rows, rhs, rhs)
        self.highs.changeColsBounds(count, rows, np.zeros(count),
                                    np.full(count, _INF if allow_unplaced else 0.0))

    # -- the search's start ---------------------------------------------------------
    def choice(self) -> dict[str, Option]:
        """The last free LP's rounding: per workload it places by more than half, the
        option it gives most of that workload (the earliest LP column on ties). Only
        options of the model (every LP column is one, :meth:`extend_model`)."""
        import numpy as np

        if self._primal is None:
            return {}
        values, count = self._primal
        columns = np.array(self.column[:count], dtype=np.int64)
        x = values[np.array(self.lp_col[:count], dtype=np.int64)]
        owner = self.flat.workload[columns]
        out: dict[str, Option] = {}
        for k in _least_each(owner, -x, 1).tolist():
            wi = int(owner[k])
            if x[k] <= 1e-9 or values[wi] >= 0.5:
                continue
            wc = self.model.workloads[wi]
            assert wc.pool is not None
            variant = wc.pool.variants[int(self.flat.position[columns[k]])]
            option = next((o for o in wc.options if o.variant is variant), None)
            if option is not None:
                out[wc.workload.name] = option
        return dict(sorted(out.items()))

    # -- rounding cuts (planner.optimize.poolcuts) ------------------------------------
    def rounding_bound(self, placed: set[str], cost: float) -> Generated:
        """The LP of :meth:`placed_bound`; where its bound leaves ``cost`` (the plan's
        dollars) more than ``CUT_FROM_GAP`` above it, rounds of rounding cuts
        (:mod:`planner.optimize.poolcuts`) each followed by generation on: the largest
        bound of any round (each is valid). The LP keeps the cuts and their idle columns
        (valid for every placement) and is left placing exactly ``placed``."""
        import numpy as np

        out = self.placed_bound(placed)
        if (out.bound is None or not out.converged
                or cost - out.bound <= CUT_FROM_GAP * cost):
            return out
        self._place_exactly(placed)
        out = self.run()  # from the basis placed_bound left: no pivots
        best, cut_rounds = out.bound or 0.0, 0
        for _ in range(MAX_CUT_ROUNDS):
            assert self.highs is not None
            values = np.asarray(self.highs.getSolution().col_value)
            x = np.zeros(len(self.flat.objective))
            x[self.column] = values[self.lp_col]
            cuts = self._cuts(x)
            found = cuts.separate(x, {key: float(values[c]) for key, c in cuts.idle.items()})
            if not found:
                break
            self._add_cuts(found)
            cut_rounds += 1
            again = self.run()
            if again.bound is None:
                break
            best = max(best, again.bound)
            out = again
        out.bound, out.cut_rounds = best, cut_rounds
        return out

    def _cuts(self, x: Any) -> PoolCuts:
        """The cut set, with the stretches of every pool ``x`` uses that can have idle
        (some option holds part of a node; a node price above 0)."""
        import numpy as np

        if self.cuts is None:
            assert self.highs is not None
            self.cuts = PoolCuts(self.highs.getNumRow())
            codes, names = self._pool_codes()
            self._flat_pool, self._pool_names = codes[self.flat.variant], names
        used = np.unique(self._flat_pool[x > 1e-9])
        for code in used:
            pid = self._pool_names[int(code)]
            if pid in self.cuts.pools:
                continue
            members = np.flatnonzero(self._flat_pool == code)
            share = self.flat.share[members]
            if np.all(np.abs(share - np.round(share)) <= 1e-9):
                continue
            options = [self.make(self.model.workloads[int(self.flat.workload[j])],
                                 int(self.flat.position[j])) for j in members]
            price = min(o.node_price for o in options)
            if price > 0:
                self.cuts.pools[pid] = stretches(price, members, [o.pieces for o in options])
        return self.cuts

    def _pool_codes(self) -> tuple[Any, list[str]]:
        """A pool code per global variant (the order of :func:`_flatten`), and the names."""
        import numpy as np

        seen: set[int] = set()
        names: dict[str, int] = {}
        codes: list[int] = []
        for wc in self.model.workloads:
            pool = wc.pool
            if pool is None or len(pool) == 0 or id(pool.variants) in seen:
                continue
            seen.add(id(pool.variants))
            codes.extend(names.setdefault(v.pool_id, len(names)) for v in pool.variants)
        return np.array(codes, dtype=np.int64), sorted(names, key=names.__getitem__)

    def _pool_of(self, flat_index: int) -> str:
        return self._pool_names[int(self._flat_pool[flat_index])]

    def _add_cuts(self, found: list[Any]) -> None:
        """Add cut rows (and the idle column of each new pool stretch) to the LP."""
        import highspy
        import numpy as np

        cuts, h = self.cuts, self.highs
        assert cuts is not None and h is not None
        for cut in found:
            key = (cut.pool, cut.stretch)
            if key not in cuts.idle:
                ps = cuts.pools[cut.pool]
                cuts.idle_cost[key] = ps.price * float(ps.spans[cut.stretch])
                cuts.idle[key] = h.getNumCol()
                h.addCol(cuts.idle_cost[key], 0.0, highspy.kHighsInf, 0,
                         np.zeros(0, dtype=np.int32), np.zeros(0))
        lp_index = np.full(len(self.flat.objective), -1, dtype=np.int64)
        lp_index[self.column] = self.lp_col
        starts, index, value = [], [], []
        for cut in found:
            coef = cuts.coefficients(cut)
            cols = lp_index[cuts.pools[cut.pool].members]
            keep = (cols >= 0) & (coef != 0.0)
            starts.append(len(index))
            index.extend([*cols[keep].tolist(), cuts.idle[cut.pool, cut.stretch]])
            value.extend([*coef[keep].tolist(), cut.r])
            cuts.cuts.append(cut)
        h.addRows(len(found), np.array([cut.rhs for cut in found]),
                  np.full(len(found), highspy.kHighsInf), len(index),
                  np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32),
                  np.array(value))

class SearchRelaxation:
    """Column generation's LP as the search's relaxation
    (:class:`planner.optimize.search.RelaxedLP`): the rounding start from its last free
    solution and the bound of a placed set over all offers (:meth:`placed_bound`,
    the plan's own bound), so the search builds and solves no LP of its own."""

    def __init__(self, gen: ColumnGeneration) -> None:
        self.gen = gen
        self.solved = gen._primal is not None

    def choice(self) -> dict[str, Option]:
        return self.gen.choice()

    def bound(self, placed: set[str]) -> float | None:
        return self.gen.placed_bound(placed).bound


_INF = float("inf")


def all_offer_bound(gen: ColumnGeneration, sol: Any) -> tuple[float, Generated]:
    """The plan's lower bound over all offers: the larger of
    :meth:`ColumnGeneration.search_bound` and :meth:`ColumnGeneration.placed_bound`,
    clipped to [0, the solution's cost]."""
    searched = gen.search_bound(sol)
    result = gen.rounding_bound(set(sol.chosen), sol.cost)
    bounds = [b for b in (searched, result.bound) if b is not None]
    return max(0.0, min(max(bounds, default=0.0), sol.cost)), result


# -- helpers ------------------------------------------------------------------------
def _quiet_highs() -> Any:
    from planner.optimize.solve import _quiet_highs as quiet

    return quiet()


def _flatten(model: Model) -> _Flat:
    import numpy as np

    shapes: dict[int, int] = {}  # id(shape variants list) -> global offset
    offset = 0
    parts: dict[str, list[Any]] = {k: [] for k in ("workload", "variant", "position",
                                                    "objective", "monthly", "share")}
    starts = [0]
    for wi, wc in enumerate(model.workloads):
        pool = wc.pool
        if pool is None or len(pool) == 0:
            starts.append(starts[-1])
            continue
        key = id(pool.variants)
        if key not in shapes:
            shapes[key] = offset
            offset += len(pool.variants)
        parts["workload"].append(np.full(len(pool), wi, dtype=np.int32))
        parts["variant"].append(pool.index.astype(np.int32) + shapes[key])
        parts["position"].append(pool.index)
        parts["objective"].append(pool.objective)
        parts["monthly"].append(pool.monthly)
        parts["share"].append(pool.share)
        starts.append(starts[-1] + len(pool))

    def cat(name: str, dtype: Any) -> Any:
        return np.concatenate(parts[name]).astype(dtype) if parts[name] else np.zeros(0, dtype)

    return _Flat(cat("workload", np.int32), cat("variant", np.int32), cat("position", np.int32),
                 cat("objective", np.float64), cat("monthly", np.float64),
                 cat("share", np.float64), np.array(starts, dtype=np.int64))


def _rows(model: Model) -> _Rows:
    count = len(model.workloads)
    lower, upper = [1.0] * count, [1.0] * count
    quota, capacity, budget = {}, {}, {}
    for key, limit in sorted(model.quotas.items()):
        quota[key] = len(lower)
        lower.append(-_INF)
        upper.append(limit.limit)
    for cluster, (limit, _gpus) in sorted(model.capacities.items()):
        capacity[cluster] = len(lower)
        lower.append(-_INF)
        upper.append(limit.limit)
    for team in sorted(model.budgets):
        budget[team] = len(lower)
        lower.append(-_INF)
        upper.append(model.budget_room(team))
    return _Rows(count, quota, capacity, budget, lower, upper)


@dataclass
class _VariantRows:
    quota: Any  # int64 row per global variant, -1 none
    units: Any
    capacity: Any


def _variant_rows(model: Model, rows: _Rows) -> _VariantRows:
    """Quota row, units per node and capacity row of every variant of every shape."""
    import numpy as np

    from planner.catalog.quotafamily import quota_units_per_node

    seen: set[int] = set()
    quota, units, capacity = [], [], []
    for wc in model.workloads:
        pool = wc.pool
        if pool is None or len(pool) == 0 or id(pool.variants) in seen:
            continue
        seen.add(id(pool.variants))
        for v in pool.variants:
            offer = v.offer
            quota.append(rows.quota.get(_quota_key(v), -1))
            units.append(quota_units_per_node(offer.cloud, offer.vcpus, offer.gpus))
            capacity.append(rows.capacity.get(offer.region, -1) if offer.cloud == "k8s" else -1)
    return _VariantRows(np.array(quota, dtype=np.int64), np.array(units, dtype=np.float64),
                        np.array(capacity, dtype=np.int64))


def _quota_key(v: Variant) -> tuple[str, str, str, str]:
    from planner.catalog.quotafamily import normalize_family

    cloud, region, family, capacity = variant_domain(v)
    return (cloud, region, normalize_family(family), capacity)


def _least_each(owner: Any, value: Any, k: int) -> Any:
    """Positions of each owner's ``k`` least values (the earlier on ties), in position
    order."""
    import numpy as np

    order = np.lexsort((np.arange(len(owner)), value, owner))
    ranked = owner[order]
    rank = np.arange(len(order)) - np.searchsorted(ranked, ranked, side="left")
    return np.sort(order[rank < k])


def _segment_min(values: Any, starts: Any) -> Any:
    """Minimum of each workload's slice (inf for an empty one)."""
    import numpy as np

    out = np.full(len(starts) - 1, np.inf)
    nonempty = starts[1:] > starts[:-1]
    if values.size:
        mins = np.minimum.reduceat(values, starts[:-1][nonempty])
        out[nonempty] = mins
    return out


def _entering(d: Any, starts: Any) -> list[int]:
    """Per workload, the first option of least reduced cost when below -ENTER_TOL."""
    import numpy as np

    if d.size == 0:
        return []
    best = _segment_min(d, starts)
    count = len(starts) - 1
    owner = np.repeat(np.arange(count), np.diff(starts))
    hit = np.flatnonzero((d <= best[owner]) & (d < -ENTER_TOL))
    if hit.size == 0:
        return []
    _, first = np.unique(owner[hit], return_index=True)
    return [int(j) for j in hit[first]]


__all__ = ["Cap", "ColumnGeneration", "Generated", "OptionPool", "SearchRelaxation",
           "all_offer_bound", "quota_key"]
