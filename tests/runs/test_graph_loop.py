"""The multi-epoch graph loop (`trainer.loop=graph`) against fit(): the same numbers, epoch by epoch."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fixtures import write_cifar10_npz
from sequence_fixtures import write_book_sales_csv

from ldl.errors import ConfigError
from ldl.tf_setup import import_tensorflow
from ldl.training.train import train

tf = import_tensorflow()


@pytest.fixture(scope="module")
def sales_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sales_data")
    write_book_sales_csv(directory)
    return directory


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cifar_data")
    write_cifar10_npz(directory, n_train=96, n_test=32)
    return directory


# Each kind of in-memory experiment: MNIST classification, Boston regression with dropout (random
# generator state), book-sales windows through an RNN, and two inputs with two named outputs.
CASES = {
    "c5e2": ("mnist_dir", ("trainer.epochs=2",)),
    "c6_conf4": ("boston_dir", ("trainer.epochs=4",)),
    "c9e1": ("sales_dir", ("trainer.epochs=3",)),
    "c17e3": ("mnist_dir", ("trainer.epochs=2",)),
}
# The quick suite runs the Boston case; MNIST, the RNN and the two-output ones are slow.
CASE_PARAMS = [
    pytest.param(name, marks=[pytest.mark.slow] if name in ("c5e2", "c9e1", "c17e3") else [])
    for name in CASES
]


@pytest.mark.parametrize("experiment", CASE_PARAMS)
def test_the_graph_loop_records_the_same_epochs_as_fit(experiment, make_config, request, tmp_path):
    data_fixture, settings = CASES[experiment]
    data_dir = request.getfixturevalue(data_fixture)
    results = {}
    for loop in ("fit", "graph"):
        cfg = make_config(
            f"experiment={experiment}",
            f"data_dir={data_dir}",
            "trainer.seed=1",
            f"trainer.loop={loop}",
            *settings,
            run_dir=tmp_path / loop,
        )
        metrics = train(cfg)
        results[loop] = (metrics, pd.read_csv(tmp_path / loop / "history.csv"))
    (fit_metrics, fit_history), (graph_metrics, graph_history) = results.values()
    # Bit for bit: the same batches (the (seed, epoch) permutation), the same train_step and
    # test_step, the same order of floating-point operations.
    pd.testing.assert_frame_equal(graph_history, fit_history, check_exact=True)
    tests = {key: value for key, value in fit_metrics.items() if key.startswith("test/")}
    assert tests and tests == {key: graph_metrics[key] for key in tests}


@pytest.mark.slow
def test_auto_takes_the_graph_loop_only_where_it_can_run(
    make_config, boston_dir, tmp_path, monkeypatch
):
    from ldl.training import graph_loop

    calls = []
    real = graph_loop.fit_in_graph

    def recording(*arguments, **keywords):
        calls.append(True)
        return real(*arguments, **keywords)

    overrides = ("experiment=c6_conf1", f"data_dir={boston_dir}", "trainer.epochs=2")
    monkeypatch.setattr("ldl.training.recipe.fit_in_graph", recording)
    train(make_config(*overrides, run_dir=tmp_path / "plain"))
    assert calls == [True]
    # output.txt still gets one line per epoch, with the call's seconds per epoch.
    lines = (tmp_path / "plain" / "output.txt").read_text().splitlines()
    assert [line.split(" - ")[0] for line in lines if line.startswith("epoch ")] == [
        "epoch 1/2",
        "epoch 2/2",
    ]
    # Early stopping looks at the weights of each epoch: only fit() can serve it.
    train(make_config(*overrides, "callbacks=early_stopping", run_dir=tmp_path / "stopping"))
    assert calls == [True]
    assert json.loads((tmp_path / "stopping" / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_a_convnet_stays_on_fit_and_forcing_the_graph_loop_says_why(
    make_config, cifar_dir, tmp_path, monkeypatch
):
    from ldl.training import graph_loop

    calls = []
    real = graph_loop.fit_in_graph
    monkeypatch.setattr(
        "ldl.training.recipe.fit_in_graph", lambda *a, **k: calls.append(True) or real(*a, **k)
    )
    overrides = ("experiment=c7_conf2", f"data_dir={cifar_dir}", "trainer.epochs=1")
    metrics = train(make_config(*overrides, run_dir=tmp_path / "auto"))
    assert calls == [] and metrics["status"] == "completed"
    with pytest.raises(ConfigError, match="convolution layers"):
        train(make_config(*overrides, "trainer.loop=graph", run_dir=tmp_path / "graph"))


def test_forcing_the_graph_loop_where_it_cannot_run_is_a_clear_error(make_config, boston_dir):
    cfg = make_config(
        "experiment=c6_conf1",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.loop=graph",
        "callbacks=early_stopping",
    )
    with pytest.raises(ConfigError, match=r"EarlyStopping acts during training.*trainer.loop=fit"):
        train(cfg)


def _epoch_scalars(folder) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {
        tag: [
            (event.step, float(tf.make_ndarray(event.tensor_proto)))
            for event in events.Tensors(tag)
        ]
        for tag in events.Tags()["tensors"]
        if tag.startswith("epoch_")
    }


@pytest.mark.slow
def test_the_graph_loop_writes_the_same_tensorboard_scalars(make_config, boston_dir, tmp_path):
    for loop in ("fit", "graph"):
        train(
            make_config(
                "experiment=c6_conf1",
                f"data_dir={boston_dir}",
                "trainer.epochs=7",
                "trainer.seed=0",
                f"trainer.loop={loop}",
                run_dir=tmp_path / loop,
            )
        )
    for split in ("train", "validation"):
        by_fit = _epoch_scalars(tmp_path / "fit" / "tensorboard" / split)
        by_graph = _epoch_scalars(tmp_path / "graph" / "tensorboard" / split)
        assert by_graph == by_fit
        assert [step for step, _ in by_fit["epoch_loss"]] == list(range(7))
    assert "epoch_learning_rate" in _epoch_scalars(tmp_path / "graph" / "tensorboard" / "train")
