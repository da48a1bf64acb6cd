"""Start-up of the NumPy programs: whole `ldl train` processes against a reference timed in the same run.

The book's chapter 1, 3 and 4 and Appendix F programs are plain Python and NumPy; ldl runs them without
TensorFlow, so a run costs the interpreter, NumPy, Hydra's composition and the program itself. This
script times, in fresh processes one after the other, each case's ldl command and its references:

    case | ldl s | cpu s | reference | reference s | cpu s | ldl / reference (wall, CPU)

- `python -c "import numpy"`: the floor of any NumPy program;
- the book's own program (`--book-dir`: the `stand_alone/` folder of the book's repository, NVDLI/LDL),
  run as published: c1e1 and c3e1 as they are; aFe1 with its `EPOCHS` set to `--epochs` (ldl gets
  `trainer.epochs` the same) on the MNIST files of `--data-dir` (gunzipped into a scratch copy of the
  book's `data/` layout; a small IDX reader stands in for `idx2numpy` where it is not installed).

Seconds are the median wall-clock seconds of `--repeats` runs of the whole process, and the median CPU
seconds (user + system) the process used, which a busy machine changes far less. The machine's load
average is printed first: numbers from a loaded machine are loaded-machine numbers (compare ratios
within one run only). From the repository root:

    .venv/bin/python scripts/benchmark_startup.py --data-dir ../shared/data
    .venv/bin/python scripts/benchmark_startup.py --book-dir LDL/stand_alone --epochs 1 --repeats 5
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_support import default_data_dir

REPO = Path(__file__).resolve().parents[1]
BOOK_SCRIPTS = {
    "c1e1": "c1e1_perceptron_learning.py",
    "c3e1": "c3e1_2level_learning_xor.py",
    "aFe1": "aFe1_2level_learning_mnist_matmul.py",
}
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# What the book's programs import as idx2numpy, where it is not installed: IDX files as NumPy arrays.
IDX_READER = """
import numpy as np

def convert_from_file(path):
    with open(path, "rb") as stream:
        data = stream.read()
    dimensions = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seconds(command: list[str], cwd: Path, environment: dict[str, str]) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one whole process; a failing process stops the benchmark."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return elapsed, _children_cpu() - cpu_before


def median_seconds(
    command: list[str], cwd: Path, environment: dict[str, str], repeats: int
) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of `repeats` runs."""
    runs = [seconds(command, cwd, environment) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def book_tree(book_dir: Path, data_dir: Path, epochs: int, scratch: Path) -> Path:
    """A scratch copy of the book's layout (stand_alone/ next to data/mnist/) with aFe1's EPOCHS set."""
    stand_alone = scratch / "stand_alone"
    stand_alone.mkdir(parents=True)
    for name in BOOK_SCRIPTS.values():
        source = book_dir / name
        if source.is_file():
            text = source.read_text()
            if name.startswith("aFe1"):
                text = text.replace("EPOCHS = 20", f"EPOCHS = {epochs}")
            (stand_alone / name).write_text(text)
    mnist = scratch / "data" / "mnist"
    mnist.mkdir(parents=True)
    for name in MNIST_FILES:
        packed = data_dir / "mnist" / f"{name}.gz"
        if packed.is_file():
            with gzip.open(packed) as source, open(mnist / name, "wb") as target:
                shutil.copyfileobj(source, target)
    try:
        import idx2numpy  # noqa: F401
    except ImportError:
        (stand_alone / "idx2numpy.py").write_text(IDX_READER)
    return stand_alone


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--book-dir", type=Path, help="the book's stand_alone/ folder (NVDLI/LDL)")
    parser.add_argument("--epochs", type=int, default=1, help="aFe1's epochs, on both sides")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(BOOK_SCRIPTS))
    arguments = parser.parse_args()
    data_dir = arguments.data_dir.resolve()

    environment = {**os.environ, "MPLBACKEND": "Agg"}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO / "src"), environment.get("PYTHONPATH")])
    )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    if load[0] > 0.5 * (os.cpu_count() or 1):
        print("warning: the machine is busy; these are loaded-machine numbers")
    rows: list[tuple[str, tuple[float, float], str, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        stand_alone = (
            book_tree(arguments.book_dir, data_dir, arguments.epochs, scratch / "book")
            if arguments.book_dir
            else None
        )
        floor = median_seconds(
            [sys.executable, "-c", "import numpy"], scratch, environment, arguments.repeats
        )
        for case in arguments.cases:
            overrides = [f"experiment={case}", f"data_dir={data_dir}", "trainer.seed=0"]
            if case == "aFe1":
                overrides.append(f"trainer.epochs={arguments.epochs}")
            outputs = scratch / "outputs" / case
            command = [sys.executable, "-m", "ldl.cli.main", "train", *overrides]
            runs = [
                seconds([*command, f"hydra.run.dir={outputs / str(repeat)}"], scratch, environment)
                for repeat in range(arguments.repeats)
            ]
            ldl = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            rows.append((case, ldl, 'python -c "import numpy"', floor))
            script = stand_alone / BOOK_SCRIPTS[case] if stand_alone else None
            if stand_alone is not None and script is not None and script.is_file():
                book = median_seconds(
                    [sys.executable, script.name], stand_alone, environment, arguments.repeats
                )
                rows.append((case, ldl, f"book {script.name}", book))
    # CPU seconds (user + system) hardly change with the machine's load; wall-clock seconds do.
    print(
        f"\n{'case':6} {'ldl s':>7} {'cpu s':>6}  {'reference':40} {'ref s':>7} {'cpu s':>6} "
        f"{'ldl/ref':>7} {'cpu ratio':>9}"
    )
    for case, (wall, cpu), reference, (reference_wall, reference_cpu) in rows:
        print(
            f"{case:6} {wall:7.2f} {cpu:6.2f}  {reference:40} {reference_wall:7.2f} "
            f"{reference_cpu:6.2f} {wall / reference_wall:7.2f} {cpu / reference_cpu:9.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
