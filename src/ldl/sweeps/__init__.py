"""Sweeps: grids, random and Bayesian search, k-fold cross-validation, and their summaries."""
