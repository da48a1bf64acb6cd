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
from collections.abc import Callable
from pathlib import Path

from ldl.runs.book_table import (
    Budget,
    ExperimentRows,
    RunRow,
    cell_text,
    duration,
    not_run_reason,
    number,
    run_cells,
)


def _marker(kind: str) -> re.Pattern[str]:
    """An extract of `kind` between its markers, which start a line (an indented one, e.g. in a code
    example, is text): groups 1 and 4 are the markers, 2 the marker's words, 3 the generated text."""
    return re.compile(rf"^(<!-- {kind} ([^>]*?) -->\n)(.*?)^(<!-- /{kind} -->)", re.S | re.M)


EXTRACT = _marker("book-table")
EPOCHS = _marker("book-epochs")
TRANSLATIONS = _marker("book-translations")
_EPOCH_METRIC = re.compile(r"epoch_(\d+)/(.+)")
HEADER = ["id", "seed", "ldl", "book", "verdict", "budget"]


def _link(experiment: str, page_link: str) -> str:
    """The experiment's name, linked to its section of the reproduction page."""
    return f"[{experiment}]({page_link}#{experiment.lower()})"


def _rows(entry: ExperimentRows, page_link: str) -> list[str]:
    experiment = entry.experiment
    name = _link(experiment.experiment, page_link)
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
    found = [m for run in runs for key in run.record.metrics if (m := _EPOCH_METRIC.match(key))]
    epochs = (
        _epochs(options["epochs"]) if "epochs" in options else sorted({int(m[1]) for m in found})
    )
    suffixes = sorted(
        {m[2] for m in found}, key=lambda suffix: (not suffix.startswith("train/"), suffix)
    )
    book = {row.metric: row.book for row in runs[0].comparisons} if runs else {}

    def cell(values: dict, epoch: int) -> str:
        found = [values.get(f"epoch_{epoch}/{suffix}") for suffix in suffixes]
        return " / ".join("-" if v is None or v != v else number(v) for v in found)

    headers = [f"book ({' / '.join(suffixes)})"]
    for run in runs:
        link = _link(run.record.experiment, page_link)
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
    headers = ["source", "reference", *(_link(run.record.experiment, page_link) for run in runs)]
    lines = ["| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
    for source, first in list(examples[0].items())[:count]:
        cells = [source, str(first.get("target", ""))]
        cells += [str(found.get(source, {}).get("prediction", "-")) for found in examples]
        lines.append("| " + " | ".join(cell_text(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


# Each kind of extract and what writes it from the marker's words.
Writer = Callable[[list[str], list[ExperimentRows], str], str]
_KINDS: tuple[tuple[re.Pattern[str], Writer], ...] = (
    (EXTRACT, extract),
    (EPOCHS, epochs_extract),
    (TRANSLATIONS, translations_extract),
)


def update_extracts(text: str, table: list[ExperimentRows], page_link: str) -> str:
    """`text` with every marked extract regenerated."""

    def regenerated(write: Writer) -> Callable[[re.Match[str]], str]:
        def replaced(found: re.Match[str]) -> str:
            words = found.group(2).split()
            return found.group(1) + write(words, table, page_link) + found.group(4)

        return replaced

    for marker, write in _KINDS:
        text = marker.sub(regenerated(write), text)
    return text


def has_extracts(text: str) -> bool:
    return any(marker.search(text) for marker, _ in _KINDS)


def page_link(document: Path, page: Path) -> str:
    """The relative link from `document` to the reproduction page."""
    return Path(os.path.relpath(page, document.parent)).as_posix()
