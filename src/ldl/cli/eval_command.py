"""`ldl eval run=<run folder> [data_dir=<path>]`: reproduce a run's test metrics from its model."""

from __future__ import annotations

import math
from typing import Literal

from ldl.cli.arguments import parse_arguments
from ldl.runs.run_folder import RunFolder

USAGE = "usage: ldl eval run=<run folder> [data_dir=<path>]"

Agreement = Literal["same", "differs", "not recorded"]


def agreement(now: float, before: object) -> Agreement:
    """A metric measured now against the value metrics.json recorded (None when it has none)."""
    if not isinstance(before, int | float):
        return "not recorded"
    same = math.isclose(now, before, rel_tol=1e-5, abs_tol=1e-6)
    return "same" if same else "differs"


def comparison_table(now: dict[str, float], recorded: dict[str, object]) -> list[str]:
    """One aligned line per metric; the first column is as wide as the longest metric name (a
    multi-output run has names such as test/answer_accuracy)."""
    width = max([len("metric"), *map(len, now)]) + 2
    lines = [f"{'metric':<{width}}{'now':>12}{'at training':>14}"]
    for key, value in now.items():
        before = recorded.get(key)
        shown = f"{before:.6f}" if isinstance(before, int | float) else "-"
        verdict = agreement(value, before)
        note = "" if verdict == "same" else f"  ({verdict})"
        lines.append(f"{key:<{width}}{value:>12.6f}{shown:>14}{note}")
    return lines


def run_eval(arguments: list[str]) -> int:
    values = parse_arguments(
        arguments, {"run": str, "data_dir": str}, USAGE, required=["run"]
    ).values
    from ldl.training.evaluate import evaluate_run

    metrics = evaluate_run(values["run"], values.get("data_dir"))
    recorded = RunFolder(values["run"]).read_metrics()
    print("\n".join(comparison_table(metrics, recorded)))
    verdicts = [agreement(value, recorded.get(key)) for key, value in metrics.items()]
    if "differs" in verdicts:
        print("Some metrics differ from those recorded at the end of training.")
        return 1
    if set(verdicts) == {"not recorded"}:
        # k-fold runs never look at the test set, so there is nothing to compare with.
        print(
            "The run recorded no test metrics to compare with (a k-fold run does not measure the "
            "test set); the values above are measured now."
        )
        return 0
    print("The saved model reproduces the test metrics recorded at the end of training.")
    return 0
