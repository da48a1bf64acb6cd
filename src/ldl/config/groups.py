"""The fields of every config group but `model` (ldl/config/models.py), declared once.

The YAML files under configs/ give the values; these declarations give the types, allowed values and
bounds, and a line on what each key does. tests/unit/test_config_schema.py keeps the two in step
(every key of trainer/default.yaml and of train.yaml's cv and fine_tune is declared here, and the
other way round).
"""

from __future__ import annotations

from ldl.config.fields import (
    Field,
    anything,
    choice,
    flag,
    fraction,
    integer,
    number,
    positive,
    rate,
    text,
)

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
VALIDATIONS = ("test", "holdout", "last_fraction", "kfold", "none")
LOOPS = ("auto", "fit", "graph")
OPTIMIZER_NAMES = ("sgd", "adam", "rmsprop", "adagrad")
# The keyword arguments of each Keras optimizer class (and ldl's `schedule`), so a key an optimizer
# does not take (`+optimizer.lr=0.1`) is refused without loading Keras; a test keeps them equal.
_EVERY_OPTIMIZER = (
    "learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
    "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps",
    "schedule",
)  # fmt: skip
OPTIMIZER_KEYS: dict[str, tuple[str, ...]] = {
    "sgd": ("momentum", "nesterov", *_EVERY_OPTIMIZER),
    "adam": ("beta_1", "beta_2", "epsilon", "amsgrad", *_EVERY_OPTIMIZER),
    "rmsprop": ("rho", "momentum", "epsilon", "centered", *_EVERY_OPTIMIZER),
    "adagrad": ("initial_accumulator_value", "epsilon", *_EVERY_OPTIMIZER),
}
KERAS_OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
# Upper bound of the sample callbacks' beam width (ldl.decoding.MAX_BEAM_WIDTH, kept equal by a test).
MAX_BEAM_WIDTH = 100
MAX_SAMPLES = 100

TRAINER: dict[str, Field] = {
    "epochs": integer("epochs to train; 0 evaluates only (baselines)", 0, example="5"),
    "batch_size": integer("training examples per step", 1, example="64"),
    "seed": integer("the run's seed (null: a fresh one, recorded)", 0, nullable=True),
    "deterministic": flag("deterministic TensorFlow ops"),
    "shuffle": flag("shuffle the training examples every epoch"),
    "validation": choice("which data validates each epoch", *VALIDATIONS),
    "validation_fraction": fraction("share of the training data held out for validation"),
    "validation_seed": integer("seed of the holdout split", 0, example="0"),
    "eval_batch_size": integer(
        "batch size of validation and test passes (auto: sized by the model's layer outputs)",
        1,
        also=("auto",),
        example="auto",
    ),
    "loop": choice("how epochs run: Keras fit(), the graph loop, or auto", *LOOPS),
    "population": choice(
        "how a job's members train: auto (together; stacked where the model allows and is small), "
        "stacked, separate (together as separate models) or in_turn",
        "auto",
        "stacked",
        "separate",
        "in_turn",
    ),
    "repeats": integer("seeds the configuration is trained with in one job", 1, example="3"),
    "steps_per_execution": integer("training steps per tf.function call; 0 = automatic", 0),
    "jit_compile": choice("XLA compilation of the train step", True, False, "auto"),
    "precision": choice("float precision of the layers (outputs stay float32)", *PRECISIONS),
    "distribute": choice(
        "tf.distribute strategy (null: one device)", "mirrored", "multi_worker", nullable=True
    ),
    "threads": integer("threads for TensorFlow ops (null: all cores)", 1, nullable=True),
    "checkpoint_seconds": number("seconds between checkpoints (0: every epoch)", 0, example="30"),
    "checkpoint_every": integer("epochs between checkpoints (null: by time)", 1, nullable=True),
    "keep_checkpoint": flag("keep the last checkpoint after the run completes"),
    "resume": anything("auto, true, false, or the path of a run folder to resume"),
    "print_predictions": integer("test examples printed with their predictions", 0),
    "print_summary": flag("print the Keras model summary"),
    "verbose": choice("Keras fit() verbosity", "auto", 0, 1, 2),
}

CROSS_VALIDATION: dict[str, Field] = {
    "k": integer("number of folds", 2, example="5"),
    # Its upper bound (cv.k - 1) depends on cv.k: ldl/config/validation.py checks it.
    "fold": integer(
        "the validation fold (null: no cross-validation; all: every fold in one job)",
        0,
        nullable=True,
        also=("all",),
        example="1",
    ),
    "seed": integer("seed of the fold split", 0, example="0"),
    "test_fraction": fraction(
        "share of the training examples held out as the test set (null: the dataset's test set)",
        nullable=True,
    ),
}

FINE_TUNE: dict[str, Field] = {
    "epochs": integer("epochs of the second (unfrozen) phase; 0 = none", 0, example="5"),
    "unfreeze_top": integer("weighted layers of the base unfrozen (0 = all)", 0),
    "learning_rate": positive("learning rate of the second phase", example="1e-5"),
}

OPTIMIZER: dict[str, Field] = {
    "name": choice("the Keras optimizer", *OPTIMIZER_NAMES),
    "learning_rate": positive("step size (the start of a schedule)", example="0.001"),
    "beta_1": number("decay of the first-moment average", 0, 1, below_maximum=True),
    "beta_2": number("decay of the second-moment average", 0, 1, below_maximum=True),
    "epsilon": positive("added to denominators for numerical stability", example="1e-7"),
    "momentum": number("momentum", 0, 1, below_maximum=True, example="0.9"),
    "rho": number("decay of the squared-gradient average", 0, 1, below_maximum=True),
    "nesterov": flag("Nesterov momentum"),
    "amsgrad": flag("the AMSGrad variant of Adam"),
    "initial_accumulator_value": number("Adagrad's starting accumulator", 0),
    "weight_decay": number("decoupled weight decay", 0, nullable=True),
    "clipnorm": positive("clip each gradient's norm to this (null: off)", nullable=True),
    "clipvalue": positive("clip each gradient value to +-this (null: off)", nullable=True),
    "global_clipnorm": positive("clip the norm of all gradients together (null: off)", True),
    "schedule": anything("a learning-rate schedule: {name: ..., its arguments} or null"),
    "centered": flag("RMSprop normalizes by the gradient's variance"),
    "use_ema": flag("keep an exponential moving average of the weights"),
    "ema_momentum": number("momentum of that average", 0, 1, below_maximum=True),
    "ema_overwrite_frequency": integer("steps between overwrites by the average", 1, nullable=True),
    "loss_scale_factor": positive("loss scale", nullable=True),
    "gradient_accumulation_steps": integer("steps whose gradients are summed", 2, nullable=True),
}

# Options every dataset has, and keys several datasets share (checked wherever a dataset has them).
DATA: dict[str, Field] = {
    "max_train_examples": integer("training examples read (null: all)", 1, nullable=True),
    "max_test_examples": integer("test examples read (null: all)", 1, nullable=True),
    "overfit_subset": integer("train on this many examples only (null: all)", 1, nullable=True),
    "train_fraction": fraction(
        "share of the training examples used (null: all)", True, False, True
    ),
    "subset_seed": integer("seed of overfit_subset and train_fraction", 0, example="0"),
    "download": flag("download the dataset when it is missing"),
    "one_hot": flag("one-hot labels (false: integer labels)"),
    "num_classes": integer("number of classes", 1, nullable=True),
    "split_seed": integer("seed of the train/test split", 0, example="0"),
    "max_words": integer("vocabulary size", 1, nullable=True, example="10000"),
    "window_length": integer("length of each input window", 1),
    "window_step": integer("step between windows", 1),
    "table": choice("the truth table", "nand", "or", "and", "xor"),
    "target_encoding": choice("truth-table targets: -1/1 (sign) or 0/1 (binary)", "sign", "binary"),
    "padding": choice("which side of a short sequence is padded", "pre", "post"),
    "src_padding": choice("which side of a short source sentence is padded", "pre", "post"),
    "reverse_source": flag("reverse the source sentences (chapter 14)"),
    "representation": choice("bag of words: word present (binary) or counts", "binary", "count"),
    "scale_by": choice("scale the series by its standard deviation or its mean", "std", "mean"),
    "outliers": choice(
        "the images the outlier detector must flag", "fashion_mnist", "cifar10_gray"
    ),
    "text": choice("the question text: informative or constant", "informative", "constant"),
}

# Keys below data, model, trainer, cv and fine_tune recognised by their name wherever they are.
DROPOUT = rate("share of units dropped in training")
BY_NAME: dict[str, Field] = {
    "dropout": DROPOUT,
    "recurrent_dropout": DROPOUT,
    "bleu_examples": integer(
        "the first test pairs translated for BLEU (null: every test pair)", 1, nullable=True
    ),
}

# Datasets that may hold out nothing (data.test_fraction=0): the book trains c16e2 on every COCO image.
HOLD_OUT_NOTHING = ("coco_captions",)

ROOT: dict[str, Field] = {
    "label_smoothing": number("label smoothing of a cross-entropy loss", 0, 1, below_maximum=True),
    "experiment_id": text("the experiment's name in run folders and tables"),
}

CALLBACK: dict[str, Field] = {
    "beam_width": integer("beam width of the sample decoding", 1, MAX_BEAM_WIDTH, nullable=True),
    "samples": integer("samples printed after each epoch", 1, MAX_SAMPLES, nullable=True),
}

# Every group with fixed keys: nothing reads a key these do not declare.
DECLARED: dict[str, dict[str, Field]] = {
    "trainer": TRAINER,
    "cv": CROSS_VALIDATION,
    "fine_tune": FINE_TUNE,
}
