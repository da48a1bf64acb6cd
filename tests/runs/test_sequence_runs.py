"""Chapter 9-12 experiments end to end on stand-in files: run folders, reports, and the new commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from helpers import compose_config, run_ldl
from sequence_fixtures import write_book_sales_csv, write_frankenstein

from ldl.cli.main import main
from ldl.training.train import train

# Every test here trains (or reads) the module's c9e1 and text runs: tens of seconds for the runs.
pytestmark = pytest.mark.slow

# Tiny models, no TensorBoard callback (the sample and projector callbacks write there anyway).
QUICK = ("trainer.seed=0", "trainer.verbose=0", "logger=none")
# Recurrent dropout off: it only slows the graph's compilation here (c11e1's own config is checked in
# test_configs).
TINY_TEXT_MODEL = ("model.units=[8,8]", "model.recurrent_dropout=0.0", "trainer.epochs=1", *QUICK)


def run_experiment(root: Path, data_dir: Path, name: str, *overrides: str) -> tuple[Path, dict]:
    run = root / name
    cfg = compose_config(
        f"experiment={name}",
        f"data_dir={data_dir}",
        f"run_dir={run}",
        f"output_root={root}",
        *overrides,
    )
    return run, train(cfg)


@pytest.fixture(scope="module")
def sales_runs(tmp_path_factory):
    data = tmp_path_factory.mktemp("sales_data")
    write_book_sales_csv(data)
    root = tmp_path_factory.mktemp("sales_runs")
    common = ("trainer.epochs=1", *QUICK)
    runs = {name: run_experiment(root, data, name, *common) for name in ("c9e1", "c9e1_ffn")}
    runs["c9e1_naive"] = run_experiment(root, data, "c9e1_naive", *QUICK)
    return runs


@pytest.fixture(scope="module")
def text_runs(tmp_path_factory):
    data = tmp_path_factory.mktemp("text_data")
    write_frankenstein(data, sentences=80)
    root = tmp_path_factory.mktemp("text_runs")
    chars = run_experiment(
        root,
        data,
        "c11e1",
        *TINY_TEXT_MODEL,
        "data.window_length=12",
        "data.max_train_examples=256",
        "trainer.keep_checkpoint=true",
    )
    words = run_experiment(
        root, data, "c12e1", *TINY_TEXT_MODEL, "data.window_length=6", "data.max_words=40",
        "model.embedding_dim=6", "model.dense_units=[8]",
    )  # fmt: skip
    return data, chars, words


def test_c9e1_reports_the_naive_baseline_ratios_and_a_plot(sales_runs):
    run, metrics = sales_runs["c9e1"]
    assert metrics["status"] == "completed" and metrics["parameters"] == 16_769
    for key in ("test/mse", "test/naive_mse", "test/mse_ratio_to_naive", "test/mae_ratio_to_naive",
                "test/rmse_millions", "test/naive_mae_millions"):  # fmt: skip
        assert key in metrics, key
    assert metrics["test/mse"] == pytest.approx(metrics["test/loss"], rel=1e-4)
    assert metrics["test/mse_ratio_to_naive"] == pytest.approx(
        metrics["test/mse"] / metrics["test/naive_mse"]
    )
    assert "book_verdict/test/mse_ratio_to_naive" in metrics
    assert (run / "predictions.png").stat().st_size > 0
    table = pd.read_csv(run / "predictions.csv")
    assert (
        len(table) == 56
        and table["month"].iloc[0] == "2015-08"
        and table["month"].iloc[-1] == "2020-03"
    )
    assert table["naive"].iloc[1] == pytest.approx(table["actual"].iloc[0], abs=0.02)
    saved = json.loads((run / "data.json").read_text())
    assert saved["test_target_months"] == ["2015-08", "2020-03"]


def test_c9e1_naive_is_the_baseline_every_forecaster_reports(sales_runs):
    run, metrics = sales_runs["c9e1_naive"]
    assert metrics["parameters"] == 0 and metrics["epochs_completed"] == 0
    assert metrics["test/mse"] == pytest.approx(sales_runs["c9e1"][1]["test/naive_mse"], rel=1e-6)
    assert metrics["test/mae"] == pytest.approx(sales_runs["c9e1"][1]["test/naive_mae"], rel=1e-6)
    assert metrics["test/mse_ratio_to_naive"] == pytest.approx(1.0)
    assert metrics["book_verdict/test/mse"] in ("within", "outside")
    # The saved baseline reloads (a registered layer) and still repeats the last month of a window.
    model = keras.saving.load_model(run / "model.keras")
    window = np.array([[[0.5], [-1.25], [2.0]]], dtype="float32")
    assert np.asarray(model(window)).tolist() == [[2.0]]


def test_c9e1_ffn_uses_the_last_twelve_months(sales_runs):
    _, metrics = sales_runs["c9e1_ffn"]
    assert metrics["parameters"] == 3_585
    assert metrics["test/naive_mse"] == pytest.approx(sales_runs["c9e1"][1]["test/naive_mse"])


def test_c11e1_samples_beams_at_the_end_of_training(text_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, (run, metrics), _ = text_runs
    assert metrics["status"] == "completed"
    samples = (run / "samples.txt").read_text().splitlines()
    assert samples[0].startswith(
        "Sample completions after epoch 1 (beam search, width 8, 11 steps)"
    )
    assert len(samples) == 9 and all("'the body " in line for line in samples[1:])
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"tensors": 0})
    events.Reload()
    assert "samples/completions" in events.Tags()["tensors"]


def test_generate_command_prints_the_beams_with_probabilities(text_runs):
    _, (run, _), _ = text_runs
    result = run_ldl(
        "generate", f"run={run}", "prompt=the body ", "beam_width=8", "length=11", timeout=120
    )
    assert result.returncode == 0, result.stderr
    from test_quiet_output import TENSORFLOW_LINE

    assert not TENSORFLOW_LINE.search(result.stderr), result.stderr  # quiet by default
    lines = result.stdout.splitlines()
    assert "beam search, width 8, 11 steps, prompt 'the body '" in lines[0]
    assert len(lines) == 9 and lines[1].startswith(" 1. 'the body ") and "p = " in lines[1]
    assert [line.split("'")[1] for line in lines[1:]] == [
        line.split("'")[1] for line in (run / "samples.txt").read_text().splitlines()[1:]
    ]


def test_c12e1_exports_the_projector_and_answers_neighbour_queries(text_runs, capsys):
    _, _, (run, metrics) = text_runs
    assert metrics["status"] == "completed"
    board = run / "tensorboard"
    assert "metadata.tsv" in (board / "projector_config.pbtxt").read_text()
    labels = (board / "metadata.tsv").read_text().splitlines()
    assert len(labels) == 40 and labels[:2] == ["<pad>", "UNK"]
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()  # the projector finds the latest checkpoint and reads this tensor
    checkpoint = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(board)))
    assert checkpoint.get_tensor("embedding/.ATTRIBUTES/VARIABLE_VALUE").shape == (40, 6)
    assert "'i saw " in (run / "samples.txt").read_text()

    assert main(["embeddings", f"run={run}", "nearest=monster", "k=4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("cosine distance:")
    assert out[1].startswith("monster: monster: 0.000, ") and out[1].count(":") == 5

    assert main(["generate", f"run={run}", "prompt=I saw", "decoding=greedy", "length=3"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith(" 1. 'i saw ") and len(printed[1].split("'")[1].split()) == 5


def test_an_unfinished_run_generates_from_its_last_checkpoint(text_runs, tmp_path, capsys):
    _, (run, _), _ = text_runs
    unfinished = tmp_path / "unfinished"
    shutil.copytree(run, unfinished, ignore=shutil.ignore_patterns("model.keras"))
    assert main(["generate", f"run={unfinished}", "decoding=greedy", "length=2"]) == 0
    printed = capsys.readouterr().out
    assert "using its checkpoint after epoch 1" in printed and " 1. 'the body " in printed


def test_sampling_is_reproducible_with_a_seed(text_runs, capsys):
    _, (run, _), _ = text_runs
    arguments = ["generate", f"run={run}", "prompt=the ", "decoding=sample", "samples=2", "seed=3",
                 "length=4"]  # fmt: skip
    assert main([*arguments, "temperature=0.7"]) == 0
    first = capsys.readouterr().out
    assert main([*arguments, "temperature=0.7"]) == 0
    assert capsys.readouterr().out == first and first.count("\n") == 3


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["generate"], "which run?"),
        (["generate", "run=nowhere"], "not an ldl run folder"),
        (
            ["generate", "run={chars}", "beam_width=wide"],
            "beam_width='wide' is not a valid whole number",
        ),
        (["generate", "run={chars}", "prompt=the end€"], "never saw"),
        (["generate", "run={chars}", "decoding=top_p"], "decoding='top_p' is not known"),
        (["generate", "run={sales}"], "no token vocabulary"),
        (["embeddings", "run={chars}", "nearest=the"], "no Embedding layer"),
        (["embeddings", "run={words}"], "which word?"),
        (["embeddings", "run={words}", "nearest=zebra"], "'zebra' is not in the vocabulary"),
        (["embeddings", "run={words}", "glove=x.txt", "nearest=a"], "either run="),
        (["embeddings", "glove={data}/missing.txt", "nearest=a"], "missing.txt"),
    ],
)
def test_bad_input_gives_one_clear_paragraph(text_runs, sales_runs, capsys, arguments, fragment):
    data, (chars, _), (words, _) = text_runs
    folders = {"chars": chars, "words": words, "sales": sales_runs["c9e1"][0], "data": data}
    assert main([argument.format(**folders) for argument in arguments]) != 0
    error = capsys.readouterr().err
    assert fragment in error and error.startswith(f"ldl {arguments[0]}: error: ")
    assert "Traceback" not in error
