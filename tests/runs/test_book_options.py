"""Options the book's chapters name that change data, models or reports (docs/options.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures import data_config, write_cifar10_batches

from ldl.data.datasets import prepare_data
from ldl.data.preprocessing import one_hot
from ldl.errors import ConfigError

# --- chapter 5: 0.1/0.9 targets; divide_255 scaling --------------------------------------------


def test_one_hot_with_other_target_values() -> None:
    encoded = one_hot(np.array([2, 0]), 3, off=0.1, on=0.9)
    np.testing.assert_allclose(encoded, [[0.1, 0.1, 0.9], [0.9, 0.1, 0.1]])
    assert encoded.dtype == np.float32


def test_mnist_targets_0_1_and_0_9(mnist_dir: Path) -> None:
    data = prepare_data(data_config("mnist", target_values=[0.1, 0.9], download=False), mnist_dir)
    assert np.unique(data.y_train).tolist() == pytest.approx([0.1, 0.9])
    assert np.all(np.sum(data.y_test == np.float32(0.9), axis=1) == 1)
    with pytest.raises(ConfigError, match="off < on"):
        prepare_data(data_config("mnist", target_values=[0.9, 0.1], download=False), mnist_dir)
    with pytest.raises(ConfigError, match="two numbers"):
        prepare_data(data_config("mnist", target_values=[0.1], download=False), mnist_dir)


def test_hand_written_network_uses_the_target_values(make_config, mnist_dir) -> None:
    from ldl.tasks.classic.mnist_program import load_network_arrays

    cfg = make_config("experiment=c4e2", f"data_dir={mnist_dir}", "data.target_values=[0.1,0.9]")
    arrays = load_network_arrays(cfg)
    assert sorted(np.unique(arrays.y_train).tolist()) == [0.1, 0.9]


def test_cifar10_divide_255(tmp_path: Path) -> None:
    written = write_cifar10_batches(tmp_path, n_train=50, n_test=20)
    data = prepare_data(data_config("cifar10", standardize="divide_255", download=False), tmp_path)
    images, _ = data.transform(data.x_test, data.y_test)
    np.testing.assert_allclose(images.numpy(), written.x_test / 255.0, rtol=1e-6)
    assert data.statistics == {"scale": 255.0}


# --- chapter 6: dropout placement ---------------------------------------------------------------


def test_dropout_per_hidden_layer_and_on_the_inputs() -> None:
    from ldl.models.fully_connected import build_fully_connected

    model = build_fully_connected(
        (13,), 1, [64, 64, 32], dropout=[0.0, 0.3, 0.1], input_dropout=0.2
    )
    dropouts = {layer.name: layer.rate for layer in model.layers if "dropout" in layer.name}
    assert dropouts == {"input_dropout": 0.2, "dropout_1": 0.3, "dropout_2": 0.1}
    # Dropout follows its hidden layer: dense_1 -> dropout_1.
    names = [layer.name for layer in model.layers]
    assert names.index("dropout_1") == names.index("dense_1") + 1
    assert model.count_params() == 13 * 64 + 64 + 64 * 64 + 64 + 64 * 32 + 32 + 33  # no weights
    with pytest.raises(ConfigError, match="2 rates for 3 hidden layers"):
        build_fully_connected((13,), 1, [8, 8, 8], dropout=[0.1, 0.2])
    with pytest.raises(ConfigError, match="input_dropout"):
        build_fully_connected((13,), 1, [8], input_dropout=1.0)


def test_dropout_list_passes_validation_only_for_the_fc_model(make_config) -> None:
    from ldl.config import validate_config

    validate_config(make_config("experiment=c6_conf5", "model.dropout=[0.2,0.2,0.0]"))
    with pytest.raises(ConfigError, match=r"model\.dropout must be a dropout rate"):
        validate_config(make_config("experiment=c11e1", "model.dropout=[0.2,0.2]"))


# --- chapter 9: padding side and value, masking, extra input series, a 1D-conv forecaster -------


def test_windows_padded_before_or_after_with_a_chosen_value() -> None:
    from ldl.tasks.forecasting.data import last_months, make_windows

    series = np.arange(1.0, 7.0, dtype=np.float32)  # months 1..6
    pre, y = make_windows(series, min_history=2)
    post, _ = make_windows(series, min_history=2, padding="post", padding_value=-9.0)
    np.testing.assert_array_equal(pre[0, :, 0], [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(post[0, :, 0], [1, 2, -9, -9, -9])
    np.testing.assert_array_equal(post[-1, :, 0], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(y[:, 0], [3, 4, 5, 6])
    np.testing.assert_array_equal(last_months(series, 2)[:, 0], [2, 3, 4, 5])
    two, target = make_windows(np.stack([series, 10 * series], axis=1), min_history=2)
    assert two.shape == (4, 5, 2)
    np.testing.assert_array_equal(two[0, -2:, 1], [10, 20])
    np.testing.assert_array_equal(target[:, 0], y[:, 0])  # the target is always feature 0
    with pytest.raises(ConfigError, match=r"data\.padding"):
        make_windows(series, padding="middle")


def _sales_dir(tmp_path: Path) -> Path:
    from sequence_fixtures import book_sales_values, write_book_sales_csv

    write_book_sales_csv(tmp_path)
    extra = (tmp_path / "book_store_sales.csv").read_text().splitlines()
    retail = [extra[0]] + [
        f"{line.split(',')[0]},{value}"
        for line, value in zip(extra[1:], 3 * book_sales_values(seed=5), strict=True)
    ]
    (tmp_path / "retail_sales.csv").write_text("\n".join(retail) + "\n")
    (tmp_path / "short.csv").write_text("\n".join(retail[:100]) + "\n")
    return tmp_path


def test_post_padding_keeps_the_naive_baseline_the_previous_month(tmp_path: Path) -> None:
    directory = _sales_dir(tmp_path)
    pre = prepare_data(data_config("book_sales"), directory)
    post = prepare_data(data_config("book_sales", padding="post", padding_value=-10.0), directory)
    np.testing.assert_array_equal(post.test_report.naive, pre.test_report.naive)
    np.testing.assert_array_equal(pre.test_report.naive, pre.x_test[:, -1, :1])
    assert post.x_test[0, -1, 0] == -10.0 and pre.x_test[0, 0, 0] == 0.0


def test_extra_input_series_are_standardized_separately(tmp_path: Path) -> None:
    directory = _sales_dir(tmp_path)
    data = prepare_data(data_config("book_sales", extra_series=["retail_sales.csv"]), directory)
    assert data.x_train.shape == (259, 270, 2) and data.x_test.shape == (56, 67, 2)
    last = data.x_train[-1, :, 1]  # the last window holds every training month but the last
    assert abs(float(last.mean())) < 0.1 and 0.9 < float(last.std()) < 1.1
    assert data.metadata["input_series"] == ["book_sales", "retail_sales.csv"]
    from ldl.errors import DataError

    with pytest.raises(DataError, match="must cover"):
        prepare_data(data_config("book_sales", extra_series=["short.csv"]), directory)


def test_masking_makes_the_padding_invisible() -> None:
    import keras

    from ldl.models.rnn import build_recurrent

    months = np.random.default_rng(0).normal(size=(1, 6, 1)).astype("float32")
    padded = np.concatenate([np.full((1, 10, 1), -10.0, "float32"), months], axis=1)
    for masking in (True, False):
        keras.utils.set_random_seed(3)
        model = build_recurrent((None, 1), 1, cell="simple_rnn", units=[8], output_activation="linear",
                                masking=masking, mask_value=-10.0)  # fmt: skip
        short, long = model(months).numpy(), model(padded).numpy()
        assert np.allclose(short, long, atol=1e-6) == masking
    with pytest.raises(ConfigError, match="mask_zero"):
        build_recurrent((40,), 10, embedding_dim=8, embedding_input_dim=10, masking=True)


def test_conv1d_forecaster_sees_only_its_receptive_field() -> None:
    from ldl.models.conv1d import build_conv1d, receptive_field

    model = build_conv1d((None, 1), 1, filters=[4, 4, 4], kernel_size=2, dilation_rates=[1, 2, 4])
    assert receptive_field(2, [1, 2, 4]) == 8
    x = np.random.default_rng(1).normal(size=(1, 20, 1)).astype("float32")
    far, near = x.copy(), x.copy()
    far[0, -9, 0] += 5.0  # just outside the last 8 steps
    near[0, -8, 0] += 5.0
    base = model(x).numpy()
    assert np.allclose(model(far).numpy(), base)
    assert not np.allclose(model(near).numpy(), base)
    assert model(x[:, -10:]).shape == (1, 1)  # any window length
    with pytest.raises(ConfigError, match="one per entry"):
        build_conv1d((None, 1), 1, filters=[4, 4], dilation_rates=[1])


@pytest.mark.slow
def test_c9e1_conv1d_runs_and_reports_the_naive_ratio(make_config, tmp_path: Path) -> None:
    from ldl.training.train import train

    directory = _sales_dir(tmp_path / "data")
    metrics = train(
        make_config("experiment=c9e1_conv1d", f"data_dir={directory}", "trainer.epochs=2")
    )
    assert metrics["status"] == "completed"
    assert metrics["test/mse_ratio_to_naive"] > 0


# --- chapter 11 (and 14): length normalization of beam search ---------------------------------


class _TwoWordStepper:
    """Next-token probabilities over PAD, A, STOP, START given the last token: after START, STOP is a
    little likelier than A; after A, STOP is very likely."""

    def start(self, sources: np.ndarray) -> None:
        return None

    def step(self, state: None, prefixes: np.ndarray) -> tuple[np.ndarray, None]:
        rows = [
            [0.0, 0.49, 0.51, 0.0] if row[-1] == 3 else [0.0, 0.05, 0.95, 0.0] for row in prefixes
        ]
        return np.asarray(rows), None

    def select(self, state: None, rows: np.ndarray) -> None:
        return None


def test_length_normalization_lets_a_longer_translation_win() -> None:
    from ldl.decoding import beam_decode, length_penalty

    stepper = _TwoWordStepper()
    plain = beam_decode(stepper, np.array([1]), start=3, stop=2, max_steps=5, beam_width=2)
    assert plain[0].ids == ()  # STOP at once: log 0.51 beats log 0.49 + log 0.95
    normalized = beam_decode(
        stepper, np.array([1]), start=3, stop=2, max_steps=5, beam_width=2, length_normalization=1.0
    )
    assert normalized[0].ids == (1,)
    expected = (np.log(0.49) + np.log(0.95)) / length_penalty(2, 1.0)
    assert normalized[0].normalized == pytest.approx(expected)
    assert length_penalty(7, 0.0) == 1.0
    with pytest.raises(ConfigError, match="length_normalization"):
        beam_decode(stepper, np.array([1]), 3, 2, 5, 2, length_normalization=-1.0)


# --- chapter 11: lowercasing the text --------------------------------------------------------------


def test_without_lowercasing_capitals_are_characters_of_their_own(tmp_path: Path) -> None:
    from sequence_fixtures import write_frankenstein

    from ldl.tasks.text.generation import Vocabulary

    write_frankenstein(tmp_path)
    lowered = prepare_data(data_config("frankenstein_chars"), tmp_path)
    kept = prepare_data(data_config("frankenstein_chars", lowercase=False), tmp_path)
    lower_vocabulary, kept_vocabulary = lowered.metadata["vocabulary"], kept.metadata["vocabulary"]
    assert not any(char.isupper() for char in lower_vocabulary)
    assert any(char.isupper() for char in kept_vocabulary)
    assert set(lower_vocabulary) < set(kept_vocabulary)
    # The prompt is read the way the text was: capitals kept (and known) without lowercasing.
    vocabulary = Vocabulary.from_metadata(kept.metadata)
    capital = next(char for char in kept_vocabulary if char.isupper())
    assert vocabulary.decode(vocabulary.encode(capital)) == capital
    with pytest.raises(ConfigError, match=r"data\.lowercase"):
        prepare_data(data_config("frankenstein_chars", lowercase="yes"), tmp_path)


# --- chapter 15: label smoothing ---------------------------------------------------------------------


def test_label_smoothing_moves_the_target_towards_uniform(tmp_path: Path) -> None:
    import keras
    from helpers import compose_config

    from ldl.training.compile import loss_and_metrics
    from ldl.training.losses import (
        FusedSparseCategoricalCrossentropy,
        SmoothedSparseCategoricalCrossentropy,
    )

    probabilities = np.array([[[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]], dtype="float32")
    ids = np.array([[0, 2]])
    smoothed = float(SmoothedSparseCategoricalCrossentropy(0.3)(ids, probabilities))
    targets = 0.7 * np.eye(3)[ids] + 0.1  # (1 - eps) * one-hot + eps / 3
    assert smoothed == pytest.approx(float(np.mean(-(targets * np.log(probabilities)).sum(-1))))
    plain = float(keras.losses.SparseCategoricalCrossentropy()(ids, probabilities))
    assert smoothed > plain
    # the option reaches compile(), and a model compiled with it saves and loads
    loss = loss_and_metrics(compose_config("experiment=c14e1", "label_smoothing=0.1"))["loss"]
    assert isinstance(loss, SmoothedSparseCategoricalCrossentropy) and loss.label_smoothing == 0.1
    # without smoothing, Keras's sparse cross-entropy (on the fused kernel on a CPU: test_losses.py)
    unsmoothed = loss_and_metrics(compose_config("experiment=c14e1"))["loss"]
    assert isinstance(unsmoothed, FusedSparseCategoricalCrossentropy)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(loss=loss)
    model.save(tmp_path / "model.keras")
    assert keras.saving.load_model(tmp_path / "model.keras").loss.label_smoothing == 0.1
    with pytest.raises(ConfigError, match="cross-entropy"):
        loss_and_metrics(compose_config("experiment=c9e1", "label_smoothing=0.1"))


# --- chapter 12: perplexity, an Embedding started from GloVe vectors --------------------------------


def test_perplexity_is_the_exponential_of_the_mean_token_cross_entropy() -> None:
    from ldl.training.metrics import Perplexity, metric_objects

    probabilities = np.array([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]], dtype="float32")
    ids = np.array([[0, 1]])
    metric = Perplexity()
    metric.update_state(ids, probabilities)
    metric.update_state(ids[:, :1], probabilities[:, :1])  # a second batch: a token-weighted mean
    expected = np.exp(-(2 * np.log(0.5) + np.log(0.8)) / 3)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    masked = Perplexity()
    masked.update_state(ids, probabilities, sample_weight=np.array([[1.0, 0.0]]))
    assert float(masked.result()) == pytest.approx(2.0, rel=1e-5)  # only the first token counts
    uniform = Perplexity()
    uniform.update_state(ids, np.full((1, 2, 3), 1 / 3, dtype="float32"))
    assert float(uniform.result()) == pytest.approx(3.0, rel=1e-5)
    [made] = metric_objects(["perplexity"], "categorical_crossentropy")
    assert isinstance(made, Perplexity) and not made.sparse


def write_glove_text(path: Path, words: list[str], dimension: int, seed: int = 0) -> np.ndarray:
    """A GloVe text file as Stanford ships it: `word v1 ... vd`, space separated, six decimals."""
    vectors = np.round(np.random.default_rng(seed).normal(size=(len(words), dimension)), 6)
    lines = [
        " ".join([word, *(f"{value:.6f}" for value in row)])
        for word, row in zip(words, vectors, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vectors.astype("float32")


@pytest.mark.slow
@pytest.mark.parametrize("trainable", [False, True])
def test_c12e1_embedding_starts_from_glove_vectors(make_config, tmp_path: Path, trainable) -> None:
    import keras
    from sequence_fixtures import write_frankenstein

    from ldl.training.train import train

    write_frankenstein(tmp_path)
    vocabulary = prepare_data(data_config("frankenstein_words", max_words=40), tmp_path)
    words = vocabulary.metadata["vocabulary"]
    in_file = [word for word in words[2:] if word != "UNK"][::2]  # half the words, plus strangers
    vectors = write_glove_text(tmp_path / "glove.test.6d.txt", [",", *in_file, "zyzzyva"], 6)
    overrides = [
        "experiment=c12e1", f"data_dir={tmp_path}", "data.max_words=40", "data.window_length=6",
        "data.pretrained_embeddings=glove.test.6d.txt",
        f"model.embedding_trainable={str(trainable).lower()}", "model.units=[8,8]",
        "model.recurrent_dropout=0.0", "model.dense_units=[8]", "metrics=[perplexity]",
        "trainer.epochs=1", "logger=none", "callbacks.embedding_projector=null",
    ]  # fmt: skip
    metrics = train(make_config(*overrides, "model.embedding_dim=6"))
    assert metrics["test/perplexity"] == pytest.approx(np.exp(metrics["test/loss"]), rel=1e-3)
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    matrix = model.get_layer("embedding").get_weights()[0]
    rows = [words.index(word) for word in in_file]
    if trainable:
        assert not np.allclose(matrix[rows], vectors[1:-1])  # started there, then trained
    else:
        np.testing.assert_array_equal(matrix[rows], vectors[1:-1])
    with pytest.raises(ConfigError, match="shapes"):
        train(make_config(*overrides, "model.embedding_dim=5", run_dir=tmp_path / "narrow"))


# --- chapter 8: depthwise separable convolutions, the Inception module ----------------------------


def _cnn(layers: list[str]):
    from ldl.models.cnn import build_cnn

    return build_cnn(input_shape=(16, 16, 3), num_outputs=10, layers=layers)


def test_separable_convolution_has_the_depthwise_and_pointwise_weights() -> None:
    dense = 16 * 16 * 8 * 10 + 10  # the output layer after the flattened 16x16x8 maps
    assert _cnn(["C8-k3"]).count_params() == 3 * 3 * 3 * 8 + 8 + dense
    separable = _cnn(["SC8-k3"])
    assert separable.count_params() == 3 * 3 * 3 + 3 * 8 + 8 + dense
    assert type(separable.get_layer("separable_conv_1")).__name__ == "SeparableConv2D"
    doubled = _cnn(["SC8-k3-m2-bn"])  # two depthwise filters per channel, then batch norm
    assert doubled.get_layer("separable_conv_1").depth_multiplier == 2
    assert doubled.count_params() == 3 * 3 * 3 * 2 + 6 * 8 + 8 + 4 * 8 + dense


def test_inception_module_concatenates_its_four_branches() -> None:
    model = _cnn(["I8-4-8-2-4-4", "G"])
    assert model.get_layer("inception_1").output.shape == (None, 16, 16, 8 + 8 + 4 + 4)
    weights = (3 * 8 + 8) + (3 * 4 + 4 + 4 * 9 * 8 + 8) + (3 * 2 + 2 + 2 * 25 * 4 + 4) + (3 * 4 + 4)
    assert model.count_params() == weights + 24 * 10 + 10
    default = _cnn(["I64"]).get_layer("inception_1").output.shape
    assert default[-1] == 64 + 64 + 16 + 16  # I64 = I64-48-64-8-16-16
    # every branch sees the input: zeroing the 5x5 branch's weights changes the output
    x = np.random.default_rng(0).normal(size=(1, 16, 16, 3)).astype("float32")
    before = np.asarray(model(x))
    layer = model.get_layer("inception_1_5x5")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    assert np.abs(np.asarray(model(x)) - before).max() > 1e-6
    with pytest.raises(ConfigError, match="six"):
        _cnn(["I8-4-8"])


def test_chapter8_layers_compose_from_an_experiment(make_config) -> None:
    from ldl.config import validate_config

    validate_config(make_config("experiment=c7e2", "model.layers=[SC32-k3-s2,I16,G]"))


# --- chapter 5's comparison figures: the test error of several runs in one chart ------------------


def _finished_run(folder: Path, overrides: list[str], errors: list[float]) -> None:
    """A run folder as training leaves it: config.yaml, history.csv and metrics.json."""
    from helpers import compose_config
    from omegaconf import OmegaConf

    from ldl.runs.files import write_json
    from ldl.runs.report import write_history

    folder.mkdir(parents=True)
    config = compose_config(*overrides, f"run_dir={folder}")
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(config))
    history = [{"train/error": e / 2, "val/error": e, "val/loss": 2 * e} for e in errors]
    write_history(folder / "history.csv", history)
    write_json(folder / "metrics.json", {"experiment": config.experiment_id, "status": "completed"})


@pytest.mark.slow
def test_ldl_report_plots_the_test_error_of_every_run(tmp_path: Path, capsys) -> None:
    from ldl.cli.main import main
    from ldl.runs.comparison import run_curves

    runs = tmp_path / "runs"
    _finished_run(runs / "a", ["experiment=c5e2"], [0.3, 0.2, 0.1])
    _finished_run(runs / "b", ["experiment=c5e2", "optimizer.learning_rate=0.1"], [0.4, 0.35])
    curves = run_curves(runs)
    # curves are named by the setting in which the runs differ (its last part, unambiguous here)
    assert [curve.label for curve in curves] == ["learning_rate=0.001", "learning_rate=0.1"]
    first, second = (curve.series for curve in curves)
    assert first.tolist() == [0.3, 0.2, 0.1] and list(second.index) == [1, 2]
    assert run_curves(runs, "val/loss")[1].series.tolist() == [0.8, 0.7]
    _finished_run(
        runs / "c", ["experiment=c5e2"], [0.5]
    )  # the same settings as a: one legend entry
    assert [curve.label for curve in run_curves(runs)].count("learning_rate=0.001") == 2
    figure = tmp_path / "figures" / "test_error.png"
    assert main(["report", str(runs), f"plot={figure}"]) == 0
    assert "val/error of 3 run(s)" in capsys.readouterr().out
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert main(["report", str(runs), f"plot={figure}", "metric=val/mae"]) == 2
    assert "val/mae" in capsys.readouterr().err


# --- chapter 11: multi-step prediction, one model with m outputs or one model per horizon -------


def test_windows_with_a_horizon_of_several_months() -> None:
    from ldl.tasks.forecasting.data import last_months, make_windows

    series = np.arange(1.0, 8.0, dtype=np.float32)  # months 1..7
    x, y = make_windows(series, min_history=2, horizon=3)
    np.testing.assert_array_equal(y, [[3, 4, 5], [4, 5, 6], [5, 6, 7]])
    np.testing.assert_array_equal(x[-1, -4:, 0], [1, 2, 3, 4])  # never a target month as input
    _, last = make_windows(series, min_history=2, horizon=3, horizon_targets="last")
    np.testing.assert_array_equal(last[:, 0], [5, 6, 7])
    np.testing.assert_array_equal(last_months(series, 2, 3, 3), [[2] * 3, [3] * 3, [4] * 3])
    with pytest.raises(ConfigError, match=r"data\.horizon_targets"):
        make_windows(series, horizon=2, horizon_targets="first")


@pytest.mark.slow
def test_c9e1_predicts_three_months_at_once(make_config, tmp_path: Path) -> None:
    from ldl.training.train import train

    (tmp_path / "data").mkdir()
    directory = _sales_dir(tmp_path / "data")
    data = prepare_data(data_config("book_sales", horizon=3), directory)
    assert data.num_outputs == 3 and data.y_test.shape == (54, 3)
    assert data.test_report.naive.shape == (54, 3)
    metrics = train(
        make_config(
            "experiment=c9e1", f"data_dir={directory}", "data.horizon=3", "trainer.epochs=1",
            "logger=none",
        )
    )  # fmt: skip
    assert metrics["status"] == "completed"
    assert {f"test/mse_ratio_to_naive_step_{k}" for k in (1, 2, 3)} <= set(metrics)


# --- chapter 12's exercise: a bag-of-words / bag-of-n-grams sentiment classifier on IMDB ----------


def write_aclimdb(directory: Path, per_class: int = 40, seed: int = 0) -> None:
    """A small aclImdb tree as the archive unpacks: {train,test}/{pos,neg}/<id>_<rating>.txt, with
    `<br />` line breaks; positive reviews say "good" or "great", negative ones "not good" or "awful"."""
    rng = np.random.default_rng(seed)
    filler = ["the", "film", "plot", "actors", "was", "and", "a", "movie", "story", "it"]
    cues = {"pos": ["good", "great", "loved"], "neg": ["not good", "awful", "boring"]}
    for split in ("train", "test"):
        for label, words in cues.items():
            folder = directory / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for index in range(per_class):
                body = [*rng.choice(filler, size=12), str(rng.choice(words))]
                rng.shuffle(body)
                rating = 8 if label == "pos" else 2
                text = " ".join(body[:6]) + ".<br /><br />" + " ".join(body[6:]) + "!"
                (folder / f"{index}_{rating}.txt").write_text(text, encoding="utf-8")


def test_imdb_reviews_become_bags_of_words_or_word_pairs(tmp_path: Path) -> None:
    from ldl.tasks.text.imdb import bag_matrix, review_tokens

    assert review_tokens("Not good.<br />Good!") == ["not", "good", "good"]
    assert review_tokens("not good film", ngrams=2)[-2:] == ["not good", "good film"]
    np.testing.assert_array_equal(bag_matrix([[1, 3, 3]], 4, "count"), [[0, 1, 0, 2]])
    np.testing.assert_array_equal(bag_matrix([[1, 3, 3], []], 4, "binary"), [[0, 1, 0, 1], [0] * 4])
    write_aclimdb(tmp_path)
    words = prepare_data(data_config("imdb_bow", max_words=30), tmp_path)
    pairs = prepare_data(data_config("imdb_bow", max_words=60, ngrams=2), tmp_path)
    assert words.x_train.shape == (80, 30) and words.y_train.shape == (80, 2)
    assert set(np.unique(words.x_train)) <= {0.0, 1.0}
    assert "br" not in words.metadata["features"] and "not good" in pairs.metadata["features"]
    assert "not good" not in words.metadata["features"]
    row = words.metadata["features"].index("awful")  # an awful review is a negative one
    assert (words.y_train[words.x_train[:, row] == 1, 0] == 1).all()
    with pytest.raises(ConfigError, match=r"data\.ngrams"):
        prepare_data(data_config("imdb_bow", ngrams=3), tmp_path)
    from ldl.errors import DataError

    with pytest.raises(DataError, match="aclImdb"):
        prepare_data(data_config("imdb_bow"), tmp_path / "elsewhere")


@pytest.mark.slow
def test_c12_bow_learns_the_sentiment_of_generated_reviews(make_config, tmp_path: Path) -> None:
    from ldl.training.train import train

    write_aclimdb(tmp_path)
    metrics = train(
        make_config(
            "experiment=c12_bow", f"data_dir={tmp_path}", "data.max_words=200", "data.ngrams=2",
            "trainer.epochs=20", "trainer.batch_size=16", "optimizer.learning_rate=0.01",
            "logger=none", "trainer.seed=0",
        )
    )  # fmt: skip
    assert metrics["status"] == "completed" and metrics["test/accuracy"] >= 0.95


# --- chapter 13: word2vec training, CBOW or skip-gram with negative sampling ------------------------


def test_word2vec_examples_pair_each_word_with_its_neighbours_and_noise() -> None:
    from ldl.tasks.text.word2vec import training_examples

    ids = np.array([2, 3, 4, 5, 6, 7, 2, 3, 4, 5], dtype=np.int32)
    (first, candidate), target = training_examples(ids, "skipgram", 1, 2, 10)
    positives = {
        (int(a), int(b))
        for a, b, t in zip(first[:, 0], candidate[:, 0], target[:, 0], strict=True)
        if t
    }
    expected = {(int(ids[t]), int(ids[t + o])) for t in range(1, 9) for o in (-1, 1)}
    assert positives == expected and len(target) == 8 * 2 * 3 and target.sum() == 16
    assert (candidate[target[:, 0] == 0] >= 2).all()  # noise is never padding or UNK
    (context, centre), cbow_target = training_examples(ids, "cbow", 2, 1, 10)
    assert context.shape == (12, 4) and cbow_target.sum() == 6
    rows = cbow_target[:, 0] == 1
    assert {tuple(r) for r in np.sort(context[rows], axis=1)} >= {
        (2, 3, 5, 6)
    }  # around the 4 at t=2
    assert 4 in centre[rows][:, 0]
    with pytest.raises(ConfigError, match=r"data\.method"):
        training_examples(ids, "glove", 1, 1, 10)


def test_word2vec_model_scores_the_dot_product_and_can_tie_its_matrices() -> None:
    from ldl.tasks.text.word2vec import build_word2vec

    model = build_word2vec(((4,), (1,)), vocabulary=20, embedding_dim=3)
    tied = build_word2vec(((4,), (1,)), vocabulary=20, embedding_dim=3, tied=True)
    assert model.count_params() == 2 * 20 * 3 and tied.count_params() == 20 * 3
    words, candidate = np.array([[2, 3, 4, 5]]), np.array([[7]])
    inputs = model.get_layer("embedding").get_weights()[0]
    outputs = model.get_layer("context_embedding").get_weights()[0]
    expected = 1 / (1 + np.exp(-inputs[[2, 3, 4, 5]].mean(0) @ outputs[7]))
    assert float(np.asarray(model([words, candidate]))[0, 0]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_c13_word2vec_trains_and_its_vectors_answer_queries(make_config, tmp_path: Path, capsys):
    from sequence_fixtures import write_frankenstein

    from ldl.cli.main import main
    from ldl.training.train import train

    write_frankenstein(tmp_path, sentences=60)
    for method in ("skipgram", "cbow"):
        run = tmp_path / method
        metrics = train(
            make_config(
                "experiment=c13_word2vec", f"data_dir={tmp_path}", "data.max_words=40",
                f"data.method={method}", "model.embedding_dim=8", "trainer.epochs=2",
                "trainer.seed=0", "logger=none", run_dir=run,
            )
        )  # fmt: skip
        assert metrics["status"] == "completed" and metrics["test/accuracy"] > 0.5
    assert main(["embeddings", f"run={tmp_path / 'cbow'}", "nearest=the"]) == 0
    assert "the" in capsys.readouterr().out
