"""A realistic hand-built ``Plan`` for tests of everything downstream of the planner.

``make_plan()`` covers what components and renderers must handle: three clouds
plus an on-prem cluster, on-demand and spot pools, new clusters (AWS, Azure)
and existing ones (a GKE cluster that gets new node pools, an on-prem DGX
cluster whose capacity is sunk cost), two teams sharing one pool, and every
topology: single-node jobs, DDP, parameter-server, Ray, and a service.

``make_plan(reverse=True)`` returns the same plan with every list reversed, to
check that names and outputs depend on ids, never on positions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from planner.plan import (
    CatalogInfo,
    ClusterRef,
    Cost,
    Placement,
    Plan,
    Pool,
    SolverInfo,
    money,
)
from tests.priced import UNPRICED_JOB, UNPRICED_POOL, priced
from tests.priced import teams as team_summaries

HOURS = 730.0

# id, cluster, cloud, region, zone, instance, accel, count, vcpus, mem, capacity, node $/h,
# nodes, min, max, quota family, placement group, existing-cluster capacity
_POOLS: list[tuple[Any, ...]] = [
    ("aws-us-east-1-p4d-24xlarge-od", "aws-us-east-1", "aws", "us-east-1", "us-east-1a",
     "p4d.24xlarge", "A100", 8, 96, 1152, "on-demand", "32.7726", 2, 0, 2, "P", True, False),
    ("aws-us-east-1-g4dn-xlarge-spot", "aws-us-east-1", "aws", "us-east-1", "us-east-1b",
     "g4dn.xlarge", "T4", 1, 4, 16, "spot", "0.2104", 1, 0, 1, "G", False, False),
    ("gcp-us-central1-a2-highgpu-1g-od", "gke-prod", "gcp", "us-central1", "us-central1-a",
     "a2-highgpu-1g", "A100", 1, 12, 85, "on-demand", "3.6730", 2, 0, 2, "NVIDIA_A100_GPUS",
     False, False),
    ("gcp-us-central1-g2-standard-8-od", "gke-prod", "gcp", "us-central1", "us-central1-a",
     "g2-standard-8", "L4", 1, 8, 32, "on-demand", "0.8536", 1, 1, 2, "NVIDIA_L4_GPUS",
     False, False),
    ("gcp-us-central1-g2-standard-8-spot", "gke-prod", "gcp", "us-central1", "us-central1-b",
     "g2-standard-8", "L4", 1, 8, 32, "spot", "0.3411", 2, 0, 4, "PREEMPTIBLE_NVIDIA_L4_GPUS",
     False, False),
    ("azure-eastus-nc24ads-a100-v4-spot", "aks-eastus", "azure", "eastus", "1",
     "Standard_NC24ads_A100_v4", "A100-80GB", 1, 24, 220, "spot", "1.4696", 3, 0, 3,
     "lowPriorityCores", True, False),
    ("dgx-onprem-a100", "dgx-onprem", "onprem", "onprem", None,
     "dgx-a100", "A100", 8, 96, 768, "on-demand", "0.0000", 1, 1, 1, "onprem", False, True),
]

# workload, team, kind, priority, pool, gpus/node, cpus/node, mem/node, nodes, topology,
# servers, min/max workers, runtime h, runs/month, image, command, env
_PLACEMENTS: list[tuple[Any, ...]] = [
    ("llama-8b-lora", "research", "training", 100, "gcp-us-central1-a2-highgpu-1g-od",
     1, 8, 32, 1, "single", 0, None, None, 6.0, 4.0, "nvcr.io/nvidia/pytorch:24.10-py3",
     ("torchrun", "--nproc_per_node=1", "finetune.py", "--lora"), {"HF_HOME": "/cache"}),
    ("eval-suite", "product", "batch", 80, "gcp-us-central1-a2-highgpu-1g-od",
     1, 8, 40, 1, "single", 0, None, None, 2.0, 30.0, "ghcr.io/example/eval:0.9",
     ("python", "-m", "evals.run"), {}),
    ("vit-pretrain", "research", "training", 200, "dgx-onprem-a100",
     8, 64, 512, 1, "single", 0, None, None, 24.0, 1.0, "nvcr.io/nvidia/pytorch:24.10-py3",
     ("torchrun", "--nproc_per_node=8", "pretrain.py"), {}),
    ("gpt-2node-ddp", "research", "training", 150, "aws-us-east-1-p4d-24xlarge-od",
     8, 90, 1000, 2, "ddp", 0, None, None, 12.0, 1.0, "nvcr.io/nvidia/pytorch:24.10-py3",
     ("python", "train.py", "--config", "gpt-1.3b.yaml"), {"NCCL_DEBUG": "WARN"}),
    ("embed-backfill", "product", "batch", 50, "aws-us-east-1-g4dn-xlarge-spot",
     1, 3, 12, 1, "single", 0, None, None, 20.0, 1.0, "nvcr.io/nvidia/pytorch:24.10-py3",
     ("python", "embed.py", "--shard", "all"), {}),
    ("recsys-ps", "product", "training", 120, "azure-eastus-nc24ads-a100-v4-spot",
     1, 20, 200, 3, "parameter-server", 1, None, None, 10.0, 2.0, "ghcr.io/example/recsys:2.1",
     ("python", "-m", "recsys.train"), {}),
    ("ray-tune-sweep", "research", "training", 90, "gcp-us-central1-g2-standard-8-spot",
     1, 6, 24, 2, "ray", 0, 1, 4, 8.0, 2.0, "rayproject/ray-ml:2.9.0-gpu",
     ("python", "tune_sweep.py", "--trials", "64"), {}),
    ("search-ranker", "product", "service", 300, "gcp-us-central1-g2-standard-8-od",
     1, 4, 16, 1, "single", 0, None, None, HOURS, 1.0, "ghcr.io/example/ranker:1.4.2",
     ("python", "-m", "ranker.serve", "--port", "8080"), {}),
]

_CLUSTERS = [
    ClusterRef(name="aks-eastus", cloud="azure", region="eastus", existing=False),
    ClusterRef(name="aws-us-east-1", cloud="aws", region="us-east-1", existing=False),
    ClusterRef(name="dgx-onprem", cloud="onprem", region="onprem", existing=True,
               kubeconfig="~/.kube/dgx-onprem.yaml"),
    ClusterRef(name="gke-prod", cloud="gcp", region="us-central1", existing=True),
]

_BUDGETS = {"research": Decimal("60000"), "product": Decimal("25000")}


def _pool(row: tuple[Any, ...], workloads: list[tuple[Any, ...]]) -> Pool:
    (pid, cluster, cloud, region, zone, itype, accel, count, vcpus, mem, capacity, node_hourly,
     nodes, lo, hi, family, group, existing) = row
    mine = [w for w in workloads if w[4] == pid]
    return Pool(
        id=pid, cluster=cluster, cloud=cloud, region=region, zone=zone, instance_type=itype,
        accelerator=accel, accelerator_count=count, vcpus=vcpus, memory_gib=mem,
        capacity=capacity, nodes=nodes, min_nodes=lo, max_nodes=hi,
        node_hourly=money(node_hourly), **UNPRICED_POOL,
        quota_family=family, workloads=tuple(sorted(w[0] for w in mine)),
        teams=tuple(sorted({w[1] for w in mine})), placement_group=group,
        existing_cluster=existing,
    )


def _placement(row: tuple[Any, ...], pools: dict[str, Pool]) -> Placement:
    (name, team, kind, prio, pid, gpus, cpus, mem, nodes, topo, servers, lo, hi, runtime, runs,
     image, command, env) = row
    pool = pools[pid]
    share = gpus / pool.accelerator_count if pool.accelerator_count else 1.0
    hourly = money(pool.node_hourly * nodes * Decimal(str(share)))
    compute = money(hourly * Decimal(str(runtime)))
    cost = Cost(compute=compute, spot_risk=money(0), egress=money(0), discount=money(0),
                total=compute)
    return Placement(
        workload=name, team=team, namespace=team, kind=kind, priority=prio, pool=pid,
        cluster=pool.cluster, cloud=pool.cloud, region=pool.region, zone=pool.zone,
        instance_type=pool.instance_type, capacity=pool.capacity, accelerator=pool.accelerator,
        gpus_per_node=gpus, cpus_per_node=cpus, memory_gib_per_node=mem, nodes=nodes,
        node_share=share, pool_share=nodes * share, monthly_hours=runtime * runs,
        topology=topo, servers=servers, min_workers=lo, max_workers=hi,
        runtime_hours=runtime, runs_per_month=runs, cost=cost, **UNPRICED_JOB,
        image=image, command=command, env=env,
    )


def make_plan(reverse: bool = False) -> Plan:
    """The test plan; ``reverse=True`` reverses every list (same content, other order)."""
    pools = {row[0]: _pool(row, _PLACEMENTS) for row in _POOLS}
    unpriced = sorted((_placement(r, pools) for r in _PLACEMENTS), key=lambda p: p.workload)
    priced_pools, priced_placements, totals = priced(list(pools.values()), unpriced, HOURS)
    pools = {p.id: p for p in priced_pools}
    placements = list(priced_placements)
    teams = list(team_summaries(totals, _BUDGETS, placements))
    total_m = totals.monthly
    pool_list = sorted(pools.values(), key=lambda p: p.id)
    clusters = list(_CLUSTERS)
    if reverse:
        pool_list.reverse()
        placements.reverse()
        clusters.reverse()
        teams.reverse()
    return Plan(
        catalog=CatalogInfo(source="test-factory", date="2026-11-01"),
        hours_per_month=HOURS, clusters=tuple(clusters), pools=tuple(pool_list),
        placements=tuple(placements), unplaced=(), binding=(), teams=tuple(teams),
        totals=totals,
        solver=SolverInfo(method="milp", status="optimal", objective=total_m,
                          lower_bound=total_m, gap=Decimal(0), time_limit_s=30.0,
                          variables=0, constraints=0, candidates=0),
        spec={},
    )
