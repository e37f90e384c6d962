"""``planner catalog refresh aws`` end to end, offline: sign-in paths, retries, failures, output.

EC2 answers come from the recorded responses through Stubber (``tests.aws_fake``).
The Price List call is answered on the wire instead (after botocore signed it),
so each credential path is checked by what AWS would see: the access key id in
the SigV4 ``Authorization`` header and the session token header. The STS
``AssumeRoleWithWebIdentity`` answer is hand-made from the documented response
shape (no recording exists). Sentinel values stand in for every secret, and
none may appear in the output, the error line, the logs or the snapshot.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from planner.catalog.model import Offer
from planner.catalog.snapshot import read_snapshot
from tests.aws_fake import StubbedAws, isolated_aws_env, json_reply, no_botocore_sleep, use_session, xml_reply
from tests.catalog.test_refresh_aws import (
    REGIONS,
    capacity_rows,
    decode_price_list,
    envelope,
    expected_spot,
    m5_large_type,
    p3_16xl_item,
    spot_pages,
)
from tests.cli import run_cli
from tests.refresh_mock import (
    Server,
    json_response,
    one_offer_snapshot,
    snapshot_bytes,
    snapshot_text,
    use_server,
)

SECRET = "SENTINEL-secret-access-key-3f9a"
TOKEN = "SENTINEL-session-token-77c1"
JWT = "SENTINEL-oidc-jwt-51d0"
STS_ANSWER = f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:acme/infra:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/gpuplan-refresh/gpuplan</Arn>
      <AssumedRoleId>AROAEXAMPLE:gpuplan</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>{TOKEN}</SessionToken>
      <SecretAccessKey>{SECRET}</SecretAccessKey>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
      <AccessKeyId>ASIAWEBIDENTITY</AccessKeyId>
    </Credentials>
    <Provider>token.actions.githubusercontent.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"""


def stub_ec2(aws_rec: dict[str, Any]) -> StubbedAws:
    """The EC2 calls of a us-east-1 refresh (recorded instance types and spot history)."""
    types = aws_rec["types"]["InstanceTypes"]
    stubs = (StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS)
             .respond("ec2", "us-east-1", "describe_instance_types",
                      {"InstanceTypes": [types[0], m5_large_type(aws_rec["types"]), types[1]]}))
    for page in spot_pages(aws_rec["spot"]):
        stubs.respond("ec2", "us-east-1", "describe_spot_price_history", page)
    return stubs


def pricing_pages(aws_rec: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    """GetProducts pages by the NextToken asking for them."""
    storage = decode_price_list(aws_rec["envelope"])
    return {None: envelope(capacity_rows(aws_rec["m5"]), "tok-2"),
            "tok-2": envelope([*storage, p3_16xl_item(aws_rec["m5"])], None)}


class FakeAws:
    """Answers STS and the Price List on the wire; ``throttle`` first answers are 400 Throttling."""

    def __init__(self, aws_rec: dict[str, Any], throttle: int = 0, error: tuple[str, str] | None = None):
        self.pages = pricing_pages(aws_rec)
        self.throttle = throttle
        self.error = error

    def __call__(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        host = request.url.split("/")[2]
        if host.startswith("sts."):
            return xml_reply(STS_ANSWER)
        assert host == "api.pricing.us-east-1.amazonaws.com", request.url
        if self.error is not None:
            return json_reply({"__type": self.error[0], "message": self.error[1]}, 400)
        if self.throttle:
            self.throttle -= 1
            return json_reply({"__type": "ThrottlingException", "message": "Rate exceeded"}, 400)
        body = json.loads(request.body)
        return json_reply(self.pages[body.get("NextToken")])


@pytest.fixture
def advisor(aws_rec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Server:
    server = Server().on(lambda r: r.url.host == "spot-bid-advisor.s3.amazonaws.com",
                         json_response(aws_rec["advisor"]))
    use_server(monkeypatch, server)
    return server


def signed(wire_requests: list[Any], host: str) -> list[Any]:
    return [r for r in wire_requests if r.url.split("/")[2] == host]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET, TOKEN, JWT):
            assert secret not in text


def m5_large(price: str) -> Offer:
    return Offer("aws", "us-east-1", None, "m5.large", None, 0.0, None, 2.0, 8.0, Decimal(price), None,
                 "Standard")


def small_catalog(tmp_path: Path) -> Path:
    """A previous catalog that knows m5.large only: p3.16xlarge will be new to it."""
    return one_offer_snapshot(tmp_path / "previous", m5_large("0.1"), "test: m5.large only")


def test_profile_sign_in(aws_rec: dict[str, Any], advisor: Server, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    isolated_aws_env(monkeypatch, tmp_path, config="[profile pricing]\nregion = us-east-1\n",
                     credentials=f"[pricing]\naws_access_key_id = AKIAPROFILEKEY\n"
                                 f"aws_secret_access_key = {SECRET}\n")
    monkeypatch.setenv("AWS_PROFILE", "pricing")
    stubs = stub_ec2(aws_rec)
    stubs.install(monkeypatch)
    wires = use_session(monkeypatch, FakeAws(aws_rec))
    caplog.set_level(logging.INFO)
    out = tmp_path / "aws"
    result = run_cli("--catalog", str(small_catalog(tmp_path)), "catalog", "refresh", "aws",
                     "--regions", "us-east-1", "--out", str(out))
    assert result.code == 0, result.err
    stubs.all_used()
    [wire] = wires
    posts = signed(wire.requests, "api.pricing.us-east-1.amazonaws.com")
    assert len(posts) == 2
    assert all(p.headers["Authorization"].startswith(b"AWS4-HMAC-SHA256 Credential=AKIAPROFILEKEY/")
               for p in posts)
    assert_no_secret(result.out, result.err, caplog.text, snapshot_text(out))


def test_web_identity_sign_in(aws_rec: dict[str, Any], advisor: Server, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch,
                              caplog: pytest.LogCaptureFixture) -> None:
    """What GitHub OIDC gives: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, no keys at all."""
    isolated_aws_env(monkeypatch, tmp_path)
    (tmp_path / "oidc-token").write_text(JWT)
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/gpuplan-refresh")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "oidc-token"))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    stubs = stub_ec2(aws_rec)
    stubs.install(monkeypatch)
    wires = use_session(monkeypatch, FakeAws(aws_rec))
    caplog.set_level(logging.INFO)
    out = tmp_path / "aws"
    result = run_cli("catalog", "refresh", "aws", "--regions", "us-east-1", "--out", str(out))
    assert result.code == 0, result.err
    [wire] = wires
    [sts] = [r for r in wire.requests if r.url.split("/")[2].startswith("sts.")]
    body = sts.body.decode() if isinstance(sts.body, bytes) else str(sts.body)
    assert "Action=AssumeRoleWithWebIdentity" in body and JWT in body
    posts = signed(wire.requests, "api.pricing.us-east-1.amazonaws.com")
    assert posts and all(
        p.headers["Authorization"].startswith(b"AWS4-HMAC-SHA256 Credential=ASIAWEBIDENTITY/")
        and p.headers["X-Amz-Security-Token"] == TOKEN.encode() for p in posts)
    assert_no_secret(result.out, result.err, caplog.text, snapshot_text(out))


def test_new_type_appears_is_recorded_and_can_be_planned(
        aws_rec: dict[str, Any], advisor: Server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    stub_ec2(aws_rec).install(monkeypatch)
    use_session(monkeypatch, FakeAws(aws_rec))
    out = tmp_path / "aws"
    result = run_cli("--catalog", str(small_catalog(tmp_path)), "catalog", "refresh", "aws",
                     "--regions", "us-east-1", "--out", str(out))
    assert result.code == 0, result.err
    catalog = read_snapshot(out)
    [record] = catalog.meta.refresh
    assert (record.cloud, record.regions, record.types, record.new_types, record.gone_types) == \
        ("aws", 1, 2, 1, 0)
    assert "DescribeSpotPriceHistory" in (record.spot_source or "")
    assert record.compared_with.startswith("the current catalog")
    assert any(n == "aws: 1 new instance types: p3.16xlarge" for n in catalog.meta.notes)
    assert "aws: 2 instance types in 1 region(s), 1 new and 0 gone" in result.out
    m5 = next(o for o in catalog if o.instance_type == "m5.large")
    assert m5.spot_price == expected_spot(aws_rec["spot"])
    spec = tmp_path / "v100.yaml"
    spec.write_text(json.dumps({"teams": {"ml": {}}, "workloads": [
        {"name": "train", "team": "ml", "resources": {"accelerators": "V100:8"},
         "work": {"duration_hours": 4}}]}))
    planned = run_cli("--catalog", str(out), "plan", str(spec), "--format", "json")
    assert planned.code == 0, planned.err
    [placement] = json.loads(planned.out)["placements"]
    assert "p3.16xlarge" in json.dumps(placement)
    # A second refresh replaces this snapshot: nothing new or gone since it.
    stub_ec2(aws_rec).install(monkeypatch)
    again = run_cli("catalog", "refresh", "aws", "--regions", "us-east-1", "--out", str(out))
    assert again.code == 0, again.err
    assert read_snapshot(out).meta.refresh[0].new_types == 0
    assert f"0 new and 0 gone since {out}" in again.out


def test_throttling_is_retried_in_standard_mode(aws_rec: dict[str, Any], advisor: Server,
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    stub_ec2(aws_rec).install(monkeypatch)
    sleeps = no_botocore_sleep(monkeypatch)
    wires = use_session(monkeypatch, FakeAws(aws_rec, throttle=2))
    result = run_cli("catalog", "refresh", "aws", "--regions", "us-east-1",
                     "--out", str(tmp_path / "aws"))
    assert result.code == 0, result.err
    posts = signed(wires[0].requests, "api.pricing.us-east-1.amazonaws.com")
    assert len(posts) == 4 and len(sleeps) == 2  # 2 throttled + 2 pages


@pytest.fixture
def old_snapshot(tmp_path: Path) -> Path:
    return one_offer_snapshot(tmp_path / "aws", m5_large("0.5"))


@pytest.mark.parametrize(("error", "retries", "line"), [
    (("ExpiredTokenException", "The security token included in the request is expired"), "4",
     "error: aws: credentials expired (ExpiredTokenException: The security token included in the "
     "request is expired); sign in again"),
    (("ThrottlingException", "Rate exceeded"), "1",
     "error: aws: pricing:GetProducts in us-east-1 still throttled after the retries "
     "(ThrottlingException)"),
])
def test_failures_give_one_line_exit_4_and_keep_the_snapshot(
        error: tuple[str, str], retries: str, line: str, aws_rec: dict[str, Any],
        advisor: Server, old_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS).install(monkeypatch)
    no_botocore_sleep(monkeypatch)
    use_session(monkeypatch, FakeAws(aws_rec, error=error))
    before = snapshot_bytes(old_snapshot)
    result = run_cli("catalog", "refresh", "aws", "--regions", "us-east-1", "--retries", retries,
                     "--out", str(old_snapshot))
    assert result.code == 4
    assert len(result.err.splitlines()) == 1 and result.err.startswith(line), result.err
    assert result.out == ""
    assert snapshot_bytes(old_snapshot) == before
    assert_no_secret(result.err)


def test_unknown_region_gives_one_line_exit_4(aws_rec: dict[str, Any], advisor: Server,
                                              old_snapshot: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    StubbedAws().respond("ec2", "us-east-1", "describe_regions", REGIONS).install(monkeypatch)
    before = snapshot_bytes(old_snapshot)
    result = run_cli("catalog", "refresh", "aws", "--regions", "us-east-9", "--out", str(old_snapshot))
    assert result.code == 4
    assert result.err.startswith("error: aws: unknown region 'us-east-9'")
    assert len(result.err.splitlines()) == 1 and snapshot_bytes(old_snapshot) == before


def test_no_credentials_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch, tmp_path)
    server = Server()
    use_server(monkeypatch, server)
    result = run_cli("catalog", "refresh", "aws", "--out", str(tmp_path / "aws"))
    assert result.code == 4
    assert result.err.startswith("error: aws: no credentials found; sign in as with the AWS CLI")
    assert server.requests == [] and not (tmp_path / "aws").exists()


def test_unknown_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch, tmp_path)
    result = run_cli("catalog", "refresh", "aws", "--profile", "nope", "--out", str(tmp_path / "aws"))
    assert result.code == 4 and "aws: The config profile (nope) could not be found" in result.err
