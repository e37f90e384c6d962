"""``ClusterOperators``: Kueue, JobSet, KubeRay, and the NVIDIA device plugin on EKS or, where
shared pools need it, the NVIDIA GPU Operator (its ConfigMaps are gpuplan objects created
with the cluster's queues).

Opt-in per cluster with ``gpuplan:clusters.<name>.installOperators: true``
(typical for clusters the stack creates); otherwise install them yourself.
Versions and sources come from :mod:`components.builders.cluster_args` (pure).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.builders import cluster_args as ca
from components.resources.typed import build_args

TYPE = "gpuplan:cluster:Operators"


class ClusterOperators(pulumi.ComponentResource):
    def __init__(self, cluster: str, cloud: str, provider: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None, gpu_operator: bool = False) -> None:
        super().__init__(TYPE, cluster, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        for name, url in ca.operator_manifests().items():
            k8s.yaml.v2.ConfigFile(f"{cluster}-{name}", file=url, opts=child)
        for name, args in ca.operator_charts(cloud, gpu_operator).items():
            k8s.helm.v3.Release(f"{cluster}-{name}",
                                **build_args(k8s.helm.v3.Release._internal_init, args), opts=child)
        self.register_outputs({"cluster": cluster, "kueue": ca.KUEUE_VERSION,
                               "jobset": ca.JOBSET_VERSION, "kuberay": ca.KUBERAY_VERSION})
