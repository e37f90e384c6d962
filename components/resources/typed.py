"""Turn builder dicts into the Pulumi SDKs' typed ``*Args`` classes.

The pure builders return plain dicts keyed by Pulumi argument names (or, for
Kubernetes manifests, camelCase field names). :func:`build_args` walks a
resource's (or Args class's) signature: every key must be a parameter, else
``TypeError`` (unknown argument names fail loudly), and every nested dict or
list of dicts whose parameter is typed with an ``*Args`` class becomes an
instance of that class, recursively. Maps (labels, resource requests) stay
plain dicts because their annotation is a ``Mapping``, not an Args class.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

_SKIP = {"self", "__self__", "resource_name", "opts", "__props__"}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``nodeSelector`` -> ``node_selector``; ``x-kubernetes-*`` style names are not expected."""
    return _CAMEL.sub(r"_\1", name).lower()


def _resolve(ref: typing.ForwardRef | str, namespace: Mapping[str, Any]) -> Any:
    text = ref.__forward_arg__ if isinstance(ref, typing.ForwardRef) else ref
    head, *rest = text.split(".")
    obj = namespace.get(head)
    for part in rest:
        obj = getattr(obj, part, None)
    return obj


def args_class(annotation: Any, namespace: Mapping[str, Any]) -> tuple[type | None, bool]:
    """The ``*Args`` class inside ``annotation`` and whether it sits in a sequence."""
    return _find(annotation, namespace, False)


def _find(tp: Any, ns: Mapping[str, Any], in_seq: bool) -> tuple[type | None, bool]:
    if isinstance(tp, typing.ForwardRef | str):
        name = tp.__forward_arg__ if isinstance(tp, typing.ForwardRef) else tp
        if name.endswith("Args"):
            cls = _resolve(tp, ns)
            if isinstance(cls, type):
                return cls, in_seq
        return None, in_seq
    if isinstance(tp, type) and tp.__name__.endswith("Args") and hasattr(tp, "__init__"):
        return tp, in_seq
    origin = typing.get_origin(tp)
    if origin in (dict, collections.abc.Mapping):
        return None, in_seq
    seq = in_seq or origin in (list, collections.abc.Sequence)
    for arg in typing.get_args(tp):
        found, where = _find(arg, ns, seq)
        if found is not None:
            return found, where
    return None, in_seq


@functools.cache
def _signature(target: Callable[..., Any]) -> tuple[inspect.Signature, Mapping[str, Any], str]:
    fn: Any = getattr(target, "__init__") if isinstance(target, type) else target  # noqa: B009
    return inspect.signature(fn), fn.__globals__, getattr(target, "__qualname__", str(target))


def build_args(target: Callable[..., Any], data: Mapping[str, Any],
               camel: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``target`` (an Args class or a resource's ``_internal_init``)."""
    sig, namespace, name = _signature(target)
    out: dict[str, Any] = {}
    for key, value in data.items():
        param = snake(key) if camel else key
        if param in _SKIP or param not in sig.parameters:
            raise TypeError(f"{name}: unknown argument {key!r}")
        out[param] = _convert(sig.parameters[param].annotation, value, namespace, camel)
    return out


def typed(cls: type, data: Mapping[str, Any], camel: bool = False) -> Any:
    """An instance of the Args class ``cls`` from ``data``."""
    return cls(**build_args(cls, data, camel))


def _convert(annotation: Any, value: Any, namespace: Mapping[str, Any], camel: bool) -> Any:
    cls, in_seq = args_class(annotation, namespace)
    if cls is None:
        return value
    if in_seq and isinstance(value, list):
        return [typed(cls, v, camel) if isinstance(v, Mapping) else v for v in value]
    if isinstance(value, Mapping):
        return typed(cls, value, camel)
    return value
