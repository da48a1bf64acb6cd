"""scripts/book_style_keras.py, the plain-Keras side of the benchmarks, prepares data as the book does:
float32 arrays standardized up front with the training images' statistics, one-hot labels."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from fixtures import write_cifar10_batches, write_mnist_idx
from helpers import REPO

from ldl.data.preprocessing import standardize_global

sys.path.insert(0, str(REPO / "scripts"))
import book_style_keras


def test_mnist_arrays_are_standardized_as_the_book_does(tmp_path: Path) -> None:
    splits = write_mnist_idx(tmp_path, n_train=60, n_test=20)
    args = argparse.Namespace(data_dir=tmp_path)
    data = book_style_keras.mnist_arrays(args, examples=40)
    expected_train, expected_test, _, _ = standardize_global(splits.x_train[:40], splits.x_test)
    np.testing.assert_array_equal(data.x_train, expected_train)
    np.testing.assert_array_equal(data.x_test, expected_test)
    assert data.x_train.dtype == np.float32 and abs(float(data.x_train.mean())) < 1e-5
    assert data.y_train.shape == (40, 10)
    np.testing.assert_array_equal(data.y_train.argmax(axis=1), splits.y_train[:40])


def test_cifar_subset_is_standardized_as_the_book_does(tmp_path: Path) -> None:
    write_cifar10_batches(tmp_path)
    args = argparse.Namespace(data_dir=tmp_path, examples=30, test_examples=10)
    data = book_style_keras.cifar_subset(args)
    assert data.x_train.dtype == np.float32 and data.x_train.shape[0] == 30
    assert abs(float(data.x_train.mean())) < 1e-4 and abs(float(data.x_train.std()) - 1) < 1e-3
    assert data.y_test.shape == (10, 10)
