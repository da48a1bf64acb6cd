"""`ldl <command>`: dispatches to the subcommands; `train` hands its arguments to Hydra."""

from __future__ import annotations

import argparse
import sys

from ldl.errors import LdlError

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
    print(f"ldl {command}: error: {error}", file=sys.stderr)
    return error.exit_code


def main(argv: list[str] | None = None) -> int:
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
    try:
        if command == "train":
            from ldl.cli.train_command import run_train

            return run_train(arguments)
        if command == "eval":
            from ldl.cli.eval_command import run_eval

            return run_eval(arguments)
        if command == "summarize":
            from ldl.cli.summarize_command import run_summarize

            return run_summarize(arguments)
        if command == "retrain-best":
            from ldl.cli.summarize_command import run_retrain_best

            return run_retrain_best(arguments)
        if command == "report":
            from ldl.cli.report_command import run_report

            return run_report(arguments)
        if command == "generate":
            from ldl.cli.generate_command import run_generate

            return run_generate(arguments)
        if command == "embeddings":
            from ldl.cli.embeddings_command import run_embeddings

            return run_embeddings(arguments)
        from ldl.cli.experiments_command import run_experiments

        return run_experiments(arguments)
    except LdlError as error:
        return report_error(command, error)
    except KeyboardInterrupt:
        print(f"ldl {command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
