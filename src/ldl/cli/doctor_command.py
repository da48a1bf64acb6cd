"""`ldl doctor`: what this machine offers ldl, and whether the default experiment can run here.

It reports the software versions, the devices (GPUs with their memory), the cores and the TensorFlow
threads ldl uses for a run and for sweep jobs, the datasets found under the data directory (and the
files that are missing), the sweep launchers and optional extras that are installed and usable, and
known limits. It exits with 1 when the default experiment (c5e2, MNIST) cannot run.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ldl.cli.arguments import parse_arguments

USAGE = """usage: ldl doctor [data_dir=<folder>]

Print what this machine offers ldl: versions, devices, threads, datasets under the data directory,
installed sweep launchers and extras, known limits. Exits 1 when the default experiment (c5e2 on
MNIST) cannot run here. data_dir defaults to $LDL_DATA_DIR, else data (as ldl train)."""


@dataclass(frozen=True)
class Dataset:
    name: str
    configs: str  # the data configs that read it
    # Each entry is one way to provide the dataset: files that must all exist (relative to data_dir).
    alternatives: tuple[tuple[str, ...], ...]
    downloads: bool  # ldl train fetches it itself when the machine is online


def _mnist_alternatives() -> tuple[tuple[str, ...], ...]:
    from ldl.data.mnist import IDX_FILES, NPZ_NAME

    names = [name for pair in IDX_FILES.values() for name in pair]
    idx_layouts = [
        tuple(f"{folder}{name}{suffix}" for name in names)
        for folder in ("mnist/", "")
        for suffix in (".gz", "")
    ]
    return (*idx_layouts, (NPZ_NAME,), (f"mnist/{NPZ_NAME}",))


def datasets() -> list[Dataset]:
    from ldl.data.boston_housing import NPZ_NAME as BOSTON_NPZ
    from ldl.data.boston_housing import TEXT_NAME as BOSTON_TEXT
    from ldl.data.cifar10 import NPZ_NAMES, TAR_NAME
    from ldl.tasks.captioning.coco import CAPTIONS_FILE
    from ldl.tasks.forecasting.data import FILE_NAME as SALES_FILE
    from ldl.tasks.text.data import FILE_NAME as TEXT_FILE
    from ldl.tasks.translation.data import FILE_NAME as PAIRS_FILE
    from ldl.tasks.translation.data import ZIP_NAME as PAIRS_ZIP

    return [
        Dataset("MNIST", "mnist, mnist_*", _mnist_alternatives(), True),
        Dataset("Boston Housing", "boston_housing", ((BOSTON_NPZ,), (BOSTON_TEXT,)), True),
        Dataset(
            "CIFAR-10",
            "cifar10",
            (("cifar-10-batches-py/data_batch_1",), (TAR_NAME,), *((n,) for n in NPZ_NAMES)),
            True,
        ),
        Dataset("book store sales", "book_sales", ((SALES_FILE,),), False),
        Dataset("Frankenstein", "frankenstein_*", ((TEXT_FILE,),), False),
        Dataset("English-French pairs", "anki_fra_eng", ((PAIRS_FILE,), (PAIRS_ZIP,)), True),
        Dataset("GloVe 6B 100d", "glove", (("glove.6B.100d.txt",),), False),
        Dataset("COCO 2014 captions", "coco_captions", ((f"coco/{CAPTIONS_FILE}",),), False),
    ]


def found_files(data_dir: Path, dataset: Dataset) -> tuple[str, ...] | None:
    """The first complete set of files of `dataset` under `data_dir`, or None."""
    for files in dataset.alternatives:
        if all((data_dir / name).exists() for name in files):
            return files
    return None


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except Exception:  # an installed plugin that fails to import is not usable either
        return False
    return True


def _gpus() -> list[str]:
    """Each GPU TensorFlow sees, with its memory when nvidia-smi can tell."""
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    memory: list[str] = []
    if gpus and shutil.which("nvidia-smi"):
        query = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        memory = query.stdout.split("\n") if query.returncode == 0 else []
    described = []
    for index, gpu in enumerate(gpus):
        name = tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        size = memory[index].strip() if index < len(memory) else "memory unknown"
        described.append(f"{name} ({size})")
    return described


def _slurm_state() -> str:
    if shutil.which("sbatch") is None:
        return (
            "no sbatch on PATH: not usable here (scripts/local_slurm.sh starts a one-node cluster)"
        )
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
    if ping.returncode == 0 and "UP" in ping.stdout:
        return f"usable: the controller answers ({' '.join(ping.stdout.split())})"
    return "sbatch found, but no controller answers (scontrol ping); start one or check slurm.conf"


def _ray_state() -> str:
    ray = _version("ray")
    if ray is None or not _importable("hydra_plugins.hydra_ray_launcher.ray_launcher"):
        return "not installed: pip install -e '.[ray]'"
    address = os.environ.get("RAY_ADDRESS")
    target = (
        f"RAY_ADDRESS={address}" if address else "no RAY_ADDRESS: each sweep starts its own Ray"
    )
    return f"usable (ray {ray}); {target}"


def _threads_line(cores: int) -> str:
    parallel = max(1, cores // min(2, cores))
    return (
        f"one run: TensorFlow's default ({cores} intra-op threads) unless trainer.threads is set; "
        f"hydra/launcher=parallel (n_jobs=2): {parallel} per job; SLURM and Ray jobs: the CPUs "
        "each job is given (cpus_per_task, ray.remote.num_cpus)"
    )


def _storage_line() -> str:
    optuna = _version("optuna")
    if not optuna:
        return "optuna not installed"
    dashboard = _version("optuna-dashboard") or "not installed"
    return (
        f"optuna {optuna}, SQLAlchemy {_version('sqlalchemy') or 'missing'} (SQLite, database "
        f"URLs) and JournalStorage files; optuna-dashboard {dashboard} (ldl dashboard)"
    )


def _print_datasets(data_dir: Path) -> bool:
    """Which datasets are under `data_dir`; whether MNIST (the default experiment's) is."""
    print(f"\ndata dir: {data_dir.resolve()} (data_dir=<folder> or LDL_DATA_DIR to change)")
    problem = _data_dir_problem(data_dir)
    if problem:
        print(f"  {problem}: no dataset can be read from it")
        return False
    mnist_found = False
    for dataset in datasets():
        files = found_files(data_dir, dataset)
        if dataset.name == "MNIST":
            mnist_found = files is not None
        if files is not None:
            shown = files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
            state = f"found: {shown}"
        else:
            first = " + ".join(dataset.alternatives[0])
            others = len(dataset.alternatives) - 1
            state = f"missing: {first}" + (f" (or {others} other layouts)" if others else "")
            state += "; ldl train downloads it when online" if dataset.downloads else ""
        print(f"  {dataset.name:<22} {state}   [data={dataset.configs}]")

    return mnist_found


def _data_dir_problem(data_dir: Path) -> str | None:
    if not data_dir.exists():
        return "the folder is not there"
    if not data_dir.is_dir():
        return "it is a regular file, not a folder"
    return None


def _print_launchers() -> None:
    """The sweep launchers, the Optuna storage and the optional extras."""
    print("\nsweep launchers (hydra/launcher=...):")
    print("  basic (default)        usable")
    joblib = _version("hydra-joblib-launcher")
    print(f"  parallel               {'usable' if joblib else 'not installed'} (joblib)")
    submitit = _version("submitit")
    print(f"  isolated               {'usable' if submitit else 'not installed'} (submitit, local)")
    print(f"  slurm, slurm_local     {_slurm_state()}")
    print(f"  ray_cluster            {_ray_state()}")
    print(f"optuna search: {_storage_line()}")
    cuda = _version("nvidia-cudnn-cu12")
    print(
        f"extras: gpu {'installed' if cuda else 'not installed'}; ray {_version('ray') or 'not installed'}"
    )


def run_doctor(arguments: list[str]) -> int:
    parsed = parse_arguments(arguments, {"data_dir": str}, USAGE)
    data_dir = Path(parsed.values.get("data_dir") or os.environ.get("LDL_DATA_DIR", "data"))
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    gpus = _gpus()
    print("ldl doctor")
    print(
        f"software: Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {_version('keras')}, Hydra {_version('hydra-core')}"
    )
    print(f"devices: CPU ({cores} cores usable); GPUs: {', '.join(gpus) if gpus else 'none'}")
    print(f"threads: {_threads_line(cores)}")

    mnist_found = _print_datasets(data_dir)
    _print_launchers()
    print("\nknown limits:")
    print(
        "  - trainer.distribute=multi_worker is refused: Keras 3's fit() fails with "
        "MultiWorkerMirroredStrategy (keras-team/keras#20585); mirrored uses the GPUs of one "
        "machine, the SLURM and Ray launchers spread runs over machines."
    )
    if not gpus:
        print(
            "  - no GPU: trainer.distribute=mirrored and mixed precision run on the CPU (slowly); "
            "pip install -e '.[gpu]' on a machine with an NVIDIA GPU."
        )
    problem = _data_dir_problem(data_dir)
    if problem:
        print(
            f"\nThe data dir {data_dir} cannot be used: {problem}. Pass the folder that holds the "
            "datasets (data_dir=<folder> or LDL_DATA_DIR), or create it: ldl train downloads "
            "the datasets it needs into it when online."
        )
        return 1
    if not mnist_found:
        print(
            f"\nThe default experiment (c5e2) cannot run: MNIST is not in {data_dir}. Put the four "
            "IDX files (or mnist.npz) there, pass data_dir=<folder>, or run ldl train once while "
            "online to download it."
        )
        return 1
    print("\nThe default experiment (c5e2) can run: ldl train")
    return 0
