"""What a reviewer reads in a pull request: plan markdown, cost diffs, guardrails, previews.

``diff`` compares two plans (``PlanDiff``), ``diffrender`` renders it as text,
JSON or the PR comment, ``guardrails`` turns it into pass/fail policies,
``planmarkdown`` renders one plan, and ``pulumisteps``/``pulumipreview`` read
and price a ``pulumi preview --json``.

May import: ``planner.errors``, ``planner.plan``, ``planner.plancost``, ``planner.templating`` and
``planner.catalog`` (prices), ``planner.utilization`` (GPU utilization in the comment).
It reads plans; it never plans: no ``planner.optimize``, ``planner.spec``, ``planner.explain`` or CLI.
"""
