"""The run's first step: seed, threads, precision, determinism and the distribution strategy."""

from __future__ import annotations

import secrets

import keras
from omegaconf import DictConfig

from ldl import tf_setup
from ldl.training.checkpoint import Checkpointer
from ldl.training.distribution import distribution_strategy
from ldl.training.run_context import Runtime


def set_up_runtime(cfg: DictConfig, resume_from: Checkpointer | None) -> Runtime:
    """Seed, threads, precision and determinism, and the distribution strategy, before any model."""
    trainer = cfg.trainer
    saved = resume_from.require_state() if resume_from else None
    if saved:
        seed = saved.seed
    else:
        # An unseeded run (the book's behaviour) draws a seed and records it, so it can be repeated.
        seed = trainer.seed if trainer.seed is not None else secrets.randbelow(2**31 - 1)
    # Fresh layer names for every run of a process (sweep jobs), so checkpoints match their models.
    # Without the full garbage collection Keras adds by default: about 0.4 s a job, and Python
    # collects the previous job's objects anyway.
    keras.backend.clear_session(free_memory=False)
    tf_setup.configure_threads(trainer.threads)
    tf_setup.configure_precision(trainer.precision)
    tf_setup.configure_determinism(seed, trainer.deterministic)
    # Created before the model, which is built under its scope (replicated on every local GPU).
    strategy = distribution_strategy(trainer.get("distribute"))
    device = tf_setup.device_description()
    if strategy.num_replicas_in_sync > 1:
        device += f" ({strategy.num_replicas_in_sync} replicas, {type(strategy).__name__})"
    return Runtime(seed, saved, strategy, device)
