"""``TrainingJob``: one workload's Job, JobSet or RayJob (from :mod:`components.builders.k8s_objects`).

The manifest already carries the Kueue queue and priority labels, the pool
node selector, the GPU toleration and ``pulumi.com/skipAwait: "true"`` (Kueue
keeps jobs suspended until admitted, so Pulumi must not wait for them).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.resources.kube import kube_resource, resource_name

TYPE = "gpuplan:jobs:TrainingJob"


class TrainingJob(pulumi.ComponentResource):
    def __init__(self, cluster: str, manifest: dict[str, Any], provider: k8s.Provider,
                 depends_on: list[pulumi.Resource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        name = resource_name(cluster, manifest)
        super().__init__(TYPE, name, None, opts)
        meta = manifest["metadata"]
        self.resource = kube_resource(name, manifest, pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=depends_on or None))
        self.register_outputs({"kind": manifest["kind"], "namespace": meta["namespace"],
                               "name": meta["name"],
                               "queue": meta["labels"]["kueue.x-k8s.io/queue-name"]})
