"""SkyPilot resource syntax: accelerators, cpus, memory, use_spot, names vs the catalog."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.spec.load import parse_workloads
from planner.spec.model import Resources
from planner.spec.resources import AcceleratorChoice, AmountRequest, parse_accelerators, parse_amount


def test_name_and_count() -> None:
    assert parse_accelerators("A100:8") == (AcceleratorChoice(0, "A100", 8.0),)


def test_name_alone_means_one() -> None:
    assert parse_accelerators("L4") == (AcceleratorChoice(0, "L4", 1.0),)


def test_mapping_is_any_of_with_equal_rank() -> None:
    choices = parse_accelerators({"A100": 8, "H100": 8})
    assert choices == (AcceleratorChoice(0, "A100", 8.0), AcceleratorChoice(0, "H100", 8.0))


def test_ordered_list_ranks_by_position() -> None:
    choices = parse_accelerators(["H100:8", {"A100-80GB": 8}, "A100:8"])
    assert [(c.rank, c.name, c.count) for c in choices] == [
        (0, "H100", 8.0), (1, "A100-80GB", 8.0), (2, "A100", 8.0)]


def test_fraction_below_one_is_a_shared_gpu() -> None:
    assert parse_accelerators("T4:0.5") == (AcceleratorChoice(0, "T4", 0.5),)


def test_no_accelerators_is_a_cpu_job() -> None:
    assert parse_accelerators(None) == ()


@pytest.mark.parametrize(("value", "message"), [
    ("A100:0", "must be positive"),
    ("A100:-1", "must be positive"),
    ("A100:1.5", "must be a whole number above 1"),
    ("A100:17", "no node has more than 16"),
    ("A100:many", "must be a number"),
    ({"A100": True}, "must be a number"),
    ({}, "an empty mapping"),
    ([], "an empty list"),
    ([["A100", 8]], "is not 'NAME:COUNT'"),
    (":8", "accelerator name must be a non-empty string"),
    (8, "expected 'NAME:COUNT', a mapping or a list"),
])
def test_bad_accelerators(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_accelerators(value)


@given(st.sampled_from(["A100", "H100", "L4", "T4", "A100-80GB"]), st.integers(1, 16))
def test_name_count_round_trip(name: str, count: int) -> None:
    [choice] = parse_accelerators(f"{name}:{count}")
    assert (choice.name, choice.count) == (name, float(count))


def test_cpus_exact_and_at_least() -> None:
    exact, at_least = parse_amount(8, "cpus"), parse_amount("8+", "cpus")
    assert exact == AmountRequest(8.0, at_least=False)
    assert at_least == AmountRequest(8.0, at_least=True)
    assert exact.admits(8) and not exact.admits(16)
    assert at_least.admits(16) and not at_least.admits(4)


def test_memory_at_least_and_per_cpu() -> None:
    total = parse_amount("64+", "memory", allow_per_cpu=True)
    per_cpu = parse_amount("4x", "memory", allow_per_cpu=True)
    assert total == AmountRequest(64.0, at_least=True)
    assert per_cpu == AmountRequest(4.0, at_least=False, per_cpu=True)
    assert per_cpu.admits(offered=32, vcpus=8) and not per_cpu.admits(offered=31, vcpus=8)
    assert total.admits(64) and not total.admits(63.5)


@pytest.mark.parametrize(("value", "what", "message"), [
    ("4x", "cpus", "must look like 8 or 8[+]"),
    ("0", "cpus", "must be positive"),
    (True, "cpus", "must be a number"),
    ("1e9", "memory", "larger than any machine"),
    ("lots", "memory", "must look like 8, 8[+] or 4x"),
])
def test_bad_amounts(value: object, what: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(value, what, allow_per_cpu=what == "memory")


@pytest.mark.parametrize(("use_spot", "policy"), [(False, "never"), (True, "only"), ("auto", "auto")])
def test_use_spot_policy(use_spot: object, policy: str) -> None:
    assert Resources.model_validate({"use_spot": use_spot}).spot_policy == policy


def test_resources_model_parses_everything() -> None:
    res = Resources.model_validate(
        {"accelerators": "a100:8", "cpus": "32+", "memory": "4x", "cloud": "GCP"})
    assert res.choices == (AcceleratorChoice(0, "a100", 8.0),)
    assert res.cpu_request == AmountRequest(32.0, at_least=True)
    assert res.memory_request == AmountRequest(4.0, at_least=False, per_cpu=True)
    assert res.cloud == "gcp"


SET = """\
teams: {{ml: {{}}}}
workloads:
  - name: job
    team: ml
    resources: {{accelerators: {acc}}}
    work: {{duration_hours: 1}}
"""


@pytest.mark.parametrize("spelling", ["A100:8", "a100:8", "h100-mega:8", "l4:1", "A100-80gb:4"])
def test_accelerator_names_match_the_catalog_case_insensitively(
        spelling: str, embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    ws = parse_workloads(SET.format(acc=spelling), "w.yaml", embedded_catalog)
    [choice] = ws.workloads[0].resources.choices
    canonical = embedded_catalog.canonical_accelerator(choice.name)
    assert canonical is not None and canonical.lower() == spelling.split(":")[0].lower()
    assert embedded_catalog.offers_for(canonical)


def test_unknown_accelerator_suggests_the_nearest_catalog_name(
        embedded_catalog) -> None:  # type: ignore[no-untyped-def]
    from planner.errors import SpecError

    with pytest.raises(SpecError) as info:
        parse_workloads(SET.format(acc="H1OO:8"), "w.yaml", embedded_catalog)
    assert str(info.value) == ("w.yaml:5: workloads[0].resources.accelerators: "
                               "unknown accelerator 'H1OO' (did you mean 'H100'?)")
