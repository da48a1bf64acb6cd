"""The reproduction report (`ldl report <folders> book=table`): docs/reproduction.md and the extracts in
the README and docs pages are exactly what the kept run records give; verdicts, budgets and not-run
reasons; keeping a run's record; `ldl train -m hparams_search=book chapter=<c>` ends with the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import REPO, run_cli, run_ldl

from ldl.cli.main import main
from ldl.runs.book_catalog import book_experiments
from ldl.runs.book_extracts import has_extracts, page_link, update_extracts
from ldl.runs.book_table import Budget, collect, render_page

RECORDS = Path("docs/reproduction/runs")
PAGE = Path("docs/reproduction.md")
PAGE_COMMAND_PREFIX = f"ldl report {RECORDS} book=table out={PAGE}"


def _page_command() -> str:
    """The command in the page's first line (it also names the pages whose extracts it updates)."""
    first = (REPO / PAGE).read_text().splitlines()[0]
    found = re.search(r"`(ldl report [^`]*)`", first)
    assert found, first
    return found.group(1)


def test_the_reproduction_page_is_what_the_kept_records_give(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    command = _page_command()
    assert command.startswith(PAGE_COMMAND_PREFIX), command
    assert render_page([RECORDS], command) == PAGE.read_text(), (
        f"docs/reproduction.md is out of date: run `{command}`"
    )


def test_every_extract_in_the_docs_is_what_the_records_give(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    table = collect([RECORDS])[0]
    pages = [Path("README.md"), *sorted(Path("docs").glob("*.md"))]
    with_extracts = [page for page in pages if has_extracts(page.read_text())]
    assert Path("README.md") in with_extracts
    command = _page_command()
    for page in with_extracts:
        assert str(page) in command, f"{command} does not update {page}'s extracts"
        text = page.read_text()
        assert update_extracts(text, table, page_link(page, PAGE)) == text, (
            f"{page}'s book-table extract is out of date: run `{command}`"
        )


def test_the_readmes_sample_run_prints_what_its_kept_record_holds() -> None:
    # The README shows a c5e2 run's output; its numbers are those of the kept c5e2 record (seed 0),
    # whose validation set is the test set.
    text = (REPO / "README.md").read_text()
    assert "$ ldl train data_dir=../shared/data trainer.seed=0" in text
    (record,) = (REPO / RECORDS / "c5e2").glob("*/metrics.json")
    metrics = json.loads(record.read_text())
    assert metrics["seed"] == 0 and metrics["epochs_completed"] == 20
    last = re.search(r"^epoch 20/20 - [\d.]+s - (.*)$", text, re.M)
    assert last, "the README's sample run has no epoch 20/20 line"
    shown = dict(item.split(": ") for item in last.group(1).split(" - "))
    for name, value in shown.items():
        key = name.replace("val_", "val/") if name.startswith("val_") else f"train/{name}"
        assert f"{metrics[key]:.4f}" == value, (name, value, metrics[key])
    result = re.search(r"^Result: (.*)$", text, re.M)
    assert result, "the README's sample run has no Result line"
    for item in result.group(1).split(", "):
        name, value = item.split(" = ")
        assert f"{metrics[name]:.4f}" == value, (name, value, metrics[name])


# --- verdicts, budgets, not-run reasons, from records written here ------------------------------


def _record(
    root: Path,
    name: str,
    metrics: dict,
    config: dict | None = None,
    overrides: list[str] | None = None,
) -> Path:
    folder = root / name
    (folder / ".hydra").mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "config.yaml").write_text(yaml.safe_dump(config or {}))
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides or []))
    return folder


def _c5e2(error: float, epochs: int = 20, status: str = "completed") -> dict:
    return {
        "experiment": "c5e2",
        "status": status,
        "test/error": error,
        "epochs_completed": epochs,
        "train_examples": 60000,
        "seed": 0,
        "device": "CPU",
        "train_seconds": 12.5,
    }


def test_budgets_verdicts_and_not_run_reasons(tmp_path: Path) -> None:
    _record(tmp_path, "full", _c5e2(0.042), {"experiment_id": "c5e2", "trainer": {"epochs": 20}})
    _record(
        tmp_path,
        "short",
        _c5e2(0.09, epochs=2),
        {"experiment_id": "c5e2", "trainer": {"epochs": 2}},
        ["experiment=c5e2", "trainer.epochs=2"],
    )
    _record(
        tmp_path,
        "alias",
        {**_c5e2(0.07), "experiment": "c6_conf2", "test/mae": 9.0},
        overrides=["experiment=c6_conf2", "data.max_train_examples=100"],
    )
    table = {entry.experiment.experiment: entry for entry in collect([tmp_path])[0]}

    c5e2 = table["c5e2"]
    assert c5e2.budget is Budget.FULL
    by_name = {run.record.name: run for run in c5e2.runs}
    assert by_name["full"].verdict == "within"
    assert by_name["full"].budget is Budget.FULL
    assert by_name["short"].budget is Budget.REDUCED
    assert "2 of 20 epochs" in by_name["short"].budget_note
    assert "trainer.epochs=2" in by_name["short"].budget_note
    assert by_name["short"].verdict == "outside (1 of 1)"
    # An alias's run counts for the experiment it renames (c6_conf2 is c6e1).
    assert [run.record.name for run in table["c6e1"].runs] == ["alias"]
    assert table["c6e1"].runs[0].verdict.startswith("outside")
    assert table["c7_conf3"].budget is Budget.NOT_RUN

    page = render_page([tmp_path], "ldl report x book=table")
    assert re.search(r"\d+ book experiments: 1 run at the book's budget, 1 only at a reduced", page)
    row = next(line for line in page.splitlines() if line.startswith("| [c16e2]"))
    assert "needs c16e1's COCO features" in row
    assert "expected time on a CPU: about 10 hours" in row and "; on a GPU: " in row
    assert "`ldl train experiment=c16e2 data_dir=" in row
    row = next(line for line in page.splitlines() if line.startswith("| [c7_conf3]"))
    assert "no record yet; `ldl train experiment=c7_conf3" in row


def test_a_run_with_another_seed_than_the_books_is_not_the_books_setup(tmp_path: Path) -> None:
    # The book seeds c4e2's NumPy program with 7: seed 0 prints other digits.
    metrics = {"experiment": "c4e2", "status": "completed", "epochs_completed": 20}
    _record(tmp_path, "seed0", {**metrics, "seed": 0}, {"experiment_id": "c4e2"})
    _record(tmp_path, "seed7", {**metrics, "seed": 7}, {"experiment_id": "c4e2"})
    (entry,) = [e for e in collect([tmp_path])[0] if e.experiment.experiment == "c4e2"]
    budgets = {run.record.name: (run.budget, run.budget_note) for run in entry.runs}
    assert budgets["seed0"] == (Budget.REDUCED, "20 of 20 epochs; seed 0, not the book's 7")
    assert budgets["seed7"] == (Budget.FULL, "20 of 20 epochs")


def test_an_interrupted_run_is_reduced_and_says_so(tmp_path: Path) -> None:
    _record(tmp_path, "cut", _c5e2(0.05, epochs=7, status="interrupted"))
    (entry,) = [e for e in collect([tmp_path])[0] if e.experiment.experiment == "c5e2"]
    assert entry.budget is Budget.REDUCED
    assert entry.runs[0].verdict == "interrupted"
    assert "interrupted after 7 epochs" in entry.runs[0].budget_note


def test_keep_copies_records_without_models_or_machine_paths(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "outputs"
    folder = _record(
        runs,
        "2026-12-07/10-00-00_c5e2",
        {**_c5e2(0.042), "error_hint": f"read {tmp_path}/data/mnist"},
        {"experiment_id": "c5e2", "data_dir": str(tmp_path / "data")},
        ["experiment=c5e2", f"data_dir={tmp_path}/data"],
    )
    (folder / "model.keras").write_bytes(b"weights")
    _record(runs, "cut", {**_c5e2(0.05), "status": "interrupted"})
    records = tmp_path / "records"
    assert main(["report", str(runs), f"keep={records}"]) == 0
    assert "2 run record(s) kept" in capsys.readouterr().out
    kept = records / "c5e2" / "10-00-00_c5e2"
    assert sorted(p.name for p in kept.rglob("*") if p.is_file()) == [
        "config.yaml",
        "metrics.json",
        "overrides.yaml",
    ]
    for path in kept.rglob("*"):
        if path.is_file():
            assert str(tmp_path) not in path.read_text(), path
    assert json.loads((kept / "metrics.json").read_text())["test/error"] == 0.042
    assert yaml.safe_load((kept / "config.yaml").read_text())["data_dir"] == "<path>"


def test_generated_text_is_kept_and_shown_with_the_runs_numbers(tmp_path: Path) -> None:
    # The book judges c12e1's continuations and c14e1's translations by eye: the page shows what
    # the run wrote, the final sampling only (samples.txt holds one block per sampling).
    runs = tmp_path / "outputs"
    text = _record(runs, "text", {"experiment": "c12e1", "status": "completed", "seed": 0})
    (text / "samples.txt").write_text(
        "Sample completions after epoch 1 (greedy, 3 steps):\n 1. 'i saw the'\n"
        f"Sample completions after epoch 32 (greedy, 3 steps):\n 1. 'i saw {tmp_path}'\n"
    )
    examples = [
        {"source": f"phrase {index}", "target": f"reference {index}", "prediction": "a | b"}
        for index in range(7)
    ]
    metrics = {"experiment": "c14e1", "status": "completed", "translation_examples": examples}
    _record(runs, "translation", metrics)
    records = tmp_path / "records"
    assert main(["report", str(runs), f"keep={records}"]) == 0
    kept = (records / "c12e1" / "text" / "samples.txt").read_text()
    assert kept == "Sample completions after epoch 32 (greedy, 3 steps):\n 1. 'i saw <path>'\n"

    page = render_page([records], "ldl report x book=table")
    section = page[page.index("### c12e1\n") : page.index("### c12e1_no_rdo")]
    assert "```text\nSample completions after epoch 32" in section and "epoch 1 " not in section
    section = page[page.index("### c14e1\n") :]
    assert "translations of the first 5 test pairs" in section
    assert "| phrase 0 | reference 0 | a \\| b |" in section and "phrase 5" not in section


def test_the_page_and_extracts_are_written_by_the_command(tmp_path: Path, capsys) -> None:
    _record(tmp_path / "runs", "full", _c5e2(0.042), {"experiment_id": "c5e2"})
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- book-table c5e2 c5_conf5 c7_conf3 -->\nold\n<!-- /book-table -->\n"
    )
    out = tmp_path / "docs" / "reproduction.md"
    arguments = [str(tmp_path / "runs"), "book=table", f"out={out}", f"update={readme}"]
    assert main(["report", *arguments]) == 0
    assert out.read_text().startswith(f"<!-- generated by `ldl report {' '.join(arguments)}`")
    text = readme.read_text()
    assert "old" not in text
    assert "| [c5e2](docs/reproduction.md#c5e2) | 0 | test/error: 0.042 |" in text
    assert text.count("[c5e2](") == 2  # an alias shows its experiment's runs
    assert "| [c7_conf3](docs/reproduction.md#c7_conf3) | | not run here: no record yet |" in text


def _search(sweep: Path) -> None:
    """An architecture search's sweep folder as the c17e4 sweeper leaves it: two candidates and the
    final retraining of the best, each a job folder, and the search's state."""
    phases = ["random", "hill_climb", "final"]
    candidates = [
        {"index": i, "phase": phase, "layers": ["C16-k3-s1-relu"], "estimated_weights": 1000}
        for i, phase in enumerate(phases)
    ]
    state = {
        "strategy": "random_then_hill_climb",
        "seed": 7,
        "experiment_id": "c17e4",
        "candidates": candidates,
        "final_index": 2,
        "best_score": 0.35,
        "candidate_evaluations": 1,
        "hill_climb_steps": 1,
        "eval_epochs": 1,
        "final_epochs": 5,
        "train_fraction": 0.1,
    }
    sweep.mkdir(parents=True)
    (sweep / "search_state.json").write_text(json.dumps(state))
    for index, phase in enumerate(phases):
        score = {"test/accuracy": 0.39} if phase == "final" else {"val/accuracy": 0.3 + index / 20}
        metrics = {"experiment": "c17e4", "status": "completed", "seed": 7, **score}
        metrics["train_seconds"] = 30.0
        _record(sweep, f"{index}_c17e4", metrics, {"experiment_id": "c17e4"})


def test_a_search_is_one_row_with_its_budget_and_is_kept_with_its_settings(tmp_path: Path) -> None:
    _search(tmp_path / "outputs" / "multirun" / "small_search")
    table = {e.experiment.experiment: e for e in collect([tmp_path / "outputs"])[0]}
    (run,) = table["c17e4"].runs
    assert run.record.name == "multirun/small_search"
    assert run.budget is Budget.REDUCED
    assert run.budget_note == (
        "2 of 1000 candidates, 1 of 3 epochs each, 0.1 of the training data, "
        "best retrained 5 of 20 epochs"
    )
    assert [(row.metric, row.ours) for row in run.comparisons] == [("test/accuracy", 0.39)]
    assert run.record.search["best_so_far_by_phase"] == {"random": 0.3, "hill_climb": 0.35}
    page = render_page([tmp_path / "outputs"], "ldl report x book=table")
    assert "at the end of each phase: random search = 0.3, hill climbing = 0.35." in page
    row = next(line for line in page.splitlines() if line.startswith("| [c17e4]"))
    assert row.endswith("| 1.0 min candidates + 30.0 s final |"), row
    records = tmp_path / "records"
    assert main(["report", str(tmp_path / "outputs"), f"keep={records}"]) == 0
    kept = records / "c17e4" / "small_search"
    assert sorted(p.name for p in kept.iterdir()) == ["config.yaml", "metrics.json", "search.json"]
    (again,) = {e.experiment.experiment: e for e in collect([records])[0]}["c17e4"].runs
    assert (again.budget, again.budget_note) == (run.budget, run.budget_note)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["book=plot"], "book='plot' is not a valid"),
        (["out=page.md"], "add book=table"),
        (["book=table", "update=README.md"], "add out="),
        (["book=table", "out=page.md", "update=missing.md"], "is not a Markdown file"),
    ],
)
def test_bad_book_report_arguments_are_refused(tmp_path: Path, arguments, fragment) -> None:
    (tmp_path / "runs").mkdir()
    # A refusal needs no process of its own: the command in this process (the harness's run_cli).
    outcome = run_cli("report", "runs", *arguments, cwd=tmp_path)
    assert outcome.error is None, outcome.error  # no exception escaped (a user's traceback)
    assert outcome.code not in (0, None) and "Traceback" not in outcome.err, outcome.err
    assert fragment in outcome.err, outcome.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_an_unknown_id_in_an_extract_is_refused(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    page = tmp_path / "page.md"
    page.write_text("<!-- book-table c5e22 -->\n<!-- /book-table -->\n")
    arguments = ["report", str(tmp_path / "runs"), "book=table", f"out={tmp_path / 'r.md'}"]
    assert main([*arguments, f"update={page}"]) != 0
    assert not (tmp_path / "r.md").exists()


def test_an_epochs_extract_sets_runs_side_by_side_with_the_books_epochs(tmp_path: Path) -> None:
    def metrics(experiment: str, seed: int, accuracies: list[tuple[float, float]]) -> dict:
        found: dict = {"experiment": experiment, "status": "completed", "seed": seed}
        for epoch, (train, test) in enumerate(accuracies):
            found[f"epoch_{epoch}/train/accuracy"] = train
            found[f"epoch_{epoch}/test/accuracy"] = test
        return {**found, "epochs_completed": 20, "test/accuracy": 0.94, "train_seconds": 49.0}

    _record(tmp_path, "c4e2/seven", metrics("c4e2", 7, [(0.8563, 0.9157), (0.9203, 0.9240)]))
    _record(tmp_path, "c4e2/zero", metrics("c4e2", 0, [(0.85, 0.91)]))
    changed = ["experiment=aFe2", "optimizer.learning_rate=0.05"]
    _record(tmp_path, "aFe2/listing", metrics("aFe2", 7, [(0.83, 0.8951)]), overrides=changed)
    table = collect([tmp_path])[0]
    marker = "<!-- book-epochs c4e2 aFe2/listing epochs=0-1 -->\n"
    text = update_extracts(f"{marker}old\n<!-- /book-epochs -->\n", table, "r.md")
    assert text == (
        marker + "| epoch | book (train/accuracy / test/accuracy) | [c4e2](r.md#c4e2) seed 7 | "
        "[aFe2](r.md#afe2) seed 7<br>`optimizer.learning_rate=0.05` |\n"
        "|---|---|---|---|\n"
        "| 0 | 0.8563 / 0.9157 | 0.8563 / 0.9157 | 0.83 / 0.8951 |\n"
        "| 1 | 0.9203 / 0.924 | 0.9203 / 0.924 | - / - |\n"
        "| final test/accuracy | | 0.94 | 0.94 |\n"
        "| training time | | 49.0 s | 49.0 s |\n"
        "<!-- /book-epochs -->\n"
    )
    for words, fragment in [
        ("aFe2", "aFe2 has no run at the book's budget"),
        ("c4e2/elsewhere", "c4e2 has no kept run elsewhere"),
        ("c4e2 epochs=a-b", "epochs=a-b is not like"),
        ("c4e2 shown=all", "unknown option shown="),
    ]:
        with pytest.raises(ValueError, match=fragment):
            update_extracts(f"<!-- book-epochs {words} -->\n<!-- /book-epochs -->\n", table, "")


def test_a_translations_extract_sets_translators_side_by_side(tmp_path: Path) -> None:
    def translated(experiment: str, predictions: list[str]) -> dict:
        pairs = [("je suis folle", "i'm crazy"), ("c'est à elle", "that's hers")]
        examples = [
            {"source": source, "target": target, "prediction": prediction}
            for (source, target), prediction in zip(pairs, predictions, strict=True)
        ]
        return {"experiment": experiment, "status": "completed", "translation_examples": examples}

    _record(tmp_path, "c14e1/run", translated("c14e1", ["i'm crazy", "is | her"]))
    # Matched by source sentence, not position.
    transformer = translated("c15_transformer", ["i'm mad", "that's hers"])
    transformer["translation_examples"].reverse()
    _record(tmp_path, "c15/run", transformer)
    table = collect([tmp_path])[0]
    marker = "<!-- book-translations c14e1 c15_transformer count=2 -->\n"
    text = update_extracts(f"{marker}<!-- /book-translations -->\n", table, "r.md")
    assert text == (
        marker + "| source | reference | [c14e1](r.md#c14e1) | "
        "[c15_transformer](r.md#c15_transformer) |\n"
        "|---|---|---|---|\n"
        "| je suis folle | i'm crazy | i'm crazy | i'm mad |\n"
        "| c'est à elle | that's hers | is \\| her | that's hers |\n"
        "<!-- /book-translations -->\n"
    )
    with pytest.raises(ValueError, match="count=few is not a number"):
        update_extracts(
            "<!-- book-translations c14e1 count=few -->\n<!-- /book-translations -->\n", table, ""
        )


# --- hparams_search=book and its chapters ---------------------------------------------------------


def _swept(path: Path) -> list[str]:
    content = yaml.safe_load(path.read_text())
    return str(content["hydra"]["sweeper"]["params"]["experiment"]).split(",")


def test_the_chapter_options_cover_every_book_experiment_once() -> None:
    folder = REPO / "configs" / "chapter"
    experiments = [e for e in book_experiments() if not e.search]
    everything = _swept(folder / "all.yaml")
    assert everything == [e.experiment for e in experiments]
    chapters = {e.experiment: e.chapter for e in experiments}
    seen: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.stem == "all":
            continue
        ids = _swept(path)
        assert {f"c{chapters[i]}" if chapters[i] != "F" else "aF" for i in ids} == {path.stem}
        seen += ids
    assert sorted(seen) == sorted(everything)


@pytest.mark.slow
def test_the_book_search_runs_a_chapter_and_ends_with_the_report(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()  # chapter 1's NAND data are built in
    command = ("train", "-m", "hparams_search=book", "chapter=c1", "output_root=outputs")
    first = run_ldl(*command, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    page = (sweep / "reproduction.md").read_text()
    assert "2 book experiments: 2 run at the book's budget, 0 only at a reduced" in page
    assert re.search(r"^\| \[c1e1\].*\| within \(4 of 4\) \|", page, re.M), page
    assert "c5e2" not in page  # a chapter's report lists that chapter's experiments
    metrics = sweep / "0_c1e1" / "metrics.json"
    finished = metrics.stat().st_mtime_ns
    again = run_ldl(*command, cwd=tmp_path, timeout=600)  # the same command resumes: nothing to do
    assert again.returncode == 0, again.stderr
    assert metrics.stat().st_mtime_ns == finished
    assert (sweep / "reproduction.md").read_text() == page
