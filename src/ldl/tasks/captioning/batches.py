"""Training batches that read their feature files when asked (keras.utils.PyDataset).

COCO's features do not fit in memory (~33 GB raw), so a batch is (features of its images, decoder
input), decoder target, with the features loaded from the cache in `__getitem__`. The batch order is a
pure function of (seed, epoch): `set_epoch` (called by the trainer's SetEpoch callback before each
epoch) picks the permutation, so a resumed run sees the same batches as an uninterrupted one; a
PyDataset indexes batches rather than iterating a generator, which keeps this true with worker threads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from ldl.tasks.captioning.cache import load_features


class CaptionBatches(keras.utils.PyDataset):
    def __init__(
        self,
        feature_files: Sequence[Path | str],
        decoder_input: np.ndarray,
        decoder_target: np.ndarray,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = False,
        workers: int = 1,
    ) -> None:
        super().__init__(workers=workers, use_multiprocessing=False)
        if len(feature_files) != len(decoder_input) or len(decoder_input) != len(decoder_target):
            raise ValueError("feature_files, decoder_input and decoder_target differ in length.")
        self.feature_files = [str(path) for path in feature_files]
        self.decoder_input = decoder_input
        self.decoder_target = decoder_target
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.epoch = 0

    # The trainer's pipeline interface (EpochShuffledDataset's): the dataset, its length, set_epoch.
    @property
    def dataset(self) -> CaptionBatches:
        return self

    @property
    def steps_per_epoch(self) -> int:
        return len(self)

    @property
    def num_examples(self) -> int:
        return len(self.feature_files)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return math.ceil(len(self.feature_files) / self.batch_size)

    def rows(self, index: int) -> np.ndarray:
        count = len(self.feature_files)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(count)
        else:
            order = np.arange(count)
        return order[index * self.batch_size : (index + 1) * self.batch_size]

    def __getitem__(self, index: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = self.rows(index)
        features = np.stack([load_features(self.feature_files[row]) for row in rows])
        return (features, self.decoder_input[rows]), self.decoder_target[rows]
