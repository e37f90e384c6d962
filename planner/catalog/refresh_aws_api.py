"""The AWS calls of ``planner catalog refresh aws``, through boto3 as AWS's own tools make them.

**Credentials**: boto3's standard chain, exactly as the AWS CLI resolves it:
environment keys, ``AWS_PROFILE`` / ``--profile`` (shared config and credentials
files, ``aws sso login`` sessions, ``credential_process``, role chaining), web
identity (``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE``, what GitHub OIDC and
``aws-actions/configure-aws-credentials`` set), container and instance roles.
gpuplan never reads or stores a key itself.

**Retries**: botocore's ``standard`` retry mode (throttling and transient errors,
exponential backoff with jitter), ``retries + 1`` attempts per call, and
``timeout`` seconds to connect and to read.

**Calls** (all read-only; the IAM actions the identity needs):

* ``ec2:DescribeRegions`` (``AllRegions``): which regions exist and are enabled, so
  an unknown or disabled ``--regions`` name fails before any price is fetched;
* ``pricing:GetProducts`` (endpoint in us-east-1), paginated: on-demand prices;
* ``ec2:DescribeInstanceTypes`` per region, paginated: shapes (``refresh_aws_shapes``);
* ``ec2:DescribeSpotPriceHistory`` per region, paginated, Linux/UNIX, with
  ``StartTime = EndTime = now``: the price in effect now in every zone.

Every botocore failure becomes one :class:`~planner.errors.CatalogError` line
starting ``aws:`` and naming the cause (:func:`aws_failure`); AWS's own error
message is kept to its first line. Credentials never appear in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from planner.errors import CatalogError

if TYPE_CHECKING:
    import boto3

PRICING_REGION = "us-east-1"
HOME_REGION = "us-east-1"  # where DescribeRegions is asked when the profile names no region
EXTRA_HINT = "pip install 'gpuplan[refresh]'"
SIGN_IN_HINT = ("sign in as with the AWS CLI: AWS_PROFILE (aws configure / aws sso login), "
                "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), environment keys "
                "or an instance role")
EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
REJECTED = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure",
                      "SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature",
                      "MissingAuthenticationToken"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
THROTTLED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded",
                       "TooManyRequestsException", "RequestThrottled"})


def require_boto3() -> None:
    """CatalogError (exit 4) naming the extra to install when boto3 is missing."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise CatalogError(f"aws: refreshing AWS prices needs boto3: {EXTRA_HINT}") from None


def first_line(text: object, limit: int = 200) -> str:
    lines = str(text).strip().splitlines()
    return lines[0][:limit] if lines else ""


def aws_failure(exc: Exception, what: str, region: str | None) -> CatalogError:
    """One clear line for a botocore failure of call ``what`` (in ``region``)."""
    from botocore import exceptions as bx

    where = f" in {region}" if region else ""
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error") or {}
        code, message = str(error.get("Code") or "?"), first_line(error.get("Message") or "")
        if code in EXPIRED:
            cause = f"credentials expired ({code}: {message}); sign in again ({SIGN_IN_HINT})"
        elif code in REJECTED:
            cause = f"credentials rejected ({code}: {message}); {SIGN_IN_HINT}"
        elif code == "OptInRequired":
            cause = f"region {region} is not enabled for this account ({code})"
        elif code in DENIED:
            cause = f"{what}{where} not allowed for this identity ({code}: {message})"
        elif code in THROTTLED:
            cause = f"{what}{where} still throttled after the retries ({code})"
        else:
            cause = f"{what}{where} failed ({code}: {message})"
    elif isinstance(exc, bx.NoCredentialsError):
        cause = f"no credentials found; {SIGN_IN_HINT}"
    elif isinstance(exc, bx.ProfileNotFound | bx.PartialCredentialsError):
        cause = f"{first_line(exc)}; {SIGN_IN_HINT}"
    elif isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        cause = f"credentials expired ({type(exc).__name__}); sign in again ({SIGN_IN_HINT})"
    elif isinstance(exc, bx.ConnectTimeoutError | bx.ReadTimeoutError | bx.EndpointConnectionError):
        cause = f"cannot reach AWS for {what}{where} ({type(exc).__name__})"
    else:
        cause = f"{what}{where} failed ({type(exc).__name__}: {first_line(exc)})"
    return CatalogError(f"aws: {cause}")


@contextmanager
def aws_call(what: str, region: str | None = None) -> Iterator[None]:
    """Turn any botocore error raised inside into :func:`aws_failure`'s CatalogError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise aws_failure(exc, what, region) from None


def open_session(profile: str | None) -> boto3.Session:
    """A boto3 session on the standard credential chain (``profile`` overrides AWS_PROFILE)."""
    import boto3

    with aws_call("reading the AWS configuration"):
        return boto3.Session(profile_name=profile) if profile else boto3.Session()


@dataclass
class AwsApi:
    """boto3 clients for the refresh, one per (service, region), made on first use."""

    session: Any  # boto3.Session (Any: boto3 ships no type hints)
    timeout: float = 60.0
    retries: int = 4
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": self.retries + 1},
                            connect_timeout=self.timeout, read_timeout=self.timeout,
                            user_agent_extra="gpuplan-catalog-refresh")
            with aws_call(f"creating the {service} client", region):
                self._clients[key] = self.session.client(service, region_name=region, config=config)
        return self._clients[key]

    def home_region(self) -> str:
        return str(self.session.region_name or HOME_REGION)

    def regions(self) -> dict[str, bool]:
        """Region name -> enabled for this account (``DescribeRegions``, ``AllRegions``)."""
        with aws_call("ec2:DescribeRegions", self.home_region()):
            answer = self.client("ec2", self.home_region()).describe_regions(AllRegions=True)
        return {r["RegionName"]: r.get("OptInStatus") != "not-opted-in"
                for r in answer.get("Regions") or []}

    def pages(self, service: str, region: str, operation: str, what: str,
              on_page: Callable[[int, int], None] | None, count_key: str,
              **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, errors translated, ``on_page(number, items)``."""
        with aws_call(what, region):
            paginator = self.client(service, region).get_paginator(operation)
            for number, page in enumerate(paginator.paginate(**kwargs), start=1):
                if on_page is not None:
                    on_page(number, len(page.get(count_key) or []))
                yield page

    def get_products(self, filters: list[dict[str, str]],
                     on_page: Callable[[int, int], None] | None = None) -> Iterator[dict[str, Any]]:
        return self.pages("pricing", PRICING_REGION, "get_products", "pricing:GetProducts",
                          on_page, "PriceList", ServiceCode="AmazonEC2", Filters=filters,
                          FormatVersion="aws_v1", PaginationConfig={"PageSize": 100})

    def instance_types(self, region: str, on_page: Callable[[int, int], None] | None = None
                       ) -> Iterator[dict[str, Any]]:
        return self.pages("ec2", region, "describe_instance_types", "ec2:DescribeInstanceTypes",
                          on_page, "InstanceTypes", PaginationConfig={"PageSize": 100})

    def spot_prices(self, region: str, now: datetime,
                    on_page: Callable[[int, int], None] | None = None) -> Iterator[dict[str, Any]]:
        return self.pages("ec2", region, "describe_spot_price_history",
                          "ec2:DescribeSpotPriceHistory", on_page, "SpotPriceHistory",
                          ProductDescriptions=["Linux/UNIX"], StartTime=now, EndTime=now,
                          PaginationConfig={"PageSize": 1000})
