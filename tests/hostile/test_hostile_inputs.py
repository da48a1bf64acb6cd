"""Hostile inputs to inference, bad data files, output-location faults and concurrent writers.

Each case runs the command a user would type (in this process, tests/support/hostile.py) and checks the exit
code, that no traceback escaped, that the message names the problem, and that the user's working
directory (data, finished and unfinished runs, a sweep) is byte-identical afterwards."""

from __future__ import annotations

import json
import shutil
import socket

import pytest
from hostile import (
    C6E1,
    assert_clean,
    assert_refused,
    changed,
    full_disk,
    live_process,
    read_only_folder,
    run_cli,
    tree_digest,
)

# In this process, but most cases load a trained model or train a few epochs: seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _inference_runs(world):
    world.ensure_inference_runs()


# --- Inference inputs: generate, translate, embeddings, caption, predict -----------------------------

GENERATE = [
    (("prompt=",), ("The prompt is empty",)),
    (("prompt=   ",), ("The prompt is empty",)),
    (("beam_width=0",), ("beam_width='0' is not a valid whole number >= 1",)),
    (("beam_width=1000000",), ("beam_width must be a whole number from 1 to",)),
    (("beam_width=-3",), ("beam_width='-3'",)),
    (("length=0",), ("length='0'",)),
    (("length=100000",), ("length must be from 1 to 1000",)),
    (("samples=1000000", "decoding=sample"), ("samples must be from 1 to 100",)),
    (("temperature=0", "decoding=sample"), ("temperature must be a finite number > 0",)),
    (("temperature=nan", "decoding=sample"), ("temperature must be a finite number > 0",)),
    (("temperature=hot",), ("temperature='hot'",)),
    (("decoding=topk",), ("topk",)),
    (("mode=fast",), ("fast",)),
    (("seed=abc",), ("seed='abc'",)),
    (("colour=red",), ("unexpected argument 'colour=red'",)),
    (("prompt=☃☃☃ ",), ("☃",)),
]


@pytest.mark.parametrize(
    ("arguments", "fragments"), GENERATE, ids=[" ".join(c[0]) for c in GENERATE]
)
def test_generate_refuses_unworkable_inputs(world, arguments, fragments):
    arguments = ("prompt=the ", *arguments) if not arguments[0].startswith("prompt=") else arguments
    assert_refused(world.root, ("generate", f"run={world.text_run}", *arguments), *fragments)


def test_a_prompt_longer_than_the_window_is_cut_with_a_note(world):
    before = tree_digest(world.root)
    outcome = run_cli(
        "generate", f"run={world.text_run}", "prompt=" + "the " * 2250, "length=3", "beam_width=2",
        cwd=world.root,
    )  # fmt: skip
    assert_clean(outcome, 0, "note: the prompt has 9000 characters", "windows of 12")
    assert changed(before, tree_digest(world.root)) == []


TRANSLATE = [
    ((), ("what should be translated?",)),
    (("",), ("is empty",)),
    (("   ",), ("is empty",)),
    (("?!.",), ("is empty",)),
    (("xyzzy qwrtp",), ("None of the words", "xyzzy qwrtp")),
    (("je suis .", "beam_width=0"), ("beam_width='0'",)),
    (("je suis .", "beam_width=1000000"), ("beam_width must be a whole number from 1 to",)),
    (("je suis .", "decoding=beam", "beam_width=500"), ("beam_width must be a whole number",)),
    (("je suis .", "decoding=sample"), ("decoding='sample' is not known",)),
]


@pytest.mark.parametrize(("arguments", "fragments"), TRANSLATE, ids=[repr(c[0]) for c in TRANSLATE])
def test_translate_refuses_unworkable_inputs(world, arguments, fragments):
    assert_refused(
        world.root, ("translate", f"run={world.translation_run}", *arguments), *fragments
    )


WRONG_RUNS = [
    ("generate", "runs/done", ("prompt=the ",), ("data.json",)),
    ("generate", "nowhere", ("prompt=the ",), ("not an ldl run folder",)),
    ("generate", "data/glove.6B.100d.txt", ("prompt=the ",), ("not an ldl run folder",)),
    ("translate", "runs/done", ("je suis .",), ("data.json",)),
    ("translate", "runs/text", ("je suis .",), ("no source and target vocabularies",)),
    ("translate", "runs/unfinished", ("je suis .",), ("data.json",)),
    ("embeddings", "runs/done", ("nearest=the",), ("data.json",)),
    ("caption", "runs/text", ("images=data/glove.6B.100d.txt",), ("no captioning run",)),
    ("caption", "nowhere", ("images=a.jpg",), ("not an ldl run folder",)),
]


@pytest.mark.parametrize(
    ("command", "run", "arguments", "fragments"),
    WRONG_RUNS,
    ids=[f"{c[0]} {c[1]}" for c in WRONG_RUNS],
)
def test_an_inference_command_on_the_wrong_run_is_refused(
    world, command, run, arguments, fragments
):
    assert_refused(world.root, (command, f"run={run}", *arguments), *fragments)


EMBEDDINGS = [
    (("glove=data/glove.6B.100d.txt",), ("which word?",)),
    (("run=runs/text", "glove=data/glove.6B.100d.txt", "nearest=the"), ("either run=",)),
    (("glove=nowhere.txt", "nearest=the"), ("nowhere.txt",)),
    (("glove=data", "nearest=the"), ("data",)),
    (("glove=data/glove.6B.100d.txt", "nearest=zzzzqq"), ("zzzzqq",)),
    (("glove=data/glove.6B.100d.txt", "nearest=the", "k=0"), ("k='0'",)),
    (("glove=data/glove.6B.100d.txt", "nearest=the", "distance=manhattan"), ("manhattan",)),
    (("run=runs/text", "nearest=the"), ("no Embedding layer",)),
]


@pytest.mark.parametrize(
    ("arguments", "fragments"), EMBEDDINGS, ids=[" ".join(c[0]) for c in EMBEDDINGS]
)
def test_embeddings_refuses_unworkable_inputs(world, arguments, fragments):
    assert_refused(world.root, ("embeddings", *arguments), *fragments)


PREDICT = [
    ((), ("which images?",)),
    (("images=nowhere.jpg", "weights=null"), ("nowhere.jpg",)),
    (("images=data/glove.6B.100d.txt", "weights=null"), ("glove.6B.100d.txt",)),
    (("images=data", "weights=null"), ("data",)),
    (("images=a.jpg", "top=0"), ("top='0'",)),
    (("images=a.jpg", "size=-1"), ("size='-1'",)),
]


@pytest.mark.parametrize(("arguments", "fragments"), PREDICT, ids=[" ".join(c[0]) for c in PREDICT])
def test_predict_refuses_unworkable_inputs(world, arguments, fragments):
    assert_refused(world.root, ("predict", *arguments), *fragments)


# --- Bad data files ------------------------------------------------------------------------------------


def _data_copy(world, tmp_path):
    return shutil.copytree(world.data, tmp_path / "data")


@pytest.mark.parametrize(
    ("experiment", "damage", "fragments"),
    [
        ("c5e2", lambda d: (d / "mnist" / "t10k-labels-idx1-ubyte").unlink(), ("t10k-labels",)),
        ("c5e2", lambda d: (d / "mnist" / "train-images-idx3-ubyte").write_bytes(b""), ("train-images",)),
        ("c5e2", lambda d: (d / "mnist" / "train-labels-idx1-ubyte").write_bytes(b"\0" * 9), ("train-labels",)),
        ("c5e2", lambda d: shutil.rmtree(d / "mnist"), ("MNIST",)),
        ("c6e1", lambda d: (d / "boston_housing.npz").write_bytes(b""), ("boston_housing.npz",)),
        ("c6e1", lambda d: (d / "boston_housing.npz").write_bytes(b"PK\x03\x04 not a zip"), ("boston_housing.npz",)),
        ("c6e1", lambda d: (d / "boston_housing.npz").unlink(), ("boston_housing.npz",)),
    ],
    ids=["missing labels", "empty images", "short labels", "no mnist folder", "empty npz",
         "garbled npz", "missing npz"],
)  # fmt: skip
def test_a_bad_data_file_is_named_and_leaves_no_run_folder(
    world, tmp_path, experiment, damage, fragments
):
    data = _data_copy(world, tmp_path)
    damage(data)
    outputs = tmp_path / "outputs"
    before = tree_digest(data)
    assert_refused(
        world.root,
        ("train", f"experiment={experiment}", f"data_dir={data}", "data.download=false",
         f"output_root={outputs}", "logger=none", "trainer.epochs=1"),
        *fragments,
    )  # fmt: skip
    assert changed(before, tree_digest(data)) == []
    assert not outputs.exists()  # no run folder, no empty date folder


@pytest.mark.parametrize(
    ("data_dir", "fragments"),
    [
        ("nowhere/at/all", ("nowhere/at/all",)),
        ("data/boston_housing.npz", ("is a regular file",)),
        ("", ("data_dir",)),
    ],
    ids=["missing", "a regular file", "empty"],
)
def test_a_wrong_data_dir_is_named_and_never_created(world, data_dir, fragments):
    assert_refused(
        world.root, ("train", *C6E1, f"data_dir={data_dir}", "data.download=false"), *fragments
    )
    assert not (world.root / "nowhere").exists()


# --- Output-location faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        ("hydra.run.dir=data/boston_housing.npz/run", ("is a regular file",)),
        ("hydra.run.dir=data/boston_housing.npz", ("boston_housing.npz",)),
        ("output_root=data/boston_housing.npz", ("is a regular file",)),
        ("output_root=data/glove.6B.100d.txt/deeper/still", ("is a regular file",)),
    ],
    ids=["below a file", "is a file", "output_root a file", "output_root below a file"],
)
def test_a_run_folder_that_cannot_be_created_is_refused(world, setting, fragments):
    assert_refused(world.root, ("train", *C6E1, setting), *fragments)


def test_a_sweep_folder_below_a_file_is_refused(world):
    assert_refused(
        world.root,
        ("train", "-m", *C6E1, "cv.fold=0,1", "hydra.sweep.dir=data/boston_housing.npz/sweep"),
        "is a regular file",
    )


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_a_read_only_place_is_refused(world, tmp_path, multirun):
    with read_only_folder(tmp_path) as folder:
        key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
        flags = ("-m", "cv.fold=0,1") if multirun else ()
        assert_refused(
            world.root, ("train", *flags, *C6E1, f"{key}={folder}/run"), "read-only", str(folder)
        )


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_a_full_disk_at_the_start_is_refused(world, tmp_path, multirun):
    with full_disk(tmp_path) as folder:
        key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
        flags = ("-m", "cv.fold=0,1") if multirun else ()
        assert_refused(world.root, ("train", *flags, *C6E1, f"{key}={folder}/run"), "full")


# --- Concurrent writers: one writer per run folder, one sweep per sweep folder ---------------------------


def _lock(folder, pid: int, host: str | None = None) -> None:
    record = {"pid": pid, "host": host or socket.gethostname(), "since": 0.0}
    (folder / "ldl.lock").write_text(json.dumps(record))


@pytest.fixture
def unfinished_copy(world, tmp_path):
    return shutil.copytree(world.unfinished, tmp_path / "unfinished")


RESUME = (
    *C6E1,
    "trainer.epochs=3",
    "trainer.checkpoint_seconds=0",
    "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2, fresh_only: true}",
)


def test_a_second_writer_is_refused_while_the_owner_lives(world, unfinished_copy):
    owner = live_process()
    try:
        _lock(unfinished_copy, owner.pid)
        outcome = assert_refused(
            unfinished_copy.parent,
            ("train", *RESUME, f"hydra.run.dir={unfinished_copy}"),
            f"process {owner.pid}", socket.gethostname(),
            cwd=world.root,
        )  # fmt: skip
        assert len(outcome.err.strip().splitlines()) == 1  # one line
    finally:
        owner.kill()
        owner.wait()


def test_a_lock_from_another_host_is_refused_naming_the_file(world, unfinished_copy):
    _lock(unfinished_copy, 12345, host="another-host.example")
    assert_refused(
        unfinished_copy.parent,
        ("train", *RESUME, f"hydra.run.dir={unfinished_copy}"),
        "another-host.example", "ldl.lock",
        cwd=world.root,
    )  # fmt: skip


@pytest.mark.parametrize("stale", ["dead process", "garbled lock file"])
def test_a_stale_lock_is_taken_over_and_the_run_resumes(world, unfinished_copy, stale):
    if stale == "dead process":
        gone = live_process()
        gone.kill()
        gone.wait()
        _lock(unfinished_copy, gone.pid)
    else:
        (unfinished_copy / "ldl.lock").write_text('{"pid": 12')
    before = tree_digest(world.root)
    outcome = run_cli("train", *RESUME, f"hydra.run.dir={unfinished_copy}", cwd=world.root)
    assert_clean(outcome, 0, "Resuming after epoch 2 of 3")
    assert changed(before, tree_digest(world.root)) == []
    assert not (unfinished_copy / "ldl.lock").exists()  # given back at the end
    assert json.loads((unfinished_copy / "metrics.json").read_text())["status"] == "completed"


def test_a_second_sweep_into_a_live_sweep_folder_is_refused(world, tmp_path):
    sweep = shutil.copytree(world.sweep, tmp_path / "sweep")
    owner = live_process()
    try:
        _lock(sweep, owner.pid)
        assert_refused(
            tmp_path,
            ("train", "-m", "experiment=c6_conf1", "trainer.epochs=1", "trainer.seed=0",
             "logger=none", "trainer.verbose=0", "optimizer.learning_rate=0.001,0.002", "cv.k=2",
             "cv.fold=0,1", f"hydra.sweep.dir={sweep}"),
            f"process {owner.pid}", "sweep folder",
            cwd=world.root,
        )  # fmt: skip
    finally:
        owner.kill()
        owner.wait()


def test_a_completed_run_is_reported_even_while_locked_and_not_touched(world, tmp_path):
    run = shutil.copytree(world.done, tmp_path / "done")
    owner = live_process()
    try:
        _lock(run, owner.pid)
        before = tree_digest(tmp_path)
        outcome = run_cli(
            "train", *C6E1, "trainer.epochs=2", f"hydra.run.dir={run}", cwd=world.root
        )
        assert_clean(outcome, 0, "already holds a completed run")
        assert changed(before, tree_digest(tmp_path)) == []
    finally:
        owner.kill()
        owner.wait()


def test_refused_into_an_existing_run_leaves_its_hydra_files_alone(world):
    """A different config into a completed run: refused, and its .hydra/ is not rewritten."""
    assert_refused(
        world.root,
        ("train", *C6E1, "trainer.epochs=7", f"hydra.run.dir={world.done}"),
        "different config",
        "Nothing was changed",
    )


def test_refused_into_a_sweep_job_leaves_the_sweep_alone(world):
    (job, *_) = sorted(world.sweep.glob("0_*"))
    assert_refused(
        world.root,
        ("train", "experiment=c6e1", "trainer.epochs=7", f"hydra.run.dir={job}"),
        "different config",
    )


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_the_same_command_started_twice_has_one_writer(world, tmp_path, multirun):
    """Two real processes: the second identical command, started while the first trains in (or sweeps
    into) the folder, is refused in one line naming the first."""
    import time

    from helpers import run_ldl, start_ldl

    folder = tmp_path / ("sweep" if multirun else "run")
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    flags = ("-m", "cv.k=2", "cv.fold=0,1") if multirun else ()
    # Far more epochs than it can train before it is killed below (5,000 took only seconds once the
    # graph loop ran c6e1), so the first is still training when the second has started.
    command = ("train", *flags, *C6E1, "trainer.epochs=10000000", f"{key}={folder}")
    first = start_ldl(*command, cwd=world.root, new_session=False)
    try:
        lock = folder / "ldl.lock"
        deadline = time.monotonic() + 180
        while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lock.exists() and first.poll() is None
        second = run_ldl(*command, cwd=world.root)
        assert first.poll() is None  # the first was alive all along
        assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
        ours = [line for line in second.stderr.splitlines() if line.startswith("ldl ")]
        assert len(ours) == 1 and "nothing was changed" in ours[0], second.stderr
        assert f"process {first.pid} " in ours[0], (first.pid, ours[0])
    finally:
        first.kill()
        first.wait()
