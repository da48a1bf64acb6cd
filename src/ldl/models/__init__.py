"""Model builders; each family lives in its own short module and takes plain arguments.

`build_model` maps a `model` config onto a family's builder. A new family adds one function here that
reads its config keys and calls its module's builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras

from ldl.errors import ConfigError
from ldl.models import transformer as _transformer_layers  # noqa: F401  registers custom layers for loading


def _fully_connected(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[int],
    num_outputs: int,
) -> keras.Model:
    from ldl.models.fully_connected import build_fully_connected

    return build_fully_connected(
        input_shape=input_shape,
        num_outputs=num_outputs,
        hidden_units=list(model_config["hidden_units"]),
        activation=model_config["activation"],
        output_activation=model_config["output_activation"],
        dropout=float(model_config["dropout"]),
        batch_norm=model_config["batch_norm"],
        kernel_initializer=dict(initializer_config["kernel"]),
        output_kernel_initializer=dict(initializer_config["output_kernel"]),
        bias_initializer=dict(initializer_config["bias"]),
        l1_kernel=float(model_config["l1_kernel"]),
        l2_kernel=float(model_config["l2_kernel"]),
        l1_bias=float(model_config["l1_bias"]),
        l2_bias=float(model_config["l2_bias"]),
    )


def _as_list(value: Any) -> Any:
    """Config lists as Python lists; anything else unchanged, for the builder to reject clearly."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value


def _recurrent(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[int],
    num_outputs: int,
) -> keras.Model:
    from ldl.models.rnn import build_recurrent

    return build_recurrent(
        input_shape=input_shape,
        num_outputs=num_outputs,
        cell=model_config["cell"],
        units=_as_list(model_config["units"]),
        activation=model_config["activation"],
        dropout=float(model_config["dropout"]),
        recurrent_dropout=float(model_config["recurrent_dropout"]),
        bidirectional=bool(model_config["bidirectional"]),
        merge_mode=model_config["merge_mode"],
        embedding_input_dim=model_config.get("embedding_input_dim"),
        embedding_dim=model_config.get("embedding_dim"),
        mask_zero=bool(model_config["mask_zero"]),
        dense_units=_as_list(model_config["dense_units"]),
        dense_activation=model_config["dense_activation"],
        output_activation=model_config["output_activation"],
        variable_length=bool(model_config["variable_length"]),
        unit_forget_bias=bool(model_config["unit_forget_bias"]),
        reset_after=bool(model_config["reset_after"]),
        kernel_initializer=dict(initializer_config["kernel"]),
        output_kernel_initializer=dict(initializer_config["output_kernel"]),
        bias_initializer=dict(initializer_config["bias"]),
    )


def _convolutional(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[int],
    num_outputs: int,
) -> keras.Model:
    from ldl.models.cnn import build_cnn

    return build_cnn(
        input_shape=input_shape,
        num_outputs=num_outputs,
        layer_tokens=_as_list(model_config["layers"]),
        activation=model_config["activation"],
        output_activation=model_config["output_activation"],
        kernel_initializer=dict(initializer_config["kernel"]),
        output_kernel_initializer=dict(initializer_config["output_kernel"]),
        bias_initializer=dict(initializer_config["bias"]),
        l2_kernel=float(model_config["l2_kernel"]),
    )


def _resnet(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[int],
    num_outputs: int,
) -> keras.Model:
    from ldl.models.resnet import build_from_config

    return build_from_config(model_config, initializer_config, input_shape, num_outputs)


def _last_value(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[int],
    num_outputs: int,
) -> keras.Model:
    from ldl.models.baselines import build_last_value

    if input_shape[-1] != num_outputs:
        raise ConfigError(
            f"model=last_value repeats the last input step, which has {input_shape[-1]} features, but "
            f"the data has {num_outputs} outputs; use it for one-step forecasts such as book_sales."
        )
    return build_last_value(input_shape)


def _seq2seq(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[Any],
    num_outputs: int,
) -> keras.Model:
    """c14e1's LSTM encoder-decoder; both vocabularies default to the data's output size."""
    from ldl.models.seq2seq import build_seq2seq

    return build_seq2seq(
        source_vocabulary=model_config.get("source_vocabulary") or num_outputs,
        target_vocabulary=num_outputs,
        embedding_dim=model_config["embedding_dim"],
        layer_size=model_config["layer_size"],
        num_layers=model_config["num_layers"],
    )


def _transformer(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[Any],
    num_outputs: int,
) -> keras.Model:
    """c15_transformer's encoder-decoder Transformer (Keras default initializers, as the book)."""
    from ldl.models.transformer import build_transformer

    return build_transformer(
        source_vocabulary=model_config.get("source_vocabulary") or num_outputs,
        target_vocabulary=num_outputs,
        num_encoder_blocks=model_config["num_encoder_blocks"],
        num_decoder_blocks=model_config["num_decoder_blocks"],
        d_model=model_config["d_model"],
        num_heads=model_config["num_heads"],
        ffn_dim=model_config["ffn_dim"],
        dropout=float(model_config["dropout"]),
        max_positions=model_config["max_positions"],
        padding_mask=bool(model_config["padding_mask"]),
        positional_encoding=model_config["positional_encoding"],
        scale_embeddings=bool(model_config["scale_embeddings"]),
        norm_position=model_config["norm_position"],
        epsilon=float(model_config["epsilon"]),
    )


def _captioning(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[Any],
    num_outputs: int,
) -> keras.Model:
    """Chapter 16's attention decoder over (rows, columns, depth) image features."""
    from ldl.tasks.captioning.model import build_captioning_model

    return build_captioning_model(
        vocabulary_size=num_outputs,
        feature_shape=tuple(input_shape[0]),
        embedding_dim=model_config["embedding_dim"],
        lstm_units=model_config["lstm_units"],
        query_units=model_config.get("query_units"),
        attention=model_config["attention"],
    )


MODEL_FAMILIES: dict[str, Callable[..., keras.Model]] = {
    "fc": _fully_connected,
    "rnn": _recurrent,
    "cnn": _convolutional,
    "resnet": _resnet,
    "last_value": _last_value,
    "seq2seq": _seq2seq,
    "transformer": _transformer,
    "captioning": _captioning,
}


def build_model(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[int],
    num_outputs: int,
) -> keras.Model:
    """Build the Keras model a config names, for data of `input_shape` and `num_outputs` outputs."""
    name = model_config["name"]
    if name not in MODEL_FAMILIES:
        raise ConfigError(
            f"model={name} is not a Keras model family ldl can build (known: {', '.join(MODEL_FAMILIES)})."
        )
    return MODEL_FAMILIES[name](model_config, initializer_config, input_shape, num_outputs)
