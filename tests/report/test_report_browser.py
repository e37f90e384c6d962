"""The report in a real browser: Debian's headless Chromium, no browser download.

For every example page and a diff page: a 1280x800 screenshot that is not blank
(and shows the bars' colours), the number of bars in each chart as the plan
predicts it, no request other than ``file:`` and ``data:``, no page error, and
a PDF printout. A control page with a script error and a remote image proves
the checks can fail. Skipped without ``/usr/bin/chromium`` unless
``GPUPLAN_REQUIRE_BROWSER=1`` (``.ci/run`` installs it and sets that).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Browser, chromium_available, png_pixels
from tests.cli import run_cli

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples"
DIFF = REPO / "tests" / "fixtures" / "diff" / "multi-team"
BARS = ("JSON.stringify(Object.fromEntries([...document.querySelectorAll('figure[data-chart]')]"
        ".map(f => [f.dataset.chart, f.querySelectorAll('svg g.bar').length])))")
OKABE_ITO = {(0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0x00, 0x9E, 0x73), (0x56, 0xB4, 0xE9),
             (0xD5, 0x5E, 0x00), (0xCC, 0x79, 0xA7), (0xF5, 0xC7, 0x10)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not chromium_available():
        message = "no /usr/bin/chromium (apt-get install chromium)"
        if os.environ.get("GPUPLAN_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    b = Browser()
    yield b
    b.close()


def expected_bars(plan: dict[str, Any], diff: dict[str, Any] | None) -> dict[str, int]:
    """Bars per chart, from plan.json itself: groups up to 10 (9 and "others"), every team
    with a budget, pools up to 12 (and those with paid GPU-hours up to 12), every binding
    constraint, every team whose cost changes."""
    totals = plan["totals"]
    bars = {"team": min(10, len(totals["by_team"])), "cloud": min(10, len(totals["by_cloud"])),
            "region": min(10, len(totals["by_region"])),
            "budget": sum(1 for t in plan["teams"] if t["budget"] is not None),
            "pools": min(12, len(plan["pools"])), "binding": len(plan["binding"]),
            "utilization": min(12, sum(1 for p in plan["pools"]
                                       if p["paid_gpu_hours"] != "0.0000"))}
    if diff is not None:
        bars["diff"] = min(10, sum(1 for t in diff["by_team"] if t["delta_monthly"] != "0.0000"))
    return bars


def check_page(browser: Browser, html: Path, expected: dict[str, int]) -> None:
    visit = browser.visit(html.as_uri(), BARS)
    assert json.loads(visit.query) == expected
    assert [u for u in visit.requests if not u.startswith(("file:", "data:"))] == []
    assert visit.requests[0] == html.as_uri()
    assert visit.errors == []
    width, height, colours = png_pixels(visit.screenshot)
    assert (width, height) == (1280, 800)
    not_white = sum(n for c, n in colours.items() if c != (255, 255, 255))
    assert not_white > 0.02 * width * height, "the screenshot is (almost) blank"
    assert sum(n for c, n in colours.items() if c in OKABE_ITO) > 500, "no bar colours on screen"
    assert visit.pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", visit.pdf)) >= 2


@pytest.mark.parametrize("name", sorted(p.parent.name for p in EXAMPLES.glob("*/plan.json")))
def test_example_report_in_chromium(browser: Browser, tmp_path: Path, name: str) -> None:
    plan = EXAMPLES / name / "plan.json"
    out = tmp_path / "report.html"
    assert run_cli("report", str(plan), "--out", str(out)).code == 0
    check_page(browser, out, expected_bars(json.loads(plan.read_text()), None))


def test_diff_report_in_chromium(browser: Browser, tmp_path: Path) -> None:
    base, new = tmp_path / "base.json", tmp_path / "new.json"
    for spec, path in ((DIFF / "base.yaml", base), (DIFF / "quota-lowered.yaml", new)):
        assert run_cli("plan", str(spec), "--out", str(path), "--format", "json").code == 0
    diff = run_cli("diff", str(base), str(new), "--format", "json", "--allow-over-budget")
    out = tmp_path / "report.html"
    assert run_cli("report", str(new), "--base", str(base), "--out", str(out)).code == 0
    check_page(browser, out, expected_bars(json.loads(new.read_text()), json.loads(diff.out)))


def test_the_checks_catch_a_remote_request_and_a_page_error(browser: Browser,
                                                             tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                    '<script>throw new Error("boom")</script></body></html>')
    visit = browser.visit(page.as_uri(), "1 + 1")
    assert visit.query == 2
    assert "http://127.0.0.1:9/x.png" in visit.requests
    assert any("boom" in e for e in visit.errors)
    width, height, colours = png_pixels(visit.screenshot)
    # only a broken-image icon: the blank and colour checks above would fail here
    assert sum(n for c, n in colours.items() if c != (255, 255, 255)) < 0.02 * width * height
    assert sum(n for c, n in colours.items() if c in OKABE_ITO) == 0
