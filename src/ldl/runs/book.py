"""How a run's metrics compare with what the book reports for the same experiment.

Experiment configs carry a `book` block, e.g. `test/error: {value: 0.04, low: 0.03, high: 0.05}`; the
range is the tolerance within which ldl counts a run as agreeing with the book (the book's numbers
are single unseeded runs). A metric without a range is shown for reference only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BookComparison:
    metric: str
    ours: float | None
    book: float
    low: float | None
    high: float | None

    @property
    def verdict(self) -> str:
        if self.ours is None:
            return "not measured"
        if self.low is None or self.high is None:
            return "reference"
        return "within" if self.low <= self.ours <= self.high else "outside"


def compare_with_book(
    book: Mapping[str, Any] | None, metrics: Mapping[str, Any]
) -> list[BookComparison]:
    """One row per metric the book reports for this experiment."""
    if not book or not book.get("metrics"):
        return []
    rows = []
    for metric, reported in book["metrics"].items():
        ours = metrics.get(metric)
        rows.append(
            BookComparison(
                metric=metric,
                ours=float(ours) if isinstance(ours, int | float) else None,
                book=float(reported["value"]),
                low=None if reported.get("low") is None else float(reported["low"]),
                high=None if reported.get("high") is None else float(reported["high"]),
            )
        )
    return rows


def format_book_table(rows: list[BookComparison], source: str | None = None) -> str:
    """A small fixed-width table for the terminal and the run log."""
    if not rows:
        return ""
    lines = [f"Compared with the book ({source}):" if source else "Compared with the book:"]
    lines.append(f"  {'metric':<16}{'ldl':>12}{'book':>12}  {'book range':<22}verdict")
    for row in rows:
        ours = "-" if row.ours is None else f"{row.ours:.6g}"
        span = "-" if row.low is None else f"{row.low:.6g} .. {row.high:.6g}"
        lines.append(f"  {row.metric:<16}{ours:>12}{row.book:>12.6g}  {span:<22}{row.verdict}")
    return "\n".join(lines)


def book_metrics(rows: list[BookComparison]) -> dict[str, Any]:
    """Flat keys for metrics.json: `book/<metric>` and `book_verdict/<metric>`."""
    flat: dict[str, Any] = {}
    for row in rows:
        flat[f"book/{row.metric}"] = row.book
        flat[f"book_verdict/{row.metric}"] = row.verdict
    return flat
