"""The FOCUS export, checked against our own reading of the FOCUS 1.2 column list.

The official validator needs Python >= 3.12, so the rules it would check for
the columns we fill are written out here: presence, nulls, allowed values,
formats, unit price x quantity = cost, and sums that equal the plan's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from planner.plan import read_plan
from planner.report.focus import focus_csv, parse_period
from tests.cli import run_cli
from tests.golden import check_golden
from tests.report.plans import pool_plan

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/plan.json"))

# FOCUS 1.2 (specification/columns/*.md at tag v1.2): column -> (feature level, allows nulls).
FOCUS_1_2 = {
    "AvailabilityZone": ("Recommended", True), "BilledCost": ("Mandatory", False),
    "BillingAccountId": ("Mandatory", False), "BillingAccountName": ("Mandatory", True),
    "BillingAccountType": ("Conditional", False), "BillingCurrency": ("Mandatory", False),
    "BillingPeriodEnd": ("Mandatory", False), "BillingPeriodStart": ("Mandatory", False),
    "CapacityReservationId": ("Conditional", True),
    "CapacityReservationStatus": ("Conditional", True), "ChargeCategory": ("Mandatory", False),
    "ChargeClass": ("Mandatory", True), "ChargeDescription": ("Mandatory", True),
    "ChargeFrequency": ("Recommended", False), "ChargePeriodEnd": ("Mandatory", False),
    "ChargePeriodStart": ("Mandatory", False),
    "CommitmentDiscountCategory": ("Conditional", True),
    "CommitmentDiscountId": ("Conditional", True), "CommitmentDiscountName": ("Conditional", True),
    "CommitmentDiscountQuantity": ("Conditional", True),
    "CommitmentDiscountStatus": ("Conditional", True),
    "CommitmentDiscountType": ("Conditional", True), "CommitmentDiscountUnit": ("Conditional", True),
    "ConsumedQuantity": ("Conditional", True), "ConsumedUnit": ("Conditional", True),
    "ContractedCost": ("Mandatory", False), "ContractedUnitPrice": ("Conditional", True),
    "EffectiveCost": ("Mandatory", False), "InvoiceId": ("Recommended", True),
    "InvoiceIssuerName": ("Mandatory", False), "ListCost": ("Mandatory", False),
    "ListUnitPrice": ("Conditional", True), "PricingCategory": ("Conditional", True),
    "PricingCurrency": ("Conditional", True),
    "PricingCurrencyContractedUnitPrice": ("Conditional", True),
    "PricingCurrencyEffectiveCost": ("Conditional", True),
    "PricingCurrencyListUnitPrice": ("Conditional", True),
    "PricingQuantity": ("Mandatory", True), "PricingUnit": ("Mandatory", True),
    "ProviderName": ("Mandatory", False), "PublisherName": ("Mandatory", False),
    "RegionId": ("Conditional", True), "RegionName": ("Conditional", True),
    "ResourceId": ("Conditional", True), "ResourceName": ("Conditional", True),
    "ResourceType": ("Conditional", True), "ServiceCategory": ("Mandatory", False),
    "ServiceName": ("Mandatory", False), "ServiceSubcategory": ("Recommended", False),
    "SkuId": ("Conditional", True), "SkuMeter": ("Conditional", True),
    "SkuPriceDetails": ("Conditional", True), "SkuPriceId": ("Conditional", True),
    "SubAccountId": ("Conditional", True), "SubAccountName": ("Conditional", True),
    "SubAccountType": ("Conditional", True), "Tags": ("Conditional", True),
}
ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"", "Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"Standard", "Dynamic", "Committed", "Other"},
}
SUBCATEGORIES = {"Compute": {"Containers", "End User Computing", "Quantum Compute",
                             "Serverless Compute", "Virtual Machines", "Other (Compute)"},
                 "Networking": {"Application Networking", "Content Delivery",
                                "Network Connectivity", "Network Infrastructure",
                                "Network Routing", "Network Security", "Other (Networking)"}}
# Not null on a "Usage" row that is no correction (the Conditional columns' rules).
USAGE_NOT_NULL = ("PricingCategory", "PricingQuantity", "PricingUnit", "ListUnitPrice",
                  "ContractedUnitPrice", "SkuId", "ConsumedQuantity", "ConsumedUnit")
NUMERIC = ("BilledCost", "EffectiveCost", "ContractedCost", "ListCost", "ListUnitPrice",
           "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def rows_of(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def check_focus(header: list[str], rows: list[dict[str, str]]) -> None:
    ours = [c for c in header if not c.startswith("x_")]
    assert header[: len(ours)] == ours, "FOCUS columns come first, then the x_ columns"
    assert set(ours) <= set(FOCUS_1_2), set(ours) - set(FOCUS_1_2)
    assert {c for c, (level, _) in FOCUS_1_2.items() if level == "Mandatory"} <= set(ours)
    for row in rows:
        for column in ours:
            value = row[column]
            if not FOCUS_1_2[column][1]:
                assert value != "", f"{column} may not be null"
            if column in ALLOWED:
                assert value in ALLOWED[column], (column, value)
            if column in NUMERIC and value:
                assert NUMBER.fullmatch(value), (column, value)
            if column.endswith(("PeriodStart", "PeriodEnd")):
                assert DATETIME.fullmatch(value), (column, value)
        assert row["ServiceSubcategory"] in SUBCATEGORIES[row["ServiceCategory"]]
        assert row["BillingCurrency"] == "USD"
        if row["ChargeCategory"] == "Usage" and not row["ChargeClass"]:
            assert all(row[c] for c in USAGE_NOT_NULL), row
        assert bool(row["PricingUnit"]) == bool(row["PricingQuantity"])
        quantity = Decimal(row["PricingQuantity"])
        for cost, price in (("ListCost", "ListUnitPrice"), ("ContractedCost", "ContractedUnitPrice")):
            assert abs(Decimal(row[price]) * quantity - Decimal(row[cost])) <= Decimal("1E-6")
        assert Decimal(row["ListUnitPrice"]) >= 0 and Decimal(row["ContractedUnitPrice"]) >= 0
        tags = json.loads(row["Tags"])
        assert isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())
        assert row["x_Forecast"] == "true" and row["ChargeDescription"].startswith("Forecast:")


@pytest.mark.parametrize("name", NAMES)
def test_every_example_exports_valid_focus(name: str) -> None:
    path = EXAMPLES / name / "plan.json"
    result = run_cli("report", str(path), "--format", "focus", "--period", "2027-01..2027-02")
    assert result.code == 0, result.err
    header, rows = rows_of(result.out)
    check_focus(header, rows)
    plan = read_plan(path)
    pid = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    for start in ("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"):
        month = [r for r in rows if r["ChargePeriodStart"] == start]
        assert sum(Decimal(r["EffectiveCost"]) for r in month) == plan.totals.monthly
        # every placement has its rows; a pool with idle has one more, with no workload
        idle = {p.id for p in plan.pools if p.idle.monthly > 0}
        assert {r["x_Workload"] for r in month} == {p.workload for p in plan.placements} | (
            {""} if idle else set())
        assert {r["x_Pool"] for r in month if not r["x_Workload"]} == idle
        assert {r["x_PlanId"] for r in month} == {pid}
    teams = {p.workload: (p.team, p.pool) for p in plan.placements}
    assert all((r["x_Team"], r["x_Pool"]) == teams[r["x_Workload"]] for r in rows
               if r["x_Workload"])


def test_focus_export_is_golden(update_golden: bool) -> None:
    result = run_cli("report", str(EXAMPLES / "multi-team" / "plan.json"), "--format", "focus",
                     "--period", "2027-01")
    assert result.code == 0, result.err
    check_golden("report/multi-team.focus.csv", result.out, update_golden)


def test_half_a_node_for_ten_hours_is_five_node_hours() -> None:
    plan = pool_plan(8, 1, [("a", "ml", 4)], runtime_hours=10, capacity="spot")
    [row] = [r for r in rows_of(focus_csv(plan, parse_period("2027-01")))[1] if r["x_Workload"]]
    # $8/h nodes, half of one for 10 h: 5 node-hours, $40, $8 per node-hour
    assert (row["PricingQuantity"], row["PricingUnit"]) == ("5", "Hours")
    assert (row["EffectiveCost"], row["ContractedUnitPrice"]) == ("40", "8")
    assert row["PricingCategory"] == "Dynamic" and row["x_Team"] == "ml"


def test_idle_capacity_beyond_the_placements_is_its_own_row() -> None:
    # half of one $8/h node for 20 h: the node is up 20 h ($160), the job's share is $80
    plan = pool_plan(8, 1, [("a", "ml", 4)], runtime_hours=20)
    header, rows = rows_of(focus_csv(plan, parse_period("2027-03")))
    check_focus(header, rows)
    [idle] = [r for r in rows if not r["x_Workload"]]
    assert idle["EffectiveCost"] == "80" and idle["PricingQuantity"] == "10"  # $80 at $8/h
    assert sum(Decimal(r["EffectiveCost"]) for r in rows) == Decimal(160)


def test_egress_is_a_networking_row_in_gb() -> None:
    plan = read_plan(EXAMPLES / "multi-team" / "plan.json")
    _, rows = rows_of(focus_csv(plan, parse_period("2027-01")))
    [moved] = [r for r in rows if r["ServiceCategory"] == "Networking"]
    sft = plan.placement("llm-sft")
    assert sft is not None and moved["x_Workload"] == "llm-sft"
    assert (moved["PricingQuantity"], moved["PricingUnit"]) == ("2000", "GB")
    assert Decimal(moved["EffectiveCost"]) == sft.cost.egress


@pytest.mark.parametrize(("text", "months"), [
    ("2027-01", 1), ("2026-11..2027-02", 4), ("2027-12..2027-12", 1)])
def test_periods(text: str, months: int) -> None:
    found = parse_period(text)
    assert len(found) == months
    assert found[0].end == (found[1].start if months > 1 else found[0].end)
    assert found[-1].start < found[-1].end


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "focus"], "--period"),
    (["--format", "focus", "--period", "2027-13"], "no such month"),
    (["--format", "focus", "--period", "2027-03..2027-01"], "forward"),
    (["--format", "focus", "--period", "January"], "YYYY-MM"),
    (["--period", "2027-01"], "--format focus"),
    (["--format", "focus", "--period", "2027-01", "--base", "{plan}"], "one plan"),
])
def test_bad_focus_input_is_one_line_exit_2_and_nothing_written(
        tmp_path: Path, args: list[str], message: str) -> None:
    plan = EXAMPLES / "quickstart" / "plan.json"
    out = tmp_path / "plan.csv"
    argv = [a.format(plan=plan) for a in args]
    result = run_cli("report", str(plan), *argv, "--out", str(out))
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert not out.exists()
