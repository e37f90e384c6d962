"""How ``planner catalog refresh gcp`` signs in: Application Default Credentials, or an API key.

* **Application Default Credentials** (google-auth's ``google.auth.default``): the
  file ``GOOGLE_APPLICATION_CREDENTIALS`` names (a service-account key, or the
  external-account file ``google-github-actions/auth`` writes for workload identity
  federation), ``gcloud auth application-default login``, or the metadata server on
  Google Cloud. Scope ``cloud-platform``. Needed for ``--project`` (the Compute API
  takes no API key).
* **An API key** in ``GOOGLE_API_KEY`` (the Cloud Billing Catalog is public data):
  used for the Billing Catalog when set, so a key alone still works without
  ``--project``.

google-auth makes its own token requests (token exchange, refresh, metadata
server) through :class:`HttpxTransport`, i.e. through the same httpx client,
timeout and test transport as the price calls. Tokens and keys are sent as
headers or query parameters only; error lines name the cause (google-auth's
error code and description, first line) and never a token, key or secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from planner.catalog.refresh_http import Fetcher
from planner.errors import CatalogError

if TYPE_CHECKING:
    import httpx

API_KEY_ENV = "GOOGLE_API_KEY"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
EXTRA_HINT = "pip install 'gpuplan[refresh]'"
SIGN_IN_HINT = ("sign in with `gcloud auth application-default login` or "
                "google-github-actions/auth, or set GOOGLE_API_KEY (Billing Catalog only)")


def api_key(env: Mapping[str, str]) -> str | None:
    """The API key from the environment, or None."""
    return env.get(API_KEY_ENV, "").strip() or None


def require_google_auth(env: Mapping[str, str], project: str | None) -> None:
    """CatalogError (exit 4) naming the extra when ADC is needed and google-auth is missing."""
    if api_key(env) and project is None:
        return  # the key alone is enough
    try:
        import google.auth  # noqa: F401
    except ImportError:
        raise CatalogError("gcp: Application Default Credentials need google-auth: "
                           f"{EXTRA_HINT} (or set {API_KEY_ENV} for the Billing Catalog alone)") \
            from None


class HttpxTransport:
    """google-auth's ``transport.Request`` over an httpx client (token and metadata calls)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __call__(self, url: str, method: str = "GET", body: bytes | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float | None = None,
                 **kwargs: Any) -> Any:
        import httpx
        from google.auth import exceptions

        try:
            response = self.client.request(method, url, content=body, headers=dict(headers or {}),
                                           timeout=timeout if timeout is not None else
                                           self.client.timeout)
        except httpx.HTTPError as exc:
            raise exceptions.TransportError(f"{type(exc).__name__} calling "
                                            f"{url.split('?', 1)[0]}") from None
        return _Response(response)


class _Response:
    """google-auth's ``transport.Response`` view of an httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.data = response.content


@dataclass
class GcpAuth:
    """The key (for the Billing Catalog) and/or ADC credentials (Bearer tokens)."""

    key: str | None
    credentials: Any = None  # google.auth.credentials.Credentials
    transport: HttpxTransport | None = None

    def authorize(self, request: httpx.Request) -> None:
        """Add ``Authorization: Bearer`` (refreshing the token if needed), unless the key serves."""
        if self.credentials is None:
            return
        if self.key and request.url.host == "cloudbilling.googleapis.com":
            return
        from google.auth import exceptions

        headers: dict[str, str] = {}
        try:
            self.credentials.before_request(self.transport, request.method, str(request.url),
                                            headers)
        except exceptions.RefreshError as exc:
            raise CatalogError(f"gcp: credentials rejected or expired ({_cause(exc)}); "
                               f"{SIGN_IN_HINT}") from None
        except exceptions.GoogleAuthError as exc:
            raise CatalogError(f"gcp: cannot get an access token ({type(exc).__name__}: "
                               f"{_cause(exc)})") from None
        request.headers.update(headers)


def _cause(exc: Exception) -> str:
    """google-auth's first message argument, first line (e.g. ``invalid_grant: ...``)."""
    first = exc.args[0] if exc.args else type(exc).__name__
    lines = str(first).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def google_auth(env: Mapping[str, str], fetcher: Fetcher, project: str | None) -> GcpAuth:
    """Resolve how to sign in: the key when set (and no project), else ADC; CatalogError if neither."""
    key = api_key(env)
    if key and project is None:
        auth = GcpAuth(key)
    else:
        import google.auth
        from google.auth import exceptions

        transport = HttpxTransport(fetcher.client)
        try:
            credentials, _ = google.auth.default(scopes=list(SCOPES), request=cast(Any, transport))
        except exceptions.DefaultCredentialsError as exc:
            raise CatalogError(f"gcp: no Application Default Credentials ({_cause(exc)}); "
                               f"{SIGN_IN_HINT}") from None
        except exceptions.GoogleAuthError as exc:
            raise CatalogError(f"gcp: cannot use the Application Default Credentials "
                               f"({type(exc).__name__}: {_cause(exc)}); {SIGN_IN_HINT}") from None
        auth = GcpAuth(key, credentials, transport)
    fetcher.authorize = auth.authorize
    return auth
