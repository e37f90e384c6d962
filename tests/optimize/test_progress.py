"""Planning reports its stages, its candidates and the solver's incumbents in dollars."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given

from planner.optimize.planning import plan_workloads
from planner.optimize.progress import Stage
from planner.plan import dumps_plan
from tests.optimize.test_planner_properties import SETTINGS, workload_sets
from tests.synthetic import job, small_catalog, workload_set


class Recorder:
    """A Progress that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def stage(self, name: Stage, total: int = 0) -> None:
        self.calls.append(("stage", name, total))

    def advance(self, done: int) -> None:
        self.calls.append(("advance", done))

    def incumbent(self, dollars: float, bound: float | None, gap: float | None) -> None:
        self.calls.append(("incumbent", dollars, bound, gap))

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == kind]


def _contended() -> Any:
    """Twelve 8-GPU jobs, an A100 quota and a budget: the MILP leaves some unplaced."""
    jobs = [job(f"j{i:02d}", "A100:8", hours=10 + i, team="a" if i % 2 else "b")
            for i in range(12)]
    quotas = [{"cloud": "gcp", "region": r, "family": "NVIDIA_A100_GPUS", "limit": 16}
              for r in ("us-central1", "us-east1")]
    quotas.append({"cloud": "aws", "region": "us-east-1", "family": "P", "limit": 96})
    quotas.append({"cloud": "azure", "region": "eastus", "family": "standardNDASv4_A100Family",
                   "limit": 96})
    return workload_set(jobs, teams={"a": {"monthly_budget": "2500"}, "b": {}}, quotas=quotas)


def test_stages_in_order_with_every_workload_counted() -> None:
    ws = _contended()
    rec = Recorder()
    plan_workloads(ws, small_catalog(), time_limit=10, progress=rec)
    stages = [c[1:] for c in rec.of("stage")]
    assert stages == [("candidates", 12), ("solving", 0), ("assembling", 0)]
    first_solving = rec.calls.index(("stage", "solving", 0))
    assert rec.calls[1:first_solving] == [("advance", n) for n in range(1, 13)]
    incumbents = rec.calls[first_solving + 1:rec.calls.index(("stage", "assembling", 0))]
    assert incumbents and all(c[0] == "incumbent" for c in incumbents)
    assert len(set(incumbents)) == len(incumbents), "repeated reports"


def test_incumbent_is_the_plans_dollars_without_penalties() -> None:
    ws = _contended()
    rec = Recorder()
    plan = plan_workloads(ws, small_catalog(), time_limit=10, progress=rec)
    assert plan.unplaced, "the case must leave workloads unplaced, or penalties are not tested"
    dollars, bound, gap = rec.of("incumbent")[-1][1:]
    assert abs(Decimal(repr(dollars)) - plan.solver.objective) < Decimal("0.01")
    assert bound is not None and 0 <= bound <= dollars + 0.01
    assert gap is not None and 0 <= gap <= 1


@SETTINGS
@given(workload_sets())
def test_reports_never_change_the_plan(spec: dict[str, Any]) -> None:
    def plan(progress: Recorder | None) -> str:
        ws = workload_set([dict(w) for w in spec["workloads"]], teams=spec["teams"],
                          quotas=spec["quotas"])
        return dumps_plan(plan_workloads(ws, small_catalog(), time_limit=10, progress=progress))

    rec = Recorder()
    assert plan(rec) == plan(None)
    for _, dollars, bound, gap in rec.of("incumbent"):
        assert dollars >= 0
        assert bound is None or bound >= 0
        assert gap is None or 0 <= gap <= 1
