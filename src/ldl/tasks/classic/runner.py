"""The numpy_program runner: the book's plain Python/NumPy programs (c1e1, c3e1, c13e1) through the same
run-folder contract as a Keras run.

They print exactly what the book prints; the run folder gets the same config.yaml and metrics.json as a
Keras run, so listings, sweeps and the book comparison treat them alike.
"""

from __future__ import annotations

import time
from typing import Any

from omegaconf import DictConfig

from ldl.errors import ConfigError
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode
from ldl.targets import target_of
from ldl.tasks.classic.perceptron import train_perceptron
from ldl.tasks.classic.truth_tables import truth_table
from ldl.tasks.classic.xor_network import train_xor_network


def run_numpy_program(cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say) -> dict[str, Any]:
    """Call the program the `model` config names (`_target_`, e.g. run_perceptron) and time it.

    These programs finish in well under a second, so an interrupted one simply starts again.
    """
    program = target_of(cfg.model, "model")
    started = time.perf_counter()
    metrics = program(cfg, say)
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


def run_perceptron(cfg: DictConfig, say: Say) -> dict[str, Any]:
    """c1e1: Rosenblatt's perceptron on a truth table, printing every weight update as the book."""
    model, data = cfg.model, _truth_table_of(cfg)
    inputs, targets = truth_table(data.table, data.target_encoding)
    result = train_perceptron(
        inputs,
        targets,
        initial_weights=list(model.initial_weights),
        learning_rate=float(model.learning_rate),
        seed=model.seed,
        max_passes=int(model.max_passes),
        print_fn=say,
    )
    return {
        **_training_metrics(result, model.seed),
        **{f"weights/w{i}": float(w) for i, w in enumerate(result.weights)},
    }


def run_xor_network(cfg: DictConfig, say: Say) -> dict[str, Any]:
    """c3e1: the two-level XOR network trained by backpropagation, printed as the book prints it."""
    model = cfg.model
    if _truth_table_of(cfg).table != "xor":
        raise ConfigError("model=xor_network reproduces c3e1 and trains on data=xor only.")
    result = train_xor_network(
        learning_rate=float(model.learning_rate),
        seed=model.seed,
        init_range=float(model.init_range),
        max_passes=int(model.max_passes),
        print_fn=say,
    )
    return {
        **_training_metrics(result, model.seed),
        **{f"output/y{i}": float(y) for i, y in enumerate(result.outputs)},
        **{f"weights/n{n}_w{i}": float(result.weights[n][i]) for n in range(3) for i in range(3)},
    }
