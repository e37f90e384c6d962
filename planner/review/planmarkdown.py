"""Plan as markdown (for pull requests), from ``templates/plan.md.j2``."""

from __future__ import annotations

from planner.plan import Plan
from planner.templating import render


def plan_markdown(plan: Plan) -> str:
    return render("plan.md.j2", plan=plan)
