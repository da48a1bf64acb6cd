"""The `ldl` command as a user runs it: a real subprocess, real config tree, stand-in data files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fixtures import write_mnist_idx
from helpers import assert_clean_error, run_ldl

# Every test here starts `ldl` in a subprocess.
pytestmark = pytest.mark.slow


def ldl(*arguments: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """`ldl` with a data dir that holds nothing, so no test reads a real dataset by accident."""
    (cwd / "no-data-here").mkdir(exist_ok=True)
    return run_ldl(
        *arguments, cwd=cwd, timeout=timeout, env={"LDL_DATA_DIR": str(cwd / "no-data-here")}
    )


def test_help_lists_the_commands(tmp_path):
    result = ldl("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("train", "eval", "experiments", "generate", "embeddings"):
        assert command in result.stdout


def test_train_help_lists_every_config_group_and_option(tmp_path):
    result = ldl("train", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("== Config groups")[1].split("== Config (defaults")[0]
    groups = {
        line.split(":")[0].strip(): line.split(":", 1)[1]
        for line in section.splitlines()
        if ":" in line and line.split(":")[0].strip().isidentifier()
    }
    expected = {
        "data": ("mnist", "boston_housing", "nand", "xor", "book_sales", "frankenstein_chars"),
        "model": ("fc", "perceptron", "xor_network", "rnn", "glove_lookup"),
        "optimizer": ("sgd", "adam", "rmsprop", "adagrad"),
        "initializer": ("uniform", "glorot_uniform", "he_normal", "lecun_normal", "zeros"),
        "trainer": ("default",),
        "callbacks": ("default", "early_stopping"),
        "logger": ("tensorboard", "none"),
        "experiment": ("c1e1", "c3e1", "c5e1", "c5e2", "c6e1", "c6e2", "c9e1", "c11e1", "c13e1"),
    }
    for group, options in expected.items():
        listed = [option.strip() for option in groups[group].split(",")]
        for option in options:
            assert option in listed, (group, option)


def test_experiments_lists_every_id(tmp_path):
    result = ldl("experiments", cwd=tmp_path)
    assert result.returncode == 0
    for experiment in ("c1e1", "c3e1", "c5e1", "c5e2", "c6e1", "c6e2", "c6_conf3"):
        assert experiment in result.stdout


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """One real `ldl train` run (the default experiment) from an unrelated working directory."""
    work = tmp_path_factory.mktemp("cli_work")
    data = tmp_path_factory.mktemp("cli_data")
    write_mnist_idx(data / "mnist", n_train=300, n_test=100, gzip=False)
    result = ldl("train", f"data_dir={data}", "trainer.epochs=2", "trainer.seed=0", cwd=work)
    return work, data, result


def only_run(work: Path) -> Path:
    """The single run folder under outputs/ (failed inputs must not leave folders behind)."""
    runs = [p for p in (work / "outputs").glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_default_train_runs_c5e2_and_prints_the_test_accuracy(trained_run):
    work, _, result = trained_run
    assert result.returncode == 0, result.stderr
    assert "ldl train: c5e2" in result.stdout
    assert "test/accuracy = " in result.stdout
    assert "Compared with the book" in result.stdout
    run = only_run(work)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert (run / ".hydra" / "config.yaml").exists()


def test_eval_reproduces_the_training_metrics(trained_run):
    work, data, _ = trained_run
    run = only_run(work)
    result = ldl("eval", f"run={run}", f"data_dir={data}", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "reproduces the test metrics" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (("model=nope",), ("model=nope is not an option", "fc")),
        (("trainer.batchsize=3",), ("trainer.batchsize",)),
        (("trainer.batch_size=abc",), ("trainer.batch_size must be an integer", "'abc'")),
        (("trainer.batch_size=0",), ("trainer.batch_size must be an integer >= 1",)),
        (("trainer.epochs=-1",), ("trainer.epochs must be an integer >= 0",)),
        (
            ("data.download=false",),
            ("Cannot load the MNIST dataset", "train-images-idx3-ubyte", "data_dir="),
        ),
        (("eval", "run=nowhere"), ("not an ldl run folder",)),
    ],
)
def test_bad_input_gives_a_short_clear_error_and_leaves_earlier_runs_alone(
    trained_run, arguments, fragments
):
    work, _, _ = trained_run
    run = only_run(work)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    command = arguments if arguments[0] == "eval" else ("train", *arguments)
    assert_clean_error(ldl(*command, cwd=work), *fragments)
    assert before == {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}


def test_corrupt_idx_file_is_reported_by_name(tmp_path):
    data = tmp_path / "data"
    write_mnist_idx(data / "mnist", n_train=50, n_test=20)
    images = data / "mnist" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:5000])
    result = ldl("train", f"data_dir={data}", "trainer.epochs=1", cwd=tmp_path)
    assert_clean_error(result, "train-images-idx3-ubyte")
    assert "truncated" in result.stderr or "corrupt" in result.stderr
