"""What ``planner plan`` shows while it works: a rich display on a terminal's stderr.

:func:`progress_for` gives the receiver of :mod:`planner.optimize.progress`
reports. On a terminal, :class:`TerminalProgress` draws one row per stage:
reading (the catalog and the declaration), candidates (n of N workloads),
solving (the incumbent's $/month, the bound and the gap as HiGHS improves
them; see :class:`planner.optimize.progress.IncumbentWatch` for what they
count), assembling; when planning is done the rows clear and one line states
the time of each stage. When stderr is not a terminal, or with ``--quiet``,
:class:`Silent` shows nothing and rich's progress machinery is never imported
(start-up time). The CLI owns the clock; the planner only reports.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Union

from planner.optimize.progress import STAGES, NoProgress, Stage

DRAWS_PER_STAGE = 200  # candidate counts are passed to rich at most this often (it locks)


Display = Union["Silent", "TerminalProgress"]


def progress_for(quiet: bool) -> Display:
    """The display for this run: on a terminal unless ``quiet``, else nothing."""
    if quiet or not sys.stderr.isatty():
        return Silent()
    return TerminalProgress()


class Silent(NoProgress):
    """No display (every report ignored, as :class:`NoProgress` does); warnings go
    straight to stderr."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def warn(self, message: str) -> None:
        sys.stderr.write(f"warning: {message}\n")


class StageClock:
    """Wall-clock seconds of each stage, from its start to the next stage's (or the end)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._current: str | None = None
        self._since = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self._current, self._since = name, time.perf_counter()

    def stop(self) -> None:
        if self._current is not None:
            elapsed = time.perf_counter() - self._since
            self.seconds[self._current] = self.seconds.get(self._current, 0.0) + elapsed
            self._current = None

    def summary(self) -> str:
        """``planned in 12.3 s: reading 1.2 s, candidates 3.4 s, solving 7.0 s, assembling 0.7 s``"""
        total = sum(self.seconds.values())
        parts = ", ".join(f"{name} {self.seconds[name]:.1f} s" for name in STAGES
                          if name in self.seconds)
        return f"planned in {total:.1f} s: {parts}"


class TerminalProgress:
    """The rich display on stderr (see the module docstring)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True, highlight=False)
        self.display = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"), TextColumn("{task.description:<10}"),
            BarColumn(bar_width=24), TimeElapsedColumn(), TextColumn("{task.fields[detail]}"),
            console=self.console, transient=True)
        self.clock = StageClock()
        self.task: Any = None
        self.total = 0
        self.every = 1

    def __enter__(self) -> TerminalProgress:
        self.display.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._finish_task()
        self.clock.stop()
        self.display.stop()
        if kind is None:
            self.console.print(self.clock.summary(), markup=False, soft_wrap=True)

    def stage(self, name: Stage, total: int = 0) -> None:
        self._finish_task()
        self.clock.start(name)
        self.total, self.every = total, max(1, total // DRAWS_PER_STAGE)
        detail = f"0 of {total:,} workloads" if total else ""
        self.task = self.display.add_task(name, total=total or None, detail=detail)

    def advance(self, done: int) -> None:
        if self.task is not None and (done % self.every == 0 or done == self.total):
            self.display.update(self.task, completed=done,
                                detail=f"{done:,} of {self.total:,} workloads")

    def incumbent(self, dollars: float, bound: float | None, gap: float | None) -> None:
        if self.task is None:
            return
        detail = f"incumbent ${dollars:,.2f}/month"
        if bound is not None and gap is not None:
            detail += f", bound ${bound:,.2f}, gap {gap:.2%}"
        self.display.update(self.task, detail=detail)

    def warn(self, message: str) -> None:
        self.console.print(f"warning: {message}", markup=False, highlight=False)

    def _finish_task(self) -> None:
        if self.task is not None:
            done = self.total or 1
            self.display.update(self.task, total=done, completed=done)
            self.task = None
