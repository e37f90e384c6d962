"""Canonical JSON text, fast: exactly ``json.dumps(value, indent=2, sort_keys=True)``.

``plan.json`` is canonical JSON (keys sorted, 2-space indent, ASCII with ``\\uXXXX``
escapes); at 20,000 workloads it is 125 MB. ``json.dumps`` with ``indent`` runs
CPython's pure-Python encoder (the C one cannot indent): a generator per container
and a few calls per value, 3.4 s CPU there. :func:`dumps` writes the same bytes
encoding *columns* instead of values: the values at one key of many sibling objects
(every placement's ``cost``, every alternative's ``offer``) are encoded together, a
column of one scalar type by converting each distinct value once, and each
container's text is laid out by slice assignment and one join. Python-level work is
per column and per array, not per value: 3.4 s -> 1.6 s CPU for that plan.

What makes bulk layout exact: encoded JSON text (ASCII, control characters escaped)
never holds a raw NUL, so :data:`SEP` can mark where one container's text ends in a
joined string and ``str.split`` cuts them apart. A value outside plain JSON data (a
dict with a key that is not a string, a subclass of dict or list, a type ``json``
cannot encode) goes to ``json.dumps`` itself and is re-indented: its text holds no raw
newline except between lines.
"""

from __future__ import annotations

import functools
import json
import math
from _json import make_encoder
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, compress
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any

SEP = "\x00"  # never in encoded JSON text (ensure_ascii escapes control characters)
SCALARS = frozenset({str, int, float, bool, type(None)})
_CONVERT: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii, float: float.__repr__, int: int.__repr__}
_STRINGS_ONLY = frozenset({str}).issuperset
_Encoder = Callable[[object, int], Sequence[str]]


def dumps(value: object, end: str = "") -> str:
    """``json.dumps(value, indent=2, sort_keys=True) + end``: the same text, column-encoded
    (``end`` is laid out with it: a 125 MB text is not copied to add a newline)."""
    return encode_joined([value], 0, [end])


def indent(level: int) -> str:
    """The line break before an item at ``level`` (2 spaces a level)."""
    return "\n" + "  " * level


def encode_column(values: list[Any], level: int) -> list[str]:
    """The JSON text of each of ``values``, as if each stood at ``level`` of a document
    indented by 2 (its nested lines indented from there)."""
    if not values:
        return []
    if len(values) == 1:  # no copy by split
        return [encode_joined(values, level, [""])]
    return encode_joined(values, level, [SEP] * len(values)).split(SEP)[:-1]


def encode_joined(values: list[Any], level: int, after: list[str], head: str = "") -> str:
    """``head``, then the texts of ``values`` (as :func:`encode_column`) each followed by
    its string of ``after``, as one string. Containers lay themselves out with ``head``
    and ``after`` as their first and last pieces: an array of objects needs no text per
    object, and no large text is copied to add a bracket."""
    kinds = set(map(type, values))
    if kinds <= SCALARS:
        return _interleave(encode_scalars(values, kinds), after, head)
    if kinds == {dict}:
        return encode_dicts(values, level, after, head)
    if kinds <= {list, tuple}:
        return encode_lists(values, level, after, head)
    return _interleave(_encode_mixed(values, level), after, head)


def _interleave(texts: list[str], after: list[str], head: str) -> str:
    pieces: list[str] = [""] * (2 * len(texts) + 1)
    pieces[0] = head
    pieces[1::2] = texts
    pieces[2::2] = after
    return "".join(pieces)


def _encode_mixed(values: list[Any], level: int) -> list[str]:
    """A column of several kinds: each kind encoded as a column of its own (what is not
    plain JSON by ``json.dumps``), merged back into the original order."""
    groups: dict[type, list[Any]] = {}
    for v in values:
        groups.setdefault(_group_of(type(v)), []).append(v)
    texts = {kind: iter(encode_column(group, level) if kind in (str, dict, list)
                        else [_stdlib(v, level) for v in group])
             for kind, group in groups.items()}
    return [next(texts[_group_of(type(v))]) for v in values]


def _group_of(kind: type) -> type:
    """Scalars share one group, lists and tuples another; any other type is its own."""
    return str if kind in SCALARS else list if kind is tuple else kind


def encode_scalars(values: list[Any], kinds: set[type]) -> list[str]:
    """Strings, numbers, booleans and None (of ``kinds``), each as ``json.dumps`` writes
    it. A column of one type converts each distinct value once (a plan repeats its clouds,
    regions and prices thousands of times); others go through the C encoder in one call."""
    if len(kinds) == 1:
        kind = next(iter(kinds))
        convert = _CONVERT.get(kind)
        if convert is not None:
            distinct = set(values)
            if kind is not float or _plain_floats(distinct):
                table = dict(zip(distinct, map(convert, distinct), strict=True))
                return list(map(table.__getitem__, values))
    text = "".join(_c_encoder(SEP)(values, 0))
    return text[1:-1].split(SEP)


def _plain_floats(distinct: set[float]) -> bool:
    """Floats a table may map: no zero (0.0 and -0.0 are one key but two texts) and
    none that ``json.dumps`` spells its own way (NaN, Infinity)."""
    return 0.0 not in distinct and all(map(math.isfinite, distinct))


def encode_dicts(dicts: list[dict[Any, Any]], level: int, after: list[str], head: str) -> str:
    """Objects: with the same string keys (as a plan's models) encoded column by column
    together; otherwise each as a column of its own."""
    first = dicts[0].keys()
    if all(map(first.__eq__, map(dict.keys, dicts))) and _STRINGS_ONLY(map(type, first)):
        return _encode_same_keys(dicts, tuple(sorted(first)), level, after, head)
    texts = [_encode_same_keys([d], tuple(sorted(d)), level, [""], "")
             if _STRINGS_ONLY(map(type, d)) else _stdlib(d, level) for d in dicts]
    return _interleave(texts, after, head)


def _encode_same_keys(dicts: list[dict[str, Any]], keys: tuple[str, ...], level: int,
                      after: list[str], head: str) -> str:
    """Objects that all have ``keys`` (sorted): each key's values as one column, laid
    out as ``{key: value, ...}`` by slice assignment and one join."""
    if not keys:
        return _interleave(["{}"] * len(dicts), after, head)
    n, width = len(dicts), 2 * len(keys) + 1
    rows = (list(map(itemgetter(*keys), dicts)) if len(keys) > 1
            else [(d[keys[0]],) for d in dicts])
    pieces: list[str] = [""] * (width * n)
    step = "," + indent(level + 1)
    for j, column in enumerate(zip(*rows, strict=True)):
        prefix = ("{" + indent(level + 1)) if j == 0 else step
        pieces[2 * j::width] = [prefix + encode_basestring_ascii(keys[j]) + ": "] * n
        pieces[2 * j + 1::width] = encode_column(list(column), level + 1)
    pieces[width - 1::width] = list(map((indent(level) + "}").__add__, after))
    pieces[0] = head + pieces[0]
    return "".join(pieces)


def encode_lists(lists: list[Sequence[Any]], level: int, after: list[str], head: str) -> str:
    """Arrays: the items of all of them encoded as one column at ``level + 1``, each
    item followed by the separator or, at an array's end, by its close, its ``after``
    and the next array's opening."""
    if not all(lists):
        texts = iter(encode_column(list(compress(lists, lists)), level))
        return _interleave([next(texts) if items else "[]" for items in lists], after, head)
    items = list(chain.from_iterable(lists))
    opening, close = "[" + indent(level + 1), indent(level) + "]"
    follow = ["," + indent(level + 1)] * len(items)
    ends = [e - 1 for e in accumulate(map(len, lists))]
    list(map(follow.__setitem__, ends, [close + a + opening for a in after]))
    follow[-1] = close + after[-1]
    return encode_joined(items, level + 1, follow, head + opening)


def _stdlib(value: object, level: int) -> str:
    """``json.dumps`` itself for what is not plain JSON data, indented to ``level``."""
    return json.dumps(value, indent=2, sort_keys=True).replace("\n", indent(level))


def _refuse(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


@functools.cache
def _c_encoder(step: str) -> _Encoder:
    """CPython's C encoder with ``step`` between items (keys sorted, as ``json.dumps``)."""
    encoder: _Encoder = make_encoder(None, _refuse, encode_basestring_ascii, None, ": ", step,
                                     True, False, True)
    return encoder
