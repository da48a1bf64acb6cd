"""ldl: every programming example of *Learning Deep Learning* as a named, reproducible experiment.

`import ldl` stays light (no TensorFlow): `ldl.train(...)` and `ldl.load_run(...)` import it when called.
"""

import os

from ldl.tf_setup import quiet_tensorflow_import

# TensorFlow's C++ runtime logs its start-up (oneDNN, CUDA probing) to stderr from whichever module
# imports it first; set up here, before any ldl module can import it, so that every command and the
# Python API are quiet. A user who wants those lines sets TF_CPP_MIN_LOG_LEVEL=0 (docs/running.md).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
quiet_tensorflow_import()

__version__ = "0.1.0"

# The Python API (ldl.api), imported on first use so that `import ldl` stays light.
_API = ("train", "load_run", "plot_runs", "compose", "Run")


def __getattr__(name: str) -> object:
    if name in _API:
        from ldl import api

        return getattr(api, name)
    raise AttributeError(f"module 'ldl' has no attribute {name!r}")
