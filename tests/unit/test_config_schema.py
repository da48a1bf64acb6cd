"""The config schema (ldl.config): each field refuses what it must and accepts what it must, in one
paragraph that names the key, the value and what is allowed; and the schema stays equal to the YAML
files, the builders' signatures, the builders' own lists of allowed values and docs/config-schema.md."""

from __future__ import annotations

import importlib
import inspect
import typing
from typing import Any

import pytest
from helpers import REPO, compose_config
from omegaconf import OmegaConf

from ldl.config import validate
from ldl.config.fields import choice, fraction, integer, integers, positive, rate
from ldl.config.groups import (
    DATA,
    DECLARED,
    KERAS_OPTIMIZER_CLASSES,
    LOOPS,
    MAX_BEAM_WIDTH,
    OPTIMIZER,
    OPTIMIZER_KEYS,
    OPTIMIZER_NAMES,
    VALIDATIONS,
)
from ldl.config.keras_names import INITIALIZERS, LDL_METRICS, LOSSES, METRICS
from ldl.config.models import MODELS
from ldl.config.reference import BEGIN, END, tables
from ldl.config_location import config_dir
from ldl.errors import ConfigError

# --- fields -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        (integer("n", 1), [1, 64], [0, -1, 1.5, "abc", True, None]),
        (integer("n", 0, nullable=True, also=("all",)), [0, None, "all"], [-1, "some", False]),
        (integer("n", 1, 100), [1, 100], [0, 101]),
        (positive("rate"), [1e-5, 3], [0, -0.1, float("nan"), float("inf"), "fast", True]),
        (fraction("share"), [0.5], [0, 1, 1.5, "half"]),
        (fraction("share", whole=True), [1, 0.2], [0]),
        (fraction("share", zero=True), [0, 0.2], [1]),
        (rate("dropout", per_layer=True), [0, 0.5, [0.2, 0.0]], [1, -0.1, [0.2, 1.0], "lots"]),
        (choice("loop", "auto", "fit"), ["auto", "fit"], ["graphs", None, 1]),
        (choice("verbose", "auto", 0, 1), [0, 1, "auto"], [True, 2, "0"]),
        (choice("jit", True, False, "auto"), [True, False, "auto"], [1, 0, "yes"]),
        (choice("x", "a", nullable=True), [None, "a"], ["b"]),
        (integers("units"), [[1, 2], []], [[0], [1.5], "64", [True]]),
    ],
)
def test_a_field_accepts_its_values_and_refuses_the_rest(field, good, bad) -> None:
    for value in good:
        assert field.problem("group.key", value) is None, value
    for value in bad:
        problem = field.problem("group.key", value)
        assert problem is not None and "group.key" in problem, value


def test_a_refusal_names_the_key_the_allowed_values_and_the_closest() -> None:
    problem = choice("which data validates", "test", "holdout", "kfold").problem("t.v", "kfolds")
    assert problem is not None
    assert "t.v='kfolds'" in problem and "Did you mean kfold?" in problem
    assert "test, holdout, kfold" in problem and "which data validates" in problem
    problem = integer("examples per step", 1, example="64").problem("t.b", "abc")
    assert problem == (
        "t.b must be an integer >= 1, got 'abc' (str). t.b: examples per step. Set it e.g. t.b=64."
    )


# --- validate on composed configs ----------------------------------------------------------------------

REFUSED = [
    (("trainer.batch_size=abc",), "trainer.batch_size must be an integer >= 1"),
    (("optimizer.learning_rate=fast",), "optimizer.learning_rate must be a number > 0"),
    (("experiment=c14e1", "model.attention=bogus"), "none, dot, general, additive"),
    (("experiment=c3e1", "model.hidden_activation=sign"), "tanh, sigmoid, relu"),
    (("experiment=c4e2", "model.implementation=loops"), "neuron_loop, layer, matrix"),
    (("model.activation=sign",), "model.activation='sign'"),
    (("model.batch_norm=middle",), "before_activation, after_activation or null"),
    (("trainer.epochs=-1",), "trainer.epochs must be an integer >= 0"),
    (("trainer.loop=fast",), "trainer.loop='fast'"),
    (("trainer.population=together",), "auto, stacked, separate, in_turn"),
    (("trainer.validation=kfolds",), "Did you mean kfold?"),
    (("trainer.shuffle=yes",), "trainer.shuffle='yes'"),
    (("trainer.eval_batch_size=big",), "an integer >= 1 or auto"),
    (("optimizer=sgd", "optimizer.nesterov=1"), "optimizer.nesterov=1"),
    (("label_smoothing=1",), "label_smoothing must be a number in [0, 1)"),
    (("+model.layerz=[8]",), "model.layerz is not an option of model=fc"),
    (("+optimizer.lr=0.1",), "optimizer.lr is not an option of optimizer=adam"),
    (("loss=crossentropy",), "loss='crossentropy' is not a Keras loss"),
    (("metrics=[accurracy]",), "Did you mean accuracy or"),
    (("initializer.kernel.name=he_normall",), "Did you mean he_normal or"),
    (
        ("initializer.kernel.name=stft",),
        "initializer.kernel.name='stft' is not an initializer ldl builds",
    ),
    (("initializer.bias.name=Zeros",), "Did you mean zeros?"),
    (
        ("optimizer=sgd", "+optimizer.beta_1=0.9"),
        "optimizer.beta_1 is not an option of optimizer=sgd",
    ),
    (("experiment=c3e1", "+model.thresold=0.4"), "Did you mean threshold?"),
    (("cv.fold=7",), "cv.fold must be an integer from 0 to cv.k-1=4"),
]


@pytest.mark.parametrize(("overrides", "fragment"), REFUSED, ids=[" ".join(r[0]) for r in REFUSED])
def test_validate_refuses_a_bad_value_with_a_clear_message(overrides, fragment) -> None:
    cfg = compose_config(*overrides, "run_dir=unused")
    with pytest.raises(ConfigError) as refused:
        validate(cfg)
    assert fragment in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "experiment", ["c1e1", "c3e1", "c4e2", "c5e2", "c6e1", "c14e1", "c15_transformer"]
)
def test_validate_accepts_the_book_experiments(experiment) -> None:
    validate(compose_config(f"experiment={experiment}", "run_dir=unused"))


# --- the schema equals the YAML files, the builders and the docs -----------------------------------------


def test_every_declared_group_key_is_in_its_yaml_file_and_the_other_way_round() -> None:
    trainer = OmegaConf.load(config_dir() / "trainer" / "default.yaml")
    root = OmegaConf.load(config_dir() / "train.yaml")
    in_yaml = {"trainer": set(trainer), "cv": set(root.cv), "fine_tune": set(root.fine_tune)}
    for section, fields in DECLARED.items():
        assert set(fields) == in_yaml[section], section


def test_every_model_file_has_a_schema_and_only_declared_keys() -> None:
    from ldl.targets import DESCRIPTIVE_KEYS

    names = set()
    for path in sorted((config_dir() / "model").glob("*.yaml")):
        model = OmegaConf.load(path)
        names.add(model.name)
        assert model.name in MODELS, (
            f"{path.name}: declare model={model.name} in ldl/config/models.py"
        )
        extra = (
            set(model) - set(MODELS[model.name]) - set(DESCRIPTIVE_KEYS) - {"_target_", "defaults"}
        )
        assert not extra, f"{path.name}: {extra} not declared"
    assert names == set(MODELS)


RUNTIME = {"input_shape", "num_outputs", "kernel_initializer", "output_kernel_initializer",
           "bias_initializer", "name", "target_vocabulary"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_model_schema_declares_exactly_its_builders_keyword_arguments(name) -> None:
    path = next(
        str(model.get("_target_"))
        for model in (OmegaConf.load(p) for p in (config_dir() / "model").glob("*.yaml"))
        if model.name == name
    )
    module, _, function = path.rpartition(".")
    parameters = set(
        inspect.signature(getattr(importlib.import_module(module), function)).parameters
    )
    if "cfg" in parameters:
        return  # a NumPy program reads cfg itself: its YAML file is its list (checked above)
    assert set(MODELS[name]) == parameters - RUNTIME, name


# (model, key, module, the module's own tuple or Literal of allowed values)
BUILDER_CHOICES = [
    ("fc", "activation", "ldl.models.fully_connected", "ACTIVATIONS"),
    ("fc", "batch_norm", "ldl.models.fully_connected", "BATCH_NORM_PLACEMENTS"),
    ("cnn", "activation", "ldl.models.cnn", "ACTIVATIONS"),
    ("conv1d", "activation", "ldl.models.conv1d", "ACTIVATIONS"),
    ("conv1d", "padding", "ldl.models.conv1d", "PADDINGS"),
    ("conv1d", "pooling", "ldl.models.conv1d", "POOLINGS"),
    ("rnn", "activation", "ldl.models.rnn", "ACTIVATIONS"),
    ("rnn", "cell", "ldl.models.rnn", "CELLS"),
    ("rnn", "merge_mode", "ldl.models.rnn", "MERGE_MODES"),
    ("resnet", "block", "ldl.models.resnet", "BLOCKS"),
    ("resnet", "shortcut", "ldl.models.resnet", "SHORTCUTS"),
    ("resnet", "preprocessing", "ldl.models.resnet", "PREPROCESSING"),
    ("seq2seq", "attention", "ldl.tasks.translation.attention", "ATTENTIONS"),
    ("multimodal", "fusion", "ldl.tasks.multimodal.options", "FUSIONS"),
    ("seq2seq", "attention_query", "ldl.tasks.translation.feeding_decoder", "QUERIES"),
    ("transformer", "positional_encoding", "ldl.tasks.translation.transformer",
     "POSITIONAL_ENCODINGS"),
    ("transformer", "norm_position", "ldl.tasks.translation.transformer", "NORM_POSITIONS"),
    ("captioning", "attention", "ldl.tasks.captioning.model", "ATTENTION_SCORES"),
    ("glove_lookup", "distance", "ldl.tasks.text.embeddings", "DISTANCES"),
    ("xor_network", "hidden_activation", "ldl.tasks.classic.activations", "ACTIVATIONS"),
    ("xor_network", "init", "ldl.tasks.classic.xor_network", "XOR_INITS"),
    ("xor_network", "update_on", "ldl.tasks.classic.xor_network", "UPDATE_ON"),
    ("perceptron", "init", "ldl.tasks.classic.perceptron", "INITIAL_WEIGHTS"),
    ("mnist_network", "implementation", "ldl.tasks.classic.mnist_network", "IMPLEMENTATIONS"),
    ("mnist_network", "batch_order", "ldl.tasks.classic.mnist_network", "BATCH_ORDERS"),
    ("mnist_network", "test_evaluation", "ldl.tasks.classic.mnist_network", "TEST_EVALUATIONS"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "key", "module", "attribute"), BUILDER_CHOICES)
def test_a_model_schemas_choices_are_its_builders(model, key, module, attribute) -> None:
    field = MODELS[model][key]
    declared = set(field.choices) | ({None} if field.nullable else set())
    assert declared == set(getattr(importlib.import_module(module), attribute))


# (data key, module, the module's own tuple or Literal of allowed values)
DATA_CHOICES = [
    ("table", "ldl.tasks.classic.truth_tables", "TRUTH_TABLE_NAMES"),
    ("target_encoding", "ldl.tasks.classic.truth_tables", "TARGET_ENCODINGS"),
    ("padding", "ldl.tasks.forecasting.data", "PADDING_SIDES"),
    ("src_padding", "ldl.tasks.translation.data", "PADDINGS"),
    ("representation", "ldl.tasks.text.imdb", "REPRESENTATIONS"),
    ("outliers", "ldl.tasks.outliers.outlier_sets", "OUTLIER_SETS"),
    ("text", "ldl.tasks.multimodal.data", "TextMode"),
]


@pytest.mark.parametrize(("key", "module", "attribute"), DATA_CHOICES)
def test_a_data_keys_choices_are_its_readers(key, module, attribute) -> None:
    allowed = getattr(importlib.import_module(module), attribute)
    allowed = typing.get_args(allowed) or allowed
    assert set(DATA[key].choices) == set(allowed)


def test_the_optimizer_keys_are_their_keras_classes_keyword_arguments() -> None:
    from ldl.training.optimizers import OPTIMIZERS

    for name, keras_class in OPTIMIZERS.items():
        assert keras_class.__name__ == KERAS_OPTIMIZER_CLASSES[name]
        parameters = set(inspect.signature(keras_class.__init__).parameters)
        assert set(OPTIMIZER_KEYS[name]) == parameters - {"self", "kwargs", "name"} | {"schedule"}
        assert set(OPTIMIZER_KEYS[name]) <= set(OPTIMIZER), "every optimizer key has a type"


def test_the_keras_names_are_the_ones_keras_accepts() -> None:
    import keras

    from ldl.training import metrics

    def public(module: object) -> set[str]:
        return {
            name
            for name, item in vars(module).items()
            if name.islower()
            and not name.startswith(("_", "get", "serialize", "deserialize"))
            and inspect.isfunction(item)
        }

    def accepted(module: Any, name: str) -> bool:
        try:
            module.get(name)
        except (ValueError, TypeError, KeyError):  # unknown, or needs arguments
            return False
        return True

    for names, module in ((LOSSES, keras.losses), (METRICS, keras.metrics)):
        for name in names:
            module.get(name)  # raises for a name Keras does not have
        offered = {n for n in public(module) if accepted(module, n)}
        assert offered <= set(names), offered - set(names)
    assert set(LDL_METRICS) == set(metrics.LDL_METRICS)


def test_the_initializer_names_are_the_ones_ldl_builds_under_their_keras_names() -> None:
    import keras

    from ldl.models.initializers import INITIALIZERS as BUILT

    assert set(INITIALIZERS) == set(BUILT)
    for name, keras_class in BUILT.items():
        # Keras's own name for the class (`constant` is only built with its value).
        config = {"value": 0.5} if name == "constant" else {}
        built = keras.initializers.get({"class_name": name, "config": config})
        assert type(built) is keras_class, name


def test_group_choices_equal_the_code_that_reads_them() -> None:
    from ldl.data.datasets import Validation
    from ldl.decoding import MAX_BEAM_WIDTH as DECODING_MAX
    from ldl.training.graph_loop import Loop
    from ldl.training.optimizers import OPTIMIZERS

    assert set(OPTIMIZER_NAMES) == set(OPTIMIZERS)
    assert set(LOOPS) == set(typing.get_args(Loop))
    assert set(VALIDATIONS) == set(typing.get_args(Validation))
    assert MAX_BEAM_WIDTH == DECODING_MAX
    resnet = importlib.import_module("ldl.models.resnet")
    assert set(MODELS["resnet"]["architecture"].choices) == {"cifar", *resnet.APPLICATIONS}


def test_the_docs_page_holds_the_schemas_tables() -> None:
    page = (REPO / "docs" / "config-schema.md").read_text()
    start, end = page.index(BEGIN), page.index(END) + len(END)
    assert page[start:end] == tables(), (
        "docs/config-schema.md is out of date: run `python -m ldl.config.reference` and paste its "
        "output over the page's tables"
    )
