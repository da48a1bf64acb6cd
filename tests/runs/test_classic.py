"""The book's chapter 1 and 3 NumPy examples must print exactly what the book prints."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ldl.tasks.classic.perceptron import Perceptron, format_weights, train_perceptron
from ldl.tasks.classic.truth_tables import truth_table
from ldl.tasks.classic.xor_network import (
    XorNetwork,
    XorResult,
    backprop_step_example,
    single_neuron_chain_step,
    train_xor_network,
)

# --- truth tables ------------------------------------------------------------------------------


def test_truth_table_inputs_are_bias_augmented_in_book_order() -> None:
    inputs, targets = truth_table("nand", "sign")
    assert inputs.dtype == np.float64
    assert inputs.shape == (4, 3)
    np.testing.assert_array_equal(inputs, [[1, -1, -1], [1, -1, 1], [1, 1, -1], [1, 1, 1]])
    np.testing.assert_array_equal(targets, [1, 1, 1, -1])


@pytest.mark.parametrize(
    ("name", "sign", "binary"),
    [
        ("nand", [1, 1, 1, -1], [1, 1, 1, 0]),
        ("or", [-1, 1, 1, 1], [0, 1, 1, 1]),
        ("and", [-1, -1, -1, 1], [0, 0, 0, 1]),
        ("xor", [-1, 1, 1, -1], [0, 1, 1, 0]),
    ],
)
def test_truth_table_targets(name: str, sign: list[int], binary: list[int]) -> None:
    np.testing.assert_array_equal(truth_table(name, "sign")[1], sign)
    np.testing.assert_array_equal(truth_table(name, "binary")[1], binary)


def test_truth_table_returns_fresh_arrays() -> None:
    inputs, targets = truth_table("xor", "binary")
    inputs[0, 0] = 99.0
    targets[0] = 99.0
    again_inputs, again_targets = truth_table("xor", "binary")
    assert again_inputs[0, 0] == 1.0
    assert again_targets[0] == 0.0


def test_truth_table_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="nand, or, and, xor"):
        truth_table("nor", "sign")
    with pytest.raises(ValueError, match="sign, binary"):
        truth_table("nand", "onehot")


# --- chapter 1: perceptron ---------------------------------------------------------------------

BOOK_C1E1_LINES = [
    "w0 =  0.20 , w1 = -0.60 , w2 =  0.25",
    "w0 =  0.30 , w1 = -0.50 , w2 =  0.15",
    "w0 =  0.40 , w1 = -0.40 , w2 =  0.05",
    "w0 =  0.30 , w1 = -0.50 , w2 = -0.05",
    "w0 =  0.40 , w1 = -0.40 , w2 = -0.15",
]


def test_format_weights_matches_book_print(capsys: pytest.CaptureFixture[str]) -> None:
    for w in ([0.2, -0.6, 0.25], [0.4, -0.4, -0.15], [-12.345, 0.005, 1.0]):
        # The book's show_learning, verbatim.
        print("w0 =", "%5.2f" % w[0], ", w1 =", "%5.2f" % w[1], ", w2 =", "%5.2f" % w[2])  # noqa: UP031
        assert format_weights(w) == capsys.readouterr().out.rstrip("\n")


def test_nand_fixture_weighted_sums() -> None:
    perceptron = Perceptron([0.9, -0.6, -0.5])
    points = [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)]
    sums = [perceptron.weighted_sum([1.0, x1, x2]) for x1, x2 in points]
    assert [round(z, 10) for z in sums] == [2.0, 0.8, 1.0, -0.2]
    assert [perceptron.output([1.0, x1, x2]) for x1, x2 in points] == [1, 1, 1, -1]


def test_perceptron_output_zero_is_positive() -> None:
    assert Perceptron([0.0, 0.0, 0.0]).output([1.0, 1.0, 1.0]) == 1


def test_c1e1_prints_book_output(capsys: pytest.CaptureFixture[str]) -> None:
    inputs, targets = truth_table("nand", "sign")
    result = train_perceptron(inputs, targets, initial_weights=[0.2, -0.6, 0.25])
    lines = capsys.readouterr().out.splitlines()
    assert lines == BOOK_C1E1_LINES
    assert result.updates == 4
    assert result.passes == 4
    assert result.converged
    assert [format_weights(w) for w in result.weight_history] == BOOK_C1E1_LINES
    assert result.weights == pytest.approx([0.4, -0.4, -0.15], abs=1e-12)


def test_private_random_matches_global_shuffle() -> None:
    """`random.Random(7)` shuffles exactly like the book's global `random.seed(7)`."""
    saved = random.getstate()
    try:
        random.seed(7)
        global_orders = []
        order = [0, 1, 2, 3]
        for _ in range(20):
            random.shuffle(order)
            global_orders.append(list(order))
    finally:
        random.setstate(saved)
    rng = random.Random(7)
    local_orders = []
    order = [0, 1, 2, 3]
    for _ in range(20):
        rng.shuffle(order)
        local_orders.append(list(order))
    assert local_orders == global_orders


def test_perceptron_does_not_touch_global_random() -> None:
    saved = random.getstate()
    inputs, targets = truth_table("nand", "sign")
    train_perceptron(inputs, targets, [0.2, -0.6, 0.25], print_fn=lambda *args: None)
    assert random.getstate() == saved


def test_perceptron_cannot_learn_xor() -> None:
    inputs, targets = truth_table("xor", "sign")
    printed: list[str] = []
    result = train_perceptron(
        inputs, targets, [0.2, -0.6, 0.25], max_passes=50, print_fn=printed.append
    )
    assert not result.converged
    assert result.passes == 50
    assert result.updates >= 50  # every pass has at least one error
    assert len(printed) == result.updates + 1


def test_perceptron_rejects_bad_arguments() -> None:
    inputs, targets = truth_table("nand", "sign")
    with pytest.raises(ValueError, match="targets"):
        train_perceptron(inputs, targets[:3], [0.2, -0.6, 0.25])
    with pytest.raises(ValueError, match="-1 or \\+1"):
        train_perceptron(inputs, truth_table("nand", "binary")[1], [0.2, -0.6, 0.25])
    with pytest.raises(ValueError, match="must have 4 values"):
        train_perceptron(inputs, targets, [0.2, -0.6, 0.25, 0.0])
    with pytest.raises(ValueError, match="max_passes"):
        train_perceptron(inputs, targets, [0.2, -0.6, 0.25], max_passes=0)


# --- chapter 3: XOR network with backpropagation -----------------------------------------------

BOOK_C3E1_FINAL_WEIGHTS = [
    "Current weights:",
    "neuron  0 : w0 =  0.70 , w1 =  0.77 , w2 =  0.76",
    "neuron  1 : w0 =  0.40 , w1 = -0.58 , w2 = -0.56",
    "neuron  2 : w0 = -0.43 , w1 =  1.01 , w2 =  0.89",
    "----------------",
]
BOOK_C3E1_FINAL_OUTPUTS = [
    "x1 = -1.0 , x2 = -1.0 , y = 0.4255",
    "x1 = -1.0 , x2 =  1.0 , y = 0.6291",
    "x1 =  1.0 , x2 = -1.0 , y = 0.6258",
    "x1 =  1.0 , x2 =  1.0 , y = 0.4990",
]


@pytest.fixture(scope="module")
def c3e1_run() -> tuple[XorResult, list[str]]:
    printed: list[str] = []
    result = train_xor_network(print_fn=lambda *args: printed.append(" ".join(map(str, args))))
    return result, printed


def test_c3e1_converges_after_161_passes(c3e1_run: tuple[XorResult, list[str]]) -> None:
    result, _ = c3e1_run
    assert result.converged
    assert result.passes == 161
    assert result.updates == 644


def test_c3e1_final_printout_matches_book(c3e1_run: tuple[XorResult, list[str]]) -> None:
    result, printed = c3e1_run
    # Per pass: 4 updates x 5 weight lines, then 4 output lines.
    assert len(printed) == 161 * (4 * 5 + 4)
    assert printed[-9:-4] == BOOK_C3E1_FINAL_WEIGHTS
    assert printed[-4:] == BOOK_C3E1_FINAL_OUTPUTS
    assert [round(float(y), 4) for y in result.outputs] == [0.4255, 0.6291, 0.6258, 0.4990]
    np.testing.assert_array_equal(
        np.round(result.weights, 2),
        [[0.70, 0.77, 0.76], [0.40, -0.58, -0.56], [-0.43, 1.01, 0.89]],
    )


def test_c3e1_lines_equal_the_books_print_calls(capsys: pytest.CaptureFixture[str]) -> None:
    """The default print_fn writes to stdout exactly what the book's print statements write.

    The `%` formatting below copies the book's code on purpose.
    """
    result = train_xor_network(max_passes=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 * 5 + 4
    print("Current weights:")
    for i, w in enumerate(result.weights):
        w0, w1, w2 = ("%5.2f" % v for v in w)  # noqa: UP031
        print("neuron ", i, ": w0 =", w0, ", w1 =", w1, ", w2 =", w2)
    print("----------------")
    inputs, _ = truth_table("xor", "binary")
    for x, y in zip(inputs, result.outputs, strict=True):
        print("x1 =", "%4.1f" % x[1], ", x2 =", "%4.1f" % x[2], ", y =", "%.4f" % y)  # noqa: UP031
    assert lines[-9:] == capsys.readouterr().out.splitlines()


def test_c3e1_initial_weights_follow_book_draw_order() -> None:
    saved = np.random.get_state()
    try:
        np.random.seed(3)
        draws = [np.random.uniform(-1.0, 1.0) for _ in range(6)]
    finally:
        np.random.set_state(saved)
    network = XorNetwork.initialize(np.random.RandomState(3))
    np.testing.assert_array_equal(network.weights[:, 0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(network.weights[:, 1:].ravel(), draws)


def test_random_state_instance_matches_global_generator() -> None:
    """Draws and Python-list shuffles of RandomState(3) equal the legacy global generator's."""
    saved = np.random.get_state()
    try:
        np.random.seed(3)
        global_draws = [np.random.uniform(-1.0, 1.0) for _ in range(6)]
        order = [0, 1, 2, 3]
        global_orders = []
        for _ in range(20):
            np.random.shuffle(order)
            global_orders.append(list(order))
    finally:
        np.random.set_state(saved)
    rng = np.random.RandomState(3)
    local_draws = [rng.uniform(-1.0, 1.0) for _ in range(6)]
    order = [0, 1, 2, 3]
    local_orders = []
    for _ in range(20):
        rng.shuffle(order)
        local_orders.append(list(order))
    assert local_draws == global_draws
    assert local_orders == global_orders


def test_xor_network_does_not_touch_global_numpy_state() -> None:
    before = np.random.get_state()
    train_xor_network(max_passes=2, print_fn=lambda *args: None)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_xor_network_stops_at_max_passes() -> None:
    result = train_xor_network(max_passes=3, print_fn=lambda *args: None)
    assert not result.converged
    assert result.passes == 3
    assert result.updates == 12


def test_xor_network_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="learning_rate"):
        train_xor_network(learning_rate=0.0)
    with pytest.raises(ValueError, match="max_passes"):
        train_xor_network(max_passes=0)
    with pytest.raises(ValueError, match="init_range"):
        train_xor_network(init_range=0.0)
    with pytest.raises(ValueError, match="shape"):
        XorNetwork(np.zeros((2, 3)))


def test_backprop_step_matches_hand_worked_example() -> None:
    step = backprop_step_example()
    assert round(step.y_g, 5) == -0.24492
    assert round(step.y_f, 5) == 0.42008
    assert round(step.loss, 5) == 0.16816
    assert round(step.delta_f, 5) == -0.14128
    assert round(step.delta_g, 5) == -0.06640
    assert [round(float(w), 5) for w in step.w_g] == [0.30664, 0.59402, -0.09934]
    assert [round(float(w), 5) for w in step.w_f] == [-0.18587, 0.49654]
    # The book's printed 4-digit values.
    new_weights = [*step.w_g, *step.w_f]
    assert [round(float(w), 4) for w in new_weights] == [0.3066, 0.5940, -0.0993, -0.1859, 0.4965]


def test_chain_step_uses_network_formulas() -> None:
    """A network whose N1 and N0->N2 paths are silenced reduces to the G->F chain."""
    network = XorNetwork([[0.3, 0.6, -0.1], [0.0, 0.0, 0.0], [-0.2, 0.5, 0.0]])
    x = np.array([1.0, -0.9, 0.1])
    network.forward(x)
    network.backward(1.0)
    network.adjust(x, 0.1)
    step = single_neuron_chain_step((-0.9, 0.1), 1.0, (0.3, 0.6, -0.1), (-0.2, 0.5))
    np.testing.assert_array_equal(network.weights[0], step.w_g)
    np.testing.assert_array_equal(network.weights[2][:2], step.w_f)


def test_chain_step_rejects_mismatched_weights() -> None:
    with pytest.raises(ValueError, match="w_g"):
        single_neuron_chain_step((-0.9, 0.1), 1.0, (0.3, 0.6), (-0.2, 0.5))
    with pytest.raises(ValueError, match="w_f"):
        single_neuron_chain_step((-0.9, 0.1), 1.0, (0.3, 0.6, -0.1), (-0.2, 0.5, 0.1))


# --- chapter 1 and 3 options: starting weights, limits, activations, updates, the c1e2 figure ------


def test_initial_weight_policies() -> None:
    from ldl.tasks.classic.perceptron import initial_weights

    assert initial_weights("fixed", [0.2, -0.6, 0.25], 3) == [0.2, -0.6, 0.25]
    assert initial_weights("zeros", [], 3) == [0.0, 0.0, 0.0]
    drawn = initial_weights("uniform", [], 3, init_range=0.5, seed=4)
    assert drawn == initial_weights("uniform", [], 3, init_range=0.5, seed=4)
    assert all(-0.5 <= w <= 0.5 for w in drawn) and len(set(drawn)) == 3
    with pytest.raises(ValueError, match="needs a list of 3 numbers"):
        initial_weights("fixed", [0.1], 3)
    with pytest.raises(ValueError, match="fixed, zeros, uniform"):
        initial_weights("normal", [], 3)  # type: ignore[arg-type]


def test_max_updates_stops_xor_after_the_books_6_and_30_updates() -> None:
    inputs, targets = truth_table("xor", "sign")
    for limit in (6, 30):
        printed: list[str] = []
        result = train_perceptron(
            inputs, targets, [0.2, -0.6, 0.25], max_updates=limit, print_fn=printed.append
        )
        assert result.updates == limit and not result.converged
        assert len(printed) == limit + 1  # the initial weights, then one line per update


def test_c1e2_draws_the_decision_boundary_after_each_printout(make_config, tmp_path):
    from ldl.tasks.classic.decision_boundary import boundary_line, line_colour
    from ldl.training.train import train

    metrics = train(make_config("experiment=c1e2"))
    assert metrics["train/updates"] == 4
    assert (tmp_path / "run" / "decision_boundary.png").stat().st_size > 0
    # x2 = -(w1/w2) x1 - w0/w2 at x1 = -2 and 2, for the final weights and for w2 = 0 (-> 1e-5).
    assert boundary_line([0.4, -0.4, -0.15]) == pytest.approx([8.0, -8.0 / 3.0])
    assert boundary_line([1.0, 1.0, 0.0]) == pytest.approx([2.0 / 1e-5 - 1e5, -2.0 / 1e-5 - 1e5])
    assert [line_colour(i) for i in range(8)] == ["r-", "m-", "y-", "c-", "b-", "g-", "g-", "g-"]


def test_perceptron_options_reach_the_program(make_config, capsys, tmp_path):
    from ldl.training.train import train

    metrics = train(make_config("experiment=c1e1", "data=or", "model.init=zeros"))
    assert metrics["converged"] and metrics["weights/w0"] > 0  # OR: mostly true, a positive bias
    assert capsys.readouterr().out.splitlines()[2] == "w0 =  0.00 , w1 =  0.00 , w2 =  0.00"
    limited = train(
        make_config("experiment=c1e1", "data=and", "model.max_updates=1", run_dir=tmp_path / "and")
    )
    assert limited["train/updates"] == 1 and not limited["converged"]


def test_xor_network_zero_start_never_breaks_the_symmetry() -> None:
    result = train_xor_network(init="zeros", max_passes=50, print_fn=lambda *args: None)
    assert not result.converged
    np.testing.assert_array_equal(result.weights[0], result.weights[1])


def test_xor_network_updates_only_on_errors_and_stops_at_max_updates() -> None:
    every = train_xor_network(max_passes=5, print_fn=lambda *args: None)
    errors = train_xor_network(max_passes=5, update_on="errors", print_fn=lambda *args: None)
    assert every.updates == 20 and errors.updates < 20
    limited = train_xor_network(max_updates=7, print_fn=lambda *args: None)
    assert limited.updates == 7 and limited.passes == 2 and not limited.converged


def test_xor_network_other_activations_and_fixed_start() -> None:
    fixed = [[0.1, 0.5, -0.5], [0.0, 0.7, 0.3], [0.0, 0.9, -0.4]]
    result = train_xor_network(
        init="fixed", initial_weights=fixed, hidden_activation="relu", max_passes=3,
        print_fn=lambda *args: None,
    )  # fmt: skip
    network = XorNetwork(fixed, hidden_activation="relu")
    # Hidden ReLU: N0 = max(0.1 - 0.5 + 0.5, 0) = 0.1, N1 = max(-0.7 - 0.3, 0) = 0; output 0.9 * 0.1.
    assert network.forward(np.array([1.0, -1.0, -1.0])) == pytest.approx(
        1.0 / (1.0 + np.exp(-0.09))
    )
    assert result.passes == 3


def test_xor_network_converges_to_the_configured_threshold() -> None:
    result = train_xor_network(threshold=0.6, print_fn=lambda *args: None)
    assert result.converged and result.passes != 161
    targets = truth_table("xor", "binary")[1]
    assert all((y >= 0.6) == (t == 1.0) for y, t in zip(result.outputs, targets, strict=True))


def test_xor_options_are_config_errors_when_wrong(make_config, tmp_path):
    from ldl.errors import ConfigError
    from ldl.training.train import train

    for index, (override, message) in enumerate((("model.hidden_activation=sign", "no useful derivative"),
                                                  ("model.init=fixed", "initial_weights"),
                                                  ("model.update_on=sometimes", "update_on"))):  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            train(make_config("experiment=c3e1", override, run_dir=tmp_path / str(index)))
