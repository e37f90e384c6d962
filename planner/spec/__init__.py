"""The declaration: what a platform team asks for (``workloads.yaml`` -> ``WorkloadSet``).

Holds the pydantic model (``model``), SkyPilot resource syntax (``resources``),
YAML reading with line maps (``yamlsrc``: libyaml when present), loading and
SkyPilot task import (``load``), validating many workloads with each distinct
part validated once (``bulk``), checks against the catalog (``check``) and cloud quota import
(``quotaimport``).

May import: ``planner.errors``, ``planner.names`` (the identifier rules, shared
with the plan reader) and ``planner.catalog`` (names are checked against the
catalog). Never the optimizer, explain, review or the CLI.
"""
