"""Validate Kubernetes manifests against the real schemas in ``shared/schemas``. Pure.

The schemas directory is an argument (``schemas=``); by default
``$GPUPLAN_SHARED/schemas``, else ``../shared/schemas`` beside the working
directory (or beside this source checkout), as for the Terraform schemas.
``jsonschema`` is imported on first use, not at import time.

Entry points: ``validate_manifest(obj) -> list[str]``
(one object) and ``validate_objects(objs) -> list[str]`` (a set of objects
that must reference each other). An empty list means valid.

Three layers, following ../shared/schemas/README.md:

1. Schema. Core kinds against the Kubernetes v1.34 ``local-strict`` JSON
   schemas; CRD kinds (Kueue, JobSet, KubeRay) against their
   ``openAPIV3Schema`` made strict: ``additionalProperties: false`` wherever an
   object has ``properties`` and no ``x-kubernetes-preserve-unknown-fields``,
   ``nullable`` as a ``null`` type, RE2 ``^(?i)`` patterns rewritten. CRD
   objects also get apiVersion/kind/name checks, ``metadata`` against core
   ``ObjectMeta``, and no namespace on cluster-scoped kinds.
2. Kueue's own rules the schema cannot express (CEL and webhooks): flavors
   list exactly the ``coveredResources`` in order, a flavor or resource in at
   most one group, borrowing/lending limits only with ``cohortName``,
   ``lendingLimit <= nominalQuota``, non-negative quantities, preemption and
   flavor-fungibility combinations, size limits, MultiKueueCluster sources.
3. gpuplan policy (``policy=True``, the default): a non-empty
   ``namespaceSelector``; every job labelled with a queue and a priority class,
   annotated ``pulumi.com/skipAwait``, JobSet/RayJob names DNS-1035 within their
   length caps, every container with cpu and memory
   requests, GPU pods tolerating the GPU taint and pinned to a pool; valid
   label keys and values.

``validate_objects`` adds the cross-object references: LocalQueue ->
ClusterQueue -> ResourceFlavor / AdmissionCheck -> MultiKueueConfig ->
MultiKueueCluster; job queue label -> LocalQueue in its namespace; priority
class label -> WorkloadPriorityClass.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from planner.names import DNS1035_LABEL, DNS1123_SUBDOMAIN

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

K8S_VERSION = "v1.34.0-local-strict"
OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
DNS_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN)
DNS_1035 = re.compile(DNS1035_LABEL)
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
JOB_KINDS = {("batch/v1", "Job"), ("jobset.x-k8s.io/v1alpha2", "JobSet"), ("ray.io/v1", "RayJob")}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[KMGTPE]i?|[munkMGTPE])?$")
_SUFFIX: dict[str, int | Decimal] = {
    "": 1, "m": Decimal("0.001"), "u": Decimal("1e-6"), "n": Decimal("1e-9"),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


ManifestCheck = Callable[[dict[str, Any]], list[str]]


def default_schemas_dir() -> Path:
    """``$GPUPLAN_SHARED/schemas``; else ``../shared/schemas`` beside the working directory,
    or beside this source checkout when that one is absent."""
    shared = os.environ.get("GPUPLAN_SHARED")
    if shared:
        return Path(shared) / "schemas"
    candidates = [Path.cwd().parent / "shared", Path(__file__).resolve().parents[3] / "shared"]
    found = [c for c in candidates if (c / "schemas" / "kubernetes" / K8S_VERSION).is_dir()]
    return (found or candidates)[0] / "schemas"


def schemas_dir(schemas: Path | str | None = None) -> Path:
    """``schemas`` resolved, or the default."""
    return Path(schemas if schemas is not None else default_schemas_dir()).resolve()


def missing_schemas(schemas: Path | str | None = None) -> str | None:
    """Why the Kubernetes/CRD schemas cannot be used from ``schemas``; None if they can."""
    base = schemas_dir(schemas)
    if not any((base / "kubernetes" / K8S_VERSION).glob("*.json")):
        return f"no Kubernetes {K8S_VERSION} schemas in {base / 'kubernetes' / K8S_VERSION}"
    if not any(base.glob("*/*.yaml")):
        return f"no CustomResourceDefinitions (*/*.yaml) in {base}"
    return None


# --- schema loading ------------------------------------------------------------------------


def strict_schema(node: Any) -> Any:
    """OpenAPI v3 (CRD) -> strict JSON Schema, recursively (see the module docstring)."""
    if isinstance(node, list):
        return [strict_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict_schema(v) for k, v in node.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    pattern = out.get("pattern")
    if isinstance(pattern, str) and pattern.startswith("^(?i)"):
        out["pattern"] = "(?i)^" + pattern[5:]
    open_object = out.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in out and not open_object and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def crd_index(schemas: Path | str | None = None
              ) -> dict[tuple[str, str], tuple[Draft202012Validator, str]]:
    """(apiVersion, kind) -> (validator, scope) for every served CRD version."""
    return _crd_index(schemas_dir(schemas))


@functools.lru_cache(maxsize=4)
def _crd_index(base: Path) -> dict[tuple[str, str], tuple[Draft202012Validator, str]]:
    from jsonschema import Draft202012Validator

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    index = {}
    for path in sorted(base.glob("*/*.yaml")):
        if path.name == "kueue.x-k8s.io_workloads.yaml":
            continue  # created by Kueue itself; large
        for doc in yaml.load_all(path.read_text("utf-8"), Loader=loader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    schema = strict_schema(version["schema"]["openAPIV3Schema"])
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    index[key] = (Draft202012Validator(schema), spec["scope"])
    return index


def core_index(schemas: Path | str | None = None
               ) -> tuple[dict[tuple[str, str], Draft202012Validator], Draft202012Validator]:
    """(apiVersion, kind) -> validator for core kinds, and the ObjectMeta validator."""
    return _core_index(schemas_dir(schemas))


@functools.lru_cache(maxsize=4)
def _core_index(base: Path
                ) -> tuple[dict[tuple[str, str], Draft202012Validator], Draft202012Validator]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    files = sorted((base / "kubernetes" / K8S_VERSION).glob("*.json"))
    docs = [json.loads(f.read_text("utf-8")) for f in files]
    registry: Registry[Any] = Registry().with_resources(
        (d["$id"], Resource.from_contents(d)) for d in docs)
    index = {}
    for doc in docs:
        for gvk in doc.get("x-kubernetes-group-version-kind", []):
            api = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            index[(api, gvk["kind"])] = Draft202012Validator(doc, registry=registry)
    meta = Draft202012Validator({"$ref": OBJECT_META}, registry=registry)
    return index, meta


# --- layer 1: schema -----------------------------------------------------------------------


def _path(error: Any) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<root>"


def _errors(validator: Draft202012Validator, obj: Any, prefix: str = "") -> list[str]:
    found = sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{prefix}{_path(e)}: {e.message[:300]}" for e in found]


def schema_errors(obj: dict[str, Any], schemas: Path | str | None = None) -> list[str]:
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    core, meta_validator = core_index(schemas)
    if key in core:
        return _errors(core[key], obj)
    crds = crd_index(schemas)
    if key not in crds:
        return [f"no schema for apiVersion {key[0]!r} kind {key[1]!r}"]
    validator, scope = crds[key]
    errors = _errors(validator, obj)
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
        return errors + ["metadata.name: required"]
    errors += _errors(meta_validator, meta, "metadata.")
    if scope == "Cluster" and "namespace" in meta:
        errors.append(f"metadata.namespace: {key[1]} is cluster-scoped")
    return errors


# --- layer 2: Kueue rules ------------------------------------------------------------------


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity as a number of base units, None if unparsable."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value))
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    suffix = match.group(2) or ""
    if suffix[:1] in "eE" and suffix:
        return number * Decimal(10) ** int(suffix[1:])
    return number * Decimal(_SUFFIX[suffix])


def cluster_queue_rules(spec: dict[str, Any]) -> Iterator[str]:
    groups = spec.get("resourceGroups") or []
    if len(groups) > 16:
        yield "spec.resourceGroups: more than 16"
    seen_flavors: set[str] = set()
    seen_resources: set[str] = set()
    has_cohort = bool(spec.get("cohortName"))
    for gi, group in enumerate(groups):
        covered = list(group.get("coveredResources") or [])
        for res in covered:
            if res in seen_resources:
                yield f"spec.resourceGroups[{gi}]: resource {res!r} in more than one group"
            seen_resources.add(res)
        for fi, flavor in enumerate(group.get("flavors") or []):
            where = f"spec.resourceGroups[{gi}].flavors[{fi}]"
            if flavor.get("name") in seen_flavors:
                yield f"{where}: flavor {flavor.get('name')!r} in more than one group"
            seen_flavors.add(flavor.get("name"))
            names = [r.get("name") for r in flavor.get("resources") or []]
            if names != covered:
                yield f"{where}.resources: {names} must be exactly coveredResources {covered}, in order"
            for ri, res in enumerate(flavor.get("resources") or []):
                yield from _resource_quota_rules(res, f"{where}.resources[{ri}]", has_cohort)
    yield from _preemption_rules(spec)


def _resource_quota_rules(res: dict[str, Any], where: str, has_cohort: bool) -> Iterator[str]:
    values = {}
    for key in ("nominalQuota", "borrowingLimit", "lendingLimit"):
        if key in res:
            value = quantity(res[key])
            values[key] = value
            if value is None:
                yield f"{where}.{key}: not a quantity: {res[key]!r}"
            elif value < 0:
                yield f"{where}.{key}: negative"
            if key != "nominalQuota" and not has_cohort:
                yield f"{where}.{key}: needs spec.cohortName"
    nominal, lending = values.get("nominalQuota"), values.get("lendingLimit")
    if nominal is not None and lending is not None and lending > nominal:
        yield f"{where}.lendingLimit: larger than nominalQuota"


def _preemption_rules(spec: dict[str, Any]) -> Iterator[str]:
    pre = spec.get("preemption") or {}
    borrow = (pre.get("borrowWithinCohort") or {}).get("policy", "Never")
    if borrow != "Never" and pre.get("reclaimWithinCohort", "Never") == "Never":
        yield "spec.preemption: borrowWithinCohort needs reclaimWithinCohort != Never"
    fung = spec.get("flavorFungibility") or {}
    if "preference" in fung and not (
            fung.get("whenCanBorrow") == fung.get("whenCanPreempt") == "TryNextFlavor"):
        yield "spec.flavorFungibility.preference: needs both whenCan* = TryNextFlavor"


def kueue_rules(obj: dict[str, Any]) -> list[str]:
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if not str(obj.get("apiVersion", "")).startswith("kueue.x-k8s.io/"):
        return []
    if kind == "ClusterQueue":
        return list(cluster_queue_rules(spec))
    errors = []
    if kind == "ResourceFlavor":
        if spec.get("topologyName") and not spec.get("nodeLabels"):
            errors.append("spec.topologyName: needs nodeLabels")
        for key in ("nodeLabels", "nodeTaints", "tolerations"):
            if len(spec.get(key) or []) > 8:
                errors.append(f"spec.{key}: more than 8")
    elif kind == "MultiKueueCluster":
        source = spec.get("clusterSource") or {}
        if len([k for k in ("kubeConfig", "clusterProfileRef") if k in source]) != 1:
            errors.append("spec.clusterSource: exactly one of kubeConfig, clusterProfileRef")
    elif kind == "MultiKueueConfig" and len(spec.get("clusters") or []) > 20:
        errors.append("spec.clusters: more than 20")
    return errors


# --- layer 3: gpuplan policy ---------------------------------------------------------------


def label_errors(labels: dict[str, Any] | None, where: str) -> Iterator[str]:
    for key, value in (labels or {}).items():
        prefix, _, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix))) or \
                len(name) > 63 or not LABEL_NAME.match(name):
            yield f"{where}: invalid label key {key!r}"
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            yield f"{where}: invalid label value {value!r} for {key!r}"


def pod_templates(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, pod template) of a Job, JobSet or RayJob."""
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "Job":
        yield "spec.template", spec.get("template") or {}
    elif kind == "JobSet":
        for i, rj in enumerate(spec.get("replicatedJobs") or []):
            tmpl = ((rj.get("template") or {}).get("spec") or {}).get("template") or {}
            yield f"spec.replicatedJobs[{i}].template.spec.template", tmpl
    elif kind == "RayJob":
        cluster = spec.get("rayClusterSpec") or {}
        yield "spec.rayClusterSpec.headGroupSpec.template", \
            (cluster.get("headGroupSpec") or {}).get("template") or {}
        for i, group in enumerate(cluster.get("workerGroupSpecs") or []):
            yield f"spec.rayClusterSpec.workerGroupSpecs[{i}].template", group.get("template") or {}


def pod_policy(where: str, tmpl: dict[str, Any]) -> Iterator[str]:
    spec = tmpl.get("spec") or {}
    yield from label_errors((tmpl.get("metadata") or {}).get("labels"), f"{where}.metadata.labels")
    if not (spec.get("nodeSelector") or {}).get("gpuplan.io/pool") and not _pool_affinity(spec):
        yield f"{where}.spec.nodeSelector: no gpuplan.io/pool (nor a required affinity on it)"
    tolerates_gpu = any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations") or [])
    for i, c in enumerate(spec.get("containers") or []):
        requests = (c.get("resources") or {}).get("requests") or {}
        for res in ("cpu", "memory"):
            if res not in requests:
                yield f"{where}.spec.containers[{i}].resources.requests: no {res}"
        if "nvidia.com/gpu" in requests and not tolerates_gpu:
            yield f"{where}.spec.tolerations: requests GPUs but does not tolerate nvidia.com/gpu"


def _pool_affinity(spec: dict[str, Any]) -> bool:
    """A required node affinity ``gpuplan.io/pool In [...]`` in every term (fallbacks)."""
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    return bool(terms) and all(
        any(e.get("key") == "gpuplan.io/pool" and e.get("operator") == "In" and e.get("values")
            for e in t.get("matchExpressions") or []) for t in terms)


def job_name_errors(kind: str, name: str) -> list[str]:
    """JobSets name a headless Service, RayJobs a RayCluster: DNS-1035, with length caps."""
    limit = {"JobSet": 40, "RayJob": 47}.get(kind)
    if limit is None:
        return []
    errors = []
    if not DNS_1035.match(name):
        errors.append(f"metadata.name: {kind} name {name!r} must start with a letter (DNS-1035)")
    if len(name) > limit:
        errors.append(f"metadata.name: {kind} name longer than {limit} characters")
    return errors


def policy_errors(obj: dict[str, Any]) -> list[str]:
    meta = obj.get("metadata") or {}
    errors = list(label_errors(meta.get("labels"), "metadata.labels"))
    name = str(meta.get("name", ""))
    if len(name) > 63 or not DNS_SUBDOMAIN.match(name):
        errors.append(f"metadata.name: {name!r} is not a DNS-1123 name of <= 63 characters")
    if obj.get("kind") == "ClusterQueue":
        selector = (obj.get("spec") or {}).get("namespaceSelector")
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            errors.append("spec.namespaceSelector: must be set and non-empty")
    if (obj.get("apiVersion"), obj.get("kind")) in JOB_KINDS:
        labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
        for label in (QUEUE_LABEL, PRIORITY_LABEL):
            if not labels.get(label):
                errors.append(f"metadata.labels: no {label}")
        if notes.get("pulumi.com/skipAwait") != "true":
            errors.append("metadata.annotations: pulumi.com/skipAwait is not \"true\"")
        errors += job_name_errors(obj["kind"], name)
        for where, tmpl in pod_templates(obj):
            errors += pod_policy(where, tmpl)
    return errors


# --- entry points --------------------------------------------------------------------------


def validate_manifest(obj: dict[str, Any], policy: bool = True,
                      schemas: Path | str | None = None) -> list[str]:
    """Errors of one manifest: schema, Kueue rules and (with ``policy``) gpuplan policy."""
    if not isinstance(obj, dict):
        return [f"not an object: {type(obj).__name__}"]
    errors = schema_errors(obj, schemas) + kueue_rules(obj)
    if policy:
        errors += policy_errors(obj)
    return errors


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {ns}{meta.get('name')}"


def reference_errors(objs: Iterable[dict[str, Any]]) -> list[str]:
    """Cross-object references inside one cluster's set of objects."""
    objs = list(objs)
    names: dict[str, set[str]] = {}
    for o in objs:
        meta = o.get("metadata") or {}
        ns = meta.get("namespace")
        names.setdefault(o.get("kind", ""), set()).add(f"{ns}/{meta.get('name')}" if ns else
                                                       str(meta.get("name")))
    errors = []

    def need(src: dict[str, Any], kind: str, name: str) -> None:
        if name not in names.get(kind, set()):
            errors.append(f"{_key(src)}: references missing {kind} {name!r}")

    for o in objs:
        kind, spec, meta = o.get("kind"), o.get("spec") or {}, o.get("metadata") or {}
        if kind == "LocalQueue":
            need(o, "ClusterQueue", spec.get("clusterQueue", ""))
        elif kind == "ClusterQueue":
            for group in spec.get("resourceGroups") or []:
                for flavor in group.get("flavors") or []:
                    need(o, "ResourceFlavor", flavor.get("name", ""))
            for check in (spec.get("admissionChecksStrategy") or {}).get("admissionChecks") or []:
                need(o, "AdmissionCheck", check.get("name", ""))
        elif kind == "AdmissionCheck":
            params = spec.get("parameters") or {}
            if params.get("kind") == "MultiKueueConfig":
                need(o, "MultiKueueConfig", params.get("name", ""))
        elif kind == "MultiKueueConfig":
            for cluster in spec.get("clusters") or []:
                need(o, "MultiKueueCluster", cluster)
        elif (o.get("apiVersion"), kind) in JOB_KINDS:
            labels = meta.get("labels") or {}
            need(o, "LocalQueue", f"{meta.get('namespace')}/{labels.get(QUEUE_LABEL)}")
            if PRIORITY_LABEL in labels:
                need(o, "WorkloadPriorityClass", labels[PRIORITY_LABEL])
            if meta.get("namespace"):
                need(o, "Namespace", meta["namespace"])
    return errors


def validate_objects(objs: Iterable[dict[str, Any]], policy: bool = True,
                     schemas: Path | str | None = None) -> list[str]:
    """Every object's errors (prefixed by kind/name) plus the cross-object references."""
    objs = list(objs)
    errors = [f"{_key(o)}: {e}" for o in objs for e in validate_manifest(o, policy, schemas)]
    return errors + reference_errors(objs)


def manifest_checker(schemas: Path | str | None = None, policy: bool = True) -> ManifestCheck:
    """``validate_manifest`` bound to one schemas directory: the callback of
    :func:`components.terraform.check.check_tree` for ``kubernetes_manifest`` manifests."""
    base = schemas_dir(schemas)

    def check(obj: dict[str, Any]) -> list[str]:
        return validate_manifest(obj, policy, base)

    return check
