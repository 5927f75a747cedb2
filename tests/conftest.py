"""Fixtures shared by every test tier."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared/`, the real data beside the project; skips the test when it is absent."""
    if not (SHARED / "aiid_data").is_dir():
        pytest.skip(f"real data not found at {SHARED} (tier-3 tests need ../shared/)")
    return SHARED
