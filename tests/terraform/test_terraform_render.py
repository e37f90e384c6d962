"""``planner render terraform``: Terraform JSON from a plan, checked offline, golden per example.

The renderer must agree with the shared builders (pool args, Kubernetes
objects), pass the provider schema checker and the Kubernetes validator,
escape literal templates, and be byte-for-byte stable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.builders.k8s_objects import plan_objects
from components.builders.pool_args import pool_args
from components.builders.specs import plan_specs
from components.terraform.body import is_template
from components.terraform.check import check_module
from components.terraform.render import (
    NODE_POOL_TYPE,
    TRANSLATIONS,
    escape,
    ident,
    object_address,
    pool_body,
    ref,
    render_terraform,
    render_texts,
    translate,
)
from components.terraform.schema import Schemas, load_schemas
from planner.plan import Plan, loads_plan
from tests.golden import check_golden
from tests.k8s_validator import validate_manifest, validate_objects
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("quickstart", "multi-team", "burst", "deadline", "sharing")
# Every template the renderer writes on purpose: references to variables and resources,
# and the few functions used to shape them.
OWN_TEMPLATE = re.compile(
    r"^\$\{(?:(?:flatten\(values\(|pathexpand\()?"
    r"(?:var|aws_eks_cluster|google_container_cluster|azurerm_kubernetes_cluster|"
    r"aws_eks_node_group|google_container_node_pool|azurerm_kubernetes_cluster_node_pool)"
    r"\.[\w\-]+(?:\.[\w]+|\[\"[\w\-]+\"\])?\)?\)?)\}$")


@pytest.fixture(scope="module")
def schemas(shared: Path) -> Schemas:
    return load_schemas(shared / "schemas" / "terraform")


def example_plan(name: str) -> Plan:
    """The example's committed golden plan (``examples/<name>/plan.json``)."""
    path = REPO / "examples" / name / "plan.json"
    return loads_plan(path.read_text("utf-8"), str(path))


def modules(docs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Split ``{path: doc}`` into its root modules: ``{"infra": {...}, "k8s": {...}}``."""
    out: dict[str, dict[str, Any]] = {}
    for path, doc in docs.items():
        out.setdefault(path.split("/")[0], {})[path] = doc
    return out


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("name", ["factory", *EXAMPLES])
def test_rendered_files_pass_the_schema_checker(name: str, schemas: Schemas) -> None:
    plan = make_plan() if name == "factory" else example_plan(name)
    docs = json.loads(json.dumps(render_terraform(plan)))
    assert set(modules(docs)) == {"infra", "k8s"}
    for module, files in modules(docs).items():
        findings = check_module(files, schemas, validate_manifest)
        assert findings == [], f"{module}:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("name", ["factory", *EXAMPLES])
def test_golden(name: str, update_golden: bool) -> None:
    plan = make_plan() if name == "factory" else example_plan(name)
    for path, text in render_texts(plan).items():
        check_golden(f"terraform/{name}/{path}", text, update_golden)
    golden = REPO / "tests" / "golden" / "terraform" / name
    stale = {p for p in golden.rglob("*.tf.json")
             if p.relative_to(golden).as_posix() not in render_texts(plan)}
    if update_golden:
        for old in stale:
            old.unlink()
    else:
        assert not stale, "stale golden files; run pytest --update-golden"


def test_same_plan_gives_identical_bytes_and_order_changes_nothing() -> None:
    assert render_texts(make_plan()) == render_texts(make_plan())
    assert render_texts(make_plan(reverse=True)) == render_texts(make_plan())


def test_reordering_workloads_changes_no_address() -> None:
    plan = make_plan()
    shuffled = plan.model_copy(update={
        "placements": plan.placements[3:] + plan.placements[:3],
        "pools": plan.pools[2:] + plan.pools[:2],
        "clusters": plan.clusters[1:] + plan.clusters[:1]})

    def addresses(p: Plan) -> set[str]:
        return {f"{path}:{rtype}.{name}" for path, doc in render_terraform(p).items()
                for rtype, named in doc.get("resource", {}).items() for name in named}

    assert addresses(shuffled) == addresses(plan)
    assert render_texts(shuffled) == render_texts(plan)


def test_a_plan_without_pools_gives_two_valid_empty_modules(schemas: Schemas) -> None:
    empty = make_plan().model_copy(update={"pools": (), "placements": (), "clusters": ()})
    docs = json.loads(json.dumps(render_terraform(empty)))
    assert sorted(docs) == ["infra/main.tf.json", "k8s/main.tf.json"]
    assert "provider" not in docs["k8s/main.tf.json"]
    for files in modules(docs).values():
        assert check_module(files, schemas) == []


FACTORY = make_plan()
FACTORY_TEXTS = render_texts(FACTORY)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(placements=st.permutations(FACTORY.placements), pools=st.permutations(FACTORY.pools),
       clusters=st.permutations(FACTORY.clusters), teams=st.permutations(FACTORY.teams))
def test_any_order_of_the_plan_gives_the_same_bytes(placements: list[Any], pools: list[Any],
                                                    clusters: list[Any], teams: list[Any]) -> None:
    shuffled = FACTORY.model_copy(update={"placements": tuple(placements), "pools": tuple(pools),
                                          "clusters": tuple(clusters), "teams": tuple(teams)})
    assert render_texts(shuffled) == FACTORY_TEXTS


def test_layout_two_modules_one_file_per_cloud_and_cluster() -> None:
    plan = make_plan()
    assert sorted(render_terraform(plan)) == [
        "infra/aws.tf.json", "infra/azure.tf.json", "infra/gcp.tf.json", "infra/main.tf.json",
        "k8s/aks-eastus.tf.json", "k8s/aws-us-east-1.tf.json", "k8s/dgx-onprem.tf.json",
        "k8s/gke-prod.tf.json", "k8s/main.tf.json"]


# --------------------------------------------------------------------------- one source of truth


def test_pool_bodies_are_the_shared_pool_args_translated() -> None:
    """Every node pool resource carries exactly its pool args, under Terraform's names."""
    docs = render_terraform(make_plan())
    specs = plan_specs(make_plan())
    for spec in (s for s in specs.pools if s.cloud in NODE_POOL_TYPE):
        body = docs[f"infra/{spec.cloud}.tf.json"]["resource"][NODE_POOL_TYPE[spec.cloud]][
            ident(spec.name)]
        expected = escape(translate(pool_args(spec), TRANSLATIONS[spec.cloud], spec.name))
        assert {k: body[k] for k in expected} == expected


def test_a_pool_argument_without_translation_fails_loudly() -> None:
    with pytest.raises(KeyError, match="no Terraform translation"):
        translate({"node_group_name": "x", "new_thing": 1}, TRANSLATIONS["aws"], "pool")


def test_pool_essentials_per_cloud() -> None:
    docs = render_terraform(make_plan())
    eks = docs["infra/aws.tf.json"]["resource"]["aws_eks_node_group"][
        "aws_us_east_1_p4d_24xlarge_od"]
    assert (eks["ami_type"], eks["capacity_type"], eks["instance_types"]) == (
        "AL2023_x86_64_NVIDIA", "ON_DEMAND", ["p4d.24xlarge"])
    assert eks["scaling_config"] == [{"min_size": 0, "desired_size": 2, "max_size": 2}]
    assert eks["node_group_name"] == "aws-us-east-1-p4d-24xlarge-od"
    assert eks["taint"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    gke = docs["infra/gcp.tf.json"]["resource"]["google_container_node_pool"][
        "gcp_us_central1_g2_standard_8_spot"]
    [config] = gke["node_config"]
    assert config["spot"] is True and config["machine_type"] == "g2-standard-8"
    assert config["guest_accelerator"] == [{
        "type": "nvidia-l4", "count": 1,
        "gpu_driver_installation_config": [{"gpu_driver_version": "LATEST"}]}]
    assert gke["autoscaling"][0]["total_max_node_count"] == 4
    aks = docs["infra/azure.tf.json"]["resource"]["azurerm_kubernetes_cluster_node_pool"][
        "azure_eastus_nc24ads_a100_v4_spot"]
    assert (aks["priority"], aks["eviction_policy"], aks["spot_max_price"]) == ("Spot", "Delete", -1)
    assert (aks["auto_scaling_enabled"], aks["min_count"], aks["max_count"]) == (True, 0, 3)
    assert aks["node_taints"] == ["nvidia.com/gpu=present:NoSchedule",
                                 "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert aks["node_labels"]["kubernetes.azure.com/scalesetpriority"] == "spot"


def test_placement_policy_for_multi_node_pools_on_gke() -> None:
    plan = make_plan()
    pools = [p.model_copy(update={"placement_group": p.id == "gcp-us-central1-a2-highgpu-1g-od"})
             for p in plan.pools]
    docs = render_terraform(plan.model_copy(update={"pools": tuple(pools)}))
    gke = docs["infra/gcp.tf.json"]["resource"]["google_container_node_pool"]
    assert gke["gcp_us_central1_a2_highgpu_1g_od"]["placement_policy"] == [{"type": "COMPACT"}]
    assert "placement_policy" not in gke["gcp_us_central1_g2_standard_8_od"]


def test_every_pool_has_a_cost_comment() -> None:
    plan = make_plan()
    docs = render_terraform(plan)
    for pool in (p for p in plan.pools if p.cloud in NODE_POOL_TYPE):
        body = docs[f"infra/{pool.cloud}.tf.json"]["resource"][NODE_POOL_TYPE[pool.cloud]][
            ident(pool.id)]
        assert f"${pool.hourly}/h planned" in body["//"]
        assert all(w in body["//"] for w in pool.workloads)


def test_new_clusters_are_created_existing_ones_are_variables() -> None:
    docs = render_terraform(make_plan())
    assert set(docs["infra/aws.tf.json"]["resource"]["aws_eks_cluster"]) == {"aws_us_east_1"}
    assert set(docs["infra/azure.tf.json"]["resource"]["azurerm_kubernetes_cluster"]) == {
        "aks_eastus"}
    gcp = docs["infra/gcp.tf.json"]
    assert "google_container_cluster" not in gcp["resource"]  # gke-prod exists
    assert gcp["variable"]["gke_prod_cluster"]["default"] == "gke-prod"
    pool = gcp["resource"]["google_container_node_pool"]["gcp_us_central1_g2_standard_8_od"]
    assert pool["cluster"] == ref("var.gke_prod_cluster")


def test_outputs_carry_pool_names_and_plan_cost() -> None:
    plan = make_plan()
    outputs = render_terraform(plan)["infra/main.tf.json"]["output"]
    assert outputs["plan_hourly_cost"]["value"] == str(plan.totals.hourly)
    assert outputs["plan_monthly_cost"]["value"] == str(plan.totals.monthly)
    assert outputs["pool_names"]["value"]["gcp-us-central1-g2-standard-8-od"] == \
        "${google_container_node_pool.gcp_us_central1_g2_standard_8_od.name}"
    assert "dgx-onprem-a100" not in outputs["pool_names"]["value"]  # on-prem: no cloud pool


def test_k8s_module_holds_exactly_the_shared_objects(shared: Path) -> None:
    plan = make_plan()
    docs = render_terraform(plan)
    for cluster, objects in plan_objects(plan_specs(plan)).items():
        resources = docs[f"k8s/{cluster}.tf.json"]["resource"]
        rendered = []
        for obj in objects:
            rtype, name = object_address(cluster, obj).split(".", 1)
            body = resources[rtype][name]
            assert body["provider"] == f"kubernetes.{ident(cluster)}"
            if rtype == "kubernetes_manifest":
                assert body["manifest"] == escape(obj)
                rendered.append(body["manifest"])
            else:
                assert body["metadata"] == [{k: obj["metadata"][k] for k in ("name", "labels")}]
                rendered.append(obj)
        assert sum(len(v) for v in resources.values()) == len(objects)
        assert validate_objects(rendered) == [], cluster


def test_k8s_dependencies_follow_references() -> None:
    resources = render_terraform(make_plan())["k8s/gke-prod.tf.json"]["resource"]
    job = resources["kubernetes_manifest"]["gke_prod_job_research_llama_8b_lora"]
    assert job["depends_on"] == [
        "kubernetes_manifest.gke_prod_localqueue_research_research",
        "kubernetes_manifest.gke_prod_workloadpriorityclass_gpuplan_p100",
        "kubernetes_namespace_v1.gke_prod_research"]
    assert "spec.suspend" in job["computed_fields"]
    local = resources["kubernetes_manifest"]["gke_prod_localqueue_research_research"]
    assert "kubernetes_manifest.gke_prod_clusterqueue_research" in local["depends_on"]


def test_kubernetes_provider_per_cluster_from_variables() -> None:
    main = render_terraform(make_plan())["k8s/main.tf.json"]
    aliases = {p["alias"]: p for p in main["provider"]["kubernetes"]}
    assert set(aliases) == {"aks_eastus", "aws_us_east_1", "dgx_onprem", "gke_prod"}
    assert aliases["gke_prod"]["config_context"] == "${var.gke_prod_context}"
    assert main["variable"]["dgx_onprem_kubeconfig"]["default"] == "~/.kube/dgx-onprem.yaml"


# --------------------------------------------------------------------------- escaping


def _plan_with_templates() -> Plan:
    plan = make_plan()
    placements = [p.model_copy(update={
        "command": ("bash", "-c", "echo ${HOME} %{if x}y%{endif} $${kept}"),
        "env": {"GREETING": "hi ${USER}"}}) if p.workload == "llama-8b-lora" else p
        for p in plan.placements]
    return plan.model_copy(update={"placements": tuple(placements)})


def test_literal_templates_are_escaped(schemas: Schemas) -> None:
    docs = render_terraform(_plan_with_templates())
    job = docs["k8s/gke-prod.tf.json"]["resource"]["kubernetes_manifest"][
        "gke_prod_job_research_llama_8b_lora"]["manifest"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][2] == "echo $${HOME} %%{if x}y%%{endif} $$${kept}"
    assert {"name": "GREETING", "value": "hi $${USER}"} in container["env"]
    for path, doc in docs.items():
        for text in strings(doc):
            assert not is_template(text) or OWN_TEMPLATE.match(text), (path, text)


def test_escape_leaves_own_references_alone() -> None:
    assert escape({"a": ref("var.x"), "b": "${x}", "${k}": 1}) == {
        "a": "${var.x}", "b": "$${x}", "$${k}": 1}


def test_pool_body_matches_translate() -> None:
    spec = plan_specs(make_plan()).pools[0]
    assert pool_body(spec) == translate(pool_args(spec), TRANSLATIONS[spec.cloud], spec.name)


def test_new_cluster_bodies_are_the_shared_cluster_args_translated() -> None:
    from components.builders.cluster_args import aks_cluster_args, gke_cluster_args
    from components.builders.specs import ClusterSpec
    from components.terraform.render import CLUSTER_TRANSLATIONS

    docs = render_terraform(make_plan())
    aks = docs["infra/azure.tf.json"]["resource"]["azurerm_kubernetes_cluster"]["aks_eastus"]
    [spec] = [c for c in plan_specs(make_plan()).clusters if c.name == "aks-eastus"]
    expected = escape(translate(aks_cluster_args(spec, {}), CLUSTER_TRANSLATIONS["azure"], "c"))
    assert {k: aks[k] for k in expected} == expected
    assert aks["default_node_pool"] == [{"name": "system", "node_count": 1,
                                         "vm_size": "Standard_D4s_v5"}]
    gke = ClusterSpec("gke-new", "gcp", "europe-west4", False, None, (), ())
    body = translate(gke_cluster_args(gke, {}), CLUSTER_TRANSLATIONS["gcp"], "c")
    assert body["release_channel"] == [{"channel": "REGULAR"}]
    assert body["remove_default_node_pool"] is True


def test_renderer_and_checker_never_import_pulumi_and_the_cli_imports_lazily() -> None:
    import subprocess
    import sys

    code = ("import sys, planner.cli.render_terraform_cmd, planner.cli.validate_terraform_cmd\n"
            "assert not [m for m in sys.modules if m.startswith('components')], 'eager import'\n"
            "import components.terraform.render, components.terraform.check\n"
            "assert not [m for m in sys.modules if m.startswith('pulumi')], 'pulumi imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_a_zone_that_would_break_out_of_a_reference_is_refused() -> None:
    plan = make_plan()
    pools = tuple(p.model_copy(update={"zone": 'a"] } ${file("/etc/passwd")'})
                  if p.cloud == "aws" else p for p in plan.pools)
    with pytest.raises(ValueError, match="cannot be a Terraform map key"):
        render_terraform(plan.model_copy(update={"pools": pools}))


@pytest.mark.parametrize("name", ["factory", *EXAMPLES])
def test_k8s_module_holds_what_render_k8s_writes(name: str) -> None:
    """``planner render k8s`` YAML and the Terraform ``k8s/`` module: the same objects."""
    import yaml

    from planner.cli.render_cmd import render_texts as render_k8s_texts

    plan = make_plan() if name == "factory" else example_plan(name)
    yaml_side = sorted(
        path.split("/")[0] + " " + json.dumps(obj, sort_keys=True)
        for path, text in render_k8s_texts(plan).items()
        if not path.endswith("kustomization.yaml") for obj in yaml.safe_load_all(text))
    tf_side = []
    for path, doc in render_terraform(plan).items():
        cluster = path.removeprefix("k8s/").removesuffix(".tf.json")
        resources = doc.get("resource", {}) if path.startswith("k8s/") else {}
        for body in resources.get("kubernetes_manifest", {}).values():
            tf_side.append(cluster + " " + json.dumps(body["manifest"], sort_keys=True))
        for body in resources.get("kubernetes_namespace_v1", {}).values():
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": body["metadata"][0]}
            tf_side.append(cluster + " " + json.dumps(namespace, sort_keys=True))
    assert yaml_side and sorted(tf_side) == yaml_side
