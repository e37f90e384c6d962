"""The optimizer: ``WorkloadSet`` + ``Catalog`` -> ``Plan``.

Candidate offers with rejection reasons (``candidates``), the cost of one
workload on one offer (``costmodel``, ``runtime``), the joint MILP
(``solve``), a large model solved in independent parts or rolling chunks
(``decompose``), assembling the ``Plan`` (``planning``, the one entry point) and
the facts that explain a solution (``facts``: usage, binding constraints;
``unblock``: what would place an unplaced workload), and the protocol through
which planning reports how far it has got (``progress``; the CLI displays it).

May import: ``planner.errors``, ``planner.plan``, ``planner.plancost``, ``planner.catalog``,
``planner.spec``. Never explain, review or the CLI; never Pulumi.
"""
