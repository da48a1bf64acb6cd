"""Recurrent networks of chapters 9-12: [Embedding] -> stacked SimpleRNN/LSTM/GRU -> Dense layers -> output.

One builder covers the book's sequence models: c9e1's SimpleRNN regressor on a sales series, c11e1's
two-layer LSTM over one-hot characters and c12e1's embedding + LSTM language model. The time axis is
variable (`None`) by default, as in the book, so one model reads training windows of 270 months and
test windows of 67, or a one-token step of stateful generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

from ldl.errors import ConfigError
from ldl.models.dense_head import dense_head
from ldl.models.initializers import make_initializer

CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
MERGE_MODES = ("concat", "sum", "mul", "ave")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "elu", "linear", "softmax", "leaky_relu", "softplus")


def _are_widths(values: Any) -> bool:
    return isinstance(values, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
    )


def _check(
    cell: str,
    units: Sequence[int],
    activation: str,
    dropout: float,
    recurrent_dropout: float,
    merge_mode: str,
    output_activation: str,
    dense_activation: str,
) -> None:
    if cell not in CELLS:
        raise ConfigError(f"model.cell={cell!r} is not known; use one of: {', '.join(CELLS)}.")
    if not _are_widths(units) or not units:
        raise ConfigError(
            f"model.units must list the width of every stacked recurrent layer (positive "
            f"integers), got {units!r}; e.g. model.units=[128,128]."
        )
    for key, value in (
        ("activation", activation),
        ("dense_activation", dense_activation),
        ("output_activation", output_activation),
    ):
        if value not in ACTIVATIONS:
            raise ConfigError(
                f"model.{key}={value!r} is not known; use one of: {', '.join(ACTIVATIONS)}."
            )
    for key, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
        if not 0.0 <= rate < 1.0:
            raise ConfigError(f"model.{key} must lie in [0, 1), got {rate}.")
    if merge_mode not in MERGE_MODES:
        raise ConfigError(
            f"model.merge_mode={merge_mode!r} is not known; use one of: {', '.join(MERGE_MODES)}."
        )


def build_recurrent(
    input_shape: Sequence[int | None],
    num_outputs: int,
    cell: str = "lstm",
    units: Sequence[int] = (128,),
    activation: str = "tanh",
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    bidirectional: bool = False,
    merge_mode: str = "concat",
    embedding_input_dim: int | None = None,
    embedding_dim: int | None = None,
    mask_zero: bool = True,
    embedding_trainable: bool = True,
    dense_units: Sequence[int] = (),
    dense_activation: str = "relu",
    output_activation: str = "softmax",
    variable_length: bool = True,
    unit_forget_bias: bool = True,
    reset_after: bool = True,
    masking: bool = False,
    mask_value: float = 0.0,
    kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    output_kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    bias_initializer: Mapping[str, Any] | str = "zeros",
    name: str = "recurrent",
) -> keras.Model:
    """Build the network with the Functional API; the output layer always computes in float32.

    `input_shape` is (timesteps, features) for real-valued or one-hot inputs, or (timesteps,) for token
    ids, which then need `embedding_dim` (and `embedding_input_dim`, the vocabulary size). Every
    recurrent layer but the last returns sequences. Recurrent kernels use Keras's orthogonal default.
    `masking` skips real-valued timesteps equal to `mask_value` (the padding of chapter 9's windows).
    """
    _check(
        cell, units, activation, dropout, recurrent_dropout, merge_mode, output_activation,
        dense_activation,
    )  # fmt: skip
    if not _are_widths(dense_units):
        raise ConfigError(
            f"model.dense_units must be a list of positive integers, got {dense_units!r}; "
            "e.g. model.dense_units=[128]."
        )
    uses_ids = embedding_dim is not None
    if masking and uses_ids:
        raise ConfigError(
            "model.masking masks padded real-valued inputs; token-id inputs are masked by the "
            "Embedding's model.mask_zero instead."
        )
    if uses_ids and not _are_widths([embedding_dim]):
        raise ConfigError(f"model.embedding_dim must be a positive integer, got {embedding_dim!r}.")
    if uses_ids and not _are_widths([embedding_input_dim]):
        raise ConfigError(
            "model.embedding_dim is set, so the inputs are token ids and the Embedding needs the "
            f"vocabulary size: model.embedding_input_dim (got {embedding_input_dim!r})."
        )
    if len(input_shape) != (1 if uses_ids else 2):
        expected = "(timesteps,) token ids" if uses_ids else "(timesteps, features)"
        raise ConfigError(
            f"model=rnn needs inputs of shape {expected} per example, but the data have "
            f"{tuple(input_shape)}."
            + ("" if uses_ids else " Token-id inputs need model.embedding_dim.")
        )
    timesteps = None if variable_length else input_shape[0]
    if uses_ids:
        inputs = keras.Input(shape=(timesteps,), dtype="int32", name="tokens")
        x = layers.Embedding(
            embedding_input_dim,
            embedding_dim,
            mask_zero=mask_zero,
            trainable=bool(embedding_trainable),
            name="embedding",
        )(inputs)
    else:
        inputs = keras.Input(shape=(timesteps, input_shape[1]), name="inputs")
        # Chapter 9's masking: timesteps whose every feature equals mask_value (the windows' padding)
        # are skipped by the recurrent layers instead of being read as data.
        x = layers.Masking(mask_value, name="masking")(inputs) if masking else inputs
    extra = {"unit_forget_bias": unit_forget_bias} if cell == "lstm" else {}
    if cell == "gru":
        extra = {"reset_after": reset_after}
    for index, width in enumerate(units):
        recurrent = CELLS[cell](
            int(width),
            activation=activation,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            return_sequences=index < len(units) - 1,
            kernel_initializer=make_initializer(kernel_initializer),
            bias_initializer=make_initializer(bias_initializer),
            name=f"{cell}_{index}",
            **extra,
        )
        if bidirectional:
            recurrent = layers.Bidirectional(
                recurrent, merge_mode=merge_mode, name=f"bidirectional_{index}"
            )
        x = recurrent(x)
    outputs = dense_head(
        x,
        dense_units,
        dense_activation,
        num_outputs,
        output_activation,
        kernel_initializer,
        output_kernel_initializer,
        bias_initializer,
    )
    return keras.Model(inputs, outputs, name=name)
