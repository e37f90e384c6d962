"""The HTTP client every ``planner catalog refresh`` fetcher shares.

This module (and the ``refresh_*`` modules that use it) is the only place in
``planner/`` that touches the network, and only when the user runs
``planner catalog refresh``.

:class:`Fetcher` wraps an :class:`httpx.Client` with what the price APIs need:

* **Retries** on HTTP 429 and 5xx and on transport errors (timeouts, resets):
  up to ``retries`` more attempts, waiting ``backoff * 2**attempt`` seconds
  (capped at ``max_wait``) or the server's ``Retry-After`` (delta-seconds;
  an HTTP-date is not parsed, the backoff is used instead, so no clock is read).
* **A timeout** per request (seconds, set on the client by :func:`open_client`).
* **Paging**: :meth:`Fetcher.pages` follows whatever "next page" rule a
  cloud uses (a token, a full link) and calls ``progress`` after each page.
* **Clean failures**: any HTTP error left after the retries, a non-JSON
  body or a loop in the paging becomes a :class:`~planner.errors.CatalogError`
  (exit 4) naming the URL *without* its query string (API keys travel there);
  an HTTP error status is an :class:`HttpStatusError` carrying the status, so a
  caller can say what a 403 or 404 means for its API.

``sleep`` is injectable so tests run the retry path without waiting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.errors import CatalogError

if TYPE_CHECKING:
    import httpx

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_PAGES = 100_000  # a guard against a server that never stops paging


class HttpStatusError(CatalogError):
    """An HTTP error status left after the retries (``status``; ``reason``: the API's message)."""

    def __init__(self, message: str, *, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Request:
    """One GET to make: URL, query parameters, extra headers."""

    url: str
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


# (page number starting at 1, items on that page) -> None; drives the progress bar.
Progress = Callable[[int, int], None]
# A page of JSON -> the next request, or None when done.
NextPage = Callable[[Any], Request | None]


def open_client(timeout: float) -> httpx.Client:
    """A real httpx client with ``timeout`` seconds per request (connect, read, write)."""
    import httpx

    return httpx.Client(timeout=timeout, follow_redirects=True,
                        headers={"User-Agent": "gpuplan-catalog-refresh"})


def sleep_seconds(seconds: float) -> None:
    """Wait between retries (the CLI's sleep; tests replace it so they never wait)."""
    time.sleep(seconds)


def public_url(url: str) -> str:
    """``url`` without its query string: safe to print (API keys travel in queries)."""
    return url.split("?", 1)[0]


@dataclass
class Fetcher:
    """GET JSON with retries and backoff; follow pages.

    ``authorize`` (optional) adds authentication headers to a request just
    before each attempt is sent (a Bearer token, refreshed when it expires).
    """

    client: httpx.Client
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = sleep_seconds
    authorize: Callable[[httpx.Request], None] | None = None
    attempts: int = 0  # requests sent, retries included (for reports and tests)

    def get_json(self, request: Request) -> Any:
        """The decoded JSON body of ``request``, after retries; CatalogError on failure."""
        response = self._send(request)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CatalogError(f"malformed JSON from {public_url(request.url)}: {exc}") from None

    def pages(self, first: Request, next_page: NextPage,
              count: Callable[[Any], int], progress: Progress | None = None) -> Iterator[Any]:
        """Yield each page of JSON, following ``next_page`` until it returns None."""
        request: Request | None = first
        seen: set[tuple[str, str]] = set()
        number = 0
        while request is not None:
            key = (request.url, json.dumps(request.params, sort_keys=True))
            if key in seen or number >= MAX_PAGES:
                raise CatalogError(f"paging loop at {public_url(request.url)} (page {number + 1})")
            seen.add(key)
            page = self.get_json(request)
            number += 1
            if progress is not None:
                progress(number, count(page))
            yield page
            request = next_page(page)

    def _send(self, request: Request) -> httpx.Response:
        import httpx

        where = public_url(request.url)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            built = self._build(request)
            self.attempts += 1
            try:
                response = self.client.send(built)
            except httpx.TimeoutException:
                if last:
                    raise CatalogError(f"timed out fetching {where} "
                                       f"({attempt + 1} attempts)") from None
                self.sleep(self._wait(attempt, None))
                continue
            except httpx.TransportError as exc:
                if last:
                    raise CatalogError(f"cannot fetch {where}: {type(exc).__name__}: {exc}") from None
                self.sleep(self._wait(attempt, None))
                continue
            if response.status_code < 400:
                return response
            if response.status_code not in RETRY_STATUS or last:
                raise HttpStatusError(f"HTTP {response.status_code} from {where} after "
                                      f"{attempt + 1} attempt(s): {_reason(response)}",
                                      status=response.status_code, reason=_reason(response))
            self.sleep(self._wait(attempt, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")  # pragma: no cover

    def _build(self, request: Request) -> httpx.Request:
        built = self.client.build_request("GET", request.url, params=request.params,
                                          headers=request.headers)
        if self.authorize is not None:
            self.authorize(built)
        return built

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before the next attempt: Retry-After if numeric, else backoff."""
        if retry_after is not None:
            try:
                return min(max(float(retry_after.strip()), 0.0), self.max_wait)
            except ValueError:
                pass  # an HTTP-date: fall back to the exponential backoff
        return min(self.backoff * (2 ** attempt), self.max_wait)


def _reason(response: httpx.Response) -> str:
    """A short reason: the API's error message if it sent one, else the status phrase."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"]).splitlines()[0][:200]
        for key in ("message", "Message"):
            if isinstance(body.get(key), str):
                return str(body[key]).splitlines()[0][:200]
    return response.reason_phrase or "error"
