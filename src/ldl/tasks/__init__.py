"""Code used by one task only, a folder per task. Shared pieces (data loaders, model families, the
trainer) live outside `tasks/`; a task plugs its dataset, model, callbacks and report into them through
its config files, and nothing outside `tasks/` imports a task."""
