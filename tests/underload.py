"""Planning the same set in two processes at once while a third keeps a core busy: the
check that a plan stops on work, not time (same bytes on a loaded machine)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

_SCRIPT = (
    "import sys, yaml\n"
    "from planner.catalog.load import load_catalog\n"
    "from planner.optimize import decompose\n"
    "from planner.optimize.planning import plan_workloads\n"
    "from planner.plan import dumps_plan\n"
    "from planner.spec.load import parse_workloads\n"
    "{setup}"
    "catalog = load_catalog(sys.argv[1])\n"
    "ws = parse_workloads(sys.stdin.read(), 'workloads.yaml', catalog)\n"
    "sys.stdout.write(dumps_plan(plan_workloads(ws, catalog, processes={processes})))\n")


def plans_under_load(data: dict[str, Any], skypilot_dir: Path, here: Callable[[], str], *,
                     setup: str = "", processes: int = 1) -> tuple[str, str]:
    """(``here()``, the plan.json text another process makes of ``data`` on the catalog at
    ``skypilot_dir`` with a pool of ``processes`` after running ``setup``), both computed
    while a third process spins on a core."""
    script = _SCRIPT.format(setup=setup, processes=processes)
    with subprocess.Popen([sys.executable, "-c", "while True: pass"]) as busy, \
            subprocess.Popen([sys.executable, "-c", script, str(skypilot_dir)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as other:
        try:
            assert other.stdin is not None and other.stdout is not None
            other.stdin.write(yaml.safe_dump(data))
            other.stdin.close()
            first = here()
            second = other.stdout.read()
            assert other.wait() == 0
        finally:
            busy.kill()
            other.kill()
    return first, second
