"""One Pulumi resource per Kubernetes manifest dict, typed where the SDK has a class.

Core kinds (Namespace, Job, Secret) use ``pulumi_kubernetes`` classes with
their typed Args built by :func:`components.resources.typed.build_args` (unknown fields
fail). Custom resources (Kueue, JobSet, KubeRay) have no typed classes: they
become :class:`KubeObject`, a ``kubernetes:<apiVersion>:<kind>`` resource
with typed ``ObjectMetaArgs`` metadata and every other top-level field as is
(``WorkloadPriorityClass`` keeps ``value``/``description`` at the top level,
which ``apiextensions.CustomResource`` cannot express).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.resources.typed import build_args, typed

TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
}


class KubeObject(pulumi.CustomResource):
    """A custom resource from a manifest dict (the provider takes the fields as given)."""

    def __init__(self, resource_name: str, manifest: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        props = dict(manifest)
        props["metadata"] = typed(k8s.meta.v1.ObjectMetaArgs, manifest["metadata"], camel=True)
        super().__init__(f"kubernetes:{api_version}:{kind}", resource_name, props, opts)


def resource_name(cluster: str, manifest: dict[str, Any]) -> str:
    """Stable Pulumi name: cluster, kind, namespace and object name (never a position)."""
    meta = manifest["metadata"]
    parts = [cluster, manifest["kind"].lower(), meta.get("namespace"), meta["name"]]
    return "-".join(p for p in parts if p)


def kube_resource(name: str, manifest: dict[str, Any],
                  opts: pulumi.ResourceOptions | None = None) -> pulumi.CustomResource:
    cls = TYPED.get((manifest["apiVersion"], manifest["kind"]))
    if cls is None:
        return KubeObject(name, manifest, opts)
    resource: pulumi.CustomResource = cls(
        name, **build_args(cls._internal_init, manifest, camel=True), opts=opts)
    return resource
