"""Runs the book's plain Python/NumPy examples (c1e1, c3e1) through the same run-folder contract.

They print exactly what the book prints; the run folder gets the same config.yaml and metrics.json as a
Keras run, so listings, sweeps and the book comparison treat them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig

from ldl.classic.perceptron import train_perceptron
from ldl.classic.xor_network import train_xor_network
from ldl.data.truth_tables import truth_table
from ldl.errors import ConfigError

CLASSIC_MODELS = ("perceptron", "xor_network", "glove_lookup")


def run_classic(cfg: DictConfig, say: Callable[[str], None]) -> dict[str, Any]:
    """Train a classic model; return its flat metrics (the weights, passes, updates, outputs)."""
    model = cfg.model
    if model.name == "glove_lookup":  # c13e1: no training, nearest-word queries on GloVe vectors
        from ldl.embeddings import run_glove_queries

        started = time.perf_counter()
        metrics = run_glove_queries(cfg.data, model, cfg.data_dir, say)
        return {**metrics, "train_seconds": time.perf_counter() - started, "device": "CPU (NumPy)"}
    if cfg.data.get("task") != "truth_table":
        raise ConfigError(
            f"model={model.name} trains on a truth table (data=nand, data=xor), not data={cfg.data.name}."
        )
    started = time.perf_counter()
    if model.name == "perceptron":
        inputs, targets = truth_table(cfg.data.table, cfg.data.target_encoding)
        result = train_perceptron(
            inputs,
            targets,
            initial_weights=list(model.initial_weights),
            learning_rate=float(model.learning_rate),
            seed=model.seed,
            max_passes=int(model.max_passes),
            print_fn=say,
        )
        metrics: dict[str, Any] = {
            "train/updates": result.updates,
            "train/passes": result.passes,
            "converged": result.converged,
            **{f"weights/w{i}": float(w) for i, w in enumerate(result.weights)},
        }
    elif model.name == "xor_network":
        if cfg.data.table != "xor":
            raise ConfigError("model=xor_network reproduces c3e1 and trains on data=xor only.")
        result = train_xor_network(
            learning_rate=float(model.learning_rate),
            seed=model.seed,
            init_range=float(model.init_range),
            max_passes=int(model.max_passes),
            print_fn=say,
        )
        metrics = {
            "train/updates": result.updates,
            "train/passes": result.passes,
            "converged": result.converged,
            **{f"output/y{i}": float(y) for i, y in enumerate(result.outputs)},
            **{
                f"weights/n{n}_w{i}": float(result.weights[n][i])
                for n in range(3)
                for i in range(3)
            },
        }
    else:
        raise ConfigError(
            f"model={model.name} is not a classic model ({', '.join(CLASSIC_MODELS)})."
        )
    metrics["train_seconds"] = time.perf_counter() - started
    metrics["epochs_completed"] = metrics["train/passes"]
    metrics["seed"] = model.seed
    metrics["device"] = "CPU (plain Python/NumPy)"
    return metrics
