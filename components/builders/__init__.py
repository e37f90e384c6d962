"""Pure builders: a ``Plan`` in, plain dicts out. The one source of truth for every object.

``specs`` (Plan -> pool, cluster, queue and job specs), ``pool_args``
(per-cloud node pool arguments), ``cluster_args`` (new cluster arguments,
kubeconfigs) and ``k8s_objects`` (Kubernetes manifests). The Pulumi
components, ``planner render k8s`` and ``planner render terraform`` all call
them.

May import: ``planner.plan``, ``planner.plancost`` and ``planner.errors``. Never Pulumi, never the
rest of ``components``.
"""
