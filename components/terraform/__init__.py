"""Terraform JSON rendering and offline checking, plus the Kubernetes validator they use.

``render`` turns a ``Plan`` into two root modules (``infra/``, ``k8s/``) from
the same builders as Pulumi. The checker (``schema`` documents, ``body``
block walks, ``check`` files and modules, ``versions`` constraints) checks
``*.tf.json`` against real provider schemas; ``kubernetes`` validates every
Kubernetes manifest against the real Kueue, JobSet, KubeRay and Kubernetes
schemas (used by ``validate-terraform`` and the conformance tests).

May import: ``components.builders``, ``planner.plan``, ``planner.plancost``,
``planner.errors``, ``planner.names``.
Never Pulumi.
"""
