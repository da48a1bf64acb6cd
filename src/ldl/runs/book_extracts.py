"""Short extracts of the reproduction report inside other Markdown pages (the README, a chapter's page),
regenerated from the same run records so that no result number in them is typed by hand.

A page marks an extract with the ids it shows, each marker at the start of a line; everything between
the markers is replaced:

    <!-- book-table c5e2 c6e1 -->
    ...generated rows...
    <!-- /book-table -->

A second kind sets runs side by side epoch by epoch (the book's per-epoch printouts, chapter 4):

    <!-- book-epochs c4e2 aFe1 aFe2/<run folder name> epochs=0-5,19 -->
    <!-- /book-epochs -->

An id names its runs at the book's budget; `<id>/<run folder name>` one kept run, whatever its budget.

A third sets translators side by side on the same test pairs (`translation_examples` in metrics.json):

    <!-- book-translations c14e1 c15_transformer count=20 -->
    <!-- /book-translations -->
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ldl.runs.book_table import (
    Budget,
    ExperimentRows,
    RunRow,
    duration,
    not_run_reason,
    number,
    run_cells,
)

# The markers start a line (an indented one, e.g. in a code example, is text).
EXTRACT = re.compile(r"^(<!-- book-table ([^>]*?) -->\n)(.*?)^(<!-- /book-table -->)", re.S | re.M)
EPOCHS = re.compile(r"^(<!-- book-epochs ([^>]*?) -->\n)(.*?)^(<!-- /book-epochs -->)", re.S | re.M)
TRANSLATIONS = re.compile(
    r"^(<!-- book-translations ([^>]*?) -->\n)(.*?)^(<!-- /book-translations -->)", re.S | re.M
)
_EPOCH_METRIC = re.compile(r"epoch_(\d+)/(.+)")
HEADER = ["id", "seed", "ldl", "book", "verdict", "budget"]


def _rows(entry: ExperimentRows, page_link: str) -> list[str]:
    experiment = entry.experiment
    name = f"[{experiment.experiment}]({page_link}#{experiment.experiment.lower()})"
    if not entry.runs:
        return [f"| {name} | | {not_run_reason(experiment)} | | not run | |"]
    # The runs at the book's budget when there are any; else every run there is.
    runs = [run for run in entry.runs if run.budget is Budget.FULL] or entry.runs
    lines = []
    for run in runs:
        ours, book = run_cells(run)
        budget = run.budget.value if run.budget is Budget.FULL else f"reduced: {run.budget_note}"
        seed = run.record.metrics.get("seed", "-")
        lines.append(f"| {name} | {seed} | {ours} | {book} | {run.verdict} | {budget} |")
    return lines


def extract(ids: list[str], table: list[ExperimentRows], page_link: str) -> str:
    """The Markdown table of the experiments `ids` (an unknown id is refused)."""
    entries = _entries(table)
    unknown = [name for name in ids if name not in entries]
    if unknown:
        raise ValueError(f"book-table extract names no book experiment: {', '.join(unknown)}")
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for name in ids:
        lines += _rows(entries[name], page_link)
    return "\n".join(lines) + "\n"


def _entries(table: list[ExperimentRows]) -> dict[str, ExperimentRows]:
    entries = {entry.experiment.experiment: entry for entry in table}
    for entry in table:
        entries.update(dict.fromkeys(entry.experiment.aliases, entry))
    return entries


def _epochs(text: str) -> list[int]:
    """`0-5,19` as [0, 1, 2, 3, 4, 5, 19]."""
    epochs: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            epochs += range(int(first), int(last or first) + 1)
    except ValueError:
        raise ValueError(f"book-epochs extract: epochs={text} is not like epochs=0-5,19") from None
    return epochs


def _chosen_runs(names: list[str], entries: dict[str, ExperimentRows]) -> list[RunRow]:
    runs = []
    for name in names:
        experiment, _, folder = name.partition("/")
        if experiment not in entries:
            raise ValueError(f"extract names no book experiment: {experiment}")
        found = [
            run
            for run in entries[experiment].runs
            if (Path(run.record.name).name == folder if folder else run.budget is Budget.FULL)
        ]
        if not found:
            wanted = f"kept run {folder}" if folder else "run at the book's budget"
            raise ValueError(f"extract: {experiment} has no {wanted}")
        runs += found
    return runs


def epochs_extract(words: list[str], table: list[ExperimentRows], page_link: str) -> str:
    """The runs named in `words` side by side, one row per epoch, with the book's numbers."""
    options = _options(words, {"epochs"}, "book-epochs")
    entries = _entries(table)
    runs = _chosen_runs([word for word in words if "=" not in word], entries)
    shown = {
        int(m[1]) for run in runs for key in run.record.metrics if (m := _EPOCH_METRIC.match(key))
    }
    epochs = _epochs(options["epochs"]) if "epochs" in options else sorted(shown)
    suffixes = sorted(
        {m[2] for run in runs for key in run.record.metrics if (m := _EPOCH_METRIC.match(key))},
        key=lambda suffix: (not suffix.startswith("train/"), suffix),
    )
    book = {row.metric: row.book for row in runs[0].comparisons} if runs else {}

    def cell(values: dict, epoch: int) -> str:
        found = [values.get(f"epoch_{epoch}/{suffix}") for suffix in suffixes]
        return " / ".join("-" if v is None or v != v else number(v) for v in found)

    headers = [f"book ({' / '.join(suffixes)})"]
    for run in runs:
        experiment = run.record.experiment
        link = f"[{experiment}]({page_link}#{experiment.lower()})"
        changes = "".join(f"<br>`{change}`" for change in run.record.changes)
        headers.append(f"{link} seed {run.record.metrics.get('seed', '-')}{changes}")
    lines = ["| epoch | " + " | ".join(headers) + " |", "|---" * (len(runs) + 2) + "|"]
    for epoch in epochs:
        cells = [cell(book, epoch), *(cell(dict(run.record.metrics), epoch) for run in runs)]
        lines.append(f"| {epoch} | " + " | ".join(cells) + " |")
    finals = [number(run.record.metrics.get("test/accuracy", "-")) for run in runs]
    lines.append("| final test/accuracy | | " + " | ".join(finals) + " |")
    times = [duration(run.record.metrics.get("train_seconds")) for run in runs]
    lines.append("| training time | | " + " | ".join(times) + " |")
    return "\n".join(lines) + "\n"


def _options(words: list[str], allowed: set[str], kind: str) -> dict[str, str]:
    options = dict(word.split("=", 1) for word in words if "=" in word)
    if set(options) - allowed:
        raise ValueError(f"{kind} extract: unknown option {sorted(set(options) - allowed)[0]}=")
    return options


def _cell_text(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def translations_extract(words: list[str], table: list[ExperimentRows], page_link: str) -> str:
    """Translators' first test translations side by side, matched by source sentence."""
    options = _options(words, {"count"}, "book-translations")
    try:
        count = int(options.get("count", "10"))
    except ValueError:
        raise ValueError(
            f"book-translations extract: count={options['count']} is not a number"
        ) from None
    runs = _chosen_runs([word for word in words if "=" not in word], _entries(table))
    examples = []
    for run in runs:
        found = run.record.metrics.get("translation_examples")
        if not isinstance(found, list):
            raise ValueError(f"book-translations extract: {run.record.name} kept no translations")
        examples.append({str(e.get("source")): e for e in found if isinstance(e, dict)})
    headers = ["source", "reference"]
    for run in runs:
        experiment = run.record.experiment
        headers.append(f"[{experiment}]({page_link}#{experiment.lower()})")
    lines = ["| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
    for source, first in list(examples[0].items())[:count]:
        cells = [source, str(first.get("target", ""))]
        cells += [str(found.get(source, {}).get("prediction", "-")) for found in examples]
        lines.append("| " + " | ".join(_cell_text(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def update_extracts(text: str, table: list[ExperimentRows], page_link: str) -> str:
    """`text` with every marked extract regenerated."""

    def replaced(found: re.Match[str]) -> str:
        ids = found.group(2).split()
        return found.group(1) + extract(ids, table, page_link) + found.group(4)

    def epochs_replaced(found: re.Match[str]) -> str:
        words = found.group(2).split()
        return found.group(1) + epochs_extract(words, table, page_link) + found.group(4)

    def translations_replaced(found: re.Match[str]) -> str:
        words = found.group(2).split()
        return found.group(1) + translations_extract(words, table, page_link) + found.group(4)

    text = EPOCHS.sub(epochs_replaced, EXTRACT.sub(replaced, text))
    return TRANSLATIONS.sub(translations_replaced, text)


def has_extracts(text: str) -> bool:
    return any(kind.search(text) for kind in (EXTRACT, EPOCHS, TRANSLATIONS))


def page_link(document: Path, page: Path) -> str:
    """The relative link from `document` to the reproduction page."""
    return Path(os.path.relpath(page, document.parent)).as_posix()
