"""The fields of every model family, by `model.name`, declared once.

A model config's keys are its builder's keyword arguments (`_target_`); these declarations add what a
signature cannot say (allowed values, bounds) and are read without importing the builder, so a bad
`model.attention` or `model.hidden_activation` is refused before TensorFlow loads. A model whose name is
not here (a family plugged in with its own `_target_`) is checked against its builder's signature
once Keras is loaded. tests/unit/test_config_schema.py keeps each declaration equal to its builder's
parameters and to the builders' own lists of allowed values.
"""

from __future__ import annotations

from ldl.config.fields import (
    Field,
    anything,
    choice,
    flag,
    integer,
    integers,
    number,
    positive,
    rate,
    text,
)

# Activations each builder offers (the builders' own ACTIVATIONS tuples).
DENSE_ACTIVATIONS = (
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "linear",
    "softmax",
)
CNN_ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "elu",
    "selu",
    "leaky_relu",
    "softplus",
    "linear",
    "gelu",
)
CONV1D_ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "leaky_relu", "linear", "softmax")
RNN_ACTIVATIONS = ("tanh", "relu", "sigmoid", "elu", "linear", "softmax", "leaky_relu", "softplus")
# The hand-written NumPy networks of chapters 3 and 4 (ldl.tasks.classic.activations).
NUMPY_ACTIVATIONS = ("tanh", "sigmoid", "relu")
_HIDDEN_ACTIVATION = (
    "activation of the hidden layer; sign and step functions have no useful derivative for "
    "backpropagation"
)
RESNET_ARCHITECTURES = (
    "cifar", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19", "InceptionV3", "Xception", "MobileNet", "MobileNetV2", "DenseNet121",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetV2B0", "ConvNeXtTiny",
)  # fmt: skip

_INITIAL_RANGE = positive(
    "starting weights are drawn from [-init_range, init_range]", example="0.5"
)
_LEARNING_RATE = positive("step size of gradient descent", example="0.1")
_MAX_PASSES = integer("passes over the truth table before giving up", 1, example="100")
_MAX_UPDATES = integer("weight updates before stopping (null: no limit)", 0, nullable=True)
_UNITS = integer("width", 1, example="128")
_VOCABULARY = integer("vocabulary size (null: the dataset's)", 1, nullable=True)


def _output(activations: tuple[str, ...]) -> Field:
    return choice("activation of the output layer (the dataset's default)", *activations)


MODELS: dict[str, dict[str, Field]] = {
    "fc": {
        "hidden_units": integers("width of each hidden layer", example="[64,64]"),
        "activation": choice("activation of the hidden layers", *DENSE_ACTIVATIONS),
        "output_activation": _output(DENSE_ACTIVATIONS),
        "dropout": rate("dropout after each hidden layer (a list: one per layer)", per_layer=True),
        "input_dropout": rate("dropout of the input features"),
        "batch_norm": choice(
            "batch normalization (null: none)",
            "before_activation",
            "after_activation",
            nullable=True,
        ),
        "l1_kernel": number("L1 penalty of the weights", 0),
        "l2_kernel": number("L2 penalty of the weights", 0),
        "l1_bias": number("L1 penalty of the biases", 0),
        "l2_bias": number("L2 penalty of the biases", 0),
    },
    "cnn": {
        "layers": anything("layer specs, e.g. [C64-k5-s2-relu, MP2, D128]"),
        "activation": choice("default activation of the layers", *CNN_ACTIVATIONS),
        "output_activation": _output((*CNN_ACTIVATIONS, "softmax")),
        "l2_kernel": number("L2 penalty of the weights", 0),
    },
    "conv1d": {
        "filters": integers("filters of each convolution", example="[32,32]"),
        "kernel_size": integer("kernel width", 1, example="2"),
        "dilation_rates": integers("dilation of each convolution", example="[1,2]"),
        "padding": choice("padding of the convolutions", "causal", "same", "valid"),
        "activation": choice("activation of the convolutions", *CONV1D_ACTIVATIONS),
        "pooling": choice("how the sequence is reduced", "last", "global_average", "global_max"),
        "dense_units": integers("width of the dense layers after the convolutions", example="[]"),
        "output_activation": _output(CONV1D_ACTIVATIONS),
        "variable_length": flag("accept sequences of any length"),
    },
    "rnn": {
        "cell": choice("recurrent cell", "simple_rnn", "lstm", "gru"),
        "units": integers("width of each stacked recurrent layer", example="[128,128]"),
        "activation": choice("activation of the cells", *RNN_ACTIVATIONS),
        "dropout": rate("dropout of the cells' inputs"),
        "recurrent_dropout": rate("dropout of the cells' recurrent state"),
        "bidirectional": flag("bidirectional layers"),
        "merge_mode": choice("how bidirectional outputs merge", "concat", "sum", "mul", "ave"),
        "embedding_dim": integer("embedding width (null: no embedding)", 1, nullable=True),
        "embedding_input_dim": integer(
            "embedding vocabulary (null: the dataset's)", 1, nullable=True
        ),
        "mask_zero": flag("index 0 is padding"),
        "embedding_trainable": flag("train the embedding"),
        "dense_units": integers("width of the dense layers after the cells", example="[]"),
        "dense_activation": choice("activation of the dense layers", *RNN_ACTIVATIONS),
        "output_activation": _output(RNN_ACTIVATIONS),
        "variable_length": flag("accept sequences of any length"),
        "unit_forget_bias": flag("LSTM forget-gate bias 1"),
        "reset_after": flag("GRU reset gate after the matrix product"),
        "masking": flag("mask time steps equal to mask_value"),
        "mask_value": number("the padding value masked"),
    },
    "resnet": {
        "architecture": choice(
            "cifar (the book's ResNet) or a keras.applications network", *RESNET_ARCHITECTURES
        ),
        "depth": integer("layers of a CIFAR ResNet (6n+2 basic, 9n+2 bottleneck)", 2, example="20"),
        "block": choice("residual block", "basic", "bottleneck"),
        "shortcut": choice("shortcut of a block that changes shape", "identity", "projection"),
        "width": integer("filters of the first stage", 1, example="16"),
        "weight_decay": number("L2 penalty of the weights", 0),
        "weights": text("pretrained weights, e.g. imagenet (null: none)", nullable=True),
        "include_top": flag("keep the pretrained classifier"),
        "pooling": choice("pooling of the base's output", "avg", "max", nullable=True),
        "input_size": integer("resize images to this side (null: as they are)", 1, nullable=True),
        "preprocessing": choice("input preprocessing", "auto", "caffe", "tf", "torch", "none"),
        "dropout": rate("dropout before the head"),
        "freeze_base": flag("freeze the pretrained base"),
        "output_activation": _output(DENSE_ACTIVATIONS),
    },
    "autoencoder": {
        "bottleneck": integer("width of the code layer", 1, example="64"),
        "activation": text("activation of the hidden layers"),
        "output_activation": text("activation of the reconstruction"),
        "noise_stddev": number("Gaussian noise added to the inputs in training", 0),
    },
    "captioning": {
        "embedding_dim": _UNITS,
        "lstm_units": _UNITS,
        "query_units": integer("width of the attention query (null: lstm_units)", 1, nullable=True),
        "attention": choice("attention score", "dot", "scaled_dot", "concat"),
    },
    "multimodal": {
        "heads": anything("outputs: [digit], [answer] or both"),
        "vocabulary": integer("words of the text input", 1),
        "embedding_dim": _UNITS,
        "lstm_units": _UNITS,
        "dense_units": _UNITS,
        "activation": text("activation of the dense layer"),
        "fusion": choice(
            "where text and image meet: early (the book) or late (just before the heads)",
            "early",
            "late",
        ),
    },
    "seq2seq": {
        "embedding_dim": _UNITS,
        "layer_size": _UNITS,
        "num_layers": integer("stacked LSTM layers", 1, example="2"),
        "source_vocabulary": _VOCABULARY,
        "bidirectional_encoder": flag("bidirectional encoder"),
        "attention": choice(
            "Luong attention on the top layer", "none", "dot", "general", "additive"
        ),
        "input_feeding": flag("feed the attentional vector back (Luong)"),
        "attention_query": choice("query of the attention", "output", "previous_state"),
        "state_every_step": flag("the encoder's state enters every decoder step"),
    },
    "transformer": {
        "num_encoder_blocks": integer("encoder blocks", 1, example="2"),
        "num_decoder_blocks": integer("decoder blocks", 1, example="2"),
        "d_model": integer("width of the model", 1, example="128"),
        "num_heads": integer("attention heads", 1, example="8"),
        "ffn_dim": integer("width of the feed-forward layers", 1, example="256"),
        "dropout": rate("dropout after each sub-layer"),
        "padding_mask": flag("mask padding"),
        "positional_encoding": choice("positional encoding", "sinusoidal", "learned"),
        "max_positions": integer("longest sequence", 1, example="64"),
        "scale_embeddings": flag("scale embeddings by sqrt(d_model)"),
        "norm_position": choice(
            "layer norm after (post) or before (pre) each sub-layer", "post", "pre"
        ),
        "epsilon": positive("layer-norm epsilon"),
        "source_vocabulary": _VOCABULARY,
    },
    "word2vec": {
        "vocabulary": integer("words embedded", 1),
        "embedding_dim": _UNITS,
        "tied": flag("one embedding for words and contexts"),
    },
    "last_value": {},
    "perceptron": {
        "init": choice("starting weights", "fixed", "zeros", "uniform"),
        "initial_weights": anything("the fixed starting weights, bias first"),
        "init_range": _INITIAL_RANGE,
        "init_seed": integer("seed of uniform starting weights", 0, nullable=True),
        "learning_rate": _LEARNING_RATE,
        "seed": integer("seed of the example order", 0, nullable=True),
        "max_passes": _MAX_PASSES,
        "max_updates": _MAX_UPDATES,
        "plot_decision_boundary": flag("draw the decision boundary after each update"),
    },
    "xor_network": {
        "learning_rate": _LEARNING_RATE,
        "seed": integer("seed of the starting weights and example order", 0, nullable=True),
        "init": choice("starting weights", "uniform", "zeros", "fixed"),
        "init_range": _INITIAL_RANGE,
        "initial_weights": anything("the fixed starting weights"),
        "hidden_activation": choice(_HIDDEN_ACTIVATION, *NUMPY_ACTIVATIONS),
        "output_activation": choice("activation of the output neuron", *NUMPY_ACTIVATIONS),
        "update_on": choice("which examples update the weights", "every_example", "errors"),
        "threshold": number("output above which the network says 1"),
        "max_passes": _MAX_PASSES,
        "max_updates": _MAX_UPDATES,
    },
    "mnist_network": {
        "hidden_units": integers("width of the one hidden layer", example="[25]"),
        "hidden_activation": choice(_HIDDEN_ACTIVATION, *NUMPY_ACTIVATIONS),
        "output_activation": choice("activation of the output layer", *NUMPY_ACTIVATIONS),
        "init_range": _INITIAL_RANGE,
        "learning_rate": _LEARNING_RATE,
        "epochs": integer("epochs", 0, example="5"),
        "batch_size": integer("examples per update", 1, example="32"),
        "seed": integer("seed (null: a fresh one)", 0, nullable=True),
        "implementation": choice(
            "per-neuron loops, a layer, or matrices", "neuron_loop", "layer", "matrix"
        ),
        "batch_order": choice(
            "order of the examples", "shuffled_examples", "shuffled_batches", "printed_listing"
        ),
        "average_hidden_gradient": flag("average the hidden layer's update over the batch"),
        "test_evaluation": choice("test images counted", "all", "full_batches_quirk"),
        "checkpoint_every": integer("epochs between checkpoints", 1, nullable=True),
        "restore_best": flag("reload the checkpoint with the lowest held-out error"),
    },
    "glove_lookup": {
        "distance": choice("distance between word vectors", "cosine", "euclidean"),
        "k": integer("neighbours listed", 1, example="3"),
        "exclude_inputs": flag("leave the query words out of the answers"),
        "normalize": flag("normalize the vectors"),
        "queries": anything("words or word arithmetic to look up"),
        "rank_checks": anything("[word, expected neighbour] pairs"),
    },
    "data_inspection": {
        "example_index": integer("the example shown (null: the first)", 0, nullable=True),
    },
}
