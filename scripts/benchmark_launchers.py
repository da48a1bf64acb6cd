"""The chapter 6 k-fold sweep (6 configurations x 5 folds) on the basic, parallel, Ray and SLURM launchers.

Why: the launchers promise the same jobs and the same numbers, only faster or elsewhere. This script runs
`ldl train -m hparams_search=c6_kfold` four times, once per launcher, on this machine: basic (one job after
the other), parallel (joblib, 2 jobs), a local Ray head (started here with 2 CPUs, unless --ray-address
names one) and the one-node SLURM cluster of scripts/local_slurm.sh (started here when root, unless one
answers already). It prints wall time and jobs per minute for each, and whether every job's validation
MAE equals the basic launcher's. Every job trains with one TensorFlow thread, so all launches compute the
same floating-point sums. The load average is printed before and after: the numbers are only comparable
with each other, and only as good as the machine was quiet.

    python scripts/benchmark_launchers.py --data-dir ../shared/data --epochs 50
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from benchmark_support import default_data_dir

REPO = Path(__file__).resolve().parents[1]
LOCAL_SLURM = REPO / "scripts" / "local_slurm.sh"


def run_sweep(work: Path, name: str, arguments: list[str]) -> tuple[float, pd.DataFrame]:
    """One `ldl train -m` sweep in a fresh process; its wall time and summary.csv."""
    sweep = work / name
    command = [sys.executable, "-m", "ldl.cli.main", "train", "-m", *arguments]
    command.append(f"hydra.sweep.dir={sweep}")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the {name} sweep failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return seconds, pd.read_csv(sweep / "summary.csv").sort_values("job").reset_index(drop=True)


@contextlib.contextmanager
def ray_head(address: str | None) -> Iterator[str]:
    """The given Ray cluster, or a head started here (2 CPUs, 127.0.0.1) and stopped afterwards."""
    if address:
        yield address
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen(
        [
            ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
            "--num-cpus=2", "--num-gpus=0", "--include-dashboard=false",
            "--object-store-memory=100000000", "--disable-usage-stats",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(120):
            status = subprocess.run(
                [ray, "status", f"--address={address}"], capture_output=True, text=True
            )
            if status.returncode == 0 and "CPU" in status.stdout:
                break
            time.sleep(1)
        else:
            sys.exit("the Ray head did not start within 2 minutes")
        yield address
    finally:
        group = os.getpgid(head.pid)
        os.killpg(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        head.wait()


def slurm_is_up() -> bool:
    if shutil.which("scontrol") is None:
        return False
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True)
    return ping.returncode == 0 and "UP" in ping.stdout


@contextlib.contextmanager
def slurm_cluster() -> Iterator[bool]:
    """True when a SLURM controller answers (started here, and stopped afterwards, when needed)."""
    if slurm_is_up():
        yield True
        return
    if os.geteuid() != 0 or shutil.which("slurmctld") is None:
        yield False
        return
    started = subprocess.run(["bash", str(LOCAL_SLURM), "start"], capture_output=True, text=True)
    if started.returncode != 0:
        print(f"local SLURM cluster did not start:\n{started.stderr}", file=sys.stderr)
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["bash", str(LOCAL_SLURM), "stop"], capture_output=True, text=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(default_data_dir()))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--ray-address", default=None)
    parser.add_argument(
        "--launchers", default="basic,parallel,ray,slurm", help="comma-separated subset"
    )
    options = parser.parse_args()
    chosen = options.launchers.split(",")

    common = [
        "hparams_search=c6_kfold",
        f"data_dir={Path(options.data_dir).resolve()}",
        f"trainer.epochs={options.epochs}",
        "trainer.seed=0",
        "trainer.verbose=0",
        "trainer.threads=1",
    ]
    launches: dict[str, list[str]] = {
        "basic": [],
        "parallel": ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"],
    }
    cores = os.cpu_count() or 1
    print(f"load before: {load()}, {cores} cores", flush=True)
    results: dict[str, tuple[float, pd.DataFrame]] = {}
    work = Path(tempfile.mkdtemp(prefix="ldl-launcher-benchmark-"))
    try:
        for name in ("basic", "parallel"):
            if name in chosen:
                results[name] = run_sweep(work, name, [*common, *launches[name]])
                print(f"{name}: {results[name][0]:.1f} s", flush=True)
        if "ray" in chosen:
            with ray_head(options.ray_address) as address:
                launch = [
                    "hydra/launcher=ray_cluster",
                    f"hydra.launcher.ray.init.address={address}",
                ]
                results["ray"] = run_sweep(work, "ray", [*common, *launch])
                print(f"ray: {results['ray'][0]:.1f} s", flush=True)
        if "slurm" in chosen:
            with slurm_cluster() as up:
                if up:
                    launch = ["hydra/launcher=slurm_local"]
                    results["slurm"] = run_sweep(work, "slurm", [*common, *launch])
                    print(f"slurm: {results['slurm'][0]:.1f} s", flush=True)
                else:
                    print("slurm: skipped (no controller answers and none can be started here)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load after: {load()}")

    reference_name = next(iter(results))
    reference = results[reference_name][1]
    metric = "val/mae"
    details = {
        "basic": "1 job at a time, in the sweep's process",
        "parallel": "joblib, 2 jobs at a time",
        "ray": "local Ray head, 2 CPUs, 1 CPU per job",
        "slurm": "one-node SLURM, 2 CPUs, 1 CPU per job",
    }
    print(
        f"\nchapter 6 k-fold sweep: 6 configurations x 5 folds = {len(reference)} jobs, "
        f"{options.epochs} epochs each, 1 TensorFlow thread per job, {cores} cores"
    )
    print(f"| launcher | wall seconds | jobs / minute | per-job {metric} as {reference_name} |")
    print("|---|---|---|---|")
    for name, (seconds, frame) in results.items():
        same = frame[["job", metric]].equals(reference[["job", metric]])
        completed = int((frame["status"] == "completed").sum())
        print(
            f"| {name} ({details[name]}) | {seconds:.1f} | {completed / seconds * 60:.1f} | "
            f"{'identical' if same else 'DIFFERENT'} |"
        )
    ranked = reference.groupby("configuration")[metric].agg(["mean", "std"]).sort_values("mean")
    print(f"\n{metric} per configuration (mean, std over folds; {reference_name}):")
    print(ranked.round(4).to_string())


if __name__ == "__main__":
    main()
