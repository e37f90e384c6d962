"""Terraform version constraints (``~> 6.0, >= 6.1``), as ``required_providers`` uses them."""

from __future__ import annotations

import re


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def version_allows(constraint: str, version: str) -> bool:
    """Terraform version constraint (``~> 6.0, >= 6.1``) admits ``version``."""
    have = _version(version)
    for part in constraint.split(","):
        match = re.fullmatch(r"\s*(~>|>=|<=|!=|>|<|=)?\s*v?([\d.]+)\s*", part)
        if match is None:
            return False
        op, want_text = match.group(1) or "=", match.group(2)
        want = _version(want_text)
        if not _compare(op, have, want):
            return False
    return True


def _compare(op: str, have: tuple[int, ...], want: tuple[int, ...]) -> bool:
    padded = have + (0,) * (len(want) - len(have))
    if op == "~>":
        prefix = want[:-1] if len(want) > 1 else want
        return padded >= want and padded[: len(prefix)] == prefix
    return {
        "=": padded[: len(want)] == want,
        "!=": padded[: len(want)] != want,
        ">": padded > want,
        ">=": padded >= want,
        "<": padded < want,
        "<=": padded <= want,
    }[op]


