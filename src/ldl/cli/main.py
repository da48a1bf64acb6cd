"""`ldl <command>`: dispatches to the subcommands; `train` hands its arguments to Hydra."""

from __future__ import annotations

import argparse
import errno
import importlib
import sys

from ldl.errors import LdlError
from ldl.training import stop_signals

COMMANDS = {
    "train": "train and evaluate an experiment or a composition of config groups (Hydra overrides; "
    "-m for sweeps; --help lists every config group)",
    "eval": "reload a run folder's model and reproduce its test metrics: ldl eval run=<run folder>",
    "experiments": "list every book experiment id with what the book reports",
    "report": "tabulate every run below a folder next to the book's numbers: ldl report outputs",
    "summarize": "rebuild a sweep's summary table and HParams data: ldl summarize <sweep folder>",
    "retrain-best": "retrain a sweep's best configuration on all training data and test it once: "
    "ldl retrain-best <sweep folder>",
    "generate": 'complete text with a text model\'s run: ldl generate run=<run folder> prompt="the body "',
    "embeddings": "nearest words in a run's learned embedding or in GloVe: "
    "ldl embeddings run=<run folder> nearest=monster",
    "predict": "top-5 ImageNet classes of image files with a pretrained network (c8e1): "
    "ldl predict images=dog.jpg",
    "translate": 'translate French with a c14e1/c15_transformer run: ldl translate run=<run folder> "je suis fatigué ."',
    "caption": "caption photos with a c16e2 run, with attention figures: "
    "ldl caption run=<run folder> images=a.jpg,b.jpg",
    "doctor": "versions, devices, threads, datasets, launchers and limits of this machine",
    "dashboard": "serve optuna-dashboard on an Optuna search's study (127.0.0.1): "
    "ldl dashboard <sweep folder> [port=8080]",
}


# Where each command lives ("module:function"); imported only when the command runs, so `ldl --help` and the
# small commands start without TensorFlow.
HANDLERS = {
    "train": "ldl.cli.train_command:run_train",
    "eval": "ldl.cli.eval_command:run_eval",
    "experiments": "ldl.cli.experiments_command:run_experiments",
    "report": "ldl.cli.report_command:run_report",
    "summarize": "ldl.cli.summarize_command:run_summarize",
    "retrain-best": "ldl.cli.summarize_command:run_retrain_best",
    "generate": "ldl.tasks.text.generate_command:run_generate",
    "embeddings": "ldl.tasks.text.embeddings_command:run_embeddings",
    "predict": "ldl.tasks.vision.command:run_predict",
    "translate": "ldl.tasks.translation.command:run_translate",
    "caption": "ldl.tasks.captioning.command:run_caption",
    "doctor": "ldl.cli.doctor_command:run_doctor",
    "dashboard": "ldl.cli.dashboard_command:run_dashboard",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ldl",
        description="Reproducible, config-driven experiments for the book Learning Deep Learning.",
        epilog="Run 'ldl <command> --help' for a command's options.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="<command>")
    for name, summary in COMMANDS.items():
        subcommands.add_parser(name, help=summary, add_help=False)
    return parser


def report_error(command: str, error: LdlError) -> int:
    label = f"{error.label}: " if error.label else ""
    print(f"ldl {command}: {label}{error}", file=sys.stderr)
    return error.exit_code


def main(argv: list[str] | None = None) -> int:
    """`ldl <command> ...`. As the `ldl` program (no `argv`: the process's own arguments) it first
    installs ldl's stop handlers: Ctrl-C, SIGTERM, SIGHUP and a closed output pipe then stop a command
    cleanly (a run at its next epoch end, checkpointed; `training/stop_signals.py`). A test or a
    notebook calling `main([...])` or `train()` keeps its own signal handling."""
    if argv is None:
        stop_signals.install()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser = _parser()
        if argv and argv[0] not in ("-h", "--help"):
            parser.print_usage(sys.stderr)
            print(
                f"ldl: error: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}.",
                file=sys.stderr,
            )
            return 2
        parser.print_help()
        return 0
    command, arguments = argv[0], argv[1:]
    module, _, function = HANDLERS[command].partition(":")
    try:
        return getattr(importlib.import_module(module), function)(arguments)
    except LdlError as error:
        return report_error(command, error)
    except OSError as error:
        if error.errno != errno.ENAMETOOLONG:
            raise
        # A path given on the command line that no file system can hold, whichever command met it.
        from ldl.runs.location import check_name_lengths

        try:
            check_name_lengths(str(error.filename or ""), "path", "used")
        except LdlError as named:
            return report_error(command, named)
        return report_error(command, LdlError(f"A path is too long for the file system: {error}."))
    except KeyboardInterrupt:
        print(f"ldl {command}: stopped by {stop_signals.reason()}.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
