"""Kubernetes objects of a plan: valid against the real schemas, consistent, stable, golden."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from components.builders.k8s_objects import (
    cpu_quantity,
    memory_quantity,
    multikueue_objects,
    plan_objects,
)
from components.builders.specs import POOL_LABEL, plan_specs
from tests.golden import check_golden
from tests.k8s_validator import pod_templates, quantity, validate_objects
from tests.plan_factory import make_plan


def _objects() -> dict[str, list[dict[str, Any]]]:
    return plan_objects(plan_specs(make_plan()))


def test_every_object_validates(shared: Path) -> None:
    for cluster, objs in _objects().items():
        assert validate_objects(objs) == [], cluster


def test_multikueue_objects_validate(shared: Path) -> None:
    specs = plan_specs(make_plan())
    objs = multikueue_objects(specs, "gke-prod", {"aws-us-east-1": "apiVersion: v1\nkind: Config\n"})
    assert validate_objects(objs) == []
    config = next(o for o in objs if o["kind"] == "MultiKueueConfig")
    # dgx-onprem has free GPUs, then the L4/A100 clouds by their cheapest GPU-hour.
    assert config["spec"]["clusters"][0] == "dgx-onprem"
    assert "gke-prod" not in config["spec"]["clusters"]


def test_pool_label_flavor_and_node_selector_agree() -> None:
    specs = plan_specs(make_plan())
    objs = _objects()
    for pool in specs.pools:
        flavor = next(o for o in objs[pool.cluster] if o["kind"] == "ResourceFlavor"
                      and o["metadata"]["name"] == pool.name)
        assert flavor["spec"]["nodeLabels"] == {POOL_LABEL: pool.labels[POOL_LABEL]}
    for cluster, items in objs.items():
        flavors = {o["metadata"]["name"] for o in items if o["kind"] == "ResourceFlavor"}
        for job in items:
            for _, tmpl in pod_templates(job):
                selector = tmpl["spec"]["nodeSelector"][POOL_LABEL]
                assert selector in flavors, (cluster, job["metadata"]["name"])
                assert specs.pool(selector).labels[POOL_LABEL] == selector


def _pod_gpus(obj: dict[str, Any]) -> dict[str, int]:
    """GPUs a job requests at once, per pool."""
    out: dict[str, int] = defaultdict(int)
    for where, tmpl in pod_templates(obj):
        replicas = _replicas(obj, where)
        for c in tmpl["spec"]["containers"]:
            gpus = int(c["resources"]["requests"].get("nvidia.com/gpu", 0))
            out[tmpl["spec"]["nodeSelector"][POOL_LABEL]] += gpus * replicas
    return out


def _replicas(obj: dict[str, Any], where: str) -> int:
    spec = obj["spec"]
    if obj["kind"] == "Job":
        return int(spec["parallelism"])
    if obj["kind"] == "JobSet":
        i = int(where.split("[")[1].split("]")[0])
        rj = spec["replicatedJobs"][i]
        return int(rj["replicas"]) * int(rj["template"]["spec"]["parallelism"])
    if "workerGroupSpecs" in where:
        return int(spec["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"])
    return 1


def test_gpu_requests_within_quota_within_capacity() -> None:
    specs = plan_specs(make_plan())
    for cluster, items in _objects().items():
        used: dict[tuple[str, str], int] = defaultdict(int)
        for job in items:
            if "kueue.x-k8s.io/queue-name" in job["metadata"].get("labels", {}):
                for pool, gpus in _pod_gpus(job).items():
                    used[(job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], pool)] += gpus
        quota: dict[str, int] = defaultdict(int)
        for cq in (o for o in items if o["kind"] == "ClusterQueue"):
            for flavor in cq["spec"]["resourceGroups"][0]["flavors"]:
                gpus = int(quantity(flavor["resources"][2]["nominalQuota"]) or 0)
                assert used[(cq["metadata"]["name"], flavor["name"])] <= gpus, (cluster, flavor)
                quota[flavor["name"]] += gpus
        for flavor, gpus in quota.items():
            pool = specs.pool(flavor)
            assert gpus <= pool.max_nodes * pool.gpus, (cluster, flavor)


def test_names_do_not_depend_on_order() -> None:
    assert plan_objects(plan_specs(make_plan(reverse=True))) == _objects()


def test_quantities() -> None:
    assert [cpu_quantity(x) for x in (8, 0.5, 1.25)] == ["8", "500m", "1250m"]
    assert [memory_quantity(x) for x in (32, 0.5, 1.5)] == ["32Gi", "512Mi", "1536Mi"]


def test_golden(update_golden: bool) -> None:
    for cluster, objs in _objects().items():
        text = yaml.safe_dump_all(objs, sort_keys=False, width=100)
        check_golden(f"k8s/factory/{cluster}.yaml", text, update_golden)
