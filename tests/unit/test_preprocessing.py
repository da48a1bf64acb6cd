"""Standardization (training statistics only, population std) and one-hot encoding."""

from __future__ import annotations

import numpy as np
import pytest

from ldl.data.preprocessing import one_hot, standardize_global, standardize_per_feature


def test_standardize_global_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(50, 28, 28)).astype(np.uint8)
    x_test = rng.integers(0, 256, size=(10, 28, 28)).astype(np.uint8)
    train, test, mean, std = standardize_global(x_train, x_test)
    values = x_train.astype(np.float64)
    assert mean == values.mean() and std == values.std()  # population std (ddof=0)
    assert isinstance(mean, float) and isinstance(std, float)
    assert train.dtype == np.float32 and test.dtype == np.float32
    assert train.shape == x_train.shape and test.shape == x_test.shape
    np.testing.assert_allclose(train, (values - mean) / std, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(test, (x_test - mean) / std, rtol=1e-6, atol=1e-6)
    assert abs(float(train.mean())) < 1e-5 and train.std() == pytest.approx(1.0, abs=1e-5)


def test_standardize_global_dtype_and_constant_input() -> None:
    train, test, _, std = standardize_global(np.full((4, 3), 7.0), np.full((2, 3), 9.0), np.float64)
    assert std == 1.0 and train.dtype == np.float64
    np.testing.assert_array_equal(train, 0.0)
    np.testing.assert_array_equal(test, 2.0)


def test_standardize_global_does_not_modify_inputs() -> None:
    x_train, x_test = np.arange(6.0).reshape(3, 2), np.arange(4.0).reshape(2, 2)
    standardize_global(x_train, x_test, np.float64)
    np.testing.assert_array_equal(x_train, np.arange(6.0).reshape(3, 2))


def test_standardize_per_feature() -> None:
    rng = np.random.default_rng(1)
    x_train = rng.normal([0.5, 400.0, 3.0], [0.1, 160.0, 9.0], size=(404, 3))
    x_test = rng.normal([0.5, 400.0, 3.0], [0.1, 160.0, 9.0], size=(102, 3))
    train, test, mean, std = standardize_per_feature(x_train, x_test)
    np.testing.assert_allclose(mean, x_train.mean(axis=0))
    np.testing.assert_allclose(std, x_train.std(axis=0))
    assert mean.dtype == np.float64 and train.dtype == np.float32
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(test, (x_test - mean) / std, rtol=1e-5, atol=1e-5)


def test_standardize_per_feature_constant_column_is_not_nan() -> None:
    x_train = np.array([[1.0, 0.0], [3.0, 0.0]])
    x_test = np.array([[2.0, 5.0]])
    train, test, _, std = standardize_per_feature(x_train, x_test)
    assert np.isfinite(train).all() and np.isfinite(test).all()
    np.testing.assert_array_equal(std, [1.0, 1.0])
    np.testing.assert_array_equal(train[:, 1], 0.0)
    np.testing.assert_array_equal(test, [[0.0, 5.0]])


@pytest.mark.parametrize("function", [standardize_global, standardize_per_feature])
def test_standardize_rejects_bad_input(function) -> None:
    with pytest.raises(ValueError, match="empty"):
        function(np.zeros((0, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="per-example shape"):
        function(np.zeros((2, 3)), np.zeros((1, 4)))


def test_one_hot() -> None:
    encoded = one_hot(np.array([3, 0, 9], dtype=np.uint8), 10)
    assert encoded.dtype == np.float32 and encoded.shape == (3, 10)
    np.testing.assert_array_equal(encoded, np.eye(10, dtype=np.float32)[[3, 0, 9]])


def test_one_hot_drops_trailing_unit_axis_like_keras() -> None:
    np.testing.assert_array_equal(one_hot(np.array([[1], [2]]), 3), [[0, 1, 0], [0, 0, 1]])
    assert one_hot(np.array([[0, 1]]), 2).shape == (1, 2, 2)


@pytest.mark.parametrize(
    ("labels", "match"), [([0, 10], r"0\.\.9"), ([-1], r"0\.\.9"), ([0.5], "integers")]
)
def test_one_hot_rejects_bad_labels(labels, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        one_hot(np.array(labels), 10)
