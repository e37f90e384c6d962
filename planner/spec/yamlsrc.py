"""YAML loading that remembers where every value came from.

``load_yaml`` returns plain Python data plus a :class:`LineMap` from field
paths (``("workloads", 2, "resources")``) to 1-based line numbers, so that a
validation error deep in the data can still name the line a person must edit.
Duplicate mapping keys are an error (PyYAML silently keeps the last one).

Composing (text -> node tree with line marks) uses libyaml, PyYAML's C
extension, when PyYAML has it: reading a large declaration then takes about a
tenth of the instructions (the pure-Python composer was nine tenths of it).
PyYAML's pure-Python composer stays the reference and composes whenever the two
could differ: libyaml is absent; libyaml rejects the text, or building its tree
fails (so every error message is worded from PyYAML's marks, as before); the
text holds what the two read differently (tabs, ``?``, tags, a byte-order mark
after the start, characters PyYAML refuses; found by differential fuzzing, see
``tests/spec/test_yaml_composers.py``); or the data nests deeper than
:data:`FAST_DEPTH` (PyYAML's recursion limit decides what is "nested too deeply").

Hostile input stays a clean error, not a hang or a crash: the number of
values built is capped (:data:`MAX_VALUES`, which stops "billion laughs"
alias expansion) and nesting too deep for the parser is reported as such.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from planner.errors import SpecError, format_path

Path = tuple[str | int, ...]

MAX_VALUES = 1_000_000  # scalars + collections built from one file, aliases expanded
FAST_DEPTH = 64  # deeper data is composed again by PyYAML, whose recursion limit decides
# Texts with these are composed by PyYAML, which libyaml reads differently: tabs
# (libyaml allows them in plain scalars), '?' (in flow collections), a byte-order
# mark after the start, characters PyYAML refuses, and tags ('!' starting a token:
# libyaml makes an empty '!'-tagged value a string, PyYAML null).
_DIVERGENT = re.compile(r"[\t?]|.\ufeff|(?:^|[\s\[{,])!", re.DOTALL)
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float"))


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


def load_yaml(text: str, filename: str, *, libyaml: bool = True) -> tuple[Any, LineMap]:
    """Parse one YAML document, keeping line numbers; raise SpecError on bad YAML.

    ``libyaml=False`` composes with PyYAML's pure-Python composer only (the
    reference the fast path is tested against).
    """
    if "\x00" in text:
        raise SpecError("not a YAML text file (contains NUL bytes)", file=filename)
    node = _fast_compose(text) if libyaml else None
    if node is not None:
        try:
            return _build(node, filename, FAST_DEPTH)
        except (_TooDeep, SpecError):
            pass  # PyYAML composes it again: its marks word every message as today
    return _build(_compose(text, filename), filename, None)


def libyaml_available() -> bool:
    """Whether PyYAML was built with libyaml (its C composer)."""
    return bool(getattr(yaml, "__with_libyaml__", False)) and hasattr(yaml, "CSafeLoader")


def _fast_compose(text: str) -> yaml.Node | None:
    """libyaml's node tree of ``text``, or None where PyYAML must decide (see module doc)."""
    if (not libyaml_available() or _DIVERGENT.search(text)
            or yaml.reader.Reader.NON_PRINTABLE.search(text)):
        return None
    loader = yaml.CSafeLoader(text)
    # The implicit tag of a plain scalar depends on its text only: resolve each text once.
    loader.resolve = functools.cache(loader.resolve)  # type: ignore[method-assign]
    try:
        node = loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return None  # PyYAML gives today's message (or reads it after all)
    finally:
        loader.dispose()
    if isinstance(node, yaml.ScalarNode):
        return None  # a bare '---' ends on another line in libyaml; PyYAML decides (rare)
    return node


def _compose(text: str, filename: str) -> yaml.Node | None:
    """PyYAML's pure-Python node tree of ``text``; its errors become SpecErrors."""
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
    return node


def _build(node: yaml.Node | None, filename: str, max_depth: int | None) -> tuple[Any, LineMap]:
    if node is None:
        raise SpecError("the file is empty (expected a YAML mapping)", file=filename, line=1)
    builder = _Builder(filename, max_depth)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", file=filename) from None
    return data, builder.lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _TooDeep(Exception):
    """The data nests deeper than the fast path's limit."""


class _Builder:
    """Turns a composed YAML node tree into Python data, recording each path's line."""

    def __init__(self, filename: str, max_depth: int | None = None) -> None:
        self.filename = filename
        self.lines = LineMap()
        self.constructor = yaml.constructor.SafeConstructor()
        self.plain = {tag: yaml.constructor.SafeConstructor.yaml_constructors[tag]
                      for tag in _PLAIN_SCALAR_TAGS}
        self.max_depth = max_depth
        self.values = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise SpecError(f"the file expands to more than {MAX_VALUES:,} values "
                            "(YAML aliases repeated too often?)", file=self.filename)
        if self.max_depth is not None and len(path) > self.max_depth:
            raise _TooDeep
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
        lines = self.lines.lines
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
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
            lines[child] = line
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
        """The value of a scalar: strings as they are, null/bool/int/float by PyYAML's
        own constructors, anything else (timestamps, explicit tags) through PyYAML."""
        try:
            if node.tag == _STR_TAG:
                return node.value
            plain = self.plain.get(node.tag)
            if plain is not None:
                return plain(self.constructor, node)
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, IndexError) as exc:
            raise SpecError(f"invalid value: {_one_line(str(exc))}", file=self.filename,
                            line=node.start_mark.line + 1) from None
