"""``planner.jsontext`` writes exactly ``json.dumps(value, indent=2, sort_keys=True)``.

plan.json's bytes are the product (committed, reviewed, hashed), so the fast encoder is
checked against the standard library on drawn JSON data, on columns built to take each
of its paths (objects with the same keys, arrays of scalars, mixed kinds, repeated and
signed-zero floats), and on a real plan.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import jsontext
from planner.plan import dumps_plan, loads_plan

REPO = Path(__file__).resolve().parent.parent


def canonical(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.sampled_from([0.0, -0.0, 1e-05, 1e16, 1.5e300, 5e-324, float("inf")])
           | st.text() | st.sampled_from(["é", "\x00", "\x1f", "\u2028", "\ud83d", "😀", '"\\/']))
json_data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=40)
# siblings with the same keys: the column-by-column path, nested
rows = st.lists(st.fixed_dictionaries(
    {"name": st.text(max_size=4), "cost": scalars, "tags": st.lists(scalars, max_size=3),
     "inner": st.lists(st.fixed_dictionaries({"x": scalars, "y": json_data}), max_size=3)}),
    max_size=6)


@settings(max_examples=400)
@given(json_data)
def test_any_json_data_gives_json_dumps_text(value: Any) -> None:
    assert jsontext.dumps(value) == canonical(value)


@settings(max_examples=300)
@given(st.lists(rows, max_size=4))
def test_objects_with_the_same_keys_give_json_dumps_text(value: Any) -> None:
    assert jsontext.dumps(value) == canonical(value)


@pytest.mark.parametrize("value", [
    {}, [], [[]], [{}], {"a": {}, "b": [], "c": [[], {}], "d": [{}, {}]},
    [[1, 2], [], [3]], [[], [], []], [{"a": []}, {"a": [1]}, {"a": []}],
    [1.0, -0.0, 0.0, 1.0, -0.0], [1e-05, 1e16, 1e22, -1e-7, 0.1 + 0.2],
    [float("nan"), float("inf"), float("-inf"), 1.0],
    [2 ** 64, -(2 ** 70), 0, True, False, None, 1, 1.0],
    ["é", "naïve", "\x00\x01\x1f\x7f", "\n\t\r", '"quoted" \\ /', "日本", "😀", "\ud800"],
    {"é": 1, "\x00": 2, "": 3, "a b": 4}, {"b": 1, "a": 2, "B": 3},
    [{"a": 1, "b": "x"}, {"b": "y", "a": 2}, {"a": 3, "c": None}],
    [{"k": [{"z": 1}, {"z": 2}]}, {"k": []}, {"k": [{"z": [1, [2, [3]]]}]}],
    [[{"a": 1}], [{"a": "1"}, {"a": None}], [[1], "x", {"y": 2}]],
    ("tuple", ("nested", 1), []), [(1, 2), [3, 4], ()],
    {"1": "string key"}, [{1: "int key"}, {2: "int key"}], {3: "int key", 1.5: "float key"},
    [OrderedDict(b=1, a=2), {"c": OrderedDict()}], [IntEnum("Size", "S M")(1), 2, 3.0],
    "just a string", 12, -0.0, None,
])
def test_tricky_values_give_json_dumps_text(value: Any) -> None:
    assert jsontext.dumps(value) == canonical(value)
    assert jsontext.dumps(value, end="\n") == canonical(value) + "\n"


@pytest.mark.parametrize("value", [Decimal("1.5"), [1, {"a": Decimal(1)}], {"s": {1, 2}}])
def test_what_json_cannot_encode_is_refused_as_json_refuses_it(value: Any) -> None:
    with pytest.raises(TypeError):
        canonical(value)
    with pytest.raises(TypeError):
        jsontext.dumps(value)


@pytest.mark.parametrize("example", sorted(p.parent.name for p in
                                           (REPO / "examples").glob("*/plan.json")))
def test_a_committed_plan_is_written_as_json_dumps_writes_it(example: str) -> None:
    text = (REPO / "examples" / example / "plan.json").read_text("utf-8")
    plan = loads_plan(text)
    assert dumps_plan(plan) == canonical(plan.model_dump(mode="json")) + "\n"
