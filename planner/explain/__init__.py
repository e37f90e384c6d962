"""Why each workload landed where it did, and what a change would save.

``reading`` explains from a ``Plan`` alone (no re-solve); ``whatif`` re-solves
the plan's own declaration with a changed quota, budget, price or region list;
``constraintvalue`` prices one more step of each binding limit.

May import: ``planner.errors``, ``planner.plan``, ``planner.plancost``, ``planner.templating``,
``planner.catalog``, ``planner.spec`` and ``planner.optimize`` (what-if
re-solves), ``planner.utilization`` (GPU utilization and why pools are idle). Never review or the CLI.
"""
