"""Offline checker of Terraform JSON configuration against provider schema documents.

No provider plugin can be downloaded where gpuplan is tested, so the generated
``*.tf.json`` files are checked against ``terraform providers schema -json``
documents instead. One walk per resource body, block by block:

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

Around the resources: the top-level keys of each file, the ``terraform``,
``provider``, ``variable``, ``output`` and ``locals`` blocks, and, per module
(one directory), references to undeclared variables, locals, resources and
provider aliases, duplicate declarations, and ``required_providers`` entries
that are missing, point to another source, or exclude the schema's version.
``kubernetes_manifest`` manifests are handed to an optional callback (the
Kubernetes/CRD schema validator) and its messages become ``manifest`` findings.

Each finding names the file, the resource address, the path inside the body
and the rule. The module is pure: no Terraform, no network, no Pulumi.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

META_ARGUMENTS = frozenset(
    {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"})
COMMENT = "//"
LIFECYCLE_KEYS = frozenset({"create_before_destroy", "prevent_destroy", "ignore_changes",
                            "replace_triggered_by", "precondition", "postcondition", COMMENT})
TOP_LEVEL_KEYS = frozenset({"resource", "data", "variable", "output", "locals", "terraform",
                            "provider", "module", "moved", "import", "check", "removed", COMMENT})
TERRAFORM_KEYS = frozenset({"required_version", "required_providers", "backend", "cloud",
                            "experiments", "provider_meta", COMMENT})
REQUIRED_PROVIDER_KEYS = frozenset({"source", "version", "configuration_aliases"})
VARIABLE_KEYS = frozenset({"type", "default", "description", "sensitive", "nullable",
                           "validation", "ephemeral", COMMENT})
OUTPUT_KEYS = frozenset({"value", "description", "sensitive", "depends_on", "precondition",
                         "ephemeral", COMMENT})

ManifestCheck = Callable[[dict[str, Any]], Iterable[str]]

_ESCAPED = re.compile(r"\$\$\{|%%\{")
_TEMPLATE = re.compile(r"[$%]\{")
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_REFERENCE = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)")


@dataclass(frozen=True)
class Finding:
    """One problem: where (file, resource address, path in the body) and which rule."""

    file: str
    address: str
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.address}: {self.path or '.'}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class ResourceSchema:
    """The schema of one resource type and the provider that defines it."""

    provider_source: str
    provider_version: str | None
    block: Mapping[str, Any]


@dataclass(frozen=True)
class Schemas:
    """Resource schemas by resource type, from one or more provider schema documents."""

    resources: Mapping[str, ResourceSchema]

    def provider_of(self, local_name: str) -> tuple[str, str | None] | None:
        """(source, version) of the provider whose local name is ``local_name``, if known."""
        for schema in self.resources.values():
            if schema.provider_source.rsplit("/", 1)[-1] == local_name:
                return schema.provider_source, schema.provider_version
        return None


def load_schemas(source: Path | str | Iterable[Mapping[str, Any]]) -> Schemas:
    """Schemas from a directory of ``*.json`` documents or from documents already loaded."""
    if isinstance(source, (str, Path)):
        documents = [json.loads(p.read_text("utf-8")) for p in sorted(Path(source).glob("*.json"))]
    else:
        documents = list(source)
    resources: dict[str, ResourceSchema] = {}
    for doc in documents:
        version = (doc.get("provenance") or {}).get("provider_version")
        for provider, body in (doc.get("provider_schemas") or {}).items():
            for rtype, schema in (body.get("resource_schemas") or {}).items():
                resources[rtype] = ResourceSchema(_short_source(provider), version, schema["block"])
    return Schemas(resources)


def _short_source(source: str) -> str:
    """``registry.terraform.io/hashicorp/aws`` -> ``hashicorp/aws`` (the default registry)."""
    parts = source.split("/")
    if len(parts) == 3 and parts[0] == "registry.terraform.io":
        return "/".join(parts[1:])
    return source


# --------------------------------------------------------------------------- findings sink


@dataclass
class _Sink:
    """Collects findings for one file and one address."""

    file: str
    address: str = ""
    findings: list[Finding] = field(default_factory=list)

    def at(self, address: str) -> _Sink:
        return _Sink(self.file, address, self.findings)

    def add(self, path: str, rule: str, message: str) -> None:
        self.findings.append(Finding(self.file, self.address, path, rule, message))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _hint(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_template(value: Any) -> bool:
    """True if ``value`` is a string with an unescaped ``${...}`` or ``%{...}``."""
    return isinstance(value, str) and bool(_TEMPLATE.search(_ESCAPED.sub("", value)))


# --------------------------------------------------------------------------- literal types


def _type_name(value: Any) -> str:
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
        if _type_name(value) != typ:
            yield path, f"expected {typ}, got {_type_name(value)}"
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
        yield path, f"expected {kind}, got {_type_name(value)}"
        return
    for i, item in enumerate(value):
        yield from type_errors(item, inner[i] if kind == "tuple" and i < len(inner) else inner,
                               _join(path, i))


def _map_errors(value: Any, inner: Any, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        yield path, f"expected map, got {_type_name(value)}"
        return
    for key, item in value.items():
        yield from type_errors(item, inner, _join(path, key))


def _object_errors(value: Any, attrs: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        yield path, f"expected object, got {_type_name(value)}"
        return
    for key, item in value.items():
        if key not in attrs:
            yield _join(path, key), f"unknown object attribute{_hint(key, attrs)}"
        else:
            yield from type_errors(item, attrs[key], _join(path, key))
    for key in attrs:
        if key not in value:
            yield _join(path, key), "object attribute missing"


# --------------------------------------------------------------------------- block walk


def check_body(body: Any, block: Mapping[str, Any], path: str, sink: _Sink,
               meta: bool = False) -> None:
    """Check one block body (a JSON object) against its schema ``block``."""
    if not isinstance(body, dict):
        sink.add(path, "nesting", f"expected an object (block body), got {_type_name(body)}")
        return
    attributes = block.get("attributes") or {}
    blocks = block.get("block_types") or {}
    for key, value in body.items():
        where = _join(path, key)
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
            sink.add(where, rule, f"unsupported {kind} {key!r}{_hint(key, [*attributes, *blocks])}")
    _check_presence(body, attributes, blocks, path, sink)


def _looks_like_block(value: Any) -> bool:
    """An object or a non-empty array of objects reads as a block, anything else as an argument."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict)


def _check_presence(body: Mapping[str, Any], attributes: Mapping[str, Any],
                    blocks: Mapping[str, Any], path: str, sink: _Sink) -> None:
    """Required arguments and blocks with ``min_items`` that are absent."""
    for name, attr in attributes.items():
        if attr.get("required") and body.get(name) is None:
            sink.add(_join(path, name), "required", f"required argument {name!r} is missing")
    dynamic = body.get("dynamic")
    dynamic = dynamic if isinstance(dynamic, dict) else {}
    for name, nested in blocks.items():
        if nested.get("min_items", 0) > 0 and name not in body and name not in dynamic:
            sink.add(_join(path, name), "min-items",
                     f"block {name!r} is required (at least {nested['min_items']}), none given")


def _check_attribute(value: Any, attr: Mapping[str, Any], path: str, sink: _Sink) -> None:
    if attr.get("computed") and not attr.get("optional") and not attr.get("required"):
        sink.add(path, "computed-only", "argument is computed by the provider and cannot be set")
        return
    if "nested_type" in attr:
        _check_nested_attribute(value, attr["nested_type"], path, sink)
        return
    for where, message in type_errors(value, attr.get("type", "dynamic"), path):
        sink.add(where, "type", message)


def _check_nested_attribute(value: Any, nested: Mapping[str, Any], path: str, sink: _Sink) -> None:
    """Protocol-6 nested attribute types: checked like a block of the same nesting."""
    if value is None or is_template(value):
        return
    block = {"attributes": nested.get("attributes") or {}}
    _check_nested(value, {**nested, "block": block}, path, sink)


def _check_nested(value: Any, nested: Mapping[str, Any], path: str, sink: _Sink) -> None:
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
                     f"got {_type_name(value)}")
            return
        for label, item in value.items():
            check_body(item, block, _join(path, label), sink)
        return
    if not isinstance(value, list):
        sink.add(path, "nesting",
                 f"nesting mode {mode!r}: expected an array of blocks, got {_type_name(value)}")
        return
    _check_counts(len(value), nested, path, sink)
    for i, item in enumerate(value):
        check_body(item, block, _join(path, i), sink)


def _check_counts(count: int, nested: Mapping[str, Any], path: str, sink: _Sink) -> None:
    low, high = nested.get("min_items", 0), nested.get("max_items", 0)
    if count < low:
        sink.add(path, "min-items", f"{count} block(s) given, at least {low} required")
    if high and count > high:
        sink.add(path, "max-items", f"{count} block(s) given, at most {high} allowed")


def _check_dynamic(value: Any, blocks: Mapping[str, Any], path: str, sink: _Sink) -> None:
    """``dynamic`` blocks: each label must be a known block type with a ``content`` body."""
    if not isinstance(value, dict):
        sink.add(path, "nesting", "'dynamic' must be an object of block type labels")
        return
    for label, spec in value.items():
        where = _join(path, label)
        if label not in blocks:
            sink.add(where, "unknown-block", f"unsupported block type {label!r}{_hint(label, blocks)}")
        elif not isinstance(spec, dict) or "for_each" not in spec or "content" not in spec:
            sink.add(where, "required", "a dynamic block needs 'for_each' and 'content'")
        else:
            check_body(spec["content"], blocks[label].get("block") or {}, _join(where, "content"), sink)


def _check_meta(key: str, value: Any, path: str, sink: _Sink) -> None:
    """The meta-arguments Terraform itself interprets."""
    if is_template(value):
        return
    if key == "count" and _type_name(value) != "number":
        sink.add(path, "type", f"expected number, got {_type_name(value)}")
    elif key == "depends_on" and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
        sink.add(path, "type", "expected an array of resource addresses")
    elif key == "provider" and not isinstance(value, str):
        sink.add(path, "type", "expected a provider reference such as \"kubernetes.main\"")
    elif key == "lifecycle":
        _check_keys(value, LIFECYCLE_KEYS, path, sink, "lifecycle")


def _check_keys(value: Any, known: frozenset[str], path: str, sink: _Sink, what: str) -> None:
    if not isinstance(value, dict):
        sink.add(path, "nesting", f"{what}: expected an object, got {_type_name(value)}")
        return
    for key in value:
        if key not in known:
            sink.add(_join(path, key), "unknown-argument",
                     f"unsupported {what} argument {key!r}{_hint(key, known)}")


# --------------------------------------------------------------------------- one file


@dataclass
class _Module:
    """Declarations and references of one module (a directory), collected file by file."""

    declared: dict[str, str] = field(default_factory=dict)  # "var.x" / "aws_x.y" / ... -> file
    references: list[tuple[str, str, str, str]] = field(default_factory=list)  # file, addr, path, ref
    providers: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (file, source)
    versions: dict[str, str] = field(default_factory=dict)  # local name -> constraint
    provider_uses: list[tuple[str, str, str]] = field(default_factory=list)  # file, address, config
    findings: list[Finding] = field(default_factory=list)

    def declare(self, name: str, sink: _Sink) -> None:
        if name in self.declared:
            sink.add("", "duplicate", f"{name} is also declared in {self.declared[name]}")
        else:
            self.declared[name] = sink.file


def check_document(doc: Any, file: str, schemas: Schemas,
                   manifest_check: ManifestCheck | None = None) -> list[Finding]:
    """Every finding of one ``*.tf.json`` document on its own (no cross-file rules)."""
    module = _Module()
    _check_file(doc, file, schemas, module, manifest_check)
    return module.findings


def _check_file(doc: Any, file: str, schemas: Schemas, module: _Module,
                manifest_check: ManifestCheck | None) -> None:
    sink = _Sink(file, "", module.findings)
    if not isinstance(doc, dict):
        sink.add("", "top-level", "a .tf.json file must hold one JSON object")
        return
    for key, value in doc.items():
        if key not in TOP_LEVEL_KEYS:
            sink.at(key).add("", "top-level", f"unknown top-level block {key!r}"
                             f"{_hint(key, TOP_LEVEL_KEYS)}")
        elif key != COMMENT:
            for item in value if isinstance(value, list) else [value]:
                _TOP_LEVEL[key](item, sink.at(key), schemas, module, manifest_check)
    _collect_references(doc, file, module)


def _check_resources(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    if not _is_object(value, sink, "resource"):
        return
    for rtype, named in value.items():
        if not _is_object(named, sink.at(rtype), f"resource {rtype!r}"):
            continue
        for name, body in named.items():
            here = sink.at(f"{rtype}.{name}")
            module.declare(f"{rtype}.{name}", here)
            schema = schemas.resources.get(rtype)
            if schema is None:
                here.add("", "unknown-resource-type", f"no provider schema knows resource type "
                         f"{rtype!r}{_hint(rtype, schemas.resources)}")
                continue
            check_body(body, schema.block, "", here, meta=True)
            _note_provider_use(body, rtype, here, module)
            if rtype == "kubernetes_manifest" and manifest_check is not None:
                _check_manifest(body, here, manifest_check)


def _note_provider_use(body: Any, rtype: str, sink: _Sink, module: _Module) -> None:
    config = body.get("provider") if isinstance(body, dict) else None
    if not isinstance(config, str) or is_template(config):
        config = rtype.split("_", 1)[0]
    module.provider_uses.append((sink.file, sink.address, config))


def _check_manifest(body: Any, sink: _Sink, manifest_check: ManifestCheck) -> None:
    manifest = body.get("manifest") if isinstance(body, dict) else None
    if isinstance(manifest, dict):
        for message in manifest_check(manifest):
            sink.add("manifest", "manifest", message)


def _is_object(value: Any, sink: _Sink, what: str) -> bool:
    if isinstance(value, dict):
        return True
    sink.add("", "nesting", f"{what}: expected an object, got {_type_name(value)}")
    return False


def _check_data(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                manifest_check: ManifestCheck | None) -> None:
    sink.add("", "unknown-resource-type", "data sources are not covered by the schema documents")


def _check_variables(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    if not _is_object(value, sink, "variable"):
        return
    for name, body in value.items():
        here = sink.at(f"var.{name}")
        module.declare(f"var.{name}", here)
        _check_keys(body, VARIABLE_KEYS, "", here, "variable")
        if isinstance(body, dict) and "type" in body and not isinstance(body["type"], str):
            here.add("type", "type", "a variable type is a type expression string such as \"string\"")


def _check_outputs(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                   manifest_check: ManifestCheck | None) -> None:
    if not _is_object(value, sink, "output"):
        return
    for name, body in value.items():
        here = sink.at(f"output.{name}")
        module.declare(f"output.{name}", here)
        _check_keys(body, OUTPUT_KEYS, "", here, "output")
        if isinstance(body, dict) and "value" not in body:
            here.add("value", "required", "an output needs a 'value'")


def _check_locals(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                  manifest_check: ManifestCheck | None) -> None:
    if _is_object(value, sink, "locals"):
        for name in value:
            if name != COMMENT:
                module.declare(f"local.{name}", sink.at(f"local.{name}"))


def _check_terraform(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    _check_keys(value, TERRAFORM_KEYS, "", sink, "terraform")
    if not isinstance(value, dict):
        return
    if "required_providers" in value:  # Terraform allows one per module, not one per file
        module.declare("terraform.required_providers", sink)
    for item in _as_list(value.get("required_providers")):
        if not _is_object(item, sink, "required_providers"):
            continue
        for name, req in item.items():
            where = _join("required_providers", name)
            if not isinstance(req, dict) or "source" not in req:
                sink.add(where, "required", "give each required provider an object with a 'source'")
                continue
            _check_keys(req, REQUIRED_PROVIDER_KEYS, where, sink, "required_providers")
            module.providers[name] = (sink.file, str(req["source"]))
            if isinstance(req.get("version"), str):
                module.versions[name] = req["version"]


def _check_providers(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    if not _is_object(value, sink, "provider"):
        return
    for name, configs in value.items():
        for config in _as_list(configs):
            alias = config.get("alias") if isinstance(config, dict) else None
            here = sink.at(f"provider.{name}" + (f".{alias}" if alias else ""))
            if not isinstance(config, dict):
                here.add("", "nesting", "a provider configuration is an object")
                continue
            if alias is not None and not isinstance(alias, str):
                here.add("alias", "type", "expected string")
            module.declare(f"provider.{name}" + (f".{alias}" if alias else ""), here)


def _check_unchecked(value: Any, sink: _Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    """``module``, ``moved``, ``import``, ``check``, ``removed``: allowed, not walked."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_TOP_LEVEL: dict[str, Callable[[Any, _Sink, Schemas, _Module, ManifestCheck | None], None]] = {
    "resource": _check_resources,
    "data": _check_data,
    "variable": _check_variables,
    "output": _check_outputs,
    "locals": _check_locals,
    "terraform": _check_terraform,
    "provider": _check_providers,
    "module": _check_unchecked,
    "moved": _check_unchecked,
    "import": _check_unchecked,
    "check": _check_unchecked,
    "removed": _check_unchecked,
}


# --------------------------------------------------------------------------- one module


def _collect_references(doc: Any, file: str, module: _Module) -> None:
    """Every ``var.x``, ``local.x`` and ``<type>.<name>`` inside ``${...}`` of the document."""
    for address, body in _addressed(doc):
        for path, text in _strings(body, ""):
            for expr in _INTERPOLATION.findall(text):
                for head, name in _REFERENCE.findall(expr):
                    module.references.append((file, address, path, f"{head}.{name}"))


def _addressed(doc: Any) -> Iterator[tuple[str, Any]]:
    """(address, body) for resources, outputs, variables and locals; other blocks by key."""
    if not isinstance(doc, dict):
        return
    for key, value in doc.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if key == "resource" and isinstance(item, dict):
                for rtype, named in item.items():
                    for name, body in (named.items() if isinstance(named, dict) else []):
                        yield f"{rtype}.{name}", body
            elif key in ("output", "variable", "locals") and isinstance(item, dict):
                prefix = {"output": "output", "variable": "var", "locals": "local"}[key]
                for name, body in item.items():
                    yield f"{prefix}.{name}", body
            else:
                yield key, item


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, _join(path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, _join(path, key))


def check_module(files: Mapping[str, Any], schemas: Schemas,
                 manifest_check: ManifestCheck | None = None) -> list[Finding]:
    """Check the documents of one module (file name -> parsed JSON), file and cross-file rules."""
    module = _Module()
    for file in sorted(files):
        _check_file(files[file], file, schemas, module, manifest_check)
    _check_references(module, schemas)
    _check_provider_requirements(module, schemas)
    return module.findings


def _check_references(module: _Module, schemas: Schemas) -> None:
    """``var.x``, ``local.x`` and ``<known resource type>.<name>`` must be declared."""
    for file, address, path, ref in module.references:
        head = ref.split(".", 1)[0]
        checked = head in ("var", "local") or head in schemas.resources
        if checked and ref not in module.declared:
            module.findings.append(Finding(file, address, path, "reference",
                                           f"reference to undeclared {ref}"))


def _check_provider_requirements(module: _Module, schemas: Schemas) -> None:
    for file, address, config in module.provider_uses:
        local = config.split(".", 1)[0]
        sink = _Sink(file, address, module.findings)
        if "." in config and f"provider.{config}" not in module.declared:
            sink.add("provider", "reference", f"provider configuration {config!r} is not declared")
        _check_requirement(local, sink, module, schemas)


def _check_requirement(local: str, sink: _Sink, module: _Module, schemas: Schemas) -> None:
    expected = schemas.provider_of(local)
    if expected is None:
        return
    if local not in module.providers:
        sink.add("", "required-providers",
                 f"provider {local!r} is not in terraform.required_providers of this module")
        return
    source = _short_source(module.providers[local][1])
    if source != expected[0]:
        sink.add("", "required-providers", f"provider {local!r} has source {source!r}, "
                 f"the schema is for {expected[0]!r}")
    constraint = module.versions.get(local)
    if constraint and expected[1] and not version_allows(constraint, expected[1]):
        sink.add("", "required-providers", f"version constraint {constraint!r} excludes "
                 f"{expected[1]}, the version the schema was taken from")


# --------------------------------------------------------------------------- versions


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def version_allows(constraint: str, version: str) -> bool:
    """Terraform version constraint (``~> 6.0, >= 6.1``) admits ``version``."""
    have = _version(version)
    for part in constraint.split(","):
        match = re.fullmatch(r"\s*(~>|>=|<=|!=|>|<|=)?\s*v?([\d.]+)\s*", part)
        if match is None:
            return False
        op, want_text = match.group(1) or "=", match.group(2)
        want = _version(want_text)
        if not _compare(op, have, want):
            return False
    return True


def _compare(op: str, have: tuple[int, ...], want: tuple[int, ...]) -> bool:
    padded = have + (0,) * (len(want) - len(have))
    if op == "~>":
        prefix = want[:-1] if len(want) > 1 else want
        return padded >= want and padded[: len(prefix)] == prefix
    return {
        "=": padded[: len(want)] == want,
        "!=": padded[: len(want)] != want,
        ">": padded > want,
        ">=": padded >= want,
        "<": padded < want,
        "<=": padded <= want,
    }[op]


# --------------------------------------------------------------------------- a tree on disk


def check_tree(root: Path | str, schemas: Schemas,
               manifest_check: ManifestCheck | None = None) -> list[Finding]:
    """Check every ``*.tf.json`` under ``root``; each directory is one module."""
    root = Path(root)
    by_dir: dict[Path, dict[str, Any]] = {}
    findings: list[Finding] = []
    for path in sorted(root.rglob("*.tf.json")):
        name = path.relative_to(root).as_posix()
        try:
            by_dir.setdefault(path.parent, {})[name] = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            findings.append(Finding(name, "", "", "json", f"not readable as JSON: {exc}"))
    for directory in sorted(by_dir):
        findings.extend(check_module(by_dir[directory], schemas, manifest_check))
    return findings
