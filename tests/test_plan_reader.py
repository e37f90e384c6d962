"""``plan.json`` is untrusted input: one reader checks it like a declaration (issue 19).

Identifiers follow the declaration's rules, numbers their bounds, references
resolve, unknown fields and newer versions are refused; every command that
reads a plan exits 2 with one line naming the file and the JSON path, and
writes nothing.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from planner.errors import PlanFileError
from planner.plan import Plan, loads_plan
from tests.cli import run_cli

REPO = Path(__file__).resolve().parent.parent
BURST = REPO / "examples" / "burst" / "plan.json"


def burst() -> dict[str, Any]:
    return json.loads(BURST.read_text("utf-8"))


def error_of(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(PlanFileError) as info:
        loads_plan(text, "plan.json")
    assert info.value.exit_code == 2
    return str(info.value)


def rename_clusters(data: dict[str, Any], prefix: str) -> str:
    """The burst plan with every cluster name (and every reference to it) prefixed."""
    text = json.dumps(data)
    for cluster in data["clusters"]:
        text = text.replace(json.dumps(cluster["name"]), json.dumps(prefix + cluster["name"]))
    return text


def test_the_examples_plans_load() -> None:
    for path in sorted(REPO.glob("examples/*/plan.json")):
        assert loads_plan(path.read_text("utf-8"), str(path)).placements


# --- the traversal of the issue -------------------------------------------------------------
@pytest.mark.parametrize("command", [["render", "k8s"], ["render", "terraform"]])
def test_cluster_names_that_climb_out_of_out_are_refused(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    evil = work / "plan.json"
    evil.write_text(rename_clusters(burst(), "../../../pwned-"), "utf-8")
    r = run_cli(*command, str(evil), "--out", "out")
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1
    assert r.err.startswith(f"error: {evil}: clusters[0].name: must be lowercase letters")
    assert "'../../../pwned-gpuplan-gcp-europe-west4'" in r.err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "a", "a/b", "a/b/plan.json"]


@pytest.mark.parametrize("command", [
    ["render", "k8s", "PLAN", "--out", "out"],
    ["render", "terraform", "PLAN", "--out", "out"],
    ["diff", str(BURST), "PLAN"],
    ["explain", "PLAN"],
    ["preview", "--plan", "PLAN"],
    ["report", "PLAN", "--out", "out"],
])
def test_every_command_that_reads_a_plan_uses_the_reader(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same file, same one line, exit 2, for each reader (preview runs the stack program)."""
    evil = tmp_path / "plan.json"
    data = burst()
    data["pools"][1]["cluster"] = "elsewhere"
    evil.write_text(json.dumps(data), "utf-8")
    monkeypatch.chdir(REPO)  # preview needs the Pulumi project
    r = run_cli(*[str(evil) if a == "PLAN" else a for a in command])
    assert r.code == 2, r.err
    assert r.err.endswith("pools[1].cluster: unknown cluster 'elsewhere'\n"), r.err
    assert r.err.count("\n") == 1 and str(evil) in r.err
    assert not (REPO / "out").exists()


def test_a_multikueue_hub_must_be_a_dns_label_too(tmp_path: Path) -> None:
    """The hub name becomes a folder of --out, like a cluster name."""
    r = run_cli("render", "k8s", str(BURST), "--out", str(tmp_path / "out"),
                "--multikueue", "../hub")
    assert r.code == 2 and r.err.count("\n") == 1
    assert r.err.startswith("error: --multikueue: must be lowercase letters")
    assert list(tmp_path.iterdir()) == []


# --- one rule per field: identifiers, bounds, references ------------------------------------
def _set(path: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = data
        for part in head:
            node = node[part]
        node[last] = value
    return change


CASES: list[tuple[str, Any, str]] = [
    ("clusters.0.name", "Onprem", "clusters[0].name: must be lowercase letters, digits and '-'"),
    ("pools.0.id", "a/b", "pools[0].id: must be lowercase letters"),
    ("pools.0.id", "x" * 64, "pools[0].id: string should have at most 63 characters"),
    ("placements.0.workload", "nоtebook", "placements[0].workload: must be lowercase"),  # Cyrillic о
    ("placements.0.namespace", "a..b", "placements[0].namespace: must be lowercase letters"),
    ("teams.0.namespace", "-x", "teams[0].namespace: must be lowercase letters"),
    ("pools.0.region", "../eu", "pools[0].region: must be ASCII letters"),
    ("placements.0.image", "nvcr.io/x y", "placements[0].image: must be a container image"),
    ("placements.0.env", {"A=B": "1"}, "placements[0].env.A=B: must be letters"),
    ("placements.0.pool", "nope", "placements[0].pool: unknown pool 'nope'"),
    ("placements.0.team", "ghost", "placements[0].team: unknown team 'ghost'"),
    ("pools.0.cluster", "ghost", "pools[0].cluster: unknown cluster 'ghost'"),
    ("pools.0.workloads", ["ghost"], "pools[0].workloads[0]: unknown workload 'ghost'"),
    ("binding.0.workloads", ["ghost"], "binding[0].workloads[0]: unknown workload 'ghost'"),
    ("totals.by_team", {"ghost": {"hourly": "0", "monthly": "0", "paid_gpu_hours": "0",
                                  "used_gpu_hours": "0",
                                  "idle": {"hourly": "0", "monthly": "0"}}},
     "totals.by_team.ghost: unknown team 'ghost'"),
    ("pools.1.id", "gcp-europe-west4-a-a2-megagpu-16g-a100x16-od",
     "pools[1].id: duplicate pool 'gcp-europe-west4-a-a2-megagpu-16g-a100x16-od' "
     "(first at pools[0].id)"),
    ("placements.0.cluster", "gpuplan-gcp-europe-west4",
     "placements[0].cluster: is 'gpuplan-gcp-europe-west4' but its pool"),
    ("placements.0.namespace", "kube-system",
     "placements[0].namespace: is 'kube-system' but team 'research' has namespace 'research'"),
    ("pools.1.workloads", ["sweep-c", "sweep-d"],
     "placements[0].pool: pool 'k8s-onprem-a100-a100x8' does not list 'notebook-gpus'"),
    ("pools.0.nodes", -1, "pools[0].nodes: input should be greater than or equal to 0"),
    ("pools.0.nodes", 2, "pools[0].nodes: nodes (2) is larger than max_nodes (1)"),
    ("pools.0.min_nodes", 10**6, "pools[0].min_nodes: input should be less than or equal"),
    ("pools.0.node_hourly", "-0.01", "pools[0].node_hourly: input should be greater than or"),
    ("pools.0.node_hourly", "NaN", "pools[0].node_hourly:"),
    ("placements.0.node_share", 0, "placements[0].node_share: input should be greater than 0"),
    ("placements.0.node_share", 1.5, "placements[0].node_share: input should be less than or"),
    ("placements.0.nodes", 9, "placements[0].nodes: 9 nodes, but pool"),
    ("placements.0.cost.discount", "1", "placements[0].cost.discount: input should be less"),
    ("solver.gap", "2", "solver.gap: input should be less than or equal to 1"),
    ("pools.0.color", "red", "pools[0].color: unknown field"),
    # GPU-hours (issue 15): utilization = used / paid is read, so both must be honest
    ("pools.0.used_gpu_hours", "320.0001",
     "pools[0].used_gpu_hours: 320.0001 is more than paid_gpu_hours (320.0000)"),
    ("pools.0.paid_gpu_hours", "640", "pools[0].paid_gpu_hours: 640 is not node_hours x GPUs "
     "per node (20.0000 x 16.0)"),
    ("pools.0.by_team.research.used_gpu_hours", "999",
     "pools[0].by_team.research.used_gpu_hours: 999 is more than paid_gpu_hours"),
    ("totals.used_gpu_hours", "7000", "totals.used_gpu_hours: 7000 is more than paid_gpu_hours"),
    ("totals.by_cloud.gcp.used_gpu_hours", "1e9",
     "totals.by_cloud.gcp.used_gpu_hours: 1E+9 is more than paid_gpu_hours"),
    ("version", 3, "version: plan version 3 is newer than this planner understands"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES)
def test_one_line_names_the_json_path(path: str, value: Any, message: str) -> None:
    data = burst()
    _set(path, value)(data)
    assert error_of(data).startswith(f"plan.json: {message}")


@pytest.mark.parametrize(("text", "message"), [
    ('{"kind": "gpuplan/plan", "kind": "gpuplan/plan"}', "duplicate key 'kind'"),
    ('{"kind": "gpuplan/plan", "version": NaN}', "NaN is not a number a plan may hold"),
    (BURST.read_text("utf-8").replace('"hours_per_month": 730.0', '"hours_per_month": 1e400'),
     "plan.json: hours_per_month: input should be a finite number"),
    ('{"kind": "gpuplan/plan", "version": ' + "9" * 5000 + "}", "not a plan"),
    ("[" * 100_000, "not a plan"),
])
def test_json_tricks_are_refused(text: str, message: str) -> None:
    assert message in error_of(text)


def test_control_characters_are_refused_with_their_path() -> None:
    data = burst()
    data["placements"][0]["command"] = ["python", "x\u0000y"]
    assert error_of(data).startswith("plan.json: placements[0].command[1]: control character")


def test_huge_numbers_are_bounded() -> None:
    data = burst()
    data["pools"][0]["accelerator_count"] = 1e300
    assert "pools[0].accelerator_count: input should be less than or equal to 64" in error_of(data)


# --- the rules are the declaration's, and new fields are covered ----------------------------
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab-z09.-/_ A\u043e\x00"), max_size=70))
def test_declaration_and_plan_accept_the_same_names(name: str) -> None:
    from planner.spec.model import Workload

    def accepts(model: type[BaseModel], data: dict[str, Any]) -> bool:
        try:
            model.model_validate(data)
        except ValidationError:
            return False
        return True

    declared = accepts(Workload, {"name": name, "team": "t", "kind": "service", "resources": {}})
    planned = TypeAdapter(Plan.model_fields["pools"].annotation).validate_python
    try:
        planned([{**burst()["pools"][0], "id": name}])
        in_plan = True
    except ValidationError:
        in_plan = False
    assert declared == in_plan


IDENTIFIER_FIELDS = {"name", "id", "cluster", "pool", "workload", "team", "namespace",
                     "workloads", "teams", "by_team"}
CONSTRAINT_IDS = {("Binding", "id")}  # 'quota:gcp/us-central1/...': shown, never a name


def test_every_identifier_field_of_the_plan_carries_a_rule() -> None:
    """A new field named like an identifier (a fallback's ``pool``, ...) must be typed with a
    rule: a DNS label, and (but for namespaces) an Id or Ref mark for the reference pass."""
    from planner.names import DNS1123_LABEL

    checked, missing = [], []
    for model in _models(Plan):
        for name, field in model.model_fields.items():
            text = repr(field.annotation) + repr(field.metadata)
            if (name not in IDENTIFIER_FIELDS or "str" not in text
                    or (model.__name__, name) in CONSTRAINT_IDS):
                continue
            checked.append(f"{model.__name__}.{name}")
            has_rule = DNS1123_LABEL in text
            has_mark = "Ref(kind=" in text or "Id(kind=" in text
            if not has_rule or not (has_mark or name == "namespace"):
                missing.append(f"{model.__name__}.{name}")
    assert len(checked) >= 15 and missing == []


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    import typing

    seen: list[type[BaseModel]] = []

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.append(tp)
            for field in tp.model_fields.values():
                visit(field.annotation)
        for arg in typing.get_args(tp):
            visit(arg)

    visit(root)
    return seen


def test_a_plan_built_in_code_is_checked_too() -> None:
    """The reference pass is the model's: the optimizer and test factories get it as well."""
    plan = loads_plan(BURST.read_text("utf-8"))
    data = copy.deepcopy(plan.model_dump())
    data["placements"][0]["pool"] = "missing-pool"
    with pytest.raises(ValidationError, match="unknown pool 'missing-pool'"):
        Plan.model_validate(data)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=12), st.booleans())
def test_the_fast_control_character_check_misses_none(text: str, ascii_only: bool) -> None:
    """The reader walks every string only when a pattern on the raw JSON finds where a
    control character could come from; that pattern must find every one (keys too)."""
    from planner.plan import _CONTROL, _MAYBE_CONTROL

    raw = json.dumps({text: [text]}, ensure_ascii=ascii_only)
    if _CONTROL.search(text):
        assert _MAYBE_CONTROL.search(raw)


def test_a_control_character_in_a_key_is_refused() -> None:
    data = burst()
    data["placements"][0]["env"] = {"A\u001bB": "1"}
    assert error_of(data).startswith("plan.json: placements[0].env.A\x1bB: control character")


def test_a_repeated_key_deep_in_the_plan_is_refused() -> None:
    text = BURST.read_text("utf-8").replace('"hours_per_month": 730.0',
                                            '"hours_per_month": 730.0, "hours_per_month": 1.0')
    assert "duplicate key 'hours_per_month'" in error_of(text)
