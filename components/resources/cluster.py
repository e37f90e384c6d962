"""``GpuCluster``: attach to an existing Kubernetes cluster or create a minimal EKS/GKE/AKS one.

Either way it exposes ``provider`` (one ``kubernetes.Provider`` per cluster,
its kubeconfig a Pulumi secret) and ``pool_wiring``: the cluster-side
arguments a :class:`~components.resources.node_pool.GpuNodePool` needs on its cloud
(``components.builders.pool_args.CLUSTER_KEYS``).
"""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders import cluster_args as ca
from components.builders.specs import ClusterSpec
from components.resources.typed import build_args

TYPE = "gpuplan:cluster:GpuCluster"


class GpuCluster(pulumi.ComponentResource):
    """One cluster of the plan; ``settings`` is its ``gpuplan:clusters`` config entry."""

    provider: k8s.Provider
    pool_wiring: dict[str, Any]
    kubeconfig: pulumi.Output[str] | None

    def __init__(self, spec: ClusterSpec, settings: dict[str, Any] | None = None,
                 kubeconfig: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, spec.name, None, opts)
        self.spec = spec
        settings = dict(settings or {})
        child = pulumi.ResourceOptions(parent=self)
        if spec.existing:
            self.pool_wiring = existing_wiring(spec, settings, bool(spec.pools))
            self.kubeconfig = pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None
        elif spec.cloud == "aws":
            self.pool_wiring, self.kubeconfig = self._eks(spec, settings, child)
        elif spec.cloud == "gcp":
            self.pool_wiring, self.kubeconfig = self._gke(spec, settings, child)
        elif spec.cloud == "azure":
            self.pool_wiring, self.kubeconfig = self._aks(spec, settings, child)
        else:
            raise ValueError(f"cluster {spec.name}: cannot create a new {spec.cloud} cluster")
        provider_args: dict[str, Any] = {"kubeconfig": self.kubeconfig}
        if settings.get("context"):
            provider_args["context"] = settings["context"]
        self.provider = k8s.Provider(spec.name, **provider_args, opts=child)
        self.register_outputs({"name": spec.name, "cloud": spec.cloud, "region": spec.region,
                               "existing": spec.existing})

    def _eks(self, spec: ClusterSpec, settings: dict[str, Any],
             child: pulumi.ResourceOptions) -> tuple[dict[str, Any], pulumi.Output[str]]:
        import pulumi_aws as aws

        cluster_role = _role(f"{spec.name}-cluster", "eks.amazonaws.com",
                             ca.EKS_CLUSTER_POLICIES, child)
        node_role = _role(f"{spec.name}-node", "ec2.amazonaws.com", ca.EKS_NODE_POLICIES, child)
        args = build_args(aws.eks.Cluster._internal_init, ca.eks_cluster_args(spec, settings))
        cluster = aws.eks.Cluster(spec.name, role_arn=cluster_role.arn, **args, opts=child)
        kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint,
                                       cluster.certificate_authority.data).apply(
            lambda v: ca.eks_kubeconfig(v[0], spec.region, v[1], v[2]))
        wiring = {"cluster_name": cluster.name, "node_role_arn": node_role.arn,
                  "subnet_ids": list(settings["subnetIds"])}
        return wiring, pulumi.Output.secret(kubeconfig)

    def _gke(self, spec: ClusterSpec, settings: dict[str, Any],
             child: pulumi.ResourceOptions) -> tuple[dict[str, Any], pulumi.Output[str]]:
        import pulumi_gcp as gcp

        args = build_args(gcp.container.Cluster._internal_init, ca.gke_cluster_args(spec, settings))
        cluster = gcp.container.Cluster(spec.name, **args, opts=child)
        kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint,
                                       cluster.master_auth.cluster_ca_certificate).apply(
            lambda v: ca.gke_kubeconfig(v[0], v[1], v[2] or ""))
        wiring: dict[str, Any] = {"cluster": cluster.name, "location": cluster.location}
        if settings.get("project"):
            wiring["project"] = settings["project"]
        return wiring, pulumi.Output.secret(kubeconfig)

    def _aks(self, spec: ClusterSpec, settings: dict[str, Any],
             child: pulumi.ResourceOptions) -> tuple[dict[str, Any], pulumi.Output[str]]:
        import pulumi_azure_native as azure_native

        group = azure_native.resources.ResourceGroup(
            spec.name, resource_group_name=ca.aks_resource_group(spec, settings),
            location=spec.region, tags=ca.cluster_tags(spec), opts=child)
        args = build_args(azure_native.containerservice.ManagedCluster._internal_init,
                          ca.aks_cluster_args(spec, settings))
        cluster = azure_native.containerservice.ManagedCluster(
            spec.name, resource_group_name=group.name, **args, opts=child)
        creds = azure_native.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group.name, resource_name=cluster.name)
        kubeconfig = creds.kubeconfigs.apply(
            lambda ks: base64.b64decode(ks[0].value).decode("utf-8"))
        wiring = {"resource_group_name": group.name, "resource_name_": cluster.name}
        return wiring, pulumi.Output.secret(kubeconfig)


REQUIRED = {"aws": ("nodeRoleArn", "subnetIds"), "azure": ("resourceGroup",)}


def existing_wiring(spec: ClusterSpec, settings: dict[str, Any],
                    has_pools: bool = True) -> dict[str, Any]:
    """What pools in an existing cluster need, from its ``gpuplan:clusters`` entry."""
    name = ca.cloud_name(spec, settings)
    missing = [k for k in REQUIRED.get(spec.cloud, ()) if not settings.get(k)]
    if has_pools and missing:
        raise ValueError(f"cluster {spec.name}: adding node pools to an existing {spec.cloud} "
                         f"cluster needs gpuplan:clusters.{spec.name}.{missing[0]}")
    if spec.cloud == "aws":
        return {"cluster_name": name, "node_role_arn": settings.get("nodeRoleArn"),
                "subnet_ids": list(settings.get("subnetIds") or [])}
    if spec.cloud == "gcp":
        wiring = {"cluster": name, "location": settings.get("location") or spec.region}
        if settings.get("project"):
            wiring["project"] = settings["project"]
        return wiring
    if spec.cloud == "azure":
        return {"resource_group_name": settings.get("resourceGroup"), "resource_name_": name}
    return {}


def _role(name: str, service: str, policies: tuple[str, ...],
          opts: pulumi.ResourceOptions) -> Any:
    import pulumi_aws as aws

    role = aws.iam.Role(name, assume_role_policy=ca.assume_role_policy(service),
                        tags={"managed-by": "gpuplan"}, opts=opts)
    for arn in policies:
        short = arn.rsplit("/", 1)[-1]
        aws.iam.RolePolicyAttachment(f"{name}-{short}", role=role.name, policy_arn=arn,
                                     opts=pulumi.ResourceOptions(parent=role))
    return role
