"""Validating many workloads at once: equal parts are validated once.

A large declaration repeats a few shapes: 50,000 workloads may name a few dozen
distinct ``resources``, ``topology``, ``work`` and ``regions`` mappings. Those
parts are models of their own that depend on nothing outside themselves, and
pydantic accepts an already validated model where one is expected (it does not
validate it again). :func:`with_shared_parts` validates each distinct part once
(its checks, e.g. parsing ``accelerators: A100:8``, run once per shape) and
hands the same frozen instance to every workload that wrote it.

Two parts are "equal" when their keys, values and value types are: ``1``,
``1.0`` and ``true`` are different parts, and so are ``0.0`` and ``-0.0``. A part
that fails stays as written, so the full validation reports the error exactly
as it would without sharing.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.spec.model import RegionPolicy, Resources, Topology, Work

SHARED_PARTS: dict[str, type[BaseModel]] = {
    "resources": Resources, "topology": Topology, "work": Work, "regions": RegionPolicy}


def with_shared_parts(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each workload's parts replaced by validated models, one per distinct part."""
    workloads = data.get("workloads")
    if not isinstance(workloads, list):
        return data
    validated: dict[Hashable, BaseModel | None] = {}
    out: list[Any] = []
    for workload in workloads:
        if isinstance(workload, dict):
            workload = dict(workload)
            for key, model in SHARED_PARTS.items():
                part = _validated(model, key, workload.get(key), validated)
                if part is not None:
                    workload[key] = part
        out.append(workload)
    return {**data, "workloads": out}


def _validated(model: type[BaseModel], key: str, raw: Any,
               validated: dict[Hashable, BaseModel | None]) -> BaseModel | None:
    """The model of ``raw`` (validated once per distinct value), or None to leave it as is."""
    if not isinstance(raw, dict):
        return None
    try:
        identity = (key, part_key(raw))
        if identity in validated:
            return validated[identity]
    except TypeError:  # an unhashable value (a YAML set): validated with its workload
        return None
    try:
        found: BaseModel | None = model.model_validate(raw)
    except ValidationError:
        found = None
    validated[identity] = found
    return found


def part_key(value: dict[Any, Any]) -> Hashable:
    """A key equal for two mappings exactly when they validate alike (see the module doc)."""
    values = tuple(value.values())
    types = tuple(map(type, values))
    if float in types or dict in types or list in types:
        return _deep_key(value)
    return (tuple(value), tuple(map(type, value)), values, types)


def _deep_key(value: Any) -> Hashable:
    if isinstance(value, dict):
        return (dict, tuple((_deep_key(k), _deep_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(_deep_key(v) for v in value))
    if isinstance(value, float):
        return (float, repr(value))
    return (type(value), value)
