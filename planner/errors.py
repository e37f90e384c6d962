"""Typed errors that carry a location, and the exit code each maps to.

Every error the planner raises on purpose is a :class:`GpuplanError`. The CLI
prints ``str(err)`` as one line and exits with ``err.exit_code``; it never
prints a traceback for these unless ``--debug`` is given.

Exit codes (DESIGN.md): 0 ok, 1 unexpected, 2 bad input, 3 infeasible or a
guardrail failed, 4 catalog problem.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_CATALOG = 4


class GpuplanError(Exception):
    """Base class: a message plus where it happened (file, line, field path)."""

    exit_code = EXIT_UNEXPECTED

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class SpecError(GpuplanError):
    """The workload declaration (or a flag) is invalid."""

    exit_code = EXIT_BAD_INPUT


class UsageError(GpuplanError):
    """A command-line argument is invalid."""

    exit_code = EXIT_BAD_INPUT


class PlanFileError(GpuplanError):
    """A plan.json (or other input document) cannot be read as what it claims to be."""

    exit_code = EXIT_BAD_INPUT


class CatalogError(GpuplanError):
    """A catalog file is missing, malformed or inconsistent."""

    exit_code = EXIT_CATALOG


class InfeasibleError(GpuplanError):
    """Workloads could not be placed and the user asked for that to be fatal."""

    exit_code = EXIT_INFEASIBLE


class GuardrailError(GpuplanError):
    """A cost guardrail (``--fail-on-increase``, over budget) failed."""

    exit_code = EXIT_INFEASIBLE


class FieldValueError(ValueError):
    """A pydantic model check that blames one field (``field`` relative to the model).

    Pydantic locates a model validator's error at the model; readers of the
    declaration and of ``plan.json`` take ``field`` from the wrapped exception so
    the message names the field a person must edit (``workloads[0].num_nodes``,
    ``placements[3].pool``), not only the model that holds it.
    """

    def __init__(self, field: str | int | Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.field: tuple[str | int, ...] = (
            (field,) if isinstance(field, (str, int)) else tuple(field))


def format_path(path: Sequence[str | int]) -> str:
    """``("workloads", 2, "resources")`` -> ``workloads[2].resources``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
