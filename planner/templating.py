"""Jinja2 environment over the shipped templates (package ``gpuplan_templates``).

Filters: ``usd`` ($1,234.56), ``usd4`` ($0.1234), ``signed`` (+$12.00 / -$3.00),
``pct`` (+8.1%), ``ratio`` (a 0..1 utilization as 50.0%; ``-`` for none), ``gpuh``
(GPU-hours, 1,234.5). Rendering is deterministic: no dates, sorted inputs.
HTML templates (``*.html.j2``) are autoescaped: names in a plan are user text.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from typing import Any


def _usd(value: Decimal | float | None, places: int = 2) -> str:
    if value is None:
        return "-"
    d = Decimal(str(value))
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,.{places}f}"


def _signed(value: Decimal | float, places: int = 2) -> str:
    d = Decimal(str(value))
    return ("+" if d > 0 else "") + _usd(d, places) if d != 0 else _usd(Decimal(0), places)


def _pct(value: Decimal | float | None) -> str:
    if value is None:
        return "n/a"
    d = Decimal(str(value))
    return f"{'+' if d > 0 else ''}{d:.1f}%"


def _ratio(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{Decimal(value) * 100:.1f}%"


def _gpuh(value: Decimal) -> str:
    return f"{Decimal(value):,.1f}"


def _is_html(name: str | None) -> bool:
    return bool(name and name.endswith(".html.j2"))


def environment() -> Any:
    import jinja2

    root = resources.files("gpuplan_templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=_is_html,
    )
    env.filters["usd"] = _usd
    env.filters["usd4"] = lambda v: _usd(v, 4)
    env.filters["signed"] = _signed
    env.filters["pct"] = _pct
    env.filters["ratio"] = _ratio
    env.filters["gpuh"] = _gpuh
    return env


def render(template: str, **context: Any) -> str:
    return str(environment().get_template(template).render(**context))
