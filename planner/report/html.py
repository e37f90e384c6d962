"""The report as one HTML page, from ``templates/report.html.j2`` (autoescaped).

Self-contained: CSS and SVG inline, no script, no external URL (a
Content-Security-Policy meta tag forbids loading anything), and byte-stable:
the same plan gives the same bytes (no dates, fixed number formats).
"""

from __future__ import annotations

from planner.report.view import Report
from planner.templating import render


def render_html(report: Report) -> str:
    return render("report.html.j2", r=report)
