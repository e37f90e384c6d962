"""Golden-file comparison: ``pytest --update-golden`` rewrites, the diff is reviewed."""

from __future__ import annotations

from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(name: str, actual: str, update: bool) -> None:
    path = GOLDEN / name
    if update or not path.exists():
        if not update:
            raise AssertionError(f"golden file {path} missing; run pytest --update-golden")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file; review, then --update-golden"
