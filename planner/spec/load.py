"""Read a workloads file (gpuplan YAML or a SkyPilot task) into a WorkloadSet.

Every failure is a :class:`SpecError` naming the file, the line and the field
path, e.g. ``workloads.yaml:14: workloads[2].resources.accelerators: ...``.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from planner.catalog.model import Catalog
from planner.errors import FieldValueError, SpecError, format_path
from planner.names import PATTERN_HELP
from planner.spec.bulk import with_shared_parts
from planner.spec.check import check_against_catalog
from planner.spec.model import WorkloadSet
from planner.spec.yamlsrc import LineMap, load_yaml

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
    if b"\x00" in raw:
        raise SpecError("binary file (contains NUL bytes), expected YAML text", file=str(path))
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
    """Parse and validate YAML ``text`` read from ``filename`` (used in error messages).

    Top-level keys starting with ``x-`` are ignored: a place for YAML anchors
    (``x-defaults: &gpu8 {...}`` then ``<<: *gpu8``), as in docker-compose.
    """
    data, lines = load_yaml(text, filename)
    if not isinstance(data, dict):
        raise SpecError(
            f"expected a mapping at the top level, got {_kind(data)}", file=filename, line=1
        )
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    if "workloads" not in data and SKYPILOT_KEYS & set(data):
        try:
            return _parse_task(data, lines, filename, catalog)
        except SpecError as err:
            raise SpecError(err.message, file=err.file, line=err.line,
                            field=task_field(err.field)) from None
    return _validate(data, lines, filename, catalog)


def validate_workloads(data: Any, filename: str, catalog: Catalog | None = None, *,
                       field: str = "") -> WorkloadSet:
    """A declaration already parsed (e.g. ``spec`` kept in plan.json, ``field="spec"``):
    the same checks as a workloads file, errors naming ``field`` as the path's root."""
    try:
        if not isinstance(data, dict):
            raise SpecError(f"expected a mapping, got {_kind(data)}", file=filename)
        return _validate(data, LineMap(), filename, catalog)
    except SpecError as err:
        path = ".".join(p for p in (field, err.field) if p) or None
        raise SpecError(err.message, file=filename, field=path) from None


def _validate(data: dict[str, Any], lines: LineMap, filename: str,
              catalog: Catalog | None) -> WorkloadSet:
    try:
        ws = WorkloadSet.model_validate(with_shared_parts(data))
    except ValidationError:  # validated again as written: errors are located in ``data``
        try:
            ws = WorkloadSet.model_validate(data)
        except ValidationError as exc:
            raise first_error(exc, data, filename, lines) from None
    check_references(ws, filename, lines)
    if catalog is not None:
        check_against_catalog(ws, catalog, filename, lines)
    return ws


def _parse_task(task: dict[str, Any], lines: LineMap, filename: str,
                catalog: Catalog | None) -> WorkloadSet:
    data, mapped = from_skypilot_task(task, lines, filename)
    return _validate(data, mapped, filename, catalog)


def task_field(field: str | None) -> str | None:
    """A field path of the one-workload set, as the SkyPilot task file spells it.

    ``workloads[0].resources.cpus`` -> ``resources.cpus``, ``workloads[0].env.X`` ->
    ``envs.X``, other workload fields -> ``workload.<field>`` (gpuplan's additions).
    """
    prefix = "workloads[0]."
    if field is None or not field.startswith(prefix):
        return field
    rest = field[len(prefix):]
    head = re.split(r"[.\[]", rest, maxsplit=1)[0]
    if head in ("resources", "num_nodes", "name"):
        return rest
    if head == "env":
        return "envs" + rest[len("env"):]
    return "workload." + rest


def from_skypilot_task(
    task: dict[str, Any], lines: LineMap, filename: str
) -> tuple[dict[str, Any], LineMap]:
    """Map a SkyPilot task (name, resources, num_nodes, envs, setup, run) onto a WorkloadSet.

    An optional ``workload:`` mapping adds gpuplan fields (kind, work, deadline_hours...).
    """
    def fail(key: str, message: str) -> SpecError:
        return SpecError(message, file=filename, line=lines.line_of((key,)), field=key)

    unknown = sorted(set(task) - SKYPILOT_KEYS - {"name", "workload"}, key=str)
    if unknown:
        name = str(unknown[0])
        hint = _suggest(name, SKYPILOT_KEYS | {"name", "workload"})
        raise fail(name, f"unknown SkyPilot task field {name!r}{hint}")
    for key in ("resources", "envs", "workload"):
        if task.get(key) is not None and not isinstance(task[key], dict):
            raise fail(key, f"must be a mapping (key: value), got {_kind(task[key])}")
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
    return {"teams": {"default": {}}, "workloads": [workload]}, _task_lines(lines)


def _task_lines(lines: LineMap) -> LineMap:
    """Line numbers of the task file under the paths of the one-workload set."""
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
    return mapped


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    kinds = {list: "a list", dict: "a mapping", str: "a string", bool: "a boolean",
             int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


def _suggest(name: str, known: Iterable[str]) -> str:
    options = {k.lower(): k for k in known}
    match = difflib.get_close_matches(name.lower(), list(options), n=1, cutoff=0.6)
    return f" (did you mean {options[match[0]]!r}?)" if match else ""


def first_error(exc: ValidationError, data: Any, filename: str, lines: LineMap) -> SpecError:
    """The error a person should fix first, as one line with file, line and field path.

    Pydantic reports every error, some of them consequences of others (a list
    "too short" because its only item failed) and with locations that name
    union members (``use_spot.bool``). Locations are mapped back onto the
    input data, consequences dropped, and the earliest error in the file wins
    (the deepest one on a tie).
    """
    errors = [(_data_path(e["loc"], data, e["type"]) + _blamed(e), e) for e in exc.errors()]
    paths = [p for p, _ in errors]
    real = [(p, e) for p, e in errors
            if not (e["type"] == "too_short" and any(q[:len(p)] == p and q != p for q in paths))]
    path, err = min(real or errors, key=lambda pe: (
        pe[1]["type"] == "missing", lines.line_of(pe[0]) or 0, -len(pe[0]), _sort_key(pe[0])))
    return SpecError(describe(err, path), file=filename, line=lines.line_of(path),
                     field=format_path(path) or None)


def _blamed(err: Any) -> tuple[str | int, ...]:
    """The sub-path a model check blames (:class:`FieldValueError`), else ``()``."""
    cause = (err.get("ctx") or {}).get("error")
    return cause.field if isinstance(cause, FieldValueError) else ()


def _data_path(loc: Sequence[Any], data: Any, kind: str) -> tuple[str | int, ...]:
    """The part of pydantic's ``loc`` that indexes the input (drops union tags, ``[key]``)."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        found = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        if found:
            node = node[part]
        elif not (kind == "missing" and i == len(loc) - 1):
            continue  # a union member's tag or '[key]', not a place in the file
        path.append(part if isinstance(part, int) else str(part))
    return tuple(path)


MESSAGES = {
    "int_parsing": "must be a whole number", "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number", "float_type": "must be a number",
    "decimal_parsing": "must be a number", "decimal_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false", "bool_type": "must be true or false",
    "string_type": "must be a string",
    "model_type": "must be a mapping (key: value)", "dict_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "tuple_type": "must be a list", "list_type": "must be a list",
    "literal_error": "must be {expected}",
    "greater_than": "must be greater than {gt}", "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}", "less_than_equal": "must be at most {le}",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "allows at most {max_length} item(s)",
    "string_too_short": "must not be empty", "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match the pattern {pattern}",
}


def describe(err: Any, path: Sequence[str | int]) -> str:
    """One readable sentence for a pydantic error dict, with the offending value."""
    kind = err["type"]
    name = path[-1] if path else ""
    if kind == "extra_forbidden":
        return f"unknown field {name!r}" + _suggest(str(name), _known_fields(path[:-1]))
    if kind == "missing":
        return f"missing required field {name!r}"
    if kind in ("value_error", "assertion_error"):
        return _clean(err["msg"])
    ctx = {k: _plain(v) for k, v in (err.get("ctx") or {}).items()}
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_HELP:
        message = PATTERN_HELP[ctx["pattern"]]
    elif kind in MESSAGES:
        message = MESSAGES[kind].format(**ctx)
    else:
        message = _clean(err["msg"]).replace("input should be", "must be")
    return message + (f" (got {_short(err['input'])})" if "input" in err else "")


def _plain(value: Any) -> Any:
    """Context numbers as people write them: 100000 rather than 100000.0 or 1E+5."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _known_fields(path: Sequence[str | int]) -> list[str]:
    """Field names of the model found at ``path`` in a WorkloadSet (for "did you mean")."""
    tp: Any = WorkloadSet
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        elif get_origin(tp) in (tuple, list) and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    """``Annotated[X, ...]`` -> X; ``X | None`` -> X (the model member of a union)."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        return models[0] if models else (members[0] if len(members) == 1 else tp)
    return tp


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
