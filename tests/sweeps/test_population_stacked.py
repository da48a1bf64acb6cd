"""Stacked populations (trainer.population=auto|stacked, training/stacked.py): each member equals the
member trained alone bit for bit; where the model cannot be stacked, the members train as separate
models (also bit for bit) and say why in one line (docs/sweeps.md)."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pandas as pd
import pytest
from fixtures import write_boston_npz
from helpers import compose_config

from ldl.errors import ConfigError
from ldl.sweeps.cross_validation import fold_folder, train_or_cross_validate
from ldl.training.backend import tf

# Dropout and L2 on every kernel and bias: each member's own dropout draws and its own penalty.
MLP = ("experiment=c6_conf4", "model.l2_kernel=0.01", "model.l2_bias=0.01", "trainer.epochs=3",
       "trainer.seed=3", "trainer.verbose=0")  # fmt: skip


@pytest.fixture(scope="module")
def uneven_boston(tmp_path_factory) -> object:
    """Boston rows whose 3 folds leave training sets of different sizes, and with batch 6, a
    different number of steps per epoch (a member then sits out a step of the stacked epoch)."""
    directory = tmp_path_factory.mktemp("uneven_boston_stacked")
    write_boston_npz(directory, n=114)
    return directory


def _numbers(metrics: dict) -> dict:
    return {
        key: value
        for key, value in metrics.items()
        if key.startswith(("train/", "val/", "test/")) and isinstance(value, float)
    }


def _config(data_dir, run_dir, *overrides):
    return compose_config(
        *MLP, f"data_dir={data_dir}", f"run_dir={run_dir}", f"output_root={run_dir}", *overrides
    )


@pytest.mark.slow
def test_stacked_folds_equal_each_fold_trained_alone_bit_for_bit(uneven_boston, tmp_path, capsys):
    shape = ("cv.k=3", "trainer.batch_size=6")
    job = tmp_path / "together"
    train_or_cross_validate(_config(uneven_boston, job, *shape, "cv.fold=all"))
    out = capsys.readouterr().out
    assert "3 folds together in one graph" in out and "not stacked" not in out
    examples = []
    for fold in range(3):
        member = fold_folder(job, fold)
        together = json.loads((member / "metrics.json").read_text())
        alone_dir = tmp_path / f"alone_{fold}"
        alone = train_or_cross_validate(
            _config(uneven_boston, alone_dir, *shape, f"cv.fold={fold}")
        )
        pd.testing.assert_frame_equal(
            pd.read_csv(member / "history.csv"),
            pd.read_csv(alone_dir / "history.csv"),
            rtol=0,
        )
        # The written-back member model: its test numbers (evaluated after training) too.
        assert _numbers(together) == _numbers(alone) and _numbers(alone)
        assert (member / "tensorboard").is_dir() and (member / "model.keras").is_file()
        examples.append(together["train_examples"])
    assert len({math.ceil(n / 6) for n in examples}) == 2, examples


@pytest.mark.slow
def test_a_model_that_cannot_be_stacked_trains_as_separate_models_and_says_why(
    uneven_boston, tmp_path, capsys
):
    overrides = ("cv.k=2", "cv.fold=all", "optimizer=rmsprop", "trainer.epochs=1")
    train_or_cross_validate(_config(uneven_boston, tmp_path / "auto", *overrides))
    notes = [line for line in capsys.readouterr().out.splitlines() if "not stacked" in line]
    assert notes == [
        "The members train as separate models in one graph, not stacked: the optimizer is RMSprop "
        "(stacked: Adam and SGD)."
    ]
    wide = ("cv.k=2", "cv.fold=all", "model.hidden_units=[128,128]", "trainer.epochs=1")
    train_or_cross_validate(_config(uneven_boston, tmp_path / "wide", *wide))
    notes = [line for line in capsys.readouterr().out.splitlines() if "not stacked" in line]
    assert notes == [
        "The members train as separate models in one graph, not stacked: 18,433 parameters per "
        "member (stacking is faster up to 10,000; trainer.population=stacked stacks them anyway)."
    ]
    # trainer.population=stacked refuses them before any member's folder is written.
    stacked = tmp_path / "stacked"
    with pytest.raises(ConfigError, match=r"trainer\.population=stacked cannot stack") as refused:
        train_or_cross_validate(
            _config(uneven_boston, stacked, *overrides, "trainer.population=stacked")
        )
    assert "the optimizer is RMSprop" in str(refused.value)
    assert not list(stacked.glob("fold_*")), list(stacked.rglob("*"))
    in_turn = (*overrides, "trainer.population=stacked", "trainer.loop=fit")
    with pytest.raises(ConfigError, match=r"they would train in turn \(trainer\.loop=fit\)"):
        train_or_cross_validate(_config(uneven_boston, tmp_path / "in_turn", *in_turn))
    assert not list((tmp_path / "in_turn").glob("fold_*"))


def _twin_models(optimizer: str) -> list[keras.Model]:
    models = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)]
        )
        chosen = (
            keras.optimizers.Adam(0.05) if optimizer == "adam" else keras.optimizers.SGD(0.05, 0.9)
        )
        model.compile(optimizer=chosen, loss="mean_squared_error", metrics=["mae"])
        model.build((None, 3))
        model.optimizer.build(model.trainable_variables)
        models.append(model)
    return models


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_stacked_step_is_each_member_s_own_keras_step_bit_for_bit(optimizer):
    from ldl.training.stacked import StackedNetwork

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    y = rng.normal(size=(2, 5)).astype("float32")
    rows = [5, 3]  # member 1 takes a smaller batch
    alone, stacked = _twin_models(optimizer), _twin_models(optimizer)
    network = StackedNetwork(stacked)

    @tf.function
    def stacked_step():
        with tf.GradientTape() as tape:
            weights = network.pieces()
            losses = []
            for k in range(2):
                own_x, own_y = tf.constant(x[k, : rows[k]]), tf.constant(y[k, : rows[k]])
                predictions = network.forward(weights[k], own_x, k, True, None)
                losses.append(network.loss(weights[k], own_y, predictions, k))
            objective = tf.reduce_sum(tf.stack(losses))
        network.apply(tape.gradient(objective, network.weights), tf.constant([True, True]))

    steps = [tf.function(model.train_step) for model in alone]
    for _ in range(3):
        stacked_step()
        for k, step in enumerate(steps):
            step((tf.constant(x[k, : rows[k]]), tf.constant(y[k, : rows[k]])))
    network.write_back()
    for model_alone, model_stacked in zip(alone, stacked, strict=True):
        assert int(model_stacked.optimizer.iterations) == 3
        for a, b in zip(model_alone.weights, model_stacked.weights, strict=True):
            np.testing.assert_array_equal(b.numpy(), a.numpy())
        for a, b in zip(
            model_alone.optimizer.variables, model_stacked.optimizer.variables, strict=True
        ):
            np.testing.assert_array_equal(b.numpy(), a.numpy())
