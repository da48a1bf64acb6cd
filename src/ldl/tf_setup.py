"""TensorFlow start-up: a quiet import, threads, precision, determinism and device discovery.

TensorFlow's C++ start-up banner (oneDNN, CUDA stubs, `failed call to cuInit`) is printed before its
logging can be configured (TF_CPP_MIN_LOG_LEVEL does not silence it), so the import is done with stderr
briefly redirected; anything it printed is replayed if the import fails, so no error is hidden.
`import ldl` installs `quiet_tensorflow_import`, so the import is quiet whichever module (Keras, a
user's notebook) asks for TensorFlow first. TF_CPP_MIN_LOG_LEVEL=0 keeps TensorFlow's lines.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

_tensorflow: ModuleType | None = None


def tensorflow_logs_wanted() -> bool:
    """The user asked for TensorFlow's own start-up lines (TF_CPP_MIN_LOG_LEVEL=0)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hide what TensorFlow's C++ runtime writes to stderr (banners, CUDA probing) inside the block.

    If the block raises, the captured text is replayed so that no error message is lost.
    """
    # The C++ runtime writes to file descriptor 2 whatever sys.stderr is (in Jupyter, sys.stderr is
    # the kernel's stream object and descriptor 2 a pipe the kernel forwards into the notebook).
    stderr_fd = 2
    try:
        os.fstat(stderr_fd)
    except OSError:  # no descriptor 2 at all: nothing to hide
        yield
        return
    if tensorflow_logs_wanted():
        yield
        return
    saved_fd = os.dup(stderr_fd)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        with contextlib.suppress(AttributeError, OSError, ValueError):
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


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's package import (and its first device query) with native stderr hidden."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with quiet_native_stderr():
            self.loader.exec_module(module)
            # The first device query probes CUDA and logs its failure on machines without a GPU.
            module.config.list_physical_devices("GPU")


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as usual, once, and hands its loader to _QuietLoader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Make the first `import tensorflow` of this process quiet, whoever does it."""
    if "tensorflow" in sys.modules or any(
        isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


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
