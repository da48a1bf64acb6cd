"""c15_transformer (chapter 15): an encoder-decoder Transformer from Keras layers.

Token embeddings (scaled by sqrt(d_model)) plus a fixed sinusoidal positional encoding feed
`num_encoder_blocks` encoder blocks (self-attention, feed-forward) and `num_decoder_blocks` decoder
blocks (causal self-attention, cross-attention over the encoder output, feed-forward); each sub-layer
is followed by dropout, a residual addition and layer normalization (post-LN; `norm_position=pre` puts
the normalization in front and adds a final one). A Dense softmax reads the decoder's top layer.

Masks. The decoder's self-attention is always causal. With `padding_mask=true` (correct practice) the
padding ids are masked as keys in the encoder's self-attention, the decoder's self-attention and the
cross-attention, and the decoder's mask reaches the loss and accuracy; positions then count real tokens
only, so how much padding a sentence gets changes nothing. `padding_mask=false` reproduces the book's
example code, whose positional layer returns no mask: PAD is attended to and counted in the loss.

The custom layers are registered for `.keras` saving; `encode` and `decode_last` run the parts of a
trained (or reloaded) model for decoding, found by their layer names.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from ldl.errors import ConfigError

KIND = "transformer"
POSITIONAL_ENCODINGS = ("sinusoidal", "learned")
NORM_POSITIONS = ("post", "pre")
PACKAGE = "ldl"


def sinusoidal_table(positions: int, d_model: int) -> np.ndarray:
    """(positions, d_model): sin(pos / 10000^(i/d)) at even i, cos(pos / 10000^((i-1)/d)) at odd i."""
    position = np.arange(positions, dtype=np.float64)[:, None]
    even = np.arange(0, d_model, 2, dtype=np.float64)[None, :]
    angles = position / np.power(10000.0, even / d_model)
    table = np.zeros((positions, d_model), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PositionalEmbedding(layers.Layer):
    """Token embedding x sqrt(d) (optional) + positional encoding; a padding mask when `mask_zero`.

    With `mask_zero`, position indices count the real tokens (a pre-padded sentence's first word is
    position 0); without it they are the array positions, as in the book's example code.
    """

    def __init__(
        self,
        vocabulary_size: int,
        d_model: int,
        max_positions: int = 64,
        mask_zero: bool = True,
        scale: bool = True,
        positional_encoding: str = "sinusoidal",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if positional_encoding not in POSITIONAL_ENCODINGS:
            raise ConfigError(
                f"model.positional_encoding={positional_encoding!r} is not known; use one of: "
                f"{', '.join(POSITIONAL_ENCODINGS)}."
            )
        self.vocabulary_size = vocabulary_size
        self.d_model = d_model
        self.max_positions = max_positions
        self.mask_zero = mask_zero
        self.scale = scale
        self.positional_encoding = positional_encoding
        self.token_embedding = layers.Embedding(vocabulary_size, d_model, name="token_embedding")
        self.position_embedding = (
            layers.Embedding(max_positions, d_model, name="position_embedding")
            if positional_encoding == "learned"
            else None
        )
        self.table = sinusoidal_table(max_positions, d_model)

    def build(self, input_shape) -> None:
        self.token_embedding.build(input_shape)
        if self.position_embedding is not None:
            self.position_embedding.build(input_shape)
        self.built = True

    def positions(self, ids):
        if self.mask_zero:
            real = ops.cast(ops.not_equal(ids, 0), "int32")
            positions = ops.maximum(ops.cumsum(real, axis=1) - 1, 0)
        else:
            positions = ops.broadcast_to(ops.arange(ops.shape(ids)[1])[None, :], ops.shape(ids))
        return ops.minimum(positions, self.max_positions - 1)

    def call(self, ids):
        x = self.token_embedding(ids)
        if self.scale:
            x = x * ops.cast(math.sqrt(self.d_model), x.dtype)
        positions = self.positions(ids)
        if self.position_embedding is not None:
            encoding = self.position_embedding(positions)
        else:
            encoding = ops.take(ops.convert_to_tensor(self.table), positions, axis=0)
        return x + ops.cast(encoding, x.dtype)

    def compute_mask(self, ids, mask=None):
        return ops.not_equal(ids, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.d_model)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "d_model": self.d_model,
            "max_positions": self.max_positions,
            "mask_zero": self.mask_zero,
            "scale": self.scale,
            "positional_encoding": self.positional_encoding,
        }


def _key_mask(mask):
    """(batch, keys) bool -> (batch, 1, keys), broadcast over the queries; None stays None."""
    return None if mask is None else ops.expand_dims(ops.cast(mask, "bool"), 1)


class _Block(layers.Layer):
    """Shared parts: feed-forward, dropout, layer norms, residual wiring (post- or pre-LN)."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        ffn_dim: int,
        dropout: float = 0.1,
        epsilon: float = 1e-5,
        norm_position: str = "post",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if norm_position not in NORM_POSITIONS:
            raise ConfigError(
                f"model.norm_position={norm_position!r} is not known; use post or pre."
            )
        if d_model % num_heads:
            raise ConfigError(
                f"model.d_model ({d_model}) must be divisible by model.num_heads ({num_heads})."
            )
        self.supports_masking = True
        self.d_model, self.num_heads, self.ffn_dim = d_model, num_heads, ffn_dim
        self.dropout_rate, self.epsilon, self.norm_position = dropout, epsilon, norm_position
        self.ffn_inner = layers.Dense(ffn_dim, activation="relu", name="ffn_inner")
        self.ffn_outer = layers.Dense(d_model, name="ffn_outer")
        self.dropout = layers.Dropout(dropout)

    def attention(self, name: str) -> layers.MultiHeadAttention:
        return layers.MultiHeadAttention(self.num_heads, self.d_model // self.num_heads, name=name)

    def norm(self, name: str) -> layers.LayerNormalization:
        return layers.LayerNormalization(epsilon=self.epsilon, name=name)

    def residual(self, x, norm, sublayer, training):
        """x + dropout(sublayer(x)), normalized after (post) or the sublayer's input before (pre)."""
        if self.norm_position == "pre":
            return x + self.dropout(sublayer(norm(x)), training=training)
        return norm(x + self.dropout(sublayer(x), training=training))

    def feed_forward(self, x):
        return self.ffn_outer(self.ffn_inner(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "d_model": self.d_model,
            "num_heads": self.num_heads,
            "ffn_dim": self.ffn_dim,
            "dropout": self.dropout_rate,
            "epsilon": self.epsilon,
            "norm_position": self.norm_position,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class TransformerEncoderBlock(_Block):
    """Self-attention (PAD keys masked when a padding mask is given) -> feed-forward."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.self_attention = self.attention("self_attention")
        self.norm_attention = self.norm("norm_attention")
        self.norm_ffn = self.norm("norm_ffn")

    def build(self, input_shape) -> None:
        self.self_attention.build(input_shape, input_shape)
        self.norm_attention.build(input_shape)
        self.ffn_inner.build(input_shape)
        self.ffn_outer.build((*input_shape[:-1], self.ffn_dim))
        self.norm_ffn.build(input_shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        keys = _key_mask(padding_mask)
        x = self.residual(
            x,
            self.norm_attention,
            lambda h: self.self_attention(h, h, attention_mask=keys, training=training),
            training,
        )
        return self.residual(x, self.norm_ffn, self.feed_forward, training)


@keras.saving.register_keras_serializable(package=PACKAGE)
class TransformerDecoderBlock(_Block):
    """Causal self-attention -> cross-attention over the encoder output -> feed-forward."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.self_attention = self.attention("self_attention")
        self.cross_attention = self.attention("cross_attention")
        self.norm_self = self.norm("norm_self_attention")
        self.norm_cross = self.norm("norm_cross_attention")
        self.norm_ffn = self.norm("norm_ffn")

    def build(self, y_shape, encoder_outputs_shape=None) -> None:
        encoder_outputs_shape = encoder_outputs_shape or y_shape
        self.self_attention.build(y_shape, y_shape)
        self.cross_attention.build(y_shape, encoder_outputs_shape)
        for norm in (self.norm_self, self.norm_cross, self.norm_ffn):
            norm.build(y_shape)
        self.ffn_inner.build(y_shape)
        self.ffn_outer.build((*y_shape[:-1], self.ffn_dim))
        self.built = True

    def call(self, y, encoder_outputs, padding_mask=None, source_mask=None, training=None):
        own_keys, source_keys = _key_mask(padding_mask), _key_mask(source_mask)
        y = self.residual(
            y,
            self.norm_self,
            lambda h: self.self_attention(
                h, h, attention_mask=own_keys, use_causal_mask=True, training=training
            ),
            training,
        )
        y = self.residual(
            y,
            self.norm_cross,
            lambda h: self.cross_attention(
                h, encoder_outputs, attention_mask=source_keys, training=training
            ),
            training,
        )
        return self.residual(y, self.norm_ffn, self.feed_forward, training)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PaddingMask(layers.Layer):
    """Token ids -> bool mask of the real (non-zero) tokens, as an explicit tensor for the blocks."""

    def call(self, ids):
        return ops.not_equal(ids, 0)

    def compute_output_shape(self, input_shape):
        return input_shape


def build_transformer(
    source_vocabulary: int | None = None,
    target_vocabulary: int | None = None,
    num_encoder_blocks: int = 2,
    num_decoder_blocks: int = 2,
    d_model: int = 128,
    num_heads: int = 8,
    ffn_dim: int = 256,
    dropout: float = 0.1,
    max_positions: int = 64,
    padding_mask: bool = True,
    positional_encoding: str = "sinusoidal",
    scale_embeddings: bool = True,
    norm_position: str = "post",
    epsilon: float = 1e-5,
    name: str = "transformer",
    num_outputs: int | None = None,
) -> keras.Model:
    """The training model: inputs (source ids, decoder input ids) -> next-token probabilities.

    The target vocabulary defaults to the data's output size (`num_outputs`), the source vocabulary
    to the target's (the Anki data gives both languages data.max_words ids).
    """
    target_vocabulary = target_vocabulary or num_outputs
    source_vocabulary = source_vocabulary or target_vocabulary
    for key, value in (
        ("source_vocabulary", source_vocabulary),
        ("target_vocabulary", target_vocabulary),
        ("num_encoder_blocks", num_encoder_blocks),
        ("num_decoder_blocks", num_decoder_blocks),
        ("d_model", d_model),
        ("num_heads", num_heads),
        ("ffn_dim", ffn_dim),
        ("max_positions", max_positions),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"model.{key} must be an integer >= 1, got {value!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"model.dropout must lie in [0, 1), got {dropout}.")
    if source_vocabulary is None or target_vocabulary is None:  # checked above; narrows the types
        raise ConfigError("model=transformer needs the vocabulary sizes.")
    block: dict[str, Any] = {
        "d_model": d_model,
        "num_heads": num_heads,
        "ffn_dim": ffn_dim,
        "dropout": dropout,
        "epsilon": epsilon,
        "norm_position": norm_position,
    }
    embedding: dict[str, Any] = {
        "d_model": d_model,
        "max_positions": max_positions,
        "mask_zero": padding_mask,
        "scale": scale_embeddings,
        "positional_encoding": positional_encoding,
    }
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    source_mask = PaddingMask(name="source_padding")(source) if padding_mask else None
    target_mask = PaddingMask(name="target_padding")(decoder_input) if padding_mask else None

    x = PositionalEmbedding(source_vocabulary, name="source_embedding", **embedding)(source)
    for index in range(num_encoder_blocks):
        x = TransformerEncoderBlock(name=f"encoder_block_{index}", **block)(
            x, padding_mask=source_mask
        )
    if norm_position == "pre":
        x = layers.LayerNormalization(epsilon=epsilon, name="encoder_norm")(x)
    y = PositionalEmbedding(target_vocabulary, name="target_embedding", **embedding)(decoder_input)
    for index in range(num_decoder_blocks):
        y = TransformerDecoderBlock(name=f"decoder_block_{index}", **block)(
            y, x, padding_mask=target_mask, source_mask=source_mask
        )
    if norm_position == "pre":
        y = layers.LayerNormalization(epsilon=epsilon, name="decoder_norm")(y)
    probabilities = layers.Dense(
        target_vocabulary, activation="softmax", name="decoder_output", dtype="float32"
    )(y)
    return keras.Model([source, decoder_input], probabilities, name=name)


def _blocks(model: keras.Model, prefix: str) -> list[layers.Layer]:
    found = [layer for layer in model.layers if layer.name.startswith(prefix)]
    return sorted(found, key=lambda layer: int(layer.name.rsplit("_", 1)[1]))


def _layer(model: keras.Model, name: str) -> layers.Layer | None:
    return next((layer for layer in model.layers if layer.name == name), None)


def encode(model: keras.Model, source):
    """Encoder output (batch, source length, d_model) and the source mask (None without masks)."""
    embedding = model.get_layer("source_embedding")
    source_mask = ops.not_equal(source, 0) if embedding.mask_zero else None
    x = embedding(source)
    for block in _blocks(model, "encoder_block_"):
        x = block(x, padding_mask=source_mask, training=False)
    norm = _layer(model, "encoder_norm")
    return (norm(x) if norm is not None else x), source_mask


def decode_last(model: keras.Model, encoded, source_mask, prefix):
    """Next-token probabilities after every prefix (batch, prefix length) -> (batch, vocabulary); the
    whole prefix is re-read (no cache), as in the book's example code."""
    embedding = model.get_layer("target_embedding")
    target_mask = ops.not_equal(prefix, 0) if embedding.mask_zero else None
    y = embedding(prefix)
    for block in _blocks(model, "decoder_block_"):
        y = block(y, encoded, padding_mask=target_mask, source_mask=source_mask, training=False)
    norm = _layer(model, "decoder_norm")
    if norm is not None:
        y = norm(y)
    return model.get_layer("decoder_output")(y[:, -1, :])
