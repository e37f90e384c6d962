"""The offline Terraform JSON checker against the real provider schema documents.

``tests/fixtures/terraform/valid.tf.json`` is a hand-written module that must
pass; each file in ``broken/`` is a copy with one deliberate mistake that must
fail with exactly one finding naming the resource, the path and the rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.terraform.body import is_template, type_errors
from components.terraform.check import check_document, check_module, check_tree
from components.terraform.schema import Finding, Schemas, load_schemas
from components.terraform.versions import version_allows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "terraform"

# broken copy -> (resource address, path, rule, words the message must contain)
BROKEN = {
    "misspelled_argument": ("aws_eks_node_group.a100_spot", "instance_type", "unknown-argument",
                            "did you mean 'instance_types'"),
    "missing_scaling_config": ("aws_eks_node_group.a100_spot", "scaling_config", "min-items",
                               "required"),
    "object_for_block_array": ("aws_eks_node_group.a100_spot", "scaling_config", "nesting",
                               "expected an array of blocks, got object"),
    "two_node_configs": ("google_container_node_pool.l4", "node_config", "max-items",
                         "at most 1"),
    "computed_only_argument": ("aws_eks_node_group.a100_spot", "arn", "computed-only",
                               "computed by the provider"),
    "missing_required_argument": ("azurerm_kubernetes_cluster_node_pool.t4", "name", "required",
                                  "'name'"),
    "wrong_literal_type": ("azurerm_kubernetes_cluster_node_pool.t4", "min_count", "type",
                           "expected number, got string"),
    "misspelled_block": ("google_container_node_pool.l4", "node_config[0].guest_accelerators",
                         "unknown-block", "did you mean 'guest_accelerator'"),
    "undeclared_variable": ("aws_eks_node_group.a100_spot", "cluster_name", "reference",
                            "var.eks_cluster"),
    "provider_version_excluded": ("aws_eks_node_group.a100_spot", "", "required-providers",
                                  "excludes 6.47.0"),
    "array_for_single_block": ("azurerm_kubernetes_cluster_node_pool.t4", "timeouts", "nesting",
                               "expected one object"),
    "output_without_value": ("output.hourly_cost", "value", "required", "'value'"),
}


@pytest.fixture(scope="module")
def schemas(shared: Path) -> Schemas:
    return load_schemas(shared / "schemas" / "terraform")


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def test_schemas_cover_the_resources_gpuplan_emits(schemas: Schemas) -> None:
    assert set(schemas.resources) == {
        "aws_eks_node_group", "aws_eks_cluster", "google_container_node_pool",
        "google_container_cluster", "azurerm_kubernetes_cluster_node_pool",
        "azurerm_kubernetes_cluster", "kubernetes_manifest", "kubernetes_namespace_v1"}
    assert schemas.provider_of("aws") == ("hashicorp/aws", "6.47.0")


def test_schemas_load_from_documents_as_well_as_a_directory(shared: Path) -> None:
    docs = [_load(p) for p in sorted((shared / "schemas" / "terraform").glob("*.json"))]
    assert load_schemas(docs) == load_schemas(shared / "schemas" / "terraform")


def test_valid_fixture_passes(schemas: Schemas) -> None:
    assert check_module({"valid.tf.json": _load(FIXTURES / "valid.tf.json")}, schemas) == []


def test_every_broken_copy_is_listed() -> None:
    assert {p.name.removesuffix(".tf.json") for p in (FIXTURES / "broken").glob("*.tf.json")} \
        == set(BROKEN)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_copy_fails_with_one_finding(case: str, schemas: Schemas) -> None:
    file = f"broken/{case}.tf.json"
    findings = check_module({file: _load(FIXTURES / file)}, schemas)
    address, path, rule, words = BROKEN[case]
    assert len(findings) == 1, "\n".join(map(str, findings))
    [finding] = findings
    assert (finding.file, finding.address, finding.path, finding.rule) == (file, address, path, rule)
    assert words in finding.message
    line = str(finding)
    assert line.startswith(f"{file}: {address}: ") and line.endswith(f"[{rule}]")
    assert "\n" not in line


def test_check_tree_groups_files_by_directory(tmp_path: Path, schemas: Schemas) -> None:
    """Variables declared in one file are visible to the other files of the same directory only."""
    doc = _load(FIXTURES / "valid.tf.json")
    variables = {"variable": doc.pop("variable")}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf.json").write_text(json.dumps(doc))
    (tmp_path / "a" / "variables.tf.json").write_text(json.dumps(variables))
    assert check_tree(tmp_path, schemas) == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.tf.json").write_text(json.dumps(doc))
    rules = {(f.file, f.rule) for f in check_tree(tmp_path, schemas)}
    assert rules == {("b/main.tf.json", "reference")}


def test_check_tree_reports_unreadable_json(tmp_path: Path, schemas: Schemas) -> None:
    (tmp_path / "x.tf.json").write_text("{not json")
    [finding] = check_tree(tmp_path, schemas)
    assert (finding.file, finding.rule) == ("x.tf.json", "json")


def test_duplicate_declaration_across_files(schemas: Schemas) -> None:
    doc = _load(FIXTURES / "valid.tf.json")
    findings = check_module({"one.tf.json": doc, "two.tf.json": doc}, schemas)
    assert {f.rule for f in findings} == {"duplicate"}
    assert any(f.address == "aws_eks_node_group.a100_spot" and "one.tf.json" in f.message
               for f in findings)


def test_one_required_providers_per_module(schemas: Schemas) -> None:
    required = {"terraform": {"required_providers": {
        "kubernetes": {"source": "hashicorp/kubernetes"}}}}
    [finding] = check_module({"a.tf.json": required, "b.tf.json": required}, schemas)
    assert (finding.file, finding.address, finding.rule) == ("b.tf.json", "terraform", "duplicate")
    assert "a.tf.json" in finding.message


def test_unknown_top_level_and_resource_type(schemas: Schemas) -> None:
    doc: dict[str, Any] = {"resources": {}, "resource": {"aws_eks_nodegroup": {"x": {}}}}
    found = {(f.address, f.rule) for f in check_document(doc, "f.tf.json", schemas)}
    assert found == {("resources", "top-level"), ("aws_eks_nodegroup.x", "unknown-resource-type")}


def test_meta_arguments_and_comments_are_allowed(schemas: Schemas) -> None:
    body = {"//": "note", "count": 1, "depends_on": ["aws_eks_cluster.c"],
            "provider": "kubernetes.east", "lifecycle": {"prevent_destroy": True},
            "manifest": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}}
    doc = {"terraform": {"required_providers": {"kubernetes": {"source": "hashicorp/kubernetes"}}},
           "provider": {"kubernetes": [{"alias": "east", "config_path": "${var.kubeconfig}"}]},
           "variable": {"kubeconfig": {"type": "string"}},
           "resource": {"kubernetes_manifest": {"ns": body}}}
    assert check_module({"k.tf.json": doc}, schemas) == []
    body["provider"] = "kubernetes.west"
    body["lifecycle"] = {"prevent_destroy": True, "ignore_change": []}
    found = {(f.path, f.rule) for f in check_module({"k.tf.json": doc}, schemas)}
    assert found == {("provider", "reference"), ("lifecycle.ignore_change", "unknown-argument")}


def test_missing_required_provider(schemas: Schemas) -> None:
    doc = {"resource": {"kubernetes_namespace_v1": {"ns": {"metadata": [{"name": "a"}]}}}}
    [finding] = check_module({"k.tf.json": doc}, schemas)
    assert finding.rule == "required-providers"


def test_manifests_go_through_the_callback(schemas: Schemas) -> None:
    seen: list[dict[str, Any]] = []

    def manifest_check(manifest: dict[str, Any]) -> list[str]:
        seen.append(manifest)
        return ["spec.x: not allowed"]

    doc = {"resource": {"kubernetes_manifest": {"q": {"manifest": {"kind": "LocalQueue"}}}}}
    [finding] = check_document(doc, "k.tf.json", schemas, manifest_check)
    assert seen == [{"kind": "LocalQueue"}]
    assert (finding.address, finding.path, finding.rule) == ("kubernetes_manifest.q", "manifest",
                                                             "manifest")
    assert "spec.x: not allowed" in str(finding)


def test_templates_and_escapes() -> None:
    assert is_template("${var.x}") and is_template("a %{if x}b%{endif}")
    assert not is_template("echo $${HOME}") and not is_template("plain") and not is_template(3)
    assert not is_template("cost $5") and is_template("$${a} ${b}")


@pytest.mark.parametrize(("value", "typ", "errors"), [
    (1, "number", []),
    (True, "number", [("p", "expected number, got bool")]),
    ("${var.n}", "number", []),
    (["a", 1], ["list", "string"], [("p[1]", "expected string, got number")]),
    ({"k": "v"}, ["map", "string"], []),
    ("x", ["set", "string"], [("p", "expected set, got string")]),
    ({"a": "x"}, ["object", {"a": "string", "b": "number"}], [("p.b", "object attribute missing")]),
    ({"a": "x", "c": 1, "b": 2}, ["object", {"a": "string", "b": "number"}],
     [("p.c", "unknown object attribute")]),
    ({"anything": [1]}, "dynamic", []),
    (None, "string", []),
])
def test_literal_types(value: Any, typ: Any, errors: list[tuple[str, str]]) -> None:
    assert list(type_errors(value, typ, "p")) == errors


@pytest.mark.parametrize(("constraint", "version", "ok"), [
    ("~> 6.0", "6.47.0", True), ("~> 6.0", "7.0.0", False), ("~> 6.47.0", "6.47.3", True),
    ("~> 6.47.0", "6.48.0", False), (">= 6.1, < 7", "6.47.0", True), ("= 6.47.0", "6.47.0", True),
    ("!= 6.47.0", "6.47.0", False), (">= 7", "6.47.0", False), ("latest", "6.47.0", False),
])
def test_version_constraints(constraint: str, version: str, ok: bool) -> None:
    assert version_allows(constraint, version) is ok


def test_finding_renders_on_one_line() -> None:
    finding = Finding("infra/aws.tf.json", "aws_eks_node_group.x", "", "required", "m")
    assert str(finding) == "infra/aws.tf.json: aws_eks_node_group.x: .: m [required]"


# --------------------------------------------------------------------------- CLI


def test_cli_validate_terraform_ok_and_broken(tmp_path: Path, shared: Path) -> None:
    from tests.cli import run_cli

    schemas_dir = str(shared / "schemas" / "terraform")
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "main.tf.json").write_bytes((FIXTURES / "valid.tf.json").read_bytes())
    result = run_cli("validate-terraform", str(tmp_path / "ok"), "--schemas", schemas_dir)
    assert (result.code, result.err) == (0, "")
    assert "ok (1 files)" in result.out
    (tmp_path / "bad").mkdir()
    broken = FIXTURES / "broken" / "two_node_configs.tf.json"
    (tmp_path / "bad" / "main.tf.json").write_bytes(broken.read_bytes())
    result = run_cli("validate-terraform", str(tmp_path / "bad"), "--schemas", schemas_dir)
    assert result.code == 2
    assert result.out == (f"{tmp_path / 'bad' / 'main.tf.json'}: google_container_node_pool.l4: "
                          "node_config: 2 block(s) given, at most 1 allowed [max-items]\n")


def test_cli_validate_terraform_without_schemas_exits_2(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cli import run_cli

    monkeypatch.setenv("GPUPLAN_SHARED", str(tmp_path / "nowhere"))
    result = run_cli("validate-terraform", str(tmp_path))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "no provider schema documents" in result.err
    assert str(tmp_path / "nowhere" / "schemas" / "terraform") in result.err


def test_cli_validate_terraform_empty_dir_exits_2(tmp_path: Path, shared: Path) -> None:
    from tests.cli import run_cli

    result = run_cli("validate-terraform", str(tmp_path), "--schemas",
                     str(shared / "schemas" / "terraform"))
    assert result.code == 2 and "no *.tf.json files" in result.err
