"""``planner plan`` shows its progress on a terminal's stderr; never on a pipe or with --quiet.

The command runs as a whole process with stderr on a pseudo-terminal (the pty
module) or on a pipe; stdout goes to a file, and must be the same bytes either way.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "multi-team" / "workloads.yaml"
COMMAND = [sys.executable, "-m", "planner", "plan", str(EXAMPLE), "--format", "json",
           "--max-catalog-age-days", "100000"]
STAGE_LINE = re.compile(r"planned in \d+\.\d s: reading \d+\.\d s, candidates \d+\.\d s, "
                        r"solving \d+\.\d s, assembling \d+\.\d s")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


def _env() -> dict[str, str]:
    """A plain interactive terminal: no variables that make rich force or drop its display."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
                        "COLUMNS", "LINES", "JUPYTER_COLUMNS")}
    env["TERM"] = "xterm-256color"
    return env


def _run(tmp_path: Path, *extra: str, tty: bool) -> tuple[int, bytes, str]:
    """(exit code, stdout bytes, what stderr showed) of ``planner plan``."""
    out_path = tmp_path / f"out-{tty}-{len(extra)}.json"
    with out_path.open("wb") as out:
        if not tty:
            done = subprocess.run([*COMMAND, *extra], stdout=out, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=_env(), cwd=tmp_path, timeout=120)
            return done.returncode, out_path.read_bytes(), done.stderr.decode()
        main, terminal = pty.openpty()
        proc = subprocess.Popen([*COMMAND, *extra], stdout=out, stderr=terminal,
                                stdin=subprocess.DEVNULL, env=_env(), cwd=tmp_path)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        os.close(main)
        code = proc.wait(timeout=120)
    return code, out_path.read_bytes(), shown.decode("utf-8", "replace")


def test_the_display_appears_on_a_terminal(tmp_path: Path) -> None:
    code, out, shown = _run(tmp_path, tty=True)
    assert code == 0, shown
    for stage in ("reading", "candidates", "solving", "assembling"):
        assert stage in shown
    assert re.search(r"\d+ of \d+ workloads", shown)
    assert "incumbent $" in shown and "/month" in shown
    assert STAGE_LINE.search(shown), shown


def test_nothing_on_a_pipe_and_the_same_output(tmp_path: Path) -> None:
    code, out, shown = _run(tmp_path, tty=False)
    assert code == 0
    assert shown == ""
    tty_code, tty_out, _ = _run(tmp_path, tty=True)
    assert (tty_code, tty_out) == (code, out)
    assert out.startswith(b"{")


def test_quiet_silences_it_on_a_terminal(tmp_path: Path) -> None:
    code, out, shown = _run(tmp_path, "--quiet", tty=True)
    assert code == 0
    assert shown == ""
    assert out.startswith(b"{")
