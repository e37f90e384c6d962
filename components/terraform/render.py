"""Terraform JSON (``*.tf.json``) for a ``Plan``: two root modules, ``infra/`` then ``k8s/``.

Pure: ``render_terraform(plan)`` returns ``{relative path: JSON document}``
and ``dumps`` turns a document into its canonical text; writing files is the
CLI's job. Nothing here imports Pulumi.

One source of truth: every node pool body is ``components.builders.pool_args``
(the arguments the Pulumi components pass) translated key by key to the
Terraform provider's argument names (:data:`TRANSLATIONS`), every new cluster
is ``components.builders.cluster_args`` translated the same way
(:data:`CLUSTER_TRANSLATIONS`), and every Kubernetes object is
``components.builders.k8s_objects`` verbatim. Values are never recomputed
here; a pool argument without a translation is an error, not a silent drop. Only what
the plan cannot know comes from Terraform variables (cluster names, subnets,
roles, resource groups, cluster ids, kubeconfigs).

Layout:
- ``infra/main.tf.json``: ``required_providers`` (current majors), the plan's
  cost outputs and the pool name outputs;
- ``infra/{aws,gcp,azure}.tf.json``: one file per cloud with a pool: provider,
  variables, a minimal cluster where the plan opens a new one, the node pools,
  each with a ``"//"`` comment giving its planned $/h and workloads;
- ``k8s/main.tf.json``: ``required_providers`` and one aliased ``kubernetes``
  provider per cluster, configured from kubeconfig path/context variables;
- ``k8s/<cluster>.tf.json``: that cluster's namespaces
  (``kubernetes_namespace_v1``) and Kueue objects and jobs
  (``kubernetes_manifest``), with ``depends_on`` along their references.

Addresses come from stable names (pool names, clusters, kinds, namespaces,
object names), never from list positions. Every literal string is escaped
(``${`` -> ``$${``, ``%{`` -> ``%%{``); only the references built here, wrapped
in :class:`Expr`, stay templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from components.builders.cluster_args import (
    aks_cluster_args,
    aks_resource_group,
    cloud_name,
    eks_cluster_args,
    gke_cluster_args,
)
from components.builders.k8s_objects import PRIORITY_LABEL, QUEUE_LABEL, plan_objects
from components.builders.pool_args import pool_args
from components.builders.specs import ClusterSpec, PlanSpecs, PoolSpec, plan_specs
from planner.plan import Plan

Document = dict[str, Any]

# Provider local name -> (source, version constraint): the majors the schemas were taken from.
PROVIDERS = {
    "aws": ("hashicorp/aws", "~> 6.47"),
    "google": ("hashicorp/google", "~> 7.9"),
    "azurerm": ("hashicorp/azurerm", "~> 4.79"),
    "kubernetes": ("hashicorp/kubernetes", "~> 2.38"),
}
CLOUD_PROVIDER = {"aws": "aws", "gcp": "google", "azure": "azurerm"}
NODE_POOL_TYPE = {"aws": "aws_eks_node_group", "gcp": "google_container_node_pool",
                  "azure": "azurerm_kubernetes_cluster_node_pool"}
POOL_NAME_ATTRIBUTE = {"aws": "node_group_name", "gcp": "name", "azure": "name"}
# Node counts the autoscaler owns after creation: Terraform must not fight it.
AUTOSCALED = {"aws": ["scaling_config[0].desired_size"], "gcp": ["initial_node_count"],
              "azure": ["node_count"]}
DEFAULT_KUBECONFIG = "~/.kube/config"


class Expr(str):
    """A Terraform template written on purpose (``${var.x}``): not escaped."""


def ref(expression: str) -> Expr:
    """``ref("var.x")`` -> ``${var.x}``."""
    return Expr("${" + expression + "}")


def ident(name: str) -> str:
    """A Terraform identifier from a stable name: ``gke-prod`` -> ``gke_prod``."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return text if re.match(r"[A-Za-z_]", text) else "_" + text


# --------------------------------------------------------------------------- pool args


# Pulumi argument -> (Terraform argument, how): "attr" as is, "block" one block (an array
# of one object), "blocks" an array of blocks, "drop" not a Terraform argument (say why);
# a nested table translates the block's keys.
Rule = tuple[str, str, "dict[str, Rule] | None"]
_TAINT: dict[str, Rule] = {k: (k, "attr", None) for k in ("key", "value", "effect")}
TRANSLATIONS: dict[str, dict[str, Rule]] = {
    "aws": {
        "node_group_name": ("node_group_name", "attr", None),
        "ami_type": ("ami_type", "attr", None),
        "capacity_type": ("capacity_type", "attr", None),
        "instance_types": ("instance_types", "attr", None),
        "scaling_config": ("scaling_config", "block", {
            k: (k, "attr", None) for k in ("min_size", "desired_size", "max_size")}),
        "update_config": ("update_config", "block", {
            k: (k, "attr", None) for k in ("max_unavailable", "max_unavailable_percentage")}),
        "labels": ("labels", "attr", None),
        "taints": ("taint", "blocks", _TAINT),
        "tags": ("tags", "attr", None),
    },
    "gcp": {
        "name": ("name", "attr", None),
        "initial_node_count": ("initial_node_count", "attr", None),
        "node_locations": ("node_locations", "attr", None),
        "autoscaling": ("autoscaling", "block", {
            k: (k, "attr", None) for k in ("min_node_count", "max_node_count",
                                           "total_min_node_count", "total_max_node_count",
                                           "location_policy")}),
        "management": ("management", "block", {
            k: (k, "attr", None) for k in ("auto_repair", "auto_upgrade")}),
        "placement_policy": ("placement_policy", "block", {
            k: (k, "attr", None) for k in ("type", "policy_name", "tpu_topology")}),
        "node_config": ("node_config", "block", {
            **{k: (k, "attr", None) for k in ("machine_type", "spot", "labels", "resource_labels",
                                              "oauth_scopes", "disk_size_gb", "disk_type",
                                              "image_type")},
            "taints": ("taint", "blocks", _TAINT),
            "guest_accelerators": ("guest_accelerator", "blocks", {
                **{k: (k, "attr", None) for k in ("type", "count", "gpu_partition_size")},
                "gpu_driver_installation_config": ("gpu_driver_installation_config", "block", {
                    "gpu_driver_version": ("gpu_driver_version", "attr", None)}),
                "gpu_sharing_config": ("gpu_sharing_config", "block", {
                    k: (k, "attr", None) for k in ("gpu_sharing_strategy",
                                                   "max_shared_clients_per_gpu")}),
            }),
        }),
    },
    "azure": {
        "agent_pool_name": ("name", "attr", None),
        "mode": ("mode", "attr", None),
        "os_type": ("os_type", "attr", None),
        "vm_size": ("vm_size", "attr", None),
        "count": ("node_count", "attr", None),
        "enable_auto_scaling": ("auto_scaling_enabled", "attr", None),
        "min_count": ("min_count", "attr", None),
        "max_count": ("max_count", "attr", None),
        "node_labels": ("node_labels", "attr", None),
        "node_taints": ("node_taints", "attr", None),
        "tags": ("tags", "attr", None),
        "availability_zones": ("zones", "attr", None),
        "scale_set_priority": ("priority", "attr", None),
        "scale_set_eviction_policy": ("eviction_policy", "attr", None),
        "spot_max_price": ("spot_max_price", "attr", None),
        "gpu_instance_profile": ("gpu_instance", "attr", None),
    },
}


def translate(args: dict[str, Any], table: dict[str, Rule], where: str) -> dict[str, Any]:
    """Pulumi-named ``args`` -> Terraform-named body; an argument without a rule raises."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key not in table:
            raise KeyError(f"{where}.{key}: pool argument has no Terraform translation "
                           "(add it to components.terraform.render.TRANSLATIONS)")
        name, how, nested = table[key]
        if how == "attr":
            out[name] = value
        elif how != "drop":
            items = [value] if how == "block" else list(value)
            out[name] = [translate(item, nested or {}, f"{where}.{key}") for item in items]
    return out


def pool_body(spec: PoolSpec) -> dict[str, Any]:
    """The Terraform body of ``spec``'s node pool, from the shared pool arguments."""
    return translate(pool_args(spec), TRANSLATIONS[spec.cloud], spec.name)


# --------------------------------------------------------------------------- infra module


def _variable(kind: str, description: str, default: Any = None,
              nullable: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "description": description}
    if default is not None or nullable:
        out["default"] = default
    return out


def _pool_comment(spec: PoolSpec, plan: Plan) -> str:
    pool = plan.pool(spec.id)
    fallback = (f"; fallback for {', '.join(pool.fallback_for)} (up to {pool.max_nodes} nodes)"
                if pool.fallback_for else "")
    return (f"gpuplan pool {spec.id}: ${pool.hourly}/h planned ({pool.nodes} x "
            f"${pool.node_hourly}/h), ${pool.monthly}/month; serves "
            f"{', '.join(spec.workloads) or 'no workloads'}{fallback}")


def _pool_resource(spec: PoolSpec, cluster_attrs: dict[str, Any], plan: Plan) -> dict[str, Any]:
    return {"//": _pool_comment(spec, plan), **pool_body(spec), **cluster_attrs,
            "lifecycle": {"ignore_changes": AUTOSCALED[spec.cloud]}}


# Pulumi cluster arguments (components.builders.cluster_args) -> Terraform. "drop": not an argument of
# the Terraform resource, with the reason next to it.
CLUSTER_TRANSLATIONS: dict[str, dict[str, Rule]] = {
    "aws": {
        "name": ("name", "attr", None),
        "region": ("region", "attr", None),
        "version": ("version", "attr", None),
        "tags": ("tags", "attr", None),
        "vpc_config": ("vpc_config", "block", {"subnet_ids": ("subnet_ids", "attr", None)}),
        "access_config": ("access_config", "block", {
            "authentication_mode": ("authentication_mode", "attr", None)}),
    },
    "gcp": {
        **{k: (k, "attr", None) for k in ("name", "location", "initial_node_count", "project",
                                          "remove_default_node_pool", "deletion_protection",
                                          "resource_labels")},
        "release_channel": ("release_channel", "block", {"channel": ("channel", "attr", None)}),
    },
    "azure": {
        "resource_name_": ("name", "attr", None),
        **{k: (k, "attr", None) for k in ("location", "dns_prefix", "tags")},
        "identity": ("identity", "block", {"type": ("type", "attr", None)}),
        "agent_pool_profiles": ("default_node_pool", "blocks", {
            **{k: (k, "attr", None) for k in ("name", "vm_size")},
            "count": ("node_count", "attr", None),
            "mode": ("", "drop", None),  # azurerm's default_node_pool is always the System pool
            "os_type": ("", "drop", None),  # and always Linux
        }),
    },
}


def _aws_cluster(c: ClusterSpec, doc: Document) -> dict[str, Any]:
    """Variables (and a new EKS cluster) for ``c``; returns the node groups' cluster arguments."""
    v = ident(c.name)
    doc["variable"][f"{v}_subnet_ids"] = _variable(
        "map(list(string))", f"EKS cluster {c.name}: subnet ids per availability zone")
    doc["variable"][f"{v}_node_role_arn"] = _variable("string", f"EKS cluster {c.name}: node IAM role ARN")
    if c.existing:
        doc["variable"][f"{v}_cluster_name"] = _variable(
            "string", f"existing EKS cluster {c.name}", cloud_name(c, {}))
        return {"cluster_name": ref(f"var.{v}_cluster_name"),
                "node_role_arn": ref(f"var.{v}_node_role_arn")}
    doc["variable"][f"{v}_cluster_role_arn"] = _variable(
        "string", f"EKS cluster {c.name}: cluster IAM role ARN")
    subnets = ref(f"flatten(values(var.{v}_subnet_ids))")
    body = _cluster_body(c, eks_cluster_args(c, {"subnetIds": [subnets]}))
    body["vpc_config"][0]["subnet_ids"] = subnets  # the variable itself, not a list of it
    body["role_arn"] = ref(f"var.{v}_cluster_role_arn")
    doc["resource"].setdefault("aws_eks_cluster", {})[v] = body
    return {"cluster_name": ref(f"aws_eks_cluster.{v}.name"),
            "node_role_arn": ref(f"var.{v}_node_role_arn")}


def _aws_subnets(spec: PoolSpec) -> dict[str, Any]:
    """A pool in one zone takes that zone's subnets; otherwise all of the cluster's."""
    v = ident(spec.cluster)
    if spec.zone and not re.fullmatch(r"[A-Za-z0-9-]+", spec.zone):
        raise ValueError(f"pool {spec.id}: zone {spec.zone!r} cannot be a Terraform map key")
    if spec.zone:
        return {"subnet_ids": ref(f"var.{v}_subnet_ids[\"{spec.zone}\"]"), "region": spec.region}
    return {"subnet_ids": ref(f"flatten(values(var.{v}_subnet_ids))"), "region": spec.region}


def _gcp_cluster(c: ClusterSpec, doc: Document) -> dict[str, Any]:
    v = ident(c.name)
    if c.existing:
        doc["variable"][f"{v}_cluster"] = _variable("string", f"existing GKE cluster {c.name}",
                                                    cloud_name(c, {}))
        doc["variable"][f"{v}_location"] = _variable(
            "string", f"existing GKE cluster {c.name}: its location (region or zone)", c.region)
        return {"cluster": ref(f"var.{v}_cluster"), "location": ref(f"var.{v}_location")}
    doc["resource"].setdefault("google_container_cluster", {})[v] = _cluster_body(
        c, gke_cluster_args(c, {}))
    return {"cluster": ref(f"google_container_cluster.{v}.name"),
            "location": ref(f"google_container_cluster.{v}.location")}


def _azure_cluster(c: ClusterSpec, doc: Document) -> dict[str, Any]:
    v = ident(c.name)
    if c.existing:
        doc["variable"][f"{v}_kubernetes_cluster_id"] = _variable(
            "string", f"existing AKS cluster {c.name}: its Azure resource id")
        return {"kubernetes_cluster_id": ref(f"var.{v}_kubernetes_cluster_id")}
    doc["variable"][f"{v}_resource_group"] = _variable(
        "string", f"AKS cluster {c.name}: existing resource group to create it in",
        aks_resource_group(c, {}))
    body = _cluster_body(c, aks_cluster_args(c, {}))
    body["resource_group_name"] = ref(f"var.{v}_resource_group")
    doc["resource"].setdefault("azurerm_kubernetes_cluster", {})[v] = body
    return {"kubernetes_cluster_id": ref(f"azurerm_kubernetes_cluster.{v}.id")}


def _cluster_body(c: ClusterSpec, args: dict[str, Any]) -> dict[str, Any]:
    body = translate(args, CLUSTER_TRANSLATIONS[c.cloud], c.name)
    return {"//": f"gpuplan cluster {c.name}: new in {c.region} (pools: {', '.join(c.pools)})",
            **body}


def _provider_config(cloud: str, specs: PlanSpecs, doc: Document) -> dict[str, Any]:
    """The cloud's provider block and the variables it reads."""
    if cloud == "aws":
        regions = sorted({c.region for c in specs.clusters if c.cloud == "aws"})
        doc["variable"]["aws_region"] = _variable(
            "string", "default AWS region (each resource sets its own region)", regions[0])
        return {"region": ref("var.aws_region")}
    if cloud == "gcp":
        doc["variable"]["gcp_project"] = _variable("string", "GCP project of the GKE clusters")
        return {"project": ref("var.gcp_project")}
    doc["variable"]["azure_subscription_id"] = _variable(
        "string", "Azure subscription id (null: from ARM_SUBSCRIPTION_ID)", None, nullable=True)
    return {"features": {}, "subscription_id": ref("var.azure_subscription_id")}


CLUSTER_BUILDERS: dict[str, Callable[[ClusterSpec, Document], dict[str, Any]]] = {
    "aws": _aws_cluster, "gcp": _gcp_cluster, "azure": _azure_cluster}


def cloud_document(cloud: str, plan: Plan, specs: PlanSpecs) -> Document:
    """``infra/<cloud>.tf.json``: provider, variables, new clusters and node pools of ``cloud``."""
    doc: Document = {"variable": {}, "resource": {}}
    doc["provider"] = {CLOUD_PROVIDER[cloud]: _provider_config(cloud, specs, doc)}
    clusters = {c.name: c for c in specs.clusters if c.cloud == cloud}
    pools = doc["resource"].setdefault(NODE_POOL_TYPE[cloud], {})
    for name, c in sorted(clusters.items()):
        attrs = CLUSTER_BUILDERS[cloud](c, doc)
        for spec in (p for p in specs.pools if p.cluster == name and p.managed):
            here = {**attrs, **_aws_subnets(spec)} if cloud == "aws" else attrs
            pools[ident(spec.name)] = _pool_resource(spec, here, plan)
    return doc


def _required(names: Iterable[str]) -> dict[str, Any]:
    return {"required_providers": {
        n: {"source": PROVIDERS[n][0], "version": PROVIDERS[n][1]} for n in sorted(names)}}


def _cloud_pools(specs: PlanSpecs) -> list[PoolSpec]:
    """Pools that are cloud resources (not capacity of an existing on-prem cluster)."""
    return [p for p in specs.pools if p.managed and p.cloud in NODE_POOL_TYPE]


def infra_main(plan: Plan, specs: PlanSpecs, clouds: list[str]) -> Document:
    """``infra/main.tf.json``: providers, and the outputs that span clouds."""
    names = {s.name: ref(f"{NODE_POOL_TYPE[s.cloud]}.{ident(s.name)}.{POOL_NAME_ATTRIBUTE[s.cloud]}")
             for s in _cloud_pools(specs) if s.cloud in clouds}
    hourly = {s.name: str(plan.pool(s.id).hourly) for s in _cloud_pools(specs) if s.cloud in clouds}
    return {
        "terraform": _required(CLOUD_PROVIDER[c] for c in clouds),
        "output": {
            "pool_names": {"description": "node pool name per gpuplan pool", "value": names},
            "pool_hourly_cost": {"description": "planned USD/h per gpuplan pool", "value": hourly},
            "plan_hourly_cost": {"description": "the plan's total USD/h",
                                 "value": str(plan.totals.hourly)},
            "plan_monthly_cost": {"description": "the plan's total USD/month",
                                  "value": str(plan.totals.monthly)},
        },
    }


def infra_documents(plan: Plan, specs: PlanSpecs) -> dict[str, Document]:
    clouds = sorted({p.cloud for p in _cloud_pools(specs)})
    out = {"infra/main.tf.json": infra_main(plan, specs, clouds)}
    for cloud in clouds:
        out[f"infra/{cloud}.tf.json"] = cloud_document(cloud, plan, specs)
    return out


# --------------------------------------------------------------------------- k8s module


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def object_address(cluster: str, obj: dict[str, Any]) -> str:
    """``kubernetes_manifest.gke_prod_localqueue_research_research`` and the like."""
    kind, namespace, name = object_key(obj)
    if kind == "Namespace" and obj["apiVersion"] == "v1":
        return f"kubernetes_namespace_v1.{ident(cluster)}_{ident(name)}"
    parts = [cluster, kind.lower(), namespace, name]
    return "kubernetes_manifest." + "_".join(ident(p) for p in parts if p)


def dependencies(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Keys of the objects ``obj`` refers to: namespace, queues, flavors, priority class."""
    kind, namespace, _ = object_key(obj)
    spec = obj.get("spec") or {}
    labels = obj["metadata"].get("labels") or {}
    out = [("Namespace", "", namespace)] if namespace else []
    if kind == "LocalQueue":
        out.append(("ClusterQueue", "", spec.get("clusterQueue", "")))
    if kind == "ClusterQueue":
        out += [("ResourceFlavor", "", f["name"]) for g in spec.get("resourceGroups", [])
                for f in g.get("flavors", [])]
        if spec.get("cohortName"):
            out.append(("Cohort", "", spec["cohortName"]))
    if QUEUE_LABEL in labels:
        out.append(("LocalQueue", namespace, labels[QUEUE_LABEL]))
    if PRIORITY_LABEL in labels:
        out.append(("WorkloadPriorityClass", "", labels[PRIORITY_LABEL]))
    return out


# Fields the API server or a controller changes after apply (Kueue suspends/resumes jobs).
COMPUTED_FIELDS = {
    "Job": ["metadata.annotations", "metadata.labels", "spec.selector", "spec.suspend",
            "spec.template.metadata.labels"],
    "JobSet": ["metadata.annotations", "metadata.labels", "spec.suspend"],
    "RayJob": ["metadata.annotations", "metadata.labels", "spec.suspend"],
}


def object_resource(cluster: str, obj: dict[str, Any], addresses: dict[tuple[str, str, str], str],
                    ) -> dict[str, Any]:
    """The ``kubernetes_namespace_v1`` or ``kubernetes_manifest`` body of one object."""
    body: dict[str, Any] = {"provider": f"kubernetes.{ident(cluster)}"}
    if object_address(cluster, obj).startswith("kubernetes_namespace_v1."):
        meta = obj["metadata"]
        body["metadata"] = [{k: meta[k] for k in ("name", "labels", "annotations") if k in meta}]
    else:
        body["manifest"] = obj
        if obj["kind"] in COMPUTED_FIELDS:
            body["computed_fields"] = COMPUTED_FIELDS[obj["kind"]]
    depends = sorted({addresses[k] for k in dependencies(obj) if k in addresses})
    if depends:
        body["depends_on"] = depends
    return body


def cluster_document(cluster: str, objects: list[dict[str, Any]]) -> Document:
    """``k8s/<cluster>.tf.json``: every object of one cluster."""
    addresses = {object_key(o): object_address(cluster, o) for o in objects}
    if len(set(addresses.values())) != len(objects):
        raise ValueError(f"cluster {cluster}: two Kubernetes objects map to one Terraform address")
    resources: dict[str, dict[str, Any]] = {}
    for obj in objects:
        rtype, name = object_address(cluster, obj).split(".", 1)
        resources.setdefault(rtype, {})[name] = object_resource(cluster, obj, addresses)
    return {"resource": resources}


def k8s_main(specs: PlanSpecs, clusters: list[str]) -> Document:
    """``k8s/main.tf.json``: the kubernetes provider, one alias per cluster, and its variables."""
    variables: dict[str, Any] = {}
    providers = []
    by_name = {c.name: c for c in specs.clusters}
    for name in clusters:
        v = ident(name)
        variables[f"{v}_kubeconfig"] = _variable(
            "string", f"kubeconfig file for cluster {name}",
            by_name[name].kubeconfig or DEFAULT_KUBECONFIG)
        variables[f"{v}_context"] = _variable("string", f"kubeconfig context of cluster {name}", name)
        providers.append({"alias": v, "config_path": ref(f"pathexpand(var.{v}_kubeconfig)"),
                          "config_context": ref(f"var.{v}_context")})
    doc: Document = {"terraform": _required(["kubernetes"])}
    if providers:  # an empty plan still gives a valid (empty) module
        doc.update({"variable": variables, "provider": {"kubernetes": providers}})
    return doc


def k8s_documents(specs: PlanSpecs) -> dict[str, Document]:
    objects = {c: objs for c, objs in plan_objects(specs).items() if objs}
    out = {"k8s/main.tf.json": k8s_main(specs, sorted(objects))}
    for cluster, objs in sorted(objects.items()):
        out[f"k8s/{cluster}.tf.json"] = cluster_document(cluster, objs)
    return out


# --------------------------------------------------------------------------- whole plan


def escape(value: Any) -> Any:
    """Escape template sequences in every literal string (and key); leave :class:`Expr` alone."""
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, dict):
        return {escape(k): escape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape(v) for v in value]
    return value


def render_terraform(plan: Plan) -> dict[str, Document]:
    """Every ``*.tf.json`` of ``plan``: relative path -> JSON document (escaped, ready to dump)."""
    specs = plan_specs(plan)
    docs = {**infra_documents(plan, specs), **k8s_documents(specs)}
    return {path: escape(doc) for path, doc in sorted(docs.items())}


def dumps(doc: Document) -> str:
    """Canonical text: sorted keys, 2-space indent, trailing newline, UTF-8 as is."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_texts(plan: Plan) -> dict[str, str]:
    """Relative path -> file text, for the CLI and the golden tests."""
    return {path: dumps(doc) for path, doc in render_terraform(plan).items()}

