"""Hostile inputs, damaged run and sweep files: a truncated, empty, garbled or misplaced file in a run or
sweep folder is named in one paragraph (never a JSON/YAML/zip traceback, never "file not found" for a
file that is there); one damaged job does not stop `summarize` or `report` for the others; a damaged
checkpoint is skipped for the newest intact one. The damage is done to a copy of a world folder, and
every other folder stays byte-identical (so does the damaged copy when the command is refused)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile import assert_clean, changed, run_cli, tree_digest

# In this process, but most cases load a trained model or train a few epochs: seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _inference_runs(world):
    world.ensure_inference_runs()


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: max(1, len(data) // 2)])


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGES = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated": _truncate,
    "binary": lambda p: p.write_bytes(b"\x00\xff\xfe garbage \x80\x81"),
    "folder": _folder,
}
JSON_DAMAGES = {**DAMAGES, "a list": lambda p: p.write_text("[1, 2]\n")}
YAML_DAMAGES = {
    "empty": DAMAGES["empty"],
    "binary": DAMAGES["binary"],
    "folder": _folder,
    "not yaml": lambda p: p.write_text("trainer: [unclosed\n  - : :\n"),
    "a number": lambda p: p.write_text("42\n"),
}


def damaged_copy(source: Path, target: Path, name: str, damage) -> Path:
    copy = shutil.copytree(source, target / source.name, symlinks=True)
    damage(copy / name)
    return copy


def check(world, others: Path, arguments, code: int, *fragments: str, exclude=()):
    """Run `ldl <arguments>` from the world: exit `code`, no traceback, the fragments printed, the world
    and `others` unchanged (but for `exclude`, paths below `others` the command may write)."""
    before = (tree_digest(world.root), tree_digest(others, exclude))
    outcome = run_cli(*arguments, cwd=world.root)
    assert_clean(outcome, code, *fragments)
    assert changed(before[0], tree_digest(world.root)) == []
    after = tree_digest(others, exclude)
    if exclude:  # a new TensorBoard record next to what the command may write
        after = {k: v for k, v in after.items() if "events.out.tfevents" not in k or k in before[1]}
    assert changed(before[1], after) == []
    return outcome


# --- A completed run: eval ---------------------------------------------------------------------------


@pytest.mark.parametrize("damage", JSON_DAMAGES, ids=list(JSON_DAMAGES))
def test_eval_names_a_damaged_metrics_json(world, tmp_path, damage):
    run = damaged_copy(world.done, tmp_path, "metrics.json", JSON_DAMAGES[damage])
    check(world, tmp_path, ("eval", f"run={run}"), 2, "metrics.json", "damaged")


@pytest.mark.parametrize("damage", YAML_DAMAGES, ids=list(YAML_DAMAGES))
def test_eval_names_a_damaged_config_yaml(world, tmp_path, damage):
    run = damaged_copy(world.done, tmp_path, "config.yaml", YAML_DAMAGES[damage])
    check(world, tmp_path, ("eval", f"run={run}"), 2, "config.yaml", "damaged")


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_eval_names_a_damaged_model(world, tmp_path, damage):
    run = damaged_copy(world.done, tmp_path, "model.keras", DAMAGES[damage])
    check(world, tmp_path, ("eval", f"run={run}"), 2, "model.keras", "damaged")


# --- Text and translation runs: data.json, model.keras -----------------------------------------------


@pytest.mark.parametrize("damage", JSON_DAMAGES, ids=list(JSON_DAMAGES))
def test_generate_names_a_damaged_data_json(world, tmp_path, damage):
    run = damaged_copy(world.text_run, tmp_path, "data.json", JSON_DAMAGES[damage])
    check(world, tmp_path, ("generate", f"run={run}", "prompt=the "), 2, "data.json", "damaged")


@pytest.mark.parametrize("damage", ["empty", "truncated", "binary"])
def test_generate_names_a_damaged_model(world, tmp_path, damage):
    run = damaged_copy(world.text_run, tmp_path, "model.keras", DAMAGES[damage])
    check(world, tmp_path, ("generate", f"run={run}", "prompt=the "), 2, "model.keras", "damaged")


@pytest.mark.parametrize("damage", ["empty", "truncated", "a list"])
def test_translate_names_a_damaged_data_json(world, tmp_path, damage):
    run = damaged_copy(world.translation_run, tmp_path, "data.json", JSON_DAMAGES[damage])
    check(world, tmp_path, ("translate", f"run={run}", "je suis ."), 2, "data.json", "damaged")


@pytest.mark.parametrize("damage", ["empty", "binary"])
def test_translate_names_a_damaged_model(world, tmp_path, damage):
    run = damaged_copy(world.translation_run, tmp_path, "model.keras", DAMAGES[damage])
    check(world, tmp_path, ("translate", f"run={run}", "je suis ."), 2, "model.keras", "damaged")


@pytest.mark.parametrize("damage", ["empty", "not yaml"])
def test_embeddings_names_a_damaged_config(world, tmp_path, damage):
    run = damaged_copy(world.text_run, tmp_path, "config.yaml", YAML_DAMAGES[damage])
    check(world, tmp_path, ("embeddings", f"run={run}", "nearest=the"), 2, "config.yaml")


# --- An unfinished run: resume from the newest intact checkpoint --------------------------------------

RESUME = (
    "experiment=c6e1",
    "trainer.seed=0",
    "logger=none",
    "trainer.verbose=0",
    "trainer.epochs=3",
    "trainer.checkpoint_seconds=0",
    "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2, fresh_only: true}",
)


@pytest.mark.parametrize(
    "name",
    ["checkpoint/state.json", "checkpoint/epoch-00002.keras", "checkpoint/epoch-00002.random.npz"],
)
@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_newest_checkpoint_resumes_from_the_previous_one(world, tmp_path, name, damage):
    run = damaged_copy(world.unfinished, tmp_path, name, DAMAGES[damage])
    outcome = check(
        world, tmp_path / "none", ("train", *RESUME, f"hydra.run.dir={run}"), 0, Path(name).name
    )
    assert "skipped a damaged checkpoint" in outcome.out + outcome.err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_completed"] == 3


@pytest.mark.parametrize("damage", ["empty", "truncated", "binary"])
def test_no_intact_checkpoint_names_the_files_and_keeps_metrics(world, tmp_path, damage):
    run = damaged_copy(world.unfinished, tmp_path, "checkpoint/state.json", DAMAGES[damage])
    DAMAGES[damage](run / "checkpoint" / "previous.json")
    before = json.loads((run / "metrics.json").read_text())
    check(
        world, tmp_path / "none", ("train", *RESUME, f"hydra.run.dir={run}"), 2,
        "state.json", "previous.json", "No intact checkpoint",
    )  # fmt: skip
    after = json.loads((run / "metrics.json").read_text())
    assert after["epochs_completed"] == before["epochs_completed"] == 2  # never less than it had


@pytest.mark.parametrize("damage", ["truncated", "a list"])
def test_a_damaged_metrics_json_of_an_unfinished_run_is_named(world, tmp_path, damage):
    run = damaged_copy(world.unfinished, tmp_path, "metrics.json", JSON_DAMAGES[damage])
    check(world, tmp_path, ("train", *RESUME, f"hydra.run.dir={run}"), 2, "metrics.json", "damaged")


# --- A sweep: summarize, report and retrain-best go on past a damaged job -----------------------------

SWEEP_OUTPUTS = ("summary.md", "summary.csv")


def _sweep_copy(world, tmp_path: Path, job: int, name: str, damage) -> Path:
    sweep = shutil.copytree(world.sweep, tmp_path / "sweep", symlinks=True)
    (folder,) = sweep.glob(f"{job}_*")
    damage(folder / name)
    return sweep


def _written(sweep: Path) -> tuple[Path, ...]:
    """What summarize writes: the summary and the sweep's TensorBoard HParams record."""
    return tuple(sweep / n for n in SWEEP_OUTPUTS)


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("metrics.json", "empty"),
        ("metrics.json", "truncated"),
        ("metrics.json", "binary"),
        ("metrics.json", "a list"),
        (".hydra/overrides.yaml", "not yaml"),
        (".hydra/overrides.yaml", "a number"),
        (".hydra/overrides.yaml", "binary"),
    ],
)
def test_summarize_lists_a_damaged_job_and_summarizes_the_rest(world, tmp_path, name, damage):
    sweep = _sweep_copy(world, tmp_path, 1, name, {**JSON_DAMAGES, **YAML_DAMAGES}[damage])
    check(world, tmp_path, ("summarize", sweep), 0, Path(name).name, exclude=_written(sweep))
    summary = (sweep / "summary.md").read_text()
    assert "damaged" in summary and Path(name).name in summary
    assert summary.count("| completed |") == 3  # the other jobs are all there


@pytest.mark.parametrize("damage", ["truncated", "a list"])
def test_report_lists_a_damaged_run_and_the_others(world, tmp_path, damage):
    sweep = _sweep_copy(world, tmp_path, 2, "metrics.json", JSON_DAMAGES[damage])
    outcome = check(world, tmp_path, ("report", sweep), 0, "damaged")
    assert outcome.out.count("completed") >= 3


@pytest.mark.parametrize(
    ("metric", "fragment"),
    [("val/nothing", "val/nothing"), ("accuracy", "'accuracy'"), ("test/mae", "test/mae")],
)
def test_summarize_with_a_metric_no_job_has_is_refused_listing_the_metrics(
    world, tmp_path, metric, fragment
):
    sweep = shutil.copytree(world.sweep, tmp_path / "sweep")
    check(
        world, tmp_path, ("summarize", sweep, f"metric={metric}"), 2,
        fragment, "nothing was changed", "val/mae",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (("summarize", "nowhere"), ("nowhere is not there",)),
        (("summarize", "data/boston_housing.npz"), ("is a regular file",)),
        (("summarize", "data"), ("holds no sweep jobs",)),
        (("summarize", "{sweep}", "higher_is_better=maybe"), ("higher_is_better='maybe'",)),
        (("summarize", "{sweep}", "colour=red"), ("unexpected argument 'colour=red'",)),
        (("summarize",), ("usage: ldl summarize",)),
        (("retrain-best", "nowhere"), ("nowhere is not there",)),
        (("retrain-best", "{sweep}", "metric=val/nothing"), ("val/nothing", "val/mae")),
        (("retrain-best", "{sweep}", "include_incomplete=perhaps"), ("include_incomplete",)),
        (("report", "nowhere"), ("nowhere",)),
        (("eval",), ("which run?",)),
        (("eval", "run=nowhere"), ("nowhere",)),
        (("eval", "run=data"), ("not an ldl run folder",)),
        (("eval", "run=data/boston_housing.npz"), ("boston_housing.npz",)),
        (("eval", "run=runs/unfinished"), ("no model.keras",)),
        (("eval", "run=runs/done", "data_dir=nowhere"), ("nowhere",)),
        (("eval", "run=runs/done", "colour=red"), ("unexpected argument",)),
        (("experiments", "c6e1"), ("unexpected argument",)),
        (("frobnicate",), ("unknown command 'frobnicate'",)),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_a_wrong_folder_or_option_for_a_reading_command_is_refused(world, arguments, fragments):
    sweep = str(world.sweep)
    arguments = tuple(a.replace("{sweep}", sweep) for a in arguments)
    check(world, world.root / "runs", arguments, 2, *fragments)


def test_eval_of_a_run_with_a_stored_relative_data_dir_creates_nothing(world, tmp_path):
    """Runs made before data_dir was stored absolute hold e.g. `data_dir: data`: from another directory
    that folder is not there, and it is named, not created (no download into a new empty folder)."""
    run = shutil.copytree(world.done, tmp_path / "old" / "done")
    config = run / "config.yaml"
    config.write_text(config.read_text().replace(f"data_dir: {world.data}", "data_dir: data"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = tree_digest(tmp_path)
    outcome = run_cli("eval", f"run={run}", cwd=elsewhere)
    assert_clean(outcome, 2, "data")
    assert changed(before, tree_digest(tmp_path)) == []
