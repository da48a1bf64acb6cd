"""Where the training code falls back to a default for an option, it is the YAML's default: a config
that leaves the option out trains exactly as one that spells out the YAML's value."""

from __future__ import annotations

from omegaconf import OmegaConf

from ldl.config import config_dir
from ldl.training.fine_tuning import fine_tune_settings
from ldl.training.optimizers import build_optimizer


def _yaml(*parts: str) -> dict:
    return OmegaConf.to_container(OmegaConf.load(config_dir().joinpath(*parts)))  # type: ignore[return-value]


def test_fine_tune_defaults_are_train_yaml_s():
    declared = _yaml("train.yaml")["fine_tune"]
    with_epochs = {"epochs": 3}
    assert fine_tune_settings(with_epochs) == fine_tune_settings({**declared, **with_epochs})


def test_an_optimizer_without_a_learning_rate_uses_the_one_keras_would():
    for name in ("sgd", "adam"):
        declared = _yaml("optimizer", f"{name}.yaml")
        without = {key: value for key, value in declared.items() if key != "learning_rate"}
        built = build_optimizer(without)
        plain = type(built)()
        assert float(built.learning_rate) == float(plain.learning_rate)


def test_the_loop_and_checkpoint_options_follow_the_yaml():
    """trainer.loop is read as declared (YAML: auto); the code once fell back to `fit` without it."""
    from helpers import compose_config

    from ldl.training.graph_loop import LoopSetting, uses_graph_loop
    from ldl.training.pipeline import EpochShuffledDataset
    from ldl.training.recorder import CheckpointPolicy

    cfg = compose_config("experiment=c6e1")
    assert cfg.trainer.loop == "auto"
    in_memory = object.__new__(EpochShuffledDataset)  # only its kind matters
    assert uses_graph_loop(cfg, LoopSetting(in_memory, augmented=False), callbacks=[])
    policy = CheckpointPolicy.from_trainer(cfg.trainer)
    assert (policy.seconds, policy.every_epochs) == (30, None)
