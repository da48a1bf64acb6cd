"""Hostile inputs, Hydra's sweep syntax and launcher options: a sweep over no values, a sweep value
Hydra cannot parse or evaluate, and a launcher job count of 0 are refused before any job, in one
paragraph naming the override, exit code 2, no traceback, and no sweep folder left behind."""

from __future__ import annotations

import pytest
from hostile import assert_refused

C6E1 = ("experiment=c6e1", "logger=none", "trainer.epochs=1")

CASES = [
    (("trainer.seed=range(0)",), ("trainer.seed=range(0) sweeps trainer.seed over no values",)),
    (("trainer.seed=range(5,1)",), ("sweeps trainer.seed over no values",)),
    (("trainer.seed=choice()",), ("'trainer.seed=choice()' cannot be read", "empty choice")),
    (("trainer.seed=range(x)",), ("'trainer.seed=range(x)' cannot be read", "range(x)")),
    (("trainer.seed=range(1,2,0)",), ("'trainer.seed=range(1,2,0)' cannot be read", "zero")),
    (
        ("hydra/launcher=parallel", "hydra.launcher.n_jobs=0", "trainer.seed=0,1"),
        ("hydra.launcher.n_jobs must be a whole number other than 0, got 0",),
    ),
    (
        ("hydra/launcher=parallel", "hydra.launcher.n_jobs=many", "trainer.seed=0,1"),
        ("hydra.launcher.n_jobs=many", "could not be converted to Integer"),
    ),
]


@pytest.mark.parametrize(("arguments", "fragments"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_sweep_value_is_refused_before_any_job(world, arguments, fragments):
    assert_refused(world.root, ("train", "-m", *C6E1, *arguments), *fragments)


def test_a_sweeper_s_own_refusal_reaches_the_user_in_its_words(world):
    """A sweeper plugin that refuses an option in its constructor (here the Optuna study's trial
    count) is told in its own paragraph, which names the key, not as Hydra's "Error in call to
    target '...'"."""
    outcome = assert_refused(
        world.root,
        ("train", "-m", "hparams_search=c5_optuna", "hydra.sweeper.n_trials=-1"),
        "hydra.sweeper.n_trials",
    )
    assert "Error in call to target" not in outcome.err
