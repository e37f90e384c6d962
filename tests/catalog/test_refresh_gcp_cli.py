"""``planner catalog refresh gcp`` end to end, offline: ADC, API key, ``--project``, failures.

google-auth runs for real with fake credential files; its token requests go
through the same httpx mock transport as the price calls (``HttpxTransport``),
answered with token responses in the documented OAuth 2.0 / STS format. The
Compute API answers are hand-made (``tests/fixtures/refresh``, see its README);
the Billing Catalog page is the recorded one, plus SKUs cloned from it as the
fixture README says (description and price changed, named in each clone).
Sentinel values stand in for every secret and may appear nowhere visible.
"""

from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.catalog.model import Offer
from planner.catalog.snapshot import read_snapshot
from tests.cli import run_cli
from tests.refresh_mock import (
    Server,
    json_response,
    load,
    one_offer_snapshot,
    snapshot_bytes,
    snapshot_text,
    use_server,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refresh"
REFRESH_TOKEN = "SENTINEL-refresh-token-0b1e"
CLIENT_SECRET = "SENTINEL-client-secret-c3d4"
ACCESS_TOKEN = "ya29.SENTINEL-access-token-9a8b"
SUBJECT_TOKEN = "SENTINEL-github-oidc-jwt-e5f6"
API_KEY = "SENTINEL-api-key-1a2b"
SECRETS = (REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN, SUBJECT_TOKEN, API_KEY)
TOKEN_URL = "https://oauth2.googleapis.com/token"
OLD = Offer("gcp", "us-central1", "us-central1-a", "n2-standard-4", None, 0.0, None, 4.0, 16.0,
            Decimal("0.2"), None, "CPUS")
STS_URL = "https://sts.googleapis.com/v1/token"


@pytest.fixture(scope="module")
def skus(shared: Path) -> dict[str, Any]:
    return load(shared, "gcp", "cloudbilling_skus_compute_6F81-5844-456A_opencost.json")


def g4_skus(page: dict[str, Any]) -> dict[str, Any]:
    """Clones of the recorded A2 core, A2 RAM and A100 SKUs, renamed to a series and GPU model
    the recording lacks (G4, RTX PRO 6000), with their own prices."""
    by_id = {s["skuId"]: s for s in page["skus"]}
    out = []
    for sku_id, description, nanos in (
            ("2922-40C5-B19F", "G4 Instance Core running in Americas", 40000000),
            ("2390-DCAF-DA38", "G4 Instance Ram running in Americas", 5000000),
            ("039F-D0DA-4055", "Nvidia RTX PRO 6000 GPU running in Americas", 900000000)):
        clone = copy.deepcopy(by_id[sku_id])
        clone["skuId"] = f"{sku_id}-G4"
        clone["description"] = description
        rate = clone["pricingInfo"][0]["pricingExpression"]["tieredRates"][0]["unitPrice"]
        rate.update(units="0" if nanos < 10**9 else str(nanos // 10**9), nanos=nanos % 10**9)
        out.append(clone)
    return {"skus": out, "nextPageToken": ""}


def isolated_gcp_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT",
                 "CLOUDSDK_CORE_PROJECT", "GCLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no gcloud login here


def adc_user_file(tmp_path: Path) -> Path:
    """What ``gcloud auth application-default login`` writes."""
    path = tmp_path / "adc.json"
    path.write_text(json.dumps({"type": "authorized_user", "client_id": "1234.apps.example",
                                "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}))
    return path


def adc_github_file(tmp_path: Path) -> Path:
    """What google-github-actions/auth writes for workload identity federation."""
    (tmp_path / "oidc").write_text(SUBJECT_TOKEN)
    path = tmp_path / "wif.json"
    path.write_text(json.dumps({
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/123456/locations/global/"
                    "workloadIdentityPools/github/providers/github",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": STS_URL, "credential_source": {"file": str(tmp_path / "oidc")}}))
    return path


def is_host(host: str) -> Any:
    return lambda r: r.url.host == host


def gcp_server(skus: dict[str, Any], token: httpx.Response | None = None,
               compute: httpx.Response | None = None) -> Server:
    """Token endpoints, the metadata server (absent), the Billing Catalog and the Compute API."""
    token = token or json_response({"access_token": ACCESS_TOKEN, "expires_in": 3599,
                                    "token_type": "Bearer"})
    sts = json_response({"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer",
                         "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})
    server = (Server()
              .on(lambda r: str(r.url) == TOKEN_URL, token)
              .on(lambda r: str(r.url) == STS_URL, sts)
              .on(lambda r: r.url.host in ("169.254.169.254", "metadata.google.internal"),
                  httpx.Response(404))
              .on(is_host("cloudresourcemanager.googleapis.com"),  # the project id lookup of WIF
                  json_response({"error": {"code": 403, "status": "PERMISSION_DENIED",
                                           "message": "The caller does not have permission"}}, 403))
              .on(lambda r: r.url.params.get("pageToken") == skus["nextPageToken"],
                  json_response(g4_skus(skus)))
              .on(is_host("cloudbilling.googleapis.com"), json_response(skus)))
    if compute is not None:
        server.on(is_host("compute.googleapis.com"), compute)
    else:
        machine = json.loads((FIXTURES / "gcp_machine_types_aggregated.json").read_text())
        accel = json.loads((FIXTURES / "gcp_accelerator_types_aggregated.json").read_text())
        server.on(lambda r: r.url.path.endswith("/machineTypes"), json_response(machine))
        server.on(lambda r: r.url.path.endswith("/acceleratorTypes"), json_response(accel))
    return server


def visible(result: Any, caplog: pytest.LogCaptureFixture, out: Path | None) -> str:
    return result.out + result.err + caplog.text + (snapshot_text(out) if out is not None else "")


def billing(server: Server) -> list[httpx.Request]:
    return [r for r in server.requests if r.url.host == "cloudbilling.googleapis.com"]


@pytest.mark.parametrize("adc", [adc_user_file, adc_github_file])
def test_adc_file_sign_in(adc: Any, skus: dict[str, Any], tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc(tmp_path)))
    server = gcp_server(skus)
    use_server(monkeypatch, server)
    caplog.set_level(logging.INFO)
    out = tmp_path / "gcp"
    result = run_cli("catalog", "refresh", "gcp", "--regions", "us-central1", "--out", str(out))
    assert result.code == 0, result.err
    [token] = [r for r in server.requests if str(r.url) in (TOKEN_URL, STS_URL)]
    assert (REFRESH_TOKEN if adc is adc_user_file else SUBJECT_TOKEN) in token.content.decode()
    assert len(billing(server)) == 2 and all(
        r.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" and "x-goog-api-key" not in r.headers
        for r in billing(server))
    a2 = [o for o in read_snapshot(out) if o.instance_type == "a2-highgpu-1g"]
    assert {o.price for o in a2} == {o.price for o in a2[:1]} and len(a2) == 4
    assert all(s not in visible(result, caplog, out) for s in SECRETS)


def test_api_key_sign_in_needs_no_adc(skus: dict[str, Any], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_API_KEY", API_KEY)
    server = gcp_server(skus)
    use_server(monkeypatch, server)
    caplog.set_level(logging.INFO)
    out = tmp_path / "gcp"
    result = run_cli("catalog", "refresh", "gcp", "--regions", "us-central1", "--out", str(out))
    assert result.code == 0, result.err
    assert [r.url.host for r in server.requests] == ["cloudbilling.googleapis.com"] * 2
    assert all(r.headers["x-goog-api-key"] == API_KEY and "authorization" not in r.headers
               for r in server.requests)
    assert all(s not in visible(result, caplog, out) for s in SECRETS)


def test_expired_adc_is_one_line_exit_4_and_keeps_the_snapshot(
        skus: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_user_file(tmp_path)))
    expired = json_response({"error": "invalid_grant",
                             "error_description": "Token has been expired or revoked."}, 400)
    use_server(monkeypatch, gcp_server(skus, token=expired))
    out = one_offer_snapshot(tmp_path / "gcp", OLD)
    before = snapshot_bytes(out)
    caplog.set_level(logging.INFO)
    result = run_cli("catalog", "refresh", "gcp", "--out", str(out))
    assert result.code == 4
    assert result.err.splitlines() == [
        "error: gcp: credentials rejected or expired (invalid_grant: Token has been expired or "
        "revoked.); sign in with `gcloud auth application-default login` or "
        "google-github-actions/auth, or set GOOGLE_API_KEY (Billing Catalog only)"]
    assert snapshot_bytes(out) == before
    assert all(s not in visible(result, caplog, None) for s in SECRETS)


def test_no_credentials_at_all(skus: dict[str, Any], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    server = gcp_server(skus)
    use_server(monkeypatch, server)
    result = run_cli("catalog", "refresh", "gcp", "--out", str(tmp_path / "gcp"))
    assert result.code == 4 and len(result.err.splitlines()) == 1
    assert result.err.startswith("error: gcp: no Application Default Credentials (")
    assert "GOOGLE_API_KEY" in result.err and not billing(server)


def test_project_brings_new_machine_types_that_can_be_planned(
        skus: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_user_file(tmp_path)))
    server = gcp_server(skus)
    use_server(monkeypatch, server)
    out = tmp_path / "gcp"
    result = run_cli("catalog", "refresh", "gcp", "--project", "acme-ml", "--regions", "us-central1",
                     "--out", str(out))
    assert result.code == 0, result.err
    compute = [r for r in server.requests if r.url.host == "compute.googleapis.com"]
    assert [r.url.path for r in compute] == [
        "/compute/v1/projects/acme-ml/aggregated/machineTypes",
        "/compute/v1/projects/acme-ml/aggregated/acceleratorTypes"]
    assert all(r.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for r in compute)
    catalog = read_snapshot(out)
    offers = {(o.zone, o.instance_type): o for o in catalog}
    # a2-highgpu-1g in the two us-central1 zones the project sees (not europe-west4: not asked);
    # the deprecated a2-highgpu-2g and shared-core e2-micro are left out.
    assert sorted(offers) == [("us-central1-a", "a2-highgpu-1g"), ("us-central1-a", "g4-standard-48"),
                              ("us-central1-b", "a2-highgpu-1g")]
    g4 = offers[("us-central1-a", "g4-standard-48")]
    # 48 x 0.04 + 180 x 0.005 + 1 x 0.9 (the cloned G4 / RTX PRO 6000 SKUs)
    assert (g4.accelerator, g4.accelerator_count, g4.price) == ("RTX-PRO-6000", 1.0,
                                                                 Decimal("3.72"))
    [record] = catalog.meta.refresh
    assert record.new_types == 1 and "project acme-ml" in record.shapes_source
    assert any("new instance types: g4-standard-48" in n for n in catalog.meta.notes)
    spec = tmp_path / "g4.yaml"
    spec.write_text(json.dumps({"teams": {"ml": {}}, "workloads": [
        {"name": "render", "team": "ml", "resources": {"accelerators": "RTX-PRO-6000:1"},
         "work": {"duration_hours": 2}}]}))
    planned = run_cli("--catalog", str(out), "plan", str(spec), "--format", "json")
    assert planned.code == 0, planned.err
    assert "g4-standard-48" in json.dumps(json.loads(planned.out)["placements"])


def test_project_without_access(skus: dict[str, Any], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_user_file(tmp_path)))
    denied = json_response({"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                            "Required 'compute.machineTypes.list' permission for 'projects/nope'"}}, 403)
    use_server(monkeypatch, gcp_server(skus, compute=denied))
    out = one_offer_snapshot(tmp_path / "gcp", OLD)
    before = snapshot_bytes(out)
    result = run_cli("catalog", "refresh", "gcp", "--project", "nope", "--out", str(out))
    assert result.code == 4 and snapshot_bytes(out) == before
    assert result.err.splitlines() == [
        "error: gcp: no access to project 'nope' through the Compute API (HTTP 403: Required "
        "'compute.machineTypes.list' permission for 'projects/nope'); the identity needs "
        "compute.machineTypes.list (roles/compute.viewer)"]


@pytest.mark.parametrize(("region", "args", "cause"), [
    ("us-central9", (), "no Compute Engine SKU of the Cloud Billing Catalog is offered there"),
    # us-east1 has A2 SKUs, but the project sees no zone there
    ("us-east1", ("--project", "acme-ml"), "the Compute API lists no zone there for project 'acme-ml'"),
])
def test_unknown_region(region: str, args: tuple[str, ...], cause: str, skus: dict[str, Any],
                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_gcp_env(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_user_file(tmp_path)))
    use_server(monkeypatch, gcp_server(skus))
    out = one_offer_snapshot(tmp_path / "gcp", OLD)
    before = snapshot_bytes(out)
    result = run_cli("catalog", "refresh", "gcp", "--regions", region, *args, "--out", str(out))
    assert result.code == 4 and len(result.err.splitlines()) == 1 and snapshot_bytes(out) == before
    assert result.err.startswith(f"error: gcp: unknown region '{region}' (") and cause in result.err
