"""tf.data input pipelines whose shuffle order is a pure function of (seed, epoch).

Keras's own array shuffling depends on how many epochs the process has already run, so a resumed run
would see different batches than an uninterrupted one. Here every epoch draws its permutation from a
stateless generator keyed by (seed, epoch): a run resumed at epoch 7 sees exactly the batches that the
uninterrupted run saw at epoch 7, and the final metrics agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from ldl.data.aligned import is_aligned
from ldl.training.backend import tf

# A function of one batch (features, targets) -> (features, targets) run inside the tf.data graph, e.g.
# one-hot encoding of token ids (so the encoded windows never sit in memory) or data augmentation.
BatchTransform = Callable[[Any, Any], tuple[Any, Any]]


def _with_transform(dataset: Any, transform: BatchTransform | None) -> Any:
    """Map `transform` over the batches; no map at all without one (a map costs time per batch)."""
    return dataset if transform is None else dataset.map(transform)


def as_tensor(array: Any) -> Any:
    """`array` as a TensorFlow tensor; one that TensorFlow can read in place (numeric, aligned,
    writeable: ldl.data.aligned) is shared through DLPack, not copied, and marked read-only, since the
    tensor would see any later write. Anything else is copied, as tf.constant does."""
    if (
        isinstance(array, np.ndarray)
        and array.dtype.kind in "biuf"
        and array.size > 0
        and array.flags.writeable  # DLPack cannot export a read-only array
        and is_aligned(array)
    ):
        tensor = tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        array.flags.writeable = False
        return tensor
    return tf.constant(array)


def num_examples(x: Any) -> int:
    """Examples in `x`: one array, or a tuple/dict of arrays with one row per example each (the inputs
    of a multi-input model, e.g. a translator's source and decoder input)."""
    return len(tf.nest.flatten(x)[0])


class EpochShuffledDataset:
    """Training batches in an order that depends only on (seed, epoch).

    `dataset` yields one epoch per iteration; call `set_epoch` (done by the `SetEpoch` callback
    below) before each epoch starts.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        seed: int,
        shuffle: bool = True,
        transform: BatchTransform | None = None,
    ) -> None:
        self.num_examples = num_examples(x)
        self.batch_size = batch_size
        self.steps_per_epoch = math.ceil(self.num_examples / batch_size)
        self.seed = seed
        self.shuffle = shuffle
        self.transform = transform
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="data_epoch")
        # Kept for the multi-epoch graph loop (training/graph_loop.py), which reads the same tensors.
        self.features = features = tf.nest.map_structure(as_tensor, x)
        self.targets = targets = tf.nest.map_structure(as_tensor, y)

        def epoch_indices(_: Any) -> Any:
            indices = self.epoch_order(self._epoch.read_value())
            return tf.data.Dataset.from_tensor_slices(indices).batch(batch_size)

        def gather(batch_indices: Any) -> tuple[Any, Any]:
            batch = tf.nest.map_structure(lambda array: tf.gather(array, batch_indices), features)
            labels = tf.nest.map_structure(lambda array: tf.gather(array, batch_indices), targets)
            return batch, labels

        batches = tf.data.Dataset.from_tensors(0).flat_map(epoch_indices).map(gather)
        self.dataset = (
            _with_transform(batches, transform)
            .apply(tf.data.experimental.assert_cardinality(self.steps_per_epoch))
            .prefetch(tf.data.AUTOTUNE)
        )

    def epoch_order(self, epoch: Any) -> Any:
        """The example indices of `epoch` in training order (a tensor; usable inside a graph)."""
        indices = tf.range(self.num_examples, dtype=tf.int64)
        if not self.shuffle:
            return indices
        seed = tf.stack([tf.constant(self.seed, dtype=tf.int64), tf.cast(epoch, tf.int64)])
        return tf.random.experimental.stateless_shuffle(indices, seed=seed)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.assign(epoch)


class SetEpoch(keras.callbacks.Callback):
    """Tell the training pipeline which epoch begins, before Keras opens its iterator.

    Other objects with a `set_epoch(epoch)` method (a data augmentation's random generators) follow,
    so everything random in an epoch's batches is a function of (seed, epoch) and resumes exactly.
    """

    # The epoch it sets comes from fit() itself: a resumed run needs nothing saved.
    stateless = True

    def __init__(self, data: EpochShuffledDataset, *followers: Any) -> None:
        super().__init__()
        self.data = data
        self.followers = [f for f in followers if hasattr(f, "set_epoch")]

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.data.set_epoch(epoch)
        for follower in self.followers:
            follower.set_epoch(epoch)


def evaluation_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, transform: BatchTransform | None = None
) -> Any:
    """Batches for evaluation (a tf.data.Dataset), in order; the batch size changes speed, never the metrics."""
    tensors = tf.nest.map_structure(as_tensor, (x, y))
    dataset = tf.data.Dataset.from_tensor_slices(tensors).batch(batch_size)
    return _with_transform(dataset, transform).prefetch(2)
