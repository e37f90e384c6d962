"""Shared fixtures: the ../shared reference data, the embedded catalog, CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# CI replays the same examples on every run (a red CI must mean a change broke something,
# not that this run drew a new case); locally hypothesis explores freshly each run and
# keeps what it finds in .hypothesis/. `HYPOTHESIS_PROFILE=ci` (set by .ci/run) selects CI's.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "explore"))


def shared_dir() -> Path:
    return Path(os.environ.get("GPUPLAN_SHARED", REPO.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared reference data; skip (or fail under GPUPLAN_REQUIRE_SHARED=1) if absent."""
    path = shared_dir()
    if not (path / "data").is_dir():
        message = f"shared reference data not found at {path} (set GPUPLAN_SHARED)"
        if os.environ.get("GPUPLAN_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def skypilot_dir(shared: Path) -> Path:
    return shared / "data" / "skypilot-catalog" / "v8"


@pytest.fixture(scope="session")
def embedded_catalog():  # type: ignore[no-untyped-def]
    from planner.catalog.load import load_catalog

    return load_catalog(None)


@pytest.fixture(scope="session")
def full_catalog(skypilot_dir: Path):  # type: ignore[no-untyped-def]
    from planner.catalog.load import load_catalog

    return load_catalog(skypilot_dir)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden files from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
