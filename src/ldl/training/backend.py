"""TensorFlow for the training modules, imported in one place.

Through `ldl.tf_setup.import_tensorflow` (quiet: no C++ start-up banner on stderr). Only the modules
that train a Keras model import this one, so a command that trains nothing, or a NumPy program,
never loads TensorFlow.
"""

from __future__ import annotations

from ldl.tf_setup import import_tensorflow

tf = import_tensorflow()
