"""Pulumi ComponentResources that materialize a gpuplan ``Plan``, over pure builders.

Pure (no Pulumi import; shared with ``planner render k8s`` and ``planner
render terraform``): ``specs`` (Plan -> pool, cluster, queue and job specs),
``pool_args`` (per-cloud node pool arguments), ``cluster_args`` (new cluster
arguments, kubeconfigs) and ``k8s_objects`` (Kubernetes manifests).

Pulumi: ``compute.GpuNodePool``, ``cluster.GpuCluster``, ``kueue.KueueQueues``,
``jobs.TrainingJob``, wired by ``stack`` (the program of ``stacks/``);
``typed`` turns builder dicts into the SDKs' typed Args; ``mocks`` runs a
program offline under Pulumi mocks and records its resources.
"""
