"""`ldl train`'s checks before Hydra touches the file system, and Hydra's errors in ldl's words.

Hydra creates the run folder and writes `.hydra/` before ldl's code runs, and reports its own errors as
listings of every option or hints that mislead (`use +trainer.epoch=5` for a typo of `trainer.epochs`).
So the command is composed here first, with Hydra's compose API and the same config tree, and refused
before anything is written when:

- a config group option does not exist (`experiment=c6e11`): one paragraph with the closest names;
- a key does not exist (`trainer.epoch=5`): the closest keys, never the advice to add it with `+`;
- a key added with `+` is read by nothing (`+trainer.epoch=5`, `+data.windw=3`);
- a value is of the wrong type, not an allowed value or out of range (`ldl.config.validate`, the
  schema's check: before TensorFlow is imported, so it is as fast as a key typo);
- the run or sweep folder cannot be created: below a regular file, read-only, or on a full disk;
- last, once every other check passed and TensorFlow loads: a loss, metric or initializer name Keras
  does not know, or a key an optimizer's Keras class does not take (`+optimizer.lr=0.1`).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ldl.config import closest, config_dir, did_you_mean, flatten, validate
from ldl.errors import ConfigError, LdlError
from ldl.runs.location import check_output_location
from ldl.tf_setup import import_tensorflow

MULTIRUN_FLAGS = ("-m", "--multirun")
# Groups whose entries are instantiated one by one: adding an entry with `+` is how one plugs in.
_OPEN_GROUPS = ("callbacks", "logger", "hydra")
# Groups whose added keys the schema or the builder's signature decides on (ldl.config.validate).
_BUILDER_GROUPS = ("model", "optimizer")


def is_multirun(arguments: list[str]) -> bool:
    return any(argument in MULTIRUN_FLAGS for argument in arguments)


def overrides_of(arguments: list[str]) -> list[str]:
    """The key=value overrides among `ldl train`'s arguments (flags left out)."""
    return [argument for argument in arguments if not argument.startswith("-")]


def group_options(group: str) -> list[str]:
    """The options of a config group: its YAML files' names."""
    folder = config_dir() / group
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def _first_values(overrides: list[str]) -> list[str]:
    """A sweep's overrides with each swept key at its first value (one representative job).

    A sweep that Hydra cannot parse (`range(x)`, `choice()`, `range(1,2,0)`) or that sweeps a key over
    no values at all (`range(0)`: Hydra would launch 0 jobs and exit 0) is refused here."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as error:  # Hydra's parse errors, and Python's from inside range()
        raise _unparsable_override(error, overrides) from None
    chosen = []
    for override in parsed:
        if not override.is_sweep_override():
            chosen.append(override.input_line or "")
        elif override.is_discrete_sweep():
            try:
                first = next(iter(override.sweep_string_iterator()), None)
            except Exception as error:  # range(1,2,0): Python's range() refuses the step
                raise _unparsable_override(error, overrides, override.input_line) from None
            if first is None:
                raise ConfigError(
                    f"{override.input_line} sweeps {override.get_key_element()} over no values, so "
                    "the sweep would run no job. Give at least one value, e.g. "
                    f"{override.get_key_element()}=range(3) or {override.get_key_element()}=0,1,2."
                )
            chosen.append(f"{override.get_key_element()}={first}")
        # intervals and other search spaces only say where a sweeper may look: nothing to compose
    return [o for o in chosen if o]


def _unparsable_override(
    error: BaseException, overrides: list[str], override: str | None = None
) -> LdlError:
    """An override Hydra's grammar rejects, named with Hydra's reason in one line."""
    from hydra.errors import OverrideParseException

    if isinstance(error, OverrideParseException):
        return hydra_error(error, overrides)
    which = f"The override {override!r}" if override else "One of the overrides"
    return ConfigError(
        f"{which} cannot be read: {_first_line(error)}. Sweep values are lists (0,1,2), "
        "range(start, stop[, step]) with a step other than 0, or choice(a, b)."
    )


def compose(overrides: list[str]) -> DictConfig:
    """`train.yaml` with `overrides`, as `ldl train` composes it, Hydra's config included."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()  # a command starts with no Hydra app of its own
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose("train", overrides=overrides, return_hydra_config=True)


# A grid sweep with more jobs than this has only its first job composed and checked up front.
MAX_CHECKED_JOBS = 500


def _checked(overrides: list[str], check_keys: bool = True) -> DictConfig:
    """The composed config of one run, after every check that needs neither the file system nor
    TensorFlow: the schema's check (ldl.config.validate) refuses every bad value here."""
    try:
        cfg = compose(overrides)
    except LdlError:
        raise
    except Exception as error:  # Hydra's and OmegaConf's composition errors
        raise hydra_error(error, overrides) from None
    try:
        if check_keys:
            _check_added_keys(overrides, cfg)
        validate(cfg)
    except OmegaConfBaseException as error:  # e.g. an interpolation that cannot be resolved
        raise ConfigError(f"The config cannot be resolved: {_first_line(error)}.") from None
    return cfg


def _check_with_keras(jobs: list[tuple[list[str], DictConfig]]) -> None:
    """Last, the names only Keras knows (losses, metrics, initializers, an optimizer's arguments):
    TensorFlow loads only for a command every other check has accepted, through ldl's quiet import
    (or its C++ start-up lines reach stderr)."""
    from ldl.config.keras_checks import check_with_keras, needs_keras

    jobs = [(job, cfg) for job, cfg in jobs if needs_keras(cfg)]
    if not jobs:
        return
    import_tensorflow()
    for job, cfg in jobs:
        try:
            check_with_keras(cfg)
        except LdlError as error:
            where = f" (in the sweep's job {' '.join(job)})" if job else ""
            raise type(error)(f"{error}{where}") from None
        except OmegaConfBaseException as error:
            raise ConfigError(f"The config cannot be resolved: {_first_line(error)}.") from None


def _check_every_job(cfg: DictConfig, overrides: list[str]) -> list[tuple[list[str], DictConfig]]:
    """A grid sweep's jobs are all known in advance: compose and check each, so a bad value in any of
    them refuses the sweep before its first job (and before its folder exists); the jobs after the
    first, with their configs."""
    from ldl.sweeps.plan import grid_jobs, is_grid_sweep

    if not is_grid_sweep(cfg):
        return []
    try:
        jobs = grid_jobs(OmegaConf.select(cfg, "hydra.sweeper.params"), overrides)
    except Exception as error:
        raise hydra_error(error, overrides) from None
    if len(jobs) > MAX_CHECKED_JOBS:
        return []
    checked = []
    for job in jobs[1:]:
        try:
            checked.append((job, _checked(job, check_keys=False)))
        except LdlError as error:
            raise type(error)(f"{error} (in the sweep's job {' '.join(job)})") from None
    return checked


def refuse_search_as_experiment(overrides: list[str]) -> None:
    """`experiment=c17e4` names a search (an hparams_search option), not an experiment: say how to
    run it instead of failing later in other words."""
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+~") != "experiment" or value in group_options("experiment"):
            continue
        if value in group_options("hparams_search"):
            raise ConfigError(
                f"{value} is a search (a sweep of many runs), not a single experiment. Run it "
                f"with: ldl train -m hparams_search={value} (docs/sweeps.md); `ldl experiments` "
                "lists experiments and searches."
            )


def check_command(arguments: list[str]) -> DictConfig:
    """Compose and check `ldl train`'s arguments; the composed config (of the first job of a sweep)."""
    multirun = is_multirun(arguments)
    overrides = overrides_of(arguments)
    for override in overrides:
        if not override.split("=", 1)[0].lstrip("+~"):
            raise ConfigError(
                f"The override {override!r} cannot be read: it names no key. Overrides are "
                "key=value, e.g. trainer.epochs=5."
            )
    cfg = _checked(_first_values(overrides) if multirun else overrides)
    if OmegaConf.select(cfg, "logger.mlflow", default=None) is not None:
        from ldl.runs.mlflow_log import require_mlflow

        require_mlflow()  # the [mlflow] extra, before anything is written
    jobs: list[tuple[list[str], DictConfig]] = [([], cfg)]
    if multirun:
        jobs += _check_every_job(cfg, overrides)
        _check_sweeper_options(cfg, overrides)
        _check_launcher_options(cfg)
    try:
        folder = cfg.hydra.sweep.dir if multirun else cfg.hydra.run.dir
        check_output_location(Path(str(folder)), "sweep folder" if multirun else "run folder")
        _check_data_dir(cfg)
    except OmegaConfBaseException as error:
        raise ConfigError(f"The config cannot be resolved: {_first_line(error)}.") from None
    _check_with_keras(jobs)
    return cfg


def _check_sweeper_options(cfg: DictConfig, overrides: list[str]) -> None:
    """A sweeper class with a `check_options(options, task overrides)` refuses its bad options here,
    before the sweep folder exists."""
    from hydra.utils import get_class

    target = OmegaConf.select(cfg, "hydra.sweeper._target_", default=None)
    try:
        check = getattr(get_class(str(target)), "check_options", None) if target else None
    except Exception:  # Hydra reports an unknown sweeper itself, in its own words
        return
    if check is not None:
        task = [o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
        check(cfg.hydra.sweeper, task)


def _check_launcher_options(cfg: DictConfig) -> None:
    """The launcher's job count: joblib refuses 0 only once the sweep has started, in a traceback."""
    # The launcher's structured config already refuses a value that is not an integer.
    n_jobs = OmegaConf.select(cfg, "hydra.launcher.n_jobs", default=None)
    if n_jobs == 0:
        raise ConfigError(
            f"hydra.launcher.n_jobs must be a whole number other than 0, got {n_jobs!r}: how many "
            "jobs run at once (2 by default; -1 for one per core), e.g. hydra.launcher.n_jobs=2."
        )


def _check_data_dir(cfg: DictConfig) -> None:
    from ldl.errors import DataError

    data_dir = Path(str(cfg.data_dir)).expanduser()
    if data_dir.exists() and not data_dir.is_dir():
        raise DataError(
            f"data_dir={cfg.data_dir} is a regular file, not a folder. Pass the folder that holds "
            "the datasets, e.g. data_dir=data."
        )
    # A mistyped data_dir must not become a new folder full of downloads: it is refused before any
    # work (truth tables, written in their config, read no folder).
    if not data_dir.exists() and OmegaConf.select(cfg, "data.task") != "truth_table":
        raise DataError(
            f"data_dir={cfg.data_dir} does not exist (looked for {data_dir.absolute()}); nothing was "
            "created or downloaded. Pass the folder that holds the datasets (e.g. "
            "data_dir=../datasets), or create this one first (mkdir -p "
            f"{cfg.data_dir}) to have ldl download the datasets into it."
        )


def _check_added_keys(overrides: list[str], cfg: DictConfig) -> None:
    """A key added with `+` must be read by something."""
    for override in overrides:
        if not override.startswith("+") or override.startswith("++"):
            continue
        key = override[1:].split("=", 1)[0]
        group = key.split(".", 1)[0].split("/", 1)[0]
        if group in _OPEN_GROUPS or ("." not in key and "/" not in key and key in _group_names()):
            continue  # a callback or logger plugged in, or a config group added to the defaults
        if group in _BUILDER_GROUPS:
            continue  # the model's schema or the optimizer's keyword arguments decide
        section = cfg.get(group) if "." in key else cfg
        siblings = [str(k) for k in section] if isinstance(section, DictConfig) else []
        name = key.rsplit(".", 1)[-1]
        prefix = key.rsplit(".", 1)[0] + "." if "." in key else ""
        siblings = [f"{prefix}{s}" for s in siblings if s != name]
        raise ConfigError(
            f"{override} adds the key {key}, but nothing in ldl reads it, so it would be silently "
            f"ignored.{did_you_mean(key, siblings)} Set an existing key without + (e.g. "
            f"{_example(key, siblings)}); `ldl train --help` lists the config groups and options."
        )


def _example(key: str, siblings: list[str]) -> str:
    match = closest(key, siblings, 1)
    return f"{match[0]}=..." if match else "trainer.epochs=5"


def _group_names() -> list[str]:
    return sorted(p.name for p in config_dir().iterdir() if p.is_dir())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__


def hydra_error(error: BaseException, overrides: list[str]) -> LdlError:
    """A Hydra or OmegaConf error as one ldl paragraph."""
    from hydra.errors import MissingConfigException, OverrideParseException

    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        return _missing_option(error.missing_cfg_file)
    if isinstance(error, OverrideParseException):
        return ConfigError(
            f"The override {error.override!r} cannot be read{_parse_reason(error)}. Overrides are "
            "key=value (e.g. trainer.epochs=5), group=option (e.g. experiment=c6e1); quote values "
            "with spaces or brackets."
        )
    text = str(error)
    if isinstance(error.__cause__, LdlError):
        # Hydra wraps what a plugin's constructor refused ("Error in call to target '...':"): the
        # plugin's own paragraph names the key.
        return error.__cause__
    if text.startswith(("Could not override '", "In '")) and "Could not override '" in text:
        key = text.split("Could not override '", 1)[1].split("'", 1)[0]
        return _unknown_key(key, overrides)
    if text.startswith("Could not append to config. An item is already at '"):
        key = text.split("'", 2)[1]
        return ConfigError(
            f"{key} already exists, so it cannot be added with +: set it without the + "
            f"(e.g. {key}=...)."
        )
    if text.startswith("Error merging override") and error.__cause__ is not None:
        # A value a typed (structured) config refuses, e.g. hydra.launcher.n_jobs=many.
        return ConfigError(
            f"{_first_line(error)}: {_first_line(error.__cause__)}. Give a value of the key's type."
        )
    if "Could not delete" in text:
        return ConfigError(f"{_first_line(error)}. Nothing to delete with ~ there.")
    return ConfigError(f"The command's config cannot be composed: {_first_line(error)}.")


def _parse_reason(error: BaseException) -> str:
    """Hydra's reason for a parse error, on the lines after its "Error parsing override" line."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    reasons = [line for line in lines[1:] if line and not line.startswith("See https://")]
    reason = reasons[0] if reasons else _first_line(error)
    return f": {reason.rstrip('.')}"


def _missing_option(missing: str) -> LdlError:
    """`experiment/c6e11` is not a file of the config tree: the closest options of that group."""
    group, _, option = missing.rpartition("/")
    if not group:
        return ConfigError(f"{missing} is not an ldl config. `ldl train --help` lists them.")
    options = group_options(group)
    if not options:
        return ConfigError(
            f"{group} is not a config group of ldl. {did_you_mean(group, _group_names()).strip()} "
            f"Config groups: {', '.join(_group_names())}."
        )
    head = f"{group}={option} is not an option of the {group} config group."
    matches = closest(option, options)
    if len(options) <= 12 or (not matches and len(options) <= 30):
        return ConfigError(f"{head} Its options are: {', '.join(options)}.")
    hint = f" The closest: {', '.join(matches)}." if matches else ""
    listing = "`ldl experiments`" if group == "experiment" else "`ldl train --help`"
    return ConfigError(f"{head}{hint} All {len(options)} options: {listing}.")


def _unknown_key(key: str, overrides: list[str]) -> LdlError:
    """`trainer.epoch=5` names no key: suggest the closest keys of the composed config."""
    others = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != key]
    try:
        cfg = compose(others)
        plain = cast(dict, OmegaConf.to_container(cfg, resolve=False))
        keys = list(flatten(plain).keys()) + _group_names()
    except Exception:
        keys = _group_names()
    keys = [k for k in keys if not k.startswith("hydra.")]
    head = key.rsplit(".", 1)[0] + "." if "." in key else ""
    near = [k for k in keys if k.startswith(head)] if head else keys
    matches = closest(key, near) or closest(key, keys)
    hint = f" Did you mean {' or '.join(matches)}?" if matches else ""
    return ConfigError(
        f"{key} is not a key of ldl's config, so it cannot be set.{hint} `ldl train --help` lists "
        "the config groups and `ldl train --cfg job` the keys with their values. (Adding a key with "
        "+ is only for keys something reads, such as a callback: +callbacks.<name>={_target_: ...}.)"
    )
