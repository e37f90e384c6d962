"""Arguments of a minimal new EKS / GKE / AKS cluster and kubeconfig text. Pulumi-free.

Keys are Pulumi Python argument names (nested dicts = typed ``*Args``).
``settings`` is the cluster's entry of the stack config ``gpuplan:clusters``
(camelCase keys: ``subnetIds``, ``nodeRoleArn``, ``project``, ``location``,
``resourceGroup``, ``clusterName``, ``version``, ``context``).
"""

from __future__ import annotations

import json
from typing import Any

from components.builders.sharing import GPU_OPERATOR_NAMESPACE, gpu_operator_values
from components.builders.specs import ClusterSpec, label_value

EKS_CLUSTER_POLICIES = ("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",)
EKS_NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)
AKS_SYSTEM_VM = "Standard_D4s_v5"


def assume_role_policy(service: str) -> str:
    """IAM trust policy letting ``service`` (``eks.amazonaws.com``, ``ec2.amazonaws.com``) assume."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]},
        sort_keys=True)


def cluster_tags(spec: ClusterSpec) -> dict[str, str]:
    return {"managed-by": "gpuplan", "gpuplan-cluster": label_value(spec.name)}


def cloud_name(spec: ClusterSpec, settings: dict[str, Any]) -> str:
    """The cluster's name at the cloud (``clusterName`` for existing ones, else the plan's)."""
    return str(settings.get("clusterName") or spec.name)


def eks_cluster_args(spec: ClusterSpec, settings: dict[str, Any]) -> dict[str, Any]:
    """``aws.eks.Cluster`` arguments without ``role_arn`` (the component's IAM role)."""
    subnets = settings.get("subnetIds")
    if not subnets:
        raise ValueError(f"cluster {spec.name}: a new EKS cluster needs gpuplan:clusters."
                         f"{spec.name}.subnetIds (at least two subnets in {spec.region})")
    args: dict[str, Any] = {
        "name": cloud_name(spec, settings),
        "region": spec.region,
        "vpc_config": {"subnet_ids": list(subnets)},
        "access_config": {"authentication_mode": "API_AND_CONFIG_MAP"},
        "tags": cluster_tags(spec),
    }
    if settings.get("version"):
        args["version"] = str(settings["version"])
    return args


def gke_cluster_args(spec: ClusterSpec, settings: dict[str, Any]) -> dict[str, Any]:
    """``gcp.container.Cluster``: regional, default pool removed (gpuplan adds GPU pools)."""
    args: dict[str, Any] = {
        "name": cloud_name(spec, settings),
        "location": settings.get("location") or spec.region,
        "initial_node_count": 1,
        "remove_default_node_pool": True,
        "deletion_protection": False,
        "release_channel": {"channel": "REGULAR"},
        "resource_labels": cluster_tags(spec),
    }
    if settings.get("project"):
        args["project"] = settings["project"]
    return args


def aks_resource_group(spec: ClusterSpec, settings: dict[str, Any]) -> str:
    return str(settings.get("resourceGroup") or f"{spec.name}-rg")


def aks_cluster_args(spec: ClusterSpec, settings: dict[str, Any]) -> dict[str, Any]:
    """``azure_native.containerservice.ManagedCluster`` without ``resource_group_name``."""
    name = cloud_name(spec, settings)
    return {
        "resource_name_": name,
        "location": spec.region,
        "dns_prefix": name,
        "identity": {"type": "SystemAssigned"},
        "agent_pool_profiles": [{
            "name": "system", "mode": "System", "count": 1, "vm_size": AKS_SYSTEM_VM,
            "os_type": "Linux",
        }],
        "tags": cluster_tags(spec),
    }


def _kubeconfig(name: str, server: str, ca_data: str, user: dict[str, Any]) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": {"server": server,
                                                "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "users": [{"name": name, "user": user}],
    }, sort_keys=True)


def eks_kubeconfig(name: str, region: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token``."""
    return _kubeconfig(name, endpoint, ca_data, {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", name, "--region", region]}})


def gke_kubeconfig(name: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that authenticates with ``gke-gcloud-auth-plugin``."""
    return _kubeconfig(name, f"https://{endpoint}", ca_data, {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "gke-gcloud-auth-plugin", "provideClusterInfo": True}})


# Operators the Kubernetes objects need, pinned to the versions of ../shared/schemas.
KUEUE_VERSION = "v0.19.2"
JOBSET_VERSION = "v0.12.0"
KUBERAY_VERSION = "1.7.0"
DEVICE_PLUGIN_VERSION = "0.17.1"
GPU_OPERATOR_VERSION = "v26.7.0"


def operator_manifests() -> dict[str, str]:
    """Release manifests (applied server-side): name -> URL."""
    return {
        "kueue": "https://github.com/kubernetes-sigs/kueue/releases/download/"
                 f"{KUEUE_VERSION}/manifests.yaml",
        "jobset": "https://github.com/kubernetes-sigs/jobset/releases/download/"
                  f"{JOBSET_VERSION}/manifests.yaml",
    }


def operator_charts(cloud: str, gpu_operator: bool = False) -> dict[str, dict[str, Any]]:
    """Helm releases (``kubernetes.helm.v3.Release`` arguments): KubeRay everywhere; on EKS
    the NVIDIA device plugin (GKE and AKS install theirs), on GPU pool nodes only, or, with
    ``gpu_operator`` (the cluster has shared pools the operator sets up:
    :mod:`components.builders.sharing`), the NVIDIA GPU Operator instead, which brings its
    own device plugin and the MIG manager."""
    charts: dict[str, dict[str, Any]] = {"kuberay": {
        "chart": "kuberay-operator", "version": KUBERAY_VERSION,
        "namespace": "kuberay-system", "create_namespace": True,
        "repository_opts": {"repo": "https://ray-project.github.io/kuberay-helm/"},
    }}
    if gpu_operator:
        charts["gpu-operator"] = {
            "chart": "gpu-operator", "version": GPU_OPERATOR_VERSION,
            "namespace": GPU_OPERATOR_NAMESPACE, "create_namespace": True,
            "repository_opts": {"repo": "https://helm.ngc.nvidia.com/nvidia"},
            "values": gpu_operator_values(cloud),
        }
    elif cloud == "aws":
        charts["nvidia-device-plugin"] = {
            "chart": "nvidia-device-plugin", "version": DEVICE_PLUGIN_VERSION,
            "namespace": "nvidia-device-plugin", "create_namespace": True,
            "repository_opts": {"repo": "https://nvidia.github.io/k8s-device-plugin"},
            "values": {
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                 "effect": "NoSchedule"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "gpuplan.io/accelerator", "operator": "Exists"}]}]}}},
            },
        }
    return charts
