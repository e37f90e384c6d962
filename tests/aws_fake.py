"""Offline AWS for the refresh tests: botocore's Stubber, and a wire-level fake for signed calls.

* :class:`StubbedAws` puts a ``botocore.stub.Stubber`` on each client the refresh
  creates for the services it is told about, with the responses queued per
  (service, region). The Stubber answers at ``before-call``: before signing and
  before botocore's retry handler.
* :func:`answer_on_the_wire` registers a ``before-send`` handler on a boto3
  session: it sees each request *after* signing (so a test can read the
  ``Authorization`` header and the session token the credential chain produced)
  and returns a canned HTTP response, so botocore's parsing and its ``standard``
  retry mode run for real. STS (web identity) goes through it too, since clients
  copy their session's handlers.
* :func:`isolated_aws_env` points the credential chain at files in a temporary
  directory, clears every AWS variable and disables the instance metadata
  service, so nothing on the machine, and no network, is consulted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_REGION", "AWS_DEFAULT_REGION")


def isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config: str = "",
                     credentials: str = "") -> None:
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "aws-config").write_text(config)
    (tmp_path / "aws-credentials").write_text(credentials)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class StubbedAws:
    """Queued Stubber responses per (service, region); installed on ``AwsApi.client``."""

    queued: dict[tuple[str, str], list[tuple[str, str, Any]]] = field(default_factory=dict)
    stubbers: list[Any] = field(default_factory=list)

    def respond(self, service: str, region: str, method: str, response: dict[str, Any],
                params: dict[str, Any] | None = None) -> StubbedAws:
        self.queued.setdefault((service, region), []).append(("ok", method, (response, params)))
        return self

    def fail(self, service: str, region: str, method: str, code: str, message: str,
             status: int = 400) -> StubbedAws:
        self.queued.setdefault((service, region), []).append(("error", method, (code, message, status)))
        return self

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from botocore.stub import Stubber

        from planner.catalog.refresh_aws_api import AwsApi

        real = AwsApi.client

        def client(api: AwsApi, service: str, region: str) -> Any:
            fresh = (service, region) not in api._clients
            made = real(api, service, region)
            if fresh and (service, region) in self.queued:
                stubber = Stubber(made)
                for kind, method, args in self.queued[(service, region)]:
                    if kind == "ok":
                        stubber.add_response(method, args[0], args[1])
                    else:
                        stubber.add_client_error(method, service_error_code=args[0],
                                                 service_message=args[1], http_status_code=args[2])
                stubber.activate()
                self.stubbers.append(stubber)
            return made

        monkeypatch.setattr(AwsApi, "client", client)

    def all_used(self) -> None:
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Any:
        yield self.data


@dataclass
class Wire:
    """What the fake AWS endpoints saw: each signed request, in order."""

    requests: list[Any] = field(default_factory=list)


def answer_on_the_wire(session: Any, answer: Callable[[Any], tuple[int, dict[str, str], bytes]]
                       ) -> Wire:
    """Answer every request ``session``'s clients send with ``answer(request)``."""
    from botocore.awsrequest import AWSResponse

    wire = Wire()

    def before_send(request: Any, **kwargs: Any) -> Any:
        wire.requests.append(request)
        status, headers, body = answer(request)
        return AWSResponse(request.url, status, headers, _Body(body))

    session.events.register("before-send", before_send)
    return wire


def json_reply(body: dict[str, Any], status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/x-amz-json-1.1"}, json.dumps(body).encode()


def xml_reply(text: str, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "text/xml"}, text.encode()


def use_session(monkeypatch: pytest.MonkeyPatch,
                answer: Callable[[Any], tuple[int, dict[str, str], bytes]]) -> list[Wire]:
    """Make the refresh's own ``open_session`` sessions answer on the wire; returns their wires."""
    from planner.catalog import refresh_aws_api

    real = refresh_aws_api.open_session
    wires: list[Wire] = []

    def opened(profile: str | None) -> Any:
        session = real(profile)
        wires.append(answer_on_the_wire(session, answer))
        return session

    monkeypatch.setattr(refresh_aws_api, "open_session", opened)
    return wires


def no_botocore_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's retry sleeps instead of sleeping."""
    import types

    import botocore.endpoint

    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=sleeps.append))
    return sleeps
