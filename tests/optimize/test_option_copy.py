"""Option.renamed: another workload's copy of an option, every field carried over."""

from __future__ import annotations

import dataclasses

from planner.optimize.candidates import CandidateBuilder
from tests.synthetic import job, small_catalog, workload_set


def test_a_renamed_option_differs_only_in_its_workload_and_is_its_own_object() -> None:
    ws = workload_set([job("a", "A100:1", hours=7)])
    [wc] = [CandidateBuilder(ws, small_catalog()).candidates(w) for w in ws.workloads]
    for o in wc.options:
        o.move, o.move_price = 12.5, 10.0  # set per workload by stability pricing
        copy = o.renamed("b")
        assert copy is not o and copy.workload == "b"
        for f in dataclasses.fields(o):
            if f.name != "workload":
                assert getattr(copy, f.name) == getattr(o, f.name), f.name
