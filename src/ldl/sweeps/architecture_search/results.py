"""What an architecture search leaves in its sweep folder, rebuilt from the folder alone.

- search.csv and search.md: every candidate (phase, layers in `model=cnn` syntax, estimated and real
  weight count, score, seconds, status);
- search_progress.png: the score of every evaluation with the best-so-far line, phases in colour;
- best_experiment.yaml: the best definition as a ready experiment config;
- tensorboard/: `search/score` and `search/best_so_far` per evaluation.
`ldl summarize <sweep folder>` calls the same function, also for a search that was killed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from ldl.runs.files import atomic_write_text, read_json
from ldl.sweeps.architecture_search.state import job_folder, read_state

COLUMNS = ("index", "phase", "status", "score", "estimated_weights", "weights", "seconds", "layers")


def search_table(sweep_dir: Path) -> pd.DataFrame:
    """One row per candidate the search drew; jobs that never ran say `not started`."""
    state = read_state(sweep_dir)
    rows = []
    for candidate in state["candidates"]:
        folder = job_folder(sweep_dir, candidate["index"], state["experiment_id"])
        metrics = read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
        status = metrics.get("status", "not started")
        score = metrics.get("test/accuracy" if candidate["phase"] == "final" else "val/accuracy")
        rows.append(
            {
                "index": candidate["index"],
                "phase": candidate["phase"],
                "status": "interrupted" if status == "running" else status,
                "score": 0.0 if status == "failed" else score,
                "estimated_weights": candidate["estimated_weights"],
                "weights": metrics.get("parameters"),
                "seconds": metrics.get("train_seconds"),
                "layers": ",".join(candidate["layers"]),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_search_results(sweep_dir: Path) -> pd.DataFrame:
    table = search_table(sweep_dir)
    atomic_write_text(sweep_dir / "search.csv", table.to_csv(index=False))
    atomic_write_text(sweep_dir / "search.md", _markdown(sweep_dir, table))
    searched = table[table["phase"] != "final"]
    _plot_progress(searched, sweep_dir / "search_progress.png")
    _write_tensorboard(searched, sweep_dir / "tensorboard")
    best = _best_row(searched)
    if best is not None:
        atomic_write_text(sweep_dir / "best_experiment.yaml", _experiment_yaml(sweep_dir, best))
    return table


def _best_row(table: pd.DataFrame) -> Any:
    scored = table.dropna(subset=["score"])
    if scored.empty:
        return None
    return scored.loc[scored["score"].idxmax()]  # the first of equal scores, as the search keeps


def _markdown(sweep_dir: Path, table: pd.DataFrame) -> str:
    state = read_state(sweep_dir)
    searched = table[table["phase"] != "final"]
    done = int((searched["status"] == "completed").sum())
    lines = [
        f"# Architecture search {sweep_dir.name}",
        "",
        f"Strategy {state['strategy']}, seed {state['seed']}: {len(searched)} candidates drawn, "
        f"{done} evaluated, {int((searched['status'] == 'failed').sum())} failed.",
    ]
    best = _best_row(searched)
    if best is not None:
        lines.append(f"Best candidate {best['index']}: validation accuracy {best['score']:.4f}, "
                     f"layers [{best['layers']}]")  # fmt: skip
    final = table[table["phase"] == "final"]
    if not final.empty and final.iloc[0]["status"] == "completed":
        lines.append(f"Retrained: test accuracy {final.iloc[0]['score']:.4f} "
                     f"(job {final.iloc[0]['index']}).")  # fmt: skip
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in table.itertuples(index=False):
        cells = ["-" if pd.isna(v) else f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot_progress(table: pd.DataFrame, path: Path) -> None:
    scored = table.dropna(subset=["score"])
    if scored.empty:
        return
    figure, axes = plt.subplots(figsize=(7.0, 4.0))
    for phase, rows in scored.groupby("phase", sort=False):
        axes.plot(rows["index"], rows["score"], ".", label=str(phase).replace("_", " "))
    axes.step(scored["index"], scored["score"].cummax(), where="post", color="black",
              label="best so far")  # fmt: skip
    axes.set_xlabel("evaluation")
    axes.set_ylabel("validation accuracy")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _write_tensorboard(table: pd.DataFrame, log_dir: Path) -> None:
    scored = table.dropna(subset=["score"])
    if scored.empty:
        return
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        best = 0.0
        for row in scored.itertuples(index=False):
            best = max(best, float(row.score))
            tf.summary.scalar("search/score", float(row.score), step=int(row.index))
            tf.summary.scalar("search/best_so_far", best, step=int(row.index))


def _experiment_yaml(sweep_dir: Path, best: Any) -> str:
    experiment = str(read_state(sweep_dir)["experiment_id"]) or "c17e4"
    layers = ", ".join(str(best["layers"]).split(","))
    return (
        "# @package _global_\n"
        f"# The best definition of the architecture search in {sweep_dir.name} (candidate "
        f"{best['index']}, validation accuracy {best['score']:.4f} after the search's short training).\n"
        f"#   ldl train data=cifar10 model=cnn 'model.layers=[{best['layers']}]' trainer.batch_size=64\n"
        "defaults:\n"
        "  - override /data: cifar10\n"
        "  - override /model: cnn\n"
        "  - override /optimizer: adam\n"
        "  - override /initializer: keras_default\n\n"
        "experiment_id: c17_best_found\n"
        f'description: "Best architecture of {experiment} ({sweep_dir.name})"\n'
        "model:\n"
        f"  layers: [{layers}]\n"
        "trainer:\n"
        "  batch_size: 64\n"
        "  epochs: 20\n"
    )
