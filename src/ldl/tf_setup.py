"""TensorFlow start-up: a quiet import, threads, precision, determinism and device discovery.

TensorFlow's C++ start-up banner (oneDNN, CUDA stubs) is printed before its logging can be configured, so
the import is done once here with stderr briefly redirected; anything it printed is replayed if the import
fails, so no error is hidden.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

_tensorflow: ModuleType | None = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hide what TensorFlow's C++ runtime writes to stderr (banners, CUDA probing) inside the block.

    If the block raises, the captured text is replayed so that no error message is lost.
    """
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture or an unusual stderr
        yield
        return
    saved_fd = os.dup(stderr_fd)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), stderr_fd)
        try:
            yield
        except BaseException:
            os.dup2(saved_fd, stderr_fd)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved_fd, stderr_fd)
            os.close(saved_fd)


def import_tensorflow() -> ModuleType:
    """Import TensorFlow (and so Keras) without the start-up banner on stderr."""
    global _tensorflow
    if _tensorflow is None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with quiet_native_stderr():
            import tensorflow

            # The first device query probes CUDA and logs its failure on machines without a GPU.
            tensorflow.config.list_physical_devices("GPU")
        _tensorflow = tensorflow
    return _tensorflow


def configure_threads(threads: int | None) -> None:
    """Limit TensorFlow's thread pools, so that parallel jobs x threads never exceed the cores."""
    if threads is None:
        return
    tf = import_tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))
    except RuntimeError:
        # The runtime is already initialised in this process (an earlier run); the pools stay as they are.
        pass


def configure_precision(precision: str) -> None:
    """Set Keras's global dtype policy; models keep their outputs in float32 themselves."""
    import keras

    keras.mixed_precision.set_global_policy(precision)


def configure_determinism(seed: int, deterministic: bool) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's kernels deterministic."""
    import keras

    tf = import_tensorflow()
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def device_description() -> str:
    """Name the accelerator TensorFlow will use, e.g. 'GPU: NVIDIA H100 80GB HBM3' or 'CPU'."""
    tf = import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return "GPU: " + ", ".join(names)
