"""Chapter 4's hand-written MNIST network (c4e2) and its Appendix F forms (aFe1, aFe2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ldl.errors import ConfigError
from ldl.tasks.classic import mnist_program
from ldl.tasks.classic.mnist_network import (
    EpochResult,
    TrainingState,
    TwoLayerNetwork,
    count_correct,
    format_epoch,
    run_epoch,
    train_batch,
    train_example,
)
from ldl.training.train import train


def _examples(count: int, inputs: int = 784, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standardized-looking inputs and one-hot targets whose class depends on the inputs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, inputs))
    labels = np.argmax(x[:, :10], axis=1)
    y = np.zeros((count, 10))
    y[np.arange(count), labels] = 1.0
    return x, y


# --- the book's listing, verbatim in spirit: a per-neuron transcription to check against ------------


class BookListing:
    """Chapter 4's forward_pass / backward_pass / adjust_weights with the listing's loops and globals
    turned into attributes; the reference the fast implementations must reproduce."""

    def __init__(self, hidden_w: np.ndarray, output_w: np.ndarray, learning_rate: float) -> None:
        self.hidden_layer_w, self.output_layer_w = hidden_w.copy(), output_w.copy()
        self.hidden_layer_y = np.zeros(len(hidden_w))
        self.output_layer_y = np.zeros(len(output_w))
        self.hidden_layer_error = np.zeros(len(hidden_w))
        self.output_layer_error = np.zeros(len(output_w))
        self.learning_rate = learning_rate

    def forward_pass(self, x: np.ndarray) -> None:
        for i, w in enumerate(self.hidden_layer_w):
            z = np.dot(w, x)
            self.hidden_layer_y[i] = np.tanh(z)
        hidden_output_array = np.concatenate((np.array([1.0]), self.hidden_layer_y))
        for i, w in enumerate(self.output_layer_w):
            z = np.dot(w, hidden_output_array)
            self.output_layer_y[i] = 1.0 / (1.0 + np.exp(-z))

    def backward_pass(self, y_truth: np.ndarray) -> None:
        for i, y in enumerate(self.output_layer_y):
            error_prime = -(y_truth[i] - y)
            derivative = y * (1.0 - y)
            self.output_layer_error[i] = error_prime * derivative
        for i, y in enumerate(self.hidden_layer_y):
            error_weights = []
            for w in self.output_layer_w:
                error_weights.append(w[i + 1])
            error_weight_array = np.array(error_weights)
            derivative = 1.0 - y**2
            weighted_error = np.dot(error_weight_array, self.output_layer_error)
            self.hidden_layer_error[i] = weighted_error * derivative

    def adjust_weights(self, x: np.ndarray) -> None:
        for i, error in enumerate(self.hidden_layer_error):
            self.hidden_layer_w[i] -= x * self.learning_rate * error
        hidden_output_array = np.concatenate((np.array([1.0]), self.hidden_layer_y))
        for i, error in enumerate(self.output_layer_error):
            self.output_layer_w[i] -= hidden_output_array * self.learning_rate * error


def test_initialization_follows_the_books_draw_order() -> None:
    saved = np.random.get_state()
    try:
        np.random.seed(7)
        hidden = np.zeros((25, 785))
        for i in range(25):
            for j in range(1, 785):
                hidden[i][j] = np.random.uniform(-0.1, 0.1)
        output = np.zeros((10, 26))
        for i in range(10):
            for j in range(1, 26):
                output[i][j] = np.random.uniform(-0.1, 0.1)
    finally:
        np.random.set_state(saved)
    network = TwoLayerNetwork.initialize(np.random.RandomState(7))
    np.testing.assert_array_equal(network.hidden_weights, hidden)
    np.testing.assert_array_equal(network.output_weights, output)
    assert network.hidden_weights[:, 0].tolist() == [0.0] * 25


def test_shuffling_an_index_array_equals_the_books_list_shuffle() -> None:
    """The persistent order is an array for speed; NumPy permutes it exactly like the listing's list."""
    listing_order, array_order = list(range(1000)), np.arange(1000)
    first, second = np.random.RandomState(7), np.random.RandomState(7)
    for _ in range(3):
        first.shuffle(listing_order)
        second.shuffle(array_order)
        assert array_order.tolist() == listing_order


@pytest.mark.parametrize("implementation", ["neuron_loop", "layer", "matrix"])
def test_every_implementation_reproduces_the_listing(implementation: str) -> None:
    x, y = _examples(150)
    network = TwoLayerNetwork.initialize(np.random.RandomState(7))
    book = BookListing(network.hidden_weights, network.output_weights, 0.01)
    for row, target in zip(x, y, strict=True):
        inputs = np.concatenate((np.array([1.0]), row))
        book.forward_pass(inputs)
        book_output = book.output_layer_y.copy()
        book.backward_pass(target)
        book.adjust_weights(inputs)
        output = train_example(network, inputs, target, 0.01, implementation)  # type: ignore[arg-type]
        np.testing.assert_allclose(output, book_output, rtol=0, atol=1e-14)
    if implementation == "neuron_loop":  # the same operations in the same order: bit for bit
        np.testing.assert_array_equal(network.hidden_weights, book.hidden_layer_w)
    np.testing.assert_allclose(network.hidden_weights, book.hidden_layer_w, rtol=0, atol=1e-13)
    np.testing.assert_allclose(network.output_weights, book.output_layer_w, rtol=0, atol=1e-13)


def test_epoch_line_is_the_books_print(capsys: pytest.CaptureFixture[str]) -> None:
    train_accuracy, test_accuracy = 0.85631666, 0.9157
    print("epoch no:", 0, ", train_acc: ", "%6.4f" % train_accuracy,  # noqa: UP031
          ", test_acc: ", "%6.4f" % test_accuracy)  # noqa: UP031  # fmt: skip
    expected = capsys.readouterr().out.rstrip("\n")
    assert format_epoch(EpochResult(0, train_accuracy, test_accuracy)) == expected
    assert expected == "epoch no: 0 , train_acc:  0.8563 , test_acc:  0.9157"


def test_a_batch_of_one_is_a_per_example_step() -> None:
    x, y = _examples(1)
    inputs = np.concatenate((np.array([1.0]), x[0]))
    single = TwoLayerNetwork.initialize(np.random.RandomState(3))
    batched = single.copy()
    train_example(single, inputs, y[0], 0.05, "matrix")
    train_batch(batched, inputs[:, None], y[0][:, None], 0.05)
    np.testing.assert_allclose(batched.hidden_weights, single.hidden_weights, rtol=0, atol=1e-15)
    np.testing.assert_allclose(batched.output_weights, single.output_weights, rtol=0, atol=1e-15)


def test_a_mini_batch_step_is_the_mean_of_the_per_example_steps() -> None:
    x, y = _examples(8)
    start = TwoLayerNetwork.initialize(np.random.RandomState(5))
    columns = np.concatenate((np.ones((1, 8)), x.T))
    averaged, unaveraged = start.copy(), start.copy()
    train_batch(averaged, columns, y.T, 0.1)
    train_batch(unaveraged, columns, y.T, 0.1, average_hidden_gradient=False)
    hidden_steps, output_steps = [], []
    for row, target in zip(x, y, strict=True):  # each example's step from the same start weights
        network = start.copy()
        train_example(network, np.concatenate((np.array([1.0]), row)), target, 0.1, "matrix")
        hidden_steps.append(start.hidden_weights - network.hidden_weights)
        output_steps.append(start.output_weights - network.output_weights)
    mean_hidden, mean_output = np.mean(hidden_steps, axis=0), np.mean(output_steps, axis=0)
    np.testing.assert_allclose(
        start.hidden_weights - averaged.hidden_weights, mean_hidden, atol=1e-15
    )
    np.testing.assert_allclose(
        start.output_weights - averaged.output_weights, mean_output, atol=1e-15
    )
    # The printed listing's bug: the hidden layer's step is the sum, 8 times the mean.
    np.testing.assert_allclose(
        start.hidden_weights - unaveraged.hidden_weights, 8 * mean_hidden, atol=1e-14
    )
    np.testing.assert_array_equal(unaveraged.output_weights, averaged.output_weights)


def _epoch_batches(
    monkeypatch: pytest.MonkeyPatch, batch_order: str, examples: int = 100, batch_size: int = 10
) -> list[list[int]]:
    """The example indices each batch of one epoch trains on (recorded through train_batch)."""
    import ldl.tasks.classic.mnist_network as network_module

    # Example i's inputs are all i, so a batch's first input row names its examples.
    x = np.arange(examples, dtype=float)[:, None] * np.ones((1, 3))
    y = np.zeros((examples, 10))
    y[:, 0] = 1.0
    seen: list[list[int]] = []
    original = network_module.train_batch

    def recording(net, columns, targets, rate, average):
        seen.append([int(v) for v in columns[1]])
        return original(net, columns, targets, rate, average)

    monkeypatch.setattr(network_module, "train_batch", recording)
    state = TrainingState.start(7, examples, 3, 10, batch_size=batch_size, batch_order=batch_order)  # type: ignore[arg-type]
    run_epoch(state, x, y, 0.01, batch_size, batch_order=batch_order)  # type: ignore[arg-type]
    return seen


def test_batch_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    shuffled_batches = _epoch_batches(monkeypatch, "shuffled_batches")
    assert sorted(i for batch in shuffled_batches for i in batch) == list(range(100))
    assert all(batch == list(range(batch[0], batch[0] + 10)) for batch in shuffled_batches)
    assert [batch[0] for batch in shuffled_batches] != list(range(0, 100, 10))
    listing = _epoch_batches(monkeypatch, "printed_listing")
    assert listing == [list(range(start, start + 10)) for start in range(0, 90, 10)]
    shuffled_examples = _epoch_batches(monkeypatch, "shuffled_examples")
    assert sorted(i for batch in shuffled_examples for i in batch) == list(range(100))
    assert any(batch != sorted(batch) for batch in shuffled_examples)


def test_the_test_count_quirk_drops_the_last_full_batch_but_divides_by_all() -> None:
    x, _ = _examples(100)
    labels = TwoLayerNetwork.initialize(np.random.RandomState(1)).predict(x).argmax(axis=1)
    network = TwoLayerNetwork.initialize(np.random.RandomState(1))
    assert count_correct(network, x, labels) == 100
    # Batches start at 0, 32, 64 (below 100 - 32): 96 of the 100 examples are evaluated.
    assert count_correct(network, x, labels, 32, "full_batches_quirk") == 96
    assert count_correct(network, x, labels, 1, "full_batches_quirk") == 100


# --- runs through train(): the run folder, determinism, resume, options -----------------------------


def test_c4e2_run_leaves_a_complete_run_folder(make_config, mnist_dir, tmp_path, capsys):
    cfg = make_config("experiment=c4e2", f"data_dir={mnist_dir}", "trainer.epochs=3")
    metrics = train(cfg)
    lines = capsys.readouterr().out.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch no:")]
    assert len(epoch_lines) == 3
    assert epoch_lines[2] == format_epoch(
        EpochResult(2, metrics["epoch_2/train/accuracy"], metrics["epoch_2/test/accuracy"])
    )
    run = tmp_path / "run"
    for name in ("config.yaml", "metrics.json", "history.csv", "learning_curve.png", "output.txt",
                 "weights.npz"):  # fmt: skip
        assert (run / name).is_file(), name
    recorded = json.loads((run / "metrics.json").read_text())
    assert recorded["status"] == "completed"
    assert recorded["epochs_completed"] == 3 and recorded["seed"] == 7
    assert recorded["parameters"] == 25 * 785 + 10 * 26
    assert (
        recorded["book_verdict/epoch_0/train/accuracy"] == "outside"
    )  # stand-in digits, not MNIST
    assert recorded["book_verdict/epoch_5/train/accuracy"] == "not measured"
    history = pd.read_csv(run / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3]
    assert history["val/accuracy"].iloc[-1] == pytest.approx(metrics["test/accuracy"])
    assert metrics["test/accuracy"] > 0.8  # the stand-in digits are easy
    assert "epoch no: 2" in (run / "output.txt").read_text()


@pytest.mark.slow
def test_same_seed_same_numbers_and_implementations_agree(make_config, mnist_dir, tmp_path):
    base = ("experiment=c4e2", f"data_dir={mnist_dir}", "trainer.epochs=2")
    first = train(make_config(*base, run_dir=tmp_path / "a"))
    again = train(make_config(*base, run_dir=tmp_path / "b"))
    matrix = train(make_config(*base, "model.implementation=matrix", run_dir=tmp_path / "c"))
    other_seed = train(make_config(*base, "trainer.seed=8", run_dir=tmp_path / "d"))
    for key in ("epoch_0/train/accuracy", "epoch_1/test/accuracy", "test/accuracy"):
        assert first[key] == again[key] == matrix[key], key
    assert first["epoch_0/train/accuracy"] != other_seed["epoch_0/train/accuracy"]


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_uninterrupted_result(
    make_config, mnist_dir, tmp_path, monkeypatch
):
    base = (
        "experiment=c4e2",
        f"data_dir={mnist_dir}",
        "trainer.epochs=4",
        "model.checkpoint_every=1",
    )
    straight = train(make_config(*base, run_dir=tmp_path / "straight"))

    calls = {"count": 0}
    original = mnist_program.run_epoch

    def dies_in_the_third_epoch(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(mnist_program, "run_epoch", dies_in_the_third_epoch)
    # Called from Python (no `ldl` process), the interruption reaches the caller as itself.
    with pytest.raises(KeyboardInterrupt):
        train(make_config(*base, run_dir=tmp_path / "resumed"))
    state = json.loads((tmp_path / "resumed" / "checkpoint" / "state.json").read_text())
    assert state["epochs_completed"] == 2
    monkeypatch.setattr(mnist_program, "run_epoch", original)
    resumed = train(make_config(*base, run_dir=tmp_path / "resumed"))
    for key, value in straight.items():
        if key.startswith(("epoch_", "test/", "train/")):
            assert resumed[key] == value, key
    history = pd.read_csv(tmp_path / "resumed" / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3, 4]


def test_restore_best_reloads_the_checkpoint_with_the_lowest_held_out_error(
    make_config, mnist_dir, tmp_path, capsys
):
    metrics = train(
        make_config(
            "experiment=c4e2", f"data_dir={mnist_dir}", "trainer.epochs=4", "model.restore_best=true",
            "optimizer.learning_rate=0.3",  # large steps: the test accuracy goes up and down
        )
    )  # fmt: skip
    accuracies = [metrics[f"epoch_{epoch}/test/accuracy"] for epoch in range(4)]
    assert metrics["best_epoch"] == int(np.argmax(accuracies))
    assert metrics["test/accuracy"] == pytest.approx(max(accuracies))
    assert f"Restored the checkpoint of epoch {metrics['best_epoch']}" in capsys.readouterr().out


def test_holdout_validation_is_evaluated_each_epoch_and_the_test_set_once(
    make_config, mnist_dir, capsys
):
    metrics = train(
        make_config(
            "experiment=c4e2", f"data_dir={mnist_dir}", "trainer.epochs=1", "trainer.validation=holdout",
            "trainer.validation_fraction=0.25",
        )
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "train/validation/test examples: 450/150/200" in out
    assert "val_acc:" in out and "epoch_0/val/accuracy" in metrics
    assert "test/accuracy" in metrics


def test_afe2_mini_batches_run_with_the_listings_quirks(make_config, mnist_dir, tmp_path):
    metrics = train(make_config("experiment=aFe2", f"data_dir={mnist_dir}", "trainer.epochs=2"))
    assert metrics["epochs_completed"] == 2
    # 200 stand-in test images, batches of 32 starting below 168: 192 are counted, divided by 200.
    assert metrics["epoch_1/test/accuracy"] <= 192 / 200
    assert metrics["test/accuracy"] > 0.5  # the final evaluation counts all 200
    listing = train(
        make_config(
            "experiment=aFe2", f"data_dir={mnist_dir}", "trainer.epochs=1",
            "model.batch_order=printed_listing", "model.average_hidden_gradient=false",
            "optimizer.learning_rate=0.05", run_dir=tmp_path / "listing",
        )
    )  # fmt: skip
    # 600 stand-in training images: the listing trains on 18 batches (576) but divides by 600.
    assert listing["epoch_0/train/accuracy"] <= 576 / 600


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("optimizer=adam",), "hand-written gradient descent"),
        (("model.hidden_units=[25,25]",), "one hidden layer"),
        (("model.implementation=fast",), "model.implementation"),
        (("model.hidden_activation=sign",), "no useful derivative"),
        (("data.one_hot=false",), "one-hot"),
        (("data.standardize=per_feature",), "data.standardize"),
        (("trainer.batch_size=100000",), "exceeds"),
    ],
)
def test_bad_options_are_clear_config_errors(make_config, mnist_dir, overrides, message):
    cfg = make_config("experiment=c4e2", f"data_dir={mnist_dir}", "trainer.epochs=1", *overrides)
    with pytest.raises(ConfigError, match=message):
        train(cfg)


def test_the_network_trains_on_mnist_only(make_config, boston_dir):
    with pytest.raises(ConfigError, match="data=mnist"):
        train(make_config("experiment=c4e2", "data=boston_housing", f"data_dir={boston_dir}"))


@pytest.mark.real_data
@pytest.mark.slow
def test_c4e2_prints_the_books_first_two_epochs_on_the_real_mnist(
    make_config, real_data_dir, capsys
):
    metrics = train(make_config("experiment=c4e2", f"data_dir={real_data_dir}", "trainer.epochs=2"))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch no:")]
    assert lines == [
        "epoch no: 0 , train_acc:  0.8563 , test_acc:  0.9157",
        "epoch no: 1 , train_acc:  0.9203 , test_acc:  0.9240",
    ]
    assert metrics["book_verdict/epoch_1/test/accuracy"] == "within"


# --- inspections: c4e1 (MNIST) and c7e1 (CIFAR-10) --------------------------------------------------


def test_c4e1_prints_the_books_inspection(make_config, mnist_dir, tmp_path, capsys):
    from fixtures import make_mnist_arrays

    from ldl.tasks.inspection.programs import pattern_lines

    metrics = train(make_config("experiment=c4e1", f"data_dir={mnist_dir}"))
    out = capsys.readouterr().out.splitlines()
    splits = make_mnist_arrays(600, 200)
    assert "dimensions of train_images:  (600, 28, 28)" in out
    assert "dimensions of test_labels:  (200,)" in out
    assert f"label for first training example:  {splits.y_train[0]}" in out
    start = out.index("---beginning of pattern for first training example---")
    assert out[start + 1 : start + 29] == pattern_lines(splits.x_train[0])
    assert out[start + 29] == "---end of pattern for first training example---"
    assert metrics["data/label"] == splits.y_train[0]
    assert (tmp_path / "run" / "example.png").is_file()


def test_pattern_lines_mark_every_non_zero_pixel() -> None:
    from ldl.tasks.inspection.programs import pattern_lines

    image = np.zeros((2, 3), dtype=np.uint8)
    image[0, 1], image[1, 2] = 1, 255
    assert pattern_lines(image) == ["  *   ", "    * "]


def test_c7e1_prints_the_category_and_pixel_of_image_100(make_config, tmp_path, capsys):
    from fixtures import write_cifar10_batches

    splits = write_cifar10_batches(tmp_path / "data", n_train=150, n_test=20)
    metrics = train(make_config("experiment=c7e1", f"data_dir={tmp_path / 'data'}"))
    out = capsys.readouterr().out
    label = int(splits.y_train[100, 0])
    assert f"Category:  [{label}]" in out
    assert "dimensions of train_labels:  (150, 1)" in out
    assert metrics["data/label"] == label
    assert [metrics[f"data/pixel_0_0/{c}"] for c in ("red", "green", "blue")] == list(
        splits.x_train[100, 0, 0]
    )
    assert (tmp_path / "run" / "example.png").is_file()


def test_inspection_refuses_other_datasets_and_bad_indices(
    make_config, mnist_dir, boston_dir, tmp_path
):
    with pytest.raises(ConfigError, match="data=mnist"):
        train(make_config("experiment=c4e1", "data=boston_housing", f"data_dir={boston_dir}"))
    with pytest.raises(ConfigError, match="outside the 600"):
        train(
            make_config(
                "experiment=c4e1", f"data_dir={mnist_dir}", "model.example_index=600",
                run_dir=tmp_path / "index",
            )
        )  # fmt: skip
