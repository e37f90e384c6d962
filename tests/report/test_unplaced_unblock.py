"""The report's unplaced table shows what would place each workload: ``unplaced[].unblock``,
any one of its minimal relaxation sets, each with what the plan would then pay (issue 15)."""

from __future__ import annotations

import re
from decimal import Decimal

from planner.plan import Unblock, Unplaced, UnplacedReason
from planner.report.html import render_html
from planner.report.view import build_report
from tests.report.plans import pool_plan

QUOTA = "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand"


def _rows(html: str) -> list[list[str]]:
    """The unplaced table's body rows, cell texts."""
    table = html.split('id="tbl-unplaced"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row,
                                                                      re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def _plan_with(*unplaced: Unplaced) -> str:
    plan = pool_plan(8, 1, [("small", "ml", 8)]).model_copy(update={"unplaced": unplaced})
    return render_html(build_report(plan, "plan.json"))


def test_each_relaxation_set_and_its_price_is_shown() -> None:
    big = Unplaced(
        workload="big", team="ml",
        reasons=(UnplacedReason(code="quota", detail="no quota left for 8 A100"),),
        unblock=(Unblock(relax=(QUOTA,), offer="gcp/us-central1/-/a2-highgpu-8g",
                         monthly=Decimal("293.8710")),
                 Unblock(relax=("budget:ml", "region-not-allowed"),
                         offer="gcp/us-east1/-/a2-highgpu-8g", monthly=Decimal("1312.0000"))))
    html = _plan_with(big)
    assert "Relax any one of these to place it" in html
    [[workload, team, why, relax]] = _rows(html)
    assert (workload, team) == ("big", "ml") and "no quota left for 8 A100" in why
    first, second = relax.split("; ")
    assert QUOTA.split(":", 1)[1] in first and first.endswith("(then $293.87/month)")
    assert "budget ml" in second and " + " in second
    assert second.endswith("(then $1,312.00/month)")


def test_nothing_to_relax_is_a_dash() -> None:
    stuck = Unplaced(workload="odd", team="ml",
                     reasons=(UnplacedReason(code="no-offer", detail="no offer has it"),))
    [[_, _, _, relax]] = _rows(_plan_with(stuck))
    assert relax == "-"
