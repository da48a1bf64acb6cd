"""A population's members as one stacked network: the trainable weights of all K members in one
[K, parameters] variable, their optimizer slots likewise (`trainer.population=stacked`, the default
where it applies; `stacking_blockers` names what keeps a population on separate models).

The separate-models loop (`population_loop.py`) runs every member's own Keras `train_step`: besides the
member's arithmetic, each step reads and updates its loss tracker and metric variables, its optimizer's
step counter, and every weight's Adam slots one variable at a time, and those small graph operations,
not the arithmetic, are most of the time of the book's small networks. Stacked, each member's forward
pass, loss, regularization and metric sums are exactly the operations its Keras model runs alone (a
Dense layer's matmul, add and activation; its compiled loss; its regularizers; its metric functions),
on its own rows, so they compute the same bits; everything else is shared: one gather of every
member's batch, one optimizer update over the stacked variables (Adam and SGD are elementwise, and
each member keeps its own step counter: members of different sizes take different numbers of steps),
one set of epoch sums. The objective is the sum of the members' own losses, so the gradient in member
k's row is member k's own gradient, bit for bit. Dropout calls each member's own Dropout layer, so
each member draws its own masks from its own generator.

Measured (c6e1, 5 folds, a loaded 2-core CPU): a batched matmul of the book's shapes costs about
twice K plain ones, and batched bias additions and loss sums associate their sums in another order
(differences of 1e-7 after a few epochs, which 500 epochs of c6e1 amplified to 2 % of val/mae), so
each member's arithmetic stays its own.

`write_back` copies every row back into its member's Keras model and optimizer (checkpoints, the
recorder's snapshot, the final model save all see the member as it would be alone); `load` reads
them (a resumed member's checkpoint).
"""

from __future__ import annotations

import math
from typing import Any

import keras

from ldl.errors import ConfigError
from ldl.training.backend import tf
from ldl.training.graph_loop import _metric_results
from ldl.training.keras_internals import compiled_loss, loss_tracker, metric_values, optimizer_slots

# Autograph would transpile every Keras function these methods call (most of a population's tracing
# time); they have no Python control flow on tensors, so they are traced as written.
_plain_graph = tf.autograph.experimental.do_not_convert

# trainer.population=auto stacks members of at most this many trainable parameters. Measured on a
# loaded 2-core CPU (epochs of 5 members): c6e1's 5,121 parameters about 2x faster stacked than as
# separate models, c6_conf5's 26,625 no clear difference, c5e2's 19,885 (batch 64) about 20 % slower:
# stacking saves a fixed cost per member step and adds copies of every weight per step.
STACKED_PARAMETERS = 10_000

_LAYERS = (keras.layers.InputLayer, keras.layers.Flatten, keras.layers.Dense, keras.layers.Dropout)


def _layer_blockers(model: keras.Model) -> list[str]:
    reasons = []
    previous = None
    for layer in model.layers:
        if type(layer) not in _LAYERS:
            reasons.append(f"the layer {layer.name} is a {type(layer).__name__}")
            continue
        # A chain: each layer reads the output of the layer before it, and nothing else.
        try:
            chained = previous is None or layer.input is previous.output
        except (AttributeError, ValueError):  # a layer called more than once has no one input
            chained = False
        if not chained:
            reasons.append(f"the layer {layer.name} does not read the layer before it")
        previous = layer
        if layer.non_trainable_weights and isinstance(layer, keras.layers.Dense):
            reasons.append(f"the layer {layer.name} is frozen")
        if layer.dtype_policy.compute_dtype != "float32":
            reasons.append(f"the layer {layer.name} computes in {layer.dtype_policy.compute_dtype}")
        if isinstance(layer, keras.layers.Dense):
            for regularizer in (layer.kernel_regularizer, layer.bias_regularizer):
                if regularizer is not None and type(regularizer) is not keras.regularizers.L1L2:
                    reasons.append(f"the layer {layer.name} has a {type(regularizer).__name__}")
            if layer.activity_regularizer is not None or getattr(layer, "lora_enabled", False):
                reasons.append(f"the layer {layer.name} has an activity regularizer or LoRA")
            if getattr(layer, "quantization_mode", None):
                reasons.append(f"the layer {layer.name} is quantized")
        if isinstance(layer, keras.layers.Dropout) and layer.noise_shape is not None:
            reasons.append(f"the dropout layer {layer.name} has a noise shape")
    return reasons


def _optimizer_blockers(optimizer: keras.optimizers.Optimizer) -> list[str]:
    if type(optimizer) not in (keras.optimizers.Adam, keras.optimizers.SGD):
        return [f"the optimizer is {type(optimizer).__name__} (stacked: Adam and SGD)"]
    if getattr(optimizer, "amsgrad", False):
        return ["Adam's amsgrad"]
    settings = optimizer.get_config()
    extras = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "loss_scale_factor")
    used = [name for name in extras if settings.get(name)]
    if settings.get("use_ema") or settings.get("gradient_accumulation_steps"):
        used.append("EMA or gradient accumulation")
    return [f"the optimizer's {', '.join(used)}"] if used else []


def _plain_averaged_loss(model: keras.Model) -> bool:
    """Whether the compiled loss is one Keras loss averaged over the batch (no per-output losses or
    loss weights)."""
    loss = model.loss
    if isinstance(loss, str):
        return True  # a Keras loss by name: averaged over the batch
    if isinstance(loss, keras.losses.Loss):
        return loss.reduction == "sum_over_batch_size"
    return (
        callable(loss) and not isinstance(loss, type) and not getattr(model, "loss_weights", None)
    )


def compiled_metrics(model: keras.Model) -> list[Any]:
    """The compiled metrics (MeanMetricWrappers) in the order their names appear in the results."""
    compiled = [m for m in model.metrics if m is not loss_tracker(model)]
    flat = [metric for group in compiled for metric in getattr(group, "metrics", [group])]
    return [metric for metric in flat if isinstance(metric, keras.metrics.MeanMetricWrapper)]


def arrays_blockers(parts: list[Any]) -> list[str]:
    """Why data made of these parts (features, targets) keep members from being stacked: a part
    that is several arrays is a model with several inputs or outputs."""
    if any(isinstance(part, dict | list | tuple) for part in parts):
        return ["the model has several inputs or outputs"]
    return []


def unstackable(blockers: list[str]) -> ConfigError:
    """trainer.population=stacked's refusal of members that cannot be stacked."""
    return ConfigError(
        "trainer.population=stacked cannot stack these members: " + "; ".join(blockers) + ". "
        "Use trainer.population=auto (which trains them as separate models in one graph where it "
        "can) or trainer.population=separate."
    )


def compiled_model_blockers(model: keras.Model, data_reasons: list[str]) -> list[str]:
    """Why members like this compiled (not yet built) model cannot be stacked, as far as its layers,
    optimizer and loss say (`data_reasons`: what their data says); population.py asks this before
    any member's folder is written."""
    reasons = list(data_reasons)
    reasons += _layer_blockers(model)
    reasons += _optimizer_blockers(model.optimizer)
    if not _plain_averaged_loss(model) or getattr(model, "loss_weights", None):
        reasons.append("the loss is not one plain averaged Keras loss")
    return reasons


def stacking_blockers(models: list[keras.Model], data_reasons: list[str]) -> list[str]:
    """Why these members, built for training, cannot be stacked (`data_reasons`: what their data
    says); empty when they can."""
    model = models[0]
    reasons = compiled_model_blockers(model, data_reasons)
    names = set(_metric_results(model)) - {"loss"}
    metrics = compiled_metrics(model)
    if {metric.name for metric in metrics} != names or len(metrics) != len(names):
        reasons.append("a metric is not a plain mean over examples")
    shapes = [[tuple(w.shape) for w in m.trainable_weights] for m in models]
    if any(shape != shapes[0] for shape in shapes):
        reasons.append("the members' weights differ in shape")
    return reasons


class StackedNetwork:
    """The members' trainable weights as one [K, parameters] variable (its rows the members, each
    row every weight of that member flattened in its model's order), their optimizer slots likewise,
    and a step counter per member. One variable makes the optimizer's update a handful of
    operations for all weights of all members, which is most of what a small network's step costs."""

    def __init__(self, models: list[keras.Model]) -> None:
        self.models = models
        self.count = len(models)
        self.layers = list(zip(*[m.layers for m in models], strict=True))
        self.metrics = compiled_metrics(models[0])
        self.metric_names = [metric.name for metric in self.metrics]
        optimizer = models[0].optimizer
        self.adam = isinstance(optimizer, keras.optimizers.Adam)
        self.momentum = 0.0 if self.adam else float(optimizer.momentum)
        self.nesterov = bool(getattr(optimizer, "nesterov", False))
        # Member k's trainable weights, in its model's order; and where each lies in a row.
        self.pairs = list(zip(*[m.trainable_weights for m in models], strict=True))
        self.shapes = [tuple(int(n) for n in w.shape) for w in models[0].trainable_weights]
        self.sizes = [math.prod(shape) for shape in self.shapes]
        index = {id(w): i for i, w in enumerate(models[0].trainable_weights)}
        self.dense = []  # per Dense layer: the indices of its kernel and bias (None: no bias)
        for layer in models[0].layers:
            if isinstance(layer, keras.layers.Dense):
                bias = index[id(layer.bias)] if layer.use_bias else None
                self.dense.append((index[id(layer.kernel)], bias))
        self.slot_names = ["momentums", "velocities"] if self.adam else []
        if not self.adam and self.momentum:
            self.slot_names = ["momentums"]
        parameters = sum(self.sizes)
        self.weights = tf.Variable(tf.zeros([self.count, parameters]), name="stacked")
        self.slots = {
            name: tf.Variable(tf.zeros([self.count, parameters]), trainable=False, name=name)
            for name in self.slot_names
        }
        self.iterations = tf.Variable(tf.zeros([self.count], tf.int64), trainable=False)
        # The state before the epoch running now: a member's recorder needs it after a non-finite
        # epoch (snapshot.py), and copying four variables per epoch is cheaper than K models' worth.
        self.saved = [tf.Variable(v, trainable=False, name="saved") for v in self._state()]
        self.load()

    def _state(self) -> list[Any]:
        return [self.weights, *self.slots.values(), self.iterations]

    def _member_variables(self, name: str | None) -> list[list[Any]]:
        """Per member, the variables one row of `name` holds: its weights (None) or its optimizer's
        slot `name` (Adam's momentums or velocities, SGD's momentums) of each weight."""
        rows = []
        for k, model in enumerate(self.models):
            weights = [pair[k] for pair in self.pairs]
            if name is None:
                rows.append(weights)
                continue
            rows.append(optimizer_slots(model.optimizer, name, weights))
        return rows

    def _rows(self) -> list[tuple[Any, list[list[Any]]]]:
        """(stacked variable, its members' variables) for the weights and every slot."""
        rows = [(self.weights, self._member_variables(None))]
        rows += [(self.slots[name], self._member_variables(name)) for name in self.slot_names]
        return rows

    def load(self) -> None:
        """Every member's weights, slots and step counter into its row (a start or a resume)."""
        for stacked, members in self._rows():
            flat = [tf.concat([tf.reshape(v.value, [-1]) for v in row], 0) for row in members]
            stacked.assign(tf.stack(flat))
        self.iterations.assign(tf.stack([m.optimizer.iterations.value for m in self.models]))

    @_plain_graph
    def save_in_graph(self) -> None:
        for copy, variable in zip(self.saved, self._state(), strict=True):
            copy.assign(variable)

    @_plain_graph
    def write_back(self, saved: bool = False) -> None:
        """Every row into its member's Keras model and optimizer: the state now, or the state at the
        last `save_in_graph` (usable inside a graph)."""
        sources = dict(zip(map(id, self._state()), self.saved, strict=True)) if saved else {}
        for stacked, members in self._rows():
            source = sources.get(id(stacked), stacked)
            for k, row in enumerate(members):
                pieces = tf.split(source[k], self.sizes)
                for variable, piece, shape in zip(row, pieces, self.shapes, strict=True):
                    variable.assign(tf.reshape(piece, shape))
        iterations = sources.get(id(self.iterations), self.iterations)
        for k, model in enumerate(self.models):
            model.optimizer.iterations.assign(iterations[k])

    @_plain_graph
    def pieces(self) -> list[list[Any]]:
        """Every member's weights as tensors, [member][weight], read from the stacked variable (so
        the gradient of anything computed from them lands in that member's row)."""
        members = []
        for row in tf.unstack(self.weights):
            parts = tf.split(row, self.sizes)
            members.append([tf.reshape(p, s) for p, s in zip(parts, self.shapes, strict=True)])
        return members

    # --- each member's own arithmetic -------------------------------------------------------------
    # Each member's forward pass, loss and metrics are the operations its Keras model runs alone (a
    # Dense layer's matmul, add and activation; its compiled loss; its regularizers; its metric
    # functions), on its own rows only, so they compute the same bits. One optimizer update over the
    # stacked variable (`apply`, elementwise) then does for all members what each optimizer does.

    @_plain_graph
    def forward(self, weights: list[Any], x: Any, k: int, training: bool, takes_step: Any) -> Any:
        """Member k's predictions for its rows `x`. `takes_step`: None, or whether member k takes
        this step (a member sitting out draws no dropout mask, as it takes no step alone)."""
        h = x
        first = self.models[k].inputs[0]
        if (
            h.dtype != first.dtype
        ):  # the model converts its inputs so (Functional._standardize_inputs)
            h = keras.ops.convert_to_tensor(h, dtype=first.dtype)
        dense = iter(self.dense)
        for layers in self.layers:
            layer = layers[k]
            if isinstance(layer, keras.layers.Flatten):
                h = layer(h)
            elif isinstance(layer, keras.layers.Dense):
                kernel, bias = next(dense)
                h = keras.ops.matmul(h, weights[kernel])
                if bias is not None:
                    h = keras.ops.add(h, weights[bias])
                if layer.activation is not None:
                    h = layer.activation(h)
            elif isinstance(layer, keras.layers.Dropout) and training and layer.rate > 0:
                h = self._dropout(layer, h, takes_step)
        return h

    @staticmethod
    def _dropout(layer: keras.layers.Dropout, h: Any, takes_step: Any) -> Any:
        if takes_step is None:
            return layer(h, training=True)
        return tf.cond(takes_step, lambda: layer(h, training=True), lambda: h)

    @_plain_graph
    def loss(self, weights: list[Any], y: Any, predictions: Any, k: int) -> Any:
        """Member k's loss as its train_step computes it: its compiled loss, then its
        regularization losses, summed (Trainer.compute_loss)."""
        model = self.models[k]
        losses = [compiled_loss(model, y, predictions)]
        for variable, weight in zip(model.trainable_weights, weights, strict=True):
            if variable.regularizer is not None:  # Layer._get_regularization_losses, in order
                losses.append(keras.ops.sum(variable.regularizer(weight)))
        return losses[0] if len(losses) == 1 else keras.ops.sum(losses)

    @_plain_graph
    def metric_sums(self, y: Any, predictions: Any) -> list[Any]:
        """What each compiled metric's Keras Mean adds for member k's batch (its values' sum)."""
        return [
            keras.ops.sum(tf.cast(metric_values(metric, y, predictions), tf.float32))
            for metric in self.metrics
        ]

    @_plain_graph
    def apply(self, gradient: Any, active: Any, masked: bool = True) -> None:
        """One optimizer step over the stacked weights for the members that take one (`active` [K]),
        each with its own step counter: the arithmetic of Keras's Adam and SGD update_step. A member
        sitting out adds exact zeros (its gradient is zero, its change multiplied by 0)."""
        optimizer = self.models[0].optimizer
        lr = tf.cast(optimizer.learning_rate, tf.float32)
        taking = tf.cast(active, tf.float32)[:, None]

        def only_taking(change: Any) -> Any:
            # Without `masked` every member takes the step (equal steps per epoch): no multiply.
            return change * taking if masked else change

        weights = self.weights
        if self.adam:
            step = tf.cast(self.iterations + 1, tf.float32)[:, None]
            beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
            m, v = self.slots["momentums"], self.slots["velocities"]
            alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
            m.assign_add(only_taking((gradient - m) * (1 - beta_1)))
            v.assign_add(only_taking((tf.square(gradient) - v) * (1 - beta_2)))
            weights.assign_sub(only_taking((m * alpha) / (tf.sqrt(v) + optimizer.epsilon)))
        elif self.momentum:
            m = self.slots["momentums"]
            new_m = m * self.momentum - gradient * lr
            change = new_m * self.momentum - gradient * lr if self.nesterov else new_m
            m.assign(tf.where(active[:, None], new_m, m))
            weights.assign_add(only_taking(change))
        else:
            weights.assign_sub(only_taking(gradient * lr))
        self.iterations.assign_add(tf.cast(active, tf.int64))
