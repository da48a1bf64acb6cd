"""The chapter 9-13 experiment configs match the book setting by setting and layer by layer."""

from __future__ import annotations

import pytest

from ldl.config import validate_config


def layer_summary(model) -> list[tuple]:
    rows = []
    for layer in model.layers[1:]:
        config = layer.get_config()
        rows.append(
            (
                type(layer).__name__,
                config.get("units") or config.get("output_dim"),
                config.get("activation"),
                config.get("return_sequences"),
                config.get("dropout"),
                config.get("recurrent_dropout"),
            )
        )
    return rows


def build(cfg, input_shape, outputs):
    from ldl.models import build_model

    return build_model(cfg.model, cfg.initializer, input_shape, outputs)


def test_c9e1_and_its_feed_forward_comparison(make_config):
    cfg = make_config("experiment=c9e1")
    validate_config(cfg)
    assert (cfg.data.name, cfg.data.end_date, cfg.data.train_months_fraction) == (
        "book_sales",
        "2020-03",
        0.8,
    )
    assert (cfg.data.min_history, cfg.data.history, cfg.data.scale_by) == (12, "full", "std")
    assert (cfg.optimizer.name, cfg.loss, list(cfg.metrics)) == (
        "adam",
        "mean_squared_error",
        ["mae"],
    )
    assert (cfg.trainer.batch_size, cfg.trainer.epochs, cfg.trainer.validation) == (16, 100, "test")
    model = build(cfg, (270, 1), 1)
    assert model.inputs[0].shape == (None, None, 1)  # variable time axis, as the book builds it
    assert layer_summary(model) == [
        ("SimpleRNN", 128, "relu", False, 0.0, 0.0),
        ("Dense", 1, "linear", None, None, None),
    ]
    ffn = make_config("experiment=c9e1_ffn")
    assert (ffn.data.history, ffn.data.lookback) == ("fixed", 12)
    assert [row[:3] for row in layer_summary(build(ffn, (12, 1), 1))] == [
        ("Flatten", None, None),
        ("Dense", 256, "relu"),
        ("Dense", 1, "linear"),
    ]
    assert (ffn.trainer.batch_size, ffn.trainer.epochs, ffn.loss) == (16, 100, "mean_squared_error")


@pytest.mark.parametrize("experiment", ["c11e1", "c11e1_no_rdo"])
def test_c11e1(make_config, experiment):
    cfg = make_config(f"experiment={experiment}")
    recurrent_dropout = 0.0 if experiment.endswith("no_rdo") else 0.2
    assert (cfg.data.window_length, cfg.data.window_step, cfg.data.test_fraction) == (40, 3, 0.05)
    assert (cfg.loss, cfg.trainer.batch_size, cfg.trainer.epochs) == (
        "categorical_crossentropy",
        256,
        32,
    )
    assert layer_summary(build(cfg, (40, 67), 67)) == [
        ("LSTM", 128, "tanh", True, 0.2, recurrent_dropout),
        ("LSTM", 128, "tanh", False, 0.2, recurrent_dropout),
        ("Dense", 67, "softmax", None, None, None),
    ]
    sampler = cfg.callbacks.sample_completions
    assert (sampler.prompts[0], sampler.beam_width, sampler.length) == ("the body ", 8, 11)


@pytest.mark.parametrize("experiment", ["c12e1", "c12e1_no_rdo"])
def test_c12e1(make_config, experiment):
    cfg = make_config(f"experiment={experiment}")
    recurrent_dropout = 0.0 if experiment.endswith("no_rdo") else 0.2
    assert (cfg.data.max_words, cfg.data.oov_token, cfg.data.window_length) == (10_000, "UNK", 40)
    assert (cfg.trainer.batch_size, cfg.trainer.epochs) == (256, 32)
    model = build(cfg, (40,), 10_000)
    assert model.layers[1].get_config()["mask_zero"] is True
    assert layer_summary(model) == [
        ("Embedding", 100, None, None, None, None),
        ("LSTM", 128, "tanh", True, 0.2, recurrent_dropout),
        ("LSTM", 128, "tanh", False, 0.2, recurrent_dropout),
        ("Dense", 128, "relu", None, None, None),
        ("Dense", 10_000, "softmax", None, None, None),
    ]
    sampler = cfg.callbacks.sample_completions
    assert (sampler.prompts[0], sampler.decoding, sampler.length, sampler.mode) == (
        "i saw", "greedy", 3, "stateful",
    )  # fmt: skip
    assert "embedding_projector" in cfg.callbacks


def test_recurrent_options_build_and_bad_ones_are_rejected(make_config):
    from ldl.errors import ConfigError

    cfg = make_config(
        "data=book_sales", "model=rnn", "model.cell=gru", "model.units=[8,4]",
        "model.bidirectional=true", "model.merge_mode=sum",
    )  # fmt: skip
    model = build(cfg, (30, 1), 1)
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "Bidirectional",
        "Bidirectional",
        "Dense",
    ]
    # GRU (reset_after): 3 * N * (N + M + 2) per direction (chapter 10).
    assert model.layers[1].count_params() == 2 * 3 * 8 * (8 + 1 + 2)
    for override, message in (
        ("model.cell=transformer", "model.cell"),
        ("model.units=[]", "model.units"),
        ("model.units=128", "model.units must list"),
        ("model.units=[a,b]", "model.units must list"),
        ("model.dense_units=[0]", "model.dense_units"),
        ("model.recurrent_dropout=1.5", "recurrent_dropout"),
        ("model.embedding_dim=8", "embedding_input_dim"),
    ):
        with pytest.raises(ConfigError, match=message):
            build(make_config("data=book_sales", "model=rnn", override), (30, 1), 1)
    with pytest.raises(ConfigError, match=r"Token-id inputs need model\.embedding_dim"):
        build(make_config("data=frankenstein_words", "model=rnn"), (40,), 10)


def test_callbacks_that_write_into_the_run_folder_do_not_block_a_resume(make_config, tmp_path):
    from omegaconf import OmegaConf

    from ldl.runs.run_folder import config_differences

    first, second = (
        OmegaConf.to_container(
            make_config("experiment=c12e1", run_dir=tmp_path / name), resolve=True
        )
        for name in ("first", "second")
    )
    assert first["callbacks"]["sample_completions"]["run_dir"].endswith("first")
    assert config_differences(first, second) == []
