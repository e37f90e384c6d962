"""No secret leaves as plain text: kubeconfigs stay Pulumi secrets (issue 19).

The stack runs under mocks with kubeconfigs given the two ways a deploy gives them
(a secret config object, and a kubeconfig file the declaration names by path), once
plainly and once with a MultiKueue hub (which ships worker kubeconfigs in Secrets).
No token or key of theirs may appear in a recorded resource input except as a Pulumi
secret, in the stack's exports, in ``plan.json``, or in any file ``planner render k8s`` and
``planner render terraform`` write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.program.mocks import Recorded, graph_text, run_mocked
from components.program.stack import load_plan, program, read_config
from planner.plan import dumps_plan
from tests.cli import run_cli
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]


def kubeconfig(cluster: str) -> str:
    """A kubeconfig whose token and key are unique strings we can search for."""
    return (f"apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n"
            f"    server: https://{cluster}.example\nusers:\n- name: admin\n  user:\n"
            f"    token: TOKEN-{cluster}-7f3a9c\n    client-key-data: KEY-{cluster}-b41e02\n")


SECRETS = {name: kubeconfig(name) for name in ("gke-prod", "hub")}


def needles(texts: dict[str, str]) -> list[str]:
    return [line.split(": ", 1)[1] for text in texts.values() for line in text.splitlines()
            if line.strip().startswith(("token:", "client-key-data:"))]


@pytest.fixture
def plan_file(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The three-cloud test plan, its on-prem cluster's kubeconfig in a file it names."""
    on_disk = tmp_path / "dgx-onprem.kubeconfig"
    on_disk.write_text(kubeconfig("dgx-onprem"))
    plan = make_plan()
    clusters = tuple(c.model_copy(update={"kubeconfig": str(on_disk)}) if c.existing and
                     c.kubeconfig else c for c in plan.clusters)
    path = tmp_path / "plan.json"
    path.write_text(dumps_plan(plan.model_copy(update={"clusters": clusters})))
    return path, {**SECRETS, "dgx-onprem": on_disk.read_text()}


def run_stack(plan_path: Path, **extra: str) -> tuple[list[Recorded], Any]:
    config = {"gpuplan:plan": str(plan_path),
              "gpuplan:clusters": json.dumps({"aws-us-east-1": {"subnetIds": ["s-1", "s-2"]}}),
              "gpuplan:kubeconfigs": json.dumps(SECRETS),
              **{f"gpuplan:{k}": v for k, v in extra.items()}}

    def body() -> Any:
        cfg = read_config(pulumi.Config("gpuplan"))
        return program(load_plan(cfg), cfg)

    run = run_mocked(body, config, ["gpuplan:kubeconfigs"])
    return run.resources, run.result


@pytest.mark.parametrize("extra", [{}, {"multikueue": "hub"}])
def test_kubeconfigs_reach_resources_only_as_secrets(
        extra: dict[str, str], plan_file: tuple[Path, dict[str, str]]) -> None:
    path, kubeconfigs = plan_file
    resources, exports = run_stack(path, **extra)
    recorded = graph_text(resources) + json.dumps(exports, default=str)
    secrets = needles(kubeconfigs)
    assert len(secrets) == 6
    assert [s for s in secrets if s in recorded] == []
    # ... and they did reach the providers: as secrets.
    providers = {r.name: r.inputs for r in resources if r.type == "pulumi:providers:kubernetes"}
    for cluster in ("gke-prod", "dgx-onprem", *extra.values()):
        assert any(name.endswith(cluster) and inputs.get("kubeconfig") == "[secret]"
                   for name, inputs in providers.items()), (cluster, sorted(providers))
    if extra:
        secret_objects = [r for r in resources if r.type == "kubernetes:core/v1:Secret"]
        assert secret_objects and all("[secret]" in json.dumps(r.inputs) for r in secret_objects)


def test_plan_and_renders_hold_no_kubeconfig_content(tmp_path: Path) -> None:
    on_disk = tmp_path / "onprem.kubeconfig"
    on_disk.write_text(kubeconfig("onprem-a100"))
    declaration = tmp_path / "workloads.yaml"
    declaration.write_text((REPO / "examples" / "burst" / "workloads.yaml").read_text()
                           .replace("~/.kube/onprem.yaml", str(on_disk)))
    plan = tmp_path / "plan.json"
    assert run_cli("plan", str(declaration), "--out", str(plan)).code == 0
    assert str(on_disk) in plan.read_text()  # the path, which a reviewer sees
    for args in (["k8s"], ["k8s", "--multikueue", "hub"], ["terraform"]):
        out = tmp_path / "-".join(args)
        r = run_cli("render", *args, str(plan), "--out", str(out))
        assert r.code == 0, r.err
    written = {str(p): p.read_text() for p in tmp_path.rglob("*")
               if p.is_file() and p != on_disk}
    assert len(written) > 10
    secrets = needles({"onprem": on_disk.read_text(), **SECRETS})
    leaks = [(name, s) for name, text in written.items() for s in secrets if s in text]
    assert leaks == []
