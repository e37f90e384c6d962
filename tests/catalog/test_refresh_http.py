"""The shared refresh client: retries, backoff, Retry-After, timeouts, paging, clean errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from planner.catalog.refresh_http import Fetcher, HttpStatusError, Request
from planner.errors import CatalogError
from tests.refresh_mock import Server, json_response, raw_response

URL = "https://prices.example/api"


def everything(request: httpx.Request) -> bool:
    return True


def fetcher(server: Server, sleeps: list[float], **kw: Any) -> Fetcher:
    return Fetcher(server.client(), sleep=sleeps.append, **kw)


def test_429_with_retry_after_then_success() -> None:
    server = Server().on(everything, json_response({}, 429, {"Retry-After": "7"}),
                         json_response({"ok": 1}))
    sleeps: list[float] = []
    f = fetcher(server, sleeps)
    assert f.get_json(Request(URL)) == {"ok": 1}
    assert sleeps == [7.0]
    assert f.attempts == 2


def test_retry_after_is_capped_and_dates_fall_back_to_backoff() -> None:
    server = Server().on(everything, json_response({}, 429, {"Retry-After": "3600"}),
                         json_response({}, 503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                         json_response([]))
    sleeps: list[float] = []
    fetcher(server, sleeps, max_wait=30.0, backoff=0.5).get_json(Request(URL))
    assert sleeps == [30.0, 1.0]  # capped; then backoff 0.5 * 2**1


def test_persistent_500_fails_after_exponential_backoff() -> None:
    server = Server().on(everything, json_response({"error": {"message": "backend down"}}, 500))
    sleeps: list[float] = []
    with pytest.raises(CatalogError, match="HTTP 500 .* after 5 attempt.*backend down"):
        fetcher(server, sleeps, retries=4).get_json(Request(URL))
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(server.requests) == 5


def test_client_errors_are_not_retried_and_keys_are_not_printed() -> None:
    server = Server().on(everything, json_response({"error": {"message": "API key not valid"}}, 403))
    sleeps: list[float] = []
    with pytest.raises(CatalogError) as err:
        fetcher(server, sleeps).get_json(Request(URL, params={"key": "SECRET123"}))
    assert "HTTP 403" in str(err.value) and "API key not valid" in str(err.value)
    assert "SECRET123" not in str(err.value)
    assert sleeps == [] and len(server.requests) == 1


def test_timeouts_are_retried_then_fail_cleanly() -> None:
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("read timed out", request=request)

    sleeps: list[float] = []
    f = Fetcher(httpx.Client(transport=httpx.MockTransport(slow)), retries=2, sleep=sleeps.append)
    with pytest.raises(CatalogError, match="timed out fetching https://prices.example/api"):
        f.get_json(Request(URL))
    assert len(calls) == 3 and sleeps == [1.0, 2.0]


def test_malformed_json_is_a_catalog_error() -> None:
    server = Server().on(everything, raw_response("<html>Service Unavailable</html>"))
    with pytest.raises(CatalogError, match="malformed JSON from https://prices.example/api"):
        fetcher(server, []).get_json(Request(URL))


def test_pages_follow_the_link_and_report_progress() -> None:
    server = Server()
    server.on(lambda r: "page=2" in str(r.url), json_response({"items": [3], "next": None}))
    server.on(everything, json_response({"items": [1, 2], "next": URL + "?page=2"}))
    seen: list[tuple[int, int]] = []
    f = fetcher(server, [])
    pages = list(f.pages(Request(URL), lambda p: Request(p["next"]) if p["next"] else None,
                         lambda p: len(p["items"]), lambda n, k: seen.append((n, k))))
    assert [p["items"] for p in pages] == [[1, 2], [3]]
    assert seen == [(1, 2), (2, 1)]


def test_a_paging_loop_is_detected() -> None:
    server = Server().on(everything, json_response({"next": URL}))
    f = fetcher(server, [])
    with pytest.raises(CatalogError, match="paging loop"):
        list(f.pages(Request(URL), lambda p: Request(p["next"]), lambda p: 0))


def test_authorize_sees_each_attempt_and_errors_carry_the_status() -> None:
    server = Server().on(everything, json_response({}, 502), json_response({"done": True}))
    signed: list[str] = []

    def authorize(request: httpx.Request) -> None:
        request.headers["authorization"] = f"Bearer t-{len(signed)}"
        signed.append(request.method)

    f = Fetcher(server.client(), sleep=lambda s: None, authorize=authorize)
    assert f.get_json(Request(URL, headers={"x-goog-api-key": "k"})) == {"done": True}
    assert signed == ["GET", "GET"]
    assert server.requests[1].headers["authorization"] == "Bearer t-1"
    assert server.requests[1].headers["x-goog-api-key"] == "k"
    denied = Server().on(everything, json_response({"error": {"message": "no\nmore"}}, 403))
    with pytest.raises(HttpStatusError) as err:
        Fetcher(denied.client(), sleep=lambda s: None).get_json(Request(URL))
    assert (err.value.status, err.value.reason) == (403, "no")
