"""The chapter 3 two-level XOR network trained with backpropagation (`c3e1`), digit for digit.

Two tanh hidden neurons feed one logistic output neuron. The book seeds NumPy's legacy global
generator with 3, draws the six non-bias weights one at a time and shuffles a persistent Python
list with `np.random.shuffle`. A private `np.random.RandomState(seed)` produces the same uniform
draws and the same list shuffles as the global functions after `np.random.seed(seed)`, so we use
one instead of touching global state. The formulas keep the book's order of operations so the
float64 results, not just the printed digits, match: the run must stop after exactly 161 passes.

The per-neuron formulas are module-level functions so that the chapter's hand-worked single step
(`single_neuron_chain_step`) exercises the very same code as the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ldl.tasks.classic.activations import Activation, activate, derivative_from_output
from ldl.tasks.classic.perceptron import check_training_loop
from ldl.tasks.classic.truth_tables import truth_table

# The starting weights: uniform (the book: bias weights 0, the others U(-init_range, init_range)),
# zeros (every neuron alike: the two hidden neurons stay identical, so XOR is never learned), or fixed.
XorInit = Literal["uniform", "zeros", "fixed"]
XOR_INITS: tuple[XorInit, ...] = ("uniform", "zeros", "fixed")
# Which examples update the weights: every one (the book) or only those on the wrong side of the
# threshold (like the perceptron rule).
UpdateOn = Literal["every_example", "errors"]
UPDATE_ON: tuple[UpdateOn, ...] = ("every_example", "errors")


def tanh_neuron(weights: np.ndarray, inputs: np.ndarray) -> float:
    """Output of a tanh neuron for a bias-augmented input vector."""
    return np.tanh(np.dot(weights, inputs))


def logistic_neuron(weights: np.ndarray, inputs: np.ndarray) -> float:
    """Output of a logistic-sigmoid neuron for a bias-augmented input vector."""
    z = np.dot(weights, inputs)
    return 1.0 / (1.0 + np.exp(-z))


def squared_error_loss(target: float, output: float) -> float:
    """The book's per-example loss, 1/2 (y - y_hat)^2."""
    return 0.5 * (target - output) ** 2


def output_error_term(target: float, output: float, activation: Activation = "sigmoid") -> float:
    """Error term of an output neuron under the 1/2 squared-error loss.

    delta = dL/dy_hat * f'(z) with dL/dy_hat = -(y - y_hat); for the logistic output
    f'(z) = y_hat (1 - y_hat), grouped as in the book.
    """
    error_prime = -(target - output)
    derivative = derivative_from_output(activation, output)
    return error_prime * derivative


def hidden_error_term(
    outgoing_weight: float, downstream_error: float, output: float, activation: Activation = "tanh"
) -> float:
    """Error term of a hidden neuron feeding one downstream neuron: w * delta_down * f'(z), for tanh
    w * delta_down * (1 - y^2).

    `outgoing_weight` must be the weight *before* this example's update.
    """
    derivative = derivative_from_output(activation, output)
    return outgoing_weight * downstream_error * derivative


def weight_step(inputs: np.ndarray, learning_rate: float, error: float) -> np.ndarray:
    """The amount to subtract from a neuron's weights: inputs * learning_rate * delta."""
    return inputs * learning_rate * error


class XorNetwork:
    """Two tanh hidden neurons (N0, N1) over (1, x1, x2) and a logistic output N2 over (1, y0, y1).

    `weights[k]` holds neuron k's weights (w0 = bias weight, w1, w2). `forward`, `backward` and
    `adjust` must be called in that order for each example, as in the book's training loop.
    """

    def __init__(
        self,
        weights: np.ndarray | Sequence[Sequence[float]],
        hidden_activation: Activation = "tanh",
        output_activation: Activation = "sigmoid",
    ) -> None:
        array = np.array(weights, dtype=np.float64)
        if array.shape != (3, 3):
            raise ValueError(f"weights must have shape (3, 3), got {array.shape}")
        self.weights: np.ndarray = array
        self.outputs: np.ndarray = np.zeros(3)
        self.errors: np.ndarray = np.zeros(3)
        self.hidden_activation: Activation = hidden_activation
        self.output_activation: Activation = output_activation

    @classmethod
    def initialize(
        cls,
        rng: np.random.RandomState,
        init_range: float = 1.0,
        init: XorInit = "uniform",
        fixed_weights: Sequence[Sequence[float]] | None = None,
        hidden_activation: Activation = "tanh",
        output_activation: Activation = "sigmoid",
    ) -> XorNetwork:
        """Book initialization (`uniform`): bias weights 0.0, others U(-init_range, init_range).

        Values are drawn one at a time in the order N0.w1, N0.w2, N1.w1, N1.w2, N2.w1, N2.w2.
        `zeros` and `fixed` (3 rows of w0, w1, w2) draw nothing.
        """
        activations = (hidden_activation, output_activation)
        if init == "zeros":
            return cls(np.zeros((3, 3)), *activations)
        if init == "fixed":
            if fixed_weights is None:
                raise ValueError("init 'fixed' needs initial_weights: 3 rows of (w0, w1, w2)")
            return cls(fixed_weights, *activations)
        if init != "uniform":
            raise ValueError(f"unknown init {init!r}; choose one of: {', '.join(XOR_INITS)}")
        if init_range <= 0:
            raise ValueError(f"init_range must be positive, got {init_range}")
        weights = np.zeros((3, 3))
        for neuron in range(3):
            for i in (1, 2):
                weights[neuron, i] = rng.uniform(-init_range, init_range)
        return cls(weights, *activations)

    def output_inputs(self) -> np.ndarray:
        """The output neuron's bias-augmented input vector (1, y0, y1) from the last forward."""
        return np.array([1.0, self.outputs[0], self.outputs[1]])

    def forward(self, x: np.ndarray) -> float:
        """Compute all neuron outputs for a bias-augmented input; return the network output y2."""
        self.outputs[0] = activate(self.hidden_activation, np.dot(self.weights[0], x))
        self.outputs[1] = activate(self.hidden_activation, np.dot(self.weights[1], x))
        self.outputs[2] = activate(
            self.output_activation, np.dot(self.weights[2], self.output_inputs())
        )
        return float(self.outputs[2])

    def backward(self, target: float) -> None:
        """Compute the error terms of all three neurons from the last forward pass."""
        hidden = self.hidden_activation
        self.errors[2] = output_error_term(target, self.outputs[2], self.output_activation)
        self.errors[0] = hidden_error_term(
            self.weights[2][1], self.errors[2], self.outputs[0], hidden
        )
        self.errors[1] = hidden_error_term(
            self.weights[2][2], self.errors[2], self.outputs[1], hidden
        )

    def adjust(self, x: np.ndarray, learning_rate: float) -> None:
        """Gradient-descent step for every weight, using the error terms from `backward`."""
        self.weights[0] -= weight_step(x, learning_rate, self.errors[0])
        self.weights[1] -= weight_step(x, learning_rate, self.errors[1])
        self.weights[2] -= weight_step(self.output_inputs(), learning_rate, self.errors[2])


def format_neuron_weights(neuron: int, weights: Sequence[float]) -> str:
    """One line of the book's `show_learning` for neuron `neuron`."""
    return (
        f"neuron  {neuron} : w0 = {weights[0]:5.2f} , w1 = {weights[1]:5.2f} , "
        f"w2 = {weights[2]:5.2f}"
    )


def format_output(x: Sequence[float], y: float) -> str:
    """The book's per-example line printed after each pass: inputs and network output."""
    return f"x1 = {x[1]:4.1f} , x2 = {x[2]:4.1f} , y = {y:.4f}"


def _show_learning(network: XorNetwork, print_fn: Callable[..., object]) -> None:
    print_fn("Current weights:")
    for neuron, weights in enumerate(network.weights):
        print_fn(format_neuron_weights(neuron, weights))
    print_fn("----------------")


@dataclass
class XorResult:
    """Outcome of `train_xor_network`.

    `outputs` are the network outputs for the four rows in the original (unshuffled) order after
    the last pass; `passes` includes the final pass; `updates` counts per-example weight updates.
    """

    weights: np.ndarray
    outputs: np.ndarray
    passes: int
    updates: int
    converged: bool


def _wrong_side(target: float, output: float, threshold: float) -> bool:
    """True when the output lies on the wrong side of the threshold for a 0/1 target."""
    return (target < 0.5 and output >= threshold) or (target >= 0.5 and output < threshold)


def _check_settings(
    learning_rate: float, max_passes: int, max_updates: int | None, update_on: str
) -> None:
    check_training_loop(learning_rate, max_passes, max_updates)
    if update_on not in UPDATE_ON:
        raise ValueError(f"unknown update_on {update_on!r}; choose one of: {', '.join(UPDATE_ON)}")


def _print_outputs(
    network: XorNetwork,
    x_train: list[Any],  # the truth table's rows (NumPy arrays)
    y_train: list[float],
    outputs: np.ndarray,
    threshold: float,
    print_fn: Callable[..., object],
) -> bool:
    """Run the four rows in their original order, print them (the book's check after each pass) and
    say whether every output is on the correct side of `threshold`; `outputs` receives them."""
    all_correct = True
    for i, (x, y) in enumerate(zip(x_train, y_train, strict=True)):
        outputs[i] = network.forward(x)
        print_fn(format_output(x, outputs[i]))
        if _wrong_side(y, outputs[i], threshold):
            all_correct = False
    return all_correct


def train_xor_network(
    learning_rate: float = 0.1,
    seed: int | None = 3,
    init_range: float = 1.0,
    max_passes: int = 10000,
    print_fn: Callable[..., object] = print,
    init: XorInit = "uniform",
    initial_weights: Sequence[Sequence[float]] | None = None,
    hidden_activation: Activation = "tanh",
    output_activation: Activation = "sigmoid",
    update_on: UpdateOn = "every_example",
    threshold: float = 0.5,
    max_updates: int | None = None,
) -> XorResult:
    """Train the two-level network on XOR with the book's loop (c3e1) and its printout.

    Every example updates the weights, even a correctly classified one (`update_on="errors"`: only
    those on the wrong side of `threshold`), and the weights are printed after each update. After each
    pass the four rows are run in their original order and printed; training stops when every output
    is on the correct side of `threshold` (0.5), or with `converged=False` after `max_passes` passes
    or `max_updates` updates (the book warns convergence is not guaranteed).
    """
    _check_settings(learning_rate, max_passes, max_updates, update_on)
    inputs, targets = truth_table("xor", "binary")
    x_train = list(inputs)
    y_train = [float(t) for t in targets]

    rng = np.random.RandomState(seed)
    network = XorNetwork.initialize(
        rng, init_range, init, initial_weights, hidden_activation, output_activation
    )
    # A Python list, as in the book: RandomState.shuffle permutes it exactly like np.random.shuffle.
    index_list = list(range(len(x_train)))
    outputs = np.zeros(len(x_train))
    passes = 0
    updates = 0
    all_correct = False
    while not all_correct and passes < max_passes and updates != max_updates:
        passes += 1
        rng.shuffle(index_list)
        for i in index_list:
            if updates == max_updates:
                break
            output = network.forward(x_train[i])
            if update_on == "errors" and not _wrong_side(y_train[i], output, threshold):
                continue
            network.backward(y_train[i])
            network.adjust(x_train[i], learning_rate)
            updates += 1
            _show_learning(network, print_fn)
        all_correct = _print_outputs(network, x_train, y_train, outputs, threshold, print_fn)

    return XorResult(
        weights=network.weights.copy(),
        outputs=outputs,
        passes=passes,
        updates=updates,
        converged=all_correct,
    )


@dataclass
class ChainStepResult:
    """Every intermediate value of one backprop step through a tanh neuron G and logistic F."""

    y_g: float
    y_f: float
    loss: float
    delta_f: float
    delta_g: float
    w_g: np.ndarray
    w_f: np.ndarray


def single_neuron_chain_step(
    x: Sequence[float],
    y: float,
    w_g: Sequence[float],
    w_f: Sequence[float],
    learning_rate: float = 0.1,
) -> ChainStepResult:
    """One forward/backward/update step of a tanh neuron G feeding a logistic neuron F.

    `x` holds the inputs without the bias (the bias input 1.0 is prepended); `w_g` = (w_xg0, w_xg1,
    ...) and `w_f` = (w_gf0, w_gf1). Uses the same formulas as `XorNetwork`, so the chapter's
    hand-worked example checks the network's backpropagation.
    """
    x_aug = np.array([1.0, *x], dtype=np.float64)
    weights_g = np.array(w_g, dtype=np.float64)
    weights_f = np.array(w_f, dtype=np.float64)
    if weights_g.shape != x_aug.shape:
        raise ValueError(f"w_g needs {x_aug.size} weights (bias first), got {weights_g.size}")
    if weights_f.shape != (2,):
        raise ValueError(f"w_f needs 2 weights (bias, weight from G), got {weights_f.size}")

    y_g = tanh_neuron(weights_g, x_aug)
    f_inputs = np.array([1.0, y_g])
    y_f = logistic_neuron(weights_f, f_inputs)
    delta_f = output_error_term(y, y_f)
    delta_g = hidden_error_term(weights_f[1], delta_f, y_g)
    return ChainStepResult(
        y_g=float(y_g),
        y_f=float(y_f),
        loss=float(squared_error_loss(y, y_f)),
        delta_f=float(delta_f),
        delta_g=float(delta_g),
        w_g=weights_g - weight_step(x_aug, learning_rate, delta_g),
        w_f=weights_f - weight_step(f_inputs, learning_rate, delta_f),
    )


def backprop_step_example() -> ChainStepResult:
    """The chapter 3 hand-worked step: x = (-0.9, 0.1), y = 1.0, learning rate 0.1."""
    return single_neuron_chain_step(
        x=(-0.9, 0.1), y=1.0, w_g=(0.3, 0.6, -0.1), w_f=(-0.2, 0.5), learning_rate=0.1
    )
