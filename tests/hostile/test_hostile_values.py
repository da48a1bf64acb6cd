"""Hostile inputs, bad values: every `ldl train` value that cannot work is refused before any work
starts, in one paragraph that names the key and what is allowed, with exit code 2, no traceback, and
not a byte changed in the user's working directory (no run folder, no date folder, no `.hydra/`)."""

from __future__ import annotations

import pytest
from hostile import assert_refused

# Each case runs the command a user would type and the CLI end to end, in this process: a refusal
# costs a fraction of a second, so these stay in the quick (not slow) suite.

C6E1 = ("experiment=c6e1", "logger=none")

UNKNOWN_OPTIONS = [
    (("experiment=c6e11",), ("experiment=c6e11 is not an option", "c6e1")),
    (("experiment=C6E1",), ("experiment=C6E1 is not an option",)),
    (("model=fcc",), ("model=fcc is not an option", "fc")),
    (("optimizer=adamm",), ("optimizer=adamm is not an option", "adam")),
    (("data=mnistt",), ("data=mnistt is not an option", "mnist")),
    (("initializer=he_norml",), ("initializer=he_norml is not an option",)),
    (("trainer=fast",), ("trainer=fast is not an option", "trainer")),
    (("callbacks=early",), ("callbacks=early is not an option",)),
    (("logger=wandb",), ("logger=wandb is not an option", "tensorboard")),
    (("hparams_search=c6_kfld",), ("hparams_search=c6_kfld is not an option", "c6_kfold")),
    (("runner=keras",), ("runner=keras is not an option", "keras_fit")),
    (("modle=fc",), ("modle", "model")),
]

UNKNOWN_KEYS = [
    (("trainer.epoch=5",), ("trainer.epoch is not a key", "trainer.epochs")),
    (("trainer.batchsize=3",), ("trainer.batchsize is not a key", "trainer.batch_size")),
    (("optimizer.lr=0.1",), ("optimizer.lr is not a key",)),
    (("cv.folds=3",), ("cv.folds is not a key", "cv.fold")),
    (("fine_tune.epoch=2",), ("fine_tune.epoch is not a key", "fine_tune.epochs")),
    (("data.max_train=10",), ("data.max_train is not a key", "data.max_train_examples")),
    (("model.hidden_unit=[8]",), ("model.hidden_unit is not a key", "model.hidden_units")),
    (("data_dri=data",), ("data_dri is not a key", "data_dir")),
    (("trainer.epochs.max=3",), ("trainer.epochs.max",)),
]

ADDED_KEYS = [
    (("+trainer.epoch=5",), ("+trainer.epoch=5", "nothing in ldl reads it", "trainer.epochs")),
    (("+trainer.patience=3",), ("trainer.patience", "nothing in ldl reads it")),
    (("+cv.folds=3",), ("cv.folds", "nothing in ldl reads it", "cv.fold")),
    (("+fine_tune.rate=0.1",), ("fine_tune.rate", "nothing in ldl reads it")),
    (("+data.windw=3",), ("data.windw", "nothing in ldl reads it")),
    (("+foo=1",), ("foo", "nothing in ldl reads it")),
    (("+model.layerz=[8]",), ("model.layerz is not an option of model=fc", "hidden_units")),
    (("+optimizer.lr=0.1",), ("optimizer.lr is not an option of optimizer=adam",)),
    (("+optimizer.decay=0.1",), ("optimizer.decay is not an option",)),
    (("+trainer.epochs=5",), ("trainer.epochs already exists", "without the +")),
]

NOT_NUMBERS = [
    (("trainer.epochs=abc",), ("trainer.epochs must be an integer", "'abc'")),
    (("trainer.batch_size=1.5",), ("trainer.batch_size must be an integer",)),
    (("trainer.batch_size=abc",), ("trainer.batch_size must be an integer", "'abc'")),
    (("optimizer.learning_rate=fast",), ("optimizer.learning_rate must be a number", "fast")),
    (("data.train_fraction=half",), ("data.train_fraction must be a fraction in (0, 1]",)),
    (("trainer.validation_fraction=abc",), ("trainer.validation_fraction must be a fraction",)),
    (("model.dropout=lots",), ("model.dropout must be a dropout rate",)),
    (("cv.k=two",), ("cv.k must be an integer",)),
    (("trainer.seed=zero",), ("trainer.seed must be an integer",)),
    (("fine_tune.epochs=x",), ("fine_tune.epochs must be an integer",)),
    (("optimizer.clipnorm=big",), ("optimizer.clipnorm must be a number > 0",)),
]

OUT_OF_RANGE = [
    (("trainer.batch_size=0",), ("trainer.batch_size must be an integer >= 1",)),
    (("trainer.epochs=-1",), ("trainer.epochs must be an integer >= 0",)),
    (("optimizer.learning_rate=0",), ("optimizer.learning_rate must be a number > 0",)),
    (("optimizer.learning_rate=-0.1",), ("optimizer.learning_rate must be a number > 0",)),
    (("optimizer.learning_rate=nan",), ("optimizer.learning_rate must be a finite number", "nan")),
    (("optimizer.learning_rate=inf",), ("optimizer.learning_rate must be a finite number",)),
    (("optimizer.clipnorm=-1",), ("optimizer.clipnorm must be a number > 0",)),
    (("optimizer.clipvalue=0",), ("optimizer.clipvalue must be a number > 0",)),
    (("optimizer.global_clipnorm=-2.5",), ("optimizer.global_clipnorm must be a number > 0",)),
    (("optimizer.beta_1=1.5",), ("optimizer.beta_1 must be a number in [0, 1)",)),
    (("optimizer.epsilon=0",), ("optimizer.epsilon must be a number > 0",)),
    (("data.train_fraction=0",), ("data.train_fraction must be a fraction in (0, 1]",)),
    (("data.train_fraction=1.5",), ("data.train_fraction must be a fraction in (0, 1]",)),
    # validation=test does not use the fraction: it is checked anyway, so a typo never waits.
    (
        ("trainer.validation_fraction=1",),
        ("trainer.validation_fraction must be a fraction in (0, 1)",),
    ),
    (("trainer.validation_fraction=0",), ("trainer.validation_fraction must be a fraction",)),
    (("trainer.validation_fraction=-0.2",), ("trainer.validation_fraction must be a fraction",)),
    (("model.dropout=1",), ("model.dropout must be a dropout rate in [0, 1)",)),
    (("model.dropout=-0.1",), ("model.dropout must be a dropout rate in [0, 1)",)),
    (("cv.k=1",), ("cv.k must be an integer >= 2",)),
    (("cv.fold=5",), ("cv.fold must be an integer from 0 to cv.k-1=4",)),
    (("cv.fold=-1",), ("cv.fold must be an integer from 0 to cv.k-1=4",)),
    (("trainer.threads=0",), ("trainer.threads must be an integer >= 1",)),
    (("trainer.seed=-1",), ("trainer.seed must be an integer >= 0",)),
    (("trainer.checkpoint_every=0",), ("trainer.checkpoint_every must be an integer >= 1",)),
    (("data.max_train_examples=0",), ("data.max_train_examples must be an integer >= 1",)),
    (("data.overfit_subset=-3",), ("data.overfit_subset must be an integer >= 1",)),
    (("fine_tune.epochs=-1",), ("fine_tune.epochs must be an integer >= 0",)),
    (("fine_tune.learning_rate=0",), ("fine_tune.learning_rate must be a number > 0",)),
]

BAD_CHOICES = [
    (("trainer.precision=float64",), ("trainer.precision='float64'", "float32")),
    (("trainer.validation=kfolds",), ("trainer.validation='kfolds'", "holdout")),
    (("trainer.verbose=3",), ("trainer.verbose=3", "auto")),
    (("trainer.jit_compile=maybe",), ("trainer.jit_compile='maybe'",)),
    (("trainer.distribute=tpu",), ("trainer.distribute='tpu'", "mirrored")),
    (("trainer.validation=kfold",), ("trainer.validation=kfold needs a fold", "cv.fold")),
    (
        ("loss=crossentropy",),
        ("loss='crossentropy' is not a Keras loss", "categorical_crossentropy"),
    ),
    (("loss=mean_squared_eror",), ("is not a Keras loss", "mean_squared_error")),
    (("metrics=[accurracy]",), ("metrics='accurracy' is not a Keras metric",)),
    (("initializer.kernel.name=he_normall",), ("initializer.kernel.name='he_normall'",)),
    (("optimizer.name=adamw",), ("optimizer.name='adamw'", "Did you mean adam")),
    (("callbacks.terminate_on_nan=5",), ("callbacks.terminate_on_nan must be a callback spec",)),
    (
        ("experiment=c11e1", "callbacks.sample_completions.beam_width=1000000"),
        ("callbacks.sample_completions.beam_width must be an integer from 1 to",),
    ),
    (
        ("experiment=c11e1", "callbacks.sample_completions.beam_width=0"),
        ("callbacks.sample_completions.beam_width must be an integer from 1 to",),
    ),
    (
        ("experiment=c11e1", "+callbacks.sample_completions.samples=100000"),
        ("callbacks.sample_completions.samples must be an integer from 1 to 100",),
    ),
    (
        ("experiment=c14e1", "data.report.bleu_examples=0"),
        ("data.report.bleu_examples must be an integer >= 1", "got 0"),
    ),
]

CONTRADICTIONS = [
    (
        ("cv.fold=1", "trainer.validation=holdout"),
        ("cv.fold=1", "trainer.validation=holdout", "contradict"),
    ),
    (("cv.fold=0", "trainer.validation=none"), ("contradict",)),
    (("cv.fold=2", "trainer.validation=last_fraction"), ("contradict",)),
]

SYNTAX = [
    (("trainer.epochs=[1",), ("cannot be read", "trainer.epochs=[1")),
    (("trainer.epochs",), ("cannot be read",)),
    (("=5",), ("cannot be read",)),
    (("~trainer.nothing",), ("Could not delete",)),
    (("data_dir=${nowhere}",), ("cannot be resolved",)),
]

CASES = (
    UNKNOWN_OPTIONS + UNKNOWN_KEYS + ADDED_KEYS + NOT_NUMBERS + OUT_OF_RANGE + BAD_CHOICES
    + CONTRADICTIONS + SYNTAX
)  # fmt: skip


@pytest.mark.parametrize(("arguments", "fragments"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_value_is_refused_before_any_work(world, arguments, fragments):
    experiment = () if any(a.startswith(("experiment=", "+", "modle")) for a in arguments) else C6E1
    assert_refused(world.root, ("train", *experiment, *arguments), *fragments)


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (
            ("optimizer.learning_rate=0.01,nan",),
            ("optimizer.learning_rate must be a finite number",),
        ),
        (("trainer.batch_size=0,32",), ("trainer.batch_size must be an integer >= 1",)),
        (("experiment=c6e1,c6e11",), ("experiment=c6e11 is not an option",)),
        (("+trainer.epoch=5", "cv.fold=0,1"), ("trainer.epoch", "nothing in ldl reads it")),
    ],
    ids=[
        "nan in a sweep",
        "batch 0 in a sweep",
        "unknown experiment in a sweep",
        "+key in a sweep",
    ],
)
def test_a_sweep_with_a_bad_value_is_refused_before_its_first_job(world, arguments, fragments):
    """A sweep is refused as a whole before any job runs (no sweep folder is left behind)."""
    assert_refused(world.root, ("train", "-m", *C6E1, *arguments), *fragments)
