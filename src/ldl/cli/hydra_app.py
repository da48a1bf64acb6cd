"""How `ldl train` drives Hydra: with the arguments it was given, never through `sys.argv` or
environment variables, and a single run with the config `ldl.cli.train_check` composed and checked
(composed once).

Hydra's public entry point, `@hydra.main`, reads `sys.argv` and turns errors into a printed trace unless
HYDRA_FULL_ERROR is set. ldl instead opens Hydra's application object for its config tree
(`hydra.initialize_config_dir`) and calls its run, multirun, help and show-config steps itself, as
`@hydra.main` would, so Hydra's errors reach ldl as exceptions (told in ldl's words by the caller).
The one private name used, Hydra's `Callbacks` (what `Hydra.run` hands a job), is imported here only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.utils import JobReturn, configure_log
from hydra.types import HydraContext, RunMode, TaskFunction
from omegaconf import DictConfig, open_dict, read_write

from ldl.config import config_dir
from ldl.errors import ConfigError

CONFIG_NAME = "train"
# hydra.job.name, as `@hydra.main` named the job after the module that held the task function.
JOB_NAME = "train_command"


@contextlib.contextmanager
def application() -> Iterator[Any]:
    """Hydra's application object for ldl's config tree (`hydra._internal.hydra.Hydra`)."""
    GlobalHydra.instance().clear()  # a command starts with no Hydra app of its own
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name=JOB_NAME):
        yield GlobalHydra.instance().hydra


def job_context(app: Any, cfg: DictConfig) -> HydraContext:
    """What `Hydra.run` sets up before it runs the job of the composed config `cfg`: the job's
    name and mode, Hydra's own logging, and the configured callbacks (told that the run starts)."""
    from hydra._internal.callbacks import Callbacks

    with read_write(cfg.hydra), open_dict(cfg.hydra):
        cfg.hydra.job.name = JOB_NAME
        if cfg.hydra.mode is None:  # as Hydra's command line does it: an override, recorded
            cfg.hydra.mode = RunMode.RUN
            cfg.hydra.overrides.hydra.append("hydra.mode=RUN")
    configure_log(cfg.hydra.hydra_logging, cfg.hydra.verbose)
    callbacks = Callbacks(cfg)
    callbacks.on_run_start(config=cfg, config_name=CONFIG_NAME)
    return HydraContext(config_loader=app.config_loader, callbacks=callbacks)


def end_run(context: HydraContext, cfg: DictConfig, job: JobReturn) -> None:
    """What `Hydra.run` does after the job: the callbacks told, the job's exception raised."""
    context.callbacks.on_run_end(config=cfg, config_name=CONFIG_NAME, job_return=job)
    _ = job.return_value  # raises the job's exception, if it failed


def run_sweep(overrides: list[str], task: TaskFunction) -> None:
    """`ldl train -m ...`: Hydra composes the sweep and its sweeper launches the jobs."""
    with application() as app:
        if app.get_mode(config_name=CONFIG_NAME, overrides=overrides) is None:
            overrides = [*overrides, "hydra.mode=MULTIRUN"]
        app.multirun(config_name=CONFIG_NAME, task_function=task, overrides=overrides)


def run_flags(arguments: list[str]) -> None:
    """`ldl train --help | --hydra-help | --cfg <part> | --info [topic] | --shell-completion`."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.prog = "ldl train"
    args = parser.parse_args(arguments)
    unsupported = [
        flag
        for flag, given in (
            ("--config-path", args.config_path),
            ("--config-name", args.config_name),
            ("--config-dir", args.config_dir),
            ("--experimental-rerun", args.experimental_rerun),
        )
        if given is not None
    ]
    if unsupported:
        raise ConfigError(
            f"ldl train does not take {', '.join(unsupported)}: its configs are ldl's own tree. "
            "Choose configs with overrides (experiment=c5e2, model=cnn), see ldl train --help."
        )
    if args.resolve and not (args.cfg or args.help):
        raise ConfigError("--resolve goes with --cfg job|hydra|all (or --help).")
    with application() as app:
        if args.help:
            app.app_help(config_name=CONFIG_NAME, args_parser=parser, args=args)
        elif args.hydra_help:
            app.hydra_help(config_name=CONFIG_NAME, args_parser=parser, args=args)
        elif args.cfg:
            app.show_cfg(
                config_name=CONFIG_NAME,
                overrides=args.overrides,
                cfg_type=args.cfg,
                package=args.package,
                resolve=args.resolve,
            )
        elif args.info:
            app.show_info(args.info, config_name=CONFIG_NAME, overrides=args.overrides)
        elif args.shell_completion:
            app.shell_completion(config_name=CONFIG_NAME, overrides=args.overrides)
