"""`ldl train`'s Hydra flags in any position and combination: `--cfg job|hydra|all`, `--resolve`,
`--package`, `--info`, with or without `-m`.

Hydra reads its flags before the overrides (flags after an override end in "unrecognized arguments"), and
refuses `--cfg` or `--info` together with `-m`. So the flags are moved in front of the overrides, and
with `-m` ldl prints the composed config of each job of the sweep itself (a grid's jobs are known in
advance; a sweeper that picks values as it runs, Optuna or an architecture search, shows the config its
jobs start from).
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from ldl.cli.train_check import MULTIRUN_FLAGS, compose, hydra_error
from ldl.errors import ConfigError, LdlError

# Hydra's flags that take a value, and `--info`, whose value is optional (one of these words).
_VALUE_FLAGS = ("--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                "--config-dir", "-cd", "--experimental-rerun", "--shell-completion", "-sc")  # fmt: skip
_INFO_FLAGS = ("--info", "-i")
_INFO_TOPICS = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")
_CFG_FLAGS = ("--cfg", "-c")
CFG_PARTS = ("job", "hydra", "all")


def flags_first(arguments: list[str]) -> list[str]:
    """Hydra's flags (with their values) before the overrides, in their own order otherwise."""
    flags, overrides = split_flags(arguments)
    # `--info` without a topic goes last: before an override it would take the override as its topic.
    kept: list[str] = []
    bare_info: list[str] = []
    index = 0
    while index < len(flags):
        flag = flags[index]
        if flag in _INFO_FLAGS and index + 1 < len(flags) and flags[index + 1] in _INFO_TOPICS:
            kept += flags[index : index + 2]
            index += 2
            continue
        (bare_info if flag in _INFO_FLAGS else kept).append(flag)
        index += 1
    return [*kept, *overrides, *bare_info]


def split_flags(arguments: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, the overrides)."""
    flags: list[str] = []
    overrides: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        following = arguments[index + 1] if index + 1 < len(arguments) else None
        if argument in _VALUE_FLAGS and following is not None:
            flags += [argument, following]
            index += 2
        elif argument in _INFO_FLAGS and following in _INFO_TOPICS:
            flags += [argument, str(following)]
            index += 2
        elif argument.startswith("-"):
            flags.append(argument)
            index += 1
        else:
            overrides.append(argument)
            index += 1
    return flags, overrides


def _value_of(arguments: list[str], names: tuple[str, ...]) -> str | None:
    for index, argument in enumerate(arguments[:-1]):
        if argument in names:
            return arguments[index + 1]
    return None


def shows_sweep_configs(arguments: list[str]) -> bool:
    """`-m` with `--cfg`: Hydra refuses it, ldl prints every job's config."""
    multirun = any(a in MULTIRUN_FLAGS for a in arguments)
    return multirun and any(a in _CFG_FLAGS for a in arguments)


def without_multirun(arguments: list[str]) -> list[str]:
    """`-m` with `--info`: the information is about the config, the same for every job; each swept
    key at its first value."""
    from ldl.cli.train_check import _first_values

    flags, overrides = split_flags(arguments)
    kept = [a for a in overrides if not a.startswith("hydra.sweep.dir=")]
    return flags_first([*(a for a in flags if a not in MULTIRUN_FLAGS), *_first_values(kept)])


def _job_configs(overrides: list[str]) -> tuple[list[list[str]], str | None]:
    """Each job's overrides, and a note when the sweeper decides them while it runs."""
    from ldl.cli.train_check import _first_values
    from ldl.sweeps.plan import grid_jobs, is_grid_sweep

    first = compose(_first_values(overrides))
    if is_grid_sweep(first):
        return grid_jobs(OmegaConf.select(first, "hydra.sweeper.params"), overrides), None
    sweeper = OmegaConf.select(first, "hydra.sweeper._target_", default="the sweeper")
    note = (
        f"# {sweeper} chooses each job's values while the sweep runs; this is the config its jobs "
        "start from."
    )
    return [_first_values(overrides)], note


def _selected(cfg: DictConfig, part: str) -> DictConfig:
    if part == "hydra":
        return OmegaConf.create({"hydra": cfg.hydra})
    if part == "job":
        with open_dict(cfg):
            cfg = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"])
    return cfg


def print_sweep_configs(arguments: list[str]) -> int:
    """The composed config of each job of the sweep (`--cfg job|hydra|all`, `--resolve`)."""
    from hydra.core.hydra_config import HydraConfig

    part = _value_of(arguments, _CFG_FLAGS)
    if part not in CFG_PARTS:
        raise ConfigError(f"--cfg takes one of {', '.join(CFG_PARTS)}, e.g. --cfg job.")
    resolve = "--resolve" in arguments
    overrides = split_flags(arguments)[1]
    try:
        jobs, note = _job_configs(overrides)
        if note:
            print(note)
        for number, job in enumerate(jobs):
            cfg = compose(job)
            with read_write(cfg), open_dict(cfg):
                # As Hydra numbers and places the job: its run_dir resolves to its folder.
                cfg.hydra.job.num = number
                sweep = cfg.hydra.sweep
                cfg.hydra.runtime.output_dir = f"{sweep.dir}/{sweep.subdir}"
            HydraConfig.instance().set_config(cfg)
            shown = [o for o in job if not o.startswith("hydra.sweep.dir=")]
            print(f"# job {number} of {len(jobs)}: {' '.join(shown)}")
            print(OmegaConf.to_yaml(_selected(cfg, part), resolve=resolve))
    except LdlError:
        raise
    except Exception as error:  # Hydra's and OmegaConf's composition errors
        raise hydra_error(error, overrides) from None
    return 0
