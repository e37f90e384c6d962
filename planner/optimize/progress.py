"""How far a planning run has got: a protocol the planner calls, the CLI displays.

The planner has no clock and prints nothing; it only says what it is doing:

* ``stage(name, total)`` when a stage starts: ``"candidates"`` (``total`` =
  workloads), ``"solving"``, ``"assembling"``. The CLI adds ``"reading"`` itself,
  before planning starts;
* ``advance(done)`` within the current stage: ``done`` of ``total`` workloads
  have their candidates;
* ``incumbent(dollars, bound, gap)`` whenever HiGHS finds a better integer
  solution or a better lower bound (see :class:`IncumbentWatch`).

The CLI implements the protocol with a rich display on a terminal and measures
the time of each stage; :class:`NoProgress` (the default) does nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, Protocol

Stage = Literal["reading", "candidates", "solving", "assembling"]
STAGES: tuple[Stage, ...] = ("reading", "candidates", "solving", "assembling")


class Progress(Protocol):
    """Receiver of progress reports; every method must return quickly."""

    def stage(self, name: Stage, total: int = 0) -> None:
        """Stage ``name`` starts; ``total`` counts its steps (0: not counted)."""

    def advance(self, done: int) -> None:
        """``done`` steps of the current stage are finished."""

    def incumbent(self, dollars: float, bound: float | None, gap: float | None) -> None:
        """The solver's best placement so far and how far from optimal it can be.

        ``dollars``: $/month the placement would cost as the plan prices it (its
        pools' whole nodes for the hours they are up, plus each job's own lines:
        spot risk, egress); no unplaced penalties, tie-breaks or time value.
        ``bound``: a lower bound on that cost for the same set of placed workloads
        (HiGHS's dual bound less the incumbent's unplaced penalties), None before
        HiGHS has one. ``gap``: (cost - bound) / cost, 0..1, as the plan reports it.
        """


class NoProgress:
    """The default receiver: ignores everything."""

    def stage(self, name: Stage, total: int = 0) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def incumbent(self, dollars: float, bound: float | None, gap: float | None) -> None:
        pass


class IncumbentWatch:
    """Turns HiGHS MIP callbacks into :meth:`Progress.incumbent` reports in dollars.

    The MILP's objective mixes dollars with unplaced penalties, tie-breaks and
    time value (see :mod:`planner.optimize.solve`). ``spend`` and ``penalty`` are
    per-column weights: a solution's dollars are ``spend . x`` and its unplaced
    penalty ``penalty . x``. An improving solution reports its dollars; the MIP
    interrupt callback (called often) reports the dual bound when it has moved.
    """

    def __init__(self, progress: Progress, spend: Sequence[float], penalty: Sequence[float]) -> None:
        import numpy as np

        self.progress = progress
        self.spend = np.asarray(spend, dtype=float)
        self.penalty = np.asarray(penalty, dtype=float)
        self.dollars: float | None = None
        self.cost = 0.0  # objective less unplaced penalties: what the gap is measured on
        self.unplaced = 0.0
        self.bound: float | None = None
        self.reported: tuple[float, float | None] | None = None

    def attach(self, highs: Any) -> None:
        """Subscribe to ``highs``'s improving-solution and MIP interrupt callbacks."""
        highs.cbMipImprovingSolution.subscribe(self._improved)
        highs.cbMipInterrupt.subscribe(self._tick)

    def _improved(self, event: Any) -> None:
        out = event.data_out
        values = out.mip_solution
        self.dollars = float(self.spend @ values)
        self.unplaced = float(self.penalty @ values)
        self.cost = float(out.objective_function_value) - self.unplaced
        self.bound = None
        self._report(float(out.mip_dual_bound))

    def _tick(self, event: Any) -> None:
        if self.dollars is not None:
            self._report(float(event.data_out.mip_dual_bound))

    def _report(self, dual: float) -> None:
        assert self.dollars is not None
        bound = min(self.cost, max(0.0, dual - self.unplaced)) if math.isfinite(dual) else None
        if (self.dollars, bound) == self.reported or (
                self.bound is not None and (bound is None or bound <= self.bound)):
            return  # nothing new: HiGHS repeats solutions, and bounds only count when higher
        self.bound = bound
        self.reported = (self.dollars, bound)
        gap = None if bound is None else (
            0.0 if self.cost <= 0 else min(1.0, max(0.0, (self.cost - bound) / self.cost)))
        self.progress.incumbent(self.dollars, bound, gap)
