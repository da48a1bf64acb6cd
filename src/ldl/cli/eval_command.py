"""`ldl eval run=<run folder> [data_dir=<path>]`: reproduce a run's test metrics from its model."""

from __future__ import annotations

import math

from ldl.cli.arguments import parse_arguments
from ldl.runs.run_folder import RunFolder

USAGE = "usage: ldl eval run=<run folder> [data_dir=<path>]"


def run_eval(arguments: list[str]) -> int:
    values = parse_arguments(
        arguments, {"run": str, "data_dir": str}, USAGE, required=["run"]
    ).values
    from ldl.training.evaluate import evaluate_run

    metrics = evaluate_run(values["run"], values.get("data_dir"))
    recorded = RunFolder(values["run"]).read_metrics()
    print(f"{'metric':<16}{'now':>12}{'at training':>14}")
    mismatches = 0
    for key, value in metrics.items():
        before = recorded.get(key)
        same = isinstance(before, int | float) and math.isclose(
            value, before, rel_tol=1e-5, abs_tol=1e-6
        )
        mismatches += 0 if same else 1
        shown = "-" if before is None else f"{before:.6f}"
        print(f"{key:<16}{value:>12.6f}{shown:>14}{'' if same else '  (differs)'}")
    if mismatches:
        print("Some metrics differ from those recorded at the end of training.")
        return 1
    print("The saved model reproduces the test metrics recorded at the end of training.")
    return 0
