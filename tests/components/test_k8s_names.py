"""Property: any valid workload and team names and any pool ids give valid, stable objects."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.builders.k8s_objects import plan_objects
from components.builders.specs import job_name, plan_specs
from planner.plan import Plan
from tests.k8s_validator import validate_objects
from tests.plan_factory import make_plan

NAME = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
POOL_ID = st.text(st.sampled_from("abcXYZ019-_./ "), min_size=1, max_size=90).filter(
    lambda s: any(c.isalnum() for c in s))


def renamed(plan: Plan, workloads: list[str], team: str, pool_ids: list[str]) -> Plan:
    """``plan`` with new workload names, one team renamed, and new pool ids."""
    old_pools = sorted(p.id for p in plan.pools)
    pools = dict(zip(old_pools, pool_ids, strict=True))
    names = dict(zip(sorted(p.workload for p in plan.placements), workloads, strict=False))
    teams = {"product": team}
    return plan.model_copy(update={
        "pools": tuple(p.model_copy(update={
            "id": pools[p.id], "workloads": tuple(names.get(w, w) for w in p.workloads),
            "teams": tuple(teams.get(t, t) for t in p.teams)}) for p in plan.pools),
        "placements": tuple(p.model_copy(update={
            "workload": names.get(p.workload, p.workload), "pool": pools[p.pool],
            "team": teams.get(p.team, p.team), "namespace": teams.get(p.team, p.team)})
            for p in plan.placements),
        "teams": tuple(t.model_copy(update={"name": teams.get(t.name, t.name),
                                            "namespace": teams.get(t.name, t.name)})
                       for t in plan.teams),
    })


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads=st.lists(NAME, min_size=8, max_size=8, unique=True),
       team=NAME.filter(lambda t: t != "research"),
       pool_ids=st.lists(POOL_ID, min_size=7, max_size=7, unique=True))
def test_any_names_give_valid_objects(shared: Path, workloads: list[str], team: str,
                                      pool_ids: list[str]) -> None:
    plan = renamed(make_plan(), workloads, team, pool_ids)
    specs = plan_specs(plan)
    if len({p.name for p in specs.pools}) < len(specs.pools):
        return  # two ids that differ only in case or punctuation: one pool name
    objects = plan_objects(specs)
    for cluster, objs in objects.items():
        assert validate_objects(objs) == [], cluster


def test_job_names_fit_their_kinds() -> None:
    long = "9" + "x" * 62
    assert len(job_name(long, "ray")) <= 47 and job_name(long, "ray")[0].isalpha()
    assert len(job_name(long, "ddp")) <= 40 and job_name(long, "ddp")[0].isalpha()
    assert job_name(long, "single") == long
    assert job_name("train", "ddp") == "train"
