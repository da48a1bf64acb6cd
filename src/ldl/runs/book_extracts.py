"""Short extracts of the reproduction report inside other Markdown pages (the README, a chapter's page),
regenerated from the same run records so that no result number in them is typed by hand.

A page marks an extract with the ids it shows, each marker at the start of a line; everything between
the markers is replaced:

    <!-- book-table c5e2 c6e1 -->
    ...generated rows...
    <!-- /book-table -->
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ldl.runs.book_table import Budget, ExperimentRows, not_run_reason, run_cells

# The markers start a line (an indented one, e.g. in a code example, is text).
EXTRACT = re.compile(r"^(<!-- book-table ([^>]*?) -->\n)(.*?)^(<!-- /book-table -->)", re.S | re.M)
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
    entries = {entry.experiment.experiment: entry for entry in table}
    for alias_entry in table:
        for alias in alias_entry.experiment.aliases:
            entries[alias] = alias_entry
    unknown = [name for name in ids if name not in entries]
    if unknown:
        raise ValueError(f"book-table extract names no book experiment: {', '.join(unknown)}")
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for name in ids:
        lines += _rows(entries[name], page_link)
    return "\n".join(lines) + "\n"


def update_extracts(text: str, table: list[ExperimentRows], page_link: str) -> str:
    """`text` with every marked extract regenerated."""

    def replaced(found: re.Match[str]) -> str:
        ids = found.group(2).split()
        return found.group(1) + extract(ids, table, page_link) + found.group(4)

    return EXTRACT.sub(replaced, text)


def page_link(document: Path, page: Path) -> str:
    """The relative link from `document` to the reproduction page."""
    return Path(os.path.relpath(page, document.parent)).as_posix()
