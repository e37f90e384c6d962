"""Run a Pulumi program offline under ``pulumi.runtime.set_mocks`` and record its resources.

Used by the tests (golden resource graphs) and usable by ``planner preview``.
:class:`RecordingMonitor` is the mock monitor with one addition: it records
every registered resource's type, name, parent and inputs. :func:`run_mocked`
runs the program in a fresh ``contextvars`` context and a fresh event loop
(closed afterwards), so runs do not leak settings, config or loops into each
other.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----\n").decode()


@dataclass(frozen=True)
class Recorded:
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]


def fake_outputs(typ: str, name: str) -> dict[str, Any]:
    """Outputs a real provider would compute, for resources whose outputs the program reads."""
    if typ == "aws:iam/role:Role":
        return {"arn": f"arn:aws:iam::123456789012:role/{name}"}
    if typ == "aws:eks/cluster:Cluster":
        return {"endpoint": f"https://{name}.eks.example", "certificateAuthority": {"data": FAKE_CA}}
    if typ == "aws:ec2/launchTemplate:LaunchTemplate":
        return {"latestVersion": 1}
    if typ == "gcp:container/cluster:Cluster":
        return {"endpoint": "203.0.113.10", "masterAuth": {"clusterCaCertificate": FAKE_CA}}
    return {}


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs as state (plus :func:`fake_outputs`); answer the invokes the program makes."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        state.update(fake_outputs(args.typ, args.name))
        if args.typ.startswith("azure-native:") and "name" not in state:
            state["name"] = args.inputs.get("resourceName") or args.inputs.get(
                "resourceGroupName") or args.name
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs
             ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "azure-native:containerservice:listManagedClusterUserCredentials":
            text = json.dumps({"apiVersion": "v1", "kind": "Config", "mock": args.args},
                              sort_keys=True)
            return {"kubeconfigs": [{"name": "clusterUser",
                                     "value": base64.b64encode(text.encode()).decode()}]}, []
        return {}, []


class RecordingMonitor(MockMonitor):
    """A MockMonitor that also records (type, name, parent, custom, inputs) per resource."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[Recorded] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = _redact(rpc.deserialize_properties(request.object))
            parent = _type_and_name(request.parent) if request.parent else ""
            self.recorded.append(Recorded(request.type, request.name, parent,
                                          bool(request.custom), inputs))
        return response


def _type_and_name(urn: str) -> str:
    """``urn:pulumi:stack::project::a$b::name`` -> ``b::name``."""
    *_, qualified, name = urn.split("::")
    return f"{qualified.rsplit('$', 1)[-1]}::{name}"


def _redact(value: Any) -> Any:
    """Secrets become ``"[secret]"`` so recordings and golden files never hold them."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return "[secret]"
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


@dataclass
class MockRun:
    resources: list[Recorded] = field(default_factory=list)
    result: Any = None


def run_mocked(program: Callable[[], Any], config: dict[str, str] | None = None,
               secret_keys: list[str] | None = None, stack: str = "test") -> MockRun:
    """Run ``program`` under mocks with ``config``; return its recorded resources and result."""
    return contextvars.Context().run(_run, program, config or {}, secret_keys or [], stack)


def _run(program: Callable[[], Any], config: dict[str, str], secret_keys: list[str],
         stack: str) -> MockRun:
    # The mock monitor runs in the loop's default executor and each worker thread makes
    # its own event loop; own those loops here so they are closed with the run.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def worker_loop() -> None:
        thread_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(thread_loops[-1])

    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(initializer=worker_loop)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(config, secret_keys)
        mocks = RecordingMocks()
        monitor = RecordingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project="gpuplan", stack=stack, preview=False,
                                 monitor=monitor)
        run = MockRun()

        @pulumi.runtime.test
        def body() -> Any:
            run.result = program()
            return run.result

        body()
        run.resources = sorted(monitor.recorded, key=lambda r: (r.type, r.name))
        return run
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        executor.shutdown(wait=True)
        for other in thread_loops:
            other.close()
        loop.close()
        asyncio.set_event_loop(None)


def graph_text(resources: list[Recorded]) -> str:
    """The recorded graph as stable, reviewable JSON lines (golden files)."""
    lines = [json.dumps({"type": r.type, "name": r.name, "parent": r.parent,
                         "inputs": r.inputs}, sort_keys=True, default=str)
             for r in resources]
    return "\n".join(lines) + "\n"
