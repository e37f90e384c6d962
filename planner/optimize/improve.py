"""Local search on a placement: moves that make the plan cheaper, until none does.

The MILP (:mod:`planner.optimize.solve`) prices whole nodes; the greedy start
(:func:`planner.optimize.solve.greedy`) places workloads one by one, so it leaves idle
where a later job would have filled a node an earlier one opened, or where a job
sits alone on a node of a pool another job's node has room in. :func:`improve` takes a
placement and repeats three kinds of move, each kept only where it lowers the MILP
objective (own lines, move price and tie-break, plus the whole-node hours of the
pools; an unplaced workload costs its penalty) and every quota, cluster capacity and
budget row still holds:

* *relocate*: workload by workload (the model's order, by name), the option that
  lowers the objective most (a workload is looked at again only once something its
  best move depends on has changed);
* *exchange* (:func:`swap_in`): an unplaced workload takes the place, or the budget
  room, of a placed one;
* *shrink* (:func:`shrink_pools`): jobs leave a pool with idle together, so that it
  runs a node fewer.

It stops when a sweep of all three changes nothing, or after ``MAX_SWEEPS`` sweeps:
work limits only, so the result is the same on any machine. Each move lowers the
objective by more than ``MIN_GAIN`` (dollars a month), so the search ends.
Node-hours are computed on float shares with the cost function's tolerance
(:func:`planner.plancost.whole_nodes`); the plan is priced exactly by
:mod:`planner.plancost` afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planner.optimize.candidates import Option, WorkloadCandidates
from planner.optimize.solve import (
    RANK_EPS,
    Model,
    Solution,
    alone_node_hours,
    objective_of,
    peaks,
    penalties,
    quota_key,
)
from planner.plancost import SHARE_TOLERANCE, whole_nodes, whole_share_hours

MAX_SWEEPS = 25
MIN_GAIN = 1e-6  # $/month: a move must lower the objective by more than this


def node_hours(by_hours: dict[float, float]) -> float:
    """Whole-node hours a month of a pool whose jobs hold ``by_hours`` (hours -> share)."""
    total, running = 0.0, 0.0
    hours = sorted(by_hours, reverse=True)
    for i, h in enumerate(hours):
        running += by_hours[h]
        below = hours[i + 1] if i + 1 < len(hours) else 0.0
        total += (h - below) * whole_nodes(running)
    return total


def own(o: Option) -> float:
    """The objective's part of an option that is not its pool's nodes (as the MILP)."""
    return o.objective - o.compute + o.move + RANK_EPS * o.rank


def peak_share(o: Option) -> float:
    """Nodes' worth ``o`` holds when every job runs (hour 0)."""
    return sum(share for hours, share in o.pieces if hours > 0 and share > 0)


@dataclass
class _Pool:
    """One pool's jobs and what they hold: hours -> share, peak share and nodes. Its levels
    (longest hours first: hours, span down to the next level, running share) are worked
    out when first needed: a pool whose every share is a whole number of nodes
    runs exactly its jobs' share-hours, and a job of whole nodes adds or frees exactly
    its own in any pool (a whole number more at every hour is that many more nodes), so
    most pools never need them."""

    price: float
    units: float
    quota: tuple[str, str, str, str]
    cluster: str | None
    by_hours: dict[float, float] = field(default_factory=lambda: defaultdict(float))
    share: float = 0.0
    hours: float = 0.0  # node-hours a month
    _levels: Any = None  # (steps, arrays or None), or None until needed

    @property
    def nodes(self) -> int:
        return whole_nodes(self.share)

    def with_pieces(self, pieces: tuple[tuple[float, float], ...], sign: float) -> dict[float, float]:
        out = dict(self.by_hours)
        for h, s in pieces:
            if h > 0 and s > 0:
                out[h] = out.get(h, 0.0) + sign * s
                if out[h] <= 1e-9:
                    del out[h]
        return out

    def refresh(self) -> None:
        """Node-hours from ``by_hours`` (after a job came or went); levels on demand."""
        self._levels = None
        if all(v.is_integer() for v in self.by_hours.values()):
            self.hours = sum(h * v for h, v in self.by_hours.items())
        else:
            steps, _ = self.levels()
            self.hours = sum(span * whole_nodes(r) for _, span, r in steps)

    def levels(self) -> tuple[tuple[tuple[float, float, float], ...], Any]:
        """The steps (hours, span, running share), longest hours first, and with more than
        ``ARRAY_LEVELS`` of them the same as numpy arrays (hours, low ends, spans, running)."""
        if self._levels is None:
            hours = sorted(self.by_hours, reverse=True)
            running, steps = 0.0, []
            for i, h in enumerate(hours):
                running += self.by_hours[h]
                below = hours[i + 1] if i + 1 < len(hours) else 0.0
                steps.append((h, h - below, running))
            arrays = None
            if len(steps) > ARRAY_LEVELS:
                import numpy as np

                tops, spans, runs = (np.array(column) for column in zip(*steps, strict=True))
                arrays = (tops, tops - spans, spans, runs)
            self._levels = (tuple(steps), arrays)
        return self._levels

    def added_hours(self, pieces: tuple[tuple[float, float], ...]) -> float:
        """Node-hours a job of these pieces adds (one piece: from the levels, no copy)."""
        held = whole_share_hours(pieces)
        if held is not None:
            return held
        job = _positive(pieces)
        if len(job) != 1:
            return node_hours(self.with_pieces(pieces, 1.0)) - self.hours
        (until, share), = job.items()
        steps, arrays = self.levels()
        top = steps[0][0] if steps else 0.0
        total = (until - top) * whole_nodes(share) if until > top else 0.0
        if arrays is not None:
            return total + _added_on_arrays(arrays, until, share)
        for h, span, running in steps:
            low = h - span
            if low < until:
                total += (min(h, until) - low) * (whole_nodes(running + share)
                                                  - whole_nodes(running))
        return total

    def freed_hours(self, pieces: tuple[tuple[float, float], ...]) -> float:
        """Node-hours taking out a job of these pieces (one it holds) saves."""
        held = whole_share_hours(pieces)
        if held is not None:
            return held
        job = _positive(pieces)
        if len(job) != 1:
            return self.hours - node_hours(self.with_pieces(pieces, -1.0))
        (until, share), = job.items()
        steps, arrays = self.levels()
        if arrays is not None:
            return _freed_on_arrays(arrays, until, share)
        return sum(span * (whole_nodes(running) - whole_nodes(running - share))
                   for h, span, running in steps if h <= until)


ARRAY_LEVELS = 24  # a pool with more levels works on numpy arrays (one call, not a loop)


def _whole(share: Any) -> Any:
    """:func:`planner.plancost.whole_nodes` of an array."""
    import numpy as np

    return np.maximum(0.0, np.ceil(share - SHARE_TOLERANCE))


def _added_on_arrays(arrays: Any, until: float, share: float) -> float:
    """:meth:`_Pool.added_hours` below the top level, on the pool's arrays: every level
    whose low end is below ``until`` (a suffix: low ends fall with the levels)."""
    import numpy as np

    top, low, _, running = arrays
    first = int(np.searchsorted(-low, -until, side="right"))
    overlap = np.minimum(top[first:], until) - low[first:]
    grown = _whole(running[first:] + share) - _whole(running[first:])
    return float((overlap * grown).sum())


def _freed_on_arrays(arrays: Any, until: float, share: float) -> float:
    """:meth:`_Pool.freed_hours` on the pool's arrays: the levels at or below ``until``."""
    import numpy as np

    top, _, span, running = arrays
    first = int(np.searchsorted(-top, -until, side="left"))
    shrunk = _whole(running[first:]) - _whole(running[first:] - share)
    return float((span[first:] * shrunk).sum())


@dataclass
class _Change:
    """Moving one workload to ``option`` lowers the objective by ``gain``."""

    gain: float  # objective decrease, $/month
    option: Option


class _State:
    """A placement with its pools, quota, capacity and budget use kept current."""

    def __init__(self, model: Model, chosen: dict[str, Option]) -> None:
        self.model = model
        self.penalty = penalties(model)
        self.chosen = dict(chosen)
        self.pools: dict[str, _Pool] = {}
        self.quota: dict[tuple[str, str, str, str], float] = defaultdict(float)
        self.cluster: dict[str, float] = defaultdict(float)
        self.spent: dict[str, float] = defaultdict(float)
        self.clock = 0  # counts changes; ``stamps``: when each pool, row or team last changed
        self.stamps: dict[tuple[str, Any], int] = {}
        self._own: dict[int, float] = {}  # id(option) -> own(option), as first asked
        self._split: dict[str, tuple[list[tuple[float, int, Option]], list[Option]]] = {}
        self.trying = 0  # inside trial(): moves are undone, so they stamp nothing
        self._add_all(sorted(self.chosen.values(), key=lambda o: o.workload))

    def _add_all(self, options: list[Option]) -> None:
        """Place ``options`` at once: each pool's levels and nodes worked out once."""
        touched: dict[str, _Pool] = {}
        for o in options:
            p = touched[o.pool_id] = self.pool(o)
            for h, share in o.pieces:
                if h > 0 and share > 0:
                    p.by_hours[h] += share
            p.share += peak_share(o)
            self.spent[self.model.teams[o.workload]] += o.monthly
        for p in touched.values():
            p.refresh()
            self.quota[p.quota] += p.nodes * p.units
            if p.cluster is not None:
                self.cluster[p.cluster] += p.nodes

    def _stamp(self, *keys: tuple[str, Any]) -> None:
        if self.trying:
            return
        self.clock += 1
        for key in keys:
            self.stamps[key] = self.clock

    @contextlib.contextmanager
    def trial(self) -> Iterator[None]:
        """Moves made and undone within leave no stamps: the placement is as it was, so
        no workload, pool or driver needs another look because of them."""
        self.trying += 1
        try:
            yield
        finally:
            self.trying -= 1

    def changed_since(self, keys: tuple[tuple[str, Any], ...], clock: int) -> bool:
        """Whether any of ``keys`` (:func:`_inputs`) changed after ``clock``."""
        stamps = self.stamps
        return any(stamps.get(key, 0) > clock for key in keys)

    def pool(self, o: Option) -> _Pool:
        p = self.pools.get(o.pool_id)
        if p is None:
            cluster = o.offer.region if o.offer.cloud == "k8s" else None
            p = self.pools[o.pool_id] = _Pool(o.node_price, o.units_per_node, quota_key(o),
                                              cluster)
        return p

    def _set(self, p: _Pool, by_hours: dict[float, float], share: float) -> None:
        before = p.nodes
        p.by_hours = defaultdict(float, by_hours)
        p.share = max(0.0, share)
        p.refresh()
        delta = p.nodes - before
        if delta:
            self.quota[p.quota] += delta * p.units
            self._stamp(("quota", p.quota))
            if p.cluster is not None:
                self.cluster[p.cluster] += delta
                self._stamp(("cluster", p.cluster))

    def _add(self, o: Option) -> None:
        p = self.pool(o)
        self._set(p, p.with_pieces(o.pieces, 1.0), p.share + peak_share(o))
        self.spent[self.model.teams[o.workload]] += o.monthly
        self._stamp(("pool", o.pool_id), ("team", self.model.teams[o.workload]))

    def _remove(self, o: Option) -> None:
        p = self.pool(o)
        self._set(p, p.with_pieces(o.pieces, -1.0), p.share - peak_share(o))
        self.spent[self.model.teams[o.workload]] -= o.monthly
        self._stamp(("pool", o.pool_id), ("team", self.model.teams[o.workload]))

    def unplace(self, name: str) -> None:
        self._remove(self.chosen.pop(name))

    def move(self, name: str, to: Option) -> None:
        current = self.chosen.get(name)
        if current is not None:
            self._remove(current)
        self._add(to)
        self.chosen[name] = to

    # -- evaluating a move ------------------------------------------------------
    def freed(self, name: str) -> float:
        """Objective saved by taking ``name`` out: its penalty when unplaced (nothing to
        free: the penalty is what placing it saves), else its own lines and the
        node-hours its pool no longer runs."""
        current = self.chosen.get(name)
        if current is None:
            return self.penalty[name]
        p = self.pools[current.pool_id]
        return own(current) + p.price * p.freed_hours(current.pieces)

    def added(self, o: Option) -> float:
        """Objective ``o`` adds: own lines and the node-hours its pool runs more (its
        workload not in that pool now)."""
        held = whole_share_hours(o.pieces)
        if held is not None:  # the same in any pool (see _Pool)
            return self._own_of(o) + o.node_price * held
        p = self.pools.get(o.pool_id)
        hours = p.added_hours(o.pieces) if p is not None else alone_node_hours(o.pieces)
        return self._own_of(o) + o.node_price * hours

    def _own_of(self, o: Option) -> float:
        mine = self._own.get(id(o))
        if mine is None:
            mine = self._own[id(o)] = own(o)
        return mine

    def _sorted_options(self, wc: WorkloadCandidates) -> tuple[list[tuple[float, int, Option]],
                                                               list[Option]]:
        """``wc``'s options of whole nodes, with what each adds (the same in any state),
        least first (then by position), and the others (what they add depends on their
        pool's jobs), in order. Worked out once a workload."""
        known = self._split.get(wc.workload.name)
        if known is None:
            whole, shared = [], []
            for i, o in enumerate(wc.options):
                if whole_share_hours(o.pieces) is None:
                    shared.append(o)
                else:
                    whole.append((self.added(o), i, o))
            known = self._split[wc.workload.name] = (sorted(whole, key=lambda t: t[:2]), shared)
        return known

    def best_move(self, wc: WorkloadCandidates, cheaper_by: float | None = None,
                  forced: bool = False) -> _Change | None:
        """The feasible option of ``wc`` in another pool that lowers the objective most,
        if any does. ``forced``: the best even if it raises the objective. With
        ``cheaper_by``, the best (forced) among those whose monthly lines are at least
        that much below the current option's (to make budget room)."""
        name = wc.workload.name
        current = self.chosen.get(name)
        freed = self.freed(name)
        floor = MIN_GAIN if cheaper_by is None and not forced else -math.inf
        budget = self._budget_left(name, current)
        most = (current.monthly - cheaper_by if cheaper_by is not None and current is not None
                else -math.inf if cheaper_by is not None else math.inf)
        whole, shared = self._sorted_options(wc)
        best: _Change | None = None
        for adds, _, o in whole:  # least added first: the first that may go is their best
            if freed - adds <= floor:
                break
            if self._may_go(current, o, budget, most) and self._fits(current, o):
                best = _Change(freed - adds, o)
                break
        for o in shared:
            if not self._may_go(current, o, budget, most):
                continue
            gain = freed - self.added(o)
            if gain > floor and (best is None or gain > best.gain + MIN_GAIN) \
                    and self._fits(current, o):
                best = _Change(gain, o)
        return best

    @staticmethod
    def _may_go(current: Option | None, o: Option, budget: float, most: float) -> bool:
        """Whether ``o`` is in another pool and its monthly lines within the budget left
        (the cheap row first: most options of a full team fail it) and ``most``."""
        return ((current is None or o.pool_id != current.pool_id)
                and o.monthly <= budget and o.monthly <= most)

    def _budget_left(self, name: str, current: Option | None) -> float:
        """Monthly lines the workload's team budget leaves it with ``current`` taken out
        (infinite without a budget)."""
        team = self.model.teams[name]
        if team not in self.model.budgets:
            return math.inf
        spent = self.spent[team] - (current.monthly if current is not None else 0.0)
        return self.model.budget_room(team) - spent + 1e-9

    def _fits(self, current: Option | None, o: Option) -> bool:
        """Whether moving ``current``'s workload to ``o`` keeps every row."""
        model = self.model
        team = model.teams[o.workload]
        if team in model.budgets:
            spent = self.spent[team] - (current.monthly if current is not None else 0.0)
            if spent + o.monthly > model.budget_room(team) + 1e-9:
                return False
        target = self.pool(o)
        grow = whole_nodes(target.share + peak_share(o)) - target.nodes
        if grow <= 0:
            return True
        quota_use = self.quota[target.quota] + grow * target.units
        cluster_use = (self.cluster[target.cluster] + grow) if target.cluster else 0.0
        if current is not None:  # nodes the move frees count where they share a row
            source = self.pools[current.pool_id]
            shrink = source.nodes - whole_nodes(source.share - peak_share(current))
            if source.quota == target.quota:
                quota_use -= shrink * source.units
            if target.cluster and source.cluster == target.cluster:
                cluster_use -= shrink
        q = model.quotas.get(target.quota)
        if q is not None and quota_use > q.limit + 1e-9:
            return False
        if target.cluster is not None:
            cap = model.capacities.get(target.cluster)
            if cap is not None and cluster_use > cap[0].limit + 1e-9:
                return False
        return True


@functools.lru_cache(maxsize=65536)
def _positive(pieces: tuple[tuple[float, float], ...]) -> dict[float, float]:
    """A job's pieces that hold anything, hours -> share (options share their pieces:
    computed once each; callers never change the dict)."""
    out: dict[float, float] = defaultdict(float)
    for h, s in pieces:
        if h > 0 and s > 0:
            out[h] += s
    return dict(out)


SWAP_TRIES = 24  # placed team-mates or quota neighbours tried for each unplaced workload
SWAP_DRIVERS = 64  # unplaced workloads (by name) that drive an exchange, per sweep
SWAP_WAITING = 3  # other unplaced team-mates that may follow a driver into the room


def _rival_lists(state: _State, model: Model) -> dict[tuple[str, Any], list[str]]:
    """The dearest placed workloads (at most ``2 x SWAP_TRIES``, by monthly lines then
    name) of each budgeted team and each quota domain: where :func:`_rivals` looks."""
    lists: dict[tuple[str, Any], list[str]] = defaultdict(list)
    for name, o in state.chosen.items():
        team = model.teams[name]
        if team in model.budgets:
            lists[("team", team)].append(name)
        lists[("quota", quota_key(o))].append(name)
    return {key: heapq.nsmallest(2 * SWAP_TRIES, names,
                                 key=lambda v: (-state.chosen[v].monthly, v))
            for key, names in lists.items()}


def _rivals(state: _State, model: Model, wc: WorkloadCandidates,
            lists: dict[tuple[str, Any], list[str]]) -> list[str]:
    """Placed workloads an unplaced one could take room from, dearest first (at most
    ``SWAP_TRIES``): its team's (when the team has a budget) and those in a quota domain
    one of its options draws on, from ``lists`` (:func:`_rival_lists`) where still
    placed."""
    keys = {("team", model.teams[wc.workload.name])} | {("quota", quota_key(o))
                                                        for o in wc.options}
    found = {v for key in keys for v in lists.get(key, ()) if v in state.chosen}
    return sorted(found, key=lambda v: (-state.chosen[v].monthly, v))[:SWAP_TRIES]


def swap_in(state: _State, model: Model, inputs: dict[str, tuple[tuple[str, Any], ...]],
            tried: dict[str, int]) -> int:
    """Place unplaced workloads by exchanges with a rival (:func:`_rivals`), each of the
    first ``SWAP_DRIVERS`` unplaced workloads (by name) driving one, where that lowers
    the objective (a driver that found none, in ``tried`` with the clock then, drives
    again only once one of its ``inputs`` changed), penalties included (leaving out a
    lower-priority workload is worth less). The rival either

    * moves to an option whose monthly lines are lower by what the team's budget lacks
      (*make room*), or
    * leaves (*swap*);

    then the driver and up to ``SWAP_WAITING`` other unplaced workloads of its team (by
    name) take their best options where one now fits, so one dear workload can make way
    for two cheap ones. Returns how many exchanges were made."""
    unplaced = [wc for wc in model.workloads
                if wc.workload.name not in state.chosen and wc.options]
    if not unplaced:
        return 0
    drivers = [wc for wc in unplaced if wc.workload.name not in tried
               or state.changed_since(inputs.get(wc.workload.name, ()),
                                      tried[wc.workload.name])][:SWAP_DRIVERS]
    by_name = {wc.workload.name: wc for wc in model.workloads}
    by_team: dict[str, list[WorkloadCandidates]] = defaultdict(list)
    for wc in unplaced:
        by_team[model.teams[wc.workload.name]].append(wc)
    lists = _rival_lists(state, model)
    made = 0
    for wc in drivers:
        name = wc.workload.name
        if name in state.chosen:
            continue
        team = model.teams[name]
        short = (wc.options[0].monthly - (model.budget_room(team) - state.spent[team])
                 if team in model.budgets else 0.0)
        waiting = [wc] + [u for u in by_team[team]
                          if u is not wc and u.workload.name not in state.chosen][:SWAP_WAITING]
        best: tuple[float, list[tuple[str, Option | None]]] | None = None
        for v in _rivals(state, model, wc, lists):
            room = state.best_move(by_name[v], cheaper_by=short) if short > 0 else None
            for to in ([room.option] if room is not None else []) + [None]:
                gain, moves = _try_exchange(state, v, to, waiting)
                if gain > MIN_GAIN and (best is None or gain > best[0] + MIN_GAIN):
                    best = (gain, moves)
        if best is None:
            tried[name] = state.clock
            continue
        made += 1
        for moved, option in best[1]:
            if option is None:
                state.unplace(moved)
            else:
                state.move(moved, option)
    return made


def _try_exchange(state: _State, rival: str, to: Option | None,
                  waiting: list[WorkloadCandidates]) -> tuple[float, list[tuple[str, Option | None]]]:
    """The objective's fall if ``rival`` moves to ``to`` (None: leaves) and then each of
    ``waiting`` takes its best option where one fits, with the moves in order; the state
    is left as it was."""
    out = state.chosen[rival]
    gain = state.freed(rival) - (state.added(to) if to is not None else state.penalty[rival])
    moves: list[tuple[str, Option | None]] = [(rival, to)]
    with state.trial():
        if to is None:
            state.unplace(rival)
        else:
            state.move(rival, to)
        for u in waiting:
            change = state.best_move(u)
            if change is not None:
                state.move(u.workload.name, change.option)
                moves.append((u.workload.name, change.option))
                gain += change.gain
        for moved, _ in reversed(moves[1:]):
            state.unplace(moved)
        state.move(rival, out)
    return gain, moves


def shrink_pools(state: _State, model: Model, inputs: dict[str, tuple[tuple[str, Any], ...]],
                 tried: dict[str, int], seen: dict[str, tuple[int, _Change | None]]) -> int:
    """Close nodes no single move closes: for each pool with idle (by id), its jobs move
    one after another, each to its best option elsewhere, and the prefix of those moves
    that lowers the objective most is kept, if any lowers it: enough jobs leave for the
    pool to run a node fewer (or none), each landing where that costs least, such as the
    idle of another pool. Three orders are tried (:func:`_shrink_orders`; at most
    ``SHRINK_MOVES`` jobs each) and the best kept. A pool where none did (in ``tried``
    with the clock then) is tried again only once one of its jobs' ``inputs`` changed;
    ``seen`` keeps each job's best move between calls (:func:`_shrink_orders`).
    Returns how many pools shrank."""
    by_name = {wc.workload.name: wc for wc in model.workloads}
    members: dict[str, list[str]] = defaultdict(list)
    for name, o in sorted(state.chosen.items()):
        members[o.pool_id].append(name)
    shrunk = 0
    for pool_id, names in sorted(members.items()):
        p = state.pools[pool_id]
        if p.hours - sum(h * s for h, s in p.by_hours.items()) <= IDLE_HOURS:
            continue
        if pool_id in tried and not any(state.changed_since(inputs[n], tried[pool_id])
                                        for n in names):
            continue  # nothing any of its jobs' moves depend on changed since
        best: tuple[float, list[tuple[str, Option]]] = (MIN_GAIN, [])
        for order in _shrink_orders(state, [by_name[n] for n in names], inputs, seen):
            gain, moves = _best_prefix(state, by_name, order[:SHRINK_MOVES])
            if gain > best[0] + MIN_GAIN:
                best = (gain, moves)
        if not best[1]:
            tried[pool_id] = state.clock
        for name, option in best[1]:
            state.move(name, option)
        shrunk += bool(best[1])
    return shrunk


def _best_prefix(state: _State, by_name: dict[str, WorkloadCandidates],
                 order: list[str]) -> tuple[float, list[tuple[str, Option]]]:
    """Move ``order``'s jobs one after another to their best options elsewhere; the
    objective's largest fall over the prefixes and that prefix's moves. The state is
    left as it was."""
    gain, best, undo, moves = 0.0, (MIN_GAIN, 0), [], []
    with state.trial():
        for name in order:
            change = state.best_move(by_name[name], forced=True)
            if change is None:
                break
            undo.append((name, state.chosen[name]))
            moves.append((name, change.option))
            state.move(name, change.option)
            gain += change.gain
            if gain > best[0] + MIN_GAIN:
                best = (gain, len(moves))
        for name, back in reversed(undo):
            state.move(name, back)
    return best[0], moves[:best[1]]


def _shrink_orders(state: _State, jobs: list[WorkloadCandidates],
                   inputs: dict[str, tuple[tuple[str, Any], ...]],
                   seen: dict[str, tuple[int, _Change | None]]) -> list[list[str]]:
    """Orders to move a pool's jobs out in: by what moving each alone costs per
    share-hour it frees (least first); smallest share first (then that cost); longest
    hours and largest share first. A node closes once enough share-hours leave: eleven
    1-GPU slots at $1.8k each may free a node more cheaply than an 8-GPU job that
    opens one elsewhere, or the other way round. Jobs with nowhere to go are left out;
    ties go by name. ``seen``: each job's best move as last worked out here, with the
    clock then, used again while none of its ``inputs`` changed."""
    rows = []
    for wc in jobs:
        name = wc.workload.name
        known = seen.get(name)
        if known is not None and not state.changed_since(inputs[name], known[0]):
            change = known[1]
        else:
            change = state.best_move(wc, forced=True)
            seen[name] = (state.clock, change)
        o = state.chosen[wc.workload.name]
        held = sum(h * s for h, s in o.pieces if h > 0 and s > 0)
        if change is not None and held > 0:
            longest = max(h for h, _ in o.pieces)
            rows.append((-change.gain / held, peak_share(o), longest, wc.workload.name))
    return [[r[3] for r in sorted(rows)],
            [r[3] for r in sorted(rows, key=lambda r: (r[1], r[0], r[3]))],
            [r[3] for r in sorted(rows, key=lambda r: (-r[2], -r[1], r[3]))]]


SHRINK_MOVES = 64  # jobs one shrink order moves out of a pool at most
IDLE_HOURS = 1e-6  # node-hours a month below which a pool counts as having no idle


def _inputs(model: Model, wc: WorkloadCandidates) -> tuple[tuple[str, Any], ...]:
    """What a workload's best move depends on: its options' pools (its own among them),
    their quota and cluster rows, its team's spending."""
    keys: dict[tuple[str, Any], None] = {("team", model.teams[wc.workload.name]): None}
    for o in wc.options:
        keys[("pool", o.pool_id)] = None
        keys[("quota", quota_key(o))] = None
        if o.offer.cloud == "k8s":
            keys[("cluster", o.offer.region)] = None
    return tuple(keys)


def improve(model: Model, sol: Solution, max_sweeps: int = MAX_SWEEPS) -> Solution:
    """``sol`` after local search (see the module doc); ``sol`` itself if nothing moved.
    The result's objective is the MILP objective of its placement (tie-breaks by rank)."""
    state = _State(model, sol.chosen)
    inputs = {wc.workload.name: _inputs(model, wc) for wc in model.workloads}
    settled: dict[str, int] = {}  # workload -> clock when it last had no better option
    tried: dict[str, int] = {}  # unplaced workload -> clock when it last found no exchange
    kept: dict[str, int] = {}  # pool -> clock when it last found no shrink
    seen: dict[str, tuple[int, _Change | None]] = {}  # job -> (clock, best forced move)
    moved = 0
    for _ in range(max_sweeps):
        moves = 0
        for wc in model.workloads:
            name = wc.workload.name
            if name in settled and not state.changed_since(inputs[name], settled[name]):
                continue  # nothing its best move depends on changed since
            change = state.best_move(wc)
            if change is None:
                settled[name] = state.clock
                continue
            state.move(name, change.option)
            moves += 1
        moves += swap_in(state, model, inputs, tried)
        moves += shrink_pools(state, model, inputs, kept, seen)
        moved += moves
        if not moves:
            break
    if not moved:
        return sol
    chosen = dict(sorted(state.chosen.items()))
    return Solution(chosen, peaks(chosen), sol.method, f"{sol.status}; {moved} local move(s)",
                    objective_of(model, chosen, state.penalty), 0.0, sol.variables,
                    sol.constraints, state.penalty)
