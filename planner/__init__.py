"""gpuplan's pure planning core and its command line.

Rooms, in data-flow order (each ``__init__`` says what it may import;
``tests/test_layout.py`` enforces it):

- ``spec``: the declaration (``workloads.yaml`` -> ``WorkloadSet``);
- ``catalog``: prices and shapes (-> ``Catalog``), quota families, throughput;
- ``optimize``: candidates, cost model, MILP, assembling the ``Plan``;
- ``plan``: the hand-off contract (``plan.json``) everything downstream reads;
- ``jsontext``: canonical JSON text (``json.dumps(indent=2, sort_keys=True)``'s bytes,
  written column by column: a 20,000-workload plan is 125 MB); standard library only,
  ``plan`` writes ``plan.json`` with it;
- ``names``: identifier rules (DNS labels, catalog names) that ``spec`` and ``plan``
  both apply, so a plan is read with the declaration's rules;
- ``plancost``: the one cost function (whole nodes, idle, GPU-hours) that fills it;
  imports only ``plan`` and ``errors``, and every stage that prices a plan may import it;
- ``utilization``: how full each pool is (used / paid GPU-hours, read from the plan) and
  why not, from the cost function's levels; imports ``plan``, ``plancost`` and ``errors``,
  and ``explain``, ``review``, ``report`` and the CLI show it;
- ``explain``: why, what-if, constraint values;
- ``review``: plan markdown, diffs, guardrails, Pulumi previews;
- ``report``: the HTML cost report of a plan (and its diff), the FOCUS export;
- ``cli``: the ``planner`` command (the only room that may import ``components``).

Nothing in this package imports Pulumi, reads a clock or touches the network
(the one exception is ``planner.catalog.refresh_*``, run only by
``planner catalog refresh``).
"""

__version__ = "0.1.0"
