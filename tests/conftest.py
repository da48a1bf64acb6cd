"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml_memo

# Each distinct config file's YAML is parsed once per test process (tests/support/yaml_memo.py).
yaml_memo.install()


@pytest.fixture(scope="session", autouse=True)
def _cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Decompressed archives (ldl.data.npz_cache) go to this session's folder, not the user's cache."""
    os.environ.setdefault("LDL_CACHE_DIR", str(tmp_path_factory.mktemp("ldl_cache")))


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real datasets' folder: $LDL_REAL_DATA_DIR, else `<repo>/../shared/data`, else skip."""
    configured = os.environ.get("LDL_REAL_DATA_DIR")
    repo_root = Path(__file__).resolve().parents[1]
    candidate = Path(configured) if configured else repo_root.parent / "shared" / "data"
    if not candidate.is_dir():
        pytest.skip(f"real datasets not found at {candidate} (set LDL_REAL_DATA_DIR)")
    return candidate


# --- Config composition and small datasets in the real file formats -----------------------------

from collections.abc import Callable  # noqa: E402

from fixtures import write_boston_npz, write_mnist_idx  # noqa: E402
from helpers import compose_config  # noqa: E402
from omegaconf import DictConfig  # noqa: E402


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with MNIST stand-ins as gzipped IDX files in mnist/, like the real copy."""
    directory = tmp_path_factory.mktemp("mnist_data")
    write_mnist_idx(directory / "mnist", n_train=600, n_test=200, gzip=True)
    return directory


@pytest.fixture(scope="session")
def boston_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a Boston-format boston_housing.npz (x, y full arrays, Keras layout)."""
    directory = tmp_path_factory.mktemp("boston_data")
    write_boston_npz(directory, n=120)
    return directory


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose the real config tree with overrides; the run folder defaults to a fresh tmp dir."""

    def make(*overrides: str, run_dir: Path | None = None) -> DictConfig:
        run = run_dir if run_dir is not None else tmp_path / "run"
        return compose_config(
            *overrides,
            f"run_dir={run}",
            f"output_root={tmp_path / 'outputs'}",
            "trainer.verbose=0",
        )

    return make


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A user's working directory with data and run folders of every kind (tests/support/hostile.py); the
    hostile-input tests run from it and check that it is left byte-identical."""
    from hostile import build_world

    return build_world(tmp_path_factory.mktemp("world"))
