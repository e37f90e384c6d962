"""The validator itself: the real samples pass (but the two known-bad ones), mutations fail."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.builders.k8s_objects import plan_objects
from components.builders.specs import plan_specs
from tests.k8s_validator import validate_manifest, validate_objects
from tests.plan_factory import make_plan

# The two ClusterQueues of the borrowingLimit example list only cpu under [cpu, memory].
KNOWN_BAD = {("cluster_queue.yaml", "cluster-queue"), ("cluster_queue.yaml", "team-a-cq")}
NO_SCHEMA = {"Configuration"}  # Kueue's component config snippets: not a CRD


def sample_objects(shared: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((shared / "schemas").glob("*/samples/**/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text("utf-8")):
            if isinstance(doc, dict) and doc.get("kind") not in NO_SCHEMA:
                out.append((path.name, doc))
    return out


def test_samples_pass_except_the_known_bad(shared: Path) -> None:
    samples = sample_objects(shared)
    assert len(samples) > 100
    failing = set()
    for name, doc in samples:
        errors = validate_manifest(doc, policy=False)
        if errors:
            failing.add((name, doc["metadata"]["name"]))
            assert "must be exactly coveredResources" in errors[0], (name, errors)
    assert len(failing) == 2
    assert {n for n, _ in failing} == {"cluster_queue.yaml"}


def _ours(kind: str) -> dict[str, Any]:
    objs = [o for objs in plan_objects(plan_specs(make_plan())).values() for o in objs]
    return copy.deepcopy(next(o for o in objs if o["kind"] == kind))


MUTATIONS = [
    ("ClusterQueue", lambda o: o["spec"].update(cohort="x"), "Additional properties"),
    ("ClusterQueue", lambda o: o["spec"].pop("cohortName") and o["spec"]["resourceGroups"][0][
        "flavors"][0]["resources"][0].update(borrowingLimit="1"), "needs spec.cohortName"),
    ("ClusterQueue", lambda o: o["spec"]["resourceGroups"][0]["flavors"][0]["resources"].reverse(),
     "coveredResources"),
    ("ClusterQueue", lambda o: o["spec"].update(namespaceSelector={}), "namespaceSelector"),
    ("ClusterQueue", lambda o: o["metadata"].update(namespace="x"), "cluster-scoped"),
    ("ResourceFlavor", lambda o: o["spec"].update(nodeLabel={}), "Additional properties"),
    ("LocalQueue", lambda o: o.update(apiVersion="kueue.x-k8s.io/v1beta3"), "no schema"),
    ("Job", lambda o: o["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicy2="x"),
     "Additional properties"),
    ("Job", lambda o: o["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"].pop(
        "cpu"), "no cpu"),
    ("Job", lambda o: o["metadata"]["labels"].pop("kueue.x-k8s.io/queue-name"), "queue-name"),
    ("Job", lambda o: o["metadata"].pop("annotations"), "skipAwait"),
    ("Job", lambda o: o["spec"]["template"]["spec"].pop("tolerations"), "tolerate"),
    ("Job", lambda o: o["metadata"]["labels"].update(bad="x" * 64), "invalid label value"),
    ("JobSet", lambda o: o["spec"]["replicatedJobs"][0].update(replica=1), "Additional properties"),
    ("JobSet", lambda o: o["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"].pop(
        "nodeSelector"), "gpuplan.io/pool"),
    ("RayJob", lambda o: o["spec"]["rayClusterSpec"].update(headGroup={}), "Additional properties"),
    ("WorkloadPriorityClass", lambda o: o.update(value="high"), "is not of type"),
]


@pytest.mark.parametrize(("kind", "mutate", "message"), MUTATIONS)
def test_mutations_fail(shared: Path, kind: str, mutate: Any, message: str) -> None:
    obj = _ours(kind)
    assert validate_manifest(obj) == []
    mutate(obj)
    errors = validate_manifest(obj)
    assert any(message in e for e in errors), errors


def test_references_checked(shared: Path) -> None:
    objs = plan_objects(plan_specs(make_plan()))["aws-us-east-1"]
    assert validate_objects(objs) == []
    without = [o for o in objs if not (o["kind"] == "WorkloadPriorityClass"
                                       and o["metadata"]["name"] == "gpuplan-p50")]
    assert any("WorkloadPriorityClass 'gpuplan-p50'" in e for e in validate_objects(without))
    without = [o for o in objs if o["kind"] != "LocalQueue"]
    assert any("missing LocalQueue" in e for e in validate_objects(without))
    without = [o for o in objs if o["kind"] != "ResourceFlavor"]
    assert any("missing ResourceFlavor" in e for e in validate_objects(without))
