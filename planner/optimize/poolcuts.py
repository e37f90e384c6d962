"""Rounding cuts: the whole nodes of a pool in column generation's LP bound.

Column generation's LP (:mod:`planner.optimize.colgen`) charges every option its
share-hours at the node rate: a pool's nodes are fractional there. On a shared pool
(slots of time-slicing, MPS or MIG, or 1-GPU jobs on an 8- or 16-GPU node) that is
where the plan and the LP part: a quarter-A100 job alone pays a whole a2-highgpu-1g in
the plan and a quarter of it in the LP, and the LP spreads jobs over the pool of
cheapest GPU-hour (a 16-GPU node) at a fraction of a node no plan can buy. This module
adds valid inequalities that make the LP pay the rounding, with the idle they imply.

The inequality (mixed-integer rounding of the cover row)
    Take a pool p and a stretch I of the month between two consecutive distinct piece
    hours of p's options (over every option of every workload in p, not only the LP's:
    on I each option o holds a constant share a_o, the sum of its pieces with at least
    that many hours; :func:`planner.plancost.pieces`). At every hour t of I the pool runs
    n(t) whole nodes, an integer, with n(t) >= S(t) = sum_o a_o x_o (the cost
    function's rule: ceil of the running share). For any set T of p's options
    with a(T) = sum_{o in T} a_o not an integer, r = a(T) - floor(a(T)), and
    z = sum_{o in T} a_o (1 - x_o) >= 0 (x_o <= 1: each workload's options sum to at
    most 1), n(t) + z >= a(T), so the MIR inequality of that row holds:

        r n(t) + sum_{o in T} a_o (1 - x_o) >= r ceil(a(T)).

    (T one job of share a < 1 gives n(t) >= x_o: a job alone pays a whole node.) Average
    it over I: with N = the pool's mean nodes over I and e = N - sum_o a_o x_o its mean
    idle, the row of the LP is

        sum_{o in p} r a_o x_o - sum_{o in T} a_o x_o + r e >= r ceil(a(T)) - a(T)

    on a column e >= 0 (one per pool and stretch, shared by its cuts) of cost node $/h x
    |I|: the nodes' hours the options' share-hours do not pay. Every placement with
    its cheapest node counts (n(t) = ceil(S(t)), so 0 <= e < 1) satisfies every such row
    at its cost, so the LP with them still bounds the optimum from below.

Pricing and the bound with cuts (the argument of :mod:`planner.optimize.colgen`, redone)
    A cut row is a >= row: its dual mu is clipped to mu >= 0. An option o of p has
    coefficient r a_o - [o in T] a_o in each cut of p, so its reduced cost gains
    -sum_k mu_k coef_k(o) (an option outside T of a cut fills idle: cheaper). For duals y
    sign-feasible and any x, e of the full model with 0 <= e <= 1 (which holds where
    nodes are counted as above, so for an optimum),
    c x + c_e e = y A x + y_e e + d x + d_e e >= y b + d x + min(0, d_e), so the bound
    of :meth:`ColumnGeneration._bound` gains sum_e min(0, d_e) (0 at an LP optimum, where
    d_e >= 0) and b the cuts' right-hand sides. Options of pools with no cut price as
    before.

When: only where the LP's bound leaves the plan more than ``CUT_FROM_GAP`` above it.
Separation: after the LP of the plan's placed set converged, for each pool and stretch
with a fractional running share, T = the options the LP uses there (and those it uses
by at least half); a cut enters when it is violated by more than ``MIN_VIOLATION`` of a
node, at most ``MAX_CUTS`` a round by dollars of violation, and the LP is priced and
solved again; at most ``MAX_ROUNDS`` rounds (work limits: the same bound on any machine).
Each round's bound is valid; the largest is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.plancost import SHARE_TOLERANCE, whole_nodes

MAX_ROUNDS = 6
# Cuts only where the LP's bound leaves the plan more than this above it (the search's own
# target, planner.optimize.search.ROUNDED_GAP): below, they would cost time (2.9 s of CPU on
# plan_scale's 5,000, at 0.29 %) to move a gap that already meets it.
CUT_FROM_GAP = 0.01
MAX_CUTS = 1000  # cut rows a round
MIN_VIOLATION = 1e-4  # nodes' worth a cut must be violated by to enter
INTEGRAL = 1e-6  # a(T) this close to an integer gives no cut


@dataclass
class _PoolStretches:
    """One pool's options over all workloads (flat indices), and the share a[o, l] each
    holds in stretch l (longest hours first; spans in hours)."""

    price: float  # node $/h after discount (objective units per node-hour)
    members: Any  # int64 flat indices
    held: Any  # float64 (members x stretches)
    spans: Any  # float64 hours of each stretch


@dataclass
class _Cut:
    pool: str
    stretch: int
    r: float
    in_t: Any  # bool over the pool's members
    rhs: float


@dataclass
class PoolCuts:
    """The cut rows and idle columns added to one :class:`ColumnGeneration`'s LP.

    ``first_row``: the LP row of the first cut (rows before it are colgen's own)."""

    first_row: int
    pools: dict[str, _PoolStretches] = field(default_factory=dict)
    cuts: list[_Cut] = field(default_factory=list)
    idle: dict[tuple[str, int], int] = field(default_factory=dict)  # -> LP column
    idle_cost: dict[tuple[str, int], float] = field(default_factory=dict)

    # -- pricing ----------------------------------------------------------------
    def adjust(self, d: Any, y: Any) -> None:
        """Subtract every cut's dual times each option's coefficient from ``d`` (in place)."""
        for k, cut in enumerate(self.cuts):
            mu = float(y[self.first_row + k])
            if mu > 0.0:
                d[self.pools[cut.pool].members] -= mu * self.coefficients(cut)

    def coefficients(self, cut: _Cut) -> Any:
        """The cut's coefficient of each of its pool's members."""
        a = self.pools[cut.pool].held[:, cut.stretch]
        return cut.r * a - cut.in_t * a

    def rhs(self) -> list[float]:
        return [cut.rhs for cut in self.cuts]

    def idle_term(self, y: Any) -> float:
        """sum over idle columns of min(0, reduced cost) (each idle column is <= 1)."""
        reduced = dict(self.idle_cost)
        for k, cut in enumerate(self.cuts):
            reduced[cut.pool, cut.stretch] -= float(y[self.first_row + k]) * cut.r
        return sum(min(0.0, v) for v in reduced.values())

    def entries(self, pool: str, flat_index: int) -> list[tuple[int, float]]:
        """(LP row, coefficient) of a new option column of ``pool`` in the cut rows."""
        stretches = self.pools.get(pool)
        if stretches is None:
            return []
        where = int(_position(stretches.members, flat_index))
        out = []
        for k, cut in enumerate(self.cuts):
            if cut.pool == pool:
                a = float(stretches.held[where, cut.stretch])
                value = cut.r * a - (a if cut.in_t[where] else 0.0)
                if value != 0.0:
                    out.append((self.first_row + k, value))
        return out

    # -- separation ---------------------------------------------------------------
    def separate(self, x: Any, idle: dict[tuple[str, int], float]) -> list[_Cut]:
        """Violated cuts at the LP point ``x`` (per flat index, 0 outside the LP) and
        idle values ``idle``: the most violated (in dollars) first, at most ``MAX_CUTS``."""
        found: list[tuple[float, int, _Cut]] = []
        for pid, ps in sorted(self.pools.items()):
            xs = x[ps.members]
            if not (xs > 1e-9).any():
                continue
            running = xs @ ps.held  # S per stretch
            for stretch in range(len(ps.spans)):
                a = ps.held[:, stretch]
                used = (xs > 1e-9) & (a > 0)
                if not used.any():
                    continue
                e = idle.get((pid, stretch), 0.0)
                best = None
                for in_t in (used, used & (xs >= 0.5)):
                    cut = _mir(pid, stretch, a, in_t)
                    if cut is None:
                        continue
                    lhs = (cut.r * (running[stretch] + e)
                           - float((a * in_t) @ xs))
                    violation = cut.rhs - lhs
                    if violation > MIN_VIOLATION and (best is None or violation > best[0]):
                        best = (violation, cut)
                if best is not None:
                    dollars = best[0] / best[1].r * ps.price * float(ps.spans[stretch])
                    found.append((-dollars, len(found), best[1]))
        found.sort(key=lambda item: item[:2])
        return [cut for _, _, cut in found[:MAX_CUTS]]


def _mir(pool: str, stretch: int, a: Any, in_t: Any) -> _Cut | None:
    """The rounding cut of set ``in_t`` (None when its share sum is whole)."""
    total = float(a[in_t].sum())
    ceil = whole_nodes(total)
    r = total - (ceil - 1)
    if r <= INTEGRAL + SHARE_TOLERANCE or r >= 1.0 - INTEGRAL:
        return None
    return _Cut(pool, stretch, r, in_t.copy(), r * ceil - total)


def _position(members: Any, flat_index: int) -> int:
    import numpy as np

    return int(np.searchsorted(members, flat_index))


def stretches(price: float, members: Any, pieces: list[tuple[tuple[float, float], ...]]
              ) -> _PoolStretches:
    """A pool's stretches from its members' pieces (hours, share): the distinct piece
    hours, longest first; a member holds in stretch l the sum of its pieces with at least
    that stretch's top hours."""
    import numpy as np

    hours = sorted({h for ps in pieces for h, s in ps if h > 0 and s > 0}, reverse=True)
    held = np.zeros((len(pieces), len(hours)))
    level = {h: i for i, h in enumerate(hours)}
    for m, ps in enumerate(pieces):
        for h, s in ps:
            if h > 0 and s > 0:
                held[m, level[h]:] += s
    spans = np.array([h - (hours[i + 1] if i + 1 < len(hours) else 0.0)
                      for i, h in enumerate(hours)])
    return _PoolStretches(price, members, held, spans)
