"""Training reads in-memory arrays in place: `as_tensor` shares an aligned NumPy buffer with
TensorFlow through DLPack instead of copying it, and copies whatever it cannot share."""

from __future__ import annotations

import numpy as np
import pytest

from ldl.data.aligned import TENSOR_ALIGNMENT, aligned_empty, is_aligned
from ldl.data.preprocessing import standardize_global
from ldl.training.pipeline import EpochShuffledDataset, as_tensor


@pytest.mark.parametrize("shape", [(0,), (1,), (7, 3), (5, 28, 28)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_aligned_empty_is_aligned_contiguous_and_shaped(shape, dtype) -> None:
    array = aligned_empty(shape, dtype)
    assert array.shape == shape and array.dtype == np.dtype(dtype)
    assert array.flags.c_contiguous and array.flags.writeable
    if array.size:  # an empty array has no buffer to share (as_tensor copies it), so no alignment
        assert array.ctypes.data % TENSOR_ALIGNMENT == 0


def test_an_aligned_array_is_shared_not_copied_and_then_read_only() -> None:
    array = aligned_empty((4, 3), np.float32)
    array[...] = np.arange(12, dtype=np.float32).reshape(4, 3)
    tensor = as_tensor(array)
    np.testing.assert_array_equal(tensor.numpy(), array)
    # The tensor reads the very buffer: nothing may write to it any more.
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0] = 99.0
    base = array.base
    while base is not None and base.base is not None:
        base = base.base
    base[array.ctypes.data - base.ctypes.data] = 1  # a write behind the guard's back...
    assert float(tensor.numpy()[0, 0]) != 0.0  # ...shows in the tensor: it was not a copy


def test_what_cannot_be_shared_is_copied_and_left_writeable() -> None:
    misaligned = np.arange(13, dtype=np.float32)[1:]  # 4 bytes past an aligned start at best
    if is_aligned(misaligned):
        pytest.skip("NumPy happened to place the slice on a 64-byte boundary")
    transposed = np.arange(6, dtype=np.float64).reshape(2, 3).T
    read_only = aligned_empty((3,), np.int64)
    read_only[...] = [1, 2, 3]
    read_only.flags.writeable = False
    for array in (misaligned, transposed, read_only, np.array(["a", "b"])):
        tensor = as_tensor(array)
        assert tensor.numpy().tolist() == [
            v.encode() if isinstance(v, str) else v for v in array.tolist()
        ]
    tensor = as_tensor(misaligned)
    misaligned[0] = 42.0  # still the caller's to change: the tensor holds a copy
    assert float(tensor[0]) == 1.0


def test_standardized_images_go_to_training_without_a_copy() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 6, 6), dtype=np.uint8)
    x_train, x_test, _, _ = standardize_global(images[:40], images[40:])
    assert is_aligned(x_train) and is_aligned(x_test)
    labels = rng.integers(0, 3, size=40)
    data = EpochShuffledDataset(x_train, labels, batch_size=8, seed=0)
    assert not x_train.flags.writeable  # shared with data.features
    np.testing.assert_array_equal(data.features.numpy(), x_train)
    batches = list(data.dataset)
    assert sum(len(b[0]) for b in batches) == 40
