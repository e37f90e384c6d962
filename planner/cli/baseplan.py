"""``--base plan.json``: read a base plan for re-planning, refusing what cannot be one.

One line naming the file and field, exit 2, for: a file that is not a plan, a
plan of a newer version, a plan made on another catalog source
(:func:`planner.optimize.stability.check_base`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.catalog.model import Catalog
    from planner.plan import Plan


def read_base(path: Path, catalog: Catalog) -> Plan:
    """The plan at ``path``, checked to be a base for planning on ``catalog``."""
    from planner.optimize.stability import check_base
    from planner.plan import read_plan

    plan = read_plan(path)
    check_base(plan, catalog, str(path))
    return plan


def base_from_text(text: str, label: str, catalog: Catalog) -> Plan:
    """As :func:`read_base`, for a plan already read (e.g. from git)."""
    from planner.optimize.stability import check_base
    from planner.plan import loads_plan

    plan = loads_plan(text, label)
    check_base(plan, catalog, label)
    return plan
