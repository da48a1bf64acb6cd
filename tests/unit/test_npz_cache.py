"""Big compressed .npz archives are decompressed once: later reads come from plain .npy copies in
ldl's cache folder, a changed archive is read afresh, and a cache that cannot be used is passed over."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ldl.data import npz_cache
from ldl.data.arrays import read_npz
from ldl.data.cifar10 import load_cifar10

KEYS = ("x_train", "y_train", "x_test", "y_test")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LDL_CACHE_DIR", str(folder))
    monkeypatch.setattr(npz_cache, "MIN_CACHED_BYTES", 0)  # the fixtures are small
    return folder


def _cifar_like(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 20, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 5, dtype=np.uint8),
    }


def _write_lzma_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz whose members are LZMA-compressed, like the CIFAR-10 rebuilt from JPEGs."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as archive:
        for key, array in arrays.items():
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _same_size_and_time(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Rewrite `path` with other arrays of the same shapes but keep its size and modification time."""
    status = path.stat()
    np.savez_compressed(path, **arrays)
    with open(path, "r+b") as file:
        file.truncate(status.st_size)  # a size the cache key cannot tell apart
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def test_the_second_read_comes_from_the_cache(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "cifar10_from_jpeg.npz"
    first = _cifar_like(0)
    _write_lzma_npz(path, first)
    read = read_npz(path, KEYS, "CIFAR-10")
    for key in KEYS:
        np.testing.assert_array_equal(read[key], first[key])
    assert sorted(p.name for p in cache.glob("npz/*/*")) == sorted(f"{k}.npy" for k in KEYS)
    # Same size and time, other bytes: only the cache can still give the first arrays.
    _same_size_and_time(path, _cifar_like(1))
    again = read_npz(path, KEYS, "CIFAR-10")
    for key in KEYS:
        np.testing.assert_array_equal(again[key], first[key])
    # The loader on top reads through the cache as well.
    splits = load_cifar10(tmp_path, download=False)
    np.testing.assert_array_equal(splits.x_train, first["x_train"])


def test_a_changed_archive_is_read_afresh(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "cifar10_from_jpeg.npz"
    _write_lzma_npz(path, _cifar_like(0))
    read_npz(path, KEYS, "CIFAR-10")
    second = _cifar_like(1)
    _write_lzma_npz(path, second)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    read = read_npz(path, KEYS, "CIFAR-10")
    np.testing.assert_array_equal(read["x_train"], second["x_train"])


def test_a_damaged_cached_file_falls_back_to_the_archive(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "data.npz"
    arrays = _cifar_like(0)
    _write_lzma_npz(path, arrays)
    read_npz(path, KEYS, "CIFAR-10")
    (cached,) = cache.glob("npz/*/x_train.npy")
    cached.write_bytes(cached.read_bytes()[:100])  # truncated
    read = read_npz(path, KEYS, "CIFAR-10")
    np.testing.assert_array_equal(read["x_train"], arrays["x_train"])
    assert np.load(cached).shape == arrays["x_train"].shape  # and rewritten whole


def test_an_unwritable_cache_is_passed_over(tmp_path: Path, cache: Path) -> None:
    cache.write_text("a file where the cache folder should be")
    path = tmp_path / "data.npz"
    arrays = _cifar_like(0)
    _write_lzma_npz(path, arrays)
    for _ in range(2):
        read = read_npz(path, KEYS, "CIFAR-10")
        np.testing.assert_array_equal(read["y_test"], arrays["y_test"])
    assert not list(tmp_path.glob("**/*.partial"))


def test_small_or_uncompressed_archives_are_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LDL_CACHE_DIR", str(folder))
    stored = tmp_path / "stored.npz"
    np.savez(stored, **_cifar_like(0))  # members stored, not compressed
    compressed = tmp_path / "small.npz"
    np.savez_compressed(compressed, **_cifar_like(0))  # below MIN_CACHED_BYTES

    def worth_caching(path: Path) -> bool:
        with zipfile.ZipFile(path) as archive:
            return npz_cache.worth_caching(path, archive)

    assert not worth_caching(stored)
    assert not worth_caching(compressed)
    monkeypatch.setattr(npz_cache, "MIN_CACHED_BYTES", 0)
    assert worth_caching(compressed) and not worth_caching(stored)
    read_npz(stored, KEYS, "CIFAR-10")
    assert not folder.exists()


def test_the_cache_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LDL_CACHE_DIR", "/somewhere/ldl-cache")
    assert npz_cache.cache_root() == Path("/somewhere/ldl-cache")
    monkeypatch.delenv("LDL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert npz_cache.cache_root() == Path("/xdg/ldl")
