"""Chapter 17 part 1: the outlier autoencoder, the multimodal and multitask networks, several named
inputs and outputs in the runner, and the tuning-workflow options (overfit subset, training fraction,
learning curve over training-set size)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from fixtures import make_cifar10_arrays, write_cifar10_npz, write_idx, write_mnist_idx
from helpers import compose_config, run_ldl

from ldl.cli.eval_command import comparison_table
from ldl.data.datasets import prepare_data
from ldl.errors import ConfigError, DataError
from ldl.models import build_model
from ldl.runs.saved_model import load_run_model
from ldl.sweeps.size_curve import size_curve_frame, write_size_curve
from ldl.tasks.multimodal.data import descriptions, encode, questions_and_answers, word_tokenizer
from ldl.tasks.outliers.outlier_sets import (
    cifar10_as_gray_digits,
    load_fashion_mnist_test_images,
    load_outlier_images,
)
from ldl.tasks.outliers.report import ReconstructionReport
from ldl.training.evaluate import evaluate_run
from ldl.training.train import train

QUICK = ("trainer.epochs=2", "trainer.seed=0", "trainer.verbose=0")


@pytest.fixture(scope="module")
def chapter17_data(tmp_path_factory) -> Path:
    """MNIST stand-ins, a Fashion-MNIST test-image file in Keras's cache layout, and CIFAR-10."""
    directory = tmp_path_factory.mktemp("chapter17_data")
    write_mnist_idx(directory / "mnist", n_train=300, n_test=60, gzip=True)
    clothes = np.random.default_rng(1).integers(100, 256, size=(60, 28, 28)).astype(np.uint8)
    write_idx(directory / "fashion-mnist" / "t10k-images-idx3-ubyte.gz", clothes)
    write_cifar10_npz(directory, n_train=20, n_test=30)
    return directory


def run_config(data_dir: Path, run_dir: Path, *overrides: str):
    return compose_config(
        *QUICK,
        f"data_dir={data_dir}",
        f"run_dir={run_dir}",
        f"output_root={run_dir.parent}",
        *overrides,
    )


# --- the book's networks, parameter for parameter ---------------------------------------------


@pytest.mark.parametrize(
    ("experiment", "input_shape", "parameters"),
    [
        ("c17e1", (28, 28), 101_200),
        ("c17e2", ((28, 28), (2,)), 20_533),
        ("c17e2_const_text", ((28, 28), (2,)), 20_533),
        ("c17e3", ((28, 28), (2,)), 20_559),
    ],
)
def test_parameter_counts_match_the_book(experiment, input_shape, parameters):
    cfg = compose_config(f"experiment={experiment}")
    model = build_model(cfg.model, cfg.initializer, input_shape, 10)
    assert model.count_params() == parameters


def test_the_autoencoder_draws_glorot_normal_kernels_and_zero_biases():
    cfg = compose_config("experiment=c17e1")
    model = build_model(cfg.model, cfg.initializer, (28, 28), 784)
    code = model.get_layer("code")
    assert code.kernel_initializer.__class__.__name__ == "GlorotNormal"
    assert not np.any(code.bias.numpy())
    assert model.output_shape == (None, 28, 28)


# --- the text and question rules ------------------------------------------------------------------


def test_the_tokenizer_numbers_the_six_words_as_the_book():
    tokenizer = word_tokenizer()
    assert [tokenizer.word_index[w] for w in ("lower", "upper", "half", "even", "odd", "number")] == [
        1, 2, 3, 4, 5, 6,
    ]  # fmt: skip
    assert encode(["lower half", "upper half", "even number", "odd number"]).tolist() == [
        [1, 3], [2, 3], [4, 6], [5, 6],
    ]  # fmt: skip


def test_the_text_of_an_example_follows_its_position_and_label():
    labels = np.array([3, 3, 7, 7, 4, 9])
    assert descriptions(labels) == [
        "lower half",  # 0: even position, 3 < 5
        "odd number",  # 1: odd position, 3 is odd
        "upper half",  # 2: 7 >= 5
        "odd number",  # 3
        "lower half",  # 4: 4 < 5
        "odd number",  # 5: 9 is odd
    ]
    assert descriptions(labels, "constant") == ["lower half"] * 6


def test_the_question_follows_position_mod_four_and_the_answer_the_label():
    labels = np.array([2, 2, 2, 2, 7, 7, 7, 7])
    questions, answers = questions_and_answers(labels)
    assert questions == ["lower half", "upper half", "even number", "odd number"] * 2
    assert answers.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    assert answers.dtype == np.float32


def test_multimodal_data_keeps_image_and_text_rows_together_through_a_holdout(chapter17_data):
    cfg = compose_config("experiment=c17e3")
    data = prepare_data(cfg.data, chapter17_data, validation="holdout", validation_fraction=0.25)
    assert set(data.x_train) == {"image", "text"} and set(data.y_train) == {"digit", "answer"}
    assert len(data.x_train["text"]) == len(data.y_train["answer"]) == 225
    assert len(data.x_val["image"]) == len(data.y_val["digit"]) == 75
    # Every kept row's question still answers its own digit.
    index_of = {tuple(ids): q for q, ids in zip(
        ["lower half", "upper half", "even number", "odd number"],
        encode(["lower half", "upper half", "even number", "odd number"]).tolist(), strict=True,
    )}  # fmt: skip
    truths = {
        "lower half": lambda d: d < 5,
        "upper half": lambda d: d >= 5,
        "even number": lambda d: d % 2 == 0,
        "odd number": lambda d: d % 2 == 1,
    }
    for ids, digit, answer in zip(
        data.x_val["text"], data.y_val["digit"], data.y_val["answer"], strict=True
    ):
        assert float(truths[index_of[tuple(ids)]](int(digit))) == answer


# --- several named outputs: loss weights --------------------------------------------------------


def test_loss_weights_weigh_the_heads_as_computed_by_hand():
    cfg = compose_config("experiment=c17e3")
    keras.utils.set_random_seed(0)
    model = build_model(cfg.model, cfg.initializer, ((28, 28), (2,)), 10)
    rng = np.random.default_rng(0)
    x = {"image": rng.normal(size=(32, 28, 28)).astype("float32"),
         "text": rng.integers(1, 7, size=(32, 2)).astype("int32")}  # fmt: skip
    y = {"digit": rng.integers(0, 10, 32), "answer": rng.integers(0, 2, 32).astype("float32")}
    losses = {"digit": "sparse_categorical_crossentropy", "answer": "binary_crossentropy"}
    totals = {}
    for weights in ((0.5, 0.5), (0.9, 0.1)):
        model.compile(
            loss=losses, loss_weights=dict(zip(("digit", "answer"), weights, strict=True))
        )
        logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
        by_hand = weights[0] * logs["digit_loss"] + weights[1] * logs["answer_loss"]
        assert logs["loss"] == pytest.approx(by_hand, rel=1e-5)
        totals[weights] = logs["loss"]
    assert totals[(0.5, 0.5)] != pytest.approx(totals[(0.9, 0.1)])


# --- the outlier sets and the reconstruction report ---------------------------------------------


def test_fashion_mnist_is_read_from_keras_cache_layout(chapter17_data):
    images = load_fashion_mnist_test_images(chapter17_data, download=False)
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8


def test_missing_fashion_mnist_names_the_file_folder_and_url(tmp_path):
    with pytest.raises(DataError) as error:
        load_fashion_mnist_test_images(tmp_path, download=False)
    message = str(error.value)
    assert "t10k-images-idx3-ubyte.gz" in message and str(tmp_path) in message
    assert "storage.googleapis.com/tensorflow/tf-keras-datasets" in message


def test_cifar10_gray_is_luma_of_the_central_crop(tmp_path):
    images = make_cifar10_arrays(n_train=1, n_test=3).x_test
    gray = cifar10_as_gray_digits(images)
    assert gray.shape == (3, 28, 28) and gray.dtype == np.uint8
    r, g, b = (images[1, 5, 7, c].astype(float) for c in range(3))
    assert gray[1, 3, 5] == round(0.299 * r + 0.587 * g + 0.114 * b)


def test_unknown_outlier_set_is_refused_before_training(chapter17_data, tmp_path):
    cfg = run_config(chapter17_data, tmp_path / "run", "experiment=c17e1", "data.outliers=shoes")
    with pytest.raises(ConfigError, match=r"data\.outliers='shoes' \(str\) is not allowed"):
        train(cfg)
    assert not (tmp_path / "run" / "model.keras").exists()


class HalfGrey(keras.Model):
    """Reconstructs every image as uniform 0.5 grey: its errors are mean |x - 0.5| by hand."""

    def call(self, inputs):
        return keras.ops.ones_like(inputs) * 0.5


def test_the_reconstruction_report_matches_a_hand_computation(tmp_path):
    rng = np.random.default_rng(2)
    mnist = rng.uniform(0.4, 0.6, size=(20, 28, 28)).astype("float32")
    outliers = rng.uniform(0.0, 1.0, size=(10, 28, 28)).astype("float32")
    report = ReconstructionReport(
        mnist, outliers, "fashion_mnist", threshold=0.05, top_k_outliers=2
    )
    metrics = report(HalfGrey(), tmp_path)

    mnist_errors = np.abs(mnist - 0.5).reshape(20, -1).mean(axis=1)
    outlier_errors = np.abs(outliers - 0.5).reshape(10, -1).mean(axis=1)
    assert metrics["test/mnist_error_mean"] == pytest.approx(mnist_errors.mean(), rel=1e-5)
    assert metrics["test/mnist_error_median"] == pytest.approx(np.median(mnist_errors), rel=1e-5)
    assert metrics["test/outliers_error_above_threshold"] == pytest.approx(
        (outlier_errors > 0.05).mean()
    )
    assert metrics["test/top_outliers"] == list(np.argsort(mnist_errors)[::-1][:2])
    for name in ("reconstruction_errors.png", "reconstructions.png", "top_outliers.png"):
        assert (tmp_path / name).stat().st_size > 1000
    saved = np.load(tmp_path / "reconstruction_errors.npz")
    np.testing.assert_allclose(saved["outliers"], outlier_errors, rtol=1e-5)


# --- end to end --------------------------------------------------------------------------------


@pytest.mark.slow
def test_c17e1_runs_and_reports_both_outlier_sets(chapter17_data, tmp_path):
    for outliers in ("fashion_mnist", "cifar10_gray"):
        run = tmp_path / outliers
        metrics = train(
            run_config(chapter17_data, run, "experiment=c17e1", f"data.outliers={outliers}")
        )
        assert metrics["parameters"] == 101_200
        assert 0 < metrics["test/mnist_error_median"] < 1
        assert "book_verdict/test/mnist_error_median" in metrics
        assert (run / "reconstruction_errors.png").exists() and (run / "top_outliers.png").exists()
    # The stand-in clothes are bright, the stand-in digits dark: only a working model tells them apart.
    assert metrics["test/outliers_error_median"] > 0


@pytest.mark.slow
def test_c17e2_runs_the_probe_and_eval_reproduces_it(chapter17_data, tmp_path):
    run = tmp_path / "c17e2"
    metrics = train(run_config(chapter17_data, run, "experiment=c17e2"))
    probe = (run / "probe.txt").read_text().splitlines()
    assert probe[0].startswith("test example 0: label ")
    assert probe[1].startswith("with 'upper half': ") and probe[2].startswith("with 'lower half': ")
    assert 0 <= metrics["probe/upper_half/prediction"] <= 9
    recomputed = evaluate_run(run)
    assert recomputed["test/accuracy"] == pytest.approx(metrics["test/accuracy"], abs=1e-6)


@pytest.mark.slow
def test_c17e3_reports_every_head_by_name(chapter17_data, tmp_path):
    run = tmp_path / "c17e3"
    metrics = train(run_config(chapter17_data, run, "experiment=c17e3"))
    history = pd.read_csv(run / "history.csv")
    for column in (
        "train/digit_accuracy",
        "val/digit_error",
        "train/answer_loss",
        "val/answer_error",
    ):
        assert column in history
    for key in (
        "test/digit_accuracy",
        "test/answer_accuracy",
        "test/digit_error",
        "test/answer_loss",
    ):
        assert key in metrics
    assert metrics["book_verdict/test/answer_accuracy"] in ("within", "outside")
    assert evaluate_run(run)["test/answer_accuracy"] == pytest.approx(
        metrics["test/answer_accuracy"], abs=1e-6
    )
    assert isinstance(load_run_model(run).model.output, dict)


@pytest.mark.slow
def test_a_crashed_multi_output_run_resumes_to_the_uninterrupted_result(chapter17_data, tmp_path):
    # A checkpoint after every epoch, so the crash after epoch 2 has one to resume from.
    overrides = ("experiment=c17e3", "trainer.epochs=3", "trainer.checkpoint_seconds=0")
    whole = train(run_config(chapter17_data, tmp_path / "whole", *overrides))
    crash = "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2}"
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(run_config(chapter17_data, tmp_path / "crashed", *overrides, crash))
    resumed = train(run_config(chapter17_data, tmp_path / "crashed", *overrides, crash))
    for key, value in whole.items():
        if key.startswith(("test/", "val/", "train/")) and isinstance(value, float):
            assert resumed[key] == value, key
    assert len(pd.read_csv(tmp_path / "crashed" / "history.csv")) == 3


@pytest.mark.slow
def test_a_k_fold_sweep_of_a_multi_output_run_is_summarized_reported_and_evaluated(
    chapter17_data, tmp_path
):
    sweep = tmp_path / "kfold"
    result = run_ldl(
        "train", "-m", "experiment=c17e3", "cv.fold=0,1", *QUICK, f"data_dir={chapter17_data}",
        f"output_root={tmp_path}", f"hydra.sweep.dir={sweep}", timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(sweep / "summary.csv")
    assert len(summary) == 2 and {"val/digit_accuracy", "val/answer_accuracy"} <= set(summary)
    report = run_ldl("report", sweep)
    # Each k-fold job is shown with its validation metrics (it measures no test metrics).
    assert report.returncode == 0, report.stdout
    for job in ("0_c17e3", "1_c17e3"):
        assert f"| {job} | completed | val/answer_accuracy |" in report.stdout, report.stdout
    # A k-fold run never measures the test set, so eval has nothing recorded to compare with.
    evaluated = run_ldl("eval", f"run={sweep / '0_c17e3'}", f"data_dir={chapter17_data}")
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert (
        "test/answer_accuracy" in evaluated.stdout
        and "recorded no test metrics" in evaluated.stdout
    )


def test_eval_aligns_long_head_names_and_tells_unrecorded_from_different_values():
    now = {"test/answer_accuracy": 0.9, "test/digit_accuracy": 0.95, "test/loss": 0.3}
    recorded = {"test/answer_accuracy": 0.9, "test/digit_accuracy": 0.5}
    header, *lines = comparison_table(now, recorded)
    # Every value ends in the header's columns, however long the head's name.
    assert {len(line.split("  (")[0]) for line in lines} == {len(header)}
    assert lines[0].endswith("0.900000") and lines[1].endswith("(differs)")
    assert lines[2].endswith("-  (not recorded)")


# --- the tuning workflow ---------------------------------------------------------------------


def test_training_subsets_are_seeded_and_leave_validation_and_test_whole(chapter17_data):
    cfg = compose_config("experiment=c5e2", "data.train_fraction=0.25")
    quarter = prepare_data(cfg.data, chapter17_data)
    again = prepare_data(cfg.data, chapter17_data)
    whole = prepare_data(compose_config("experiment=c5e2").data, chapter17_data)
    assert len(quarter.x_train) == 75 and len(quarter.x_test) == len(whole.x_test) == 60
    np.testing.assert_array_equal(quarter.y_train, again.y_train)
    few = prepare_data(
        compose_config("experiment=c5e2", "data.overfit_subset=10").data, chapter17_data
    )
    assert len(few.y_train) == 10


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.train_fraction=1.5", "data.train_fraction must be a fraction in (0, 1]"),
        ("data.overfit_subset=0", "data.overfit_subset must be an integer >= 1"),
    ],
)
def test_bad_subset_values_are_refused(chapter17_data, tmp_path, override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("]", r"\]")):
        train(run_config(chapter17_data, tmp_path / "run", "experiment=c5e2", override))


def test_overfit_subset_and_train_fraction_together_are_refused(chapter17_data):
    cfg = compose_config("experiment=c5e2", "data.overfit_subset=5", "data.train_fraction=0.5")
    with pytest.raises(ConfigError, match="set one"):
        prepare_data(cfg.data, chapter17_data)


@pytest.mark.slow
def test_overfit_subset_says_whether_the_model_fits_it(chapter17_data, tmp_path, capsys):
    metrics = train(
        run_config(
            chapter17_data, tmp_path / "run", "experiment=c5e2", "data.overfit_subset=20",
            "trainer.epochs=60", "trainer.batch_size=20", "model.hidden_units=[64]",
        )
    )  # fmt: skip
    assert metrics["train_examples"] == 20
    assert metrics["overfit/reached"] is True
    assert "Overfitting check on 20 examples" in capsys.readouterr().out


def test_the_size_curve_averages_repeats_per_training_set_size(tmp_path):
    jobs = [
        {"train_examples": 100, "train/error": 0.0, "val/error": 0.4},
        {"train_examples": 100, "train/error": 0.2, "val/error": 0.6},
        {"train_examples": 400, "train/error": 0.1, "val/error": 0.2},
    ]
    table = size_curve_frame(jobs)
    assert table["train_examples"].tolist() == [100, 400]
    assert table["val/error_mean"].tolist() == pytest.approx([0.5, 0.2])
    assert table["train/error_count"].tolist() == [2, 1]
    assert write_size_curve(tmp_path, jobs) == tmp_path / "learning_curve_by_size.png"
    assert size_curve_frame(jobs[:2]) is None  # one size: no curve


def test_the_learning_curve_search_sweeps_training_fractions():
    cfg = compose_config("hparams_search=learning_curve", return_hydra_config=True)
    fractions = [float(f) for f in cfg.hydra.sweeper.params["data.train_fraction"].split(",")]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.slow
def test_print_summary_prints_the_keras_summary(chapter17_data, tmp_path, capsys):
    train(run_config(chapter17_data, tmp_path / "run", "experiment=c17e2", "trainer.print_summary=true",
                     "trainer.epochs=1"))  # fmt: skip
    printed = capsys.readouterr().out
    assert "Total params: 20,533" in printed and "lstm (LSTM)" in printed


def test_outlier_loader_dispatches_by_name(chapter17_data):
    assert load_outlier_images("cifar10_gray", chapter17_data, download=False).shape == (30, 28, 28)
    with pytest.raises(DataError, match="not known"):
        load_outlier_images("shoes", chapter17_data)  # type: ignore[arg-type]
