"""The chapter 4 MNIST network in plain NumPy (`c4e2`) and its Appendix F forms (`aFe1`, `aFe2`).

784 inputs -> 25 tanh neurons -> 10 logistic-sigmoid neurons, fully connected, float64. Each neuron keeps its
bias weight at index 0 of its weight row (the input vector and the hidden output vector get a leading
1.0), bias weights start at 0 and every other weight is U(-0.1, 0.1), drawn one value at a time from
NumPy's legacy generator: hidden neuron 0's 784 weights, then neuron 1's, ..., then the output layer's
rows. The loss per example is sum 1/2 (y - y_hat)^2 over the ten outputs.

Three ways to compute the same per-example step (`implementation`), a performance choice only:

- `neuron_loop`: the chapter 4 listing as written, a Python loop over neurons with one dot product
  each (slow: about ten times slower than `layer`);
- `layer`: the chapter 4 arithmetic one layer at a time (a matrix-vector product per layer, the update
  of neuron i still (x * learning_rate) * delta_i): c4e2's default;
- `matrix`: Appendix F's first listing (aFe1), whose update is outer(delta, x) * learning_rate.

They differ only in floating-point summation order, which moves the numbers in later epochs (the book
notes the same between machines); epochs 0 and 1 print identically. Batch sizes above 1 use Appendix
F's mini-batch form (aFe2): examples are columns, the update is the batch mean of the per-example
outer products times the learning rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ldl.tasks.classic.activations import Activation, activate, derivative_from_output

Implementation = Literal["neuron_loop", "layer", "matrix"]
IMPLEMENTATIONS: tuple[Implementation, ...] = ("neuron_loop", "layer", "matrix")
# How mini-batches are formed each epoch. `shuffled_examples`: reshuffle the examples, then cut
# consecutive batches (with batch size 1 this is chapter 4's loop). `shuffled_batches`: the book's
# example code for Appendix F, which shuffles the order of fixed contiguous batches. `printed_listing`:
# Appendix F's printed listing, whose loop ignores its shuffle (file order) and skips the last batch.
BatchOrder = Literal["shuffled_examples", "shuffled_batches", "printed_listing"]
BATCH_ORDERS: tuple[BatchOrder, ...] = ("shuffled_examples", "shuffled_batches", "printed_listing")
# `all`: every test example. `full_batches_quirk`: Appendix F's listings evaluate batches starting
# at 0, B, ... below N - B (9,984 of 10,000 images for B = 32) but divide by N.
TestEvaluation = Literal["all", "full_batches_quirk"]
TEST_EVALUATIONS: tuple[TestEvaluation, ...] = ("all", "full_batches_quirk")


@dataclass
class TwoLayerNetwork:
    """Weights of a fully connected network with one hidden layer; column 0 holds the bias weights."""

    hidden_weights: np.ndarray  # (hidden units, inputs + 1)
    output_weights: np.ndarray  # (outputs, hidden units + 1)
    hidden_activation: Activation = "tanh"
    output_activation: Activation = "sigmoid"

    @classmethod
    def initialize(
        cls,
        rng: np.random.RandomState,
        inputs: int = 784,
        hidden_units: int = 25,
        outputs: int = 10,
        init_range: float = 0.1,
        hidden_activation: Activation = "tanh",
        output_activation: Activation = "sigmoid",
    ) -> TwoLayerNetwork:
        """The book's initialization: bias weights 0, the others U(-init_range, init_range) in
        neuron order (a neuron's `size=n` draw yields the same values as n single draws)."""
        if init_range <= 0:
            raise ValueError(f"init_range must be positive, got {init_range}")
        for name, count in (
            ("inputs", inputs),
            ("hidden_units", hidden_units),
            ("outputs", outputs),
        ):
            if count < 1:
                raise ValueError(f"{name} must be at least 1, got {count}")

        def layer(neurons: int, layer_inputs: int) -> np.ndarray:
            weights = np.zeros((neurons, layer_inputs + 1))
            for i in range(neurons):
                weights[i, 1:] = rng.uniform(-init_range, init_range, size=layer_inputs)
            return weights

        hidden = layer(hidden_units, inputs)
        return cls(hidden, layer(outputs, hidden_units), hidden_activation, output_activation)

    def copy(self) -> TwoLayerNetwork:
        return TwoLayerNetwork(
            self.hidden_weights.copy(),
            self.output_weights.copy(),
            self.hidden_activation,
            self.output_activation,
        )

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Outputs (N, outputs) for examples as rows (N, inputs), without the bias input."""
        outputs = [np.zeros((0, len(self.output_weights)))]
        for start in range(0, len(x), batch_size):
            rows = x[start : start + batch_size]
            inputs = np.concatenate((np.ones((len(rows), 1)), rows), axis=1)
            hidden_y = activate(self.hidden_activation, inputs @ self.hidden_weights.T)
            hidden = np.concatenate((np.ones((len(rows), 1)), hidden_y), axis=1)
            outputs.append(activate(self.output_activation, hidden @ self.output_weights.T))
        return np.concatenate(outputs)


def _step_layer(net: TwoLayerNetwork, x: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Chapter 4's per-example forward, backward and update, one array operation per layer."""
    hidden = np.empty(len(net.hidden_weights) + 1)
    hidden[0] = 1.0
    hidden[1:] = activate(net.hidden_activation, net.hidden_weights @ x)
    output = activate(net.output_activation, net.output_weights @ hidden)
    output_error = -(target - output) * derivative_from_output(net.output_activation, output)
    hidden_error = (net.output_weights[:, 1:].T @ output_error) * derivative_from_output(
        net.hidden_activation, hidden[1:]
    )
    # Neuron i's update is (x * rate) * delta_i, the listing's order of operations.
    net.hidden_weights -= np.multiply.outer(hidden_error, x * rate)
    net.output_weights -= np.multiply.outer(output_error, hidden * rate)
    return output


def _step_matrix(
    net: TwoLayerNetwork,
    x: np.ndarray,
    target: np.ndarray,
    rate: float,
    scratch: tuple[np.ndarray, np.ndarray] | tuple[None, None] = (None, None),
) -> np.ndarray:
    """Appendix F's matrix form (aFe1): matmul per layer, update outer(delta, input) * rate.

    `scratch`: two arrays shaped as the hidden and output weights that receive the updates (run_epoch
    allocates them once per epoch). The same numbers, without allocating 160 KB twice per example:
    an allocation that size is a system call each time, about 7 % of an example's time."""
    hidden_update, output_update = scratch
    hidden_z: np.ndarray = np.matmul(net.hidden_weights, x)
    hidden_y = activate(net.hidden_activation, hidden_z)
    hidden = np.concatenate((np.array([1.0]), hidden_y))
    output_z: np.ndarray = np.matmul(net.output_weights, hidden)
    output = activate(net.output_activation, output_z)
    output_error = -(target - output) * derivative_from_output(net.output_activation, output)
    hidden_error = derivative_from_output(net.hidden_activation, hidden_y) * np.matmul(
        net.output_weights[:, 1:].T, output_error
    )
    hidden_update = np.outer(hidden_error, x, out=hidden_update)
    net.hidden_weights -= np.multiply(hidden_update, rate, out=hidden_update)
    output_update = np.outer(output_error, hidden, out=output_update)
    net.output_weights -= np.multiply(output_update, rate, out=output_update)
    return output


def _step_neuron_loop(
    net: TwoLayerNetwork, x: np.ndarray, target: np.ndarray, rate: float
) -> np.ndarray:
    """Chapter 4's listing as written: one dot product and one update per neuron."""
    hidden_y = np.zeros(len(net.hidden_weights))
    for i, w in enumerate(net.hidden_weights):
        hidden_y[i] = activate(net.hidden_activation, np.dot(w, x))
    hidden = np.concatenate((np.array([1.0]), hidden_y))
    output = np.zeros(len(net.output_weights))
    for i, w in enumerate(net.output_weights):
        output[i] = activate(net.output_activation, np.dot(w, hidden))
    output_error = np.zeros(len(output))
    for i, y in enumerate(output):
        output_error[i] = -(target[i] - y) * derivative_from_output(net.output_activation, y)
    hidden_error = np.zeros(len(hidden_y))
    for i, y in enumerate(hidden_y):
        error_weights = np.array([w[i + 1] for w in net.output_weights])
        weighted_error = np.dot(error_weights, output_error)
        hidden_error[i] = weighted_error * derivative_from_output(net.hidden_activation, y)
    for i, error in enumerate(hidden_error):
        net.hidden_weights[i] -= x * rate * error
    for i, error in enumerate(output_error):
        net.output_weights[i] -= hidden * rate * error
    return output


_STEPS: dict[Implementation, Callable[..., np.ndarray]] = {
    "neuron_loop": _step_neuron_loop,
    "layer": _step_layer,
    "matrix": _step_matrix,
}


def train_example(
    net: TwoLayerNetwork,
    x: np.ndarray,
    target: np.ndarray,
    learning_rate: float,
    implementation: Implementation = "layer",
) -> np.ndarray:
    """One example's forward pass, backward pass and update; returns the output before the update.

    `x` is the bias-augmented input (1.0 first); `target` the one-hot row.
    """
    return _STEPS[implementation](net, x, target, learning_rate)


def train_batch(
    net: TwoLayerNetwork,
    x: np.ndarray,
    targets: np.ndarray,
    learning_rate: float,
    average_hidden_gradient: bool = True,
) -> np.ndarray:
    """Appendix F's mini-batch step (aFe2): examples are the columns of `x` (bias row of ones first)
    and of `targets`; returns the outputs (outputs, B) before the update.

    The update is the batch mean of the per-example outer products times the learning rate.
    `average_hidden_gradient=False` reproduces the printed listing, which divides only the output
    layer's update by the batch size (the hidden layer's steps are then B times larger).
    """
    batch = x.shape[1]
    hidden_y = activate(net.hidden_activation, net.hidden_weights @ x)
    hidden = np.concatenate((np.ones((1, batch)), hidden_y))
    output = activate(net.output_activation, net.output_weights @ hidden)
    output_error = -(targets - output) * derivative_from_output(net.output_activation, output)
    hidden_error = derivative_from_output(net.hidden_activation, hidden_y) * (
        net.output_weights[:, 1:].T @ output_error
    )
    hidden_step = (hidden_error @ x.T) * learning_rate
    if average_hidden_gradient:
        hidden_step /= batch
    net.hidden_weights -= hidden_step
    net.output_weights -= (output_error @ hidden.T) * learning_rate / batch
    return output


@dataclass
class EpochResult:
    """One line of the book's printout: `epoch no: e , train_acc: a , test_acc: b`."""

    epoch: int  # counted from 0, as the book prints it
    train_accuracy: float
    test_accuracy: float


def format_epoch(result: EpochResult, held_out: str = "test") -> str:
    """The book's `show_learning` line, character for character."""
    return (
        f"epoch no: {result.epoch} , train_acc:  {result.train_accuracy:6.4f} , "
        f"{held_out}_acc:  {result.test_accuracy:6.4f}"
    )


@dataclass
class TrainingState:
    """Everything that determines the rest of a run: a resumed run continues from it exactly."""

    network: TwoLayerNetwork
    rng: np.random.RandomState
    order: np.ndarray  # the persistent index list the epochs shuffle in place
    history: list[EpochResult] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        seed: int | None,
        examples: int,
        inputs: int,
        outputs: int,
        hidden_units: int = 25,
        init_range: float = 0.1,
        hidden_activation: Activation = "tanh",
        output_activation: Activation = "sigmoid",
        batch_size: int = 1,
        batch_order: BatchOrder = "shuffled_examples",
    ) -> TrainingState:
        # A private RandomState(seed) draws and shuffles exactly as the book's np.random.seed(seed).
        rng = np.random.RandomState(seed)
        network = TwoLayerNetwork.initialize(
            rng, inputs, hidden_units, outputs, init_range, hidden_activation, output_activation
        )
        # The shuffled list: example indices, or the indices of fixed contiguous batches.
        count = examples // batch_size if batch_order == "shuffled_batches" else examples
        return cls(network, rng, np.arange(count))


def _batches(order: np.ndarray, examples: int, batch_size: int, batch_order: BatchOrder):
    """The example indices of each batch of one epoch (after the epoch's shuffle)."""
    if batch_order == "shuffled_batches":
        for batch in order:
            yield np.arange(batch * batch_size, (batch + 1) * batch_size)
    elif batch_order == "printed_listing":
        for start in range(0, examples - batch_size, batch_size):
            yield np.arange(start, start + batch_size)
    else:
        for start in range(0, examples, batch_size):
            yield order[start : start + batch_size]


def count_correct(
    net: TwoLayerNetwork,
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 1,
    test_evaluation: TestEvaluation = "all",
) -> int:
    """Examples whose largest output is at their label. The quirk evaluates only full batches below
    N - B, as Appendix F's listings do."""
    if test_evaluation == "full_batches_quirk" and batch_size > 1:
        kept = len(range(0, len(x) - batch_size, batch_size)) * batch_size
        x, labels = x[:kept], labels[:kept]
    return int(np.sum(net.predict(x).argmax(axis=1) == labels))


def run_epoch(
    state: TrainingState,
    x_train: np.ndarray,
    y_train: np.ndarray,
    learning_rate: float,
    batch_size: int = 1,
    implementation: Implementation = "layer",
    batch_order: BatchOrder = "shuffled_examples",
    average_hidden_gradient: bool = True,
) -> float:
    """Shuffle, then train on every example (or batch) in that order; return the training accuracy
    counted before each update, over all training examples (the book divides by N)."""
    # Every order draws its shuffle, as the listings do (the printed listing shuffles a list it never
    # reads), so the generator's state after an epoch does not depend on the batch order.
    state.rng.shuffle(state.order)
    examples = len(x_train)
    labels = y_train.argmax(axis=1)
    net = state.network
    correct = 0
    if batch_size == 1 and batch_order != "printed_listing":
        inputs = np.empty(x_train.shape[1] + 1)
        inputs[0] = 1.0
        if implementation == "matrix":  # its updates computed into two arrays made once
            scratch = (np.empty_like(net.hidden_weights), np.empty_like(net.output_weights))
            for j in state.order:
                inputs[1:] = x_train[j]
                output = _step_matrix(net, inputs, y_train[j], learning_rate, scratch)
                correct += int(output.argmax() == labels[j])
            return correct / examples
        for j in state.order:
            inputs[1:] = x_train[j]
            output = train_example(net, inputs, y_train[j], learning_rate, implementation)
            correct += int(output.argmax() == labels[j])
        return correct / examples
    for rows in _batches(state.order, examples, batch_size, batch_order):
        x = np.concatenate((np.ones((1, len(rows))), x_train[rows].T))
        output = train_batch(net, x, y_train[rows].T, learning_rate, average_hidden_gradient)
        correct += int(np.sum(output.argmax(axis=0) == labels[rows]))
    return correct / examples
