"""Mean, standard deviation and 95 % confidence interval of a metric over seed repeats.

The interval is Student's t interval for the mean of K independent runs, mean ± t(0.975, K-1) · s/√K
with s the sample standard deviation: the range that, over many such groups of K seeds, holds the
true mean of the configuration in 95 % of them. The t quantile is computed here (the regularized
incomplete beta function by its continued fraction, inverted by bisection) so no statistics library
is needed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["within", "outside", "overlapping", "reference", "not measured"]


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, epsilon = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < epsilon:
            break
    return fraction


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must lie in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, degrees_of_freedom: int) -> float:
    """P(T <= t) for Student's t distribution."""
    if degrees_of_freedom < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {degrees_of_freedom}")
    nu = float(degrees_of_freedom)
    tail = 0.5 * regularized_incomplete_beta(nu / 2.0, 0.5, nu / (nu + t * t))
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(probability: float, degrees_of_freedom: int) -> float:
    """The t with P(T <= t) = probability (0.5 < probability < 1), to about 1e-12."""
    if not 0.5 < probability < 1.0:
        raise ValueError(f"probability must lie in (0.5, 1), got {probability}")
    low, high = 0.0, 1.0
    while student_t_cdf(high, degrees_of_freedom) < probability:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if student_t_cdf(middle, degrees_of_freedom) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-13 * max(1.0, high):
            break
    return (low + high) / 2.0


@dataclass(frozen=True)
class Interval:
    mean: float
    std: float  # sample standard deviation (K - 1 in the denominator)
    low: float
    high: float


def confidence_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean, sample std and the two-sided Student t interval at `level`; one value: a point."""
    if not values:
        raise ValueError("an interval needs at least one value")
    mean = statistics.fmean(values)
    if len(values) == 1:
        return Interval(mean, 0.0, mean, mean)
    std = statistics.stdev(values)
    half = student_t_quantile(0.5 + level / 2.0, len(values) - 1) * std / math.sqrt(len(values))
    return Interval(mean, std, mean - half, mean + half)


def interval_verdict(
    low: float | None, high: float | None, book_low: float | None, book_high: float | None
) -> Verdict:
    """How an interval of ours lies against the book's range: inside it, apart from it, or across
    one of its ends; `reference` when the book gives no range."""
    if low is None or high is None:
        return "not measured"
    if book_low is None or book_high is None:
        return "reference"
    if book_low <= low and high <= book_high:
        return "within"
    if high < book_low or low > book_high:
        return "outside"
    return "overlapping"


def job_interval_text(metrics: list[dict], metric: str) -> str:
    """` (95 % CI low .. high)` for a configuration scored by one seed-repeats job; else empty."""
    if len(metrics) != 1:
        return ""
    low, high = metrics[0].get(f"{metric}_ci95_low"), metrics[0].get(f"{metric}_ci95_high")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return ""
    return f" (95 % CI {low:.4f} .. {high:.4f})"
