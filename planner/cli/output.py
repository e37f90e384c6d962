"""Shared output helpers: JSON that is stable, rich tables, the --format option."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from enum import StrEnum
from typing import Any


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=True) + "\n")


def console() -> Any:
    from rich.console import Console

    # Not a terminal (CI logs, pipes): wide enough that tables are not cut.
    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, soft_wrap=False, width=width)


def fmt_money(value: Decimal | None, places: int = 4) -> str:
    if value is None:
        return "-"
    return f"${value:,.{places}f}"


def write_atomic(path: Any, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary sibling and a rename; UsageError if unwritable."""
    import os
    import tempfile
    from pathlib import Path

    from planner.errors import UsageError

    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a directory", field="--out")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"directory {parent} does not exist", field="--out")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=parent)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}", field="--out") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plan is for sharing
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
