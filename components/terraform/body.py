"""Check one block body against its schema: arguments, nested blocks, literal types.

One walk per resource body, block by block. Rules (the finding's ``rule``):

- ``unknown-argument`` / ``unknown-block``: a key the schema does not know
  (meta-arguments ``count``, ``for_each``, ``depends_on``, ``lifecycle``,
  ``provider``, ``provisioner``, ``connection`` and the JSON comment key
  ``"//"`` are allowed);
- ``required``: a required argument missing (or null);
- ``computed-only``: an argument the provider computes, set in configuration;
- ``nesting``: an object where an array of blocks is due (``list``/``set``)
  or the reverse (``single``/``group``);
- ``min-items`` / ``max-items``: block counts outside the schema's bounds;
- ``type``: a literal value of the wrong type. Strings holding a template
  (``${...}`` or ``%{...}``, not the escaped ``$${``) are not checked. This is
  stricter than Terraform, which converts ``"1"`` to a number: generated
  files should say what they mean.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.terraform.schema import Finding

META_ARGUMENTS = frozenset(
    {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"})
COMMENT = "//"
LIFECYCLE_KEYS = frozenset({"create_before_destroy", "prevent_destroy", "ignore_changes",
                            "replace_triggered_by", "precondition", "postcondition", COMMENT})

_ESCAPED = re.compile(r"\$\$\{|%%\{")
_TEMPLATE = re.compile(r"[$%]\{")


# --------------------------------------------------------------------------- findings sink


@dataclass
class Sink:
    """Collects findings for one file and one address."""

    file: str
    address: str = ""
    findings: list[Finding] = field(default_factory=list)

    def at(self, address: str) -> Sink:
        return Sink(self.file, address, self.findings)

    def add(self, path: str, rule: str, message: str) -> None:
        self.findings.append(Finding(self.file, self.address, path, rule, message))


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def hint(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_template(value: Any) -> bool:
    """True if ``value`` is a string with an unescaped ``${...}`` or ``%{...}``."""
    return isinstance(value, str) and bool(_TEMPLATE.search(_ESCAPED.sub("", value)))


# --------------------------------------------------------------------------- literal types


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def type_errors(value: Any, typ: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, message) for each place ``value`` does not have the Terraform type ``typ``."""
    if value is None or typ == "dynamic" or is_template(value):
        return
    if isinstance(typ, str):
        if type_name(value) != typ:
            yield path, f"expected {typ}, got {type_name(value)}"
        return
    kind, inner = typ[0], typ[1]
    if kind in ("list", "set", "tuple"):
        yield from _sequence_errors(value, kind, inner, path)
    elif kind == "map":
        yield from _map_errors(value, inner, path)
    elif kind == "object":
        yield from _object_errors(value, inner, path)


def _sequence_errors(value: Any, kind: str, inner: Any, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, list):
        yield path, f"expected {kind}, got {type_name(value)}"
        return
    for i, item in enumerate(value):
        yield from type_errors(item, inner[i] if kind == "tuple" and i < len(inner) else inner,
                               join_path(path, i))


def _map_errors(value: Any, inner: Any, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        yield path, f"expected map, got {type_name(value)}"
        return
    for key, item in value.items():
        yield from type_errors(item, inner, join_path(path, key))


def _object_errors(value: Any, attrs: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        yield path, f"expected object, got {type_name(value)}"
        return
    for key, item in value.items():
        if key not in attrs:
            yield join_path(path, key), f"unknown object attribute{hint(key, attrs)}"
        else:
            yield from type_errors(item, attrs[key], join_path(path, key))
    for key in attrs:
        if key not in value:
            yield join_path(path, key), "object attribute missing"


# --------------------------------------------------------------------------- block walk


def check_body(body: Any, block: Mapping[str, Any], path: str, sink: Sink,
               meta: bool = False) -> None:
    """Check one block body (a JSON object) against its schema ``block``."""
    if not isinstance(body, dict):
        sink.add(path, "nesting", f"expected an object (block body), got {type_name(body)}")
        return
    attributes = block.get("attributes") or {}
    blocks = block.get("block_types") or {}
    for key, value in body.items():
        where = join_path(path, key)
        if key == COMMENT:
            continue
        if meta and key in META_ARGUMENTS:
            _check_meta(key, value, where, sink)
        elif key in attributes:
            _check_attribute(value, attributes[key], where, sink)
        elif key in blocks:
            _check_nested(value, blocks[key], where, sink)
        elif key == "dynamic" and blocks:
            _check_dynamic(value, blocks, where, sink)
        else:
            rule = "unknown-block" if _looks_like_block(value) and blocks else "unknown-argument"
            kind = "block type" if rule == "unknown-block" else "argument"
            sink.add(where, rule, f"unsupported {kind} {key!r}{hint(key, [*attributes, *blocks])}")
    _check_presence(body, attributes, blocks, path, sink)


def _looks_like_block(value: Any) -> bool:
    """An object or a non-empty array of objects reads as a block, anything else as an argument."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict)


def _check_presence(body: Mapping[str, Any], attributes: Mapping[str, Any],
                    blocks: Mapping[str, Any], path: str, sink: Sink) -> None:
    """Required arguments and blocks with ``min_items`` that are absent."""
    for name, attr in attributes.items():
        if attr.get("required") and body.get(name) is None:
            sink.add(join_path(path, name), "required", f"required argument {name!r} is missing")
    dynamic = body.get("dynamic")
    dynamic = dynamic if isinstance(dynamic, dict) else {}
    for name, nested in blocks.items():
        if nested.get("min_items", 0) > 0 and name not in body and name not in dynamic:
            sink.add(join_path(path, name), "min-items",
                     f"block {name!r} is required (at least {nested['min_items']}), none given")


def _check_attribute(value: Any, attr: Mapping[str, Any], path: str, sink: Sink) -> None:
    if attr.get("computed") and not attr.get("optional") and not attr.get("required"):
        sink.add(path, "computed-only", "argument is computed by the provider and cannot be set")
        return
    if "nested_type" in attr:
        _check_nested_attribute(value, attr["nested_type"], path, sink)
        return
    for where, message in type_errors(value, attr.get("type", "dynamic"), path):
        sink.add(where, "type", message)


def _check_nested_attribute(value: Any, nested: Mapping[str, Any], path: str, sink: Sink) -> None:
    """Protocol-6 nested attribute types: checked like a block of the same nesting."""
    if value is None or is_template(value):
        return
    block = {"attributes": nested.get("attributes") or {}}
    _check_nested(value, {**nested, "block": block}, path, sink)


def _check_nested(value: Any, nested: Mapping[str, Any], path: str, sink: Sink) -> None:
    """A nested block: nesting mode, item counts, then each body."""
    mode = nested.get("nesting_mode", "list")
    block = nested.get("block") or {}
    if mode in ("single", "group"):
        if isinstance(value, list):
            sink.add(path, "nesting", f"nesting mode {mode!r}: expected one object, got an array")
            return
        check_body(value, block, path, sink)
        return
    if mode == "map":
        if not isinstance(value, dict):
            sink.add(path, "nesting", f"nesting mode 'map': expected an object of labelled blocks, "
                     f"got {type_name(value)}")
            return
        for label, item in value.items():
            check_body(item, block, join_path(path, label), sink)
        return
    if not isinstance(value, list):
        sink.add(path, "nesting",
                 f"nesting mode {mode!r}: expected an array of blocks, got {type_name(value)}")
        return
    _check_counts(len(value), nested, path, sink)
    for i, item in enumerate(value):
        check_body(item, block, join_path(path, i), sink)


def _check_counts(count: int, nested: Mapping[str, Any], path: str, sink: Sink) -> None:
    low, high = nested.get("min_items", 0), nested.get("max_items", 0)
    if count < low:
        sink.add(path, "min-items", f"{count} block(s) given, at least {low} required")
    if high and count > high:
        sink.add(path, "max-items", f"{count} block(s) given, at most {high} allowed")


def _check_dynamic(value: Any, blocks: Mapping[str, Any], path: str, sink: Sink) -> None:
    """``dynamic`` blocks: each label must be a known block type with a ``content`` body."""
    if not isinstance(value, dict):
        sink.add(path, "nesting", "'dynamic' must be an object of block type labels")
        return
    for label, spec in value.items():
        where = join_path(path, label)
        if label not in blocks:
            sink.add(where, "unknown-block", f"unsupported block type {label!r}{hint(label, blocks)}")
        elif not isinstance(spec, dict) or "for_each" not in spec or "content" not in spec:
            sink.add(where, "required", "a dynamic block needs 'for_each' and 'content'")
        else:
            check_body(spec["content"], blocks[label].get("block") or {}, join_path(where, "content"), sink)


def _check_meta(key: str, value: Any, path: str, sink: Sink) -> None:
    """The meta-arguments Terraform itself interprets."""
    if is_template(value):
        return
    if key == "count" and type_name(value) != "number":
        sink.add(path, "type", f"expected number, got {type_name(value)}")
    elif key == "depends_on" and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
        sink.add(path, "type", "expected an array of resource addresses")
    elif key == "provider" and not isinstance(value, str):
        sink.add(path, "type", "expected a provider reference such as \"kubernetes.main\"")
    elif key == "lifecycle":
        check_keys(value, LIFECYCLE_KEYS, path, sink, "lifecycle")


def check_keys(value: Any, known: frozenset[str], path: str, sink: Sink, what: str) -> None:
    if not isinstance(value, dict):
        sink.add(path, "nesting", f"{what}: expected an object, got {type_name(value)}")
        return
    for key in value:
        if key not in known:
            sink.add(join_path(path, key), "unknown-argument",
                     f"unsupported {what} argument {key!r}{hint(key, known)}")


