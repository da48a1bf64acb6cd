"""US Census monthly book-store sales as forecasting examples (chapter 9, chapter 9).

The book predicts next month's sales from all earlier months. Two things make this easy to get subtly
wrong, and both are guarded here: the split is chronological and each split is windowed separately, so
no example ever sees a month after its target (no leakage); and the scaling statistics come from the
training months only. The book's printed numbers were produced with a scaling bug (divide by the
training mean instead of the std); `scale_by: mean` reproduces it, and every run also reports the naive
"next month = this month" baseline so that scale-free ratios can be compared with the book.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit
from ldl.data.download import missing_files_error
from ldl.errors import ConfigError, DataError
from ldl.tasks.forecasting.report import ForecastReport

FILE_NAME = "book_store_sales.csv"
SOURCE_URL = "https://www.census.gov/econ/currentdata/ (Monthly Retail Trade, 451211 Book stores, not seasonally adjusted)"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_PERIOD = re.compile(r"^([A-Za-z]{3})-(\d{2}|\d{4})$")
_MISSING_VALUES = ("", "na", "n/a", "(na)", "(s)")


@dataclass(frozen=True, eq=False)
class MonthlySeries:
    """Consecutive months ("YYYY-MM") and their sales in millions of dollars."""

    months: list[str]
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.months)

    def until(self, end_month: str | None) -> MonthlySeries:
        """Keep the months up to and including `end_month` ("YYYY-MM"); None keeps all."""
        if end_month is None:
            return self
        end = parse_month_setting(end_month, "data.end_date")
        keep = sum(1 for month in self.months if month <= end)
        if keep == 0:
            raise ConfigError(
                f"data.end_date={end_month} lies before the first month of the series "
                f"({self.months[0]}); choose a later month or null for the whole series."
            )
        return MonthlySeries(self.months[:keep], self.values[:keep])


def parse_month_setting(value: Any, key: str) -> str:
    """A config month such as 2020-03 (also "2020-3") in the canonical "YYYY-MM" form."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ConfigError(f"{key}={value!r} is not a month; write it as YYYY-MM, e.g. 2020-03.")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def _parse_period(text: str) -> str | None:
    """ "Jan-92" or "Jan-1992" -> "1992-01"; two-digit years 50-99 are 19xx, 00-49 are 20xx."""
    match = _PERIOD.match(text.strip())
    if not match or match.group(1).lower() not in MONTHS:
        return None
    year = int(match.group(2))
    if len(match.group(2)) == 2:
        year += 1900 if year >= 50 else 2000
    return f"{year:04d}-{MONTHS.index(match.group(1).lower()) + 1:02d}"


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _sales_value(text: str, where: str, fix: str) -> float | None:
    """One month's value: None where the Census marks it missing, else a non-negative number."""
    if text.lower() in _MISSING_VALUES:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise DataError(
            f"{where} has the value {text!r}; sales must be non-negative numbers. {fix}"
        )
    return value


def read_book_sales(path: Path | str) -> MonthlySeries:
    """Parse the Census CSV (`Period,Value`, one `Mon-YY,value` line per month).

    Trailing months without a value (a Census download ends with `NA` for months not yet published)
    are dropped, as the book says; a missing value inside the series, a gap between months or any
    other malformed line is an error naming the file and the line, because silently skipping it
    would shift every later month.
    """
    path = Path(path)
    fix = "The file is truncated or corrupt: replace it with the Census download."
    try:
        with open(path, encoding="utf-8-sig") as stream:
            lines = stream.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            f"Cannot read '{path}' as the book-store sales CSV ({error}). {fix}"
        ) from None
    if not lines or [field.strip() for field in lines[0].split(",")] != ["Period", "Value"]:
        header = lines[0] if lines else "(empty file)"
        raise DataError(
            f"'{path}' does not start with the header line 'Period,Value' (found {header!r}); it is "
            f"not the Census book-store sales CSV. {fix}"
        )
    months: list[str] = []
    values: list[float | None] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        month = _parse_period(fields[0]) if len(fields) == 2 else None
        if month is None:
            raise DataError(
                f"Line {number} of '{path}' is {line!r}; every line after the header must be "
                f"'Mon-YY,value', e.g. 'Jan-92,790'. {fix}"
            )
        if months and month != _next_month(months[-1]):
            raise DataError(
                f"Line {number} of '{path}' is month {month}, but {_next_month(months[-1])} should "
                f"follow {months[-1]}: the months must be consecutive. {fix}"
            )
        value = _sales_value(fields[1], f"Line {number} of '{path}'", fix)
        months.append(month)
        values.append(value)
    while values and values[-1] is None:  # months not yet published
        months.pop()
        values.pop()
    if None in values:
        where = months[values.index(None)]
        raise DataError(
            f"'{path}' has no value for {where}, inside the series; a forecast needs every "
            f"month. {fix}"
        )
    if not values:
        raise DataError(f"'{path}' holds no monthly values. {fix}")
    return MonthlySeries(months, np.asarray(values, dtype=np.float32))


def load_book_sales(data_dir: Path | str, end_date: str | None = "2020-03") -> MonthlySeries:
    """The series from `data_dir/book_store_sales.csv`, truncated at `end_date` (the book's 2020-03)."""
    path = Path(data_dir).expanduser() / FILE_NAME
    if not path.is_file():
        raise missing_files_error(
            "book-store sales", path.parent, [FILE_NAME], SOURCE_URL, reason=None
        )
    return read_book_sales(path).until(end_date)


def split_chronologically(
    values: np.ndarray, train_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """The first `int(n * train_fraction)` months train, the rest test; never shuffled (chapter 9)."""
    if not 0.0 < train_fraction < 1.0:
        raise ConfigError(
            f"data.train_months_fraction must lie strictly between 0 and 1, got {train_fraction}."
        )
    split = int(len(values) * train_fraction)
    return values[:split], values[split:]


def scale_series(
    train: np.ndarray, test: np.ndarray, scale_by: str = "std"
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Subtract the training mean and divide by the training std (population) or, as the book's
    printed numbers did by mistake, by the training mean. Returns (train, test, mean, scale)."""
    if scale_by not in ("std", "mean"):
        raise ConfigError(f"data.scale_by={scale_by!r} is not known; use std (default) or mean.")
    mean = float(np.mean(train, dtype=np.float64))
    scale = float(np.std(train, dtype=np.float64)) if scale_by == "std" else mean
    if scale == 0.0:
        scale = 1.0

    def as_scaled(values: np.ndarray) -> np.ndarray:
        return ((values.astype(np.float64) - mean) / scale).astype(np.float32)

    return as_scaled(train), as_scaled(test), mean, scale


HORIZON_TARGETS = ("all", "last")
PADDING_SIDES = ("pre", "post")


def make_windows(
    series: np.ndarray,
    min_history: int = 12,
    history: str = "full",
    lookback: int = 12,
    padding: str = "pre",
    padding_value: float = 0.0,
    horizon: int = 1,
    horizon_targets: str = "all",
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasting examples from one split: X (n - min_history, width, features), y (n - min_history, 1).

    Multi-step prediction (chapter 11's strategies): with `horizon` m > 1 example i predicts months
    t .. t + m - 1 (`horizon_targets="all"`: one model with m outputs) or only month t + m - 1
    (`"last"`: one model per horizon, one run for each m); the last m - 1 months of the split then
    start no example.

    `series` is (n,) or (n, features); the target is feature 0 (the book's sales), the other features
    are extra input series. Example i predicts month t = i + min_history from the months before it:
    `history="full"` gives every earlier month (width n - 1, the book's growing windows);
    `history="fixed"` gives only the last `lookback` months (c9e1_ffn). The unused positions hold
    `padding_value`, before the months (`padding="pre"`, the book: right-aligned) or after them
    (`"post"`). The book's zero padding equals the training mean after scaling; no month at or after t
    ever enters example i.
    """
    if history not in ("full", "fixed"):
        raise ConfigError(f"data.history={history!r} is not known; use full or fixed.")
    if padding not in PADDING_SIDES:
        raise ConfigError(f"data.padding={padding!r} is not known; use pre (the book) or post.")
    if horizon_targets not in HORIZON_TARGETS:
        raise ConfigError(
            f"data.horizon_targets={horizon_targets!r} is not known; use all (one model, m outputs) "
            "or last (one model per horizon)."
        )
    for key, value in (("min_history", min_history), ("lookback", lookback), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"data.{key} must be an integer >= 1, got {value!r}.")
    values = series.reshape(len(series), -1)
    count = len(values) - min_history - (horizon - 1)
    if count < 1:
        raise ConfigError(
            f"A split of {len(values)} months gives no example with data.min_history={min_history}; "
            "use more months (data.end_date, data.train_months_fraction) or a shorter min_history."
        )
    width = len(values) - 1 if history == "full" else lookback
    x = np.full((count, width, values.shape[1]), padding_value, dtype=np.float32)
    outputs = horizon if horizon_targets == "all" else 1
    y = np.zeros((count, outputs), dtype=np.float32)
    for i in range(count):
        target = i + min_history
        past = values[max(0, target - width) : target]
        if padding == "pre":
            x[i, width - len(past) :] = past
        else:
            x[i, : len(past)] = past
        future = values[target : target + horizon, 0]
        y[i] = future if horizon_targets == "all" else future[-1:]
    return x, y


def last_months(
    series: np.ndarray, min_history: int, horizon: int = 1, outputs: int = 1
) -> np.ndarray:
    """The naive forecast of every example, the month before its (first) target, for each of its
    `outputs` target months: shape (N, outputs)."""
    values = series.reshape(len(series), -1)
    last = values[min_history - 1 : len(values) - horizon, :1].astype(np.float32)
    return np.repeat(last, outputs, axis=1)


def load_extra_series(
    data_dir: Path | str, names: list[str], months: list[str]
) -> list[np.ndarray]:
    """Extra monthly input series (chapter 9's multivariate sketch), aligned with `months`.

    Each file is a `Period,Value` CSV like the book-sales file in `data_dir`; it must cover every
    month of the book-sales series."""
    columns = []
    for name in names:
        path = Path(data_dir).expanduser() / name
        if not path.is_file():
            raise missing_files_error(
                "the extra input series", path.parent, [name], "the Census or FRED monthly series",
                reason=None,
            )  # fmt: skip
        extra = read_book_sales(path)
        by_month = dict(zip(extra.months, extra.values, strict=True))
        missing = [month for month in months if month not in by_month]
        if missing:
            raise DataError(
                f"'{path}' has no value for {missing[0]} ({len(missing)} months of the book-sales "
                f"series are missing from it); an extra series must cover {months[0]} to "
                f"{months[-1]}."
            )
        columns.append(np.asarray([by_month[month] for month in months], dtype=np.float32))
    return columns


def naive_forecast(x: np.ndarray) -> np.ndarray:
    """The baseline "next month = this month": the last input month of every example, shape (N, 1)."""
    return x[:, -1, :1].copy()


def _with_extra_series(
    train: np.ndarray,
    test: np.ndarray,
    data_dir: Path | str,
    names: list[str],
    months: list[str],
    fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The sales series with the extra input series as further columns: the same chronological
    split, each standardized with its own training months."""
    train_columns, test_columns = [train], [test]
    for column in load_extra_series(data_dir, names, months):
        extra_train, extra_test = split_chronologically(column, fraction)
        extra_train, extra_test, _, _ = scale_series(extra_train, extra_test, "std")
        train_columns.append(extra_train)
        test_columns.append(extra_test)
    return np.stack(train_columns, 1), np.stack(test_columns, 1)


def prepare_book_sales(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """Windows, statistics and the after-training report (naive baseline, plot) as PreparedData."""
    if split.cv and split.cv.get("test_fraction") is not None:
        raise ConfigError(
            "cv.test_fraction draws test examples at random from the training examples, but a "
            "forecast is tested on the months after its training months (data.train_months_"
            "fraction sets where they start); leave cv.test_fraction null for data=book_sales."
        )
    series = load_book_sales(data_dir, data_config["end_date"])
    fraction = float(data_config["train_months_fraction"])
    train, test = split_chronologically(series.values, fraction)
    train_scaled, test_scaled, mean, scale = scale_series(train, test, str(data_config["scale_by"]))
    extra_names = list(data_config.get("extra_series") or [])
    train_features, test_features = _with_extra_series(
        train_scaled, test_scaled, data_dir, extra_names, series.months, fraction
    )
    options = {
        "min_history": data_config["min_history"],
        "history": data_config["history"],
        "lookback": data_config["lookback"],
        "padding": data_config.get("padding", "pre"),
        "padding_value": float(data_config.get("padding_value", 0.0)),
        "horizon": data_config.get("horizon", 1),
        "horizon_targets": data_config.get("horizon_targets", "all"),
    }
    x_train, y_train = make_windows(train_features, **options)
    x_test, y_test = make_windows(test_features, **options)
    first_test_month = len(train)
    min_history = int(data_config["min_history"])
    horizon, outputs = int(options["horizon"]), int(y_test.shape[1])
    # The month of each example's first target (its last one with horizon_targets=last).
    first_target = first_test_month + min_history + (0 if outputs > 1 else horizon - 1)
    test_months = series.months[first_target : first_target + len(y_test)]
    statistics = {"mean": mean, "scale": scale, "scale_by": str(data_config["scale_by"])}
    metadata = {
        "dataset": "book_sales",
        "months": [series.months[0], series.months[-1]],
        "train_months": [series.months[0], series.months[first_test_month - 1]],
        "test_months": [series.months[first_test_month], series.months[-1]],
        "test_target_months": [test_months[0], test_months[-1]],
        "input_series": ["book_sales", *extra_names],
        **statistics,
    }
    naive = last_months(test_scaled, min_history, horizon, outputs)
    return split.carve(
        PreparedData(
            x_train=x_train,
            y_train=y_train,
            x_val=None,
            y_val=None,
            x_test=x_test,
            y_test=y_test,
            task="regression",
            num_outputs=outputs,
            statistics=statistics,
            metadata=metadata,
            test_report=ForecastReport(x_test, y_test, test_months, mean, scale, naive),
        )
    )
