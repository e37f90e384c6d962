"""Serve recorded price-API responses through httpx.MockTransport (no network).

A :class:`Server` answers each request with the next scripted response for
its route and records every request, so tests can check paging, retries and
what was sent. Recorded bodies are read from ``../shared/fixtures/pricing``
at test time; nothing is copied into the repository.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

Route = Callable[[httpx.Request], bool]


@dataclass
class Server:
    """Scripted responses per route; ``requests`` records what the client sent."""

    routes: list[tuple[Route, list[httpx.Response]]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, route: Route, *responses: httpx.Response) -> Server:
        self.routes.append((route, list(responses)))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for route, responses in self.routes:
            if route(request):
                if not responses:
                    raise AssertionError(f"no more scripted responses for {request.url}")
                return responses.pop(0) if len(responses) > 1 else responses[0]
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def client(self, timeout: float = 5.0) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self), timeout=timeout)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={
        "content-type": "application/json", **(headers or {})})


def raw_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers=headers or {})


def load(shared: Path, cloud: str, name: str) -> Any:
    return json.loads((shared / "fixtures" / "pricing" / cloud / name).read_text("utf-8"))


def use_server(monkeypatch: pytest.MonkeyPatch, server: Server) -> list[float]:
    """Make ``planner catalog refresh`` talk to ``server``; returns the recorded sleeps."""
    from planner.catalog import refresh_http

    sleeps: list[float] = []
    monkeypatch.setattr(refresh_http, "open_client", lambda timeout: server.client(timeout))
    monkeypatch.setattr(refresh_http, "sleep_seconds", sleeps.append)
    return sleeps


def snapshot_bytes(directory: Path) -> dict[str, bytes]:
    """Every file of a snapshot directory, to prove a failed refresh left it as it was."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def snapshot_text(directory: Path) -> str:
    """A snapshot's metadata and offers as text ("" if absent): where no secret may appear."""
    import gzip

    if not directory.exists():
        return ""
    return (directory / "metadata.json").read_text() + gzip.decompress(
        (directory / "offers.csv.gz").read_bytes()).decode()


def one_offer_snapshot(directory: Path, offer: Any, source: str = "old") -> Path:
    """A previous snapshot holding ``offer`` alone (dated 2026-01-01)."""
    from planner.catalog.model import CatalogMeta
    from planner.catalog.snapshot import write_snapshot

    write_snapshot(directory, [offer], CatalogMeta(source=source, date="2026-01-01"))
    return directory
