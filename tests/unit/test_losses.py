"""Sparse cross-entropy on TensorFlow's fused kernel (training/losses.py): the same numbers as Keras's
own loss, deterministic on a CPU with deterministic ops on, saved and loaded with the model."""

from __future__ import annotations

import hashlib

import keras
import numpy as np
import pytest
from tensorflow.python.framework import config as tf_config

from ldl.tf_setup import import_tensorflow
from ldl.training.losses import FusedSparseCategoricalCrossentropy, fused_cross_entropy_on_cpu

tf = import_tensorflow()


@pytest.fixture
def op_determinism():
    """Set TensorFlow's op determinism for one test, then put back what it was (training turns it on
    for the whole process)."""
    was = tf_config.is_op_determinism_enabled()

    def set_to(enabled: bool) -> None:
        (tf_config.enable_op_determinism if enabled else tf_config.disable_op_determinism)()

    yield set_to
    set_to(was)


def _translator_like(seed: int) -> keras.Model:
    """Token ids -> masked embedding -> LSTM -> softmax over 50 words at every position."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(7,), dtype="int32")
    x = keras.layers.Embedding(30, 8, mask_zero=True)(inputs)
    x = keras.layers.LSTM(16, return_sequences=True)(x)
    return keras.Model(inputs, keras.layers.Dense(50, activation="softmax")(x))


def _train(loss: keras.losses.Loss | str) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 30, size=(64, 7))
    tokens[:, 5:] = 0  # padded positions: the mask must keep them out of the loss
    targets = rng.integers(0, 50, size=(64, 7))
    model = _translator_like(seed=3)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
    model.fit(tokens, targets, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return [np.asarray(w) for w in model.get_weights()]


def test_training_matches_keras_own_loss_bit_for_bit(op_determinism) -> None:
    op_determinism(False)  # where Keras's loss reaches the fused kernel too
    for ours, theirs in zip(
        _train(FusedSparseCategoricalCrossentropy()),
        _train(keras.losses.SparseCategoricalCrossentropy()),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)


def test_probabilities_without_a_softmax_op_and_ids_with_a_trailing_axis() -> None:
    probabilities = tf.constant([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    ids = tf.constant([[0], [2]])
    ours = FusedSparseCategoricalCrossentropy()(ids, probabilities)
    theirs = keras.losses.SparseCategoricalCrossentropy()(ids, probabilities)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-6)
    np.testing.assert_allclose(float(ours), -np.mean(np.log([0.7, 0.8])), rtol=1e-6)


def test_the_fused_kernel_is_deterministic_on_a_cpu_under_deterministic_ops(op_determinism) -> None:
    op_determinism(True)
    rng = np.random.default_rng(1)
    logits = tf.constant(rng.normal(size=(512, 2000)).astype(np.float32) * 3)
    ids = tf.constant(rng.integers(0, 2000, 512))
    loss = FusedSparseCategoricalCrossentropy()

    @tf.function
    def loss_and_gradient():
        with tf.GradientTape() as tape:
            tape.watch(logits)
            probabilities = tf.nn.softmax(logits)
            value = loss(ids, probabilities)
        return value, tape.gradient(value, logits)

    digests = set()
    for _ in range(4):
        value, gradient = loss_and_gradient()
        digests.add(hashlib.sha256(value.numpy().tobytes() + gradient.numpy().tobytes()).digest())
    assert len(digests) == 1


def test_the_loss_is_saved_and_loaded_with_the_model(tmp_path) -> None:
    model = _translator_like(seed=0)
    model.compile(optimizer="adam", loss=FusedSparseCategoricalCrossentropy())
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.loss, FusedSparseCategoricalCrossentropy)


def test_only_sparse_cross_entropy_is_replaced_and_only_without_a_gpu() -> None:
    assert not tf.config.list_logical_devices("GPU")  # this suite runs on CPUs
    assert isinstance(
        fused_cross_entropy_on_cpu("sparse_categorical_crossentropy"),
        FusedSparseCategoricalCrossentropy,
    )
    both = fused_cross_entropy_on_cpu({"digit": "sparse_categorical_crossentropy", "sum": "mse"})
    assert isinstance(both["digit"], FusedSparseCategoricalCrossentropy) and both["sum"] == "mse"
    assert fused_cross_entropy_on_cpu("categorical_crossentropy") == "categorical_crossentropy"
