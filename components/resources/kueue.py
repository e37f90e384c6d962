"""``KueueQueues``: a cluster's Kueue objects (from :mod:`components.builders.k8s_objects`) as resources.

Namespaces, GPU Operator ConfigMaps, ResourceFlavors, the Cohort (when fallback
flavors borrow from it), WorkloadPriorityClasses and MultiKueue objects first,
then ClusterQueues (depending on the flavors and checks), then LocalQueues
(depending on their ClusterQueue and Namespace). Kueue itself
must be installed in the cluster (it owns the CRDs).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.resources.kube import kube_resource, resource_name

TYPE = "gpuplan:kueue:KueueQueues"
STAGES = (
    ("Namespace", "ConfigMap", "ResourceFlavor", "Cohort", "WorkloadPriorityClass", "Secret",
     "MultiKueueCluster", "MultiKueueConfig", "AdmissionCheck"),
    ("ClusterQueue",),
    ("LocalQueue",),
)


class KueueQueues(pulumi.ComponentResource):
    """Kueue objects of one cluster; ``queues`` maps team queue name -> LocalQueue resource."""

    def __init__(self, cluster: str, manifests: list[dict[str, Any]], provider: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, cluster, None, opts)
        self.resources: dict[str, pulumi.CustomResource] = {}
        before: list[pulumi.Resource] = []
        for kinds in STAGES:
            stage = [m for m in manifests if m["kind"] in kinds]
            before = before + [self._add(cluster, m, provider, before) for m in stage]
        self.queue_names = sorted({m["metadata"]["name"] for m in manifests
                                   if m["kind"] == "ClusterQueue"})
        self.register_outputs({"cluster": cluster, "clusterQueues": self.queue_names})

    def _add(self, cluster: str, manifest: dict[str, Any], provider: k8s.Provider,
             depends_on: list[pulumi.Resource]) -> pulumi.CustomResource:
        name = resource_name(cluster, manifest)
        opts = pulumi.ResourceOptions(parent=self, provider=provider,
                                      depends_on=depends_on or None)
        self.resources[name] = kube_resource(name, manifest, opts)
        return self.resources[name]
