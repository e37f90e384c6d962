"""Provider schema documents (``terraform providers schema -json``) and findings.

:func:`load_schemas` reads one or more provider schema documents into
:class:`Schemas` (resource type -> block schema and provider); a
:class:`Finding` is one problem the checker reports. Pure: no Terraform, no
network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ManifestCheck = Callable[[dict[str, Any]], Iterable[str]]
"""The Kubernetes/CRD validator handed ``kubernetes_manifest`` manifests: messages out."""


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
                resources[rtype] = ResourceSchema(short_source(provider), version, schema["block"])
    return Schemas(resources)


def short_source(source: str) -> str:
    """``registry.terraform.io/hashicorp/aws`` -> ``hashicorp/aws`` (the default registry)."""
    parts = source.split("/")
    if len(parts) == 3 and parts[0] == "registry.terraform.io":
        return "/".join(parts[1:])
    return source


