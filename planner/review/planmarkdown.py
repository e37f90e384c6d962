"""Plan as markdown (for pull requests), from ``templates/plan.md.j2``.

``GPU util`` is utilization, used / paid GPU-hours a month (:mod:`planner.utilization`):
of the job's pool on each placement row, the plan's on the total, each team's and cloud's.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.plan import Plan, machine_text, unblock_text
from planner.templating import render
from planner.utilization import use_text, utilization_text


def plan_markdown(plan: Plan, warnings: Sequence[str] = ()) -> str:
    """The plan for a pull request; ``warnings`` (e.g. pools below ``--warn-utilization``)
    are quoted under the tables."""
    pools = {pool.id: pool for pool in plan.pools}
    return render("plan.md.j2", plan=plan, pools=pools, util=utilization_text, use=use_text,
                  unblock_text=unblock_text, machine=machine_text, extra_warnings=tuple(warnings))
