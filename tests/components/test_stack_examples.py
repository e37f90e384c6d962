"""Each example's committed ``plan.json`` through the stack under Pulumi mocks.

Golden: the recorded resource graph (``components/examples/<ex>.jsonl``) and
the Kubernetes objects (``k8s/examples/<ex>.yaml``); every object validates
against the real schemas. Re-planning with the workloads reversed changes no
object.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pulumi
import pytest
import yaml

from components.builders.k8s_objects import plan_objects
from components.builders.specs import plan_specs
from components.program.mocks import graph_text, run_mocked
from components.program.stack import load_plan, program, read_config
from planner.plan import Plan, dumps_plan, read_plan
from tests.golden import check_golden
from tests.k8s_validator import validate_objects

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("quickstart", "multi-team", "burst", "deadline", "sharing")


def committed_plan(name: str) -> Plan:
    path = REPO / "examples" / name / "plan.json"
    if not path.is_file():
        pytest.skip(f"example {name} has no plan.json")
    return read_plan(path)


@functools.cache
def example_plan(name: str, reverse: bool = False) -> Plan:
    from planner.catalog.load import load_catalog
    from planner.optimize.planning import plan_workloads
    from planner.spec.load import load_workloads

    path = REPO / "examples" / name / "workloads.yaml"
    if not path.is_file():
        pytest.skip(f"example {name} not present")
    catalog = load_catalog(None)
    ws = load_workloads(path, catalog)
    if reverse:
        ws = ws.model_copy(update={"workloads": tuple(reversed(ws.workloads))})
    return plan_workloads(ws, catalog)


def stack_graph(plan: Plan, tmp_path: Path) -> str:
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(plan), encoding="utf-8")
    clusters = {c.name: {"subnetIds": ["subnet-0a1", "subnet-0b2"]} for c in plan.clusters
                if c.cloud == "aws"}
    config = {"gpuplan:plan": str(path), "gpuplan:clusters": json.dumps(clusters)}

    def body() -> object:
        cfg = read_config(pulumi.Config("gpuplan"))
        return program(load_plan(cfg), cfg)

    return graph_text(run_mocked(body, config).resources)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_stack_golden(name: str, tmp_path: Path, update_golden: bool) -> None:
    check_golden(f"components/examples/{name}.jsonl", stack_graph(committed_plan(name), tmp_path),
                 update_golden)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_k8s_objects(name: str, shared: Path, update_golden: bool) -> None:
    objects = plan_objects(plan_specs(committed_plan(name)))
    for cluster, objs in objects.items():
        assert validate_objects(objs) == [], cluster
    text = "".join(f"# cluster: {c}\n" + yaml.safe_dump_all(o, sort_keys=False, width=100)
                   for c, o in sorted(objects.items()))
    check_golden(f"k8s/examples/{name}.yaml", text, update_golden)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_quota_consistency(name: str) -> None:
    """GPU requests of a pool's jobs <= the queues' quota on its flavor <= pool capacity
    (in slots for a shared pool), all in the GPU resources the pool's nodes offer."""
    specs = plan_specs(committed_plan(name))
    for pool in specs.pools:
        requested = sum(r.replicas * r.gpus for j in specs.jobs if j.pool == pool.name
                        for r in j.roles)
        assert {r.gpu_resource for j in specs.jobs if j.pool == pool.name for r in j.roles
                if r.gpus} <= set(pool.gpu_resources)
        quota = sum(sum(f.gpu_amounts().values()) for q in specs.queues for f in q.quotas
                    if f.flavor == pool.name)
        assert requested <= quota <= pool.max_nodes * pool.slots_per_node, pool.name


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_reordered_workloads_same_objects(name: str) -> None:
    first = plan_objects(plan_specs(example_plan(name)))
    assert plan_objects(plan_specs(example_plan(name, reverse=True))) == first
