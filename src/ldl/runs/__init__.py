"""Run folders: what a run leaves behind (config, metrics, history, model, plots, logs)."""
