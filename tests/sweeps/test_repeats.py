"""Seed repeats (trainer.repeats=K): K seeds of one configuration in one job, their mean, standard
deviation and 95 % Student t interval, and the book comparison judged on the interval."""

from __future__ import annotations

import json
import math
import statistics

import pandas as pd
import pytest
from helpers import run_ldl

from ldl.sweeps.cross_validation import train_or_cross_validate
from ldl.sweeps.intervals import (
    confidence_interval,
    interval_verdict,
    student_t_cdf,
    student_t_quantile,
)
from ldl.sweeps.repeats import repeat_folder, summarize_repeats


def test_t_quantiles_match_the_closed_forms_of_one_and_two_degrees_of_freedom():
    # One degree of freedom is the Cauchy distribution, two have a closed form too.
    assert student_t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-10)
    p = 0.975
    assert student_t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)))
    # Many degrees of freedom: the normal quantile.
    normal = statistics.NormalDist().inv_cdf(0.975)
    assert student_t_quantile(0.975, 100_000) == pytest.approx(normal, rel=1e-4)
    for degrees in (3, 4, 9, 29):
        quantile = student_t_quantile(0.975, degrees)
        assert student_t_cdf(quantile, degrees) == pytest.approx(0.975, abs=1e-12)
        assert student_t_cdf(-quantile, degrees) == pytest.approx(0.025, abs=1e-12)
        assert normal < quantile < student_t_quantile(0.975, degrees - 1)


def test_the_interval_is_the_mean_plus_minus_t_times_the_standard_error():
    values = [2.1, 2.5, 2.4, 2.9, 2.6]
    interval = confidence_interval(values)
    half = student_t_quantile(0.975, 4) * statistics.stdev(values) / math.sqrt(5)
    assert interval.mean == pytest.approx(statistics.fmean(values))
    assert interval.std == pytest.approx(statistics.stdev(values))
    assert (interval.low, interval.high) == pytest.approx(
        (interval.mean - half, interval.mean + half)
    )
    point = confidence_interval([3.0])
    assert (point.low, point.high, point.std) == (3.0, 3.0, 0.0)


def test_the_interval_is_judged_against_the_book_range():
    assert interval_verdict(2.3, 2.5, 2.24, 2.84) == "within"
    assert interval_verdict(2.9, 3.1, 2.24, 2.84) == "outside"
    assert interval_verdict(1.0, 2.0, 2.24, 2.84) == "outside"
    assert interval_verdict(2.0, 2.5, 2.24, 2.84) == "overlapping"
    assert interval_verdict(2.0, 3.0, 2.24, 2.84) == "overlapping"
    assert interval_verdict(2.0, 3.0, None, None) == "reference"


def test_every_number_all_members_have_is_summarized():
    members = [
        {"test/mae": 2.0, "val/mae": 1.0, "seed": 5, "test/extra": 1.0},
        {"test/mae": 3.0, "val/mae": math.nan, "seed": 6},
        {"test/mae": 4.0, "val/mae": 2.0, "seed": 7},
    ]
    summary = summarize_repeats(members)
    assert set(summary) == {"test/mae", "test/mae_std", "test/mae_ci95_low", "test/mae_ci95_high"}
    assert summary["test/mae"] == 3.0 and summary["test/mae_std"] == 1.0
    assert summary["test/mae_ci95_high"] - 3.0 == pytest.approx(
        student_t_quantile(0.975, 2) / math.sqrt(3)
    )


def test_repeats_must_be_a_whole_number_of_at_least_one(make_config, boston_dir):
    from ldl.errors import ConfigError

    cfg = make_config("experiment=c6e1", f"data_dir={boston_dir}", "trainer.repeats=0")
    with pytest.raises(ConfigError, match=r"trainer\.repeats"):
        train_or_cross_validate(cfg)


QUICK = ("experiment=c6e1", "trainer.epochs=2", "trainer.verbose=0")


@pytest.mark.slow
def test_seed_repeats_train_together_and_equal_each_seed_trained_alone(
    make_config, boston_dir, tmp_path, capsys
):
    job = tmp_path / "job"
    summary = train_or_cross_validate(
        make_config(*QUICK, f"data_dir={boston_dir}", "trainer.seed=5", "trainer.repeats=3",
                    run_dir=job)
    )  # fmt: skip
    assert "the 3 seeds together in one graph" in capsys.readouterr().out
    members = [json.loads((repeat_folder(job, i) / "metrics.json").read_text()) for i in range(3)]
    assert [m["seed"] for m in members] == [5, 6, 7] and summary["seeds"] == [5, 6, 7]
    alone = train_or_cross_validate(
        make_config(*QUICK, f"data_dir={boston_dir}", "trainer.seed=6", run_dir=tmp_path / "six")
    )
    for key in ("test/mae", "val/loss", "train/mae"):
        assert members[1][key] == alone[key], key
    pd.testing.assert_frame_equal(
        pd.read_csv(repeat_folder(job, 1) / "history.csv"),
        pd.read_csv(tmp_path / "six" / "history.csv"),
        rtol=0,
    )
    expected = confidence_interval([m["test/mae"] for m in members])
    assert summary["test/mae"] == pytest.approx(expected.mean)
    assert summary["test/mae_ci95_low"] == pytest.approx(expected.low)
    assert summary["test/mae_ci95_high"] == pytest.approx(expected.high)
    # c6e1's book range for test/mae is 2.24 .. 2.84: the verdict is the interval's.
    assert summary["book_verdict/test/mae"] == interval_verdict(
        expected.low, expected.high, 2.24, 2.84
    )
    assert json.loads((job / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_a_grid_of_seed_repeats_ranks_by_the_mean_with_the_interval(tmp_path, boston_dir):
    result = run_ldl(
        "train", "-m", "experiment=c6_conf1,c6e1", "trainer.repeats=2", f"data_dir={boston_dir}",
        "trainer.epochs=2", "trainer.seed=0", cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder,) = list((tmp_path / "outputs" / "multirun").iterdir())
    summary = pd.read_csv(folder / "summary.csv")
    report = (folder / "summary.md").read_text()
    for _, job in summary.iterrows():
        assert (
            f"{job['val/mae']:.4f} ± {job['val/mae_std']:.4f} "
            f"(95 % CI {job['val/mae_ci95_low']:.4f} .. {job['val/mae_ci95_high']:.4f})"
        ) in report


def test_repeats_and_cross_validation_in_one_job_are_refused_before_any_work(
    make_config, boston_dir, tmp_path
):
    from ldl.errors import ConfigError

    job = tmp_path / "job"
    cfg = make_config(
        "experiment=c6e1", f"data_dir={boston_dir}", "trainer.repeats=3", "cv.fold=all", run_dir=job
    )
    with pytest.raises(ConfigError, match=r"trainer\.repeats=3 and cv\.fold=all"):
        train_or_cross_validate(cfg)
    assert not job.exists()
