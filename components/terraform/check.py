"""Offline checker of Terraform JSON configuration against provider schema documents.

No provider plugin can be downloaded where gpuplan is tested, so the generated
``*.tf.json`` files are checked against ``terraform providers schema -json``
documents instead (:mod:`components.terraform.schema`). Each resource body is
walked block by block by :mod:`components.terraform.body`; this module checks
what surrounds the resources: the top-level keys of each file, the
``terraform``, ``provider``, ``variable``, ``output`` and ``locals`` blocks,
and, per module (one directory), references to undeclared variables, locals,
resources and provider aliases, duplicate declarations, and
``required_providers`` entries that are missing, point to another source, or
exclude the schema's version (:mod:`components.terraform.versions`).
``kubernetes_manifest`` manifests are handed to an optional callback (the
Kubernetes/CRD schema validator, :mod:`components.terraform.kubernetes`) and
its messages become ``manifest`` findings.

Each finding names the file, the resource address, the path inside the body
and the rule. The module is pure: no Terraform, no network, no Pulumi.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.terraform.body import (
    COMMENT,
    Sink,
    check_body,
    check_keys,
    hint,
    is_template,
    join_path,
    type_name,
)
from components.terraform.schema import Finding, ManifestCheck, Schemas, short_source
from components.terraform.versions import version_allows

TOP_LEVEL_KEYS = frozenset({"resource", "data", "variable", "output", "locals", "terraform",
                            "provider", "module", "moved", "import", "check", "removed", COMMENT})
TERRAFORM_KEYS = frozenset({"required_version", "required_providers", "backend", "cloud",
                            "experiments", "provider_meta", COMMENT})
REQUIRED_PROVIDER_KEYS = frozenset({"source", "version", "configuration_aliases"})
VARIABLE_KEYS = frozenset({"type", "default", "description", "sensitive", "nullable",
                           "validation", "ephemeral", COMMENT})
OUTPUT_KEYS = frozenset({"value", "description", "sensitive", "depends_on", "precondition",
                         "ephemeral", COMMENT})


_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_REFERENCE = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)")


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

    def declare(self, name: str, sink: Sink) -> None:
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
    sink = Sink(file, "", module.findings)
    if not isinstance(doc, dict):
        sink.add("", "top-level", "a .tf.json file must hold one JSON object")
        return
    for key, value in doc.items():
        if key not in TOP_LEVEL_KEYS:
            sink.at(key).add("", "top-level", f"unknown top-level block {key!r}"
                             f"{hint(key, TOP_LEVEL_KEYS)}")
        elif key != COMMENT:
            for item in value if isinstance(value, list) else [value]:
                _TOP_LEVEL[key](item, sink.at(key), schemas, module, manifest_check)
    _collect_references(doc, file, module)


def _check_resources(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    if not is_object(value, sink, "resource"):
        return
    for rtype, named in value.items():
        if not is_object(named, sink.at(rtype), f"resource {rtype!r}"):
            continue
        for name, body in named.items():
            here = sink.at(f"{rtype}.{name}")
            module.declare(f"{rtype}.{name}", here)
            schema = schemas.resources.get(rtype)
            if schema is None:
                here.add("", "unknown-resource-type", f"no provider schema knows resource type "
                         f"{rtype!r}{hint(rtype, schemas.resources)}")
                continue
            check_body(body, schema.block, "", here, meta=True)
            _note_provider_use(body, rtype, here, module)
            if rtype == "kubernetes_manifest" and manifest_check is not None:
                _check_manifest(body, here, manifest_check)


def _note_provider_use(body: Any, rtype: str, sink: Sink, module: _Module) -> None:
    config = body.get("provider") if isinstance(body, dict) else None
    if not isinstance(config, str) or is_template(config):
        config = rtype.split("_", 1)[0]
    module.provider_uses.append((sink.file, sink.address, config))


def _check_manifest(body: Any, sink: Sink, manifest_check: ManifestCheck) -> None:
    manifest = body.get("manifest") if isinstance(body, dict) else None
    if isinstance(manifest, dict):
        for message in manifest_check(manifest):
            sink.add("manifest", "manifest", message)


def is_object(value: Any, sink: Sink, what: str) -> bool:
    if isinstance(value, dict):
        return True
    sink.add("", "nesting", f"{what}: expected an object, got {type_name(value)}")
    return False


def _check_data(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                manifest_check: ManifestCheck | None) -> None:
    sink.add("", "unknown-resource-type", "data sources are not covered by the schema documents")


def _check_variables(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    if not is_object(value, sink, "variable"):
        return
    for name, body in value.items():
        here = sink.at(f"var.{name}")
        module.declare(f"var.{name}", here)
        check_keys(body, VARIABLE_KEYS, "", here, "variable")
        if isinstance(body, dict) and "type" in body and not isinstance(body["type"], str):
            here.add("type", "type", "a variable type is a type expression string such as \"string\"")


def _check_outputs(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                   manifest_check: ManifestCheck | None) -> None:
    if not is_object(value, sink, "output"):
        return
    for name, body in value.items():
        here = sink.at(f"output.{name}")
        module.declare(f"output.{name}", here)
        check_keys(body, OUTPUT_KEYS, "", here, "output")
        if isinstance(body, dict) and "value" not in body:
            here.add("value", "required", "an output needs a 'value'")


def _check_locals(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                  manifest_check: ManifestCheck | None) -> None:
    if is_object(value, sink, "locals"):
        for name in value:
            if name != COMMENT:
                module.declare(f"local.{name}", sink.at(f"local.{name}"))


def _check_terraform(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    check_keys(value, TERRAFORM_KEYS, "", sink, "terraform")
    if not isinstance(value, dict):
        return
    if "required_providers" in value:  # Terraform allows one per module, not one per file
        module.declare("terraform.required_providers", sink)
    for item in _as_list(value.get("required_providers")):
        if not is_object(item, sink, "required_providers"):
            continue
        for name, req in item.items():
            where = join_path("required_providers", name)
            if not isinstance(req, dict) or "source" not in req:
                sink.add(where, "required", "give each required provider an object with a 'source'")
                continue
            check_keys(req, REQUIRED_PROVIDER_KEYS, where, sink, "required_providers")
            module.providers[name] = (sink.file, str(req["source"]))
            if isinstance(req.get("version"), str):
                module.versions[name] = req["version"]


def _check_providers(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    if not is_object(value, sink, "provider"):
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


def _check_unchecked(value: Any, sink: Sink, schemas: Schemas, module: _Module,
                     manifest_check: ManifestCheck | None) -> None:
    """``module``, ``moved``, ``import``, ``check``, ``removed``: allowed, not walked."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_TOP_LEVEL: dict[str, Callable[[Any, Sink, Schemas, _Module, ManifestCheck | None], None]] = {
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
            yield from _strings(item, join_path(path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, join_path(path, key))


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
        sink = Sink(file, address, module.findings)
        if "." in config and f"provider.{config}" not in module.declared:
            sink.add("provider", "reference", f"provider configuration {config!r} is not declared")
        _check_requirement(local, sink, module, schemas)


def _check_requirement(local: str, sink: Sink, module: _Module, schemas: Schemas) -> None:
    expected = schemas.provider_of(local)
    if expected is None:
        return
    if local not in module.providers:
        sink.add("", "required-providers",
                 f"provider {local!r} is not in terraform.required_providers of this module")
        return
    source = short_source(module.providers[local][1])
    if source != expected[0]:
        sink.add("", "required-providers", f"provider {local!r} has source {source!r}, "
                 f"the schema is for {expected[0]!r}")
    constraint = module.versions.get(local)
    if constraint and expected[1] and not version_allows(constraint, expected[1]):
        sink.add("", "required-providers", f"version constraint {constraint!r} excludes "
                 f"{expected[1]}, the version the schema was taken from")



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

