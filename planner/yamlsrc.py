"""YAML loading that remembers where every value came from.

``load_yaml`` returns plain Python data plus a :class:`LineMap` from field
paths (``("workloads", 2, "resources")``) to 1-based line numbers, so that a
validation error deep in the data can still name the line a person must edit.
Duplicate mapping keys are an error (PyYAML silently keeps the last one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from planner.errors import SpecError

Path = tuple[str | int, ...]


@dataclass
class LineMap:
    """Field path -> 1-based line of the YAML node that holds it."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def format_path(path: Sequence[str | int]) -> str:
    """``("workloads", 2, "resources")`` -> ``workloads[2].resources``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_yaml(text: str, filename: str) -> tuple[Any, LineMap]:
    """Parse one YAML document, keeping line numbers; raise SpecError on bad YAML."""
    if "\x00" in text:
        raise SpecError("not a YAML text file (contains NUL bytes)", file=filename)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"invalid YAML: {problem}", file=filename, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=filename) from None
    if node is None:
        raise SpecError("the file is empty", file=filename, line=1)
    lines = LineMap()
    data = _build(node, (), lines, filename)
    return data, lines


def _build(node: yaml.Node, path: Path, lines: LineMap, filename: str) -> Any:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, filename)
            if isinstance(key, (dict, list)):
                raise SpecError(
                    "mapping keys must be plain scalars",
                    file=filename,
                    line=key_node.start_mark.line + 1,
                    field=format_path(path) or None,
                )
            if key in out:
                raise SpecError(
                    f"duplicate key {key!r}",
                    file=filename,
                    line=key_node.start_mark.line + 1,
                    field=format_path(path) or None,
                )
            child = (*path, str(key))
            lines.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, lines, filename)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), lines, filename) for i, item in enumerate(node.value)
        ]
    return _scalar(node, filename)


def _scalar(node: yaml.Node, filename: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return {} if isinstance(node, yaml.MappingNode) else []
    try:
        return yaml.SafeLoader(node.value).construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise SpecError(
            f"invalid value: {exc}", file=filename, line=node.start_mark.line + 1
        ) from None
