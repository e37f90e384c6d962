"""``GpuNodePool``: one plan pool as an EKS node group, GKE node pool or AKS agent pool.

The arguments come from :func:`components.builders.pool_args.pool_args` (pure) plus the
cluster wiring from :class:`~components.resources.cluster.GpuCluster`; they are turned
into the SDKs' typed ``*Args`` by :func:`components.resources.typed.build_args`, so an
unknown argument name fails loudly. Pools of existing-cluster capacity
(``PoolSpec.managed`` false, e.g. on-prem nodes) create no cloud resource;
label those nodes ``gpuplan.io/pool=<pool>`` yourself.

Pools the plan keeps together (``placement_group``) get their locality here:
GKE through the pool's ``placement_policy``; AWS a cluster ``aws.ec2.PlacementGroup``
and an ``aws.ec2.LaunchTemplate`` naming it, used by the node group; Azure a
``ProximityPlacementGroup`` referenced by the agent pool. (``planner render
terraform`` does not emit the AWS and Azure ones yet: their resource types are
not in the provider schemas the offline checker has.)
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.builders import pool_args as pa
from components.builders.pool_args import CLUSTER_KEYS, pool_args
from components.builders.specs import PoolSpec
from components.resources.typed import build_args

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


def node_pool_kwargs(spec: PoolSpec, wiring: dict[str, Any],
                     locality: dict[str, Any] | None = None) -> dict[str, Any]:
    """Typed keyword arguments of ``spec``'s cloud resource (``locality``: the placement
    group reference from :func:`placement_resources`)."""
    cls = resource_class(spec.cloud)
    args = dict(pool_args(spec))
    args.update({k: v for k, v in wiring.items() if k in CLUSTER_KEYS[spec.cloud]})
    args.update(locality or {})
    if spec.cloud == "aws":
        args["region"] = spec.region
    return build_args(cls._internal_init, args)


def _aws_with_ec2() -> Any:
    """``pulumi_aws`` with its ``ec2`` module loaded; loading it warns that an unrelated
    resource there (EncryptionControl) is deprecated, which is not ours to act on."""
    import warnings

    import pulumi_aws as aws

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=r"aws\.ec2/encryptioncontrol\.EncryptionControl")
        aws.ec2.PlacementGroup  # noqa: B018 - the lazy module import happens here
    return aws


def placement_resources(spec: PoolSpec, wiring: dict[str, Any],
                        opts: pulumi.ResourceOptions) -> dict[str, Any]:
    """Create the pool's placement group resources (AWS cluster placement group + launch
    template, Azure proximity placement group); return the node pool arguments that use them."""
    if not pa.wants_placement_group(spec):
        return {}
    if spec.cloud == "aws":
        aws = _aws_with_ec2()
        group = aws.ec2.PlacementGroup(
            f"{spec.name}-pg", **build_args(aws.ec2.PlacementGroup._internal_init,
                                            pa.aws_placement_group_args(spec)), opts=opts)
        template = aws.ec2.LaunchTemplate(
            f"{spec.name}-lt", **build_args(aws.ec2.LaunchTemplate._internal_init,
                                            pa.aws_launch_template_args(spec, group.name)),
            opts=opts)
        return pa.aws_launch_template_ref(template.id, template.latest_version.apply(str))
    import pulumi_azure_native as azure_native

    cls = azure_native.compute.ProximityPlacementGroup
    ppg = cls(f"{spec.name}-ppg", **build_args(cls._internal_init, pa.azure_proximity_group_args(
        spec, wiring["resource_group_name"])), opts=opts)
    return pa.azure_proximity_group_ref(ppg.id)


class GpuNodePool(pulumi.ComponentResource):
    """A GPU node pool; ``resource`` is the cloud resource, or None for existing capacity."""

    resource: pulumi.CustomResource | None

    def __init__(self, spec: PoolSpec, wiring: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, spec.name, None, opts)
        self.spec = spec
        self.resource = None
        if spec.managed and spec.cloud in CLOUDS:
            child = pulumi.ResourceOptions(parent=self)
            locality = placement_resources(spec, wiring, child)
            self.resource = resource_class(spec.cloud)(
                spec.name, **node_pool_kwargs(spec, wiring, locality), opts=child)
        self.register_outputs({
            "pool": spec.name, "cloud": spec.cloud, "instanceType": spec.instance_type,
            "spot": spec.spot, "minNodes": spec.min_nodes, "maxNodes": spec.max_nodes,
            "nodeHourly": str(spec.node_hourly),
        })
