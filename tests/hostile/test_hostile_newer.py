"""Hostile inputs to the newer commands and files: a lock file whose process id is not a number, `ldl
doctor` with a data_dir that is not there, `eval`/`caption` on a run that has no model of its own (a
NumPy program's, a cv.fold=all job), a dataset file that is a folder, a CIFAR-10 batch missing, a
5,000-character folder name and an immutable output folder. Each: the exit code, no traceback, one
paragraph naming the file, key or folder, and every other folder byte-identical."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from fixtures import write_cifar10_batches
from hostile import QUICK, assert_clean, assert_refused, changed, run_cli, tree_digest

C6E1 = ("experiment=c6e1", *QUICK)
RESUME_UNFINISHED = (
    *C6E1,
    "trainer.epochs=3",
    "trainer.checkpoint_seconds=0",
    "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2, fresh_only: true}",
)

# --- Run locks --------------------------------------------------------------------------------------


def _locked_copy(world, tmp_path: Path, owner: object) -> Path:
    run = shutil.copytree(world.unfinished, tmp_path / "unfinished", symlinks=True)
    (run / "ldl.lock").write_text(json.dumps(owner))
    return run


@pytest.mark.slow
@pytest.mark.parametrize(
    "pid",
    ["abc", None, 1.5, True, [1], 10**30],
    ids=["text", "null", "float", "bool", "list", "huge"],
)
def test_a_lock_whose_pid_is_not_a_process_id_is_stale(world, tmp_path, pid):
    """No ldl wrote such a lock: it is taken over as stale, and the run resumes to the end."""
    run = _locked_copy(world, tmp_path, {"pid": pid, "host": socket.gethostname(), "since": 0})
    outcome = run_cli("train", *RESUME_UNFINISHED, f"hydra.run.dir={run}", cwd=world.root)
    assert_clean(outcome, 0)
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"
    assert not (run / "ldl.lock").exists()


@pytest.mark.parametrize("since", ["yesterday", 1e300, None], ids=["text", "far future", "null"])
def test_a_lock_of_another_host_with_a_garbled_time_is_named(world, tmp_path, since):
    run = _locked_copy(world, tmp_path, {"pid": 4242, "host": "another-host", "since": since})
    assert_refused(
        tmp_path,
        ("train", *RESUME_UNFINISHED, f"hydra.run.dir={run}"),
        "is being written by process 4242 on host another-host",
        str(run / "ldl.lock"),
        cwd=world.root,
    )


# --- ldl doctor ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_doctor_says_a_data_dir_is_not_there(world, tmp_path, kind):
    data_dir = tmp_path / "datasets"
    if kind == "a file":
        data_dir.write_text("not a folder\n")
    before = tree_digest(world.root)
    outcome = run_cli("doctor", f"data_dir={data_dir}", cwd=world.root)
    reason = "the folder is not there" if kind == "missing" else "it is a regular file"
    assert_clean(outcome, 1, f"The data dir {data_dir} cannot be used: {reason}")
    assert "missing: mnist/" not in outcome.out  # not a list of every dataset as "missing"
    assert changed(before, tree_digest(world.root)) == []


# --- eval and caption on runs without a model of their own ---------------------------------------------


@pytest.fixture(scope="module")
def modelless_runs(tmp_path_factory, world) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("modelless")
    numpy_run, kfold_job = root / "numpy_run", root / "kfold_job"
    for arguments in (
        ("experiment=c1e1", "logger=none", f"hydra.run.dir={numpy_run}"),
        (*C6E1, "trainer.epochs=1", "cv.k=2", "cv.fold=all", f"hydra.run.dir={kfold_job}"),
    ):
        assert_clean(run_cli("train", *arguments, cwd=world.root), 0)
    return {"numpy": numpy_run, "kfold": kfold_job}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["eval", "caption"])
@pytest.mark.parametrize(
    ("kind", "fragment"),
    [("numpy", "is a run of runner=numpy_program"), ("kfold", "is a cross-validation job")],
)
def test_a_run_without_a_model_of_its_own_is_said_to_be_one(
    world, modelless_runs, command, kind, fragment
):
    run = modelless_runs[kind]
    arguments = (command, f"run={run}") + (("images=photo.jpg",) if command == "caption" else ())
    outcome = assert_refused(run.parent, arguments, fragment, cwd=world.root)
    assert "did not complete" not in outcome.err
    if kind == "kfold":
        assert f"run={run / 'fold_0'}" in outcome.err


# --- Dataset files that are folders, a CIFAR-10 batch missing -------------------------------------------


@pytest.mark.parametrize(
    ("experiment", "name"),
    [
        ("c11e1", "frankenstein.txt"),
        ("c14e1", "fra.txt"),
        ("c13e1", "glove.6B.100d.txt"),
        ("c9e1", "book_store_sales.csv"),
    ],
)
def test_a_text_data_file_that_is_a_folder_is_named(world, tmp_path, experiment, name):
    data = tmp_path / "data"
    (data / name).mkdir(parents=True)
    assert_refused(
        world.root,
        ("train", f"experiment={experiment}", *QUICK, f"data_dir={data}", "hydra.run.dir=runs/x"),
        f"'{data / name}' is a folder, not the file the dataset needs",
    )


def test_a_missing_cifar10_batch_is_named(world, tmp_path):
    data = tmp_path / "data"
    write_cifar10_batches(data, n_train=10, n_test=4)
    (data / "cifar-10-batches-py" / "data_batch_3").unlink()
    assert_refused(
        world.root,
        ("train", "experiment=c7e1", *QUICK, f"data_dir={data}", "hydra.run.dir=runs/x"),
        "lacks data_batch_3",
        "cifar-10-batches-py",
    )


# --- Folder names the file system cannot hold, immutable folders ----------------------------------------

LONG = "a" * 5000


@pytest.mark.parametrize(
    "arguments",
    [
        ("train", *C6E1, f"hydra.run.dir={LONG}"),
        ("train", *C6E1, f"output_root={LONG}"),
        ("train", "-m", *C6E1, f"hydra.sweep.dir=sweeps/{LONG}"),
        ("summarize", LONG),
        ("retrain-best", LONG),
        ("eval", f"run={LONG}"),
        ("report", LONG),
    ],
    ids=["run dir", "output_root", "sweep dir", "summarize", "retrain-best", "eval", "report"],
)
def test_a_5000_character_folder_name_is_one_paragraph(world, arguments):
    outcome = assert_refused(world.root, arguments, "is 5000 bytes long", "allows 255 per name")
    assert len(outcome.err) < 1000  # the name is shortened, not printed in full


@pytest.fixture
def immutable_folder(tmp_path):
    folder = tmp_path / "immutable"
    folder.mkdir()
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)]).returncode:
        pytest.skip("chattr +i needs root on a file system that supports it")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)])


@pytest.mark.parametrize(
    "arguments",
    [
        ("train", *C6E1, "hydra.run.dir={folder}/run"),
        ("train", *C6E1, "hydra.run.dir={folder}"),
        ("train", *C6E1, "output_root={folder}"),
        ("train", "-m", *C6E1, "hydra.sweep.dir={folder}/sweep"),
    ],
    ids=["run below", "run in it", "output_root", "sweep below"],
)
def test_an_immutable_output_folder_is_refused(world, immutable_folder, arguments):
    arguments = tuple(a.replace("{folder}", str(immutable_folder)) for a in arguments)
    assert_refused(world.root, arguments, f"{immutable_folder} is read-only")


# --- ldl report plot= ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plot", "fragment"),
    [
        ("{file}/runs.png", "is a regular file, not a folder"),
        ("runs.xyz", "has the extension .xyz, which names no image format"),
        ("runs", "has no extension"),
        ("{folder}", "has no extension"),
    ],
    ids=["below a file", "unknown extension", "no extension", "a folder"],
)
def test_report_plot_is_checked_before_drawing(world, tmp_path, plot, fragment):
    (tmp_path / "a_file.txt").write_text("a file\n")
    plot = plot.format(file=tmp_path / "a_file.txt", folder=tmp_path)
    assert_refused(world.root, ("report", world.root / "runs", f"plot={plot}"), fragment)


# --- ldl caption ----------------------------------------------------------------------------------------

SHAPES = (
    "experiment=captioning_shapes", "data.images=48", "data.test_fraction=0.25",
    "data.sample_size=2", "data.report.figures=1", "model.lstm_units=16", "model.embedding_dim=8",
    "trainer.batch_size=8", "trainer.epochs=1", *QUICK,
)  # fmt: skip


@pytest.fixture(scope="module")
def caption_run(tmp_path_factory, world) -> tuple[Path, Path]:
    """A tiny captioning run (generated shapes, one epoch) and one of its photos."""
    root = tmp_path_factory.mktemp("captioning")
    run = root / "run"
    (root / "data").mkdir()  # the generated scenes are written into it
    outcome = run_cli("train", *SHAPES, f"data_dir={root / 'data'}", f"hydra.run.dir={run}",
                      cwd=world.root)  # fmt: skip
    assert_clean(outcome, 0)
    photo = sorted((root / "data").rglob("*.jpg"))[0]
    return run, photo


@pytest.mark.slow
def test_caption_refuses_bad_photos_and_options(world, tmp_path, caption_run):
    from PIL import Image

    run, photo = caption_run
    (tmp_path / "a_file.txt").write_text("a file\n")
    (tmp_path / "folder.jpg").mkdir()
    Image.new("L", (20_000, 20_000)).save(tmp_path / "bomb.png", optimize=True)  # 400 megapixels
    Image.new("L", (12_000, 10_000)).save(tmp_path / "huge.png", optimize=True)  # 120 megapixels
    cases = [
        ((f"images={photo}", f"figures={tmp_path / 'a_file.txt' / 'figures'}"),
         ("Cannot create the figures folder", "is a regular file", "figures=<folder>")),
        ((f"images={tmp_path / 'bomb.png'}",), ("bomb.png", "is too large to read")),
        ((f"images={tmp_path / 'huge.png'}",), ("huge.png", "12000 x 10000 pixels")),
        ((f"images={tmp_path / 'folder.jpg'}",), ("folder.jpg' is a folder, not an image file",)),
        ((f"images={photo}", "top_k=500"), ("top_k=500 is more than the 196 regions",)),
    ]  # fmt: skip
    for arguments, fragments in cases:
        assert_refused(tmp_path, ("caption", f"run={run}", *arguments), *fragments, cwd=world.root)
    before = tree_digest(run)
    figures = tmp_path / "figures"
    ok = run_cli("caption", f"run={run}", f"images={photo}", "top_k=196", f"figures={figures}",
                 cwd=world.root)  # fmt: skip
    assert_clean(ok, 0)
    assert len(list(figures.glob("caption_*.png"))) == 1
    assert changed(before, tree_digest(run)) == []


# --- The book's NumPy programs (chapters 1-4) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (("model.initial_weights=abc",), ("model=perceptron", "initial_weights must be numbers")),
        (
            ("model.initial_weights=[1,2]",),
            ("model=perceptron", "initial_weights needs a list of 3 numbers"),
        ),
        # Refused by the config schema before the program starts (and before TensorFlow loads).
        (("model.init=uniform", "model.init_range=-1"), ("model.init_range must be a number > 0",)),
        (("model.learning_rate=0",), ("model.learning_rate must be a number > 0",)),
        (("model.init=banana",), ("model.init='banana'", "fixed, zeros, uniform")),
    ],
    ids=["weights not numbers", "two weights", "negative range", "rate 0", "unknown init"],
)
def test_a_bad_option_of_a_numpy_program_is_refused(world, arguments, fragments):
    assert_refused(world.root, ("train", "experiment=c1e1", "logger=none", *arguments), *fragments)


# --- Newer trainer options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        ("trainer.validation_seed=-1", "trainer.validation_seed must be an integer >= 0"),
        ("trainer.validation_seed=abc", "trainer.validation_seed must be an integer >= 0"),
        ("trainer.keep_checkpoint=2", "trainer.keep_checkpoint=2 (int) is not allowed"),
        ("trainer.print_summary=yes", "trainer.print_summary='yes' (str) is not allowed"),
    ],
)
def test_a_bad_trainer_option_is_refused(world, option, fragment):
    assert_refused(world.root, ("train", *C6E1, option), fragment)
