"""Issue 10: every kubernetes_manifest passes the Kubernetes/CRD validator in the CLI paths.

``planner validate-terraform`` and ``planner render terraform --check`` hand each
manifest to :mod:`components.terraform.kubernetes`; missing Kubernetes schemas are a
one-line usage error (exit 2), never a silent skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.terraform.render import render_texts
from tests.cli import run_cli
from tests.plan_factory import make_plan

REPO = Path(__file__).resolve().parents[2]
CQ_FILE = Path("k8s") / "gke-prod.tf.json"
CQ_ADDRESS = "kubernetes_manifest.gke_prod_clusterqueue_research"


def write_render(root: Path) -> Path:
    for rel, text in render_texts(make_plan()).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


def break_cluster_queue(root: Path) -> None:
    path = root / CQ_FILE
    doc = json.loads(path.read_text("utf-8"))
    spec = doc["resource"]["kubernetes_manifest"][CQ_ADDRESS.split(".", 1)[1]]["manifest"]["spec"]
    spec["bogusField"] = True
    spec["namespaceSelector"] = {}
    path.write_text(json.dumps(doc, indent=2), "utf-8")


def test_clean_render_passes(tmp_path: Path, shared: Path) -> None:
    root = write_render(tmp_path / "tf")
    result = run_cli("validate-terraform", str(root), "--schemas", str(shared / "schemas" / "terraform"),
                     "--k8s-schemas", str(shared / "schemas"))
    assert (result.code, result.err) == (0, ""), result.out
    assert "ok (" in result.out


def test_bad_manifest_is_reported_with_file_address_and_problem(tmp_path: Path,
                                                                 shared: Path) -> None:
    root = write_render(tmp_path / "tf")
    break_cluster_queue(root)
    result = run_cli("validate-terraform", str(root), "--schemas", str(shared / "schemas" / "terraform"),
                     "--k8s-schemas", str(shared / "schemas"))
    assert result.code == 2
    lines = result.out.splitlines()
    prefix = f"{root / CQ_FILE}: {CQ_ADDRESS}: manifest: "
    assert any(line.startswith(prefix) and "bogusField" in line and line.endswith("[manifest]")
               for line in lines), result.out
    assert any(line.startswith(prefix) and "spec.namespaceSelector: must be set and non-empty" in line
               for line in lines), result.out
    assert all(line.startswith(prefix) for line in lines), result.out


def test_default_k8s_schemas_come_from_gpuplan_shared(tmp_path: Path, shared: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_render(tmp_path / "tf")
    break_cluster_queue(root)
    monkeypatch.setenv("GPUPLAN_SHARED", str(shared))
    result = run_cli("validate-terraform", str(root))
    assert result.code == 2 and "bogusField" in result.out


def test_missing_k8s_schemas_is_one_line_and_exit_2(tmp_path: Path, shared: Path) -> None:
    root = write_render(tmp_path / "tf")
    result = run_cli("validate-terraform", str(root), "--schemas", str(shared / "schemas" / "terraform"),
                     "--k8s-schemas", str(tmp_path / "nowhere"))
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "--k8s-schemas" in result.err
    assert str(tmp_path / "nowhere") in result.err


def test_render_check_validates_manifests(tmp_path: Path, shared: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import components.terraform.render as tfrender

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(make_plan().model_dump_json(), "utf-8")
    args = ("render", "terraform", str(plan_file), "--check",
            "--schemas", str(shared / "schemas" / "terraform"), "--k8s-schemas", str(shared / "schemas"))
    result = run_cli(*args, "--out", str(tmp_path / "ok"))
    assert result.code == 0, result.err
    original = tfrender.render_texts

    def broken(plan):  # type: ignore[no-untyped-def]
        texts = original(plan)
        doc = json.loads(texts[CQ_FILE.as_posix()])
        name = CQ_ADDRESS.split(".", 1)[1]
        doc["resource"]["kubernetes_manifest"][name]["manifest"]["spec"]["bogusField"] = 1
        return {**texts, CQ_FILE.as_posix(): json.dumps(doc)}

    monkeypatch.setattr(tfrender, "render_texts", broken)
    result = run_cli(*args, "--out", str(tmp_path / "bad"))
    assert result.code == 2
    assert f"{CQ_FILE.as_posix()}: {CQ_ADDRESS}: manifest: " in result.err
    assert "bogusField" in result.err and not (tmp_path / "bad").exists()
    result = run_cli(*args[:-1], str(tmp_path / "nowhere"), "--out", str(tmp_path / "bad"))
    assert result.code == 2 and "--k8s-schemas" in result.err and not (tmp_path / "bad").exists()


def test_validator_imports_jsonschema_lazily() -> None:
    code = ("import sys, components.terraform.kubernetes\n"
            "assert 'jsonschema' not in sys.modules, 'jsonschema imported eagerly'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_shared_schemas_copy_is_not_needed_beyond_the_argument(tmp_path: Path, shared: Path) -> None:
    """The schemas directory is an argument: a copy elsewhere works the same."""
    from components.terraform.kubernetes import manifest_checker, missing_schemas

    copy = tmp_path / "schemas"
    shutil.copytree(shared / "schemas" / "kueue", copy / "kueue")
    assert missing_schemas(copy) is not None
    shutil.copytree(shared / "schemas" / "kubernetes", copy / "kubernetes")
    assert missing_schemas(copy) is None
    bad = {"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "ResourceFlavor",
           "metadata": {"name": "x"}, "spec": {"bogus": 1}}
    assert any("bogus" in e for e in manifest_checker(copy)(bad))
