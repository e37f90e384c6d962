"""gpuplan's pure planning core: declaration, catalog, candidates, solver, plan.

Nothing in this package imports Pulumi, reads a clock or touches the network
(the one exception is ``planner.catalog.refresh``, run only by
``planner catalog refresh``).
"""

__version__ = "0.1.0"
