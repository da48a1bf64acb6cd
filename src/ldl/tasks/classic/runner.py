"""The numpy_program runner: the book's plain Python/NumPy programs (c1e1, c3e1, c4e2, c13e1) through the same
run-folder contract as a Keras run.

They print exactly what the book prints; the run folder gets the same config.yaml and metrics.json as a
Keras run, so listings, sweeps and the book comparison treat them alike.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

from omegaconf import DictConfig

from ldl.errors import ConfigError
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode
from ldl.targets import plain, target_of
from ldl.tasks.classic.activations import check_activation
from ldl.tasks.classic.perceptron import initial_weights, train_perceptron
from ldl.tasks.classic.truth_tables import truth_table
from ldl.tasks.classic.xor_network import train_xor_network


def run_numpy_program(cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say) -> dict[str, Any]:
    """Call the program the `model` config names (`_target_`, e.g. run_perceptron) and time it.

    A program is `(cfg, say) -> metrics`; one that writes files or checkpoints also declares `run`
    and `mode` (the MNIST network of chapter 4 resumes from its last epoch). The others finish in
    well under a second, so an interrupted one simply starts again.
    """
    program = target_of(cfg.model, "model")
    parameters = inspect.signature(program).parameters
    extra = {name: value for name, value in (("run", run), ("mode", mode)) if name in parameters}
    started = time.perf_counter()
    metrics = program(cfg, say, **extra)
    return {"train_seconds": time.perf_counter() - started, **metrics}


def _truth_table_of(cfg: DictConfig) -> Any:
    if cfg.data.task != "truth_table":
        raise ConfigError(
            f"model={cfg.model.name} trains on a truth table (data=nand, data=xor), not "
            f"data={cfg.data.name}."
        )
    return cfg.data


def _training_metrics(result: Any, seed: int | None) -> dict[str, Any]:
    """What every classic program reports: updates, passes (its epochs), convergence, seed, device."""
    return {
        "train/updates": result.updates,
        "train/passes": result.passes,
        "epochs_completed": result.passes,
        "converged": result.converged,
        "seed": seed,
        "device": "CPU (plain Python/NumPy)",
    }


def _optional_limit(model: DictConfig, key: str) -> int | None:
    value = model.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"model.{key} must be null or an integer >= 0, got {value!r}.")
    return value


def run_perceptron(cfg: DictConfig, say: Say, run: RunFolder) -> dict[str, Any]:
    """c1e1, c1e2: Rosenblatt's perceptron on a truth table, printing every weight update as the book;
    c1e2 also draws the decision boundary after each printout."""
    model, data = cfg.model, _truth_table_of(cfg)
    inputs, targets = truth_table(data.table, data.target_encoding)
    try:
        weights = initial_weights(
            model.init, list(model.initial_weights), inputs.shape[1], float(model.init_range),
            model.init_seed,
        )  # fmt: skip
        result = train_perceptron(
            inputs,
            targets,
            initial_weights=weights,
            learning_rate=float(model.learning_rate),
            seed=model.seed,
            max_passes=int(model.max_passes),
            print_fn=say,
            max_updates=_optional_limit(model, "max_updates"),
        )
    except ValueError as error:
        raise ConfigError(f"model={model.name}: {error}.") from None
    if model.plot_decision_boundary:
        # Matplotlib only for the plot (c1e2): c1e1's whole process then starts in about a second.
        from ldl.tasks.classic.decision_boundary import plot_decision_boundaries

        path = run.path / "decision_boundary.png"
        plot_decision_boundaries(
            path, inputs, targets, result.weight_history,
            f"{cfg.experiment_id}: perceptron on {data.table.upper()}",
        )  # fmt: skip
        say(f"Decision boundaries after each printout: {path.name}")
    return {
        **_training_metrics(result, model.seed),
        **{f"weights/w{i}": float(w) for i, w in enumerate(result.weights)},
    }


def run_xor_network(cfg: DictConfig, say: Say) -> dict[str, Any]:
    """c3e1: the two-level XOR network trained by backpropagation, printed as the book prints it."""
    model = cfg.model
    if _truth_table_of(cfg).table != "xor":
        raise ConfigError("model=xor_network reproduces c3e1 and trains on data=xor only.")
    try:
        result = train_xor_network(
            learning_rate=float(model.learning_rate),
            seed=model.seed,
            init_range=float(model.init_range),
            max_passes=int(model.max_passes),
            print_fn=say,
            init=model.init,
            initial_weights=None if model.initial_weights is None else plain(model.initial_weights),
            hidden_activation=check_activation(model.hidden_activation, "hidden"),
            output_activation=check_activation(model.output_activation, "output"),
            update_on=model.update_on,
            threshold=float(model.threshold),
            max_updates=_optional_limit(model, "max_updates"),
        )
    except ValueError as error:
        raise ConfigError(f"model={model.name}: {error}.") from None
    return {
        **_training_metrics(result, model.seed),
        **{f"output/y{i}": float(y) for i, y in enumerate(result.outputs)},
        **{f"weights/n{n}_w{i}": float(result.weights[n][i]) for n in range(3) for i in range(3)},
    }
