"""Every experiment and every config-group option composes, validates and builds (Model Garden style)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import compose_config
from omegaconf import OmegaConf

from ldl.config import config_dir, experiment_ids, validate_config
from ldl.errors import ConfigError
from ldl.tasks.classic.perceptron import Perceptron
from ldl.tasks.classic.xor_network import XorNetwork

# Parameter counts of the book's networks (chapters 5 and 6).
EXPECTED_PARAMETERS = {
    # Chapter 4 and Appendix F: the hand-written 784-25-10 network (the same count as c5e1).
    "c4e2": 19_885,
    "aFe1": 19_885,
    "aFe2": 19_885,
    # Chapter 17.
    "c17e1": 101_200,
    "c17e2": 20_533,
    "c17e2_const_text": 20_533,
    "c17e3": 20_559,
    "c5e1": 19_885,
    "c5_conf1": 19_885,
    "c5_conf2": 19_885,
    "c5_conf3": 19_885,
    "c5_conf4": 19_885,
    "c5e2": 19_885,
    "c5_conf5": 19_885,
    "c6_conf1": 14,
    "c6e1": 5_121,
    "c6_conf2": 5_121,
    "c6_conf3": 5_121,
    "c6_conf4": 5_121,
    "c6_conf5": 26_625,
    "c6_conf6": 26_625,
    "c6e2": 26_625,
    # Chapters 9-12 (chapters 9, 11 and 12): E = 67 characters, 10,000 words.
    "c9e1": 16_769,
    "c9e1_ffn": 3_585,
    "c9e1_naive": 0,
    # Not a book network: 4 causal Conv1D (kernel 2, 32 filters) 96 + 3 x 2,080 + Dense 33.
    "c9e1_conv1d": 6_369,
    "c11e1": 240_579,
    "c11e1_no_rdo": 240_579,
    "c12e1": 2_555_344,
    "c12e1_no_rdo": 2_555_344,
    # Not a book network (chapter 12's exercise): 10,000 bag-of-words features -> 16 -> 16 -> 2.
    "c12_bow": 160_322,
    # Not a book network (chapter 13's word2vec): input and output matrices of 10,000 x 100.
    "c13_word2vec": 2_000_000,
    # Chapter 7 (chapter 7, Table 7-1).
    "c7e2": 82_762,
    "c7_conf1": 82_762,
    "c7_conf2": 16_154,
    "c7_conf3": 16_154,
    "c7_conf4": 169_834,
    "c7_conf5": 183_242,
    "c7e3": 183_242,
    "c7_conf6": 183_242,
    # ResNet-20 with option-A shortcuts (He et al. 2016: "0.27M"), convs without biases: stem 432 + BN 64;
    # 6 convs of 16x9x16 + 6 BN of 16; 32-filter stage 4,608 + 5 x 9,216, BN 6 x 128; 64-filter stage
    # 18,432 + 5 x 36,864, BN 6 x 256; Dense 650.
    "resnet20_cifar10": 271_098,
    # Chapter 8 (chapter 8): Keras ResNet-50 with its 1000-way top (built here with random weights).
    "c8e1": 25_636_712,
    # MobileNetV2 base (2,257,984) + Dense 10 head on its 1,280 pooled features.
    "c8_transfer_cifar10": 2_270_794,
    # Chapters 14-15 (chapters 14 and 15): 10,000-word vocabularies on both sides.
    "c14e1": 6_969_104,
    "c15_transformer": 4_512_528,
    # Chapter 16: 262,656 + 1,280,000 + 394,240 + 131,584 + 7,690,000 (VGG19 features, 10,000 tokens).
    "c16e1": 9_758_480,
    "c16e2": 9_758_480,
    # The generated task: 128-deep features, 32 tokens: 66,048 + 4,096 + 394,240 + 32,896 + 12,320.
    "captioning_shapes": 509_600,
}
# (input shape, outputs) per dataset, or a function of the data config where options change them.
INPUT_SHAPES = {
    "mnist": ((28, 28), 10),
    "boston_housing": ((13,), 1),
    "book_sales": lambda data: ((270 if data.history == "full" else data.lookback, 1), 1),
    "frankenstein_chars": lambda data: ((data.window_length, 67), 67),
    "frankenstein_words": lambda data: ((data.window_length,), data.max_words),
    "cifar10": ((32, 32, 3), 10),
    "imdb_bow": lambda data: ((data.max_words,), 2),
    "frankenstein_word2vec": lambda data: (
        ((1,) if data.method == "skipgram" else (2 * data.window,), (1,)),
        1,
    ),
    "images": ((224, 224, 3), 1000),
    # Two inputs (source ids, decoder input ids) of any length; outputs: the target vocabulary.
    "anki_fra_eng": lambda data: (((None,), (None,)), data.max_words),
    "mnist_autoencoder": ((28, 28), 784),
    # Two named inputs (image, two word ids); outputs: the digit classes.
    "mnist_multimodal": (((28, 28), (2,)), 10),
    "mnist_multitask": (((28, 28), (2,)), 10),
    # (features (rows, columns, depth), decoder input ids); outputs: the caption vocabulary.
    "coco_captions": lambda data: (((14, 14, 512), (None,)), data.max_words),
    "shapes_captions": lambda data: (((14, 14, 128), (None,)), data.max_words),
}
CHAPTERS_1_TO_6 = {
    "c1e1",
    "c1e2",
    "c3e1",
    *(e for e in EXPECTED_PARAMETERS if e.startswith(("c4", "c5", "c6", "aF"))),
}


def test_every_chapter_1_to_6_experiment_exists():
    assert set(experiment_ids()) >= CHAPTERS_1_TO_6


# Building these takes seconds each (ResNet-50, VGG19 and ResNet-20 weights): in the full suite only.
BIG_MODELS = ("c8e1", "c8_transfer_cifar10", "resnet20_cifar10")


@pytest.mark.parametrize(
    "experiment",
    [
        pytest.param(name, marks=[pytest.mark.slow] if name in BIG_MODELS else [])
        for name in experiment_ids()
    ],
)
def test_experiment_composes_validates_and_builds(experiment, make_config):
    cfg = make_config(f"experiment={experiment}")
    OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
    validate_config(cfg)
    assert cfg.experiment_id == experiment
    assert cfg.description
    if cfg.model.name == "perceptron":
        perceptron = Perceptron(list(cfg.model.initial_weights))
        assert perceptron.output([1.0, -1.0, -1.0]) in (-1, 1)
        return
    if cfg.model.name == "xor_network":
        network = XorNetwork.initialize(np.random.RandomState(cfg.model.seed), cfg.model.init_range)
        assert 0.0 < network.forward(np.array([1.0, 1.0, -1.0])) < 1.0
        return
    if cfg.model.name == "mnist_network":  # chapter 4's NumPy network
        from ldl.tasks.classic.mnist_network import TwoLayerNetwork
        from ldl.tasks.classic.mnist_program import network_options

        options = network_options(cfg)
        network = TwoLayerNetwork.initialize(
            np.random.RandomState(options.seed), 784, options.hidden_units, 10, options.init_range
        )
        parameters = network.hidden_weights.size + network.output_weights.size
        assert parameters == EXPECTED_PARAMETERS[experiment]
        return
    if cfg.model.name == "data_inspection":  # c4e1, c7e1: they print a dataset, no network
        assert cfg.data.name in ("mnist", "cifar10") and cfg.runner._target_.endswith(
            "numpy_program"
        )
        return
    if cfg.model.name == "glove_lookup":  # c13e1: a lookup, no network
        assert cfg.model.distance == "cosine" and cfg.model.k == 3 and not cfg.model.exclude_inputs
        assert "king - man + woman" in cfg.model.queries
        return
    from ldl.models import build_model

    if cfg.model.get("weights") == "imagenet":  # tests run offline: same network, random weights
        cfg.model.weights = None
    shapes = INPUT_SHAPES[cfg.data.name]
    input_shape, outputs = shapes(cfg.data) if callable(shapes) else shapes
    model = build_model(cfg.model, cfg.initializer, input_shape, outputs)
    assert model.count_params() == EXPECTED_PARAMETERS[experiment]


def test_c5e1_matches_the_spec(make_config):
    cfg = make_config("experiment=c5e1")
    assert list(cfg.model.hidden_units) == [25]
    assert (cfg.model.activation, cfg.model.output_activation) == ("tanh", "sigmoid")
    assert cfg.initializer.kernel == {"name": "random_uniform", "minval": -0.1, "maxval": 0.1}
    assert cfg.initializer.bias.name == "zeros"
    assert cfg.loss == "mean_squared_error"
    assert (cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.optimizer.momentum) == (
        "sgd",
        0.01,
        0.0,
    )
    assert (cfg.trainer.batch_size, cfg.trainer.epochs, cfg.trainer.seed) == (1, 20, 7)
    assert cfg.trainer.validation == "test"


def test_table_5_1_configurations_differ_only_as_the_book_says(make_config):
    conf2 = make_config("experiment=c5_conf2")
    assert conf2.optimizer.learning_rate == 10.0
    conf3 = make_config("experiment=c5_conf3")
    assert conf3.initializer.kernel.name == conf3.initializer.output_kernel.name == "glorot_uniform"
    assert (conf3.optimizer.name, conf3.loss, conf3.trainer.batch_size) == (
        "adam",
        "mean_squared_error",
        1,
    )
    conf4 = make_config("experiment=c5_conf4")
    assert (conf4.initializer.kernel.name, conf4.initializer.output_kernel.name) == (
        "he_normal",
        "glorot_uniform",
    )
    assert (conf4.loss, conf4.trainer.batch_size) == ("categorical_crossentropy", 1)
    conf5 = make_config("experiment=c5e2")
    assert conf5.trainer.batch_size == 64
    assert conf5.model == make_config("experiment=c5_conf5").model


def test_table_6_2_configurations(make_config):
    for experiment in ("c6_conf1", "c6e1", "c6_conf3", "c6_conf4", "c6_conf5", "c6e2"):
        cfg = make_config(f"experiment={experiment}")
        assert (cfg.optimizer.name, cfg.loss, list(cfg.metrics)) == (
            "adam",
            "mean_squared_error",
            ["mae"],
        )
        assert (cfg.trainer.batch_size, cfg.trainer.epochs) == (16, 500)
    assert make_config("experiment=c6_conf3").model.l2_bias == 0.1
    assert make_config("experiment=c6e2").model.dropout == 0.3


def test_the_bare_config_is_c5e2(make_config):
    bare, c5e2 = make_config(), make_config("experiment=c5e2")
    for group in ("data", "model", "optimizer", "initializer", "trainer"):
        assert OmegaConf.to_container(bare[group], resolve=True) == OmegaConf.to_container(
            c5e2[group], resolve=True
        )
    assert bare.loss == c5e2.loss


def _group_options(group: str) -> list[str]:
    return sorted(path.stem for path in (Path(config_dir()) / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "override",
    [
        f"{group}={option}"
        for group in ("data", "optimizer", "initializer", "callbacks", "logger")
        for option in _group_options(group)
    ],
)
def test_every_group_option_composes(override, make_config):
    cfg = make_config(override)
    OmegaConf.to_container(cfg, resolve=True)


def test_the_issue_example_composes(make_config):
    cfg = make_config(
        "data=mnist",
        "model=fc",
        "optimizer=sgd",
        "optimizer.learning_rate=0.01",
        "initializer=uniform",
        "trainer.batch_size=1",
    )
    validate_config(cfg)
    assert cfg.initializer.kernel.name == "random_uniform"
    assert cfg.optimizer.learning_rate == 0.01


def test_every_layer_gets_its_own_initializer():
    from ldl.models.fully_connected import build_fully_connected

    model = build_fully_connected(
        (10,),
        10,
        hidden_units=[10, 10],
        kernel_initializer={"name": "glorot_uniform"},
        output_kernel_initializer={"name": "glorot_uniform"},
    )
    kernels = [layer.get_weights()[0] for layer in model.layers if layer.get_weights()]
    assert all(kernel.shape == (10, 10) for kernel in kernels)
    assert not np.allclose(kernels[0], kernels[1])
    assert not np.allclose(kernels[1], kernels[2])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.batch_size=0", "trainer.batch_size must be an integer >= 1"),
        ("trainer.batch_size=-3", "trainer.batch_size must be an integer >= 1"),
        ("trainer.epochs=-1", "trainer.epochs must be an integer >= 0"),
        ("trainer.batch_size=abc", "got 'abc' (str)"),
        ("trainer.epochs=2.5", "trainer.epochs must be an integer"),
        ("trainer.seed=-1", "trainer.seed must be an integer >= 0"),
        ("trainer.precision=float8", "trainer.precision"),
        ("trainer.validation=kfold", "trainer.validation"),
        ("optimizer.learning_rate=fast", "optimizer.learning_rate must be a number"),
        ("model.hidden_units=[a,b]", "model.hidden_units must be a list of integers"),
        ("data.max_train_examples=0", "data.max_train_examples"),
        ("cv.fold=5", "cv.fold must be an integer from 0 to cv.k-1=4 or 'all'"),
        ("cv.fold=every", "got 'every' (str)"),
    ],
)
def test_bad_values_are_rejected_with_a_clear_message(override, message, make_config):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_config(make_config(override))


def test_seed_zero_is_a_seed(make_config):
    cfg = make_config("trainer.seed=0")
    validate_config(cfg)
    assert cfg.trainer.seed == 0


@pytest.mark.parametrize("search", _group_options("hparams_search"))
def test_every_ready_sweep_composes(search, make_config):
    cfg = make_config(f"hparams_search={search}")
    OmegaConf.to_container(cfg, resolve=True)
    validate_config(cfg)


@pytest.mark.parametrize("launcher", ["parallel", "isolated", "slurm", "ray_cluster"])
def test_launcher_configs_compose(launcher, tmp_path):
    if launcher == "ray_cluster":
        pytest.importorskip(
            "hydra_plugins.hydra_ray_launcher", reason="hydra-ray-launcher not installed"
        )
    cfg = compose_config(
        f"hydra/launcher={launcher}", f"run_dir={tmp_path}", return_hydra_config=True
    )
    assert "_target_" in cfg.hydra.launcher


def test_an_experiments_own_config_is_composed_once_and_cannot_be_changed():
    # The report reads each experiment's config for its catalog and again for every run's label.
    from omegaconf.errors import ReadonlyConfigError

    from ldl.config.experiments import experiment_config

    first = experiment_config("c6e1")
    assert experiment_config("c6e1") is first
    assert OmegaConf.to_container(first) == OmegaConf.to_container(
        compose_config("experiment=c6e1")
    )
    with pytest.raises(ReadonlyConfigError):
        first.trainer.epochs = 1
