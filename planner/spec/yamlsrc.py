"""YAML loading that remembers where every value came from.

``load_yaml`` returns plain Python data plus a :class:`LineMap` from field
paths (``("workloads", 2, "resources")``) to 1-based line numbers, so that a
validation error deep in the data can still name the line a person must edit.
Duplicate mapping keys are an error (PyYAML silently keeps the last one).

Hostile input stays a clean error, not a hang or a crash: the number of
values built is capped (:data:`MAX_VALUES`, which stops "billion laughs"
alias expansion) and nesting too deep for the parser is reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from planner.errors import SpecError, format_path

Path = tuple[str | int, ...]

MAX_VALUES = 1_000_000  # scalars + collections built from one file, aliases expanded


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


def load_yaml(text: str, filename: str) -> tuple[Any, LineMap]:
    """Parse one YAML document, keeping line numbers; raise SpecError on bad YAML."""
    if "\x00" in text:
        raise SpecError("not a YAML text file (contains NUL bytes)", file=filename)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        parts = [p for p in (exc.context, exc.problem) if p]
        problem = ", ".join(parts) or "cannot parse"
        raise SpecError(f"invalid YAML: {problem}", file=filename, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {_one_line(str(exc))}", file=filename) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", file=filename) from None
    if node is None:
        raise SpecError("the file is empty (expected a YAML mapping)", file=filename, line=1)
    builder = _Builder(filename)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", file=filename) from None
    return data, builder.lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Builder:
    """Turns a composed YAML node tree into Python data, recording each path's line."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines = LineMap()
        self.constructor = yaml.constructor.SafeConstructor()
        self.values = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise SpecError(f"the file expands to more than {MAX_VALUES:,} values "
                            "(YAML aliases repeated too often?)", file=self.filename)
        self.lines.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        """Keys in order; ``<<: *anchor`` merges keys the mapping does not set itself."""
        out: dict[Any, Any] = {}
        merged: set[Any] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._merge(out, merged, value_node, path)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError("mapping keys must be plain scalars", file=self.filename,
                                line=line, field=format_path(path) or None)
            key = self._scalar(key_node)
            child = (*path, str(key))
            if key in out and key not in merged:
                raise SpecError(f"duplicate key {key!r}", file=self.filename, line=line,
                                field=format_path(child))
            merged.discard(key)
            self.lines.lines[child] = line
            out[key] = self.build(value_node, child)
        return out

    def _merge(self, out: dict[Any, Any], merged: set[Any], node: yaml.Node, path: Path) -> None:
        value = self.build(node, path)
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                raise SpecError("'<<' must merge a mapping or a list of mappings",
                                file=self.filename, line=node.start_mark.line + 1,
                                field=format_path(path) or None)
            for key, item in source.items():
                if key not in out:
                    out[key] = item
                    merged.add(key)

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise SpecError(f"invalid value: {_one_line(str(exc))}", file=self.filename,
                            line=node.start_mark.line + 1) from None
