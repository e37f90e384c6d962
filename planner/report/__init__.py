"""The cost report: one self-contained HTML page per plan (and per diff), and a FOCUS export.

``view`` turns a ``Plan`` (with an optional ``PlanDiff`` against a base plan and
optional constraint values) into a :class:`~planner.report.view.Report`: KPI
cards, charts and the data table under each chart. ``charts`` lays bar charts
out as SVG geometry; ``html`` renders the page from ``templates/report.html.j2``
(inline SVG and CSS, no script, no external URL, byte-stable); ``focus`` writes
the plan as a FOCUS 1.2 cost forecast (CSV).

A room of its own because it reads everything downstream of the plan: the diff
(from ``review``) and the sentences that describe constraints and blockers
(from ``explain``), without planning anything itself.

May import: ``planner.errors``, ``planner.plan``, ``planner.templating``,
``planner.review`` (the diff), ``planner.explain`` (constraint sentences and
values) and ``planner.utilization`` (GPU utilization and why pools are idle).
Never ``planner.optimize``, ``planner.spec`` or the CLI.
"""
