"""MNIST loading (IDX and npz), the search order, validation errors and checksum-verified fetch."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures import MNIST_IDX_NAMES, write_idx, write_mnist_idx, write_mnist_npz

from ldl.data import mnist
from ldl.data.arrays import ArraySplits
from ldl.data.download import fetch, missing_files_error, sha256_of
from ldl.data.mnist import load_mnist, read_idx
from ldl.data.preprocessing import standardize_global
from ldl.errors import ConfigError, DataError


def assert_same(actual: ArraySplits, expected: ArraySplits) -> None:
    for name in ("x_train", "y_train", "x_test", "y_test"):
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == np.uint8, name
        np.testing.assert_array_equal(got, want, err_msg=name)


# --- IDX reader -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trip(tmp_path: Path, suffix: str) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a-idx3-ubyte{suffix}", array)
    result = read_idx(path)
    np.testing.assert_array_equal(result, array)
    assert result.dtype == np.uint8 and result.flags.writeable


def test_read_idx_detects_gzip_by_magic_bytes(tmp_path: Path) -> None:
    path = tmp_path / "labels-idx1-ubyte"  # gzipped content without the .gz suffix
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])))
    np.testing.assert_array_equal(read_idx(path), [7, 8, 9])


@pytest.mark.parametrize("cut", [1, 500])
def test_truncated_idx_names_the_file(tmp_path: Path, cut: int) -> None:
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(DataError, match="truncated") as info:
        read_idx(path)
    assert "train-images-idx3-ubyte" in str(info.value)


def test_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.ones((5, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match="truncated or corrupt") as info:
        read_idx(path)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)


def test_extra_bytes_are_corrupt(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x-idx1-ubyte", np.zeros(4, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="corrupt"):
        read_idx(path)


@pytest.mark.parametrize("header", [b"\x01\x00\x08\x01", b"\x00\x00\x0d\x01", b"\x00\x00\x08\x00"])
def test_wrong_magic(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(header + b"\x00\x00\x00\x01\x05")
    with pytest.raises(DataError, match="magic") as info:
        read_idx(path)
    assert "bad-idx1-ubyte" in str(info.value)


def test_empty_file_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "empty-idx1-ubyte"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


# --- load_mnist: formats and search order ---------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("subdir", ["mnist", ""])
def test_load_idx(tmp_path: Path, compressed: bool, subdir: str) -> None:
    written = write_mnist_idx(tmp_path / subdir, n_train=30, n_test=10, gzip=compressed)
    splits = load_mnist(tmp_path, download=False)
    assert splits.x_train.shape == (30, 28, 28) and splits.y_test.shape == (10,)
    assert_same(splits, written)


@pytest.mark.parametrize("subdir", ["", "mnist"])
def test_load_npz(tmp_path: Path, subdir: str) -> None:
    written = write_mnist_npz(tmp_path / subdir, n_train=30, n_test=10)
    assert_same(load_mnist(str(tmp_path), download=False), written)


def test_idx_files_win_over_npz(tmp_path: Path) -> None:
    write_mnist_npz(tmp_path, n_train=30, n_test=10, seed=1)
    written = write_mnist_idx(tmp_path / "mnist", n_train=20, n_test=5, gzip=True, seed=2)
    assert_same(load_mnist(tmp_path, download=False), written)


def test_mnist_subfolder_wins_over_data_dir(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path, n_train=30, n_test=10, seed=1)
    written = write_mnist_idx(tmp_path / "mnist", n_train=20, n_test=5, seed=2)
    assert_same(load_mnist(tmp_path, download=False), written)


def test_plain_idx_wins_over_gz(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path / "mnist", n_train=30, n_test=10, gzip=True, seed=1)
    written = write_mnist_idx(tmp_path / "mnist", n_train=20, n_test=5, gzip=False, seed=2)
    assert_same(load_mnist(tmp_path, download=False), written)


def test_npz_in_data_dir_wins_over_npz_in_subfolder(tmp_path: Path) -> None:
    write_mnist_npz(tmp_path / "mnist", n_train=30, n_test=10, seed=1)
    written = write_mnist_npz(tmp_path, n_train=20, n_test=5, seed=2)
    assert_same(load_mnist(tmp_path, download=False), written)


def test_incomplete_idx_set_falls_back_to_npz(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path / "mnist", n_train=30, n_test=10)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").unlink()
    written = write_mnist_npz(tmp_path, n_train=20, n_test=5, seed=3)
    assert_same(load_mnist(tmp_path, download=False), written)


def test_head(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path / "mnist", n_train=30, n_test=10)
    full = load_mnist(tmp_path, download=False)
    small = full.head(7, None)
    assert small.x_train.shape == (7, 28, 28) and small.y_train.shape == (7,)
    assert small.x_test.shape == (10, 28, 28)
    np.testing.assert_array_equal(small.x_train, full.x_train[:7])
    assert full.head(100, 3).x_train.shape[0] == 30 and full.head(100, 3).y_test.shape == (3,)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="max_test"):
            full.head(5, bad)


# --- load_mnist: validation -----------------------------------------------------------------


def test_missing_files_download_off(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path, download=False)
    message = str(info.value)
    for name in (*MNIST_IDX_NAMES, "mnist.npz", str(tmp_path), "data_dir=", "turned off"):
        assert name in message
    assert "\n" not in message


def test_truncated_idx_through_loader(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path / "mnist", n_train=30, n_test=10, gzip=True)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    path.write_bytes(gzip.compress(raw[:-784]))  # one image short
    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(tmp_path, download=False)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_label_count_mismatch(tmp_path: Path) -> None:
    written = write_mnist_idx(tmp_path, n_train=30, n_test=10)
    write_idx(tmp_path / "train-labels-idx1-ubyte", written.y_train[:-1])
    with pytest.raises(DataError, match="30 images but 29 labels"):
        load_mnist(tmp_path, download=False)


def test_labels_out_of_range(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path, n_train=30, n_test=10)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(10, 10, np.uint8))
    with pytest.raises(DataError, match=r"0\.\.9"):
        load_mnist(tmp_path, download=False)


def test_wrong_image_shape(tmp_path: Path) -> None:
    write_mnist_idx(tmp_path, n_train=30, n_test=10)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((10, 27, 28), np.uint8))
    with pytest.raises(DataError, match=r"\(N, 28, 28\)"):
        load_mnist(tmp_path, download=False)


def test_npz_missing_key(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="y_train") as info:
        load_mnist(tmp_path, download=False)
    assert "mnist.npz" in str(info.value)


def test_npz_wrong_shape(tmp_path: Path) -> None:
    zeros = np.zeros((4, 28, 28), np.uint8)
    labels = np.zeros(4, np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=zeros, y_train=labels, x_test=zeros, y_test=zeros)
    with pytest.raises(DataError, match=r"\(N,\)"):
        load_mnist(tmp_path, download=False)


@pytest.mark.parametrize("content", ["truncated", "garbage"])
def test_corrupt_npz(tmp_path: Path, content: str) -> None:
    write_mnist_npz(tmp_path, n_train=30, n_test=10)
    path = tmp_path / "mnist.npz"
    path.write_bytes(path.read_bytes()[:1000] if content == "truncated" else b"not a zip file")
    with pytest.raises(DataError, match="truncated or corrupt") as info:
        load_mnist(tmp_path, download=False)
    assert "mnist.npz" in str(info.value)


# --- downloads (file:// URLs only: no network traffic) --------------------------------------


def test_fetch_copies_and_verifies(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"dataset bytes")
    (tmp_path / "d").mkdir()  # downloads go only into a data_dir that exists (subfolders are made)
    target = fetch("data.bin", source.as_uri(), sha256_of(source), tmp_path / "d", "sub")
    assert target == tmp_path / "d" / "sub" / "data.bin"
    assert target.read_bytes() == b"dataset bytes"
    # Already there with the right hash: returned as is.
    assert fetch("data.bin", "file:///nowhere", sha256_of(source), tmp_path / "d", "sub") == target


def test_fetch_offline_fails_quickly(tmp_path: Path) -> None:
    url = (tmp_path / "absent" / "mnist.npz").as_uri()
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        fetch("mnist.npz", url, "0" * 64, tmp_path / "data")
    assert time.monotonic() - start < 30
    message = str(info.value)
    for part in ("mnist.npz", str(tmp_path / "data"), url, "data_dir="):
        assert part in message
    assert not (tmp_path / "data" / "mnist.npz").exists()


def test_fetch_bad_checksum_deletes_download(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"not the real file")
    with pytest.raises(DataError, match="sha256"):
        fetch("mnist.npz", source.as_uri(), "0" * 64, tmp_path / "data")
    assert not (tmp_path / "data" / "mnist.npz").exists()


def test_fetch_keeps_existing_file_with_other_hash(tmp_path: Path) -> None:
    existing = tmp_path / "mnist.npz"
    existing.write_bytes(b"user's own copy")
    with pytest.raises(DataError, match="already there"):
        fetch("mnist.npz", "file:///nowhere", "0" * 64, tmp_path)
    assert existing.read_bytes() == b"user's own copy"


def test_fetch_rejects_paths_as_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file name"):
        fetch("a/b.npz", "file:///x", "0" * 64, tmp_path)
    with pytest.raises(ValueError, match="subdir"):
        fetch("b.npz", "file:///x", "0" * 64, tmp_path, "../up")


def test_missing_files_error_message(tmp_path: Path) -> None:
    error = missing_files_error("Demo", tmp_path, ["a.txt", "b.txt"], None, reason="Nothing")
    assert isinstance(error, DataError)
    assert all(part in str(error) for part in ("Demo", "a.txt", "b.txt", str(tmp_path), "Nothing"))


def test_load_mnist_downloads_npz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = write_mnist_npz(tmp_path / "server", n_train=20, n_test=5)
    served = tmp_path / "server" / "mnist.npz"
    monkeypatch.setattr(mnist, "MNIST_URL", served.as_uri())
    monkeypatch.setattr(mnist, "MNIST_SHA256", sha256_of(served))
    (tmp_path / "data").mkdir()  # downloads go only into a data_dir that exists
    assert_same(load_mnist(tmp_path / "data"), written)
    assert (tmp_path / "data" / "mnist.npz").is_file()


def test_load_mnist_download_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "MNIST_URL", (tmp_path / "absent.npz").as_uri())
    with pytest.raises(DataError, match=r"Downloading mnist\.npz failed") as info:
        load_mnist(tmp_path / "data")
    assert all(name in str(info.value) for name in MNIST_IDX_NAMES)


def test_official_source_matches_keras() -> None:
    assert mnist.MNIST_URL.endswith("tf-keras-datasets/mnist.npz")
    assert mnist.MNIST_SHA256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def test_fixture_images_are_learnable() -> None:
    from fixtures import make_mnist_arrays

    data = make_mnist_arrays(200, 50)
    centroids = np.stack([data.x_train[data.y_train == k].mean(axis=0) for k in range(10)])
    distances = ((data.x_test[:, None].astype(float) - centroids) ** 2).sum(axis=(2, 3))
    assert (distances.argmin(axis=1) == data.y_test).mean() > 0.95


# --- standardization batch by batch ----------------------------------------------------------


def _batches_through(transform, images: np.ndarray) -> np.ndarray:
    """`images` standardized as training sees them: in a tf.data map and inside a tf.function."""
    import tensorflow as tf

    from ldl.training.pipeline import evaluation_dataset

    mapped = np.concatenate(
        [x.numpy() for x, _ in evaluation_dataset(images, np.zeros(len(images)), 7, transform)]
    )
    traced = tf.function(lambda batch: transform(batch, 0)[0])(tf.constant(images)).numpy()
    np.testing.assert_array_equal(mapped, traced)
    return mapped


@pytest.mark.parametrize("validation", ["test", "holdout"])
def test_mnist_stays_8_bit_and_batches_get_the_same_bits(tmp_path: Path, validation: str) -> None:
    from fixtures import data_config

    from ldl.data.datasets import prepare_data

    splits = write_mnist_idx(tmp_path, n_train=120, n_test=30)
    data = prepare_data(data_config("mnist", download=False), tmp_path, validation=validation)
    assert data.x_train.dtype == data.x_test.dtype == np.uint8  # no float32 copy in memory
    assert data.transform is not None
    # The arrays the up-front standardization made, with the same (training part's) statistics:
    train_part = splits.x_train if validation == "test" else data.x_train
    expected_train, expected_test, mean, std = standardize_global(train_part, splits.x_test)
    assert data.statistics == {"mean": mean, "std": std}
    np.testing.assert_array_equal(_batches_through(data.transform, data.x_train), expected_train)
    np.testing.assert_array_equal(_batches_through(data.transform, data.x_test), expected_test)
    if validation == "holdout":
        assert data.x_val.dtype == np.uint8 and len(data.x_val) == 24
        np.testing.assert_array_equal(
            _batches_through(data.transform, data.x_val),
            (data.x_val - np.float32(mean)) / np.float32(std),
        )


def test_read_idx_gives_an_array_training_reads_in_place(tmp_path: Path) -> None:
    from ldl.data.aligned import is_aligned

    write_mnist_idx(tmp_path, n_train=30, n_test=10, gzip=True)
    assert is_aligned(read_idx(tmp_path / "train-images-idx3-ubyte.gz"))


# --- real data ------------------------------------------------------------------------------


@pytest.mark.real_data
def test_real_mnist(real_data_dir: Path) -> None:
    if not (real_data_dir / "mnist").is_dir() and not (real_data_dir / "mnist.npz").is_file():
        pytest.skip("no MNIST files in the real data folder")
    data = load_mnist(real_data_dir, download=False)
    assert data.x_train.shape == (60000, 28, 28) and data.y_train.shape == (60000,)
    assert data.x_test.shape == (10000, 28, 28) and data.y_test.shape == (10000,)
    assert data.y_train[0] == 5
    _, _, mean, std = standardize_global(data.x_train, data.x_test)
    assert mean == pytest.approx(33.318421449829934, abs=1e-9)
    assert std == pytest.approx(78.56748998339798, abs=1e-9)
