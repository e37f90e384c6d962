"""``GpuNodePool``: one plan pool as an EKS node group, GKE node pool or AKS agent pool.

The arguments come from :func:`components.pool_args.pool_args` (pure) plus the
cluster wiring from :class:`~components.cluster.GpuCluster`; they are turned
into the SDKs' typed ``*Args`` by :func:`components.typed.build_args`, so an
unknown argument name fails loudly. Pools of existing-cluster capacity
(``PoolSpec.managed`` false, e.g. on-prem nodes) create no cloud resource;
label those nodes ``gpuplan.io/pool=<pool>`` yourself.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.pool_args import CLUSTER_KEYS, pool_args
from components.specs import PoolSpec
from components.typed import build_args

TYPE = "gpuplan:compute:GpuNodePool"

CLOUDS = ("aws", "gcp", "azure")


def resource_class(cloud: str) -> Any:
    """The node pool resource class of ``cloud`` (its SDK imported only when needed)."""
    if cloud == "aws":
        import pulumi_aws as aws

        return aws.eks.NodeGroup
    if cloud == "gcp":
        import pulumi_gcp as gcp

        return gcp.container.NodePool
    if cloud == "azure":
        import pulumi_azure_native as azure_native

        return azure_native.containerservice.AgentPool
    raise KeyError(cloud)


def node_pool_kwargs(spec: PoolSpec, wiring: dict[str, Any]) -> dict[str, Any]:
    """Typed keyword arguments of ``spec``'s cloud resource."""
    cls = resource_class(spec.cloud)
    args = dict(pool_args(spec))
    args.update({k: v for k, v in wiring.items() if k in CLUSTER_KEYS[spec.cloud]})
    if spec.cloud == "aws":
        args["region"] = spec.region
    return build_args(cls._internal_init, args)


class GpuNodePool(pulumi.ComponentResource):
    """A GPU node pool; ``resource`` is the cloud resource, or None for existing capacity."""

    resource: pulumi.CustomResource | None

    def __init__(self, spec: PoolSpec, wiring: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, spec.name, None, opts)
        self.spec = spec
        self.resource = None
        if spec.managed and spec.cloud in CLOUDS:
            self.resource = resource_class(spec.cloud)(spec.name, **node_pool_kwargs(spec, wiring),
                                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({
            "pool": spec.name, "cloud": spec.cloud, "instanceType": spec.instance_type,
            "spot": spec.spot, "minNodes": spec.min_nodes, "maxNodes": spec.max_nodes,
            "nodeHourly": str(spec.node_hourly),
        })
