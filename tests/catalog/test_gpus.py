"""MIG geometry: exact per-GPU fit, the brief's enumeration claims, and cases 2 and 3."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.catalog.gpus import (
    AKS_MIG_PROFILES,
    GKE_MIG_PROFILES,
    MIG_GEOMETRY,
    fits_gpu,
    fits_node,
    layout_counts,
    maximal_layouts,
    pack_node,
    valid_layouts,
)

A100 = MIG_GEOMETRY["A100"]
A100_NAMES = [p.name for p in A100.profiles]


def _sums_fit(combo: tuple[str, ...]) -> bool:
    profiles = [A100.profile(n) for n in combo]
    return (sum(p.compute for p in profiles if p) <= 7
            and sum(p.slices for p in profiles if p) <= 8)


def test_brief_enumeration_77_valid_28_maximal() -> None:
    """Briefs §3: 77 multisets fit one A100 40GB, 28 of them maximal."""
    assert len(valid_layouts(A100)) == 77
    assert len(maximal_layouts(A100)) == 28


def test_placement_search_equals_the_slice_sums_on_a100() -> None:
    """With the guide's placements, a multiset fits one GPU iff compute <= 7 and memory
    slices <= 8 (checked for every multiset up to 8 instances)."""
    for size in range(1, 9):
        for combo in itertools.combinations_with_replacement(A100_NAMES, size):
            assert fits_gpu(A100, combo) == _sums_fit(combo), combo


def test_placements_matter_where_slices_would_allow_it() -> None:
    """Eight 1g.5gb never fit (compute 8 > 7, and no 1g.5gb starts at slice 7); six 1g.5gb
    and a 1g.10gb do (the 1g.10gb at slices 6-7); nothing joins a 7g.40gb."""
    assert not fits_gpu(A100, ["1g.5gb"] * 8)
    assert fits_gpu(A100, ["1g.5gb"] * 6 + ["1g.10gb"])
    assert not fits_gpu(A100, ["7g.40gb", "1g.5gb"])


def test_case2_one_gpu_layouts() -> None:
    """EKS mixed, one GPU: {3g.20gb, 4g.20gb} fits; {3g.20gb x2, 1g.5gb} needs two GPUs
    (9 memory slices > 8 although compute 7 <= 7)."""
    assert fits_gpu(A100, ["3g.20gb", "4g.20gb"])
    second = ["3g.20gb", "3g.20gb", "1g.5gb"]
    assert not fits_gpu(A100, second)
    assert not fits_node(A100, 1, second)
    assert fits_node(A100, 2, second)


def test_case3_per_gpu_check_beats_the_aggregate() -> None:
    """2-GPU node: {4g.20gb x2, 2g.10gb x3} passes the summed check (compute 14 <= 14,
    slices 14 <= 16) yet fits no node; {4g x2, 3g, 1g.5gb x3} fits."""
    bad = ["4g.20gb"] * 2 + ["2g.10gb"] * 3
    assert sum(A100.profile(n).compute for n in bad) <= 14  # type: ignore[union-attr]
    assert sum(A100.profile(n).slices for n in bad) <= 16  # type: ignore[union-attr]
    assert not fits_node(A100, 2, bad)
    good = ["4g.20gb"] * 2 + ["3g.20gb"] + ["1g.5gb"] * 3
    assert fits_node(A100, 2, good)
    layout = pack_node(A100, 2, good)
    assert layout is not None and layout_counts(layout) == {"1g.5gb": 3, "3g.20gb": 1,
                                                            "4g.20gb": 2}
    assert all(fits_gpu(A100, gpu) for gpu in layout)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(A100_NAMES), max_size=10), st.integers(1, 3))
def test_a_first_fit_layout_is_a_fit(names: list[str], gpus: int) -> None:
    """Whenever first fit finds a layout, every GPU of it fits and it holds exactly the
    instances; and a fit found by first fit is one the exact search finds too."""
    layout = pack_node(A100, gpus, names)
    if layout is not None:
        assert all(fits_gpu(A100, gpu) for gpu in layout)
        assert sorted(n for gpu in layout for n in gpu) == sorted(names)
        assert fits_node(A100, gpus, names)


def test_counts_per_gpu_match_the_tables() -> None:
    """A homogeneous layout of ``per_gpu`` instances fits, one more does not."""
    for name, geometry in MIG_GEOMETRY.items():
        for p in geometry.profiles:
            assert fits_gpu(geometry, [p.name] * p.per_gpu), (name, p.name)
            assert not fits_gpu(geometry, [p.name] * (p.per_gpu + 1)), (name, p.name)


def test_cloud_profile_lists_are_profiles_of_their_gpu() -> None:
    for table in (GKE_MIG_PROFILES, {k: tuple(v) for k, v in AKS_MIG_PROFILES.items()}):
        for gpu, names in table.items():
            assert all(MIG_GEOMETRY[gpu].profile(n) for n in names), gpu
    assert "4g.20gb" not in GKE_MIG_PROFILES["A100"]  # GKE's device plugin refuses it
