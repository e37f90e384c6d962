"""``planner catalog refresh azure --subscription``: DefaultAzureCredential and Resource SKUs, offline.

The credential is azure-identity's real ``DefaultAzureCredential``. Its chain is
narrowed with its own documented switch ``AZURE_TOKEN_CREDENTIALS=AzureCliCredential``
(so the managed-identity probe never reaches for the network), and the Azure
CLI it calls is a fake ``az`` on PATH printing the documented
``az account get-access-token`` JSON; that is the sign-in ``azure/login`` leaves
in GitHub Actions. The Resource SKUs page is hand-made (tests/fixtures/refresh,
see its README); the Retail Prices pages are the recorded ones, plus one item
copied from them with its size and price changed (named where it is made).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.catalog.model import Offer
from planner.catalog.refresh_azure_skus import parse_skus
from planner.catalog.refresh_common import Shape
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
TOKEN = "SENTINEL-arm-access-token-4e5f"
SUB = "00000000-1111-2222-3333-444444444444"
OLD = Offer("azure", "eastus", None, "Standard_D2s_v5", None, 0.0, None, 2.0, 8.0, Decimal("0.5"), None,
            "standardDSv5Family")


@pytest.fixture(scope="module")
def retail(shared: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    page1 = load(shared, "azure", "retail_prices_page1_spotinfo.json")
    page2 = copy.deepcopy(load(shared, "azure", "retail_prices_page2_spotinfo.json"))
    d2s = next(i for i in page1["Items"] if i.get("armSkuName") == "Standard_D2s_v5"
               and i["skuName"] == "D2s v5")
    h200 = dict(d2s, armSkuName="Standard_ND96isr_H200_v5", skuName="ND96isr H200 v5",
                meterName="ND96isr H200 v5", retailPrice=110.24,
                productName="Virtual Machines NDisrH200v5 Series")  # edited copy of the D2s v5 item
    page2["Items"].append(h200)
    return page1, page2


def sku_page() -> dict[str, Any]:
    return json.loads((FIXTURES / "azure_resource_skus_eastus.json").read_text())


def fake_az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdout: str = "", stderr: str = "",
            code: int = 0) -> Path:
    """An ``az`` that answers ``az account get-access-token`` like the real one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "out.txt").write_text(stdout)
    (bin_dir / "err.txt").write_text(stderr)
    script = bin_dir / "az"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> '{bin_dir}/calls.txt'\n"
                      f"cat '{bin_dir}/out.txt'\ncat '{bin_dir}/err.txt' >&2\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                 "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
    return bin_dir


def signed_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fake_az(tmp_path, monkeypatch, stdout=json.dumps({
        "accessToken": TOKEN, "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": 4070908800,
        "subscription": SUB, "tenant": "55555555-6666-7777-8888-999999999999", "tokenType": "Bearer"}))


def azure_server(retail: tuple[dict[str, Any], dict[str, Any]],
                 skus: httpx.Response | None = None) -> Server:
    page1, page2 = retail
    first, rest = sku_page(), sku_page()
    first["value"], rest["value"] = first["value"][:3], rest["value"][3:]
    first["nextLink"] = (f"https://management.azure.com/subscriptions/{SUB}/providers/"
                         "Microsoft.Compute/skus?api-version=2021-07-01&$skiptoken=p2")
    arm = [skus] if skus is not None else [json_response(first), json_response(rest)]
    return (Server()
            .on(lambda r: r.url.host == "management.azure.com" and "$skiptoken" in r.url.params,
                arm[-1])
            .on(lambda r: r.url.host == "management.azure.com", arm[0])
            .on(lambda r: r.url.params.get("$skip") == "100", json_response(page2))
            .on(lambda r: r.url.host == "prices.azure.com", json_response(page1)))


def visible(result: Any, caplog: pytest.LogCaptureFixture, out: Path) -> str:
    return result.out + result.err + caplog.text + snapshot_text(out)


def test_default_credential_and_resource_skus(retail: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    bin_dir = signed_in(tmp_path, monkeypatch)
    server = azure_server(retail)
    use_server(monkeypatch, server)
    caplog.set_level(logging.INFO)
    out = tmp_path / "azure"
    result = run_cli("catalog", "refresh", "azure", "--subscription", SUB, "--regions", "eastus",
                     "--out", str(out))
    assert result.code == 0, result.err
    assert "get-access-token" in (bin_dir / "calls.txt").read_text()
    arm = [r for r in server.requests if r.url.host == "management.azure.com"]
    assert len(arm) == 2 and arm[0].url.params["$filter"] == "location eq 'eastus'"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in arm)
    assert all("authorization" not in r.headers for r in server.requests if r.url.host == "prices.azure.com")
    catalog = read_snapshot(out)
    offers = {o.instance_type: o for o in catalog}
    # D8s v5 is restricted for the subscription in eastus; D4s v5 only in one of its zones.
    assert sorted(offers) == ["Standard_D2s_v5", "Standard_D4s_v5", "Standard_ND96isr_H200_v5"]
    h200 = offers["Standard_ND96isr_H200_v5"]  # new: named from the size, shaped by the SKU
    assert (h200.accelerator, h200.accelerator_count, h200.vcpus, h200.memory_gib, h200.price) == \
        ("H200", 8.0, 96.0, 1850.0, Decimal("110.24"))
    assert any("VM sizes restricted for the subscription: Standard_D8s_v5" in n
               for n in catalog.meta.notes)
    [record] = catalog.meta.refresh
    assert record.shapes_source.startswith("Resource SKUs")
    assert "1 new" in result.out and TOKEN not in visible(result, caplog, out)


def test_expired_sign_in_is_one_line_exit_4_and_keeps_the_snapshot(
        retail: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    fake_az(tmp_path, monkeypatch, code=1, stderr=(
        "ERROR: AADSTS700082: The refresh token has expired due to inactivity. "
        "Run 'az login' to setup account.\n"))
    use_server(monkeypatch, azure_server(retail))
    out = one_offer_snapshot(tmp_path / "azure", OLD)
    before = snapshot_bytes(out)
    result = run_cli("catalog", "refresh", "azure", "--subscription", SUB, "--out", str(out))
    assert result.code == 4 and len(result.err.splitlines()) == 1
    assert result.err.startswith("error: azure: no usable sign-in (") and "AADSTS700082" in result.err
    assert snapshot_bytes(out) == before


def test_subscription_without_access(retail: Any, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    signed_in(tmp_path, monkeypatch)
    denied = json_response({"error": {"code": "AuthorizationFailed", "message": (
        "The client 'x' does not have authorization to perform action "
        "'Microsoft.Compute/skus/read' over scope '/subscriptions/nope'.")}}, 403)
    use_server(monkeypatch, azure_server(retail, skus=denied))
    out = one_offer_snapshot(tmp_path / "azure", OLD)
    before = snapshot_bytes(out)
    result = run_cli("catalog", "refresh", "azure", "--subscription", "nope", "--out", str(out))
    assert result.code == 4 and len(result.err.splitlines()) == 1 and snapshot_bytes(out) == before
    assert result.err.startswith("error: azure: no access to subscription 'nope' (HTTP 403: The client")


def test_unknown_region(retail: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signed_in(tmp_path, monkeypatch)
    use_server(monkeypatch, azure_server(retail))
    out = one_offer_snapshot(tmp_path / "azure", OLD)
    before = snapshot_bytes(out)
    result = run_cli("catalog", "refresh", "azure", "--subscription", SUB, "--regions", "eastus9",
                     "--out", str(out))
    assert result.code == 4 and len(result.err.splitlines()) == 1 and snapshot_bytes(out) == before
    assert result.err.startswith("error: azure: unknown region 'eastus9' (Resource SKUs list no VM")


def test_missing_extra_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    for name in ("azure.identity", "boto3", "google.auth"):
        monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    server = Server()
    use_server(monkeypatch, server)
    for args, line in (
            (("azure", "--subscription", SUB), "error: azure: --subscription needs azure-identity: "
                                               "pip install 'gpuplan[refresh]'"),
            (("aws",), "error: aws: refreshing AWS prices needs boto3: pip install 'gpuplan[refresh]'"),
            (("gcp",), "error: gcp: Application Default Credentials need google-auth: "
                       "pip install 'gpuplan[refresh]' (or set GOOGLE_API_KEY for the Billing "
                       "Catalog alone)")):
        result = run_cli("catalog", "refresh", *args, "--out", str(tmp_path / "x"))
        assert (result.code, result.err.splitlines()) == (4, [line])
    assert server.requests == [] and not (tmp_path / "x").exists()


def test_family_siblings_name_a_new_gpu_size() -> None:
    page = sku_page()["value"]
    a100 = next(i for i in page if i["name"] == "Standard_NC24ads_A100_v4")
    bigger = copy.deepcopy(a100)  # edited copy: a size of the same family the catalog lacks
    bigger["name"] = "Standard_NC48ads_A100_v4"
    bigger["capabilities"] = [c if c["name"] != "GPUs" else dict(c, value="2")
                              for c in bigger["capabilities"]]
    known = {"Standard_NC24ads_A100_v4": Shape(24, 220, "A100-80GB", 1, 80.0)}
    skus = parse_skus([a100, bigger], {"eastus"}, known, {"A100-80GB": 80.0})
    shape = skus.shapes["Standard_NC48ads_A100_v4"]
    assert (shape.accelerator, shape.accelerator_count, shape.accelerator_memory_gib) == \
        ("A100-80GB", 2.0, 80.0)
    mystery = copy.deepcopy(a100)
    mystery["name"], mystery["family"] = "Standard_NX8_v9", "standardNXv9Family"
    assert "Standard_NX8_v9" in parse_skus([mystery], None, {}, {"A100": 40.0}).unnamed
