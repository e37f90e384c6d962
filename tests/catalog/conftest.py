"""Catalog tests run offline: any socket connection off this machine fails the test at once.

The refresh code talks to clouds only through injected transports (httpx mock
transport, botocore Stubber / before-send, a fake ``az``); if a credential chain
or client ever tried the real network (an instance metadata service, a token
endpoint), this makes it an error instead of traffic.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

LOCAL = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family == socket.AF_UNIX or str(host).startswith(LOCAL):
            return real_connect(sock, address)
        raise OSError(f"network access in a test: {address!r}")

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is None or str(host).startswith(LOCAL):
            return real_getaddrinfo(host, *args, **kwargs)
        raise OSError(f"name lookup in a test: {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="module")
def aws_rec(shared: Path) -> dict[str, Any]:
    """The recorded AWS responses (../shared/fixtures/pricing/aws), decoded."""
    from tests.refresh_mock import load

    return {
        "m5": load(shared, "aws", "getproducts_priceitem_m5.large_us-east-1.json"),
        "envelope": load(shared, "aws", "getproducts_envelope_awscli_example.json"),
        "bulk": load(shared, "aws", "bulk_offer_fragment_us-east-2_opencost.json"),
        "bulk_cn": load(shared, "aws", "bulk_offer_fragment_cn-northwest-1_opencost.json"),
        "advisor": load(shared, "aws", "spot-advisor-data.trimmed.json"),
        "spot": load(shared, "aws", "describe_spot_price_history_m5.large_us-east-1.json"),
        "types": load(shared, "aws", "describe_instance_types_t3.micro_p3.16xlarge.json"),
    }
