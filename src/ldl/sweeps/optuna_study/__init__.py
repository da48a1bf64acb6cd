"""Durable, shareable Optuna studies (`hydra/sweeper=optuna_study`)."""
