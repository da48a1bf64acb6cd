"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real datasets' folder: $LDL_REAL_DATA_DIR, else `<repo>/../shared/data`, else skip."""
    configured = os.environ.get("LDL_REAL_DATA_DIR")
    repo_root = Path(__file__).resolve().parents[1]
    candidate = Path(configured) if configured else repo_root.parent / "shared" / "data"
    if not candidate.is_dir():
        pytest.skip(f"real datasets not found at {candidate} (set LDL_REAL_DATA_DIR)")
    return candidate
