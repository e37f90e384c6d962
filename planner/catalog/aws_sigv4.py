"""AWS Signature Version 4, just enough to call the Price List Query API.

The Price List ``GetProducts`` API needs signed requests (any IAM identity
with ``pricing:GetProducts``). Credentials come from the usual environment
variables: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and, for
temporary credentials, ``AWS_SESSION_TOKEN``.

:func:`authorization` is pure (the signing time is an argument, ``YYYYMMDDTHHMMSSZ``)
and reproduces AWS's published SigV4 test-suite signatures; :class:`Signer`
applies it to an httpx request with a time read from a clock the CLI passes in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from planner.errors import CatalogError

if TYPE_CHECKING:
    import httpx

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def credentials_from_env(env: Mapping[str, str]) -> Credentials:
    """Credentials from ``env``; CatalogError naming the variables if they are missing."""
    key, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    if not key or not secret:
        raise CatalogError("AWS credentials missing: set AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary "
                           "credentials) to an identity allowed pricing:GetProducts")
    return Credentials(key, secret, env.get("AWS_SESSION_TOKEN") or None)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def authorization(method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
                  creds: Credentials, region: str, service: str, amz_date: str) -> str:
    """The ``Authorization`` header value signing every header in ``headers``.

    ``headers`` must include ``host`` and ``x-amz-date`` (= ``amz_date``).
    """
    lower = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed = ";".join(sorted(lower))
    canonical = "\n".join([
        method.upper(), quote(path or "/", safe="/-_.~%"), _canonical_query(query),
        "".join(f"{k}:{lower[k]}\n" for k in sorted(lower)), signed,
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(("AWS4" + creds.secret_access_key).encode("utf-8"), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, " \
           f"SignedHeaders={signed}, Signature={signature}"


@dataclass
class Signer:
    """Signs httpx requests in place (``Fetcher.sign``); ``clock`` gives the UTC time."""

    creds: Credentials
    region: str
    service: str
    clock: Callable[[], datetime]

    def __call__(self, request: httpx.Request) -> None:
        amz_date = self.clock().strftime("%Y%m%dT%H%M%SZ")
        request.headers["x-amz-date"] = amz_date
        if self.creds.session_token:
            request.headers["x-amz-security-token"] = self.creds.session_token
        signed = {k: request.headers[k] for k in
                  ("host", "x-amz-date", "x-amz-target", "content-type", "x-amz-security-token")
                  if k in request.headers}
        request.headers["authorization"] = authorization(
            request.method, request.url.path, request.url.query.decode("ascii"), signed,
            request.content, self.creds, self.region, self.service, amz_date)
