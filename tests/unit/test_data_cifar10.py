"""CIFAR-10 loading (python batches, tar.gz, npz), its layout, errors, download, preprocessing."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from fixtures import data_config, make_cifar10_arrays, write_cifar10_batches, write_cifar10_npz

from ldl.data import cifar10
from ldl.data.arrays import ArraySplits
from ldl.data.cifar10 import load_cifar10
from ldl.data.datasets import prepare_data
from ldl.data.download import sha256_of
from ldl.errors import DataError


def assert_same(actual: ArraySplits, expected: ArraySplits) -> None:
    for name in ("x_train", "y_train", "x_test", "y_test"):
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == np.uint8, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert actual.x_train.shape[1:] == (32, 32, 3)
    assert actual.y_train.ndim == 2 and actual.y_train.shape[1] == 1


@pytest.mark.parametrize("subdir", ["", "cifar10"])
def test_load_python_batches(tmp_path: Path, subdir: str) -> None:
    written = write_cifar10_batches(tmp_path / subdir, n_train=50, n_test=20)
    assert_same(load_cifar10(tmp_path, download=False), written)


def test_load_tar_gz_without_unpacking(tmp_path: Path) -> None:
    written = write_cifar10_batches(tmp_path, n_train=50, n_test=20, tar=True)
    assert_same(load_cifar10(tmp_path, download=False), written)
    assert not (tmp_path / "cifar-10-batches-py").exists()


@pytest.mark.parametrize("filename", ["cifar10.npz", "cifar10_from_jpeg.npz"])
def test_load_npz(tmp_path: Path, filename: str) -> None:
    written = write_cifar10_npz(tmp_path, filename=filename)
    assert_same(load_cifar10(tmp_path, download=False), written)


def test_named_npz_file(tmp_path: Path) -> None:
    written = write_cifar10_npz(tmp_path, filename="mine.npz", seed=3)
    write_cifar10_npz(tmp_path, filename="cifar10.npz", seed=4)
    assert_same(load_cifar10(tmp_path, download=False, npz_file="mine.npz"), written)


def test_batches_win_over_npz(tmp_path: Path) -> None:
    written = write_cifar10_batches(tmp_path, seed=1)
    write_cifar10_npz(tmp_path, seed=2)
    assert_same(load_cifar10(tmp_path, download=False), written)


def test_row_layout_is_three_planes_r_g_b(tmp_path: Path) -> None:
    """Row bytes 0..1023 are the red plane, row-major; 1024.. green; 2048.. blue (chapter 7)."""
    rows = np.zeros((1, 3072), np.uint8)
    rows[0, 0] = 11  # R of pixel (0, 0)
    rows[0, 1] = 12  # R of pixel (0, 1)
    rows[0, 32] = 13  # R of pixel (1, 0)
    rows[0, 1024] = 21  # G of pixel (0, 0)
    rows[0, 2048 + 33] = 31  # B of pixel (1, 1)
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": rows, b"labels": [7]}, protocol=2))
    with open(path, "rb") as stream:
        images, labels = cifar10.read_batch(stream, "test")
    assert images.shape == (1, 32, 32, 3) and labels.tolist() == [7]
    assert images[0, 0, 0].tolist() == [11, 21, 0]
    assert images[0, 0, 1, 0] == 12 and images[0, 1, 0, 0] == 13 and images[0, 1, 1, 2] == 31


def test_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    write_cifar10_batches(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DataError, match=r"data_batch_3.*builtins\.print.*not allowed"):
        load_cifar10(tmp_path, download=False)


def test_truncated_batch_names_the_file(tmp_path: Path) -> None:
    write_cifar10_batches(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="truncated") as info:
        load_cifar10(tmp_path, download=False)
    assert "test_batch" in str(info.value)


def test_corrupt_tar_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8bnot really")
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz.*truncated or corrupt"):
        load_cifar10(tmp_path, download=False)


def test_npz_with_wrong_shape(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "cifar10.npz",
        x_train=np.zeros((4, 32, 32), np.uint8),
        y_train=np.zeros((4, 1), np.uint8),
        x_test=np.zeros((2, 32, 32, 3), np.uint8),
        y_test=np.zeros((2, 1), np.uint8),
    )
    with pytest.raises(DataError, match=r"\(N, 32, 32, 3\) is expected"):
        load_cifar10(tmp_path, download=False)


def test_missing_files_offline_names_them(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, download=False)
    message = str(info.value)
    for name in ("cifar-10-batches-py", "cifar-10-python.tar.gz", "cifar10.npz", str(tmp_path)):
        assert name in message
    assert "data_dir=" in message and cifar10.CIFAR10_URL in message


def test_download_verifies_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = tmp_path / "served"
    written = write_cifar10_batches(served, tar=True)
    archive = served / "cifar-10-python.tar.gz"
    monkeypatch.setattr(cifar10, "CIFAR10_URL", archive.as_uri())
    monkeypatch.setattr(cifar10, "CIFAR10_SHA256", sha256_of(archive))
    (tmp_path / "data").mkdir()  # downloads go only into a data_dir that exists
    assert_same(load_cifar10(tmp_path / "data"), written)
    assert (tmp_path / "data" / "cifar-10-python.tar.gz").is_file()


def test_download_failure_names_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cifar10, "CIFAR10_URL", (tmp_path / "absent.tar.gz").as_uri())
    with pytest.raises(DataError, match=r"Downloading cifar-10-python\.tar\.gz failed"):
        load_cifar10(tmp_path / "data")


def test_official_source_matches_keras() -> None:
    assert cifar10.CIFAR10_URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert (
        cifar10.CIFAR10_SHA256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    )


@pytest.mark.parametrize("one_hot", [True, False])
def test_prepare_standardizes_globally_with_training_statistics(tmp_path: Path, one_hot: bool):
    written = write_cifar10_batches(tmp_path, n_train=50, n_test=20)
    config = data_config("cifar10", standardize="global", one_hot=one_hot, download=False)
    data = prepare_data(config, tmp_path)
    mean = written.x_train.astype(np.float64).mean()
    std = written.x_train.astype(np.float64).std()
    assert data.statistics == pytest.approx({"mean": mean, "std": std}, rel=1e-12)
    # Stored as uint8; standardized (and one-hot encoded) batch by batch in the pipeline.
    assert data.x_train.dtype == np.uint8 and data.input_shape == (32, 32, 3)
    images, labels = data.transform(data.x_test, data.y_test)
    np.testing.assert_allclose(images.numpy(), (written.x_test - mean) / std, rtol=1e-5, atol=1e-5)
    assert images.dtype == "float32"
    assert data.train_transform is None  # no augmentation unless configured
    assert data.metadata["class_names"][8] == "ship"
    if one_hot:
        assert tuple(labels.shape) == (20, 10)
        np.testing.assert_array_equal(labels.numpy().argmax(axis=1), written.y_test[:, 0])
    else:
        np.testing.assert_array_equal(labels, written.y_test)


def test_chunked_statistics_equal_numpy():
    images = np.random.default_rng(0).integers(0, 256, size=(5000, 4, 4, 3), dtype=np.uint8)
    mean, std = cifar10._chunked_mean_std(images, chunk=777)
    assert mean == pytest.approx(images.mean(dtype=np.float64), rel=1e-13)
    assert std == pytest.approx(images.std(dtype=np.float64), rel=1e-12)


def test_fixture_images_are_learnable() -> None:
    data = make_cifar10_arrays(200, 50)
    labels = data.y_train[:, 0]
    centroids = np.stack([data.x_train[labels == k].mean(axis=0) for k in range(10)])
    distances = ((data.x_test[:, None].astype(float) - centroids) ** 2).sum(axis=(2, 3, 4))
    assert (distances.argmin(axis=1) == data.y_test[:, 0]).mean() > 0.95


@pytest.mark.slow
@pytest.mark.real_data
def test_real_cifar10_inspection_facts(real_data_dir: Path) -> None:
    """c7e1 (chapter 7). The real copy is rebuilt from JPEGs, so pixels are close, not exact."""
    if (
        not any((real_data_dir / name).is_file() for name in cifar10.NPZ_NAMES)
        and not (real_data_dir / "cifar-10-batches-py").is_dir()
    ):
        pytest.skip("no CIFAR-10 files in the real data folder")
    data = load_cifar10(real_data_dir, download=False)
    assert data.x_train.shape == (50000, 32, 32, 3) and data.y_train.shape == (50000, 1)
    assert data.x_test.shape == (10000, 32, 32, 3) and data.y_test.shape == (10000, 1)
    assert data.y_train[100, 0] == 8  # ship
    assert np.abs(data.x_train[100, 0, 0].astype(int) - [213, 229, 242]).max() <= 12
    assert data.y_test[:10, 0].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert np.bincount(data.y_train[:, 0]).tolist() == [5000] * 10
    mean = data.x_train.mean(dtype=np.float64)
    std = data.x_train.std(dtype=np.float64)
    assert mean == pytest.approx(120.71, abs=1.0) and std == pytest.approx(64.15, abs=1.0)
