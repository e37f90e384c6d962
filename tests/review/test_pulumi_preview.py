"""``planner cost pulumi-preview``: parse real Pulumi previews, price node pools by hand-checked rules."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from planner.catalog.load import load_catalog
from planner.errors import PlanFileError
from planner.review.pulumipreview import PoolCost, PreviewCost, price_preview
from planner.review.pulumisteps import parse_preview
from tests.cli import run_cli
from tests.golden import check_golden

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "preview"
CATALOG = HERE / "catalog"
H = Decimal(730)


def _price(name: str) -> PreviewCost:
    path = HERE / name
    return price_preview(parse_preview(path.read_text(), name), load_catalog(CATALOG), name)


def _pool(cost: PreviewCost, name: str) -> PoolCost:
    [pool] = [p for p in cost.pools if p.name == name]
    return pool


def test_one_pool_per_cloud_priced_by_hand() -> None:
    cost = _price("three-clouds.digest.json")
    # EKS: provider region us-east-1 (not the us-west-2 config), 2 x g5.12xlarge at $5.672/h.
    eks = _pool(cost, "gpu-a10g")
    assert eks.after is not None and eks.before is None
    assert eks.after.region == "us-east-1" and eks.after.capacity == "on-demand"
    assert eks.after.hourly == 2 * Decimal("5.672")
    assert eks.after.monthly == 2 * Decimal("5.672") * H == Decimal("8281.12")
    assert eks.after.monthly_at_max == 4 * Decimal("5.672") * H
    # GKE, spot: n1-standard-8 VM $0.13954 + 2 x T4 $0.14 each, billed as separate lines;
    # nodeCount is per zone and the pool spans 2 zones: 1 -> 2 per zone = 2 -> 4 nodes.
    gke = _pool(cost, "t4-spot")
    assert gke.before is not None and gke.after is not None
    assert [(ln.item, ln.unit_hourly, ln.quantity) for ln in gke.after.lines] == [
        ("n1-standard-8 (VM)", Decimal("0.13954"), 1), ("T4 GPU", Decimal("0.14"), 2)]
    node = Decimal("0.13954") + 2 * Decimal("0.14")
    assert (gke.before.nodes, gke.after.nodes) == (2, 4)
    assert gke.before.monthly == 2 * node * H == Decimal("612.5284")
    assert gke.after.monthly == 4 * node * H
    assert gke.delta_monthly == 2 * node * H
    # AKS: location from the ManagedCluster named by resourceName; 1 node of $3.673/h, max 3.
    aks = _pool(cost, "a100")
    assert aks.after is not None and aks.after.region == "eastus"
    assert aks.after.monthly == Decimal("3.673") * H == Decimal("2681.29")
    assert aks.after.monthly_at_max == 3 * Decimal("3.673") * H
    total_after = 2 * Decimal("5.672") * H + 4 * node * H + Decimal("3.673") * H
    assert (cost.base_monthly, cost.new_monthly) == (2 * node * H, total_after)
    assert cost.delta_monthly == total_after - 2 * node * H == Decimal("11574.9384")
    assert (cost.priced, cost.unknown, cost.unpriced) == (3, 0, 0)
    assert [(t.type, t.count) for t in cost.not_priced] == [
        ("aws:eks/cluster:Cluster", 1), ("azure-native:containerservice:ManagedCluster", 1)]


def test_unknown_and_unpriced_pools_are_reported_not_counted() -> None:
    cost = _price("edge-cases.events.ndjson")
    pending, huge = _pool(cost, "pending"), _pool(cost, "huge")
    assert (pending.status, pending.reason) == ("unknown", "unknown until apply: scalingConfig.desiredSize")
    assert (huge.status, huge.reason) == ("unpriced", "no catalog price for x9-huge in us-central1-a")
    assert pending.delta_monthly is None and huge.delta_monthly is None
    # delete: 3 spot g4dn.xlarge at $0.18936/h leave
    old = _pool(cost, "old-t4")
    assert old.after is None and old.delta_monthly == -3 * Decimal("0.18936") * H
    # AKS spot pool of a versioned API type; region from the azure-native:location config
    t4 = _pool(cost, "t4")
    assert t4.after is not None and t4.after.capacity == "spot"
    assert t4.after.monthly == (2 * Decimal("0.204246") * H).quantize(Decimal("0.0001"))
    # replace: one step (the create-replacement / delete-replaced sub-steps are folded in)
    infer = _pool(cost, "infer")
    assert infer.op == "replace"
    assert infer.delta_monthly == (Decimal("5.672") - Decimal("0.526")) * H == Decimal("3756.58")
    assert (cost.priced, cost.unknown, cost.unpriced) == (3, 1, 1)
    assert cost.base_monthly == 3 * Decimal("0.18936") * H + Decimal("0.526") * H
    assert cost.new_monthly == Decimal("298.1992") + Decimal("5.672") * H


@pytest.mark.parametrize("name,changes", [
    ("webserver-userdata.events.ndjson", {"replace": 1, "same": 2}),
    ("up-3-eks.events.ndjson", {"create": 6}),
])
def test_shared_event_streams_parse_to_the_summary_counts(shared: Path, name: str,
                                                          changes: dict[str, int]) -> None:
    path = shared / "fixtures" / "pulumi-preview" / name
    preview = parse_preview(path.read_text(), name)
    assert preview.format == "events"
    ops: dict[str, int] = {}
    for s in preview.steps:
        if not s.type.startswith("pulumi:providers:"):
            ops[s.op] = ops.get(s.op, 0) + 1
    assert ops == changes
    summary = [json.loads(line)["summaryEvent"] for line in path.read_text().splitlines()
               if "summaryEvent" in line]
    assert summary[0]["resourceChanges"] == changes


def test_shared_digest_and_its_event_stream_agree(shared: Path) -> None:
    base = shared / "fixtures" / "pulumi-preview"
    digest = parse_preview((base / "webserver-userdata.digest.DERIVED.json").read_text(), "d")
    events = parse_preview((base / "webserver-userdata.events.ndjson").read_text(), "e")
    assert digest.config == events.config == {"aws:region": "us-west-2"}
    [d_inst] = [s for s in digest.steps if s.type == "aws:ec2/instance:Instance"]
    [e_inst] = [s for s in events.steps if s.type == "aws:ec2/instance:Instance"]
    assert d_inst.op == e_inst.op == "replace"
    assert d_inst.old is not None and e_inst.new is not None
    assert d_inst.old["instanceType"] == e_inst.new["instanceType"] == "t2.micro"


@pytest.mark.parametrize("name", ["webserver-userdata.digest.DERIVED.json",
                                  "webserver-userdata.events.ndjson", "up-3-eks.events.ndjson"])
def test_shared_previews_have_no_pools_and_list_what_is_not_priced(shared: Path, name: str) -> None:
    r = run_cli("cost", "pulumi-preview", str(shared / "fixtures" / "pulumi-preview" / name),
                "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["pools"] == [] and doc["delta_monthly"] == "0.0000"
    types = {t["type"] for t in doc["not_priced"]}
    assert ("aws:eks/cluster:Cluster" in types) == name.startswith("up-3")
    assert "pulumi:pulumi:Stack" not in types


@pytest.mark.parametrize("name", ["three-clouds.digest.json", "edge-cases.events.ndjson"])
@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_cli_golden(name: str, fmt: str, ext: str, update_golden: bool) -> None:
    r = run_cli("--catalog", str(CATALOG), "cost", "pulumi-preview", str(HERE / name), "-f", fmt)
    assert r.code == 0, r.err
    out = r.out.replace(str(HERE) + "/", "").replace(str(CATALOG), "CATALOG")
    check_golden(f"preview/{name.split('.')[0]}.{ext}", out, update_golden)


def test_fail_on_increase_guards_the_pool_cost() -> None:
    args = ("--catalog", str(CATALOG), "cost", "pulumi-preview",
            str(HERE / "three-clouds.digest.json"), "-f", "md")
    # base $612.53 -> $12,187.47: +$11,574.94 (+1889.7%)
    r = run_cli(*args, "--fail-on-increase", "10%")
    assert r.code == 3
    assert r.out.startswith("<!-- gpuplan-pulumi-cost -->\n")
    assert "❌ **fail** `fail-on-increase`: monthly increase $11,574.94 (+1889.7%) exceeds" in r.out
    assert r.err.count("\n") == 1 and r.err.startswith("error: guardrail failed: monthly increase")
    assert run_cli(*args, "--fail-on-increase", "$11574.94").code == 0
    assert run_cli(*args, "--fail-on-increase", "$11574.93").code == 3


@pytest.mark.parametrize("content,message", [
    ('{"kind": "gpuplan/plan"}', 'not a Pulumi preview: expected a digest with "steps"'),
    ("version: 1\n", "1: not a Pulumi preview: line is not JSON"),
    ('{"sequence": 1}\n[1]\n', "2: not a Pulumi engine event"),
    ("\n", "not a Pulumi preview: the file is empty"),
    ('{"steps": [{"op": "create"}]}', "steps[0]: step without a urn"),
])
def test_bad_previews_exit_2_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(PlanFileError):
        parse_preview(content, "bad.json")
    r = run_cli("cost", "pulumi-preview", str(bad))
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1
    assert message in r.err


def test_hours_flag_scales_monthly_and_is_checked() -> None:
    args = ("--catalog", str(CATALOG), "cost", "pulumi-preview", str(HERE / "three-clouds.digest.json"))
    doc = json.loads(run_cli(*args, "--hours", "100", "-f", "json").out)
    eks = next(p for p in doc["pools"] if p["name"] == "gpu-a10g")
    assert eks["after"]["monthly"] == "1134.4000"  # 2 x 5.672 x 100
    r = run_cli(*args, "--hours", "800")
    assert r.code == 2 and "--hours" in r.err


def _one(rtype: str, inputs: dict, config: dict | None = None, op: str = "create") -> PoolCost:  # type: ignore[type-arg]
    urn = f"urn:pulumi:dev::p::{rtype}::pool"
    doc = {"config": config or {}, "steps": [
        {"op": op, "urn": urn, "newState": {"urn": urn, "type": rtype, "inputs": inputs}}]}
    cost = price_preview(parse_preview(json.dumps(doc), "inline"), load_catalog(CATALOG), "inline")
    [pool] = cost.pools
    return pool


GKE_T = "gcp:container/nodePool:NodePool"
EKS_T = "aws:eks/nodeGroup:NodeGroup"
AKS_T = "azure-native:containerservice:AgentPool"


def test_gke_autoscaling_bounds_are_per_zone_unless_total() -> None:
    base = {"location": "us-central1", "nodeLocations": ["us-central1-a", "us-central1-b"],
            "nodeConfig": {"machineType": "n1-standard-8",
                           "guestAccelerators": [{"type": "nvidia-tesla-t4", "count": 1}]}}
    per_zone = _one(GKE_T, {**base, "autoscaling": {"minNodeCount": 1, "maxNodeCount": 5}})
    assert per_zone.after is not None
    assert (per_zone.after.nodes, per_zone.after.min_nodes, per_zone.after.max_nodes) == (2, 2, 10)
    # on-demand: VM $0.38 + one T4 $0.35
    assert per_zone.after.hourly == 2 * (Decimal("0.38") + Decimal("0.35"))
    total = _one(GKE_T, {**base, "initialNodeCount": 3,
                         "autoscaling": {"totalMinNodeCount": 1, "totalMaxNodeCount": 4}})
    assert total.after is not None
    assert (total.after.nodes, total.after.min_nodes, total.after.max_nodes) == (6, 1, 4)


def test_gke_fixed_gpu_host_needs_no_guest_accelerators() -> None:
    pool = _one(GKE_T, {"location": "us-central1-a", "nodeCount": 1,
                        "nodeConfig": {"machineType": "a2-highgpu-1g"}})
    assert pool.after is not None and pool.after.accelerators == "A100x1"
    assert pool.after.hourly == Decimal("0.73948") + Decimal("2.93391")


@pytest.mark.parametrize("rtype,inputs,config,status,reason", [
    (GKE_T, {"location": "us-central1-a", "nodeCount": 1,
             "nodeConfig": {"machineType": "n1-standard-8",
                            "guestAccelerators": [{"type": "nvidia-tesla-t4",
                                                   "count": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}]}},
     {}, "unknown", "unknown until apply: count"),
    (EKS_T, {"instanceTypes": ["04da6b54-80e4-46f7-96ec-b56ff0331ba9"],
             "scalingConfig": {"desiredSize": 1}}, {"aws:region": "us-east-1"},
     "unknown", "unknown until apply: instanceTypes"),
    (EKS_T, {"instanceTypes": ["g5.12xlarge"], "scalingConfig": {"desiredSize": 1}}, {},
     "unpriced", "region not in the preview (no provider region or aws:region config)"),
    (EKS_T, {"launchTemplate": {"id": "lt-1"}, "scalingConfig": {"desiredSize": 1}},
     {"aws:region": "us-east-1"}, "unpriced", "no instanceTypes (set in a launch template?)"),
    (AKS_T, {"vmSize": "Standard_NC4as_T4_v3", "count": 1}, {}, "unpriced",
     "region not in the preview (no ManagedCluster or azure-native:location)"),
    (GKE_T, {"location": "us-central1-a", "nodeCount": 1,
             "nodeConfig": {"machineType": "n1-standard-8", "spot": True,
                            "guestAccelerators": [{"type": "nvidia-tesla-a100", "count": 1}]}},
     {}, "unpriced", "no catalog price for n1-standard-8 + 1x A100 in us-central1-a"),
])
def test_pools_that_cannot_be_priced_say_why(rtype: str, inputs: dict, config: dict,  # type: ignore[type-arg]
                                            status: str, reason: str) -> None:
    pool = _one(rtype, inputs, config)
    assert (pool.status, pool.reason, pool.delta_monthly) == (status, reason, None)


def test_eks_with_several_instance_types_is_priced_as_the_first_and_says_so() -> None:
    pool = _one(EKS_T, {"instanceTypes": ["g4dn.xlarge", "g5.12xlarge"], "capacityType": "SPOT",
                        "scalingConfig": {"desiredSize": 2}}, {"aws:region": "us-east-1"})
    assert pool.after is not None and pool.after.hourly == 2 * Decimal("0.18936")
    assert pool.notes == ("priced as g4dn.xlarge, the first of 2 instance types",)
