"""Read what Pulumi would do: ``pulumi preview --json`` output or a mocked run's graph.

Two documents ``pulumi preview --json`` prints are read into one shape:

* the *digest* (one JSON object: ``config``, ``steps[].{op, urn, provider,
  oldState, newState}``), and
* the NDJSON engine-event stream (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=1``,
  ``pulumi up --json``, ``--event-log``): ``preludeEvent.config`` and
  ``resourcePreEvent.metadata.{op, urn, type, old, new, provider}``.

Both become a :class:`Preview` of :class:`Step` rows, one per resource with
its inputs before and after; replacement sub-steps are folded into their
``replace``. :func:`graph_steps` builds the same shape from two resource
graphs recorded under Pulumi mocks (``planner preview``). Pricing is in
:mod:`planner.review.pulumipreview`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from planner.errors import PlanFileError

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's "computed, not known yet" value

# Sub-steps of a replacement: the logical "replace" step carries the change.
_SUB_STEPS = {"create-replacement", "delete-replaced", "discard-replaced", "import-replacement"}


@dataclass(frozen=True)
class Step:
    """One resource of the preview: its operation and inputs before/after (None = absent)."""

    op: str
    urn: str
    type: str
    provider: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    custom: bool = True  # False for component resources (only their children are billed)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class Preview:
    format: Literal["digest", "events"]
    config: Mapping[str, Any]
    steps: tuple[Step, ...]


def parse_preview(text: str, filename: str) -> Preview:
    """Read a ``pulumi preview --json`` digest or an NDJSON engine-event stream."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("steps"), list):
        return _from_digest(doc, filename)
    if isinstance(doc, dict) and not _is_event(doc):
        raise PlanFileError("not a Pulumi preview: expected a digest with \"steps\" or "
                            "NDJSON engine events", file=filename)
    return _from_events(text, filename)


def _is_event(obj: Mapping[str, Any]) -> bool:
    return "sequence" in obj or any(k.endswith("Event") for k in obj)


def _state_inputs(state: Any) -> Mapping[str, Any] | None:
    if not isinstance(state, dict):
        return None
    inputs = state.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def _from_digest(doc: Mapping[str, Any], filename: str) -> Preview:
    steps = []
    for i, raw in enumerate(doc["steps"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str):
            raise PlanFileError("step without a urn", file=filename, field=f"steps[{i}]")
        old, new = raw.get("oldState"), raw.get("newState")
        rtype = (new or old or {}).get("type") or _type_of(raw["urn"])
        steps.append(Step(str(raw.get("op", "same")), raw["urn"], rtype,
                          str(raw.get("provider") or ""), _state_inputs(old), _state_inputs(new),
                          _custom(new, old)))
    return Preview("digest", doc.get("config") or {}, _fold(steps))


def _from_events(text: str, filename: str) -> Preview:
    config: dict[str, Any] = {}
    steps: list[Step] = []
    seen_event = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PlanFileError(f"not a Pulumi preview: line is not JSON ({exc.msg})",
                                file=filename, line=lineno) from None
        if not isinstance(event, dict) or not _is_event(event):
            raise PlanFileError("not a Pulumi engine event", file=filename, line=lineno)
        seen_event = True
        if isinstance(event.get("preludeEvent"), dict):
            config.update(event["preludeEvent"].get("config") or {})
        pre = event.get("resourcePreEvent")
        if isinstance(pre, dict) and isinstance(pre.get("metadata"), dict):
            steps.append(_event_step(pre["metadata"]))
    if not seen_event:
        raise PlanFileError("not a Pulumi preview: the file is empty", file=filename)
    return Preview("events", config, _fold(steps))


def _event_step(meta: Mapping[str, Any]) -> Step:
    urn = str(meta.get("urn", ""))
    return Step(str(meta.get("op", "same")), urn, str(meta.get("type") or _type_of(urn)),
                str(meta.get("provider") or ""), _state_inputs(meta.get("old")),
                _state_inputs(meta.get("new")), _custom(meta.get("new"), meta.get("old")))


def _custom(*states: Any) -> bool:
    """Pulumi omits ``custom`` when false: a state without it is a component resource."""
    state = next((s for s in states if isinstance(s, dict)), None)
    return bool(state.get("custom")) if state is not None else True


def _type_of(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _fold(steps: list[Step]) -> tuple[Step, ...]:
    """One step per urn, in first-seen order: the last logical step wins."""
    by_urn: dict[str, Step] = {}
    for s in steps:
        if s.op in _SUB_STEPS and s.urn in by_urn:
            continue
        by_urn[s.urn] = s
    return tuple(by_urn.values())


# --- graphs recorded under Pulumi mocks (planner preview) ------------------------------------


@dataclass(frozen=True)
class GraphChange:
    """One resource of a mocked stack run compared with the base run."""

    op: Literal["create", "update", "delete", "same"]
    type: str
    name: str
    parent: str
    custom: bool


def graph_steps(base: Iterable[Any], new: Iterable[Any], stack: str,
                config: Mapping[str, Any] | None = None) -> tuple[Preview, tuple[GraphChange, ...]]:
    """Compare two recorded resource graphs (objects with ``type, name, parent, custom,
    inputs``) by (type, name, parent): a :class:`Preview` to price, and the change list."""
    old = {(r.type, r.name, r.parent): r for r in base}
    cur = {(r.type, r.name, r.parent): r for r in new}
    steps, changes = [], []
    for key in sorted(set(old) | set(cur)):
        b, n = old.get(key), cur.get(key)
        op: Literal["create", "update", "delete", "same"]
        if b is None:
            op = "create"
        elif n is None:
            op = "delete"
        else:
            op = "same" if b.inputs == n.inputs else "update"
        rtype, name, parent = key
        urn = f"urn:pulumi:{stack}::gpuplan::{rtype}::{name}"
        either = n if n is not None else b
        assert either is not None
        steps.append(Step(op, urn, rtype, "", b.inputs if b else None, n.inputs if n else None,
                          bool(either.custom)))
        changes.append(GraphChange(op, rtype, name, parent, bool(either.custom)))
    return Preview("digest", dict(config or {}), tuple(steps)), tuple(changes)
