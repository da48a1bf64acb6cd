"""Boston Housing: both file formats, Keras's split, validation errors and the download path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures import make_boston_arrays, write_boston_npz, write_housing_data

from ldl.data import boston_housing
from ldl.data.arrays import ArraySplits
from ldl.data.boston_housing import load_boston_housing, read_housing_data, split_like_keras
from ldl.data.download import sha256_of
from ldl.data.preprocessing import standardize_per_feature
from ldl.errors import ConfigError, DataError


def keras_split(x: np.ndarray, y: np.ndarray, test_split: float = 0.2, seed: int = 113):
    """Keras's `boston_housing.load_data` procedure, copied step by step."""
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return x[:cut], y[:cut], x[cut:], y[cut:]


def assert_splits_equal(actual: ArraySplits, expected) -> None:
    got = (actual.x_train, actual.y_train, actual.x_test, actual.y_test)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


def test_npz_gives_keras_split(tmp_path: Path) -> None:
    x, y = write_boston_npz(tmp_path, n=60)
    splits = load_boston_housing(tmp_path, download=False)
    assert splits.x_train.shape == (48, 13) and splits.x_test.shape == (12, 13)
    assert_splits_equal(splits, keras_split(x, y))


def test_housing_data_gives_same_split_as_npz(tmp_path: Path) -> None:
    write_boston_npz(tmp_path / "npz", n=60)
    x, y = write_housing_data(tmp_path / "text", n=60)
    assert (tmp_path / "text" / "housing.data").read_bytes().endswith(b"\n ")
    from_text = load_boston_housing(tmp_path / "text", download=False)
    from_npz = load_boston_housing(tmp_path / "npz", download=False)
    assert_splits_equal(from_text, keras_split(x, y))
    assert_splits_equal(
        from_text, (from_npz.x_train, from_npz.y_train, from_npz.x_test, from_npz.y_test)
    )


def test_npz_wins_over_housing_data(tmp_path: Path) -> None:
    x, y = write_boston_npz(tmp_path, n=40, seed=1)
    write_housing_data(tmp_path, n=60, seed=2)
    assert_splits_equal(load_boston_housing(tmp_path, download=False), keras_split(x, y))


def test_split_parameters(tmp_path: Path) -> None:
    x, y = write_boston_npz(tmp_path, n=60)
    splits = load_boston_housing(tmp_path, download=False, test_split=0.5, seed=7)
    assert_splits_equal(splits, keras_split(x, y, 0.5, 7))
    assert len(splits.x_train) == 30
    assert_splits_equal(split_like_keras(x, y), keras_split(x, y))
    for bad in (1.0, -0.1):
        with pytest.raises(ConfigError, match="test_split"):
            load_boston_housing(tmp_path, download=False, test_split=bad)


def test_head(tmp_path: Path) -> None:
    write_housing_data(tmp_path, n=60)
    small = load_boston_housing(tmp_path, download=False).head(10, 4)
    assert small.x_train.shape == (10, 13) and small.y_test.shape == (4,)


def test_fixture_target_is_linear() -> None:
    x, y = make_boston_arrays(200)
    design = np.c_[x, np.ones(len(x))]
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coefficients
    assert 1 - residual.var() / y.var() > 0.9


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_boston_housing(tmp_path, download=False)
    message = str(info.value)
    for part in ("boston_housing.npz", "housing.data", str(tmp_path), "data_dir="):
        assert part in message


@pytest.mark.parametrize(
    ("line", "match"),
    [("1 2 3 4 5 6 7 8 9 10 11 12 13", "13 values"), ("1 2 3 4 5 6 7 8 9 10 11 12 13 x", "'x'")],
)
def test_damaged_housing_data_row(tmp_path: Path, line: str, match: str) -> None:
    write_housing_data(tmp_path, n=10)
    path = tmp_path / "housing.data"
    lines = path.read_text().splitlines()
    lines[4] = line
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=match) as info:
        load_boston_housing(tmp_path, download=False)
    assert "Line 5" in str(info.value) and "housing.data" in str(info.value)


def test_empty_housing_data(tmp_path: Path) -> None:
    (tmp_path / "housing.data").write_text(" \n")
    with pytest.raises(DataError, match="0 rows"):
        load_boston_housing(tmp_path, download=False)


def test_read_housing_data(tmp_path: Path) -> None:
    x, y = write_housing_data(tmp_path, n=5)
    got_x, got_y = read_housing_data(tmp_path / "housing.data")
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"x": np.zeros((10, 12)), "y": np.zeros(10)}, r"\(N, 13\)"),
        ({"x": np.zeros((10, 13)), "y": np.zeros(9)}, r"\(N, 13\)"),
        ({"x": np.zeros((10, 13))}, "lacks the array"),
        ({"x": np.full((10, 13), np.nan), "y": np.zeros(10)}, "non-finite"),
    ],
)
def test_bad_npz(tmp_path: Path, arrays: dict, match: str) -> None:
    np.savez(tmp_path / "boston_housing.npz", **arrays)
    with pytest.raises(DataError, match=match) as info:
        load_boston_housing(tmp_path, download=False)
    assert "boston_housing.npz" in str(info.value)


def test_corrupt_npz(tmp_path: Path) -> None:
    write_boston_npz(tmp_path, n=60)
    path = tmp_path / "boston_housing.npz"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_boston_housing(tmp_path, download=False)


def test_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = write_boston_npz(tmp_path / "server", n=60)
    served = tmp_path / "server" / "boston_housing.npz"
    monkeypatch.setattr(boston_housing, "BOSTON_URL", served.as_uri())
    monkeypatch.setattr(boston_housing, "BOSTON_SHA256", sha256_of(served))
    (tmp_path / "data").mkdir()  # downloads go only into a data_dir that exists
    assert_splits_equal(load_boston_housing(tmp_path / "data"), keras_split(x, y))
    assert (tmp_path / "data" / "boston_housing.npz").is_file()


def test_download_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = (tmp_path / "absent.npz").as_uri()
    monkeypatch.setattr(boston_housing, "BOSTON_URL", url)
    with pytest.raises(DataError, match="failed") as info:
        load_boston_housing(tmp_path / "data")
    assert "housing.data" in str(info.value) and url in str(info.value)


def test_official_source_matches_keras() -> None:
    assert boston_housing.BOSTON_URL.endswith("tf-keras-datasets/boston_housing.npz")
    assert (
        boston_housing.BOSTON_SHA256.startswith("f553886a")
        and len(boston_housing.BOSTON_SHA256) == 64
    )


@pytest.mark.real_data
def test_real_boston(real_data_dir: Path, tmp_path: Path) -> None:
    npz, text = real_data_dir / "boston_housing.npz", real_data_dir / "housing.data"
    if not (npz.is_file() and text.is_file()):
        pytest.skip("boston_housing.npz or housing.data missing from the real data folder")
    (tmp_path / "npz").mkdir()
    (tmp_path / "npz" / npz.name).symlink_to(npz)
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / text.name).symlink_to(text)
    from_npz = load_boston_housing(tmp_path / "npz", download=False)
    data = load_boston_housing(tmp_path / "text", download=False)
    assert_splits_equal(
        data, (from_npz.x_train, from_npz.y_train, from_npz.x_test, from_npz.y_test)
    )
    assert data.x_train.shape == (404, 13) and data.x_test.shape == (102, 13)
    np.testing.assert_allclose(data.y_test[:4], [7.2, 18.8, 19.0, 27.0])
    np.testing.assert_allclose(data.y_train[:4], [15.2, 42.3, 50.0, 21.1])
    assert data.y_train.mean() == pytest.approx(22.395, abs=1e-3)
    assert data.y_test.mean() == pytest.approx(23.078, abs=1e-3)
    _, _, mean, std = standardize_per_feature(data.x_train, data.x_test)
    for column, (want_mean, want_std) in {
        0: (3.7451, 9.2293),
        9: (405.8985, 166.1685),
        12: (12.7408, 7.2456),
    }.items():
        assert mean[column] == pytest.approx(want_mean, abs=1e-4)
        assert std[column] == pytest.approx(want_std, abs=1e-4)
