"""The Kubernetes/CRD validator for tests: a re-export of :mod:`components.terraform.kubernetes`.

``validate_manifest(obj)`` / ``validate_objects(objs)`` use the default schemas
directory (``$GPUPLAN_SHARED/schemas`` or ``../shared/schemas``).
"""

from __future__ import annotations

from components.terraform.kubernetes import (
    DNS_1035,
    DNS_SUBDOMAIN,
    JOB_KINDS,
    K8S_VERSION,
    LABEL_NAME,
    LABEL_VALUE,
    OBJECT_META,
    PRIORITY_LABEL,
    QUEUE_LABEL,
    cluster_queue_rules,
    core_index,
    crd_index,
    default_schemas_dir,
    job_name_errors,
    kueue_rules,
    label_errors,
    manifest_checker,
    pod_policy,
    pod_templates,
    policy_errors,
    quantity,
    reference_errors,
    schema_errors,
    schemas_dir,
    strict_schema,
    validate_manifest,
    validate_objects,
)

__all__ = [
    "DNS_1035", "DNS_SUBDOMAIN", "JOB_KINDS", "K8S_VERSION", "LABEL_NAME", "LABEL_VALUE",
    "OBJECT_META", "PRIORITY_LABEL", "QUEUE_LABEL", "cluster_queue_rules", "core_index",
    "crd_index", "default_schemas_dir", "job_name_errors", "kueue_rules", "label_errors",
    "manifest_checker", "pod_policy", "pod_templates", "policy_errors", "quantity",
    "reference_errors", "schema_errors", "schemas_dir", "strict_schema", "validate_manifest",
    "validate_objects",
]
