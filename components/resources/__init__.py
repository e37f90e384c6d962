"""Pulumi ComponentResources, thin wrappers over the builders.

``node_pool.GpuNodePool``, ``cluster.GpuCluster``, ``kueue.KueueQueues``,
``jobs.TrainingJob`` and ``operators.ClusterOperators``; ``kube`` makes one
resource per Kubernetes manifest and ``typed`` turns builder dicts into the
SDKs' typed ``*Args``.

May import: Pulumi and its provider SDKs, ``components.builders``,
``planner.plan``. Never the planner core beyond the plan contract.
"""
