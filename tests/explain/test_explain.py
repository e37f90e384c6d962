"""``planner explain``: goldens for the examples' plans, unplaced workloads, bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.explain.reading import describe, explain
from planner.plan import Binding
from tests.cli import run_cli
from tests.fixtures.explain import plans
from tests.golden import check_golden

FORMATS = [("text", "txt"), ("md", "md"), ("json", "json")]
# A what-if per plan for the golden files (the examples without one get --constraints only).
WHAT_IF = {
    "quickstart": ["discount:gcp=0.8"],
    "multi-team": ["quota:gcp/us-central1/NVIDIA_A100_GPUS=+16", "budget:vision=+50%"],
    "quota-binds": ["quota:gcp/us-central1/NVIDIA_A100_GPUS=+8"],
    "unplaced": ["quota:gcp/us-central1/NVIDIA_A100_GPUS=16"],
}


def _names() -> list[str]:
    return [n for n in (*plans.EXAMPLES, *plans.FIXTURES) if plans.source(n).exists()]



@pytest.fixture(autouse=True)
def _embedded_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-solves use the embedded catalog, whatever GPUPLAN_CATALOG says outside."""
    monkeypatch.delenv("GPUPLAN_CATALOG", raising=False)

@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plans")


def _plan(name: str, plan_dir: Path) -> str:
    """The plan file to explain: an example's committed plan.json, or a fixture planned once."""
    path = plans.committed(name) or plan_dir / f"{name}.json"
    if not path.exists():
        plans.write(name, plan_dir)
    return str(path)


def _ok(*args: str) -> str:
    r = run_cli("explain", *args)
    assert r.code == 0, r.err
    assert r.err == "", r.err
    return r.out


@pytest.mark.parametrize("name", _names())
@pytest.mark.parametrize("fmt,ext", FORMATS)
def test_golden_overview(name: str, fmt: str, ext: str, plan_dir: Path,
                         update_golden: bool) -> None:
    check_golden(f"explain/{name}/overview.{ext}", _ok(_plan(name, plan_dir), "-f", fmt),
                 update_golden)


@pytest.mark.parametrize("name", _names())
@pytest.mark.parametrize("fmt,ext", FORMATS)
def test_golden_every_workload(name: str, fmt: str, ext: str, plan_dir: Path,
                               update_golden: bool) -> None:
    plan = plans.planned(name)
    names = [p.workload for p in plan.placements] + [u.workload for u in plan.unplaced]
    check_golden(f"explain/{name}/workloads.{ext}",
                 _ok(_plan(name, plan_dir), *names, "--format", fmt), update_golden)


@pytest.mark.parametrize("name", _names())
@pytest.mark.parametrize("fmt,ext", FORMATS)
def test_golden_what_if_and_constraints(name: str, fmt: str, ext: str, plan_dir: Path,
                                        update_golden: bool) -> None:
    args = [a for change in WHAT_IF.get(name, []) for a in ("--what-if", change)]
    out = _ok(_plan(name, plan_dir), *args, "--constraints", "-f", fmt)
    check_golden(f"explain/{name}/what-if.{ext}", out, update_golden)


def test_json_is_the_documented_envelope(plan_dir: Path) -> None:
    doc = json.loads(_ok(_plan("quota-binds", plan_dir), "-f", "json"))
    assert doc["kind"] == "gpuplan/explain" and doc["version"] == 1
    assert set(doc) == {"kind", "version", "catalog", "overview", "workloads", "what_if",
                        "constraints"}
    assert doc["workloads"] == [] and doc["what_if"] is None and doc["constraints"] is None
    assert isinstance(doc["overview"]["monthly"], str)  # money as decimal strings
    named = json.loads(_ok(_plan("quota-binds", plan_dir), "pretrain-b", "pretrain-a", "-f",
                           "json"))
    assert named["overview"] is None
    assert [w["workload"] for w in named["workloads"]] == ["pretrain-b", "pretrain-a"]


def test_placed_workload_has_breakdown_alternatives_and_binding_quota(plan_dir: Path) -> None:
    """The quota binds: the displaced job's cheaper offers name it with its usage."""
    plan = plans.planned("quota-binds")
    quota = "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand"
    (displaced,) = [w for b in plan.binding if b.id == quota for w in b.workloads]
    doc = json.loads(_ok(_plan("quota-binds", plan_dir), displaced, "-f", "json"))
    (w,) = doc["workloads"]
    p = plan.placement(displaced)
    assert p is not None and w["placement"]["pool"] == p.pool
    cost = w["cost"]
    parts = sum(float(cost[k]) for k in ("compute", "spot_risk", "egress", "discount"))
    assert parts == pytest.approx(float(cost["per_job"]), abs=1e-3)
    assert [b["id"] for b in w["binding"]] == [quota]
    blocked = [g for g in w["cheaper"] if g["reason"] == quota]
    assert blocked, w["cheaper"]
    assert blocked[0]["place"] == "gcp/us-central1"
    assert "blocked by quota NVIDIA_A100_GPUS (on-demand, 8 of 8 GPUs used)" in blocked[0]["text"]
    assert all(float(a["delta"]) < 0 for a in w["alternatives"] if a["blocked_by"] == quota)
    text = _ok(_plan("quota-binds", plan_dir), displaced)
    assert "cheaper offer" in text and "8 of 8 GPUs used" in text


def test_unplaced_says_what_would_place_it(plan_dir: Path) -> None:
    """Each way to place an unplaced job is one relaxation here (issue 18: it was shown as
    one set "quota + region + spot" that blocks it), with the constraint it names."""
    plan = plans.planned("unplaced")
    by_name = {u.workload: u for u in plan.unplaced}
    doc = json.loads(_ok(_plan("unplaced", plan_dir), "second", "no-room", "-f", "json"))
    second, no_room = doc["workloads"]
    assert second["status"] == "unplaced" and second["placement"] is None
    quota = "quota:gcp/us-central1/NVIDIA_A100_GPUS/on-demand"
    assert [[b["id"] for b in x["relax"]] for x in second["unblock"]] == [
        list(x.relax) for x in by_name["second"].unblock]
    assert {x.relax for x in by_name["second"].unblock} == {
        ("spot-not-allowed",), ("region-pinned",), (quota,)}
    (held,) = [x for x in second["unblock"] if x["relax"][0]["id"] == quota]
    assert held["relax"][0]["constraint"]["used"] == "8.0"
    assert held["monthly"] == str(by_name["second"].unblock[-1].monthly)
    assert any(x["relax"][0]["id"] == "quota:aws/us-east-1/P/on-demand"
               for x in no_room["unblock"])
    text = _ok(_plan("unplaced", plan_dir), "second")
    assert "To place it, relax any one of:" in text
    assert f"    - {quota}: then $293.87/month on gcp/us-central1" in text
    md = _ok(_plan("unplaced", plan_dir), "-f", "md")
    assert "`second` (research): placed by relaxing any one of: `spot-not-allowed`" in md
    assert f"`region-pinned` ($194.22/month), `{quota}` ($293.87/month)" in md


def test_explain_reads_the_plan_only(plan_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --what-if / --constraints nothing is solved and no catalog is loaded."""
    import planner.catalog.load
    import planner.optimize.planning

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("explain re-solved or loaded a catalog")

    monkeypatch.setattr(planner.optimize.planning, "plan_workloads", boom)
    monkeypatch.setattr(planner.catalog.load, "load_catalog", boom)
    path = _plan("multi-team" if plans.source("multi-team").exists() else "quota-binds", plan_dir)
    _ok(path)
    _ok(path, "-f", "json")


def test_duplicates_are_explained_once(plan_dir: Path) -> None:
    e = explain(plans.planned("quota-binds"), ["pretrain-a", "pretrain-a"])
    assert [w.workload for w in e.workloads] == ["pretrain-a"]


def test_describe_constraints() -> None:
    def b(cid: str, kind: str, used: str, limit: str, unit: str) -> Binding:
        from decimal import Decimal

        return Binding(id=cid, kind=kind, used=Decimal(used), limit=Decimal(limit),  # type: ignore[arg-type]
                       unit=unit, workloads=("w",))

    assert describe(b("quota:aws/us-east-1/P/spot", "quota", "96.0", "96.0", "vCPUs")) == \
        "quota P in aws/us-east-1 (spot, 96 of 96 vCPUs used)"
    assert describe(b("quota:aws/us-east-1/P/spot", "quota", "96", "96", "vCPUs"),
                    "aws/us-east-1") == "quota P (spot, 96 of 96 vCPUs used)"
    assert describe(b("budget:ml", "budget", "1200.5", "1500", "USD/month")) == \
        "the budget of team ml ($1,200.50 of $1,500.00 per month used)"
    assert describe(b("capacity:onprem", "capacity", "4.0", "4.0", "nodes")) == \
        "the capacity of cluster onprem (4 of 4 nodes used)"
    assert describe(b("deadline:w", "deadline", "40.5", "48", "hours")) == \
        "the deadline of w (runs 40.5 h of 48 h allowed)"


# -- bad arguments: exit 2, one line, nothing on stdout ---------------------------------
def _fails(*args: str) -> str:
    r = run_cli("explain", *args)
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.out == ""
    assert r.err.startswith("error: ") and r.err.count("\n") == 1, r.err
    return r.err


def test_unknown_workload_exits_2(plan_dir: Path) -> None:
    err = _fails(_plan("quota-binds", plan_dir), "pretrain-aa")
    assert "unknown workload 'pretrain-aa' (did you mean 'pretrain-a'?)" in err


def test_plan_from_a_newer_version_exits_2(plan_dir: Path, tmp_path: Path) -> None:
    data = json.loads(Path(_plan("quota-binds", plan_dir)).read_text())
    data["version"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    assert "newer than this planner understands" in _fails(str(path))
    assert "newer than this planner understands" in _fails(
        str(path), "--what-if", "discount:gcp=0.9")


def test_not_a_plan_exits_2(tmp_path: Path) -> None:
    assert "explain reads a plan, not a workloads file" in _fails(
        str(plans.source("quota-binds")))
    other = tmp_path / "other.json"
    other.write_text('{"kind": "gpuplan/plan-diff", "version": 1}')
    assert "not a gpuplan plan" in _fails(str(other))
    assert "file not found" in _fails(str(tmp_path / "missing.json"))


@pytest.mark.parametrize("change,message", [
    ("quota", "missing ':' target or '=' value"),
    ("quota:gcp/us-central1=+8", "a quota is CLOUD/REGION/FAMILY"),
    ("quota:gcp/us-central1/NVIDIA_A100_GPUS=lots", "'lots' is not a number"),
    ("quota:gcp/us-central1/NVIDIA_A100_GPUS=+1.5", "'+1.5' is not a whole number"),
    ("quota:oci/us-ashburn-1/GPU=8", "unknown cloud 'oci'"),
    ("budget:research=10%", "a percentage needs a sign"),
    ("spot:pretrain-a=sometimes", "spot is allow, forbid or only"),
    ("discount:gcp=1.5", "a discount is a price multiplier in (0, 1]"),
    ("region:a:b:deny=us-east1", "a region change is region[:WORKLOAD]"),
    ("teleport:x=1", "unknown change 'teleport'"),
    ("budget:nobody=+5", "unknown team 'nobody'"),
    ("spot:pretrain-aa=allow", "unknown workload 'pretrain-aa' (did you mean 'pretrain-a'?)"),
    ("region:deny=us-centrl1", "unknown region 'us-centrl1' (did you mean 'us-central1'?)"),
    ("quota:gcp/us-east1/NVIDIA_A100_GPUS=+8", "give an absolute limit (=N)"),
    ("quota:gcp/us-central1/NVIDIA_A100_GPUS=-100", "below 0"),
    ("quota:gcp/mars-north1/NVIDIA_A100_GPUS=8", "unknown gcp region 'mars-north1'"),
    ("capacity:onprem=+8", "unknown cluster 'onprem'"),
    ("quota:gcp/us-east1/NVIDIA_A1OO_GPUS=8",
     "no offer in gcp/us-east1 draws on quota family 'NVIDIA_A1OO_GPUS' "
     "(did you mean 'NVIDIA_A100_GPUS'?)"),
    ("region:pretrain-a:deny=us-central1,us-east1,us-west1", "no allowed region left"),
])
def test_malformed_what_if_exits_2(change: str, message: str, plan_dir: Path) -> None:
    err = _fails(_plan("quota-binds", plan_dir), "--what-if", change)
    assert message in err, err
    assert change in err


def test_bad_format_exits_2(plan_dir: Path) -> None:
    _fails(_plan("quota-binds", plan_dir), "--format", "html")


def test_other_catalog_warns_and_re_solves_the_base(plan_dir: Path, tmp_path: Path) -> None:
    data = json.loads(Path(_plan("quota-binds", plan_dir)).read_text())
    data["catalog"]["source"] = "some other catalog"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(data))
    r = run_cli("explain", str(path), "--what-if", "quota:gcp/us-central1/NVIDIA_A100_GPUS=+8",
                "-f", "json")
    assert r.code == 0, r.err
    assert r.err.startswith("warning: the plan was made with catalog 'some other catalog'")
    doc = json.loads(r.out)
    assert doc["what_if"]["base_source"] == "re-solved"
    assert doc["what_if"]["base_monthly"] == str(plans.planned("quota-binds").totals.monthly)


def test_full_list_of_cheaper_alternatives_is_a_lower_bound() -> None:
    """The plan keeps MAX_ALTERNATIVES; if all are cheaper, the count says "5+"."""
    from planner.explain.reading import cheaper_groups
    from planner.optimize.planning import MAX_ALTERNATIVES

    plan = plans.planned("quota-binds")
    (alt,) = [a for p in plan.placements for a in p.alternatives if a.blocked_by]
    many = tuple(alt.model_copy(update={"offer": f"{alt.offer}-{i}"})
                 for i in range(MAX_ALTERNATIVES))
    (group,) = cheaper_groups(plan, many, ())
    assert group.at_least and group.count == MAX_ALTERNATIVES
    assert group.text.startswith(f"{MAX_ALTERNATIVES}+ cheaper offers in gcp/us-central1 blocked by")
    (group,) = cheaper_groups(plan, many[:2], ())
    assert not group.at_least and group.text.startswith("2 cheaper offers in gcp/us-central1")
