"""Read a workloads file (gpuplan YAML or a SkyPilot task) into a WorkloadSet.

Every failure is a :class:`SpecError` naming the file, the line and the field
path, e.g. ``workloads.yaml:14: workloads[2].resources.accelerators: ...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.catalog.model import Catalog
from planner.errors import SpecError
from planner.spec import WorkloadSet
from planner.speccheck import check_against_catalog
from planner.yamlsrc import LineMap, format_path, load_yaml

MAX_SPEC_BYTES = 20 * 1024 * 1024
SKYPILOT_KEYS = {"resources", "run", "setup", "num_nodes", "envs", "file_mounts", "workdir"}


def read_text(path: Path) -> str:
    """Read a UTF-8 text file or raise SpecError saying why not."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise SpecError("is a directory, expected a YAML file", file=str(path)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"file is larger than {MAX_SPEC_BYTES} bytes", file=str(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not UTF-8 text (bad byte at offset {exc.start})", file=str(path)
        ) from None


def load_workloads(path: Path | str, catalog: Catalog | None = None) -> WorkloadSet:
    """Load and validate ``path``; a SkyPilot task YAML becomes a one-workload set.

    With ``catalog``, accelerator names and places are checked against it too.
    """
    path = Path(path)
    text = read_text(path)
    return parse_workloads(text, str(path), catalog)


def parse_workloads(text: str, filename: str, catalog: Catalog | None = None) -> WorkloadSet:
    data, lines = load_yaml(text, filename)
    if not isinstance(data, dict):
        raise SpecError(
            f"expected a mapping at the top level, got {_kind(data)}", file=filename, line=1
        )
    if "workloads" not in data and SKYPILOT_KEYS & set(data):
        data, lines = from_skypilot_task(data, lines, filename)
    try:
        ws = WorkloadSet.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, filename, lines) from None
    check_references(ws, filename, lines)
    if catalog is not None:
        check_against_catalog(ws, catalog, filename, lines)
    return ws


def from_skypilot_task(
    task: dict[str, Any], lines: LineMap, filename: str
) -> tuple[dict[str, Any], LineMap]:
    """Map a SkyPilot task (name, resources, num_nodes, envs, setup, run) onto a WorkloadSet.

    An optional ``workload:`` mapping adds gpuplan fields (kind, work, deadline_hours...).
    """
    unknown = sorted(set(task) - SKYPILOT_KEYS - {"name", "workload"})
    if unknown:
        raise SpecError(
            f"unknown SkyPilot task field {unknown[0]!r}",
            file=filename, line=lines.line_of((unknown[0],)), field=unknown[0],
        )
    resources = dict(task.get("resources") or {})
    num_nodes = task.get("num_nodes", 1)
    extra = task.get("workload") or {}
    commands = [c for c in (task.get("setup"), task.get("run")) if c]
    workload: dict[str, Any] = {
        "name": str(task.get("name") or "task"),
        "team": "default",
        "kind": extra.get("kind", "training"),
        "resources": resources,
        "num_nodes": num_nodes,
        "env": {str(k): str(v) for k, v in (task.get("envs") or {}).items()},
        "command": ["bash", "-c", "\n".join(str(c).strip() for c in commands)] if commands else [],
        "topology": {"type": "ddp" if isinstance(num_nodes, int) and num_nodes > 1 else "single"},
    }
    workload.update({k: v for k, v in extra.items() if k != "kind"})
    if "work" not in workload and workload["kind"] != "service":
        workload["work"] = {"duration_hours": 1}
    mapped = LineMap()
    for path, line in lines.lines.items():
        if path and path[0] == "resources":
            mapped.lines[("workloads", 0, *path)] = line
        elif path and path[0] in ("num_nodes", "name"):
            mapped.lines[("workloads", 0, path[0])] = line
        elif path and path[0] == "envs":
            mapped.lines[("workloads", 0, "env", *path[1:])] = line
        elif path and path[0] == "workload":
            mapped.lines[("workloads", 0, *path[1:])] = line
        else:
            mapped.lines[path] = line
    return {"teams": {"default": {}}, "workloads": [workload]}, mapped


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _first_error(exc: ValidationError, filename: str, lines: LineMap) -> SpecError:
    """Turn pydantic's first error into one line with file, line and field path."""
    err = sorted(exc.errors(), key=lambda e: _sort_key(e["loc"]))[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]
    if err["type"] == "extra_forbidden":
        message = f"unknown field {loc[-1]!r}"
    elif err["type"] == "missing":
        message = f"missing required field {loc[-1]!r}"
    else:
        message = _clean(err["msg"])
        if "input" in err and err["type"] not in ("value_error", "assertion_error"):
            message += f" (got {_short(err['input'])})"
    return SpecError(
        message, file=filename, line=lines.line_of(loc), field=format_path(loc) or None
    )


def _sort_key(loc: Sequence[Any]) -> tuple[str, ...]:
    return tuple(f"{p:08d}" if isinstance(p, int) else str(p) for p in loc)


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_references(ws: WorkloadSet, filename: str, lines: LineMap) -> None:
    """Cross-section checks: unique names, declared teams, data sets, clusters."""

    def fail(path: tuple[str | int, ...], message: str) -> None:
        raise SpecError(message, file=filename, line=lines.line_of(path), field=format_path(path))

    seen: dict[str, int] = {}
    for i, w in enumerate(ws.workloads):
        if w.name in seen:
            fail(("workloads", i, "name"), f"duplicate workload name {w.name!r} "
                 f"(first at workloads[{seen[w.name]}])")
        seen[w.name] = i
        if w.team not in ws.teams:
            known = ", ".join(sorted(ws.teams)) or "none declared"
            fail(("workloads", i, "team"), f"unknown team {w.team!r} (teams: {known})")
        if w.data is not None and w.data not in ws.data:
            fail(("workloads", i, "data"), f"unknown data set {w.data!r}")
        team = ws.teams[w.team]
        if not team.min_priority <= w.priority <= team.max_priority:
            fail(("workloads", i, "priority"), f"priority {w.priority} is outside team "
                 f"{w.team!r} bounds [{team.min_priority}, {team.max_priority}]")
    names: set[str] = set()
    for i, c in enumerate(ws.clusters):
        if c.name in names:
            fail(("clusters", i, "name"), f"duplicate cluster name {c.name!r}")
        names.add(c.name)
    keys: set[tuple[str, str, str, str]] = set()
    for i, q in enumerate(ws.quotas):
        key = (q.cloud, q.region, q.family, q.capacity)
        if key in keys:
            fail(("quotas", i), f"duplicate quota for {'/'.join(key)}")
        keys.add(key)
