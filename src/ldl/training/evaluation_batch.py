"""`trainer.eval_batch_size`: how many examples a validation or test pass reads at a time.

The size changes speed and memory, not what is measured (only the float rounding of the summed
metrics). Large batches amortise TensorFlow's per-step cost, which is what small dense models need
(c5e1 trains at batch 1; validating at batch 1 would take most of its time). For a convolutional
model a large batch is a cost of its own: c7_conf5's first convolutions give 256 KB of outputs per
CIFAR-10 image, so a batch of 1,024 holds several 268 MB tensors, fresh memory that the C library
hands back to the operating system after each pass and that a virtual machine then faults in again,
page by page, at the next. `auto` therefore sizes the batch by the model's layer outputs: as many
examples as fit ACTIVATION_BUDGET_BYTES when every layer's output is counted (more than is ever alive
at once, so the budget is a safe one), at least the training batch (whose step holds more than an
evaluation step does) and at most MAX_EVAL_BATCH_SIZE.
"""

from __future__ import annotations

import math
from typing import Literal

import keras

from ldl.training.keras_internals import nested_layers

EvalBatchSize = int | Literal["auto"]

# 64 MiB of layer outputs per evaluation batch. c7_conf5, 2 epochs on 10,000 CIFAR-10 images with
# 2,000 validated, whole process: at batch 1,024 7.6 s of system time and a 1,559 MiB peak; at auto's
# 84, 2.6 s and 1,004 MiB (median of 4 alternating runs, docs/benchmarks.md).
ACTIVATION_BUDGET_BYTES = 64 * 2**20
MAX_EVAL_BATCH_SIZE = 1024


def activation_bytes_per_example(model: keras.Model) -> int | None:
    """Bytes of every layer output (nested models' layers included) for one example; None when a
    layer's output shape is unknown (a subclassed layer called outside the functional API)."""
    total = 0
    for layer in nested_layers(model):
        try:
            outputs = keras.tree.flatten(layer.output)
        except (AttributeError, ValueError):  # a layer with no symbolic output of its own
            return None
        for output in outputs:
            sizes = output.shape[1:]
            if any(size is None for size in sizes):  # e.g. variable-length sequences
                return None
            total += math.prod(sizes) * _bytes_per_value(str(output.dtype))
    return total


def _bytes_per_value(dtype: str) -> int:
    """float32 -> 4, bfloat16 -> 2, bool -> 1 (NumPy has no bfloat16 to ask)."""
    bits = "".join(character for character in dtype if character.isdigit())
    return int(bits) // 8 if bits else 1


def evaluation_batch_size(setting: EvalBatchSize, model: keras.Model, train_batch_size: int) -> int:
    """`trainer.eval_batch_size` as a number: itself, or for `auto` the size the module docstring
    describes (MAX_EVAL_BATCH_SIZE when the model's output shapes are unknown)."""
    if setting != "auto":
        return int(setting)
    per_example = activation_bytes_per_example(model)
    if not per_example:
        return MAX_EVAL_BATCH_SIZE
    fitting = ACTIVATION_BUDGET_BYTES // per_example
    return int(max(train_batch_size, min(MAX_EVAL_BATCH_SIZE, fitting)))
