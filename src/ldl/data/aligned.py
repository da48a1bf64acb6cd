"""NumPy arrays that TensorFlow can read in place, without a copy (training/pipeline.py, as_tensor).

TensorFlow's kernels need tensor buffers aligned to its vector width; 64 bytes covers every width it
is built for (EIGEN_MAX_ALIGN_BYTES). NumPy's large arrays start 16 bytes into a page, so an array
meant for training is allocated here instead: for MNIST that saves a second 188 MB copy, which took
0.4-3.1 s of system time on a 2-core virtual machine (first touches of fresh memory are slow there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

TENSOR_ALIGNMENT = 64


def aligned_empty(shape: Any, dtype: DTypeLike) -> np.ndarray:
    """An uninitialised C-contiguous array whose buffer starts on a TENSOR_ALIGNMENT boundary (an empty
    array has no buffer; NumPy may then point it anywhere)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(nbytes + TENSOR_ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % TENSOR_ALIGNMENT
    return buffer[start : start + nbytes].view(dtype).reshape(shape)


def is_aligned(array: np.ndarray) -> bool:
    """Whether TensorFlow may read `array`'s buffer in place."""
    return bool(array.flags.c_contiguous) and array.ctypes.data % TENSOR_ALIGNMENT == 0
